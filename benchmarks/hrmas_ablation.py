"""HRMAS against its ablations, equal neuron count, fair budget: every variant retrains for the
same epochs on the same (full) training split, with the same seeds and splits.

Variants (N = 256 recurrent neurons, one layer):
  hrmas         search motif size + types with SpiKL-IP, retrain the found architecture with IP
  hrmas-no-ip   the same search and retraining without IP
  no-motif      search a type for every connection of the layer (no motifs), with IP
  scml          hand-designed SC-ML (model.motif_size 8, the default hand pattern), no search
  random-scml   SC-ML with a random motif topology, no search
  fc            fully connected recurrent layer, no search
  feedforward   no recurrence
Each variant x seed trains in its own run directory (resumable: re-running skips finished runs,
and an interrupted run resumes from its checkpoints) under
benchmarks/results/ablation/<dataset>/. Writes ablation.json and ablation.md there: mean +- std of
test accuracy over seeds and, against hrmas, the paired per-seed differences with a sign test and
a paired t-test. Split long sweeps with --variants / --seeds (each part ~2 h on 2 cores).
Run: python benchmarks/hrmas_ablation.py --dataset letters-tts [--seeds 0 1 2 3 4 --variants hrmas scml]
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
    "scml": {"search": False, "sets": ["model.kind=scml"]},
    "fc": {"search": False, "sets": ["model.kind=dense"]},
    "random-scml": {"search": False, "sets": ["model.kind=random-scml"]},
    "feedforward": {"search": False, "sets": ["model.kind=feedforward"]},
}


def run_one(variant: str, seed: int, args, root: Path) -> dict:
    from neuromotif.config import load_config
    from neuromotif.core.io import atomic_write_text
    from neuromotif.core.provenance import provenance
    from neuromotif.search.hrmas import run_search
    from neuromotif.stages import train_model

    out = root / variant / f"seed{seed}"
    done = out / "result.json"
    if done.exists():
        return json.loads(done.read_text())
    spec = VARIANTS[variant]
    sets = [
        f"data.name={args.dataset}",
        f"model.hidden=[{args.neurons}]",
        f"seed={seed}",
        f"train.epochs={args.epochs}",
        *([f"data.max_samples={args.max_samples}"] if args.max_samples else []),
        f"search.epochs={args.search_epochs}",
        f"train.threads={args.threads}",
        "report.plots=false",
        *spec["sets"],
    ]
    cfg = load_config(None, sets)
    t0 = time.perf_counter()
    arch_file, motif = None, None
    if spec["search"]:
        arch = run_search(cfg.search_job(), out)
        arch_file, motif = out / "search" / "architecture.yaml", arch.layers[0].motif_size
    metrics = train_model(cfg, out, arch_file)
    result = {
        "variant": variant,
        "seed": seed,
        "test_accuracy": metrics["test_accuracy_float"],
        "test_accuracy_quantized": metrics["test_accuracy_quantized"],
        "best_val_accuracy": metrics["best_val_accuracy"],
        "motif_size": motif,
        "seconds": time.perf_counter() - t0,
        "provenance": provenance(),  # per run: the runs of one table may run on several machines
    }
    atomic_write_text(done, json.dumps(result, indent=2))
    return result


def finished(root: Path) -> list[dict]:
    """Every finished run under ``root`` (parts of a sweep run separately combine)."""
    return [json.loads(p.read_text()) for p in sorted(root.glob("*/seed*/result.json"))]


def paired_comparison(results: list[dict], reference: str = "hrmas") -> list[dict]:
    """Per-seed differences reference - variant (points), sign test and paired t-test, the t-test's
    p-values Holm-adjusted over the variants compared with the reference, and the smallest
    difference these seeds could detect."""
    from scipy.stats import binomtest, ttest_rel

    from benchmarks.stats import detectable_difference, holm

    ref = {r["seed"]: r["test_accuracy"] for r in results if r["variant"] == reference}
    out = []
    for variant in [v for v in VARIANTS if v != reference]:
        other = {r["seed"]: r["test_accuracy"] for r in results if r["variant"] == variant}
        seeds = sorted(set(ref) & set(other))
        if len(seeds) < 2:
            continue
        a, b = [100 * ref[s] for s in seeds], [100 * other[s] for s in seeds]
        diffs = [x - y for x, y in zip(a, b, strict=True)]
        wins, losses = sum(d > 0 for d in diffs), sum(d < 0 for d in diffs)
        sign_p = binomtest(wins, wins + losses).pvalue if wins + losses else 1.0
        t_p = float(ttest_rel(a, b).pvalue) if any(diffs) else 1.0
        out.append(
            {
                "variant": variant,
                "n": len(seeds),
                "seeds": seeds,
                "diffs": diffs,
                "mean_diff": statistics.mean(diffs),
                "wins": wins,
                "losses": losses,
                "sign_p": float(sign_p),
                "t_p": t_p if t_p == t_p else 1.0,
                "detectable_diff": detectable_difference(statistics.stdev(diffs), len(seeds)),
            }
        )
    for c, adjusted in zip(out, holm([c["t_p"] for c in out]), strict=True):
        c["t_p_holm"] = adjusted
    return out


def summary_rows(results: list[dict]) -> list[dict]:
    """Per variant: mean, sample sd (ddof 1) and the 95 % t interval's half-width of test accuracy."""
    from scipy.stats import t

    rows = []
    for variant in [v for v in VARIANTS if any(r["variant"] == v for r in results)]:
        acc = [r["test_accuracy"] for r in results if r["variant"] == variant]
        sd = statistics.stdev(acc) if len(acc) > 1 else 0.0
        rows.append(
            {
                "variant": variant,
                "mean": statistics.mean(acc),
                "sd": sd,
                "ci95_half": float(t.ppf(0.975, len(acc) - 1) * sd / len(acc) ** 0.5) if len(acc) > 1 else None,
                "runs": len(acc),
                "motif_sizes": [r["motif_size"] for r in results if r["variant"] == variant],
                "seconds": sum(r["seconds"] for r in results if r["variant"] == variant),
            }
        )
    return rows


