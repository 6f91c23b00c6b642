"""The RSNN: input spikes -> recurrent layers (SC-ML or a baseline) -> LIF readout.

Prediction rule, shared by every backend: the class whose readout neuron spiked most; ties
go to the lowest class index (``argmax`` returns the first maximum, in numpy and torch).
"""

from __future__ import annotations

import torch
from torch import nn

from neuromotif.deploy.ir import predict  # noqa: F401 (the one prediction rule, used by search as model.predict)
from neuromotif.deploy.quantize import DEFAULT_MAX_PROFILES
from neuromotif.hw_models import load_chip
from neuromotif.hw_models.chip import DEFAULT_CHIP, NumericFormat
from neuromotif.search.arch import ArchSpec, LayerSpec
from neuromotif.search.baselines import DenseRecurrentLayer, FeedForwardLayer
from neuromotif.search.layers import PRECISIONS, LIFLayer
from neuromotif.search.scml import SCMLLayer

INPUT_SCALE = 3.0  # initial input weight std x sqrt(fan-in), in threshold units
READOUT_SCALE = 3.0


def make_layer(n_in: int, spec: LayerSpec, gen: torch.Generator) -> LIFLayer:
    if spec.kind == "scml":
        return SCMLLayer(n_in, spec, gen, INPUT_SCALE)
    if spec.kind == "dense":
        return DenseRecurrentLayer(n_in, spec, gen, INPUT_SCALE)
    return FeedForwardLayer(n_in, spec.neurons, spec.neuron, gen, INPUT_SCALE)


class RSNN(nn.Module):
    """``numeric`` and ``max_profiles``: the compile target the ``chip`` precision reproduces
    bit for bit (default: the default chip's format and 4 decay profiles per population)."""

    def __init__(
        self,
        arch: ArchSpec,
        seed: int = 0,
        numeric: NumericFormat | None = None,
        max_profiles: int = DEFAULT_MAX_PROFILES,
    ):
        super().__init__()
        self.arch = arch
        self.numeric = numeric or load_chip(DEFAULT_CHIP).numeric
        self.max_profiles = max_profiles
        gen = torch.Generator().manual_seed(seed)
        layers, n_in = [], arch.inputs
        for spec in arch.layers:
            layers.append(make_layer(n_in, spec, gen))
            n_in = spec.neurons
        self.layers = nn.ModuleList(layers)
        self.readout = FeedForwardLayer(n_in, arch.classes, arch.readout, gen, READOUT_SCALE)
        self.set_target(self.numeric, max_profiles)

    def set_target(self, numeric: NumericFormat, max_profiles: int) -> None:
        """Make the ``chip`` precision reproduce a bundle compiled for ``numeric`` / ``max_profiles``."""
        self.numeric, self.max_profiles = numeric, max_profiles
        for layer in self.populations():
            layer.numeric, layer.max_profiles = numeric, max_profiles

    def set_precision(self, precision: str) -> None:
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}")
        for layer in self.populations():
            layer.precision = precision

    def populations(self) -> list[LIFLayer]:
        return [*self.layers, self.readout]

    def forward(self, x: torch.Tensor, record: bool = False) -> dict[str, torch.Tensor | list]:
        """``x`` [B, T, inputs] -> ``counts`` [B, classes]; with ``record``, every layer's spikes and v."""
        trace = []
        h = x
        for layer in self.populations():
            out = layer(h, record_v=record)
            h = out["spikes"]
            trace.append(out)
        result: dict[str, torch.Tensor | list] = {"counts": h.sum(1), "rates": [o["spikes"].mean() for o in trace]}
        if record:
            result["trace"] = trace
        return result
