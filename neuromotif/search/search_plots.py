"""Plots of a search: the motif's type probabilities (heat maps), size probabilities and
accuracy over iterations."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from neuromotif.core.plotting import save_figure
from neuromotif.hw_models.plots import WIDTH, integer_ticks, legend_outside


def plot_search(net, history: list[dict], out: Path) -> list[Path]:
    layer = net.layers[0]
    i = int(np.argmax(layer.size_probabilities().detach().cpu().numpy()))
    m = layer.sizes[i]
    p = layer.type_probabilities(i).detach().cpu().numpy()  # [m, 3m, 3]
    fig = Figure(figsize=(WIDTH, 2.9), layout="constrained")
    axes = fig.subplots(1, 3)
    for ax, k, name in zip(axes, range(3), ("excitatory", "inhibitory", "absent"), strict=True):
        im = ax.imshow(p[..., k], vmin=0, vmax=1, cmap="viridis", aspect="auto")
        ax.axvline(m - 0.5, color="w", lw=0.8)
        ax.axvline(2 * m - 0.5, color="w", lw=0.8)
        ax.set(title=f"P({name}), m = {m}", xlabel="pre: motif k-1 | k | k+1", ylabel="post neuron")
        ax.title.set_fontsize(9)
    fig.colorbar(im, ax=axes.tolist(), shrink=0.8, label="probability")
    paths = [save_figure(fig, out / "motif_types.png")]
    its = [h["iteration"] for h in history]
    fig = Figure(figsize=(WIDTH, 3.2), layout="constrained")
    a, b = fig.subplots(1, 2)
    for size in history[0]["size_probabilities"] if history else []:
        a.plot(its, [h["size_probabilities"][size] for h in history], marker="o", label=f"m = {size}")
    a.set(xlabel="iteration", ylabel="probability", title="motif size", ylim=(0, 1))
    integer_ticks(a.xaxis)
    legend_outside(a)
    b.plot(its, [h["val_accuracy"] for h in history], marker="o")
    b.set(xlabel="iteration", ylabel="validation accuracy", title="supernet accuracy", ylim=(0, 1))
    integer_ticks(b.xaxis)
    paths.append(save_figure(fig, out / "search_history.png"))
    return paths
