"""The chip-aware search judged as a hardware-aware NAS (issue 30): methods at equal budget, fronts
over (fixed-point accuracy, energy, latency), hypervolume per seed, paired tests with Holm.

Methods (every retraining with intrinsic plasticity, so IP is no confound; the task, widths and
budget in ``configs/hwnas.yaml``):
  hrmas        HRMAS over motif size and types, the chip's energy in the search and training loss
  no-motif     the same search with a type per connection (no motifs)
  random       random search over the same space: each candidate a random motif size and random
               motif topology (``random-scml``) with a random cost weight from the same grid
  hand-scml    the hand-designed SC-ML motif, no search
  fc           fully connected recurrent layer, no search
  fc-matched   fully connected at about the synapse count of the SC-ML layers (152 neurons)
  feedforward  no recurrence
Each method gets, per seed, ``len(WEIGHTS)`` trained networks (the random search: as many random
candidates), each with the same number of passes over the training split: a searching method
spends ``search.replicates x search.epochs`` of them on its supernet and the rest retraining;
the others train for all of them. Every point is a full ``neuromotif run`` (compile, CPU backend,
exact cost model) with its report.json: fixed-point test accuracy, energy and latency per
inference in the report's mode.

Runs go through Ray, two at a time on 2 cores, seed by seed, and resume: ``neuromotif sweep``
reuses finished run directories, and every finished point is merged into ``points.json`` with its
run's provenance, which is committed, so a later session (without the run directories) trains only
what is missing. ``--summarise-only`` merges what has finished and rebuilds the tables and
figure. Results: ``benchmarks/results/hwnas/hwnas.json``, ``hwnas.md``, ``fronts.png``,
``points.json`` (run directories under ``hwnas/runs/``, not committed).

    python benchmarks/hwnas.py [--seeds 0 1 2 3 4] [--methods hrmas fc] [--executor local]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from common import RESULTS, ROOT, save

OUT = RESULTS / "hwnas"
CONFIG = ROOT / "configs" / "hwnas.yaml"
WEIGHTS = (0.0, 0.01, 0.03)  # energy weight in the loss, per µJ per inference (0: accuracy alone)
MOTIF_SIZES = (4, 8, 16)
# Fixed before the runs from a pilot on the validation split (seed 0, feed-forward, fully connected,
# hand SC-ML and HRMAS; results/hwnas/pilot_val.json), the same for every method: the reference
# point of the hypervolume (chance accuracy; about twice the costliest pilot network's 134 µJ and
# 8.4 ms), and the budget and target of "accuracy at a fixed energy" and "energy at a fixed
# accuracy" (most pilot networks cost 20-29 µJ and reached 88-97 %).
REFERENCE = {"accuracy": 0.1, "energy_uJ": 300.0, "latency_ms": 20.0}
ENERGY_BUDGET_UJ = 25.0
ACCURACY_TARGET = 0.93


# 200 inputs x N + N^2 recurrent + N x 10 outputs = 55,024 synapses at N = 152, the hand SC-ML's
# 54,492 and HRMAS's 52,653 in the pilot (256 neurons; the input projection dominates)
MATCHED_WIDTH = 152


@dataclass(frozen=True)
class Method:
    name: str
    sets: tuple[str, ...]
    search: bool = False
    random: bool = False


METHODS = {
    m.name: m
    for m in (
        Method("hrmas", ("search.enabled=true", "search.space=motif"), search=True),
        Method("no-motif", ("search.enabled=true", "search.space=full"), search=True),
        Method("random", ("model.kind=random-scml",), random=True),
        Method("hand-scml", ("model.kind=scml",)),
        Method("fc", ("model.kind=dense",)),
        # fully connected at the synapse count of the SC-ML layers (~55 k in all, inputs included)
        Method("fc-matched", ("model.kind=dense", f"model.hidden=[{MATCHED_WIDTH}]")),
        Method("feedforward", ("model.kind=feedforward",)),
    )
}


def budget(config_sets: list[str] | None = None) -> dict[str, int]:
    """Passes over the training split per trained network, and how a searching method splits them."""
    from neuromotif.config import load_config

    cfg = load_config(CONFIG, config_sets or [])
    search_passes = cfg.search.replicates * cfg.search.epochs
    return {"passes": search_passes + cfg.train.epochs, "search_passes": search_passes, "retrain": cfg.train.epochs}


def trials(methods: list[str], seeds: list[int]):
    """Seed-major (every method of seed 0 first), so what finishes early is paired by seed."""
    from neuromotif.sweep import Trial

    b = budget()
    out = []
    for seed in seeds:
        for name in methods:
            method = METHODS[name]
            epochs = b["retrain"] if method.search else b["passes"]
            rng = np.random.default_rng(1000 + seed)  # the random search's draws, fixed per seed
            for k, weight in enumerate(WEIGHTS):
                sets = [*method.sets, f"train.epochs={epochs}"]
                if method.random:  # candidate k: its own motif size, topology (its seed) and weight
                    weight = float(rng.choice(WEIGHTS))
                    sets += [f"model.motif_size={int(rng.choice(MOTIF_SIZES))}", f"seed={seed + 1000 * k}"]
                else:
                    sets.append(f"seed={seed}")
                sets += [f"search.objective.energy={weight}", f"train.objective.energy={weight}"]
                out.append(Trial(f"{name}__seed{seed}__{k}", tuple(sets)))
    return out


def setup_digest(sets: list[str]) -> str:
    """What every point shares (the config file and the extra overrides): a point measured under
    another setup is not reused."""
    import hashlib

    return hashlib.sha256((CONFIG.read_text() + "\n".join(sets)).encode()).hexdigest()


def collect(runs: Path, store: Path, digest: str) -> dict[str, dict]:
    """Merge the finished trials of ``runs/sweep.json`` into ``store`` (committed, so a later session
    resumes without the run directories), each with its run's provenance; returns name -> point."""
    from neuromotif.core.io import atomic_write_text

    kept = json.loads(store.read_text()) if store.is_file() else {"setup_digest": digest, "points": {}}
    if kept["setup_digest"] != digest:
        kept = {"setup_digest": digest, "points": {}}  # the setup changed: nothing measured before applies
    sweep = runs / "sweep.json"
    for row in json.loads(sweep.read_text())["trials"] if sweep.is_file() else []:
        earlier = kept["points"].get(row["trial"])
        if row.get("status") != "done" or (earlier and earlier["overrides"] == row["overrides"]):
            continue
        report = Path(row["run_dir"]) / "report.json"
        provenance = json.loads(report.read_text()).get("provenance") if report.is_file() else None
        kept["points"][row["trial"]] = {**row, "provenance": provenance}
    store.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(store, json.dumps(kept, indent=2))
    return kept["points"]


