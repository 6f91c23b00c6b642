"""Float model -> Loihi fixed point, per population, with a quantization report.

Per LIF population: gains folded into incoming weights; one scale S (fixed units per float
unit, a power of two: ``formats.population_scale``) shared by its input and recurrent
projections, so they add up in the same units; one weight exponent per projection chosen to
minimise the rounding + clipping error (``formats.choose_exponent``, the same function QAT
uses); mixed-sign weights stored as 2 * w8; du, dv to 12 bits; per-neuron dv clustered into
at most ``max_profiles`` values (one Lava LIF process per profile); vth to 17 bits; bias to
mantissa / exponent. Reports per projection: exponent, clip fraction, relative error.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch

from deploy.bundle import Population, Projection
from hw_models import formats
from search.baselines import DenseRecurrentLayer
from search.layers import LIFLayer
from search.model import RSNN
from search.scml import SCMLLayer, blocks_to_csr

INPUT = "input"


def population_names(model: RSNN) -> list[str]:
    names = []
    for i, layer in enumerate(model.layers):
        kind = "scml" if isinstance(layer, SCMLLayer) else "dense" if isinstance(layer, DenseRecurrentLayer) else "ff"
        names.append(f"{kind}{i}")
    return names + ["readout"]


def cluster_1d(values: np.ndarray, k: int) -> np.ndarray:
    """Replace ``values`` by at most ``k`` representative integers (1-D k-means on sorted values,
    initialised at quantiles; deterministic)."""
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


def _quantize_matrix(w: np.ndarray, scale: float) -> tuple[np.ndarray, int, dict[str, float]]:
    """Float weights -> (integer weights 2 * w8 * 2**0 layout, exponent, report)."""
    e = formats.choose_exponent(w, scale)
    w8 = formats.weight_mantissa(w, scale, e)
    realised = w8 * (2 ** (e + 1) / scale)
    raw = np.abs(w) * (scale / 2 ** (e + 1))
    nz = w != 0
    report = {"weight_exp": e, "clip_fraction": float((raw[nz] > formats.W8_MAX + 0.5).mean()) if nz.any() else 0.0,
              "rel_rms_error": float(np.linalg.norm(realised - w) / max(np.linalg.norm(w), 1e-30)),
              "max_abs_float": float(np.abs(w).max()) if w.size else 0.0}
    return (2 * w8).astype(np.int64), e, report


@dataclass
class Quantized:
    populations: list[Population]
    projections: list[Projection]
    report: dict[str, Any]


@torch.no_grad()
def quantize_model(model: RSNN, max_profiles: int = 4) -> Quantized:
    model.eval()
    model.set_precision("float")
    names = population_names(model)
    pops = [Population(INPUT, model.arch.inputs, "input")]
    projs: list[Projection] = []
    report: dict[str, Any] = {"max_profiles": max_profiles, "populations": {}, "projections": {}}
    pre_name = INPUT
    for name, layer in zip(names, model.populations()):
        layer: LIFLayer
        w_in, rec = (t.detach().cpu().double().numpy() if t is not None else None for t in layer.folded_weights())
        max_w = max(np.abs(w_in).max(initial=0.0), np.abs(rec).max(initial=0.0) if rec is not None else 0.0)
        scale = formats.population_scale(float(max_w), layer.vth)
        w_int, e, rep = _quantize_matrix(w_in, scale)
        projs.append(Projection(f"{pre_name}->{name}", pre_name, name, sp.csr_matrix(w_int), e))
        report["projections"][f"{pre_name}->{name}"] = rep
        if rec is not None:
            r_int, e_rec, rep = _quantize_matrix(rec, scale)
            matrix = blocks_to_csr(r_int) if isinstance(layer, SCMLLayer) else sp.csr_matrix(r_int)
            matrix.eliminate_zeros()
            projs.append(Projection(f"{name}->{name}", name, name, matrix, e_rec))
            report["projections"][f"{name}->{name}"] = rep
        n = layer.n
        dv_exact = formats.dv_to_int(layer.dv.cpu().double().numpy()).astype(np.int64)
        dv = cluster_1d(dv_exact, max_profiles)
        du = np.full(n, int(formats.du_to_int(np.float64(float(layer.du)))), np.int64)
        mant, exp = formats.bias_to_fixed(layer.bias.cpu().double().numpy(), scale)
        pop = Population(name, n, "lif", getattr(layer, "m", 1), formats.vth_to_int(layer.vth, scale), du, dv,
                         mant, exp, float(scale))
        pops.append(pop)
        report["populations"][name] = {"neurons": n, "scale": scale, "vth": pop.vth, "du": int(du[0]),
                                       "profiles": int(pop.profiles.max() + 1),
                                       "dv_distinct_before_clustering": int(len(np.unique(dv_exact))),
                                       "dv_max_cluster_shift": int(np.abs(dv - dv_exact).max())}
        pre_name = name
    report["ports"] = {"input": INPUT, "output": names[-1]}
    return Quantized(pops, projs, report)
