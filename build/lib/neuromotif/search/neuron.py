"""The one neuron model: discrete current-based LIF, as Loihi / Lava's LIF (DESIGN.md).

Per step, for every neuron::

    u[t] = u[t-1] * (1 - du) + a[t]          # a[t] arrives one step after the spikes that caused it
    v[t] = v[t-1] * (1 - dv) + u[t] + bias
    s[t] = v[t] > vth ;  v[t] = 0 where s[t]  # strict >, reset to zero, no refractory period

The spike's derivative is replaced by a fast-sigmoid surrogate for training. The reset is
not differentiated (a common, stabilising choice). ``quantized`` precision rounds du, dv,
vth and bias to what the chip holds (``hw_models.formats``); weights are quantized by the
layers that own them.
"""
from __future__ import annotations

import torch

SURROGATE_SLOPE = 10.0


class SpikeFn(torch.autograd.Function):
    """Heaviside(v - vth) forward; 1 / (1 + k|v - vth|)^2 backward (fast sigmoid)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:  # x = v - vth
        ctx.save_for_backward(x)
        return (x > 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        (x,) = ctx.saved_tensors
        return grad / (1 + SURROGATE_SLOPE * x.abs()) ** 2


spike = SpikeFn.apply


def lif_step(u: torch.Tensor, v: torch.Tensor, a: torch.Tensor, keep_u: torch.Tensor, keep_v: torch.Tensor,
             vth: float, bias: torch.Tensor | None = None) -> tuple[torch.Tensor, ...]:
    """One step of the LIF; returns (u, v, s). ``keep_u = 1 - du`` and ``keep_v = 1 - dv`` are
    computed once per sequence by the caller (fewer kernels per step)."""
    u = torch.addcmul(a, u, keep_u)
    v = torch.addcmul(u, v, keep_v)
    if bias is not None:
        v = v + bias
    s = spike(v - vth)
    v = v.masked_fill(s.detach() > 0, 0.0)
    return u, v, s
