"""A trained ``RSNN`` as the compiler's float network (``neuromotif.deploy.ir``).

The one place that knows how torch layers map to populations and projections: per layer a
LIF population named ``<kind><index>`` (``scml0``, ``dense1``, ``feedforward0``) and ``readout``; its
input projection from the layer below and, when it has one, its recurrent projection. Gains
(intrinsic plasticity's R) are folded into the incoming weights, in float64.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch

from neuromotif.deploy.ir import INPUT_KIND, FloatNetwork, FloatPopulation, FloatProjection
from neuromotif.search.model import RSNN
from neuromotif.search.scml import SCMLLayer, blocks_to_csr

INPUT = "input"
READOUT = "readout"


def population_names(model: RSNN) -> list[str]:
    """Compiler names of the model's LIF populations, in order (hidden layers, then the readout)."""
    return [f"{layer.kind}{i}" for i, layer in enumerate(model.layers)] + [READOUT]


def _numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().double().numpy()


@torch.no_grad()
def to_float_network(model: RSNN) -> FloatNetwork:
    """The model's float parameters, as the compiler reads them (the model is left unchanged)."""
    pops = [FloatPopulation(INPUT, model.arch.inputs, INPUT_KIND)]
    projs: list[FloatProjection] = []
    pre = INPUT
    for name, layer in zip(population_names(model), model.populations(), strict=True):
        w_in, rec = layer.folded_weights()
        projs.append(FloatProjection(f"{pre}->{name}", pre, name, sp.csr_matrix(_numpy(w_in))))
        if rec is not None:
            matrix = blocks_to_csr(_numpy(rec)) if isinstance(layer, SCMLLayer) else sp.csr_matrix(_numpy(rec))
            projs.append(FloatProjection(f"{name}->{name}", name, name, matrix))
        pops.append(
            FloatPopulation(
                name,
                layer.n,
                motif_size=layer.motif_size,
                vth=layer.vth,
                du=np.full(layer.n, float(layer.du)),
                dv=_numpy(layer.dv),
                bias=_numpy(layer.bias),
            )
        )
        pre = name
    return FloatNetwork(pops, projs, INPUT, READOUT, source=model.arch.source)