def points(rows: list[dict]) -> dict[tuple[str, int], list[dict]]:
    """(method, seed) -> its finished points."""
    grouped: dict[tuple[str, int], list[dict]] = {}
    for r in rows:
        if r.get("status") != "done":
            continue
        method, seed, _ = r["trial"].split("__")
        grouped.setdefault((method, int(seed.removeprefix("seed"))), []).append(r)
    return grouped


def per_seed(grouped: dict[tuple[str, int], list[dict]]) -> dict[str, dict[int, dict]]:
    """Each complete (method, seed): its hypervolume (as a fraction of the box between the reference
    point and perfect accuracy at zero cost) and the budget figures."""
    from stats import hypervolume

    ref = [REFERENCE["accuracy"], REFERENCE["energy_uJ"], REFERENCE["latency_ms"]]
    box = (1 - ref[0]) * ref[1] * ref[2]  # reported as the dominated fraction of the reference box
    out: dict[str, dict[int, dict]] = {}
    for (method, seed), pts in grouped.items():
        if len(pts) < len(WEIGHTS):
            continue
        acc = [p["accuracy_fixed"] for p in pts]
        costs = [[p["energy_uJ"], p["latency_ms"]] for p in pts]
        within = [p["accuracy_fixed"] for p in pts if p["energy_uJ"] <= ENERGY_BUDGET_UJ]
        reaching = [p["energy_uJ"] for p in pts if p["accuracy_fixed"] >= ACCURACY_TARGET]
        out.setdefault(method, {})[seed] = {
            "hypervolume": hypervolume(acc, costs, ref) / box,
            "best_accuracy": max(acc),
            "accuracy_within_energy_budget": max(within) if within else None,
            "energy_at_accuracy_target_uJ": min(reaching) if reaching else None,
            "seconds": sum(p.get("seconds") or 0 for p in pts),
            "points": [{k: p[k] for k in ("trial", "accuracy_fixed", "energy_uJ", "latency_ms", "cores")} for p in pts],
        }
    return out


