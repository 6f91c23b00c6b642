"""Where do float, quantized and fixed point part ways? Per layer, on the same samples.

For each LIF population: spike agreement (fraction of (sample, step, neuron) entries equal),
membrane RMS error in threshold units (fixed-point v / ``formats.fixed_unit(scale)``), and the first step at
which any spike differs. The float traces come from whoever ran the float model (the app
layer runs torch); this module only compares arrays, so it needs no torch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neuromotif.deploy.backends import SimResult
from neuromotif.deploy.bundle import Bundle
from neuromotif.hw_models import formats

Trace = tuple[np.ndarray, np.ndarray]  # spikes [B, T, n] (0/1), v [B, T, n] in threshold units


def spike_mismatches(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> int:
    """Number of (sample, step, neuron) entries that differ, over the populations both recorded."""
    return int(sum((a[k] != b[k]).sum() for k in a.keys() & b.keys()))


def first_divergence(a: np.ndarray, b: np.ndarray) -> int | None:
    """The first step at which any spike of any sample differs (None: never)."""
    differs = (a != b).reshape(a.shape[0], a.shape[1], -1).any(axis=(0, 2))
    return int(np.argmax(differs)) if differs.any() else None


def divergence(traces: dict[str, dict[str, Trace]], bundle: Bundle, fixed: SimResult) -> dict[str, Any]:
    """Compare each precision's per-population ``traces`` with the fixed-point run ``fixed``
    (a CPU backend result with ``record_v``). ``traces``: precision -> population -> (spikes, v)."""
    layers = {}
    precisions = list(traces)
    for pop in bundle.neuron_populations:
        fx_s = fixed.spikes[pop.name]
        fx_v = fixed.voltages[pop.name] / formats.fixed_unit(pop.scale)
        row: dict[str, Any] = {}
        for precision in precisions:
            s, v = traces[precision][pop.name]
            row[f"{precision}_vs_fixed_spike_agreement"] = float((s == fx_s).mean())
            row[f"{precision}_vs_fixed_v_rms"] = float(np.sqrt(((v - fx_v) ** 2).mean()))
            row[f"{precision}_vs_fixed_first_diverging_step"] = first_divergence(s, fx_s)
        if {"float", "quantized"} <= set(precisions):
            row["float_vs_quantized_spike_agreement"] = float(
                (traces["float"][pop.name][0] == traces["quantized"][pop.name][0]).mean()
            )
        layers[pop.name] = row
    overall = (
        float(np.mean([r["float_vs_fixed_spike_agreement"] for r in layers.values()]))
        if "float" in precisions
        else None
    )
    return {"samples": int(fixed.samples), "layers": layers, "float_vs_fixed_spike_agreement": overall}
