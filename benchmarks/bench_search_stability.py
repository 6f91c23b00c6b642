"""Does the search's answer depend on rounding? The architecture under perturbations that must not matter.

For each dataset, one reference search (the quickstart's search settings, ``data.name`` swapped)
and five perturbed ones: 2 torch threads, 2 and 4 micro-batches (another float summation order),
a 1e-6 relative perturbation of the initial weights, and that perturbation with 2 micro-batches.
Each search runs in its own process (``neuromotif search``) and run directory under
``benchmarks/results/search_stability/`` (not committed; resumable: a finished search is skipped).
Agreement with the reference: same motif size, and the fraction of connection types (intra,
inter-previous, inter-next; every position of the m x 3m matrices) that are equal.
Writes ``benchmarks/results/bench_search_stability[_TAG].json`` (with provenance) and ``.md``.

Run: python benchmarks/bench_search_stability.py [--datasets digits-saccade letters-tts] [--tag NAME]
     [--set KEY=VALUE ...] (extra config overrides for every search, e.g. a candidate method)
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from common import RESULTS, run_quickstart, save

OUT = RESULTS / "search_stability"
PERTURBATIONS = {
    "reference": [],
    "threads2": ["train.threads=2"],
    "micro2": ["train.micro_batches=2"],
    "micro4": ["train.micro_batches=4"],
    "init1e-6": ["search.init_perturbation=1e-6"],
    "init1e-6+micro2": ["search.init_perturbation=1e-6", "train.micro_batches=2"],
}


def search(out: Path, sets: list[str]) -> dict:
    """Run one search (or reuse a finished one); the derived architecture as plain lists."""
    arch_file = out / "search" / "architecture.yaml"
    seconds = None
    if not (out / "search" / "done.json").exists():
        t0 = time.perf_counter()
        run_quickstart("search", out, sets)
        seconds = time.perf_counter() - t0
    import yaml

    arch = yaml.safe_load(arch_file.read_text())
    history = [json.loads(line) for line in (out / "search" / "history.jsonl").read_text().splitlines() if line]
    return {"arch": arch, "seconds": seconds, "sizes_over_iterations": [h.get("chosen_motif_size") for h in history]}


def layer_types(arch: dict) -> list[tuple[int, list]]:
    """Per layer: (motif size, flat list of connection types over intra, inter_prev, inter_next)."""
    out = []
    for layer in arch["layers"]:
        flat = [t for key in ("intra", "inter_prev", "inter_next") for row in layer[key] for t in row]
        out.append((layer["motif_size"], flat))
    return out


def agreement(ref: dict, other: dict) -> dict:
    """Same motif size in every layer; fraction of equal types (0 where the sizes differ)."""
    same_size, equal, total = True, 0, 0
    for (m_ref, t_ref), (m, t) in zip(layer_types(ref), layer_types(other), strict=True):
        total += len(t_ref)
        if m_ref != m:
            same_size = False
            continue
        equal += sum(a == b for a, b in zip(t_ref, t, strict=True))
    return {"same_size": same_size, "type_agreement": equal / total}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", nargs="+", default=["digits-saccade", "letters-tts"])
    ap.add_argument("--tag", default="", help="names the result files and run folders (a method under test)")
    ap.add_argument("--set", dest="sets", action="append", default=[], help="extra override for every search")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--only",
        nargs="+",
        choices=list(PERTURBATIONS),
        help="run just these searches (e.g. to split the work "
        "over two processes; a later run without --only reuses them and writes the result)",
    )
    args = ap.parse_args()
    suffix = f"_{args.tag}" if args.tag else ""
    rows, lines = [], []
    for dataset in args.datasets:
        base = [
            f"data.name={dataset}",
            f"seed={args.seed}",
            "report.plots=false",
            "search.diagnostics=false",
            *args.sets,
        ]
        runs = {
            name: search(OUT / f"{args.tag or 'default'}" / dataset / name, base + extra)
            for name, extra in PERTURBATIONS.items()
            if not args.only or name in args.only
        }
        if args.only:
            continue
        ref = runs["reference"]["arch"]
        for name, run in runs.items():
            row = {
                "dataset": dataset,
                "perturbation": name,
                "sets": PERTURBATIONS[name],
                "motif_size": [layer["motif_size"] for layer in run["arch"]["layers"]],
                "sizes_over_iterations": run["sizes_over_iterations"],
                "seconds": run["seconds"],
                **agreement(ref, run["arch"]),
            }
            rows.append(row)
            lines.append(
                f"| {dataset} | {name} | {row['motif_size']} | {row['same_size']} | "
                f"{100 * row['type_agreement']:.1f} % | {row['sizes_over_iterations']} |"
            )
            print(lines[-1], flush=True)
    if args.only:
        return
    perturbed = [r for r in rows if r["perturbation"] != "reference"]
    summary = {
        "perturbations": len(perturbed),
        "same_size": sum(r["same_size"] for r in perturbed),
        "type_agreement_min": min(r["type_agreement"] for r in perturbed),
        "type_agreement_mean": sum(r["type_agreement"] for r in perturbed) / len(perturbed),
    }
    save(
        f"bench_search_stability{suffix}",
        {"method_overrides": args.sets, "seed": args.seed, "rows": rows, "summary": summary},
    )
    md = [
        "| dataset | perturbation | motif size | same size | types equal | size per iteration |",
        "|---|---|---|---|---|---|",
        *lines,
        "",
        f"{summary['same_size']} of {summary['perturbations']} perturbed searches chose the reference's motif size; "
        f"connection types equal: min {100 * summary['type_agreement_min']:.1f} %, "
        f"mean {100 * summary['type_agreement_mean']:.1f} %.",
    ]
    (RESULTS / f"bench_search_stability{suffix}.md").write_text("\n".join(md) + "\n")
    print(md[-1])


if __name__ == "__main__":
    main()
