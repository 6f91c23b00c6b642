"""The quickstart over seeds, and what the torch thread count changes: mean +- sample sd.

Runs ``neuromotif run configs/quickstart.yaml`` for seeds 0..N-1 (default 5) at the default one
torch thread, plus seed 0 at ``train.threads=2``, two runs at a time, each in its own run directory
under ``benchmarks/results/quickstart_seeds/`` (resumable: a rerun skips finished runs). Writes
``benchmarks/results/quickstart_seeds.json`` (with provenance) and ``.md``.

Run: python benchmarks/quickstart_seeds.py [--seeds 5] [--parallel 2]
"""

from __future__ import annotations

import argparse
import json
import statistics
from concurrent.futures import ThreadPoolExecutor

from common import RESULTS, run_quickstart, save

OUT = RESULTS / "quickstart_seeds"
METRICS = {  # label -> (path in report.json, scale)
    "float accuracy (%)": (("accuracy", "float"), 100),
    "fixed-point accuracy (%)": (("accuracy", "fixed_cpu"), 100),
    "energy, throughput (µJ)": (("modes", "throughput", "per_inference_J"), 1e6),
    "of it static, throughput (µJ)": (("modes", "throughput", "static_J"), 1e6),
    "latency, throughput (ms)": (("modes", "throughput", "latency_s"), 1e3),
    "energy, realtime (µJ)": (("modes", "realtime", "per_inference_J"), 1e6),
    "decision after the last bin, realtime (ms)": (("modes", "realtime", "after_last_input_s"), 1e3),
}


def lookup(report: dict, path: tuple[str, ...]) -> float:
    for key in path:
        report = report[key]
    return float(report)  # type: ignore[arg-type]


def run(name: str, sets: list[str]) -> dict:
    out = OUT / name
    run_quickstart("run", out, sets)
    report = json.loads((out / "report.json").read_text())
    row = {"run": name, "sets": sets}
    for label, (path, scale) in METRICS.items():
        row[label] = lookup(report, path) * scale
    row["bounds_seed"] = {  # the cost table's uncertainty, throughput mode
        "energy_uJ": [v * 1e6 for v in report["modes"]["throughput"]["bounds"]["per_inference_J"]],
        "latency_ms": [v * 1e3 for v in report["modes"]["throughput"]["bounds"]["latency_s"]],
    }
    row["cpu_vs_lava_spike_mismatches"] = report["agreement"]["cpu_vs_lava_spike_mismatches"]
    row["motif_size"] = report["network"]["motif_size"]
    return row


def summary(rows: list[dict]) -> dict:
    out = {}
    for label in METRICS:
        values = [r[label] for r in rows]
        out[label] = {
            "mean": statistics.fmean(values),
            "sd": statistics.stdev(values) if len(values) > 1 else None,
            "min": min(values),
            "max": max(values),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--parallel", type=int, default=2)
    args = parser.parse_args()
    jobs = [(f"seed{s}", [f"seed={s}", "train.threads=1"]) for s in range(args.seeds)]
    jobs.append(("seed0-threads2", ["seed=0", "train.threads=2"]))
    with ThreadPoolExecutor(args.parallel) as pool:
        rows = list(pool.map(lambda job: run(*job), jobs))
    seeds = [r for r in rows if r["run"].startswith("seed") and "threads2" not in r["run"]]
    two = next(r for r in rows if r["run"] == "seed0-threads2")
    one = next(r for r in rows if r["run"] == "seed0")
    result = {
        "config": "configs/quickstart.yaml",
        "seeds": len(seeds),
        "runs": rows,
        "over_seeds": summary(seeds),
        "threads_2_minus_1_seed0": {label: two[label] - one[label] for label in METRICS},
    }
    lines = [
        "| quickstart, 5 seeds (1 torch thread) | mean ± sd | min | max | seed 0: 2 threads − 1 thread |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, s in result["over_seeds"].items():
        lines.append(
            f"| {label} | {s['mean']:.2f} ± {s['sd']:.2f} | {s['min']:.2f} | {s['max']:.2f} | "
            f"{result['threads_2_minus_1_seed0'][label]:+.2f} |"
        )
    table = "\n".join(lines)
    print(table)
    from neuromotif.core.io import atomic_write_text

    print("saved", save("quickstart_seeds", result))
    atomic_write_text(RESULTS / "quickstart_seeds.md", table + "\n")


if __name__ == "__main__":
    main()
