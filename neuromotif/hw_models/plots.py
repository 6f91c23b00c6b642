"""Figures of a mapping and its cost (matplotlib's object API: no pyplot state, no display).

Each function returns a ``matplotlib.figure.Figure``; whoever asked for it saves it (the app
layer writes PNGs atomically), so this package writes no files. House rules for every figure:
integer ticks where an axis counts things, units in the axis labels, legends outside the data,
titles that fit, and a width that reads at GitHub's page width (about 8 inches at 110 dpi).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axis import Axis
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, Patch, Rectangle
from matplotlib.ticker import MaxNLocator

from neuromotif.hw_models.chip import ChipSpec
from neuromotif.hw_models.drc import CORE_RULES
from neuromotif.hw_models.mapper import Mapping
from neuromotif.hw_models.netlist import Netlist
from neuromotif.hw_models.placement import core_traffic

# the core memories the design rules check (drc.CORE_RULES is the one list), profiles left out
RESOURCES = tuple((r.usage_field, r.limit_field) for r in CORE_RULES if not r.usage_field.endswith("_profiles"))
WIDTH = 8.0  # inches: GitHub's page width at the saved dpi
MAX_GROUPED_CORES = 32  # up to this many cores, one group of bars per core; beyond, lines
MAX_ARROW_CORES = 24  # draw core-to-core traffic arrows up to this many cores
MAX_DETAILED_CHIPS = 4  # beyond this many chips, one overview of the whole system
POPULATION_COLORS = ("#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3", "#8C8C8C")


def integer_ticks(axis: Axis) -> None:
    """Ticks only at whole numbers: for axes that count things (cores, iterations, hops)."""
    axis.set_major_locator(MaxNLocator(integer=True))


def legend_outside(ax, **kw) -> None:
    """A legend to the right of the axes: never over the data, never over the title."""
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False, fontsize=8, **kw)


def utilisation(mapping: Mapping) -> dict[str, np.ndarray]:
    """Per resource with a limit on this chip: each core's use as a fraction of the limit."""
    out = {}
    for used, limit in RESOURCES:
        allowed = getattr(mapping.chip.core, limit)
        if allowed:
            out[used] = np.array([getattr(u, used) for u in mapping.usage], float) / allowed
    return out


def utilisation_figure(mapping: Mapping) -> Figure:
    """Each core's use of every limited resource, in % of the core's limit."""
    util = utilisation(mapping)
    n = len(mapping.usage)
    fig = Figure(figsize=(WIDTH, 3.4), layout="constrained")
    ax = fig.subplots()
    x = np.arange(n)
    if n <= MAX_GROUPED_CORES:
        width = 0.8 / max(len(util), 1)
        for k, (name, frac) in enumerate(util.items()):  # a group of bars centred on each core's index
            ax.bar(x + (k - (len(util) - 1) / 2) * width, 100 * frac, width, label=name.replace("_", " "))
        ax.set_xlim(-0.6, n - 0.4)
    else:
        for name, frac in util.items():
            ax.step(x, 100 * frac, where="mid", label=name.replace("_", " "), lw=1)
    ax.axhline(100, color="k", lw=0.8, ls="--")
    ax.text(ax.get_xlim()[1], 100, " limit", va="center", ha="left", fontsize=8)
    integer_ticks(ax.xaxis)
    ax.set(
        xlabel="core",
        ylabel="use (% of the core's limit)",
        ylim=(0, max(110, 105 * max((f.max(initial=0) for f in util.values()), default=1))),
    )
    legend_outside(ax)
    fig.suptitle(f"Core utilisation on {mapping.chip.name} ({n} cores)", fontsize=10)
    return fig


