"""Where do float, quantized and fixed point part ways? Per layer, on the same samples.

For each LIF population: spike agreement (fraction of (sample, step, neuron) entries equal),
membrane RMS error in threshold units (fixed-point v / (64 * scale)), and the first step at
which any spike differs. Float and quantized come from the torch model, fixed point from the
CPU backend (identical to Lava).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from deploy.backends.cpu import CPUBackend
from deploy.bundle import Bundle
from search.model import RSNN


def _first_divergence(a: np.ndarray, b: np.ndarray) -> int | None:
    differs = (a != b).reshape(a.shape[0], a.shape[1], -1).any(axis=(0, 2))
    return int(np.argmax(differs)) if differs.any() else None


@torch.no_grad()
def divergence(model: RSNN, bundle: Bundle, x: np.ndarray) -> dict[str, Any]:
    names = [p.name for p in bundle.lif_populations]
    traces = {}
    for precision in ("float", "quantized"):
        model.set_precision(precision)
        out = model(torch.from_numpy(x).float(), record=True)
        traces[precision] = [(o["spikes"].numpy(), o["v"].numpy()) for o in out["trace"]]
    model.set_precision("float")
    fixed = CPUBackend(bundle).run(x, record=tuple(names), record_v=True)
    layers = {}
    for i, name in enumerate(names):
        pop = bundle.population(name)
        fx_s = fixed.spikes[name]
        fx_v = fixed.voltages[name] / (64.0 * pop.scale)
        row: dict[str, Any] = {}
        for precision in ("float", "quantized"):
            s, v = traces[precision][i]
            row[f"{precision}_vs_fixed_spike_agreement"] = float((s == fx_s).mean())
            row[f"{precision}_vs_fixed_v_rms"] = float(np.sqrt(((v - fx_v) ** 2).mean()))
            row[f"{precision}_vs_fixed_first_diverging_step"] = _first_divergence(s, fx_s)
        row["float_vs_quantized_spike_agreement"] = float((traces["float"][i][0] == traces["quantized"][i][0]).mean())
        layers[name] = row
    overall = float(np.mean([r["float_vs_fixed_spike_agreement"] for r in layers.values()]))
    return {"samples": int(len(x)), "layers": layers, "float_vs_fixed_spike_agreement": overall}
