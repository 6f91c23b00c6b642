"""``neuromotif pareto``: the accuracy / energy / latency / cores trade-off, one full run per weight.

Each point is a sweep trial (``neuromotif.sweep``: its own run directory, resumable, locally or
on Ray) whose ``search.objective`` and ``train.objective`` get the point's weights. Every number
on the front comes from the point's compiled bundle on the CPU backend and the exact cost
model (its ``report.json``), never from the proxy the training used. Writes ``pareto.json``
(flat rows, the non-dominated ones marked), ``pareto.md`` (linked to each run) and
``pareto.png`` (fixed-point accuracy against energy, latency and cores).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from neuromotif.core.errors import InputError
from neuromotif.core.io import atomic_write_text
from neuromotif.core.provenance import provenance
from neuromotif.search.settings import OBJECTIVES
from neuromotif.sweep import Trial, _slug, grid, run_sweep


def trials(lambdas: list[str]) -> list[Trial]:
    """``["energy=0,0.01,0.03", "latency=0.5"]`` -> one trial per listed weight (the others 0);
    the accuracy-only point (all weights 0) is always included first."""
    points: list[tuple[str, float]] = []
    for item in lambdas:
        if "=" not in item:
            raise InputError(f"--lambdas {item!r}: write OBJECTIVE=W1,W2 with OBJECTIVE one of {', '.join(OBJECTIVES)}")
        key, raw = item.split("=", 1)
        key = key.strip()
        if key not in OBJECTIVES:
            raise InputError(f"--lambdas {item!r}: unknown objective {key!r}; use one of {', '.join(OBJECTIVES)}")
        for value in raw.split(","):
            try:
                weight = float(value)
            except ValueError:
                raise InputError(f"--lambdas {item!r}: {value!r} is not a number") from None
            if not weight >= 0:
                raise InputError(f"--lambdas {item!r}: weights must be >= 0")
            if weight > 0:
                points.append((key, weight))
    out = [Trial("accuracy-only", ())]
    for key, weight in dict.fromkeys(points):
        out.append(
            Trial(
                f"{key}-{_slug(repr(weight))}", (f"search.objective.{key}={weight}", f"train.objective.{key}={weight}")
            )
        )
    return out


def non_dominated(rows: list[dict[str, Any]], costs=("energy_uJ", "latency_ms", "cores")) -> list[bool]:
    """A point is dominated when another is at least as accurate and as cheap in every cost, and
    better in one."""
    flags = []
    for a in rows:
        dominated = any(
            b is not a
            and b["accuracy_fixed"] >= a["accuracy_fixed"]
            and all(b[c] <= a[c] for c in costs)
            and (b["accuracy_fixed"] > a["accuracy_fixed"] or any(b[c] < a[c] for c in costs))
            for b in rows
        )
        flags.append(not dominated)
    return flags


def run_pareto(
    config_path: Path,
    overrides: list[str],
    lambdas: list[str],
    out: Path,
    executor: str = "local",
    address: str | None = None,
    cpus_per_trial: float = 1.0,
    data_root: Path | None = None,
    axes: list[str] | None = None,
) -> list[dict]:
    """``axes``: more settings to sweep with every weight (``--grid compile.neurons_per_core=256,64``:
    spreading a layer over more cores is the other way to buy latency)."""
    points = trials(lambdas)
    if axes:
        points = [Trial(f"{w.name}__{g.name}", w.overrides + g.overrides) for w in points for g in grid(axes)]
    rows = run_sweep(config_path, overrides, points, out, executor, address, cpus_per_trial, data_root=data_root)
    for row, trial, front in zip(rows, points, non_dominated(rows), strict=True):
        row["weights"] = {
            k.split(".")[-1]: float(v)
            for k, v in (o.split("=", 1) for o in trial.overrides if o.startswith("train.objective."))
        }
        row["settings"] = {k: v for k, v in (o.split("=", 1) for o in trial.overrides if ".objective." not in o)}
        row["pareto"] = front
    base = rows[0]
    for row in rows:
        row["energy_vs_accuracy_only"] = row["energy_uJ"] / base["energy_uJ"]
        row["latency_vs_accuracy_only"] = row["latency_ms"] / base["latency_ms"]
        row["accuracy_vs_accuracy_only_pts"] = 100 * (row["accuracy_fixed"] - base["accuracy_fixed"])
    from neuromotif.hw_models.reference import blouw_kws

    parts = blouw_kws()
    reference = {
        "name": "Blouw et al. 2019 keyword spotting, Loihi 1 (dynamic energy)",
        "measured_dynamic_J": parts["measured_dynamic_J"],
        "our_model_dynamic_J": parts["dynamic_J"],
        "dynamic_ratio": parts["dynamic_ratio"],
        "cores": parts["cores"],
    }
    write_outputs(Path(out), rows, reference)
    return rows


def write_outputs(out: Path, rows: list[dict[str, Any]], reference: dict[str, Any] | None = None) -> None:
    flat = [
        {k: v for k, v in r.items() if not isinstance(v, (dict, list))}
        | {"weights": r.get("weights", {}), "settings": r.get("settings", {})}
        for r in rows
    ]
    record = {"provenance": provenance(), "points": flat, "reference": reference}
    atomic_write_text(out / "pareto.json", json.dumps(record, indent=2))
    lines = [
        "| # | point | weights | fixed-point accuracy (%) | Δ vs accuracy-only (pts) | µJ / inference | "
        "× energy | ms / inference | × latency | cores | on the front |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for number, r in enumerate(rows, 1):
        w = (
            ", ".join(
                [f"{k} {v:g}" for k, v in r.get("weights", {}).items()]
                + [f"{k.split('.')[-1]} {v}" for k, v in r.get("settings", {}).items()]
            )
            or "-"
        )
        lines.append(
            f"| {number} | [{r['trial']}]({r['trial']}/report.md) | {w} | {100 * r['accuracy_fixed']:.2f} | "
            f"{r['accuracy_vs_accuracy_only_pts']:+.2f} | {r['energy_uJ']:.2f} | "
            f"{r['energy_vs_accuracy_only']:.2f} | {r['latency_ms']:.3f} | {r['latency_vs_accuracy_only']:.2f} | "
            f"{r['cores']} | {'yes' if r['pareto'] else ''} |"
        )
    if reference:
        lines += [
            "",
            f"Reference: {reference['name']}: measured {reference['measured_dynamic_J'] * 1e6:.0f} µJ of dynamic "
            f"energy per inference; our cost model gives {reference['our_model_dynamic_J'] * 1e6:.0f} µJ for it "
            f"({reference['cores']} cores, x{reference['dynamic_ratio']:.2f}): the model counts the neuro cores "
            "and the mesh, not the management cores and I/O the measurement holds (docs/energy.md). "
            "Static energy above follows the report's operating mode and accounting.",
        ]
    atomic_write_text(out / "pareto.md", "\n".join(lines) + "\n")
    _plot(out, rows)


def _plot(out: Path, rows: list[dict[str, Any]]) -> None:
    from matplotlib.figure import Figure

    from neuromotif.core.plotting import save_figure
    from neuromotif.hw_models.plots import WIDTH

    fig = Figure(figsize=(WIDTH, 3.0), layout="constrained")
    axes = fig.subplots(1, 3, sharey=True)
    for ax, key, label in zip(
        axes,
        ("energy_uJ", "latency_ms", "cores"),
        ("energy per inference (µJ)", "latency per inference (ms)", "neuro cores"),
        strict=True,
    ):
        for on_front, color, name in ((False, "#999999", "dominated"), (True, "#C44E52", "non-dominated")):
            group = [r for r in rows if bool(r["pareto"]) == on_front]
            x = [r[key] for r in group]
            y = [100 * r["accuracy_fixed"] for r in group]
            ax.scatter(x, y, c=color, label=name, zorder=3)
            spans = [(r.get(f"{key}_low"), r.get(f"{key}_high")) for r in group]
            if group and all(lo is not None and hi is not None for lo, hi in spans):
                # the cost table's uncertainty: what the evidence allows, not noise over runs
                err = [
                    [v - lo for v, (lo, _) in zip(x, spans, strict=True)],
                    [hi - v for v, (_, hi) in zip(x, spans, strict=True)],
                ]
                ax.errorbar(x, y, xerr=err, fmt="none", ecolor=color, elinewidth=0.8, capsize=2, alpha=0.7)
        for number, r in enumerate(rows, 1):  # numbered as in pareto.md: trial names would not fit
            ax.annotate(
                str(number), (r[key], 100 * r["accuracy_fixed"]), fontsize=7, xytext=(3, 3), textcoords="offset points"
            )
        ax.set(xlabel=label)
    axes[0].set(ylabel="fixed-point accuracy (%)")
    axes[0].legend(fontsize=7)
    fig.suptitle("points numbered as in pareto.md; bars: the cost table's uncertainty range", fontsize=8)
    save_figure(fig, out / "pareto.png")