def _core_slot(chip: ChipSpec, x: int, y: int, slot: int) -> tuple[float, float, float]:
    """(left, bottom, size) of core ``slot`` inside router (x, y): routers are unit squares,
    their cores a k x k grid inside."""
    k = int(np.ceil(np.sqrt(chip.mesh.cores_per_tile)))
    size = 0.9 / k
    return x + 0.05 + (slot % k) * size, y + 0.05 + (slot // k) * size, size


def placement_figure(
    net: Netlist,
    mapping: Mapping,
    core_messages: Sequence[float] | None = None,
    pairs: Sequence[Sequence[float]] | None = None,
) -> Figure:
    """The chip's router mesh at true proportions; each used core coloured by its population and
    shaded by its outgoing spike messages (measured, ``core_messages``, else expected from the
    populations' rates); core-to-core traffic as arrows for small networks (``pairs``: [src,
    dst, messages]); a whole-system overview when the network spans many chips."""
    chip, placement = mapping.chip, mapping.placement
    cores = mapping.cores
    traffic = np.asarray(
        core_messages if core_messages is not None else np.asarray(core_traffic(net, cores).sum(1)).ravel(), float
    )
    shade = traffic / traffic.max() if len(traffic) and traffic.max() > 0 else np.zeros(len(cores))
    names = list(dict.fromkeys(c.population for c in cores))
    color = {name: POPULATION_COLORS[i % len(POPULATION_COLORS)] for i, name in enumerate(names)}
    if placement.n_chips > MAX_DETAILED_CHIPS:
        return _system_overview(mapping, traffic)
    mx, my = chip.mesh.tiles_x, chip.mesh.tiles_y
    cols = placement.n_chips
    cell = min(0.42, 6.0 / (cols * mx), 4.5 / my)  # inches per router, same in x and y
    fig = Figure(figsize=(max(4.5, cols * mx * cell + 2.4), my * cell + 1.3), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, cols, squeeze=False)[0])
    slots: dict[tuple[int, int, int], int] = {}
    centers = np.zeros((len(cores), 2))
    chip_of = placement.chip_of
    for cid in range(len(cores)):
        x, y = (int(v) for v in placement.router_xy[cid])
        key = (int(chip_of[cid]), x, y)
        slot = slots.get(key, 0)
        slots[key] = slot + 1
        left, bottom, size = _core_slot(chip, x, y, slot)
        centers[cid] = (left + size / 2, bottom + size / 2)
        ax = axes[int(chip_of[cid])]
        ax.add_patch(
            Rectangle(
                (left, bottom),
                size,
                size,
                facecolor=color[cores[cid].population],
                alpha=0.3 + 0.7 * shade[cid],
                edgecolor="k",
                lw=0.4,
            )
        )
    for c, ax in enumerate(axes):
        for x in range(mx):
            for y in range(my):
                ax.add_patch(Rectangle((x, y), 1, 1, fill=False, edgecolor="#BBBBBB", lw=0.5))
        ax.set(xlim=(0, mx), ylim=(my, 0), aspect="equal", xticks=[], yticks=[])
        used = int((chip_of == c).sum())
        ax.set_title(f"chip {c}: {used} of {chip.cores_per_chip} cores", fontsize=8)
    if pairs is not None and len(cores) <= MAX_ARROW_CORES:
        top = max((p[2] for p in pairs if p[0] >= 0 and p[0] != p[1]), default=0.0)
        for src, dst, messages in pairs:
            src, dst = int(src), int(dst)
            if src < 0 or src == dst or chip_of[src] != chip_of[dst] or top <= 0:
                continue
            axes[int(chip_of[src])].add_patch(
                FancyArrowPatch(
                    centers[src],
                    centers[dst],
                    arrowstyle="-|>",
                    mutation_scale=8,
                    color="k",
                    alpha=0.7,
                    lw=0.5 + 2.5 * messages / top,
                    connectionstyle="arc3,rad=0.25",
                )
            )
    handles = [Patch(facecolor=color[n], edgecolor="k", label=n) for n in names]
    fig.legend(
        handles=handles,
        loc="outside right upper",
        fontsize=8,
        frameon=False,
        title="population\n(darker: more\nmessages sent)",
        title_fontsize=7,
    )
    fig.suptitle(f"Placement on {chip.name}: {len(cores)} cores, {placement.n_chips} chip(s)", fontsize=10)
    return fig


