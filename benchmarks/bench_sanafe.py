"""Our cost and pipeline-timing models against SANA-FE 2.2.9's detailed model (Loihi 1), on the
same bundle, placement and input spikes (``neuromotif.sanafe_crosscheck``; needs the optional
extra ``neuromotif[sanafe]``, GPL-3.0).

Cases: the quickstart network compiled for Loihi 1 (a run directory, default
runs/quickstart-loihi1: `neuromotif run configs/quickstart.yaml --out runs/quickstart-loihi1 --set
compile.chip=loihi1`; skipped with a note when absent), and synthetic SC-ML layers (m = 16, 64
inputs at 10 % per step, 50 steps): 5 cores, a multi-tile placement, 4096 neurons and 16,384
neurons on a whole chip (113 cores).
Every case runs in a fresh process: SANA-FE's step time depended on what ran before it in the
same process (138.0 us fresh against 141.4 us after five other cross-checks in one case).
Per step: the 5th, 50th and 95th percentile of ours / SANA-FE over the sample's steps.
Speed, in the same run (medians of 3 repetitions in each case's process): wall time for one
sample of SANA-FE's detailed simulation against our CPU backend plus our cost model with the
pipeline timing, what a report runs ("speedup"), each side's network build apart (SANA-FE's: its
architecture and network; ours: the backend, the netlist and the placement's route table, built
once per bundle and placement as a report builds them); "speedup_cold" counts both builds (one
sample from nothing); "speedup_ours_built" counts ours and not SANA-FE's. The analytic timing
the comparison also computes is not counted. And per sample over a split of 64 samples, as a
report costs a split: our CPU backend on the batch and one cost-model call, against SANA-FE's
time per sample (it simulates one sample at a time) ("speedup_split").
Grid (issue 33): synthetic SC-ML layers of 256 / 1,024 / 4,096 neurons at 64 per core (5 / 17 /
65 cores) and 16,384 at 160 per core (104-113 cores: one whole chip; 500+ cores need several
chips, which SANA-FE's Loihi model does not have), hidden activity ~2 / 4 / 15 / 45 / 97 % (the
threshold and the recurrent weights' sign), each with a high-fan-in readout (10 outputs, each
from 30 % of the hidden neurons, within 4,000 input axons) and a one-core readout (from the first
motif), 50 steps: one cross-check per case, each in a fresh process. Per case: ours / SANA-FE
over the sample and per step (5th / 50th / 95th percentile, and the share of steps within
+-10 %), and the same for the step model before message queues and flow control (slowest core +
busiest link + barrier) on the same run.
Targets: event counts identical; our pipeline step time within +-10 % of SANA-FE's.
Prints and saves benchmarks/results/bench_sanafe.json and .md.
Run: python benchmarks/bench_sanafe.py [--run RUN_DIR] [--no-grid]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# (name, neurons, neurons per core, readout fan-in): 16,384 neurons fill one Loihi 1 chip (113 cores;
# SANA-FE's Loihi model is one chip, so no multi-chip case), its readout within 4,096 input axons
SYNTHETIC = [
    ("5 cores", 256, 64, 0.3),
    ("multi-tile", 1024, 64, 0.3),
    ("4096 neurons", 4096, 512, 0.3),
    ("16384 neurons", 16384, 160, 0.2),
]
STEPS = 50
REPEATS = 3  # cross-checks per case: the wall times are medians
GRID_SIZES = [(256, 64), (1024, 64), (4096, 64), (16384, 160)]  # (neurons, per core)
GRID_ACTIVITY = {  # (vth, recurrent weights from 2 * rec low): the threshold and sign set the activity
    "~2 %": (15000, -64),
    "~4 %": (10000, -64),
    "~15 %": (3000, -64),
    "~45 %": (150, -64),
    "~97 %": (30, 0),
}
GRID_READOUT = {"high fan-in": 0.3, "one core": 0.0}  # each output's share of the hidden neurons
MAX_AXONS = 4000  # a readout neuron's inputs must fit Loihi 1's 4,096 input axons per core


def _row(name: str, r: dict, seconds: float) -> dict:
    import numpy as np

    t = r["time"]
    per_step = np.asarray(r["per_step_s"]["ours_pipeline"]) / np.asarray(r["per_step_s"]["sanafe"])
    return {
        "case": name,
        "cores": r["cores"],
        "tiles": r["tiles"],
        "events_equal": r["events_equal"],
        "spike_mismatches": r["dynamics"]["spike_mismatches"],
        "spike_entries": r["dynamics"]["entries"],
        "sanafe_us": t["sanafe_s"] * 1e6,
        "pipeline_us": t["ours_pipeline_s"] * 1e6,
        "analytic_us": t["ours_analytic_s"] * 1e6,
        "pipeline_ratio": t["pipeline_ratio"],
        "analytic_ratio": t["analytic_ratio"],
        "within_10pct": abs(t["pipeline_ratio"] - 1) <= 0.10,
        # the per-step ratio's distribution: a total within 10 % can hide steps far off
        "per_step_ratio_p5_p50_p95": [float(v) for v in np.percentile(per_step, [5, 50, 95])],
        "per_step_ratio": " / ".join(f"{v:.3f}" for v in np.percentile(per_step, [5, 50, 95])),
        "energy_ratio": {k: v["ratio"] for k, v in r["energy_J"].items()},
        "sanafe_build_ms": 1e3 * r["wall_s"]["sanafe_build"],
        "sanafe_sim_ms": 1e3 * r["wall_s"]["sanafe_simulate"],
        "ours_build_ms": 1e3 * r["wall_s"]["ours_build"],
        "ours_sim_ms": 1e3 * r["wall_s"]["ours_simulate"],
        "ours_model_ms": 1e3 * r["wall_s"]["ours_cost_and_timing"],
        "speedup": r["wall_s"]["speedup"],
        "speedup_cold": r["wall_s"]["speedup_cold"],
        "speedup_ours_built": r["wall_s"]["speedup_ours_built"],
        "seconds": seconds,
        "detail": r,
    }


SPLIT = 64  # samples of the split costed at once for the per-sample speed over a split


def split_cost_s(bundle, placement, xs) -> float:
    """Our wall time per sample when a report costs a split of ``len(xs)`` samples: the CPU backend
    on the whole batch (activity summed over it) and one cost-model call with the pipeline timing
    (median of 3; the backend and the route table are built once, as a report builds them)."""
    import statistics

    import numpy as np

    from neuromotif.deploy.backends import make_backend
    from neuromotif.deploy.compile import bundle_netlist
    from neuromotif.hw_models import load_chip
    from neuromotif.hw_models.cost import Activity, energy_latency, route_table
    from neuromotif.sanafe_crosscheck import COST_TABLE

    backend, net, loihi1 = make_backend("cpu", bundle), bundle_netlist(bundle), load_chip("loihi1")
    routes = route_table(net, placement, loihi1.cost_table(COST_TABLE))
    times = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        run = backend.run(np.asarray(xs, np.float32), activity=True)
        assert run.activity_spikes is not None and run.activity_active is not None  # activity=True
        activity = Activity(run.activity_spikes, run.activity_active, len(xs))
        energy_latency(net, placement, loihi1, activity, COST_TABLE, "pipeline", routes=routes)
        times.append((time.perf_counter() - t0) / len(xs))
    return statistics.median(times)


def case(name: str, run: Path) -> dict:
    """One case, measured in this process (the parent starts a fresh process per case); the
    cross-check runs ``REPEATS`` times and the wall times are their medians (the first call of a
    process also pays numpy's and SANA-FE's warm-up)."""
    import statistics

    import numpy as np

    from neuromotif.deploy.compile import bundle_netlist
    from neuromotif.deploy.synthetic_bundles import scml_bundle
    from neuromotif.hw_models import load_chip
    from neuromotif.hw_models.chip import with_core_limit
    from neuromotif.hw_models.mapper import map_network
    from neuromotif.sanafe_crosscheck import crosscheck, crosscheck_run, with_speedup

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        if name == "quickstart":
            label = f"quickstart ({run})"
            results = [crosscheck_run(run, 0) for _ in range(REPEATS)]
            split = split_cost_s(*_run_split(run))
        else:
            label, n, per_core, p_out = next(c for c in SYNTHETIC if c[0] == name)
            bundle = scml_bundle(Path(tmp) / label.replace(" ", "_"), n, p_out=p_out)
            placement = map_network(bundle_netlist(bundle), with_core_limit(load_chip("loihi1"), per_core)).placement
            x = (np.random.default_rng(0).random((STEPS, bundle.input.size)) < 0.1).astype(np.float32)
            results = [crosscheck(bundle, placement, x) for _ in range(REPEATS)]
            xs = (np.random.default_rng(1).random((SPLIT, STEPS, bundle.input.size)) < 0.1).astype(np.float32)
            split = split_cost_s(bundle, placement, xs)
            label = f"{label} (SC-ML {n})"
    first = results[0]
    walls = [r["wall_s"] for r in results]
    first["wall_s"] = with_speedup(
        {key: statistics.median(w[key] for w in walls) for key in walls[0] if not key.startswith("speedup")}
    )
    row = _row(label, first, time.perf_counter() - t0)
    row["ours_split_ms_per_sample"] = 1e3 * split
    row["speedup_split"] = first["wall_s"]["sanafe_simulate"] / split  # SANA-FE has no batch: per sample
    return row


def _percentiles(ours, theirs) -> list[float]:
    import numpy as np

    return [float(v) for v in np.percentile(np.asarray(ours) / np.asarray(theirs), [5, 50, 95])]


def grid_fan_in(n: int, readout: str) -> float:
    """Each readout neuron's share of the hidden neurons, within the input axons a core holds."""
    return min(GRID_READOUT[readout], MAX_AXONS / n)


