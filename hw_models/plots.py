"""Plots of a mapping and its cost (matplotlib, Agg, saved as PNG atomically)."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from hw_models.chip import ChipSpec
from hw_models.mapper import Mapping
from hw_models.netlist import Netlist
from hw_models.placement import core_traffic

RESOURCES = (("compartments", "max_compartments"), ("synapse_bits", "synapse_memory_bits"),
             ("input_axons", "max_input_axons"), ("output_axons", "max_output_axons"),
             ("shared_bits", "shared_memory_bits"))


def pyplot():
    """matplotlib's pyplot on the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path: str | os.PathLike[str]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".png", dir=path.parent)
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=110, bbox_inches="tight")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
        pyplot().close(fig)
    return path


def utilisation(mapping: Mapping) -> dict[str, np.ndarray]:
    """Per resource with a limit on this chip: each core's use as a fraction of the limit."""
    out = {}
    for used, limit in RESOURCES:
        allowed = getattr(mapping.chip.core, limit)
        if allowed:
            out[used] = np.array([getattr(u, used) for u in mapping.usage], float) / allowed
    return out


def plot_utilisation(mapping: Mapping, path) -> Path:
    plt = pyplot()
    util = utilisation(mapping)
    fig, ax = plt.subplots(figsize=(max(6, 0.12 * len(mapping.usage) + 3), 3.5))
    width = 0.8 / max(len(util), 1)
    x = np.arange(len(mapping.usage))
    for k, (name, frac) in enumerate(util.items()):
        ax.bar(x + k * width, 100 * frac, width, label=name)
    ax.axhline(100, color="k", lw=0.8, ls="--")
    ax.set(xlabel="core", ylabel="% of core limit", title=f"Core utilisation on {mapping.chip.name}")
    ax.legend(fontsize=7, ncol=len(util))
    return save_figure(fig, path)


def plot_placement(net: Netlist, mapping: Mapping, path) -> Path:
    """Each chip's router mesh; a core's colour = its expected outgoing spike messages per step."""
    plt = pyplot()
    chip: ChipSpec = mapping.chip
    traffic = np.asarray(core_traffic(net, mapping.cores).sum(1)).ravel()
    n_chips = mapping.placement.n_chips
    cols = min(n_chips, 4)
    rows = -(-n_chips // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.6 * rows), squeeze=False)
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
    return save_figure(fig, path)


def plot_energy(cost: dict, path) -> Path:
    """Energy per inference by component (stacked bar) and routing energy by hop count."""
    plt = pyplot()
    breakdown = cost["energy"]["breakdown"]
    hops = cost["energy"]["routing_by_hops_J"]
    fig, (a, b) = plt.subplots(1, 2, figsize=(8, 3.2))
    bottom = 0.0
    for name, value in breakdown.items():
        a.bar([0], [value * 1e6], bottom=bottom * 1e6, label=name)
        bottom += value
    a.set(xticks=[], ylabel="µJ per inference", title=f"total {bottom * 1e6:.3g} µJ ({cost['cost_table']})")
    a.legend(fontsize=7)
    b.bar(list(hops), [v * 1e9 for v in hops.values()])
    b.set(xlabel="mean hops per message", ylabel="nJ per inference", title="routing energy by hop count")
    return save_figure(fig, path)
