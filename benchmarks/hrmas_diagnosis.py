"""Why does HRMAS not beat a random SC-ML? Per-iteration evidence, and the fixes compared.

For each search setting x seed (digits-saccade by default, the quickstart's 256 neurons):
  1. run the search with ``search.diagnostics`` on: per iteration the supernet's train and
     validation accuracy, type and size entropy, firing rates, the validation accuracy lost to the
     architecture update alone (same weights, previous vs new logits) and what the IP window
     recovers (in a search without IP: measured on a copy);
  2. retrain the derived architecture with the same budget as every other setting;
  3. (``--rank`` settings, first seed) rank correlation: candidates (the best types of every motif
     size, plus samples of the chosen size's type distribution) scored one-shot in the supernet
     against their accuracy after a short retraining.
Resumable: each finished part is a JSON file under benchmarks/results/diagnosis/. Writes
benchmarks/results/hrmas_diagnosis.json, hrmas_diagnosis.md and plots (hrmas_diagnosis_*.png).
Run: python benchmarks/hrmas_diagnosis.py [--settings baseline fixed --seeds 0 1 2 --threads 1]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ITERATIONS = 8
OLD = [
    "search.decision=argmax",
    "search.warmup=0",
    "search.relaxation=mixture",
    "search.type_init_std=0.001",
    "search.arch_lr=0.1",
]
SETTINGS = {
    "baseline": OLD,  # the search as shipped before
    "baseline-no-ip": OLD + ["search.ip.enabled=false", "train.ip=false"],
    "warmup": [s for s in OLD if "warmup" not in s] + ["search.warmup=3"],
    "type-init": [s for s in OLD if "type_init" not in s] + ["search.type_init_std=1.0"],
    "gumbel": [s for s in OLD if "relaxation" not in s] + ["search.relaxation=gumbel"],
    "low-arch-lr": [s for s in OLD if "arch_lr" not in s] + ["search.arch_lr=0.01"],
    "fixed": ["search.decision=argmax", "search.ip.eta=0.05"],  # wave 2's fixes of the relaxed search
    "fixed-no-ip": ["search.decision=argmax", "search.ip.enabled=false", "train.ip=false"],
    "evidence": [],  # the current defaults: decisions from evidence (search/evidence.py), IP that moves
    "evidence-no-ip": ["search.ip.enabled=false", "train.ip=false"],
}


def config(setting: str, seed: int, args):
    from neuromotif.config import load_config

    return load_config(
        "configs/quickstart.yaml",
        [
            f"data.name={args.dataset}",
            f"seed={seed}",
            f"search.epochs={args.iterations}",
            f"train.epochs={args.epochs}",
            f"train.threads={args.threads}",
            "report.plots=false",
            *SETTINGS[setting],
        ],
    )


def run_setting(setting: str, seed: int, args, root: Path) -> dict:
    from neuromotif.core.io import atomic_write_text
    from neuromotif.search.hrmas import run_search
    from neuromotif.stages import train_model

    out = root / setting / f"seed{seed}"
    done = out / "result.json"
    if done.exists():
        return json.loads(done.read_text())
    cfg = config(setting, seed, args)
    t0 = time.perf_counter()
    arch = run_search(cfg.search_job(), out)
    t_search = time.perf_counter() - t0
    metrics = train_model(cfg, out, out / "search" / "architecture.yaml")
    history = [json.loads(line) for line in (out / "search" / "history.jsonl").read_text().splitlines()]
    result = {
        "setting": setting,
        "seed": seed,
        "history": history,
        "motif_size": arch.layers[0].motif_size,
        "retrained_val": metrics["best_val_accuracy"],
        "retrained_test": metrics["test_accuracy_float"],
        "search_seconds": t_search,
        "seconds": time.perf_counter() - t0,
    }
    atomic_write_text(done, json.dumps(result, indent=2))
    return result


def rank_correlation(setting: str, seed: int, args, root: Path, samples: int = 3) -> dict:
    """One-shot supernet score vs short-retraining accuracy of candidates of the finished search."""
    import numpy as np
    import torch
    from scipy.stats import kendalltau, spearmanr

    from neuromotif.core.io import atomic_write_text
    from neuromotif.search.data import load_dataset
    from neuromotif.search.hrmas import Search
    from neuromotif.search.supernet import TYPE_CODES
    from neuromotif.stages import train_model

    out = root / setting / f"seed{seed}"
    done = out / "rank.json"
    if done.exists():
        return json.loads(done.read_text())
    cfg = config(setting, seed, args)
    search = Search(cfg, load_dataset(cfg.data, cfg.seed), out)
    search.run(resume=True)
    layer = search.net.layers[0]
    rng = np.random.default_rng(seed)
    candidates = []
    for i in range(len(layer.sizes)):
        candidates.append((i, TYPE_CODES[layer.type_probabilities(i).argmax(-1).cpu().numpy()]))
    best = int(torch.argmax(layer.beta))
    p = torch.softmax(layer.alpha[best], -1).detach().cpu().numpy()  # temperature 1: the search's belief
    for _ in range(samples):
        draw = (p.cumsum(-1) > rng.random(p.shape[:-1])[..., None]).argmax(-1)
        candidates.append((best, TYPE_CODES[draw]))
    short = cfg.model_copy(update={"train": cfg.train.model_copy(update={"epochs": args.rank_epochs})})
    rows = []
    for k, (i, types) in enumerate(candidates):
        with search._architecture(layer.candidate_logits(i, types)):
            one_shot = search._val()[0]
        spec = search.net.derive()
        spec.layers[0] = layer.derive(i, types)
        cand_dir = out / "rank" / f"c{k}"
        spec.save(cand_dir / "architecture.yaml")
        retrained = train_model(short, cand_dir, cand_dir / "architecture.yaml")["best_val_accuracy"]
        rows.append(
            {
                "motif_size": layer.sizes[i],
                "one_shot": one_shot,
                "retrained": retrained,
                "sampled": k >= len(layer.sizes),
            }
        )
    a, b = [r["one_shot"] for r in rows], [r["retrained"] for r in rows]
    result = {
        "setting": setting,
        "seed": seed,
        "candidates": rows,
        "spearman": float(spearmanr(a, b).statistic),
        "kendall": float(kendalltau(a, b).statistic),
    }
    atomic_write_text(done, json.dumps(result, indent=2))
    return result


def summarise(results: list[dict], ranks: list[dict], args) -> tuple[str, dict]:
    rows = {}
    for setting in dict.fromkeys(r["setting"] for r in results):
        runs = [r for r in results if r["setting"] == setting]

        def mean(f, runs=runs):
            values = [f(r) for r in runs]
            return statistics.mean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)

        def risk(key, runs=runs):
            values = [h["risk"][key] for r in runs for h in r["history"] if key in h["risk"] and not h.get("warmup")]
            return statistics.mean(values) if values else float("nan")

        rows[setting] = {
            "supernet_val": mean(lambda r: r["history"][-1]["val_accuracy"]),
            "retrained_test": mean(lambda r: r["retrained_test"]),
            "architecture_drop": risk("architecture_drop"),
            "architecture_risk": risk("architecture_risk"),
            "ip_recovery": risk("ip_recovery"),
            "final_type_entropy": mean(lambda r: r["history"][-1]["mean_type_entropy"]),
            "motif_sizes": [r["motif_size"] for r in runs],
            "iterations": [len(r["history"]) for r in runs],
            "search_seconds": mean(lambda r: r["search_seconds"]),
        }
    lines = [
        "| setting | supernet val (%) | retrained test (%) | arch-update drop (pts) | arch. risk on old weights "
        "(pts) | IP recovery (pts) | final type entropy (nats) | motif sizes | iterations | search (s) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in rows.items():
        lines.append(
            f"| {name} | {100 * r['supernet_val'][0]:.1f} ± {100 * r['supernet_val'][1]:.1f} | "
            f"{100 * r['retrained_test'][0]:.2f} ± {100 * r['retrained_test'][1]:.2f} | "
            f"{100 * r['architecture_drop']:+.2f} | {100 * r['architecture_risk']:+.2f} | "
            f"{100 * r['ip_recovery']:+.2f} | "
            f"{r['final_type_entropy'][0]:.3f} | {', '.join(map(str, r['motif_sizes']))} | "
            f"{', '.join(map(str, r['iterations']))} | {r['search_seconds'][0]:.0f} |"
        )
    if ranks:
        lines += [
            "",
            "Rank correlation, one-shot supernet score vs short retraining "
            f"({args.rank_epochs} epochs), per finished search:",
            "",
            "| setting | seed | candidates | Spearman | Kendall |",
            "|---|---|---|---|---|",
        ]
        for r in ranks:
            lines.append(
                f"| {r['setting']} | {r['seed']} | {len(r['candidates'])} | {r['spearman']:.2f} | {r['kendall']:.2f} |"
            )
    return "\n".join(lines), rows


def plot(results: list[dict], path_prefix: Path) -> list[Path]:
    from matplotlib.figure import Figure

    from neuromotif.core.plotting import save_figure
    from neuromotif.hw_models.plots import WIDTH, integer_ticks, legend_outside

    fig = Figure(figsize=(WIDTH, 5.6), layout="constrained")
    axes = fig.subplots(2, 2).ravel()
    panels = [
        ("val_accuracy", "supernet validation accuracy"),
        ("mean_type_entropy", "mean type entropy (nats)"),
        ("architecture_risk", "accuracy lost to the arch. change (old weights)"),
        ("ip_recovery", "accuracy recovered by IP"),
    ]
    colours = {}
    for r in results:
        colour = colours.setdefault(r["setting"], f"C{len(colours)}")
        its = [h["iteration"] for h in r["history"]]
        for ax, (key, title) in zip(axes, panels, strict=True):
            ys = [h.get(key, h["risk"].get(key)) for h in r["history"]]
            ax.plot(
                its,
                [float("nan") if y is None else y for y in ys],
                color=colour,
                alpha=0.7,
                marker=".",
                label=r["setting"] if r["seed"] == results[0]["seed"] else None,
            )
            ax.set(title=title, xlabel="iteration")
            ax.title.set_fontsize(9)
            integer_ticks(ax.xaxis)
    legend_outside(axes[1])
    return [save_figure(fig, path_prefix.with_name(path_prefix.name + "_iterations.png"))]


def main() -> None:
    from benchmarks.common import RESULTS
    from neuromotif.core.io import atomic_write_text
    from neuromotif.core.progress import set_quiet

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="digits-saccade")
    parser.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--iterations", type=int, default=ITERATIONS)
    parser.add_argument("--epochs", type=int, default=20, help="retraining epochs (same for every setting)")
    parser.add_argument(
        "--rank",
        nargs="*",
        default=["baseline", "fixed"],
        help="settings whose first seed gets the rank-correlation study",
    )
    parser.add_argument("--rank-epochs", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--tag", default="", help="subfolder for this pass's runs (keeps passes apart)")
    args = parser.parse_args()
    set_quiet(True)
    root = RESULTS / "diagnosis" / args.dataset / args.tag if args.tag else RESULTS / "diagnosis" / args.dataset
    results, ranks = [], []
    for seed in args.seeds:
        for setting in args.settings:
            r = run_setting(setting, seed, args, root)
            results.append(r)
            last = r["history"][-1]
            print(
                f"{setting:<15} seed {seed}: supernet val {last['val_accuracy']:.3f}, retrained test "
                f"{r['retrained_test']:.4f}, motif {r['motif_size']} ({len(r['history'])} it, "
                f"{r['search_seconds']:.0f} s search)",
                flush=True,
            )
    for setting in args.rank or []:
        if setting in args.settings:
            rk = rank_correlation(setting, args.seeds[0], args, root)
            ranks.append(rk)
            print(f"rank {setting}: Spearman {rk['spearman']:.2f}, Kendall {rk['kendall']:.2f}", flush=True)
    table, rows = summarise(results, ranks, args)
    prefix = RESULTS / f"hrmas_diagnosis_{args.dataset}{'_' + args.tag if args.tag else ''}"
    figures = plot(results, prefix)
    atomic_write_text(
        prefix.with_suffix(".json"),
        json.dumps({"args": vars(args), "rows": rows, "runs": results, "ranks": ranks}, indent=2),
    )
    atomic_write_text(prefix.with_suffix(".table.md"), table + "\n")
    print(table)
    print("figures:", *figures)


if __name__ == "__main__":
    main()