def grid_bundle(path: Path, n: int, per_core: int, activity: str, readout: str):
    """A grid case's bundle at ``path`` and its Loihi 1 mapping (as the mapper places it; the
    cross-check may then move a core for SANA-FE's inputs). Also used by ``bench_split_bottleneck``
    and ``diagnose_sanafe_trace``."""
    from neuromotif.deploy.compile import bundle_netlist
    from neuromotif.deploy.synthetic_bundles import scml_bundle
    from neuromotif.hw_models import load_chip
    from neuromotif.hw_models.chip import with_core_limit
    from neuromotif.hw_models.mapper import map_network

    vth, rec_low = GRID_ACTIVITY[activity]
    bundle = scml_bundle(path, n, vth=vth, rec_low=rec_low, p_out=grid_fan_in(n, readout))
    return bundle, map_network(bundle_netlist(bundle), with_core_limit(load_chip("loihi1"), per_core))


def grid_case(n: int, per_core: int, activity: str, readout: str) -> dict:
    """One grid case: one cross-check in this process (the parent starts a fresh one per case)."""
    import numpy as np

    from neuromotif.sanafe_crosscheck import crosscheck

    with tempfile.TemporaryDirectory() as tmp:
        bundle, mapping = grid_bundle(Path(tmp) / "b", n, per_core, activity, readout)
        placement = mapping.placement
        x = (np.random.default_rng(0).random((STEPS, bundle.input.size)) < 0.1).astype(np.float32)
        r = crosscheck(bundle, placement, x)
    steps = r["per_step_s"]
    theirs = np.asarray(steps["sanafe"])
    ratio = float(np.sum(steps["ours_pipeline"]) / theirs.sum())
    return {
        "neurons": n,
        "cores": r["cores"],
        "tiles": r["tiles"],
        "moved_for_host": r["moved_for_host"],
        "activity_target": activity,
        "hidden_activity": r["dynamics"]["sanafe_spikes"] / (STEPS * (n + bundle.neuron_populations[-1].size)),
        "readout": readout,
        "readout_fan_in": grid_fan_in(n, readout),
        "events_equal": r["events_equal"],
        "sanafe_us": float(theirs.sum() * 1e6),
        "pipeline_ratio": ratio,
        "within_10pct": abs(ratio - 1) <= 0.10,
        "per_step_ratio_p5_p50_p95": _percentiles(steps["ours_pipeline"], theirs),
        # the share of this case's steps whose own ratio is within +-10 %
        "steps_within_10pct": float(np.mean(np.abs(np.asarray(steps["ours_pipeline"]) / theirs - 1) <= 0.10)),
        "link_bound_ratio": float(np.sum(steps["ours_link_bound"]) / theirs.sum()),
        "link_bound_per_step_p5_p50_p95": _percentiles(steps["ours_link_bound"], theirs),
        "steps_bound_by": r["critical_path"]["steps_bound_by"],
    }


