"""Pipeline timing model: speed, and its step time against the analytic model, on synthetic SC-ML
layers mapped onto Loihi 2 and Loihi 1 (64 dense inputs -> SC-ML, m = 16; Bernoulli
spikes at 5 % per neuron-step, 100 steps, 1 sample).

Target: a 10^5-neuron, 100-step run in seconds. Prints and saves benchmarks/results/bench_timing.json.
Run: python benchmarks/bench_timing.py [--quick]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SIZES = [1_024, 4_096, 100_000]
QUICK = [1_024, 4_096]
STEPS = 100


def measure(n: int, chip_name: str) -> dict:
    import numpy as np

    from neuromotif.hw_models import load_chip
    from neuromotif.hw_models.cost import Activity, energy_latency
    from neuromotif.hw_models.mapper import map_network
    from neuromotif.hw_models.synthetic_netlists import scml_net

    chip = load_chip(chip_name)
    net = scml_net(n, 16, inputs=64, outputs=0)
    mapping = map_network(net, chip)
    rng = np.random.default_rng(0)
    spikes = (rng.random((STEPS, net.n_neurons)) < 0.05).astype(np.float64)
    active = np.ones_like(spikes)
    activity = Activity(spikes, active)
    row = {
        "chip": chip_name,
        "neurons": n,
        "cores": len(mapping.cores),
        "tiles": mapping.placement.n_tiles,
        "chips": mapping.placement.n_chips,
    }
    for model in ("analytic", "pipeline"):
        t0 = time.perf_counter()
        r = energy_latency(net, mapping.placement, chip, activity, timing=model)
        row[f"{model}_s"] = time.perf_counter() - t0
        row[f"{model}_step_us"] = r["latency"]["mean_step_s"] * 1e6
        if model == "pipeline":
            row["bound_by"] = r["latency"]["pipeline"]["summary"]["steps_bound_by"]
            row["max_link_messages"] = r["latency"]["pipeline"]["summary"]["max_link_messages_per_step"]
    row["pipeline_over_analytic"] = row["pipeline_step_us"] / row["analytic_step_us"]
    return row


def main() -> None:
    from benchmarks.common import save

    sizes = QUICK if "--quick" in sys.argv else SIZES
    rows = []
    for chip in ("loihi2", "loihi1"):
        for n in sizes:
            row = measure(n, chip)
            rows.append(row)
            print(
                f"{chip} N={n:>7,}: {row['cores']} cores / {row['tiles']} tiles / {row['chips']} chips; step "
                f"analytic {row['analytic_step_us']:.2f} us, pipeline {row['pipeline_step_us']:.2f} us "
                f"(x{row['pipeline_over_analytic']:.2f}); bound by {row['bound_by']}; model time analytic "
                f"{row['analytic_s']:.2f} s, pipeline {row['pipeline_s']:.2f} s",
                flush=True,
            )
    save("bench_timing", {"steps": STEPS, "rate": 0.05, "rows": rows})


if __name__ == "__main__":
    main()
