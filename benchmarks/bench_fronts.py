"""The chip-aware Pareto fronts in both operating modes and both static accountings.

For each dataset: ``neuromotif pareto CONFIG --lambdas energy=0.03 --lambdas latency=1 --grid
compile.neurons_per_core=256,64`` (6 points: accuracy only, energy weight, latency weight, each
packed and spread; resumable: finished points are reused), then every point's report is rebuilt
(no resimulation) in throughput and realtime mode, with static power per chip and per used core.
Per combination: each point's energy and latency, the non-dominated set, and separately what
spreading buys (spread / packed, same weights) and what the cost weights buy (weighted /
accuracy-only, same packing). Every point's report is left in the default settings at the end.

Writes ``benchmarks/results/bench_fronts.json`` and ``.md``.
Run: python benchmarks/bench_fronts.py [--datasets digits-saccade letters-tts] [--executor ray]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

from common import RESULTS, ROOT, save

from neuromotif.pareto import non_dominated

CONFIGS = {"digits-saccade": "configs/quickstart.yaml", "letters-tts": "configs/letters.yaml"}
COMBOS = [(mode, static) for mode in ("throughput", "realtime") for static in ("per_chip", "per_core")]


def neuromotif(*args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "neuromotif", *args], capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"neuromotif {' '.join(args)} failed:\n{done.stderr[-2000:]}")


def front(dataset: str, executor: str, root: Path, sets: list[str]) -> list[dict]:
    out = root / dataset
    args = ["pareto", CONFIGS[dataset], "--out", str(out), "-q", "--lambdas", "energy=0.03", "--lambdas", "latency=1"]
    extra = [a for s in sets for a in ("--set", s)]
    neuromotif(*args, *extra, "--grid", "compile.neurons_per_core=256,64", "--executor", executor)
    return json.loads((out / "pareto.json").read_text())["points"]


def priced(points: list[dict]) -> dict[str, list[dict]]:
    """combination -> one row per point, read from its report rebuilt in that combination."""
    table: dict[str, list[dict]] = {}
    for mode, static in COMBOS:
        rows = []
        for p in points:
            run = Path(p["run_dir"])
            neuromotif("report", str(run), "-q", "--set", f"report.mode={mode}", "--set", f"report.static={static}")
            r = json.loads((run / "report.json").read_text())
            rows.append(
                {
                    "trial": p["trial"],
                    "weights": p.get("weights", {}),
                    "settings": p.get("settings", {}),
                    "accuracy_fixed": r["accuracy"]["fixed_cpu"],
                    "energy_uJ": r["energy"]["per_inference_J"] * 1e6,
                    "energy_bounds_uJ": [v * 1e6 for v in r["energy"]["bounds_J"]],
                    "static_uJ": r["energy"]["breakdown"]["static"] * 1e6,
                    "latency_ms": r["latency"]["per_inference_s"] * 1e3,
                    "latency_bounds_ms": [v * 1e3 for v in r["latency"]["bounds_s"]],
                    "cores": r["resources"]["cores"],
                }
            )
        for row, on in zip(rows, non_dominated(rows), strict=True):
            row["pareto"] = on
        table[f"{mode}/{static}"] = rows
    for p in points:  # leave every point's report in the default settings
        neuromotif("report", str(Path(p["run_dir"])), "-q")
    return table


def packing_of(row: dict) -> str:
    """Neurons per core of the point ("packed": the chip's limit)."""
    return str(row["settings"].get("compile.neurons_per_core", "packed"))


def weights_of(row: dict) -> str:
    return ", ".join(f"{k} {v:g}" for k, v in row["weights"].items()) or "accuracy only"


def effects(rows: list[dict]) -> dict:
    """Spread / packed at equal weights, and weighted / accuracy-only at equal packing: geometric
    means over the pairs (energy, latency) and mean accuracy change (points)."""

    def ratios(pairs: list[tuple[dict, dict]]) -> dict:
        return {
            "energy": statistics.geometric_mean([b["energy_uJ"] / a["energy_uJ"] for a, b in pairs]),
            "latency": statistics.geometric_mean([b["latency_ms"] / a["latency_ms"] for a, b in pairs]),
            "accuracy_pts": statistics.fmean([100 * (b["accuracy_fixed"] - a["accuracy_fixed"]) for a, b in pairs]),
            "pairs": len(pairs),
        }

    densest = max((packing_of(r) for r in rows), key=lambda v: float("inf") if v == "packed" else int(v))
    packed = {weights_of(r): r for r in rows if packing_of(r) == densest}
    spread = [(packed[weights_of(r)], r) for r in rows if packing_of(r) != densest and weights_of(r) in packed]
    base = {packing_of(r): r for r in rows if weights_of(r) == "accuracy only"}
    weighted = [(base[packing_of(r)], r) for r in rows if weights_of(r) != "accuracy only" and packing_of(r) in base]
    return {"spreading": ratios(spread), "cost_weights": ratios(weighted)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    ap.add_argument("--executor", default="local", choices=["local", "ray"])
    ap.add_argument("--smoke", type=Path, help="tiny runs under this folder, nothing saved (checks the script)")
    args = ap.parse_args()
    root, sets = RESULTS / "pareto", []
    if args.smoke:
        root = args.smoke
        sets = ["data.max_samples=64", "model.hidden=[16]", "search.motif_sizes=[4, 8]", "search.epochs=1"]
        sets += ["search.replicates=1", "train.epochs=1", "simulate.lava_samples=0", "simulate.divergence_samples=0"]
    result: dict = {"lambdas": {"energy": 0.03, "latency": 1}, "grid": {"compile.neurons_per_core": [256, 64]}}
    lines = []
    for dataset in args.datasets:
        table = priced(front(dataset, args.executor, root, sets))
        result[dataset] = {combo: {"rows": rows, "effects": effects(rows)} for combo, rows in table.items()}
        lines += [f"## {dataset}", ""]
        for combo, d in result[dataset].items():
            e = d["effects"]
            lines += [
                f"### {combo}",
                "",
                "| point | packing | fixed point (%) | µJ / inference [range] | of it static | ms / inference [range] "
                "| cores | front |",
                "|---|---|---|---|---|---|---|---|",
            ]
            for r in d["rows"]:
                lo, hi = r["energy_bounds_uJ"]
                llo, lhi = r["latency_bounds_ms"]
                lines.append(
                    f"| {weights_of(r)} | {packing_of(r)} | {100 * r['accuracy_fixed']:.2f} | {r['energy_uJ']:.3g} "
                    f"[{lo:.3g}-{hi:.3g}] | {r['static_uJ']:.3g} | {r['latency_ms']:.3g} [{llo:.3g}-{lhi:.3g}] | "
                    f"{r['cores']} | {'yes' if r['pareto'] else ''} |"
                )
            s, w = e["spreading"], e["cost_weights"]
            lines += [
                "",
                f"Spreading (spread / packed, same weights, {s['pairs']} pairs): energy x{s['energy']:.2f}, "
                f"latency x{s['latency']:.2f}, accuracy {s['accuracy_pts']:+.2f} pts. Cost weights (weighted / "
                f"accuracy only, same packing, {w['pairs']} pairs): energy x{w['energy']:.2f}, latency "
                f"x{w['latency']:.2f}, accuracy {w['accuracy_pts']:+.2f} pts.",
                "",
            ]
        if not args.smoke:
            save("bench_fronts", result)  # after each dataset: a finished one is kept
    print("\n".join(lines))
    if not args.smoke:
        (RESULTS / "bench_fronts.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
