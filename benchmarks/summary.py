"""The headline ratios of every benchmark, from their result files, in one table (`make bench` ends
with it; `python benchmarks/summary.py` reads whatever results are there).

Each line names its source file and the commit and date the file's provenance records, or says
that the file predates provenance (rerun it: `python benchmarks/<name>.py`). Writes
``benchmarks/results/summary.json`` (with this summary's own provenance) and prints the table.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from common import RESULTS, save


def _backends(d: dict) -> str:
    one = min(r["one_sample_speedup"] for r in d["rows"])
    steady = ", ".join(f"{r['steady_throughput_speedup']:.0f}x (N {r['neurons']})" for r in d["rows"])
    mism = sum(r["spike_mismatches"] for r in d["rows"])
    return f"CPU vs Lava: one sample >= {one:.0f}x; batched, steady state {steady}; {mism} spike mismatches"


def _memory_traffic(d: dict) -> str:
    rows = [r for r in d["rows"] if r["neurons"] >= 1024 and r["target_activity"] == 0.10]
    return (
        f"CPU backend at N >= 1024, 10 % activity: {min(r['traffic_model_fraction'] for r in rows):.0%}-"
        f"{max(r['traffic_model_fraction'] for r in rows):.0%} of the memory-traffic model, "
        f"{max(r['compute_ceiling_fraction'] for r in rows):.1%} of the compute ceiling at most"
    )


def _scml(d: dict) -> str:
    top = max(r["neurons"] for r in d["rows"])
    peers = [r for r in d["rows"] if r["neurons"] == top and r["kind"] not in ("scml", "dense")]
    best = min(peers, key=lambda r: r["this_over_scml8_time"])
    ratio = best["this_over_scml8_time"]
    return f"training at N = {top}: the fastest dense peer ({best['kind']}) takes {ratio:.1f}x SC-ML m=8"


def _torch_backend(d: dict) -> str:
    same = all(r["identical_spikes"] for r in d["rows"])
    ratios = ", ".join(f"{r['torch_over_numpy']:.2f} (N {r['neurons']})" for r in d["rows"])
    return f"torch backend on {d.get('device', 'cpu')}: time / numpy {ratios}; spikes identical: {same}"


def _sanafe(d: dict) -> str:
    ratios = [r["pipeline_ratio"] for r in d["rows"]]
    speed = [r.get("speedup") for r in d["rows"] if r.get("speedup")]
    faster = (
        f"; {min(speed):.1f}-{max(speed):.1f}x faster than its simulation (one sample, builds apart)" if speed else ""
    )
    cold = [r["speedup_cold"] for r in d["rows"] if r.get("speedup_cold")]
    if cold:
        faster += f", {min(cold):.0f}-{max(cold):.0f}x counting both builds"
    split = [r["speedup_split"] for r in d["rows"] if r.get("speedup_split")]
    if split:
        faster += f", {min(split):.0f}-{max(split):.0f}x per sample over a split"
    grid = d.get("grid", [])
    if grid:
        within = sum(g["within_10pct"] for g in grid)
        faster += f"; grid: {within} of {len(grid)} within 10 %"
    return f"latency vs SANA-FE: x{min(ratios):.3f}-x{max(ratios):.3f} over {len(ratios)} placements{faster}"


def _split_bottleneck(d: dict) -> str:
    split = [r for r in d["rows"] if r["cores_after"] > r["cores_before"]]
    ours = [r["ours_ratio"] for r in split]
    theirs = [r["sanafe_ratio"] for r in split]
    return (
        f"bottleneck splits kept in {len(split)} of {len(d['rows'])} cases: latency x{min(ours):.3f}-x{max(ours):.3f} "
        f"(SANA-FE x{min(theirs):.3f}-x{max(theirs):.3f})"
    )


def _cost_proxy(d: dict) -> str:
    e = [r["energy_ratio"] for r in d["rows"]]
    t = [r["latency_ratio"] for r in d["rows"]]
    return f"cost proxy vs exact model: energy x{min(e):.3f}-x{max(e):.3f}, latency x{min(t):.3f}-x{max(t):.3f}"


def _interop(d: dict) -> str:
    s = d["summary"]
    imp = min(v["import_agreement_hop_delay_modelled"]["min"] for v in s.values())
    fixed = [v["fixed_point_agreement"]["mean"] for v in s.values()]
    return (
        f"imports: {imp:.0%} as the peer with the hop delay; fixed point {min(fixed):.1%}-{max(fixed):.1%} as the peer"
    )


def _test_suite(d: dict) -> str:
    latest = d["runs"][-1]["commit"]
    runs = [r for r in d["runs"] if r["commit"] == latest]
    worst = {
        t: max((r["wall_s"] for r in runs if r["target"] == t and not r.get("exit")), default=None)
        for t in ("test", "test-fast")
    }
    failed = sum(1 for r in runs if r.get("exit"))
    return (
        f"make test {worst['test']:.0f} s, make test-fast {worst['test-fast']:.0f} s at worst over {len(runs)} runs "
        f"({failed} failed); targets 180 s / 90 s"
    )


def _linear_readout(d: dict) -> str:
    return "input counts alone vs in 10 time bins: " + ", ".join(
        f"{r['dataset']} {100 * r['counts_alone']:.1f} / {100 * r['counts_in_10_bins']:.1f} %" for r in d["rows"]
    )


LINES: dict[str, Callable[[dict], str]] = {
    "bench_test_suite": _test_suite,
    "bench_linear_readout": _linear_readout,
    "bench_backends": _backends,
    "bench_memory_traffic": _memory_traffic,
    "bench_scml": _scml,
    "bench_torch_backend": _torch_backend,
    "bench_sanafe": _sanafe,
    "bench_split_bottleneck": _split_bottleneck,
    "bench_cost_proxy": _cost_proxy,
    "bench_interop": _interop,
}


def main() -> None:
    rows = []
    for name, line in LINES.items():
        path = RESULTS / f"{name}.json"
        if not path.exists():
            rows.append({"benchmark": name, "commit": None, "date": None, "headline": "no result file: run it"})
            continue
        d = json.loads(path.read_text())
        p = d.get("provenance") or {}
        rows.append(
            {
                "benchmark": name,
                "commit": (p.get("commit") or "")[:10] or None,
                "date": (p.get("date") or d.get("when") or "")[:10] or None,
                "headline": line(d),
            }
        )
    for r in rows:
        where = f"{r['commit']} {r['date']}" if r["commit"] else f"no provenance ({r['date'] or 'undated'}): rerun"
        print(f"{r['benchmark']:<22} [{where}] {r['headline']}")
    print("saved", save("summary", {"rows": rows}))


if __name__ == "__main__":
    main()
