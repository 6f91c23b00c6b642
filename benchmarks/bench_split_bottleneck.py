"""The bottleneck-splitting placement pass (``compile.split_bottleneck``, issue 33): latency per
inference before and after, in our pipeline timing and in SANA-FE 2.2.9's detailed model (Loihi 1,
``sana_fe`` constants; needs ``neuromotif[sanafe]``), which prices nothing for us, so it checks
that a split our model keeps really shortens the step.

Cases: synthetic SC-ML layers (m = 16, 64 inputs at 10 % per step; as ``bench_sanafe.py``'s grid)
with a readout fed by every hidden core at ~45 % and ~97 % activity on 17, 65 and 104-113 cores,
one with a readout fed by one core at ~4 % (flow control at the host sets its steps: no core to
split), and the quickstart network compiled for Loihi 1 (runs/quickstart-loihi1, as in
``bench_sanafe.py``; skipped with a note when absent). The pass prices splits on 8 samples (the
quickstart: 64 validation samples, as ``neuromotif compile`` does); both models are then compared on
one other sample. At most 127 cores: SANA-FE's Loihi is one chip of 128 cores, one for its input
neurons. Each case runs in a fresh process.
Prints and saves benchmarks/results/bench_split_bottleneck.json.
Run: python benchmarks/bench_split_bottleneck.py [--run RUN_DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CASES = [  # (neurons, per core, activity, readout)
    (1024, 64, "~97 %", "high fan-in"),
    (1024, 64, "~45 %", "high fan-in"),
    (4096, 64, "~97 %", "high fan-in"),
    (4096, 64, "~45 %", "high fan-in"),
    (16384, 160, "~45 %", "high fan-in"),
    (4096, 64, "~4 %", "one core"),
]
MAX_CORES = 127
PRICING_SAMPLES = 8
STEPS = 50


def _compare(bundle, before, after, record: dict, x) -> dict:
    from neuromotif.sanafe_crosscheck import crosscheck

    t0, t1 = (crosscheck(bundle, m.placement, x)["time"] for m in (before, after))
    return {
        "cores_before": len(before.cores),
        "cores_after": len(after.cores),
        "splits": len(record["splits"]),
        "stopped": record["stopped"],
        "priced_latency_ratio": record["after"]["latency_s"] / record["before"]["latency_s"],
        "priced_energy_ratio": record["after"]["energy_J"] / record["before"]["energy_J"],
        "ours_us_before": t0["ours_pipeline_s"] * 1e6,
        "ours_us_after": t1["ours_pipeline_s"] * 1e6,
        "sanafe_us_before": t0["sanafe_s"] * 1e6,
        "sanafe_us_after": t1["sanafe_s"] * 1e6,
        "ours_ratio": t1["ours_pipeline_s"] / t0["ours_pipeline_s"],
        "sanafe_ratio": t1["sanafe_s"] / t0["sanafe_s"],
        "ours_vs_sanafe_before": t0["pipeline_ratio"],
        "ours_vs_sanafe_after": t1["pipeline_ratio"],
    }


def synthetic(n: int, per_core: int, activity: str, readout: str) -> dict:
    import numpy as np

    from benchmarks.bench_sanafe import grid_bundle
    from neuromotif.deploy.backends import make_backend
    from neuromotif.deploy.compile import bundle_netlist
    from neuromotif.hw_models import load_chip
    from neuromotif.hw_models.bottleneck import split_bottlenecks
    from neuromotif.hw_models.cost import Activity, energy_latency

    with tempfile.TemporaryDirectory() as tmp:
        bundle, before = grid_bundle(Path(tmp) / "b", n, per_core, activity, readout)
        net, loihi1 = bundle_netlist(bundle), load_chip("loihi1")
        rng = np.random.default_rng(1)
        xs = (rng.random((PRICING_SAMPLES, STEPS, bundle.input.size)) < 0.1).astype(np.float32)
        run = make_backend("cpu", bundle).run(xs, activity=True)
        activity_ = Activity(run.activity_spikes, run.activity_active, PRICING_SAMPLES)

        def price(placement):
            return energy_latency(net, placement, loihi1, activity_, "sana_fe", "pipeline")

        after, record = split_bottlenecks(net, before, before.chip, price, MAX_CORES)
        x = (np.random.default_rng(0).random((STEPS, bundle.input.size)) < 0.1).astype(np.float32)
        row = _compare(bundle, before, after, record, x)
    return {"case": f"SC-ML {n}, {activity} active, {readout} readout", **row}


def quickstart(run: Path) -> dict:
    import numpy as np

    from benchmarks.bench_sanafe import _run_split
    from neuromotif.config import load_config
    from neuromotif.deploy.compile import bundle_netlist
    from neuromotif.hw_models.bottleneck import split_bottlenecks
    from neuromotif.hw_models.cost import energy_latency
    from neuromotif.hw_models.mapper import mapping_from_summary
    from neuromotif.packing import AutoPacking, validation_activity
    from neuromotif.sanafe_crosscheck import COST_TABLE

    config = load_config(run / "config.yaml")
    bundle, _, xs = _run_split(run)
    before = mapping_from_summary(bundle.manifest["placement"], bundle.chip)
    net = bundle_netlist(bundle)
    auto = AutoPacking.from_config(config, bundle.manifest.get("data", {}).get("dt_ms"))
    activity = validation_activity(bundle, config.data, config.seed, auto.samples)

    def price(placement):
        return energy_latency(net, placement, bundle.chip, activity, COST_TABLE, "pipeline", auto.operation)

    after, record = split_bottlenecks(net, before, before.chip, price, MAX_CORES)
    row = _compare(bundle, before, after, record, np.asarray(xs[0], np.float32))
    return {"case": f"quickstart on Loihi 1 ({run})", **row}


def main() -> None:
    from benchmarks.common import run_isolated, save, table

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, default=Path("runs/quickstart-loihi1"))
    parser.add_argument("--case", nargs="+", help=argparse.SUPPRESS)  # the child
    args = parser.parse_args()
    if args.case:
        if args.case[0] == "quickstart":
            print(json.dumps(quickstart(Path(args.case[1]))))
        else:
            n, per_core, activity, readout = args.case
            print(json.dumps(synthetic(int(n), int(per_core), activity, readout)))
        return
    rows, notes = [], []
    if (args.run / "simulation" / "summary.json").exists():
        rows.append(run_isolated("benchmarks.bench_split_bottleneck", "--case", "quickstart", str(args.run.resolve())))
    else:
        notes.append(f"quickstart skipped: no run at {args.run} (see bench_sanafe.py's docstring)")
    for n, per_core, activity, readout in CASES:
        rows.append(
            run_isolated("benchmarks.bench_split_bottleneck", "--case", str(n), str(per_core), activity, readout)
        )
        r = rows[-1]
        print(
            f"{r['case']}: cores {r['cores_before']} -> {r['cores_after']}, ours x{r['ours_ratio']:.3f}, "
            f"SANA-FE x{r['sanafe_ratio']:.3f}",
            flush=True,
        )
    columns = ["case", "cores_before", "cores_after", "ours_ratio", "sanafe_ratio", "priced_energy_ratio"]
    columns += ["ours_vs_sanafe_before", "ours_vs_sanafe_after", "stopped"]
    print(table(rows, columns))
    for note in notes:
        print(note)
    save(
        "bench_split_bottleneck",
        {"max_cores": MAX_CORES, "pricing_samples": PRICING_SAMPLES, "steps": STEPS, "rows": rows, "notes": notes},
    )


if __name__ == "__main__":
    main()