def _system_overview(mapping: Mapping, traffic: np.ndarray) -> Figure:
    """Many chips: one square per chip, coloured by the cores it uses, labelled with its traffic."""
    placement, chip = mapping.placement, mapping.chip
    n = placement.n_chips
    used = np.bincount(placement.chip_of, minlength=n)
    sent = np.bincount(placement.chip_of, weights=traffic, minlength=n)
    xy = placement.chip_xy
    fig = Figure(figsize=(WIDTH, min(7.0, 1.5 + 0.6 * (xy[:, 1].max() + 1))), layout="constrained")
    ax = fig.subplots()
    grid = np.full((xy[:, 1].max() + 1, xy[:, 0].max() + 1), np.nan)
    grid[xy[:, 1], xy[:, 0]] = used
    im = ax.imshow(grid, cmap="viridis", vmin=0, vmax=chip.cores_per_chip)
    for c in range(n):
        ax.text(xy[c, 0], xy[c, 1], f"{c}\n{sent[c]:.0f}", ha="center", va="center", fontsize=6, color="w")
    ax.set(xticks=[], yticks=[], title=f"{n} chips (label: chip id, spike messages sent per inference)")
    fig.colorbar(im, ax=ax, label="cores used per chip", shrink=0.8)
    fig.suptitle(f"Placement on {chip.name}: {len(mapping.cores)} cores on {n} chips", fontsize=10)
    return fig


def energy_figure(cost: dict) -> Figure:
    """Energy per inference by component and routing energy by hop count, both in µJ."""
    breakdown = cost["energy"]["breakdown"]
    hops = cost["energy"]["routing_by_hops_J"]
    fig = Figure(figsize=(WIDTH, 3.2), layout="constrained")
    a, b = fig.subplots(1, 2, width_ratios=(1.4, 1))
    names = [k.replace("_", " ") for k in breakdown]
    bars = a.bar(names, [v * 1e6 for v in breakdown.values()], color=POPULATION_COLORS[: len(names)])
    a.bar_label(bars, fmt="%.3g", fontsize=8)
    total = sum(breakdown.values())
    a.set(ylabel="energy per inference (µJ)", title=f"total {total * 1e6:.3g} µJ ({cost['cost_table']})")
    a.tick_params(axis="x", labelsize=8)
    a.margins(y=0.15)
    keys = sorted(hops, key=int)
    bars = b.bar([int(k) for k in keys], [hops[k] * 1e6 for k in keys], color="#4C72B0", width=0.6)
    b.bar_label(bars, fmt="%.3g", fontsize=8)
    if len(keys) <= 12:
        b.set_xticks([int(k) for k in keys])
    else:
        integer_ticks(b.xaxis)
    b.set_xlim(min(int(k) for k in keys) - 0.8, max(int(k) for k in keys) + 0.8) if keys else None
    b.set(
        xlabel="mean hops per message (0: same router)",
        ylabel="routing energy per inference (µJ)",
        title="routing energy by distance",
    )
    b.margins(y=0.15)
    return fig


def step_time_figure(pipeline: dict) -> Figure:
    """Per step of the average inference: time by component (stacked), and how many steps each
    component bounds."""
    comp = pipeline["components_ns"]
    compute = np.asarray(comp["compute"]) / 1e3
    network = np.asarray(comp["network"]) / 1e3
    barrier = np.full_like(compute, comp["barrier"] / 1e3)
    steps = np.arange(1, len(compute) + 1)
    fig = Figure(figsize=(WIDTH, 3.2), layout="constrained")
    a, b = fig.subplots(1, 2, width_ratios=(2.2, 1))
    a.stackplot(
        steps,
        barrier,
        compute,
        network,
        labels=["barrier", "compute (slowest core)", "network"],
        colors=["#bbbbbb", "#4C72B0", "#DD8452"],
        step="mid",
    )
    a.set(xlabel="time step", ylabel="step time (µs)", title="step time by component (pipeline model)")
    integer_ticks(a.xaxis)
    legend_outside(a)
    bound = pipeline["summary"]["steps_bound_by"]
    bars = b.barh(list(bound), list(bound.values()), color=["#4C72B0", "#DD8452", "#bbbbbb"])
    b.bar_label(bars, fontsize=8)
    b.invert_yaxis()
    b.set(xlabel="steps", title="what bounds each step")
    b.margins(x=0.2)
    return fig
