"""How synchronously a population fires: the deployed network's rasters reduced to three numbers.

A population whose neurons fire together on alternate steps (a synchronous burst) costs synaptic
events and energy without carrying more information than an asynchronous one at the same rate.
Per population, over every simulated sample:

- ``burst_fraction``: share of (sample, step) pairs on which more than half of the population fires;
- ``fano``: Fano factor var / mean of the population spike count over the steps of a sample
  (about 1 - rate for independent neurons, >> 1 for bursts), averaged over samples that spike;
- ``chi``: Golomb's synchrony measure, sqrt(var_t(population mean) / mean_i var_t(s_i)) per
  sample, averaged (1: all neurons fire together; about 1 / sqrt(n) when independent).
"""

from __future__ import annotations

import numpy as np


class Synchrony:
    """Accumulates the measures over chunks of samples, per population."""

    def __init__(self) -> None:
        self._sums: dict[str, dict[str, float]] = {}

    def add(self, name: str, raster: np.ndarray) -> None:
        """``raster`` [B, T, n] 0/1 spikes of one population."""
        b, _, n = raster.shape
        count = raster.sum(-1, dtype=np.float64)  # [B, T]
        mean = count.mean(1)
        fano = np.divide(count.var(1), mean, out=np.zeros(b), where=mean > 0)
        # a 0/1 train's variance over time is p (1 - p), p its rate: no float copy of the raster
        rate = raster.mean(1, dtype=np.float64)  # [B, n]
        neuron_var = (rate * (1 - rate)).mean(-1)  # [B]: mean over neurons of var over time
        chi2 = np.divide((count / n).var(1), neuron_var, out=np.zeros(b), where=neuron_var > 0)
        acc = self._sums.setdefault(name, dict.fromkeys(("bursts", "pairs", "fano", "chi", "spiking", "varied"), 0.0))
        acc["bursts"] += float((count > n / 2).sum())
        acc["pairs"] += float(count.size)
        acc["fano"] += float(fano[mean > 0].sum())
        acc["spiking"] += float((mean > 0).sum())
        acc["chi"] += float(np.sqrt(chi2[neuron_var > 0]).sum())
        acc["varied"] += float((neuron_var > 0).sum())

    def result(self) -> dict[str, dict[str, float | None]]:
        return {
            name: {
                "burst_fraction": a["bursts"] / a["pairs"] if a["pairs"] else None,
                "fano": a["fano"] / a["spiking"] if a["spiking"] else None,
                "chi": a["chi"] / a["varied"] if a["varied"] else None,
            }
            for name, a in self._sums.items()
        }