def grid_table(rows: list[dict]) -> str:
    """The grid as a Markdown table: one line per case."""
    lines = [
        "| neurons | cores | readout | hidden active | SANA-FE (µs) | ours / SANA-FE | per step p5 / p50 / p95 | "
        "steps within ±10 % | before queues and flow control |",
        "|---:|---:|---|---:|---:|---:|---|---:|---:|",
    ]
    for r in rows:
        p5, p50, p95 = r["per_step_ratio_p5_p50_p95"]
        lines.append(
            f"| {r['neurons']:,} | {r['cores']} | {r['readout']} | {100 * r['hidden_activity']:.1f} % | "
            f"{r['sanafe_us']:.1f} | ×{r['pipeline_ratio']:.3f} | {p5:.2f} / {p50:.2f} / {p95:.2f} | "
            f"{100 * r['steps_within_10pct']:.0f} % | ×{r['link_bound_ratio']:.3f} |"
        )
    return "\n".join(lines)


def _run_split(run: Path):
    """The quickstart run's bundle, placement and its split's first ``SPLIT`` samples."""
    import json

    import numpy as np

    from neuromotif.config import load_config
    from neuromotif.deploy.bundle import read_bundle
    from neuromotif.hw_models.mapper import mapping_from_summary
    from neuromotif.search.data import load_dataset

    config, bundle = load_config(run / "config.yaml"), read_bundle(run / "bundle")
    placement = mapping_from_summary(bundle.manifest["placement"], bundle.chip).placement
    split = json.loads((run / "simulation" / "summary.json").read_text())["split"]
    part = load_dataset(config.data, config.seed).split(split)
    return bundle, placement, part.spikes(np.arange(min(SPLIT, len(part))))