def compare(table: dict[str, dict[int, dict]], reference: str = "hrmas") -> list[dict]:
    """Every method against ``reference`` on the hypervolume, paired by seed, Holm over methods."""
    from scipy.stats import ttest_rel
    from stats import bootstrap_ci, detectable_difference, holm

    rows = []
    for method, seeds in table.items():
        hv = [s["hypervolume"] for s in seeds.values()]
        row = {"method": method, "seeds": sorted(seeds), "hv_mean": statistics.mean(hv)}
        row["hv_sd"] = statistics.stdev(hv) if len(hv) > 1 else None
        row["hv_ci95"] = bootstrap_ci(hv) if len(hv) > 1 else None
        common = sorted(set(seeds) & set(table.get(reference, {})))
        if method != reference and len(common) > 1:
            diffs = [table[reference][s]["hypervolume"] - seeds[s]["hypervolume"] for s in common]
            row["vs_reference"] = {
                "seeds": common,
                "mean_diff": statistics.mean(diffs),
                "t_p": float(
                    ttest_rel(
                        [table[reference][s]["hypervolume"] for s in common], [seeds[s]["hypervolume"] for s in common]
                    ).pvalue
                ),
                "detectable": detectable_difference(statistics.stdev(diffs), len(common)),
            }
        rows.append(row)
    tested = [r for r in rows if "vs_reference" in r]
    for r, p in zip(tested, holm([r["vs_reference"]["t_p"] for r in tested]), strict=True):
        r["vs_reference"]["t_p_holm"] = p
    return rows


def omnibus(table: dict[str, dict[int, dict]], key: str) -> dict | None:
    """Do the methods differ at all on ``key``? Friedman's test over the methods, seeds as blocks
    (only seeds every method finished): the check that the task separates variants by more than
    the seed noise, before any pairwise test."""
    from scipy.stats import friedmanchisquare

    seeds = sorted(set.intersection(*(set(s) for s in table.values()))) if table else []
    if len(table) < 3 or len(seeds) < 2:
        return None
    groups = [[table[m][s][key] for s in seeds] for m in table]
    stat, p = friedmanchisquare(*groups)
    return {"key": key, "methods": list(table), "seeds": seeds, "chi2": float(stat), "p": float(p)}


