"""Float <-> fixed point under a chip's numeric format: the rounding rules, defined once.

Every limit comes from the chip's ``NumericFormat`` (its YAML ``numeric:`` section); nothing
here hard-codes a bit width. The same functions run on numpy arrays (the compiler) and torch
tensors (quantization-aware training): they use only operators and the ``.round()`` /
``.clip()`` methods both share (both round half to even). Scalars go through numpy.

The dynamics these numbers feed are written once, in ``hw_models.neurons.lif``. A float value
in *threshold units* x becomes ``x * S * 2^STATE_SHIFT`` in the fixed units of u and v, with a
per-population scale ``S`` (fixed units per float unit, a power of two):

- weights: Lava's Sparse keeps, of a mixed-sign weight clipped to 9 bits [-256, 255], the top
  ``weight_bits`` bits (it zeroes the low ``9 - weight_bits``: at 8 bits the lowest bit, so 1
  becomes 0). We store ``w_int = mant << shift`` with ``shift = 9 - weight_bits`` and ``mant``
  in [-2^(wb-1), 2^(wb-1) - 1]; the current is ``a_in = sum(w_int * s) << e``, e >= 0.
- ``vth_int = round(vth * S)`` below ``2^vth_bits``; bias ``mant << exp = round(bias * S * 64)``
  with a ``bias_mant_bits`` signed mantissa and ``bias_exp_bits`` exponent.
- decays: Lava's arithmetic is 12-bit (``d / 4096``); a chip with coarser ``decay_bits`` uses
  every ``2^(12 - decay_bits)``-th value. du -> (du + 1) / 4096 (Lava's +1), dv -> dv / 4096.

Choosing ``S`` a power of two at least ``max_stored_weight / max|w|`` keeps every weight
exponent >= 0, so the exponent is an exact multiplication (no floor of negative sums) and the
quantized float model sees exactly the integer weights.
"""

from __future__ import annotations

import math
from typing import Any, TypeVar

import numpy as np

from neuromotif.hw_models.chip import NumericFormat

Array = TypeVar("Array")

LAVA_DECAY_BITS = 12  # Lava's LIF computes decays as d / 2^12 whatever the chip's decay resolution
DECAY_ONE = 2**LAVA_DECAY_BITS
LAVA_WEIGHT_BITS = 9  # Lava's Sparse clips mixed-sign weights to 9 bits [-256, 255] before truncating
STATE_SHIFT = 6  # a_in << 6, vth << 6, 64 bias units = 1 weight unit
INT32 = 2**31  # Lava adds the input current into int32
MIN_SCALE = 2**10  # compiler choice: at least 10 fractional bits of state resolution
SIGN_MODES = ("mixed", "excitatory", "inhibitory")


# ---- limits derived from the format ------------------------------------------------------
def weight_shift(fmt: NumericFormat) -> int:
    """Low bits Lava zeroes in a mixed-sign weight: stored weights are multiples of 2^shift."""
    return LAVA_WEIGHT_BITS - fmt.weight_bits


def mantissa_range(fmt: NumericFormat) -> tuple[int, int]:
    """Signed weight mantissa range [-2^(wb-1), 2^(wb-1) - 1]."""
    half = 2 ** (fmt.weight_bits - 1)
    return -half, half - 1


def max_stored_weight(fmt: NumericFormat) -> int:
    """Largest positive integer weight the chip stores (254 at 8 bits, 224 at 4 bits)."""
    return mantissa_range(fmt)[1] << weight_shift(fmt)


def sign_range(sign_mode: str) -> tuple[int, int]:
    """Integer weights Lava's Sparse accepts in a sign mode: mixed [-256, 255], excitatory
    [0, 255], inhibitory [-255, 0] (the 9-bit signed or 8-bit magnitude range)."""
    top = 2 ** (LAVA_WEIGHT_BITS - 1)
    return {"mixed": (-top, top - 1), "excitatory": (0, top - 1), "inhibitory": (1 - top, 0)}[sign_mode]


