"""The activity regulariser against synchronous bursts: what it costs and what it saves, on validation.

Runs the quickstart (``neuromotif run configs/quickstart.yaml``) at each ``train.activity_weight``
(seed 0, one thread), simulating the **validation** split (settings are chosen there, never on
test), without Lava. Per weight: fixed-point accuracy, energy, latency, synaptic events and spikes
per inference, and the hidden layer's synchrony (``neuromotif/synchrony.py``). Each run keeps its
directory under ``benchmarks/results/activity/`` (not committed; a rerun skips finished runs).
Writes ``benchmarks/results/bench_activity.json`` (with provenance) and ``.md``.

Run: python benchmarks/bench_activity.py [--weights 0 0.5 2] [--seed 0]
"""

from __future__ import annotations

import argparse
import json

from common import RESULTS, run_quickstart, save, table

OUT = RESULTS / "activity"


def run(weight: float, seed: int) -> dict:
    out = OUT / f"w{weight:g}-seed{seed}"
    if not (out / "report.json").exists():
        sets = [
            f"train.activity_weight={weight}",
            f"seed={seed}",
            "simulate.split=val",
            "simulate.lava_samples=0",
            "report.plots=false",
        ]
        run_quickstart("run", out, sets)
    r = json.loads((out / "report.json").read_text())
    hidden = r["network"]["layers"][0]["name"]
    sync = r["synchrony"][hidden]
    return {
        "activity_weight": weight,
        "seed": seed,
        "motif_size": r["network"]["motif_size"],
        "synapses": r["network"]["synapses"],
        "val_float_pct": 100 * r["accuracy"]["float"],
        "val_fixed_pct": 100 * r["accuracy"]["fixed_cpu"],
        "energy_uJ": r["energy"]["per_inference_J"] * 1e6,
        "dynamic_energy_uJ": (r["energy"]["per_inference_J"] - r["energy"]["breakdown"]["static"]) * 1e6,
        "latency_ms": r["latency"]["per_inference_s"] * 1e3,
        "synops_per_inference": r["activity"]["synops_per_inference"],
        "spikes_per_inference": r["activity"]["spikes_per_inference"],
        "hidden_burst_fraction": sync["burst_fraction"],
        "hidden_fano": sync["fano"],
        "hidden_chi": sync["chi"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", type=float, nargs="+", default=[0.0, 0.5, 2.0])
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rows = []
    for w in args.weights:
        rows.append(run(w, args.seed))
        print(json.dumps(rows[-1]), flush=True)
    base = rows[0]
    for r in rows:
        r["fixed_pct_change"] = r["val_fixed_pct"] - base["val_fixed_pct"]
        r["synops_ratio"] = r["synops_per_inference"] / base["synops_per_inference"]
    md = table(rows, [k for k in rows[0] if k not in ("seed",)])
    save("bench_activity", {"split": "val", "seed": args.seed, "rows": rows})
    (RESULTS / "bench_activity.md").write_text(
        "Quickstart, seed 0, validation split, fixed point on the CPU backend.\n\n" + md + "\n"
    )
    print(md)


if __name__ == "__main__":
    main()
