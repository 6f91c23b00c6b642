"""Float network -> fixed point under the chip's numeric format, with a quantization report.

Per LIF population: one scale S (fixed units per float unit, a power of two:
``formats.population_scale``) shared by all its incoming projections, so their currents add up
in the same units; one weight exponent per projection chosen to minimise the rounding +
clipping error (``formats.choose_exponent``, the same function QAT uses); weights stored as
``mant << (9 - weight_bits)``, the bits Lava's Sparse keeps; du, dv on the chip's decay grid;
per-neuron dv clustered into at most ``max_profiles`` values (one Lava LIF process per
profile); vth and bias to their bit widths. Reports per projection: exponent, clip fraction,
relative error. Every limit comes from the ``NumericFormat`` passed in (the chip's YAML).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from neuromotif.deploy.bundle import Population, Projection
from neuromotif.deploy.ir import INPUT_KIND, FloatNetwork, FloatPopulation, FloatProjection
from neuromotif.hw_models import formats
from neuromotif.hw_models.chip import NumericFormat

DEFAULT_MAX_PROFILES = 4  # decay profiles per population (one Lava LIF process each): the compiler's default


@dataclass
class Quantized:
    populations: list[Population]
    projections: list[Projection]
    report: dict[str, Any]


def quantize_weights(w: np.ndarray, scale: float, fmt: NumericFormat) -> tuple[np.ndarray, int, dict[str, Any]]:
    """Float weights (any layout) -> stored integer weights (same layout), exponent, error report.

    The one quantizer of weights: the compiler calls it on a projection's CSR data, the torch
    ``chip`` precision on a layer's dense or motif-block weights; both get the same integers."""
    w = np.asarray(w, np.float64)
    e = formats.choose_exponent(w, scale, fmt)
    mant = formats.weight_mantissa(w, scale, e, fmt)
    realised = formats.quantize_weight(w, scale, e, fmt)
    raw: np.ndarray = np.abs(w) * (scale / 2 ** (e + formats.weight_shift(fmt)))
    nz = w != 0
    report = {
        "weight_exp": e,
        "clip_fraction": float(np.mean(raw[nz] > formats.mantissa_range(fmt)[1] + 0.5)) if nz.any() else 0.0,
        "rel_rms_error": float(np.linalg.norm(realised - w) / max(float(np.linalg.norm(w)), 1e-30)),
        "max_abs_float": float(np.abs(w).max()) if w.size else 0.0,
    }
    return formats.stored_weight(mant, fmt).astype(np.int64), e, report


def quantize_projection(proj: FloatProjection, scale: float, fmt: NumericFormat) -> tuple[Projection, dict[str, Any]]:
    """A float projection -> its fixed-point projection (zeros dropped) and the error report."""
    stored = proj.weights.copy()
    stored.data, e, report = quantize_weights(proj.weights.data, scale, fmt)
    stored = sp.csr_matrix(stored, dtype=np.int64)
    stored.eliminate_zeros()
    return Projection(proj.name, proj.pre, proj.post, stored, e), report


def quantize_population(
    pop: FloatPopulation, scale: int, fmt: NumericFormat, max_profiles: int
) -> tuple[Population, dict[str, Any]]:
    """Neuron parameters to the chip's widths; dv clustered to at most ``max_profiles`` values."""
    step = formats.decay_step(fmt)
    dv_exact = formats.dv_to_int(pop.dv, fmt).astype(np.int64)
    dv = formats.cluster_1d(dv_exact // step, max_profiles) * step
    du = formats.du_to_int(pop.du, fmt).astype(np.int64)
    mant, exp = formats.bias_to_fixed(pop.bias, scale, fmt)
    fixed = Population(
        pop.name,
        pop.size,
        pop.kind,
        pop.motif_size,
        formats.vth_to_int(pop.vth, scale, fmt),
        du,
        dv,
        mant,
        exp,
        float(scale),
    )
    report = {
        "neurons": pop.size,
        "scale": scale,
        "vth": fixed.vth,
        "du": int(du[0]),
        "profiles": int(fixed.profiles.max() + 1),
        "dv_distinct_before_clustering": int(len(np.unique(dv_exact))),
        "dv_max_cluster_shift": int(np.abs(dv - dv_exact).max()),
    }
    return fixed, report


def quantize_network(net: FloatNetwork, fmt: NumericFormat, max_profiles: int = DEFAULT_MAX_PROFILES) -> Quantized:
    """Every population and projection of ``net`` in fixed point (projections in network order)."""
    pops: list[Population] = []
    fixed_projs: dict[str, Projection] = {}
    report: dict[str, Any] = {"max_profiles": max_profiles, "populations": {}, "projections": {}}
    for pop in net.populations:
        if pop.kind == INPUT_KIND:
            pops.append(Population(pop.name, pop.size, INPUT_KIND))
            continue
        incoming = net.inputs_to(pop.name)
        max_w = max((float(np.abs(j.weights.data).max(initial=0.0)) for j in incoming), default=0.0)
        scale = formats.population_scale(max_w, pop.vth, fmt)
        for j in incoming:
            fixed_projs[j.name], report["projections"][j.name] = quantize_projection(j, scale, fmt)
        fixed, report["populations"][pop.name] = quantize_population(pop, scale, fmt, max_profiles)
        pops.append(fixed)
    report["ports"] = {"input": net.input, "output": net.output}
    return Quantized(pops, [fixed_projs[j.name] for j in net.projections], report)
