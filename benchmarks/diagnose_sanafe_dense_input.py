"""Latency against SANA-FE 2.2.9 where every input spike carries a whole core's synapses (issue 33):
a diagnosis beside ``bench_sanafe.py``'s grid, whose inputs reach 20 % of the neurons of a core.

Synthetic SC-ML layers (m = 16) whose 64 inputs connect to every hidden neuron (``p_input = 1``),
64 to 1,024 neurons per core (5-17 cores), hidden activity from none to ~40 % (the threshold), input
spikes at 5 % per step, 30 steps; each case in a fresh process, every event count equal. Per case:
ours / SANA-FE over the sample and per step (5th / 50th / 95th percentile), and the synaptic events
one input message carries at a core.

Prints and saves ``results/diagnose_sanafe_dense_input.json``.
Run: python benchmarks/diagnose_sanafe_dense_input.py
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

CASES = [(4096, 1024, 100000), (1024, 256, 100000), (4096, 1024, 20000), (4096, 1024, 3000), (4096, 512, 3000)]
CASES += [(1024, 64, 3000)]  # (neurons, per core, threshold)
STEPS = 30


def case(n: int, per_core: int, vth: int) -> dict:
    from neuromotif.deploy.compile import bundle_netlist
    from neuromotif.deploy.synthetic_bundles import scml_bundle
    from neuromotif.hw_models import load_chip
    from neuromotif.hw_models.chip import with_core_limit
    from neuromotif.hw_models.mapper import map_network
    from neuromotif.sanafe_crosscheck import crosscheck

    with tempfile.TemporaryDirectory() as tmp:
        bundle = scml_bundle(Path(tmp) / "b", n, p_input=1.0, vth=vth)
        placement = map_network(bundle_netlist(bundle), with_core_limit(load_chip("loihi1"), per_core)).placement
        x = (np.random.default_rng(0).random((STEPS, bundle.input.size)) < 0.05).astype(np.float32)
        r = crosscheck(bundle, placement, x)
    ours, theirs = np.asarray(r["per_step_s"]["ours_pipeline"]), np.asarray(r["per_step_s"]["sanafe"])
    return {
        "neurons": n,
        "per_core": per_core,
        "cores": r["cores"],
        "vth": vth,
        "hidden_activity": r["dynamics"]["sanafe_spikes"] / (STEPS * (n + 10)),
        "synapses_per_input_message": min(per_core, n),
        "events_equal": r["events_equal"],
        "sanafe_us": float(theirs.sum() * 1e6),
        "pipeline_ratio": r["time"]["pipeline_ratio"],
        "per_step_ratio_p5_p50_p95": [float(v) for v in np.percentile(ours / theirs, [5, 50, 95])],
    }


def main() -> None:
    from common import run_isolated, save

    if len(sys.argv) > 1 and sys.argv[1] == "--case":
        print(json.dumps(case(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))))
        return
    rows = []
    for n, per_core, vth in CASES:
        rows.append(run_isolated("benchmarks.diagnose_sanafe_dense_input", "--case", str(n), str(per_core), str(vth)))
        r = rows[-1]
        print(
            f"{r['cores']:3d} cores, {r['synapses_per_input_message']:4d} synapses per input message, "
            f"{100 * r['hidden_activity']:4.1f} % active: x{r['pipeline_ratio']:.3f}",
            flush=True,
        )
    save("diagnose_sanafe_dense_input", {"steps": STEPS, "rows": rows})


if __name__ == "__main__":
    main()
