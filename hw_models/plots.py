"""Figures of a mapping and its cost (matplotlib's object API: no pyplot state, no display).

Each function returns a ``matplotlib.figure.Figure``; whoever asked for it saves it (the app
layer writes PNGs atomically), so this package writes no files.
"""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from neuromotif.hw_models.chip import ChipSpec
from neuromotif.hw_models.mapper import Mapping
from neuromotif.hw_models.netlist import Netlist
from neuromotif.hw_models.placement import core_traffic

RESOURCES = (("compartments", "max_compartments"), ("synapse_bits", "synapse_memory_bits"),
             ("input_axons", "max_input_axons"), ("output_axons", "max_output_axons"),
             ("shared_bits", "shared_memory_bits"))


def utilisation(mapping: Mapping) -> dict[str, np.ndarray]:
    """Per resource with a limit on this chip: each core's use as a fraction of the limit."""
    out = {}
    for used, limit in RESOURCES:
        allowed = getattr(mapping.chip.core, limit)
        if allowed:
            out[used] = np.array([getattr(u, used) for u in mapping.usage], float) / allowed
    return out


def utilisation_figure(mapping: Mapping) -> Figure:
    util = utilisation(mapping)
    fig = Figure(figsize=(max(6, 0.12 * len(mapping.usage) + 3), 3.5))
    ax = fig.subplots()
    width = 0.8 / max(len(util), 1)
    x = np.arange(len(mapping.usage))
    for k, (name, frac) in enumerate(util.items()):
        ax.bar(x + k * width, 100 * frac, width, label=name)
    ax.axhline(100, color="k", lw=0.8, ls="--")
    ax.set(xlabel="core", ylabel="% of core limit", title=f"Core utilisation on {mapping.chip.name}")
    ax.legend(fontsize=7, ncol=len(util))
    return fig


def placement_figure(net: Netlist, mapping: Mapping) -> Figure:
    """Each chip's router mesh; a core's colour = its expected outgoing spike messages per step."""
    chip: ChipSpec = mapping.chip
    traffic = np.asarray(core_traffic(net, mapping.cores).sum(1)).ravel()
    n_chips = mapping.placement.n_chips
    cols = min(n_chips, 4)
    rows = -(-n_chips // cols)
    fig = Figure(figsize=(3.2 * cols, 2.6 * rows))
    axes = fig.subplots(rows, cols, squeeze=False)
    grid = np.full((n_chips, chip.mesh.tiles_y, chip.mesh.tiles_x), np.nan)
    for cid in range(len(mapping.cores)):
        c, (x, y) = mapping.placement.chip_of[cid], mapping.placement.router_xy[cid]
        grid[c, y, x] = np.nansum([grid[c, y, x], traffic[cid]])
    vmax = np.nanmax(grid) if np.isfinite(grid).any() else 1.0
    for c in range(rows * cols):
        ax = axes[c // cols, c % cols]
        ax.axis("off")
        if c < n_chips:
            im = ax.imshow(grid[c], cmap="viridis", vmin=0, vmax=vmax or 1.0)
            ax.set_title(f"chip {c}", fontsize=8)
    fig.colorbar(im, ax=axes.ravel().tolist(), shrink=0.8, label="spike messages / step")
    fig.suptitle(f"Placement on {chip.name} ({len(mapping.cores)} cores, {n_chips} chip(s))", fontsize=9)
    return fig


def energy_figure(cost: dict) -> Figure:
    """Energy per inference by component (stacked bar) and routing energy by hop count."""
    breakdown = cost["energy"]["breakdown"]
    hops = cost["energy"]["routing_by_hops_J"]
    fig = Figure(figsize=(8, 3.2))
    a, b = fig.subplots(1, 2)
    bottom = 0.0
    for name, value in breakdown.items():
        a.bar([0], [value * 1e6], bottom=bottom * 1e6, label=name)
        bottom += value
    a.set(xticks=[], ylabel="µJ per inference", title=f"total {bottom * 1e6:.3g} µJ ({cost['cost_table']})")
    a.legend(fontsize=7)
    b.bar(list(hops), [v * 1e9 for v in hops.values()])
    b.set(xlabel="mean hops per message", ylabel="nJ per inference", title="routing energy by hop count")
    return fig
