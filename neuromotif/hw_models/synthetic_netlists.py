"""Synthetic netlists: size up hypothetical networks (SC-ML layers) without training anything.

Used by the mapping benchmark and the tests, and by anyone asking "what would a 10^6-neuron
SC-ML layer need on this chip?".
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from neuromotif.hw_models.motifs import blocks_to_csr
from neuromotif.hw_models.netlist import Netlist, NetPopulation, NetProjection


def scml_structure(
    n: int, motif_size: int, p_intra: float = 0.5, p_inter: float = 0.25, seed: int = 0
) -> sp.csr_matrix:
    """(post x pre) synapses of an SC-ML layer: one shared m x m motif pattern on the diagonal
    blocks and one shared inter-motif pattern to each ring neighbour (k-1, k+1)."""
    rng = np.random.default_rng(seed)
    m = motif_size
    k = n // m
    intra, inter = rng.random((m, m)) < p_intra, rng.random((m, m)) < p_inter
    side = inter if k > 1 else np.zeros_like(inter)  # one motif: no neighbours
    pattern = np.concatenate([side, intra, side], axis=1).astype(np.int8)
    return blocks_to_csr(np.broadcast_to(pattern, (k, m, 3 * m)))


def scml_net(
    n: int, motif_size: int = 16, inputs: int = 700, outputs: int = 10, seed: int = 0, rate: float = 0.05
) -> Netlist:
    """Dense input -> one SC-ML layer -> dense readout (none when ``outputs`` is 0)."""
    pops = [
        NetPopulation("in", inputs, is_input=True, rate=rate),
        NetPopulation("scml0", n, motif_size=motif_size, rate=rate),
    ]
    projs = [
        NetProjection("in->scml0", "in", "scml0"),
        NetProjection("scml0->scml0", "scml0", "scml0", scml_structure(n, motif_size, seed=seed)),
    ]
    if outputs:
        pops.append(NetPopulation("out", outputs, rate=rate))
        projs.append(NetProjection("scml0->out", "scml0", "out"))
    return Netlist(tuple(pops), tuple(projs))
