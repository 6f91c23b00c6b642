"""HRMAS against its ablations on letters-tts (synthetic spoken letters), equal neuron count.

Variants (N = 256 recurrent neurons, one layer):
  hrmas         search motif size + types with SpiKL-IP, retrain the found architecture with IP
  hrmas-no-ip   the same search and retraining without IP
  no-motif      search a type for every connection of the layer (no motifs), with IP
  fc            fully connected recurrent layer, no search
  random-scml   SC-ML with a random motif topology, no search
  feedforward   no recurrence
Each variant x seed trains in its own run directory (resumable: re-running skips finished runs)
under benchmarks/results/ablation/. Writes ablation.json and ablation.md (mean +- std of test
accuracy over seeds). Budget knobs: --epochs, --search-epochs, --seeds, --neurons, --max-samples.
Run: python benchmarks/hrmas_ablation.py [--epochs 12 --search-epochs 2 --seeds 0 1 2]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

VARIANTS = {
    "hrmas": {"search": True, "sets": ["search.space=motif", "search.ip.enabled=true", "train.ip=true"]},
    "hrmas-no-ip": {"search": True, "sets": ["search.space=motif", "search.ip.enabled=false", "train.ip=false"]},
    "no-motif": {"search": True, "sets": ["search.space=full", "search.ip.enabled=true", "train.ip=true"]},
    "fc": {"search": False, "sets": ["model.kind=dense"]},
    "random-scml": {"search": False, "sets": ["model.kind=random-scml"]},
    "feedforward": {"search": False, "sets": ["model.kind=feedforward"]},
}


def run_one(variant: str, seed: int, args, root: Path) -> dict:
    from neuromotif.io import atomic_write_text
    from neuromotif.config import load_config
    from neuromotif.search.hrmas import run_search
    from neuromotif.stages import train_model

    out = root / variant / f"seed{seed}"
    done = out / "result.json"
    if done.exists():
        return json.loads(done.read_text())
    spec = VARIANTS[variant]
    sets = [f"data.name={args.dataset}", f"model.hidden=[{args.neurons}]", f"seed={seed}", f"train.epochs={args.epochs}",
            *([f"data.max_samples={args.max_samples}"] if args.max_samples else []),
            f"search.epochs={args.search_epochs}", "report.plots=false", *spec["sets"]]
    cfg = load_config(None, sets)
    t0 = time.perf_counter()
    arch_file, motif = None, None
    if spec["search"]:
        arch = run_search(cfg, out)
        arch_file, motif = out / "search" / "architecture.yaml", arch.layers[0].motif_size
    metrics = train_model(cfg, out, arch_file)
    result = {"variant": variant, "seed": seed, "test_accuracy": metrics["test_accuracy_float"],
              "test_accuracy_quantized": metrics["test_accuracy_quantized"],
              "best_val_accuracy": metrics["best_val_accuracy"], "motif_size": motif,
              "seconds": time.perf_counter() - t0}
    atomic_write_text(done, json.dumps(result, indent=2))
    return result


def main() -> None:
    from benchmarks.common import RESULTS
    from neuromotif.io import atomic_write_text
    from neuromotif.progress import set_quiet

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="letters-tts")
    parser.add_argument("--neurons", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--search-epochs", type=int, default=2)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--max-samples", type=int, default=2000,
                        help="cap per split (train is cut; letters-tts test has 1,664); 0 = all. Keeps 3 seeds x 6 "
                             "variants within ~35 min on 2 cores")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    args = parser.parse_args()
    set_quiet(True)
    root = RESULTS / "ablation"
    t0 = time.perf_counter()
    results = []
    for seed in args.seeds:
        for variant in args.variants:
            r = run_one(variant, seed, args, root)
            results.append(r)
            print(f"{variant:<12} seed {seed}: test {r['test_accuracy']:.4f} (quantized {r['test_accuracy_quantized']:.4f})"
                  f"{'' if r['motif_size'] is None else ', motif ' + str(r['motif_size'])} in {r['seconds']:.0f} s",
                  flush=True)
    rows = []
    for variant in args.variants:
        acc = [r["test_accuracy"] for r in results if r["variant"] == variant]
        rows.append({"variant": variant, "mean": statistics.mean(acc), "std": statistics.pstdev(acc) if len(acc) > 1 else 0.0,
                     "runs": len(acc), "motif_sizes": [r["motif_size"] for r in results if r["variant"] == variant],
                     "seconds": sum(r["seconds"] for r in results if r["variant"] == variant)})
    lines = [f"HRMAS ablation on {args.dataset} ({args.neurons} recurrent neurons, {args.epochs} training epochs, "
             f"training split capped at {args.max_samples or 'all'} samples, "
             f"{args.search_epochs} search iterations, seeds {args.seeds}); test accuracy, mean +- std:", "",
             "| variant | test accuracy (%) | motif size found | compute (s) |", "|---|---|---|---|"]
    for r in rows:
        sizes = ", ".join(str(m) for m in r["motif_sizes"] if m is not None) or "-"
        lines.append(f"| {r['variant']} | {100 * r['mean']:.2f} +- {100 * r['std']:.2f} | {sizes} | {r['seconds']:.0f} |")
    total = time.perf_counter() - t0
    lines += ["", f"Wall time of this invocation: {total / 60:.1f} min (finished runs are reused, not re-timed)."]
    atomic_write_text(root / "ablation.md", "\n".join(lines) + "\n")
    atomic_write_text(root / "ablation.json", json.dumps({"args": vars(args), "rows": rows, "runs": results,
                                                          "wall_seconds": total}, indent=2))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