def markdown(rows: list[dict], table: dict[str, dict[int, dict]], b: dict[str, int]) -> str:
    lines = [
        f"Task `configs/hwnas.yaml`; {len(WEIGHTS)} trained networks per method and seed, {b['passes']} passes "
        f"over the training split each (searching methods: {b['search_passes']} on the supernet, "
        f"{b['retrain']} retraining). Hypervolume over (fixed-point accuracy ↑, energy ↓, latency ↓) against "
        f"the reference {REFERENCE}, as the fraction of the box between it and (100 %, 0 µJ, 0 ms).",
        "",
        "| method | seeds | hypervolume, mean ± sd | 95 % bootstrap CI | HRMAS − method | Holm p | detectable | "
        f"best accuracy (%) | accuracy at ≤ {ENERGY_BUDGET_UJ:g} µJ (%) | µJ at ≥ {100 * ACCURACY_TARGET:g} % | "
        "wall per seed (min) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]

    def mean(method: str, key: str, scale: float = 1.0) -> str:
        xs = [scale * s[key] for s in table[method].values() if s[key] is not None]
        sd = f" ± {statistics.stdev(xs):.2f}" if len(xs) > 1 else ""
        return f"{statistics.mean(xs):.2f}{sd} ({len(xs)})" if xs else "-"

    for r in rows:
        v = r.get("vs_reference")
        sd = f" ± {r['hv_sd']:.4f}" if r["hv_sd"] is not None else ""
        ci = f"{r['hv_ci95'][0]:.4f} – {r['hv_ci95'][1]:.4f}" if r["hv_ci95"] else "-"
        cmp = f"{v['mean_diff']:+.4f} | {v['t_p_holm']:.3f} | {v['detectable']:.4f}" if v else "- | - | -"
        lines.append(
            f"| {r['method']} | {len(r['seeds'])} | {r['hv_mean']:.4f}{sd} | {ci} | {cmp} | "
            f"{mean(r['method'], 'best_accuracy', 100)} | {mean(r['method'], 'accuracy_within_energy_budget', 100)} | "
            f"{mean(r['method'], 'energy_at_accuracy_target_uJ')} | {mean(r['method'], 'seconds', 1 / 60)} |"
        )
    lines.append("")
    lines.append("Cells: mean ± sample sd over seeds (in brackets: seeds with such a network).")
    for key, name in (("hypervolume", "hypervolume"), ("best_accuracy", "best accuracy")):
        o = omnibus(table, key)
        if o:
            lines.append(
                f"Do the methods differ on {name}? Friedman over {len(o['methods'])} methods, "
                f"{len(o['seeds'])} seeds: χ² = {o['chi2']:.2f}, p = {o['p']:.2g}."
            )
    return "\n".join(lines) + "\n"


def figure(table: dict[str, dict[int, dict]], path: Path) -> None:
    """Each method's front in (energy, accuracy): per seed the best accuracy reached within each
    energy, then the mean over seeds with a 95 % bootstrap band."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from stats import bootstrap_ci

    grid = np.geomspace(10.0, REFERENCE["energy_uJ"], 161)  # log: the networks span 20-300 µJ
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for method, seeds in table.items():
        curves = []
        for s in seeds.values():
            pts = s["points"]
            curves.append(
                [max([p["accuracy_fixed"] for p in pts if p["energy_uJ"] <= e], default=np.nan) for e in grid]
            )
        arr = 100 * np.array(curves)
        # the mean only from the energy where every seed has a network: a mean over the seeds that
        # happen to have one would dip and rise, which no front does
        ok = ~np.isnan(arr).any(axis=0)
        mean = np.where(ok, arr.mean(axis=0), np.nan)
        ax.step(grid, mean, where="post", label=f"{method} ({len(curves)} seed{'s' if len(curves) > 1 else ''})")
        if len(curves) > 1:
            band = np.array(
                [bootstrap_ci(arr[:, i], resamples=2000) if ok[i] else (np.nan, np.nan) for i in range(len(grid))]
            )
            ax.fill_between(grid, band[:, 0], band[:, 1], step="post", alpha=0.2)
    ax.set_xscale("log")
    ticks = [10, 20, 30, 50, 100, 200, 300]
    ax.set_xticks(ticks, [str(t) for t in ticks])
    ax.minorticks_off()
    ax.set_xlim(10, REFERENCE["energy_uJ"])
    ax.set_xlabel("energy per inference (µJ), model; reference box up to 300")
    ax.set_ylabel("best fixed-point accuracy within it (%)")
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    ap.add_argument("--executor", choices=["ray", "local"], default="ray")
    ap.add_argument("--summarise-only", action="store_true", help="run nothing: tables and figure from finished runs")
    ap.add_argument("--set", dest="sets", action="append", default=[], help="extra config override (smoke tests)")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    from neuromotif.core.io import atomic_write_text
    from neuromotif.core.progress import set_quiet
    from neuromotif.sweep import run_sweep

    set_quiet(True)
    runs = args.out / "runs"
    store = args.out / "points.json"
    digest = setup_digest(args.sets)
    done = collect(runs, store, digest)  # points of earlier sessions (committed) and of this folder
    todo = [t for t in trials(args.methods, args.seeds) if done.get(t.name, {}).get("overrides") != list(t.overrides)]
    started = time.time()
    failure = None
    if todo and not args.summarise_only:
        print(f"{len(todo)} networks to train ({len(done)} finished earlier)")
        try:
            run_sweep(CONFIG, args.sets, todo, runs, args.executor, cpus_per_trial=1.0)
        except RuntimeError as error:  # some trials failed: summarise the others, then say so
            failure = str(error)
        done = collect(runs, store, digest)
    rows = list(done.values())
    table = per_seed(points(rows))
    compared = compare(table) if table else []
    b = budget(args.sets)
    args.out.mkdir(parents=True, exist_ok=True)
    md = markdown(compared, table, b) if compared else "no finished method and seed yet\n"
    atomic_write_text(args.out / "hwnas.md", md)
    if table:
        figure(table, args.out / "fronts.png")
    record = {
        "methods": list(args.methods),
        "weights": list(WEIGHTS),
        "reference": REFERENCE,
        "energy_budget_uJ": ENERGY_BUDGET_UJ,
        "accuracy_target": ACCURACY_TARGET,
        "budget": b,
        "overrides": args.sets,
        "comparison": compared,
        "omnibus": [o for o in (omnibus(table, k) for k in ("hypervolume", "best_accuracy")) if o],
        "per_seed": table,
        "wall_s_this_call": time.time() - started,
    }
    if args.out == OUT:
        save("hwnas/hwnas", record)
    else:  # a pilot or a smoke run elsewhere: the same record, provenance included
        from neuromotif.core.provenance import provenance

        record = {"provenance": provenance(started), **record}
        atomic_write_text(args.out / "hwnas.json", json.dumps(record, indent=2, default=str))
    print(md)
    if failure:
        raise SystemExit(failure)


if __name__ == "__main__":
    main()
