"""The neuron model in torch: the chip's LIF step (``hw_models.neurons.lif.step``, written once)
run by torch ops in two precisions.

- ``FloatOps``: float dynamics, no rounding, no wrap, no saturation; the spike's derivative is
  a fast-sigmoid surrogate; the reset is not differentiated (a common, stabilising choice).
- ``ChipOps``: the chip's integer dynamics on float64 state in fixed units (every value an
  integer below 2^53, so exact): Lava's truncation toward zero, the int32 and u_bits wrap of u,
  the saturation of v; gradients pass straight through every rounding (QAT trains in it).
"""

from __future__ import annotations

import torch

from neuromotif.hw_models import formats

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


def straight_through(value: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """Forward exactly ``value``; backward identity to ``like`` (``like - like.detach()`` is 0)."""
    return value + (like - like.detach())


def chip_trunc(x: torch.Tensor) -> torch.Tensor:
    """Truncation toward zero (Lava's ``sign(x) * (|x| >> 12)``), straight-through gradient."""
    return straight_through(torch.trunc(x.detach()), x)


class FloatOps:
    """Float precision: ``x * keep + terms`` (one fused kernel for the first term)."""

    @staticmethod
    def leak_add(x: torch.Tensor, keep: torch.Tensor, *terms: torch.Tensor) -> torch.Tensor:
        out = torch.addcmul(terms[0], x, keep)
        for term in terms[1:]:
            out = out + term
        return out

    @staticmethod
    def wrap(u: torch.Tensor, limit: float | None, int32: bool) -> torch.Tensor:
        return u

    @staticmethod
    def saturate(v: torch.Tensor, limit: float | None) -> torch.Tensor:
        return v

    @staticmethod
    def fire(v: torch.Tensor, vth: float) -> torch.Tensor:
        return spike(v - vth)

    @staticmethod
    def reset(v: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        return v.masked_fill(s.detach() > 0, 0.0)


class ChipOps:
    """Chip precision in fixed units (the same five operations as ``FloatOps``; limits are never
    None). ``unit``: fixed units per threshold unit (the surrogate
    sees v - vth in threshold units); ``stats``: when a dict, u and v peaks (fixed units) are
    recorded before the wrap / saturation (the compiler's overflow prediction reads them)."""

    def __init__(self, unit: float, stats: dict[str, float] | None = None):
        self.unit, self.stats = unit, stats

    def _record(self, key: str, x: torch.Tensor) -> None:
        if self.stats is not None:
            self.stats[key] = max(self.stats.get(key, 0.0), float(x.detach().abs().max()))

    def leak_add(self, x: torch.Tensor, keep: torch.Tensor, *terms: torch.Tensor) -> torch.Tensor:
        out = chip_trunc(x * keep)
        for term in terms:
            out = out + term
        return out

    def wrap(self, u: torch.Tensor, limit: float, int32: bool) -> torch.Tensor:
        self._record("u_max_abs", u)
        big = formats.INT32
        if int32 and bool((u.detach().abs() >= big).any()):  # Lava adds into int32: wrap like it
            u = u - (2 * big) * torch.floor((u.detach() + big) / (2 * big))
        wrap = (u.detach() > limit).double() - (u.detach() <= -limit).double()
        return u - (2 * limit) * wrap

    def saturate(self, v: torch.Tensor, limit: float) -> torch.Tensor:
        self._record("v_max_abs", v)
        return torch.clamp(v, -limit, limit)

    def fire(self, v: torch.Tensor, vth: float) -> torch.Tensor:
        return spike((v - vth) / self.unit)  # forward: v > vth exactly (division by a power of two)

    reset = staticmethod(FloatOps.reset)
