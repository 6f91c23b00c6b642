"""The quickstart's headline numbers as a committed result: reads a finished ``make demo`` run
(``runs/quickstart`` by default) and writes ``benchmarks/results/quickstart.json`` with provenance.

Run: python benchmarks/quickstart_result.py [--run runs/quickstart] [--wall SECONDS]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from common import ROOT, save


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--run", type=Path, default=ROOT / "runs" / "quickstart")
    parser.add_argument("--wall", type=float, default=None, help="the demo's wall time, seconds, if measured")
    args = parser.parse_args()
    r = json.loads((args.run / "report.json").read_text())
    run = args.run.resolve()
    row = {
        "run": str(run.relative_to(ROOT)) if run.is_relative_to(ROOT) else str(run),
        "demo_wall_s": args.wall,
        "dataset": r["dataset"],
        "chip": r["chip"],
        "seed": r["seed"],
        "execution": r.get("execution"),
        "accuracy": r["accuracy"],
        "cpu_vs_lava_spike_mismatches": r["agreement"]["cpu_vs_lava_spike_mismatches"],
        "energy_uJ": r["energy"]["per_inference_J"] * 1e6,
        "latency_ms": r["latency"]["per_inference_s"] * 1e3,
        "energy_static_fraction": r["energy"]["breakdown"]["static"] / r["energy"]["per_inference_J"],
        "energy_bounds_uJ": [v * 1e6 for v in r["energy"]["bounds_J"]],
        "latency_bounds_ms": [v * 1e3 for v in r["latency"]["bounds_s"]],
        "operation": r["operation"],
        "modes": r["modes"],
        "cores": r["resources"]["cores"],
        "motif_size": r["network"]["motif_size"],
        "synchrony": r.get("synchrony"),
        # the search's IP windows (first hidden layer, first search): rate and KL per iteration
        "search_ip": (r.get("search") or {}).get("ip"),
        "search_decisions": (r.get("search") or {}).get("decisions"),
    }
    print(json.dumps(row, indent=2))
    print("saved", save("quickstart", row))


if __name__ == "__main__":
    main()
