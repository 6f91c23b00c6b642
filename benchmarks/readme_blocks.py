"""README blocks generated from committed result files, so a README number cannot drift from its source.

A block in README.md is ``<!-- results: NAME -->`` ... ``<!-- /results -->``; its text is what
``RENDERERS[NAME]`` makes of ``benchmarks/results/*.json``. ``python benchmarks/readme_blocks.py``
rewrites the blocks; ``--check`` exits 1 naming every block that differs (``make test`` runs the
same check through ``tests/test_readme_numbers.py``). Every source file carries its provenance
(commit, machine, versions), written by ``benchmarks/common.save``.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
README = Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(r"(<!-- results: (?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- /results -->)", re.S)
T_975 = {2: 12.706, 3: 4.303, 4: 3.182, 5: 2.776, 6: 2.571, 7: 2.447, 8: 2.365, 9: 2.306, 10: 2.262}  # df -> t


def load(name: str) -> dict:
    return json.loads((RESULTS / f"{name}.json").read_text())


def _source(name: str, result: dict) -> str:
    """Where a block's numbers come from: the file, and the commit and date its provenance records."""
    p = result["provenance"]
    return f"`benchmarks/results/{name}.json` (commit {p['commit'][:10]}, {p['date'][:10]})"


def quickstart_seeds() -> str:
    d = load("quickstart_seeds")
    n = d["seeds"]
    lines = [
        f"| quickstart, {n} seeds, 1 torch thread | mean ± sd | 95 % CI of the mean | min | max | "
        "seed 0: 2 threads − 1 |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, s in d["over_seeds"].items():
        half = T_975[n] * s["sd"] / n**0.5  # t interval, sample sd (ddof 1)
        lines.append(
            f"| {label} | {s['mean']:.2f} ± {s['sd']:.2f} | {s['mean'] - half:.2f} – {s['mean'] + half:.2f} | "
            f"{s['min']:.2f} | {s['max']:.2f} | {d['threads_2_minus_1_seed0'][label]:+.2f} |"
        )
    sizes = [r["motif_size"] for r in d["runs"] if "threads2" not in r["run"]]
    lines += ["", f"Motif sizes chosen: {sizes}. Source: {_source('quickstart_seeds', d)}."]
    return "\n".join(lines) + "\n"


def search_stability() -> str:
    lines = [
        "| search decisions | dataset | perturbations | same motif size | types equal (min / mean) |",
        "|---|---|---:|---:|---:|",
    ]
    sources = []
    for name, label in (("bench_search_stability", "argmax (DARTS)"), ("bench_search_stability_evidence", "evidence")):
        if not (RESULTS / f"{name}.json").exists():
            continue
        d = load(name)
        sources.append(_source(name, d))
        for dataset in dict.fromkeys(r["dataset"] for r in d["rows"]):
            rows = [r for r in d["rows"] if r["dataset"] == dataset and r["perturbation"] != "reference"]
            agree = [100 * r["type_agreement"] for r in rows]
            lines.append(
                f"| {label} | {dataset} | {len(rows)} | {sum(r['same_size'] for r in rows)} of {len(rows)} | "
                f"{min(agree):.1f} % / {statistics.fmean(agree):.1f} % |"
            )
    return "\n".join([*lines, "", "Sources: " + "; ".join(sources) + "."]) + "\n"


def ip() -> str:
    d = load("bench_ip")
    lines = [
        "| IP step (weights frozen, 15 windows) | hidden rate before → after | KL before → after (min) | "
        "gains at the floor |",
        "|---|---:|---:|---:|",
    ]
    for r in d["rows"]:
        lines.append(
            f"| {r['variant']} | {r['rate_before']:.3f} → {r['rate_after']:.3f} | {r['kl_before']:.2f} → "
            f"{r['kl_after']:.2f} ({r['kl_min']:.2f}) | {100 * r['gain_at_floor']:.0f} % |"
        )
    model = f"`{'/'.join(Path(d['model']).parts[-3:])}` (sha256 {d['model_sha256_16']}...)"
    return (
        "\n".join([*lines, "", f"Target rate {d['target_rate']}, model {model}. Source: {_source('bench_ip', d)}."])
        + "\n"
    )


def activity() -> str:
    d = load("bench_activity")
    lines = [
        "| activity weight | val. fixed point | energy | dynamic energy | synaptic ops / inference | "
        "hidden bursts | hidden Fano | hidden chi |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in d["rows"]:
        lines.append(
            f"| {r['activity_weight']:g} | {r['val_fixed_pct']:.2f} % | {r['energy_uJ']:.2f} µJ | "
            f"{r['dynamic_energy_uJ']:.2f} µJ | {r['synops_per_inference']:,.0f} | "
            f"{100 * r['hidden_burst_fraction']:.1f} % | {r['hidden_fano']:.2f} | {r['hidden_chi']:.3f} |"
        )
    return (
        "\n".join([*lines, "", f"Seed {d['seed']}, validation split. Source: {_source('bench_activity', d)}."]) + "\n"
    )


ABLATION_NAMES = {
    "hrmas": "HRMAS (search + IP)",
    "hrmas-no-ip": "HRMAS without IP",
    "no-motif": "search without motifs",
    "scml": "SC-ML, hand-designed",
    "random-scml": "SC-ML, random topology",
    "fc": "fully connected RSNN",
    "feedforward": "feed-forward",
}


def _ablation_provenance(d: dict) -> str:
    """Wave-2 ablations predate recorded provenance: say what was reconstructed and where runs ran."""
    p = d["provenance"]
    where = "; ".join(f"{m['runs']}: {m['where']}, Python {m['python']}, torch {m['torch']}" for m in p["machines"])
    return f"provenance reconstructed, committed in {p['committed_in']}, {p['date']}; {where}"


def _fixed_point_columns(d: dict) -> dict[str, str]:
    """Per variant: the deployed (fixed-point) test accuracy, mean ± sd, and HRMAS − variant with its
    paired t-test p, Holm-adjusted over the variants (the accuracy the chip runs, issue 30)."""
    from scipy.stats import ttest_rel
    from stats import holm

    by = {}
    for r in d["runs"]:
        if r.get("test_accuracy_quantized") is not None:
            by.setdefault(r["variant"], {})[r["seed"]] = 100 * r["test_accuracy_quantized"]
    ref = by.get("hrmas", {})
    others = [v for v in by if v != "hrmas"]
    diffs = {v: [ref[s] - by[v][s] for s in sorted(set(ref) & set(by[v]))] for v in others}
    pvals = [
        float(
            ttest_rel(
                [ref[s] for s in sorted(set(ref) & set(by[v]))], [by[v][s] for s in sorted(set(ref) & set(by[v]))]
            ).pvalue
        )
        for v in others
    ]
    adjusted = dict(zip(others, holm(pvals), strict=True))
    cols = {}
    for v, acc in by.items():
        xs = list(acc.values())
        text = f"{statistics.mean(xs):.2f} ± {statistics.stdev(xs):.2f}"
        if v in adjusted:
            text += f" | {statistics.mean(diffs[v]):+.2f} (Holm p {adjusted[v]:.3f})"
        else:
            text += " | -"
        cols[v] = text
    return cols


def ablation(dataset: str) -> str:
    path = RESULTS / "ablation" / dataset / "ablation.json"
    d = json.loads(path.read_text())
    paired = {c["variant"]: c for c in d["paired"]}
    fixed = _fixed_point_columns(d)
    lines = [
        "| variant | test accuracy (%), mean ± sd | HRMAS − variant (pts), per seed | t-test p | Holm p | "
        "detectable (pts) | fixed point (%), mean ± sd | fixed point: HRMAS − variant |",
        "|---|---|---|---:|---:|---:|---|---|",
    ]
    for r in d["rows"]:
        c = paired.get(r["variant"])
        diff = "-" if c is None else f"{c['mean_diff']:+.2f} ({', '.join(f'{x:+.1f}' for x in c['diffs'])})"
        stats = (
            "| - | - | - |" if c is None else f"| {c['t_p']:.3f} | {c['t_p_holm']:.3f} | {c['detectable_diff']:.2f} |"
        )
        lines.append(
            f"| {ABLATION_NAMES.get(r['variant'], r['variant'])} | {100 * r['mean']:.2f} ± {100 * r['sd']:.2f} | "
            f"{diff} {stats} {fixed.get(r['variant'], '- | -')} |"
        )
    return (
        "\n".join(
            [
                *lines,
                "",
                f"Sample sd over seeds; paired t-test per seed, Holm-adjusted over the {len(paired)} "
                f"comparisons; detectable: the smallest mean difference these seeds detect (α 0.05, power 0.8). "
                f"Source: `benchmarks/results/ablation/{dataset}/ablation.json` ({_ablation_provenance(d)}).",
            ]
        )
        + "\n"
    )


def mapping() -> str:
    d = load("bench_mapping")
    lines = [
        "| neurons | synapses | map time | peak memory | cores | chips | hop traffic, naive / motif-aware |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in d["rows"]:
        lines.append(
            f"| {r['neurons']:,} | {r['synapses'] / 1e6:.3g} M | {r['map_s']:.3g} s | {r['peak_rss_mb']:.0f} MB | "
            f"{r['cores']:,} | {r['chips']} | {r['naive_over_motif_aware']:.2f}× |"
        )
    return "\n".join([*lines, "", f"Source: {_source('bench_mapping', d)}."]) + "\n"


def energy_validation() -> str:
    d = load("bench_energy_validation")
    lines = [
        "| measurement | model component | kind | measured | model [range] | model / measured |",
        "|---|---|---|---:|---:|---:|",
    ]
    for r in d["rows"]:
        lo, hi = r["model_range"]
        lines.append(
            f"| {r['measurement']} | {r['component']} | {r['kind']} | {r['measured']:.4g} {r['unit']} | "
            f"{r['model']:.4g} [{lo:.3g}-{hi:.3g}] {r['unit']} | {r['model'] / r['measured']:.2f} |"
        )
    return "\n".join([*lines, "", f"Source: {_source('bench_energy_validation', d)}."]) + "\n"


def fronts() -> str:
    d = load("bench_fronts")
    lines = [
        "| dataset | mode | static | spreading: energy | spreading: latency | cost weights: energy | "
        "cost weights: latency | cost weights: accuracy (pts) |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for dataset in ("digits-saccade", "letters-tts"):
        for combo, c in d.get(dataset, {}).items():
            mode, static = combo.split("/")
            sp, w = c["effects"]["spreading"], c["effects"]["cost_weights"]
            lines.append(
                f"| {dataset} | {mode} | {static.replace('_', ' ')} | ×{sp['energy']:.2f} | ×{sp['latency']:.2f} | "
                f"×{w['energy']:.2f} | ×{w['latency']:.2f} | {w['accuracy_pts']:+.2f} |"
            )
    for dataset in ("digits-saccade", "letters-tts"):
        rows = d.get(dataset, {}).get("throughput/per_chip", {}).get("rows", [])
        if not rows:
            continue
        lines += [
            "",
            f"{dataset}, every point (throughput mode, static per chip; [range]: the cost table's uncertainty):",
            "",
            "| weights | neurons / core | fixed point (%) | µJ / inference | of it static | ms / inference | cores |",
            "|---|---:|---:|---|---:|---|---:|",
        ]
        for r in rows:
            w = ", ".join(f"{k} {v:g}" for k, v in r["weights"].items()) or "accuracy only"
            lo, hi = r["energy_bounds_uJ"]
            llo, lhi = r["latency_bounds_ms"]
            lines.append(
                f"| {w} | {r['settings'].get('compile.neurons_per_core', '-')} | {100 * r['accuracy_fixed']:.2f} | "
                f"{r['energy_uJ']:.2f} [{lo:.2f}-{hi:.1f}] | {r['static_uJ']:.2f} | {r['latency_ms']:.3f} "
                f"[{llo:.3f}-{lhi:.2f}] | {r['cores']} |"
            )
    return "\n".join([*lines, "", f"Source: {_source('bench_fronts', d)}."]) + "\n"


def backends() -> str:
    d = load("bench_backends")
    lines = [
        "| N | Lava processes | CPU, 1 sample (median) | Lava, 1 sample (cold) | speed-up | Lava start-up | "
        "CPU per sample, batch of 256 | Lava per sample, steady (samples) | steady throughput speed-up | "
        "cold throughput speed-up | mismatches |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in d["rows"]:
        lo, hi = (1e3 * t / r["samples"] for t in r["cpu_batched_range_s"])
        steady = r["steady_throughput_speedup"]
        lines.append(
            f"| {r['neurons']:,} | {r['lava_processes']} | {r['cpu_one_sample_s'] * 1e3:.1f} ms | "
            f"{r['lava_one_sample_s']:.2f} s | {r['one_sample_speedup']:.0f}× | {r['lava_startup_s']:.2f} s | "
            f"{r['cpu_per_sample_batched_s'] * 1e3:.2f} ms ({lo:.2f}-{hi:.2f}) | "
            f"{r['lava_steady_per_sample_s']:.2f} s ({r['lava_samples']}) | **{steady:.0f}×** | "
            f"{r['batched_throughput_speedup']:.0f}× | {r['spike_mismatches']} |"
        )
    return "\n".join([*lines, "", f"Source: {_source('bench_backends', d)}."]) + "\n"


def memory_traffic() -> str:
    d = load("bench_memory_traffic")
    m = d["machine"]
    lines = [
        f"Machine, measured in the same run: float32 GEMM {m['gemm_flops'] / 1e9:.0f} GFLOP/s, memory bandwidth "
        f"{m['bandwidth_bytes'] / 1e9:.1f} GB/s.",
        "",
        "| N | hidden activity | per sample, batch 64 | one sample | effective events/s | "
        "fraction of the memory-traffic model | fraction of the compute ceiling |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in d["rows"]:
        lines.append(
            f"| {r['neurons']:,} | {100 * r['hidden_activity']:.1f} % | {r['per_sample_ms']:.2f} ms | "
            f"{r['one_sample_ms']:.1f} ms | {r['effective_events_per_s'] / 1e6:.0f} M | "
            f"{100 * r['traffic_model_fraction']:.0f} % | {100 * r['compute_ceiling_fraction']:.2f} % |"
        )
    return "\n".join([*lines, "", f"Source: {_source('bench_memory_traffic', d)}."]) + "\n"


def interop() -> str:
    d = load("bench_interop")
    n = len(d["seeds"])
    lines = [
        f"| peer network ({n} seeds, mean ± sd) | peer's accuracy | fixed point accuracy | import = peer "
        "with hop delay | fixed point = peer | fixed point = peer with hop delay | output spikes moved by "
        "the fixed point |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]

    def pct(kind: str, key: str) -> str:
        s = d["summary"][kind][key]
        return f"{100 * s['mean']:.2f} ± {100 * s['sd']:.2f} %"

    for kind in d["summary"]:
        name = "Norse, 2 layers" if kind == "norse" else f"snnTorch, {kind}"
        lines.append(
            f"| {name} | {pct(kind, 'peer_accuracy')} | {pct(kind, 'fixed_point_accuracy')} | "
            f"{pct(kind, 'import_agreement_hop_delay_modelled')} | {pct(kind, 'fixed_point_agreement')} | "
            f"{pct(kind, 'fixed_point_agreement_hop_delay_modelled')} | "
            f"{pct(kind, 'fixed_point_spike_count_difference')} |"
        )
    return "\n".join([*lines, "", f"Source: {_source('bench_interop', d)}."]) + "\n"


def scml() -> str:
    d = load("bench_scml")
    peers = ("dense", "snntorch", "snntorch-rsynaptic", "norse")
    lines = [
        "| N | SC-ML m=8 | SC-ML m=16 | our dense | snnTorch RLeaky | snnTorch RSynaptic | Norse LIFRecurrent | "
        "dense peers / SC-ML m=8 | SC-ML m=8 memory | dense peers' memory |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for n in sorted({r["neurons"] for r in d["rows"]}):
        at = {(r["kind"], r.get("motif")): r for r in d["rows"] if r["neurons"] == n}
        m8, m16 = at[("scml", 8)], at[("scml", 16)]
        others = [r for (kind, _), r in at.items() if kind in peers]
        ratio = [r["seconds_per_batch"] / m8["seconds_per_batch"] for r in others]
        mem = [r["rss_over_start_mb"] for r in others]
        bold = "**" if n >= 4096 else ""
        cells = [f"{at[(k, None)]['seconds_per_batch']:.3g} s" if (k, None) in at else "-" for k in peers]
        lines.append(
            f"| {n} | {m8['seconds_per_batch']:.3g} s | {m16['seconds_per_batch']:.3g} s | {' | '.join(cells)} | "
            f"{bold}{min(ratio):.1f}-{max(ratio):.1f}×{bold} | {m8['rss_over_start_mb']:.0f} MB | "
            f"{min(mem):.0f}-{max(mem):.0f} MB |"
        )
    return "\n".join([*lines, "", f"Source: {_source('bench_scml', d)}."]) + "\n"


def hwnas() -> str:
    """The HW-NAS comparison (issue 30): the table hwnas.py writes, from its result file, and how
    much of the planned runs it rests on."""
    import hwnas as bench

    d = load("hwnas/hwnas")
    done = json.loads((RESULTS / "hwnas" / "points.json").read_text())["points"]
    planned = len(d["methods"]) * 5 * len(d["weights"])
    body = bench.markdown(d["comparison"], d["per_seed"], d["budget"])
    return (
        body
        + f"\n![fronts](benchmarks/results/hwnas/fronts.png)\n\n{len(done)} of {planned} planned networks "
        + f"finished (5 seeds). Source: {_source('hwnas/hwnas', d)}, points with each run's provenance in "
        + "`benchmarks/results/hwnas/points.json`.\n"
    )


def _duration(seconds: float) -> str:
    m, s = divmod(round(seconds), 60)
    return f"{m} min {s} s" if m else f"{s} s"


def test_suite() -> str:
    """The README's test commands timed as a newcomer runs them (issue 34): the runs at the file's
    latest commit, by command and lint-cache state."""
    d = load("bench_test_suite")
    latest = d["runs"][-1]["commit"]
    runs = [r for r in d["runs"] if r["commit"] == latest]
    lines = [
        "| command (`CI=true`, 2 cores) | lint caches | runs | failed runs | tests passed | wall, lint included | "
        "pytest alone |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    groups: dict[tuple[str, bool], list[dict]] = {}
    for r in runs:
        groups.setdefault((r["target"], r["cold_lint"]), []).append(r)
    for (target, cold), rs in sorted(groups.items()):
        ok = [r for r in rs if not r.get("exit")]
        walls = sorted(r["wall_s"] for r in ok)
        pytests = sorted(r["pytest_s"] for r in ok)

        def span(xs: list[float]) -> str:
            if not xs:
                return "-"
            return _duration(xs[0]) if len(xs) == 1 else f"{_duration(xs[0])} – {_duration(xs[-1])}"

        passed = sorted({r["passed"] for r in ok})
        lines.append(
            f"| `make {target}` | {'cold (fresh clone)' if cold else 'warm'} | {len(rs)} | {len(rs) - len(ok)} | "
            f"{', '.join(map(str, passed)) or '-'} | {span(walls)} | {span(pytests)} |"
        )
    return "\n".join([*lines, "", f"Source: {_source('bench_test_suite', d)}."]) + "\n"


def sanafe_grid() -> str:
    from bench_sanafe import grid_table

    d = load("bench_sanafe")
    grid = d["grid"]
    within = sum(r["within_10pct"] for r in grid)
    ratios = [r["pipeline_ratio"] for r in grid]
    before = [r["link_bound_ratio"] for r in grid]
    steps = sum(r["steps_within_10pct"] for r in grid) / len(grid)  # every case has the same steps
    summary = (
        f"{within} of {len(grid)} within ±10 % (×{min(ratios):.3f} to ×{max(ratios):.3f}); {100 * steps:.1f} % of all "
        f"steps within ±10 % of SANA-FE's; before message queues and flow control ×{min(before):.3f} to "
        f"×{max(before):.3f} on the same run."
    )
    return "\n".join([grid_table(grid), "", summary + f" Source: {_source('bench_sanafe', d)}."]) + "\n"


def split_bottleneck() -> str:
    d = load("bench_split_bottleneck")
    lines = [
        "| case | cores before → after | latency, ours | latency, SANA-FE | energy, ours | ours / SANA-FE after |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in d["rows"]:
        case = r["case"].split(" (")[0]
        lines.append(
            f"| {case} | {r['cores_before']} → {r['cores_after']} | ×{r['ours_ratio']:.3f} | "
            f"×{r['sanafe_ratio']:.3f} | "
            f"×{r['priced_energy_ratio']:.3f} | ×{r['ours_vs_sanafe_after']:.3f} |"
        )
    return "\n".join([*lines, "", f"Source: {_source('bench_split_bottleneck', d)}."]) + "\n"


RENDERERS: dict[str, Callable[[], str]] = {
    "sanafe-grid": sanafe_grid,
    "split-bottleneck": split_bottleneck,
    "test-suite": test_suite,
    "hwnas": hwnas,
    "scml": scml,
    "interop": interop,
    "backends": backends,
    "memory-traffic": memory_traffic,
    "energy-validation": energy_validation,
    "fronts": fronts,
    "mapping": mapping,
    "ablation-digits-saccade": lambda: ablation("digits-saccade"),
    "ablation-letters-tts": lambda: ablation("letters-tts"),
    "quickstart-seeds": quickstart_seeds,
    "search-stability": search_stability,
    "ip": ip,
    "activity": activity,
}


def blocks(text: str) -> dict[str, str]:
    """Name -> body of every results block in ``text``."""
    return {m["name"]: m["body"] for m in BLOCK.finditer(text)}


def stale(text: str) -> list[str]:
    """Names of blocks whose body is not what their renderer makes now (or that no renderer knows)."""
    return [name for name, body in blocks(text).items() if name not in RENDERERS or RENDERERS[name]() != body]


def rewrite(text: str) -> str:
    return BLOCK.sub(lambda m: m.group(1) + RENDERERS[m["name"]]() + m.group(4), text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if a block differs from its source")
    args = ap.parse_args()
    text = README.read_text()
    if args.check:
        bad = stale(text)
        if bad:
            print("README blocks out of step with their result files: " + ", ".join(bad), file=sys.stderr)
            sys.exit(1)
        return
    README.write_text(rewrite(text))
    print("rewrote", ", ".join(blocks(text)))


if __name__ == "__main__":
    main()