def main() -> None:
    import json

    from benchmarks.common import RESULTS, run_isolated, save, table
    from neuromotif.core.io import atomic_write_text

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, default=Path("runs/quickstart-loihi1"))
    parser.add_argument("--no-grid", action="store_true", help="only the named cases, not the 40-case grid")
    parser.add_argument("--case", help=argparse.SUPPRESS)  # the child: one case, its row printed as JSON
    parser.add_argument("--grid-case", nargs=4, help=argparse.SUPPRESS)  # the child: one grid case
    args = parser.parse_args()
    if args.case:
        print(json.dumps(case(args.case, args.run)))
        return
    if args.grid_case:
        n, per_core, activity, readout = args.grid_case
        print(json.dumps(grid_case(int(n), int(per_core), activity, readout)))
        return
    rows, notes = [], []
    names = [c[0] for c in SYNTHETIC]
    if (args.run / "simulation" / "summary.json").exists():
        names.insert(0, "quickstart")
    else:
        notes.append(f"quickstart skipped: no run at {args.run} (see this script's docstring)")
    for name in names:
        rows.append(run_isolated("benchmarks.bench_sanafe", "--case", name, "--run", str(args.run.resolve())))
        print(f"{rows[-1]['case']}: pipeline x{rows[-1]['pipeline_ratio']:.3f}", flush=True)
    columns = [
        "case",
        "cores",
        "tiles",
        "events_equal",
        "spike_mismatches",
        "sanafe_us",
        "pipeline_us",
        "pipeline_ratio",
        "analytic_us",
        "analytic_ratio",
        "within_10pct",
        "per_step_ratio",
        "sanafe_build_ms",
        "sanafe_sim_ms",
        "ours_build_ms",
        "ours_sim_ms",
        "ours_model_ms",
        "speedup",
        "speedup_cold",
        "speedup_ours_built",
        "ours_split_ms_per_sample",
        "speedup_split",
    ]
    text = table(rows, columns)
    print(text)
    grid: list[dict] = []
    for (n, per_core), activity, readout in (
        (size, a, r) for size in ([] if args.no_grid else GRID_SIZES) for a in GRID_ACTIVITY for r in GRID_READOUT
    ):
        grid.append(run_isolated("benchmarks.bench_sanafe", "--grid-case", str(n), str(per_core), activity, readout))
        g = grid[-1]
        print(
            f"grid: {g['cores']:3d} cores, {100 * g['hidden_activity']:4.1f} % active, readout {readout:11s}: "
            f"x{g['pipeline_ratio']:.3f} (before queues and flow control x{g['link_bound_ratio']:.3f})",
            flush=True,
        )
    if grid:
        ratios = [g["pipeline_ratio"] for g in grid]
        within = sum(g["within_10pct"] for g in grid)
        notes.append(f"grid: {within} of {len(grid)} cases within 10 %, x{min(ratios):.3f} to x{max(ratios):.3f}")
        steps_within = sum(g["steps_within_10pct"] for g in grid) / len(grid)  # every case has STEPS steps
        notes.append(f"grid: {100 * steps_within:.1f} % of all steps within 10 % of SANA-FE's step")
        text += "\n\n## Grid: placement size x activity x readout\n\n" + grid_table(grid)
    for note in notes:
        print(note)
    save(
        "bench_sanafe",
        {"steps": STEPS, "fresh_process_per_case": True, "rows": rows, "grid": grid, "notes": notes},
    )
    atomic_write_text(
        RESULTS / "bench_sanafe.md",
        "# Our models against SANA-FE 2.2.9 (Loihi 1, detailed timing)\n\n"
        "Same bundle, placement and input spikes; our models run on SANA-FE's spikes, so the event "
        "counts must be equal. Ratios are ours / SANA-FE over the whole sample.\n\n"
        + text
        + "\n"
        + "".join(f"\n{n}\n" for n in notes),
    )


if __name__ == "__main__":
    main()