def lava_kept_weights(data: np.ndarray, sign_mode: str, weight_bits: int) -> np.ndarray:
    """What Lava's Sparse keeps of integer weights: clipped to ``sign_range``, then the low
    ``8 - weight_bits + mixed`` bits of the magnitude zeroed (floor for mixed, toward zero for
    inhibitory, as ``lava.utils.weightutils`` does). The compiler emits only weights this keeps
    unchanged (``stored_weight``); the CPU backend applies it so that any bundle runs as on Lava."""
    drop = max(LAVA_WEIGHT_BITS - 1 - weight_bits + (sign_mode == "mixed"), 0)
    data = np.clip(data, *sign_range(sign_mode))
    return -((-data >> drop) << drop) if sign_mode == "inhibitory" else (data >> drop) << drop


def stored_weight_range(fmt: NumericFormat) -> tuple[int, int]:
    """Smallest and largest mixed-sign weight the compiler stores (-256..254 at 8 bits)."""
    lo, hi = mantissa_range(fmt)
    return lo << weight_shift(fmt), hi << weight_shift(fmt)


def decay_max() -> int:
    """Largest du / dv Lava's 12-bit decays take (4095)."""
    return DECAY_ONE - 1


def fixed_unit(scale: float) -> float:
    """Fixed units of u and v per threshold unit of a population with scale ``scale``."""
    return scale * 2**STATE_SHIFT


def fixed_threshold(vth: int) -> float:
    """The threshold v is compared with: the stored mantissa << STATE_SHIFT."""
    return float(int(vth) << STATE_SHIFT)


def vth_max(fmt: NumericFormat) -> int:
    return 2**fmt.vth_bits - 1


def bias_mant_max(fmt: NumericFormat) -> int:
    return 2 ** (fmt.bias_mant_bits - 1) - 1


def bias_exp_max(fmt: NumericFormat) -> int:
    return 2**fmt.bias_exp_bits - 1


def decay_step(fmt: NumericFormat) -> int:
    """Spacing of representable decays on Lava's 12-bit scale."""
    return 2 ** (LAVA_DECAY_BITS - fmt.decay_bits)


def u_limit(fmt: NumericFormat) -> int:
    """u wraps past +-2^(u_bits - 1)."""
    return 2 ** (fmt.u_bits - 1)


def v_limit(fmt: NumericFormat) -> int:
    """v saturates at +-(2^(v_bits - 1) - 1)."""
    return 2 ** (fmt.v_bits - 1) - 1


# ---- weights -----------------------------------------------------------------------------
def population_scale(max_abs_weight: float, vth: float, fmt: NumericFormat) -> int:
    """Fixed units per float unit for one population: a power of two >= ``MIN_SCALE`` and
    >= max_stored/max|w|, so weight exponents are never negative; limited so that vth fits, and
    so that the largest weight fits the largest exponent the format allows. That last limit only
    bites when the exponent is capped (the netx target: exponent 0): there the resolution floor
    would otherwise clip every weight above max_stored / MIN_SCALE (16-48 % of a trained network's)."""
    need = max_stored_weight(fmt) / max_abs_weight if max_abs_weight > 0 else MIN_SCALE
    scale = max(MIN_SCALE, 2 ** math.ceil(math.log2(need)))
    limit = 2 ** math.floor(math.log2(vth_max(fmt) / vth))
    if max_abs_weight > 0:
        limit = min(limit, 2 ** math.floor(math.log2(max_stored_weight(fmt) * 2**fmt.weight_exp_max / max_abs_weight)))
    return int(max(1, min(scale, limit)))


def weight_exponent(max_abs_weight: float, scale: float, fmt: NumericFormat) -> int:
    """Smallest exponent e in [0, weight_exp_max] with max|w| * scale / 2^(e + shift) <= mantissa max."""
    if max_abs_weight <= 0:
        return 0
    e = math.ceil(math.log2(max_abs_weight * scale / mantissa_range(fmt)[1])) - weight_shift(fmt)
    return int(min(max(e, 0), fmt.weight_exp_max))


def choose_exponent(w: np.ndarray, scale: float, fmt: NumericFormat) -> int:
    """The weight exponent with the least squared rounding + clipping error: the smallest that
    avoids clipping, or up to two below it when clipping a few outliers buys finer steps.

    The error is summed over the sorted non-zero terms, so the choice depends only on the set of
    weights, not on their layout: the compiler (CSR data) and the torch chip precision (motif
    blocks with structural zeros) pick the same exponent for the same weights."""
    w = np.asarray(w, np.float64)
    if w.size == 0:
        return 0
    top = weight_exponent(float(np.abs(w).max()), scale, fmt)
    best, best_err = top, None
    for e in range(top, max(top - 2, 0) - 1, -1):
        terms = ((quantize_weight(w, scale, e, fmt) - w) ** 2).ravel()
        err = float(np.sort(terms[terms != 0]).sum())
        if best_err is None or err < best_err:
            best, best_err = e, err
    return best


