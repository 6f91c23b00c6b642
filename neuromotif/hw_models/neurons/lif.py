"""The Loihi current-based LIF, written once for every precision.

Per step, for every neuron (what Lava's bit-accurate ``PyLifModelBitAcc`` computes, and what
the float model computes without the rounding)::

    u = trunc(u * keep_u) + a          # keep_u = (2^12 - (du + 1)) / 2^12, a = (W s << e) << 6
    u wraps into int32 (Lava adds into int32), then at +-2^(u_bits - 1)
    v = trunc(v * keep_v) + u + bias   # keep_v = (2^12 - dv) / 2^12, bias = bias_mant << bias_exp
    v = clip(v, -(2^(v_bits - 1) - 1), 2^(v_bits - 1) - 1)
    s = v > vth << 6 ;  v = 0 where s  # strict >, reset to zero, no refractory period

``step`` is that sequence; an ``ops`` object says how each operation runs on its arrays:
``NumpyFixedOps`` (in place, float64 holding integers: exact below 2^53) for the CPU backend,
the torch ops in ``neuromotif.search.neuron`` for the float and bit-exact ``chip`` precisions.
In float precision ``trunc`` is the identity and nothing wraps or saturates, so the float model
is this same code without the integer rounding. Every constant comes from ``formats`` (Lava's
arithmetic) or the chip's ``NumericFormat``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from typing import Any, Protocol

import numpy as np

from neuromotif.hw_models import formats
from neuromotif.hw_models.chip import NumericFormat

KIND = "lif"
FIXED_FIELDS = ("du", "dv", "bias_mant", "bias_exp")  # per-neuron integer fields a bundle stores


@dataclass
class LIFParams:
    """What one step needs, as arrays broadcastable against the state (or plain floats).

    ``u_limit`` / ``v_limit`` None: no wrap, no saturation (float precision). ``bias`` None: no bias."""

    keep_u: Any
    keep_v: Any
    bias: Any
    vth: Any  # a float; per neuron (an array) when populations are stepped together
    u_limit: float | None = None
    v_limit: float | None = None

    def map(self, fn: Callable[[Any], Any]) -> LIFParams:
        """The same parameters with ``fn`` applied to each per-neuron array (reshape, to a tensor)."""
        return replace(
            self,
            **{
                f.name: fn(getattr(self, f.name))
                for f in fields(self)
                if f.name in ("keep_u", "keep_v", "bias") and getattr(self, f.name) is not None
            },
        )


def keep_factors(du: Any, dv: Any) -> tuple[Any, Any]:
    """Exact decay factors of Lava's 12-bit decays: u keeps (4096 - (du + 1)) / 4096 (Lava's +1),
    v keeps (4096 - dv) / 4096 (numpy or torch, float64)."""
    one = formats.DECAY_ONE
    return (one - (du + 1)) / one, (one - dv) / one


def fixed_params(
    du: np.ndarray, dv: np.ndarray, bias_mant: np.ndarray, bias_exp: np.ndarray, vth: int, fmt: NumericFormat
) -> LIFParams:
    """A compiled population's integer fields -> the step's parameters in fixed units (numpy)."""
    keep_u, keep_v = keep_factors(np.asarray(du, np.float64), np.asarray(dv, np.float64))
    bias = (np.asarray(bias_mant, np.int64) << np.asarray(bias_exp, np.int64)).astype(np.float64)
    return LIFParams(
        keep_u, keep_v, bias, formats.fixed_threshold(vth), float(formats.u_limit(fmt)), float(formats.v_limit(fmt))
    )


def int32_possible(max_current: float, fmt: NumericFormat) -> bool:
    """Can u + a leave int32 (where Lava's addition wraps)? Only for absurd weights: decided once,
    from the largest input current a population can receive (fixed units)."""
    return formats.u_limit(fmt) + max_current >= formats.INT32


def unreachable_limits_dropped(p: LIFParams, max_current: float) -> LIFParams:
    """``p`` with ``u_limit`` / ``v_limit`` set to None where no input can reach them, so a backend
    skips the wrap / saturation checks (four reductions per step) without changing a bit.

    Why it is exact: ``trunc`` never increases a magnitude, so with ``A`` the largest input current
    a neuron can receive (fixed units) and ``k`` its u decay factor, ``|u_t| <= k |u_{t-1}| + A``
    gives ``|u_t| < A / (1 - k)`` for every t (k < 1 always: Lava's du + 1). u never wraps if
    that is at most the limit; then likewise ``|v_t| < (U + |bias|) / (1 - k_v)`` with U the bound
    of u, when every v decays (k_v < 1; without decay a negative v is unbounded: kept). The bound
    takes each population's slowest decay and largest bias; a small margin covers float rounding."""
    margin = 1.0 + 1e-9
    k_u = float(np.max(p.keep_u))
    u_bound = margin * max_current / (1.0 - k_u)
    dropped: dict[str, None] = {}
    if p.u_limit is not None and u_bound <= p.u_limit:
        dropped["u_limit"] = None
        k_v = float(np.max(p.keep_v))
        bias = float(np.max(np.abs(p.bias))) if p.bias is not None else 0.0
        if p.v_limit is not None and k_v < 1.0 and margin * (u_bound + bias) / (1.0 - k_v) <= p.v_limit:
            dropped["v_limit"] = None
    return replace(p, **dropped)


def concat_params(ps: list[LIFParams], sizes: list[int]) -> LIFParams:
    """Several populations' parameters as one population's (numpy, per-neuron arrays on the last
    axis), so a backend steps them all with one call per operation. The threshold becomes a
    per-neuron array; a limit stays unless every population dropped it (one numeric format per
    bundle, so the limits kept are equal)."""

    def cat(name: str, fill: float) -> np.ndarray:
        return np.concatenate(
            [
                np.broadcast_to(
                    np.asarray(getattr(p, name) if getattr(p, name) is not None else fill, np.float64),
                    (*np.shape(p.keep_u)[:-1], n),
                )
                for p, n in zip(ps, sizes, strict=True)
            ],
            axis=-1,
        )

    def limit(name: str) -> float | None:
        kept = {getattr(p, name) for p in ps} - {None}
        return max(kept) if kept else None

    biased = any(p.bias is not None for p in ps)
    return LIFParams(
        cat("keep_u", 1.0),
        cat("keep_v", 1.0),
        cat("bias", 0.0) if biased else None,
        cat("vth", 0.0),
        limit("u_limit"),
        limit("v_limit"),
    )


class Ops(Protocol):
    """How one precision runs the step's operations on its arrays."""

    def leak_add(self, x: Any, keep: Any, *terms: Any) -> Any: ...
    def wrap(self, u: Any, limit: float | None, int32: bool) -> Any: ...
    def saturate(self, v: Any, limit: float | None) -> Any: ...
    def fire(self, v: Any, vth: float) -> Any: ...
    def reset(self, v: Any, s: Any) -> Any: ...


def step(ops: Ops, u: Any, v: Any, a: Any, p: LIFParams, int32: bool = False) -> tuple[Any, Any, Any]:
    """One LIF step (module docstring); returns (u, v, s). ``int32``: u may leave int32."""
    u = ops.wrap(ops.leak_add(u, p.keep_u, a), p.u_limit, int32)
    v = ops.leak_add(v, p.keep_v, u) if p.bias is None else ops.leak_add(v, p.keep_v, u, p.bias)
    v = ops.saturate(v, p.v_limit)
    s = ops.fire(v, p.vth)
    return u, ops.reset(v, s), s


class NumpyFixedOps:
    """In place on float64 arrays holding integers: the CPU backend's state. The wrap and the
    saturation are rare, so each is first checked by two reductions."""

    @staticmethod
    def leak_add(x: np.ndarray, keep: Any, *terms: Any) -> np.ndarray:
        np.multiply(x, keep, out=x)
        np.trunc(x, out=x)  # Lava's sign(x) * (|x * k| >> 12), exact: x * k is exact in float64
        for term in terms:
            x += term
        return x

    @staticmethod
    def wrap(u: np.ndarray, limit: float | None, int32: bool) -> np.ndarray:
        if limit is None:
            return u
        if int32 and np.abs(u).max(initial=0) >= formats.INT32:  # Lava adds into int32: wrap like it
            u[...] = ((u + formats.INT32) % (2 * formats.INT32)) - formats.INT32
        if u.size and (u.max() > limit or u.min() <= -limit):
            u[u > limit] -= 2 * limit
            u[u <= -limit] += 2 * limit
        return u

    @staticmethod
    def saturate(v: np.ndarray, limit: float | None) -> np.ndarray:
        if limit is not None and v.size and (v.max() > limit or v.min() < -limit):
            np.clip(v, -limit, limit, out=v)
        return v

    @staticmethod
    def fire(v: np.ndarray, vth: float) -> np.ndarray:
        return v > vth

    @staticmethod
    def reset(v: np.ndarray, s: np.ndarray) -> np.ndarray:
        # v x (not s): 4-5x faster than a masked copy (np.copyto where=s); a reset negative v
        # becomes -0.0, which equals 0 in every comparison and conversion the backends make
        np.multiply(v, ~s, out=v)
        return v
