"""Baselines at equal neuron count: a fully connected recurrent layer and a feed-forward layer.

(SC-ML with a random topology is an ``SCMLLayer`` built from ``arch.random_motif``.)
"""

from __future__ import annotations

import torch
from torch import nn

from neuromotif.search.arch import LayerSpec
from neuromotif.search.layers import LIFLayer


class DenseRecurrentLayer(LIFLayer):
    """Fully connected recurrence, free signs: the RSNN without motifs or search."""

    kind = "dense"

    def __init__(
        self, n_in: int, spec: LayerSpec, generator: torch.Generator, in_scale: float = 1.0, rec_scale: float = 0.5
    ):
        super().__init__(n_in, spec.neurons, spec.neuron, generator, in_scale)
        self.w_rec = nn.Parameter(torch.randn(self.n, self.n, generator=generator) * (rec_scale / self.n**0.5))

    def recurrent_weights(self) -> torch.Tensor:
        return self.w_rec

    def recurrent_current(self, s: torch.Tensor, rec: torch.Tensor) -> torch.Tensor:
        return s @ rec.T


class FeedForwardLayer(LIFLayer):
    """No recurrence: the LIF's own leaky integration is its only memory."""

    kind = "feedforward"  # population names: the model kind and its index (feedforward0)
