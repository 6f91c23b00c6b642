"""The report's own figures (what is not a hardware-model figure): the network, the rasters,
accuracy by stage. matplotlib's object API, the same house rules as ``hw_models.plots``."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from neuromotif.hw_models import motifs
from neuromotif.hw_models.plots import POPULATION_COLORS, WIDTH, integer_ticks

SIGN_CMAP = "bwr_r"  # excitatory blue, inhibitory red, absent white


def motif_pattern(weights, motif_size: int) -> np.ndarray:
    """The E/I pattern of motif 0 of an SC-ML recurrent matrix: [m, 3m] signs (+1, -1, 0) of
    its synapses from motif K-1 | itself | motif 1."""
    blocks = motifs.csr_to_blocks(weights, motif_size)
    return np.sign(blocks[0]) if blocks is not None else np.zeros((motif_size, 3 * motif_size))


def network_figure(
    populations: list[tuple[str, int, str, int]], projections: list[tuple[str, str, int]], motifs: dict[str, np.ndarray]
) -> Figure:
    """Populations (name, size, kind, motif size) left to right, projections as arrows with their
    synapse counts, and each SC-ML population's motif pattern as a small matrix."""
    fig = Figure(figsize=(WIDTH, 3.0 if not motifs else 4.6), layout="constrained")
    if motifs:
        top, bottom = fig.subfigures(2, 1, height_ratios=(1.1, 1))  # type: ignore[misc]  # an array of 2
    else:
        top, bottom = fig, None
    ax = top.subplots()
    ax.set(xlim=(-0.6, len(populations) - 0.4), ylim=(-1, 1), xticks=[], yticks=[])
    ax.axis("off")
    x_of = {}
    for i, (name, size, kind, motif) in enumerate(populations):
        x_of[name] = i
        label = f"{name}\n{size:,} {'inputs' if kind == 'input' else 'neurons'}"
        if motif > 1:
            label += f"\nmotifs of {motif}"
        ax.add_patch(
            FancyBboxPatch(
                (i - 0.3, -0.35),
                0.6,
                0.7,
                boxstyle="round,pad=0.02",
                facecolor=POPULATION_COLORS[i % len(POPULATION_COLORS)],
                alpha=0.35,
            )
        )
        ax.text(i, 0, label, ha="center", va="center", fontsize=8)
    for pre, post, synapses in projections:
        a, b = x_of[pre], x_of[post]
        if a == b:  # recurrent: a loop above the box
            ax.add_patch(
                FancyArrowPatch(
                    (a - 0.12, 0.36),
                    (a + 0.12, 0.36),
                    connectionstyle="arc3,rad=-1.6",
                    arrowstyle="-|>",
                    mutation_scale=9,
                    lw=1,
                )
            )
            ax.text(a, 0.82, f"{synapses:,} recurrent", ha="center", fontsize=7)
        else:
            ax.add_patch(FancyArrowPatch((a + 0.31, 0), (b - 0.31, 0), arrowstyle="-|>", mutation_scale=9, lw=1))
            ax.text((a + b) / 2, -0.12, f"{synapses:,}", ha="center", va="top", fontsize=7)
    ax.set_title("network: populations and projections (synapse counts)", fontsize=9)
    if bottom is not None:
        axes = np.atleast_1d(bottom.subplots(1, len(motifs)))
        for mx, (name, pattern) in zip(axes, motifs.items(), strict=True):
            m = pattern.shape[0]
            mx.imshow(pattern, cmap=SIGN_CMAP, vmin=-1, vmax=1, interpolation="nearest")
            for edge in (m - 0.5, 2 * m - 0.5):
                mx.axvline(edge, color="k", lw=0.8)
            mx.set(
                xticks=[m / 2 - 0.5, 1.5 * m - 0.5, 2.5 * m - 0.5],
                xticklabels=["motif k-1", "motif k", "motif k+1"],
                yticks=[],
                ylabel="post neuron",
            )
            mx.set_title(f"{name}: motif pattern (blue E, red I, white absent)", fontsize=8)
            mx.tick_params(labelsize=7)
    return fig


def raster_figure(rasters: dict[str, np.ndarray], split: str) -> Figure:
    """One sample's spikes, every layer, fixed point."""
    fig = Figure(figsize=(WIDTH, 1.5 * len(rasters) + 0.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(len(rasters), 1, sharex=True))
    for ax, (name, raster) in zip(axes, rasters.items(), strict=True):
        t, i = np.nonzero(raster)
        ax.scatter(t, i, s=1.5, c="k", marker="|" if raster.shape[1] < 40 else ".")
        ax.set_ylabel(f"{name}\nneuron", fontsize=8)
        ax.set_ylim(-0.5, raster.shape[1] - 0.5)
        integer_ticks(ax.yaxis)
    integer_ticks(axes[-1].xaxis)
    axes[-1].set_xlabel("time step")
    fig.suptitle(f"spikes of {split} sample 0, every layer (fixed point, CPU backend)", fontsize=10)
    return fig


def accuracy_figure(accuracy: dict) -> Figure:
    stages = [(k, accuracy[k]) for k in ("float", "quantized", "fixed_cpu", "lava") if accuracy.get(k) is not None]
    fig = Figure(figsize=(5.5, 3.0), layout="constrained")
    ax = fig.subplots()
    labels = {
        "float": "float",
        "quantized": "quantized\n(torch chip)",
        "fixed_cpu": "fixed point\n(CPU)",
        "lava": f"Lava\n(first {accuracy['lava_samples']})",
    }
    bars = ax.bar([labels[k] for k, _ in stages], [100 * v for _, v in stages], color=POPULATION_COLORS[: len(stages)])
    ax.bar_label(bars, fmt="%.2f", fontsize=8)
    low = 100 * min(v for _, v in stages)
    ax.set(ylabel="test accuracy (%)", ylim=(max(0, low - 10), 100), title="accuracy at each precision")
    ax.tick_params(axis="x", labelsize=8)
    return fig
