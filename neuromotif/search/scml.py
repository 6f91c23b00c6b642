"""SC-ML: a Sparsely-Connected Recurrent Motif Layer.

K = N / m motifs share one topology: the m x m type matrix ``intra`` (E = +|w|, I = -|w|,
absent = 0) inside each motif, and ``inter_prev`` / ``inter_next`` from the ring neighbours
k-1 and k+1. Magnitudes are per synapse. The recurrent weights are stored as K blocks of
m x 3m ([from k-1 | from k | from k+1]) and applied with one batched product per step, so
memory and time grow with N * m; no N x N matrix is ever built (``recurrent_matrix`` builds a
sparse one for the compiler and tests).

Inside the layer the state is motif-major, [K, B, m], so each step is one batched matmul
with no transposes; ``MotifRecurrence`` saves only the spikes for backward and rebuilds the
neighbour tensor there, so the layer's memory per step is that of its spikes, as in a dense layer.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

from neuromotif.hw_models import motifs
from neuromotif.search.arch import LayerSpec
from neuromotif.search.layers import LIFLayer


def block_signs(spec: LayerSpec) -> np.ndarray:
    """Signs [m, 3m] = [from k-1 | intra | from k+1]; with 1 motif no neighbours, with 2 only one."""
    k = spec.motifs
    prev = spec.inter_prev if k > 1 else np.zeros_like(spec.intra)
    nxt = spec.inter_next if k > 2 else np.zeros_like(spec.intra)
    return np.concatenate([prev, spec.intra, nxt], axis=1).astype(np.float32)


def neighbours(s: torch.Tensor) -> torch.Tensor:
    """[K, B, m] spikes -> [K, B, 3m]: each motif's ring neighbours k-1, itself, k+1."""
    return torch.cat([s.roll(1, 0), s, s.roll(-1, 0)], dim=2)


class MotifRecurrence(torch.autograd.Function):
    """a[k] = W[k] @ [s[k-1]; s[k]; s[k+1]] for every motif, batched; weights stored [K, 3m, m]."""

    @staticmethod
    def forward(ctx, s: torch.Tensor, w_t: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(s, w_t)
        return torch.bmm(neighbours(s), w_t)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        s, w_t = ctx.saved_tensors
        m = s.shape[2]
        grad_w = torch.bmm(neighbours(s).transpose(1, 2), grad) if ctx.needs_input_grad[1] else None
        grad_s = None
        if ctx.needs_input_grad[0]:
            g = torch.bmm(grad, w_t.transpose(1, 2))  # [K, B, 3m]
            grad_s = g[:, :, m : 2 * m] + g[:, :, :m].roll(-1, 0) + g[:, :, 2 * m :].roll(1, 0)
        return grad_s, grad_w


class SCMLLayer(LIFLayer):
    kind = "scml"
    signs: torch.Tensor  # buffer

    def __init__(
        self, n_in: int, spec: LayerSpec, generator: torch.Generator, in_scale: float = 1.0, rec_scale: float = 0.5
    ):
        super().__init__(n_in, spec.neurons, spec.neuron, generator, in_scale)
        self.motif_size, self.motifs = spec.motif_size, spec.motifs
        signs = torch.from_numpy(block_signs(spec))
        self.register_buffer("signs", signs)
        fan_in = max(float(signs.abs().sum(1).mean()), 1.0)
        self.w_rec = nn.Parameter(
            torch.rand(self.motifs, self.motif_size, 3 * self.motif_size, generator=generator)
            * (rec_scale / fan_in**0.5)
        )

    def recurrent_weights(self) -> torch.Tensor:
        return self.signs * self.w_rec.abs()  # [K, m, 3m]

    def _gain_shape(self, rec: torch.Tensor) -> tuple[int, ...]:
        return (self.motifs, self.motif_size, 1)

    def recurrent_current(self, s: torch.Tensor, rec: torch.Tensor) -> torch.Tensor:
        """``s`` [K, B, m] (state layout) -> recurrent input [K, B, m]; ``rec`` [K, m, 3m]."""
        return MotifRecurrence.apply(s, rec.transpose(1, 2))

    def to_layout(self, drive: torch.Tensor) -> torch.Tensor:
        b, t, _ = drive.shape
        return drive.view(b, t, self.motifs, self.motif_size).permute(1, 2, 0, 3).contiguous()  # [T, K, B, m]

    def from_layout(self, stacked: torch.Tensor) -> torch.Tensor:
        t, k, b, m = stacked.shape
        return stacked.permute(2, 0, 1, 3).reshape(b, t, k * m)

    def neuron_shape(self) -> tuple[int, ...]:
        return (self.motifs, 1, self.motif_size)

    def recurrent_matrix(self, rec: torch.Tensor | None = None) -> sp.csr_matrix:
        """The (post x pre) N x N recurrent matrix as scipy sparse (zeros dropped)."""
        return blocks_to_csr((self.recurrent_weights() if rec is None else rec).detach().cpu().numpy())


blocks_to_csr = motifs.blocks_to_csr  # motif blocks [K, m, 3m] -> N x N CSR (hw_models/motifs.py)