def weight_mantissa(w: Array, scale: float, exponent: int, fmt: NumericFormat) -> Array:
    """mant = round(w * scale / 2^(e + shift)) clipped to the mantissa range (float-valued, integral)."""
    lo, hi = mantissa_range(fmt)
    return (w * (scale / 2 ** (exponent + weight_shift(fmt)))).round().clip(lo, hi)


def stored_weight(mantissa: Array, fmt: NumericFormat) -> Array:
    """The integer weight the bundle stores for a mantissa (what Lava's Sparse keeps unchanged)."""
    return mantissa * 2 ** weight_shift(fmt)


def quantize_weight(w: Array, scale: float, exponent: int, fmt: NumericFormat) -> Array:
    """The float weight the chip realises: mant * 2^(e + shift) / scale."""
    return weight_mantissa(w, scale, exponent, fmt) * (2 ** (exponent + weight_shift(fmt)) / scale)


# ---- decays, threshold, bias ---------------------------------------------------------------
def du_to_int(du: Any, fmt: NumericFormat) -> Any:
    """Current decay fraction -> Lava du (u decays by (du + 1) / 4096); the least leak is one step."""
    step, levels = decay_step(fmt), 2**fmt.decay_bits
    return (du * levels).round().clip(1, levels) * step - 1


def dv_to_int(dv: Any, fmt: NumericFormat) -> Any:
    """Voltage decay fraction -> Lava dv (v decays by dv / 4096)."""
    step, levels = decay_step(fmt), 2**fmt.decay_bits
    return (dv * levels).round().clip(0, levels - 1) * step


def vth_to_int(vth: float, scale: float, fmt: NumericFormat) -> int:
    value = int(np.round(vth * scale))
    if not 0 <= value <= vth_max(fmt):
        raise ValueError(f"threshold {vth} x scale {scale} = {value} does not fit {fmt.vth_bits} bits")
    return value


def bias_to_fixed(bias: np.ndarray, scale: float, fmt: NumericFormat) -> tuple[np.ndarray, np.ndarray]:
    """Per-neuron bias -> (mantissa, exponent) with mant << exp ~= bias * scale * 64."""
    target = np.round(np.asarray(bias, np.float64) * fixed_unit(scale))
    mant_max = bias_mant_max(fmt)
    exp = np.clip(np.ceil(np.log2(np.maximum(np.abs(target), 1) / mant_max)), 0, bias_exp_max(fmt)).astype(np.int64)
    mant = np.clip(np.round(target / 2**exp), -mant_max - 1, mant_max).astype(np.int64)
    return mant, exp


def quantize_bias(bias: Any, scale: float, fmt: NumericFormat) -> Any:
    """The float bias the chip realises (mantissa/exponent rounding), for numpy or torch."""
    mant, exp = bias_to_fixed(np.asarray(bias.detach().cpu() if hasattr(bias, "detach") else bias), scale, fmt)
    value = mant * 2.0**exp / fixed_unit(scale)
    return bias.new_tensor(value) if hasattr(bias, "new_tensor") else value  # a torch tensor stays one


def cluster_1d(values: np.ndarray, k: int) -> np.ndarray:
    """Replace integer ``values`` by at most ``k`` representative integers (1-D k-means on sorted
    values, initialised at quantiles; deterministic): how per-neuron decays become profiles."""
    unique = np.unique(values)
    if len(unique) <= k:
        return values.copy()
    centers = np.quantile(values, (np.arange(k) + 0.5) / k)
    for _ in range(50):
        assign = np.abs(values[:, None] - centers[None, :]).argmin(1)
        new = np.array([values[assign == j].mean() if (assign == j).any() else centers[j] for j in range(k)])
        if np.allclose(new, centers):
            break
        centers = new
    return np.rint(centers[np.abs(values[:, None] - centers[None, :]).argmin(1)]).astype(values.dtype)
