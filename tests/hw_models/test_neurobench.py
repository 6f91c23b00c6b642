"""NeuroBench's metrics of a deployed network, against hand computation on a 9-neuron netlist."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from neuromotif.hw_models.cost import Activity
from neuromotif.hw_models.netlist import Netlist, NetPopulation, NetProjection
from neuromotif.hw_models.neurobench import neurobench_metrics


def _net() -> Netlist:
    pre_to_h = sp.csr_matrix(np.array([[1, 1, 0], [1, 0, 1], [0, 1, 1], [1, 0, 0]]))  # fan-out 3, 2, 2
    return Netlist(
        (NetPopulation("in", 3, is_input=True), NetPopulation("h", 4), NetPopulation("out", 2)),
        (
            NetProjection("in->h", "in", "h", pre_to_h, weight_bits=8),
            NetProjection("h->h", "h", "h", sp.identity(4, format="csr"), weight_bits=6),
            NetProjection("h->out", "h", "out", None),  # all-to-all: 8 synapses, the chip's 8 bits
        ),
    )


def test_metrics_by_hand():
    # columns: in (3), h (4), out (2); summed over 2 samples, 2 steps
    spikes = np.array([[2, 0, 1, 1, 0, 0, 0, 0, 0], [0, 1, 0, 0, 2, 0, 1, 1, 0]], float)
    active = np.array([[5, 5, 5, 2, 2, 2, 2, 2, 2], [5, 5, 5, 2, 2, 2, 2, 1, 1]], float)  # inputs' ignored
    m = neurobench_metrics(_net(), Activity(spikes, active, samples=2))
    # weights 7 x 8 + 4 x 6 + 8 x 8 = 144 bits; 6 neurons x (12 + 12 + 16) = 240; 2 thresholds x 17 = 34
    assert m["footprint_bytes"] == 53  # ceil(418 / 8)
    assert m["connection_sparsity"] == pytest.approx(1 - 19 / 36)  # 19 synapses of 3x4 + 4x4 + 4x2
    assert m["activation_sparsity"] == pytest.approx(1 - 5 / 24)  # 5 spikes of 2 samples x 6 neurons x 2 steps
    # input spikes (2, 1, 1) x fan-out (3, 2, 2) = 10; hidden (1, 2, 0, 1) x (1 + 2) = 12; per sample: 11
    assert m["synaptic_operations"] == {"effective_acs": 11.0, "effective_macs": 0.0, "dense": 72.0}
    assert m["membrane_updates"] == 12.0 and m["active_updates"] == pytest.approx(22 / 2)