def main() -> None:
    from benchmarks.common import RESULTS
    from neuromotif.core.io import atomic_write_text
    from neuromotif.core.progress import set_quiet
    from neuromotif.core.provenance import provenance

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="letters-tts")
    parser.add_argument("--neurons", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=30, help="retraining epochs, the same for every variant")
    parser.add_argument("--search-epochs", type=int, default=8)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--max-samples", type=int, default=0, help="cap per split; 0 = the full splits")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per run")
    parser.add_argument(
        "--executor",
        choices=["local", "ray"],
        default="local",
        help="ray: one task per (variant, seed), on a local Ray or --address / $RAY_ADDRESS",
    )
    parser.add_argument("--address", default=None, help="Ray cluster address (ray://host:10001)")
    parser.add_argument("--cpus-per-trial", type=float, default=1.0)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument(
        "--summarise-only",
        action="store_true",
        help="run nothing: recompute the tables and statistics from the finished runs (or the committed ablation.json)",
    )
    args = parser.parse_args()
    set_quiet(True)
    root = RESULTS / "ablation" / args.dataset
    t0 = time.perf_counter()
    jobs = [] if args.summarise_only else [(variant, seed) for seed in args.seeds for variant in args.variants]

    def show(r: dict) -> None:
        print(
            f"{r['variant']:<12} seed {r['seed']}: test {r['test_accuracy']:.4f} (quantized "
            f"{r['test_accuracy_quantized']:.4f}){'' if r['motif_size'] is None else ', motif ' + str(r['motif_size'])}"
            f" in {r['seconds']:.0f} s",
            flush=True,
        )

    if args.executor == "ray":  # every (variant, seed) an independent Ray task, retried if its worker dies
        from neuromotif.sweep import map_tasks

        map_tasks(lambda job: run_one(*job, args, root), jobs, lambda i, r: show(r), args.address, args.cpus_per_trial)
    else:
        for job in jobs:
            show(run_one(*job, args, root))
    results, meta, wall = finished(root), vars(args), None
    if not results and args.summarise_only and (root / "ablation.json").exists():
        old = json.loads((root / "ablation.json").read_text())  # the committed runs, as they were run
        results, meta, wall = old["runs"], old["args"], old.get("wall_seconds")
    rows = summary_rows(results)
    lines = [
        f"HRMAS ablation on {meta['dataset']} ({meta['neurons']} recurrent neurons, {meta['epochs']} training "
        f"epochs, training split capped at {meta['max_samples'] or 'all'} samples, "
        f"{meta['search_epochs']} search iterations); test accuracy over the finished seeds, mean +- sample sd "
        "(95 % t interval):",
        "",
        "| variant | test accuracy (%) | seeds | motif size found | compute (s) |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        sizes = ", ".join(str(m) for m in r["motif_sizes"] if m is not None) or "-"
        ci = (
            f" ({100 * (r['mean'] - r['ci95_half']):.2f}-{100 * (r['mean'] + r['ci95_half']):.2f})"
            if r["ci95_half"] is not None
            else ""
        )
        lines.append(
            f"| {r['variant']} | {100 * r['mean']:.2f} +- {100 * r['sd']:.2f}{ci} | {r['runs']} | {sizes} | "
            f"{r['seconds']:.0f} |"
        )
    paired = paired_comparison(results)
    if paired:
        lines += [
            "",
            "Paired against hrmas (same seed): mean difference hrmas - variant, wins/losses, two-sided "
            "sign-test and paired t-test p-values, the t-test's p Holm-adjusted over the variants, and the "
            "smallest difference these seeds detect (alpha 0.05, power 0.8):",
            "",
            "| variant | seeds | mean diff (pts) | per-seed diffs (pts) | wins/losses | sign p | t-test p | "
            "Holm p | detectable (pts) |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for c in paired:
            lines.append(
                f"| {c['variant']} | {c['n']} | {c['mean_diff']:+.2f} | "
                f"{', '.join(f'{d:+.1f}' for d in c['diffs'])} | {c['wins']}/{c['losses']} | "
                f"{c['sign_p']:.3f} | {c['t_p']:.3f} | {c['t_p_holm']:.3f} | {c['detectable_diff']:.2f} |"
            )
    total = wall if wall is not None else time.perf_counter() - t0
    lines += ["", f"Wall time of the runs' invocation: {total / 60:.1f} min (finished runs are reused, not re-timed)."]
    atomic_write_text(root / "ablation.md", "\n".join(lines) + "\n")
    previous = json.loads((root / "ablation.json").read_text()) if (root / "ablation.json").is_file() else {}
    recorded = previous.get("provenance", {})
    # runs from before per-run provenance keep the record reconstructed for them; a summary of runs
    # that all carry their own gets this invocation's
    kept = recorded if recorded.get("reconstructed") and any("provenance" not in r for r in results) else None
    record = {"args": meta, "rows": rows, "runs": results, "paired": paired, "wall_seconds": total}
    atomic_write_text(root / "ablation.json", json.dumps({"provenance": kept or provenance(), **record}, indent=2))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
