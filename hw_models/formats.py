"""Float <-> Loihi fixed point: the rounding rules, defined once.

The same functions run on numpy arrays (the compiler) and torch tensors (quantization-aware
training): they use only operators and the ``.round()`` / ``.clip()`` methods both share
(both round half to even). Scalars go through numpy.

Float model (DESIGN.md), in *threshold units*:  u += a;  v += u;  spike when v > vth.
Fixed point (Lava bit-accurate LIF): u_fx += a_in << 6;  spike when v_fx > vth_int << 6.
With a per-population scale ``S`` (fixed units per float unit):
  vth_int = round(vth * S);  weight w -> integer 2 * w8 * 2**e (w8 in [-128, 127], mixed sign
  loses its lowest bit in Lava, so weights are stored even) with a_in = sum(w_int * s), e >= 0;
  bias -> bias_mant << bias_exp = round(bias * S * 64);  du -> round(du * 4096) - 1 (Lava
  decays u by (du + 1) / 4096);  dv -> round(dv * 4096).
Choosing ``S`` a power of two at least ``254 / max|w|`` keeps every weight exponent >= 0, so
the exponent is an exact multiplication (no floor of negative sums) and the quantized float
model sees exactly the integer weights.
"""
from __future__ import annotations

import math
from typing import Any, TypeVar

import numpy as np

Array = TypeVar("Array")

DECAY_ONE = 4096          # 12-bit decays: d / 4096
DECAY_MAX = 4095
W8_MIN, W8_MAX = -128, 127  # stored mixed-sign weight = 2 * w8
STATE_SHIFT = 6           # a_in << 6, vth << 6, 64 bias units = 1 weight unit
VTH_MAX = 2**17 - 1
BIAS_MANT_MAX = 2**12 - 1  # 13-bit signed mantissa
BIAS_EXP_MAX = 7           # 3-bit exponent
WEIGHT_EXP_MIN, WEIGHT_EXP_MAX = -8, 7
MIN_SCALE = 2**10


def population_scale(max_abs_weight: float, vth: float = 1.0) -> int:
    """Fixed units per float unit for one population: a power of two >= 1024 and >= 254/max|w|,
    so weight exponents are never negative; limited so that vth fits 17 bits."""
    need = 254.0 / max_abs_weight if max_abs_weight > 0 else MIN_SCALE
    scale = max(MIN_SCALE, 2 ** math.ceil(math.log2(need)))
    limit = 2 ** math.floor(math.log2(VTH_MAX / vth))
    return int(min(scale, limit))


def weight_exponent(max_abs_weight: float, scale: float) -> int:
    """Smallest exponent e in [0, 7] with max|w| * scale / 2**(e+1) <= 127 (mantissa range)."""
    if max_abs_weight <= 0:
        return 0
    e = math.ceil(math.log2(max_abs_weight * scale / W8_MAX)) - 1
    return int(min(max(e, 0), WEIGHT_EXP_MAX))


def choose_exponent(w: Array, scale: float) -> int:
    """The weight exponent with the least squared rounding + clipping error: the smallest that
    avoids clipping, or up to two below it when clipping a few outliers buys finer steps.
    Works on numpy arrays and torch tensors alike (the compiler and QAT agree)."""
    count = w.numel() if hasattr(w, "numel") else np.size(w)
    if count == 0:
        return 0
    top = weight_exponent(float(abs(w).max()), scale)
    best, best_err = top, None
    for e in range(top, max(top - 2, 0) - 1, -1):
        err = float(((quantize_weight(w, scale, e) - w) ** 2).sum())
        if best_err is None or err < best_err:
            best, best_err = e, err
    return best


def weight_mantissa(w: Array, scale: float, exponent: int) -> Array:
    """w8 = round(w * scale / 2**(e+1)) clipped to [-128, 127] (float-valued, integral)."""
    return (w * (scale / 2 ** (exponent + 1))).round().clip(W8_MIN, W8_MAX)


def quantize_weight(w: Array, scale: float, exponent: int) -> Array:
    """The float weight the chip realises: 2 * w8 * 2**e / scale."""
    return weight_mantissa(w, scale, exponent) * (2 ** (exponent + 1) / scale)


def du_to_int(du: Any) -> Any:
    """Current decay fraction -> Lava du (decay by (du + 1) / 4096); min leak is 1/4096."""
    return (du * DECAY_ONE).round().clip(1, DECAY_ONE) - 1


def dv_to_int(dv: Any) -> Any:
    return (dv * DECAY_ONE).round().clip(0, DECAY_MAX)


def quantize_du(du: Any) -> Any:
    return (du_to_int(du) + 1) / DECAY_ONE


def quantize_dv(dv: Any) -> Any:
    return dv_to_int(dv) / DECAY_ONE


def vth_to_int(vth: float, scale: float) -> int:
    value = int(np.round(vth * scale))
    if not 0 <= value <= VTH_MAX:
        raise ValueError(f"threshold {vth} x scale {scale} = {value} does not fit 17 bits")
    return value


def bias_to_fixed(bias: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-neuron bias -> (mantissa, exponent) with mant << exp ~= bias * scale * 64."""
    target = np.round(np.asarray(bias, np.float64) * scale * 2**STATE_SHIFT)
    exp = np.clip(np.ceil(np.log2(np.maximum(np.abs(target), 1) / BIAS_MANT_MAX)), 0, BIAS_EXP_MAX).astype(np.int64)
    mant = np.clip(np.round(target / 2**exp), -BIAS_MANT_MAX - 1, BIAS_MANT_MAX).astype(np.int64)
    return mant, exp


def quantize_bias(bias: Any, scale: float) -> Any:
    """The float bias the chip realises (mantissa/exponent rounding), for numpy or torch."""
    mant, exp = bias_to_fixed(np.asarray(bias.detach().cpu() if hasattr(bias, "detach") else bias), scale)
    value = mant * 2.0**exp / (scale * 2**STATE_SHIFT)
    if hasattr(bias, "detach"):
        import torch

        return torch.as_tensor(value, dtype=bias.dtype, device=bias.device)
    return value
