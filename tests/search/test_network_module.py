"""``NetworkModule`` (any float network in torch): its ``chip`` precision is the compiled bundle on
the CPU backend, bit for bit; its float precision is the independent numpy loop of the chip's
dynamics (``tests/deploy/nir_reference.run_float``), with and without the hop delay; gradients
reach every stored synapse and nothing else."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from neuromotif.deploy.backends.cpu import CPUBackend
from neuromotif.deploy.compile import compile_network
from neuromotif.deploy.ir import FloatNetwork, FloatPopulation, FloatProjection
from neuromotif.hw_models import load_chip
from neuromotif.search.network_module import NetworkModule
from tests.deploy.nir_reference import run_float

DV = [0.02, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4]


def _network(seed: int = 0) -> FloatNetwork:
    """input 12 -> a 24 (sparse all-to-all recurrence, biases, eight distinct dv) -> b 10
    (recurrent) -> out 5, weights large enough that the rounding matters."""
    rng = np.random.default_rng(seed)

    def w(post: int, pre: int, density: float, gain: float) -> sp.csr_matrix:
        return sp.random(post, pre, density, random_state=rng, data_rvs=lambda k: rng.normal(0, gain, k), format="csr")

    pops = [
        FloatPopulation("in", 12, kind="input"),
        FloatPopulation("a", 24, du=0.3, dv=rng.choice(DV, 24), bias=rng.normal(0, 0.02, 24)),
        FloatPopulation("b", 10, du=0.5, dv=0.1, vth=1.5, bias=0.0),
        FloatPopulation("out", 5, du=0.2, dv=0.05, bias=0.0),
    ]
    projs = [
        FloatProjection("in->a", "in", "a", w(24, 12, 0.6, 0.9)),
        FloatProjection("a->a", "a", "a", w(24, 24, 0.5, 0.4)),
        FloatProjection("a->b", "a", "b", w(10, 24, 0.7, 0.8)),
        FloatProjection("b->b", "b", "b", w(10, 10, 1.0, 0.3)),
        FloatProjection("b->out", "b", "out", w(5, 10, 1.0, 1.0)),
    ]
    return FloatNetwork(pops, projs, "in", "out", source="test")


def _spikes(seed: int = 1) -> np.ndarray:
    return (np.random.default_rng(seed).random((16, 40, 12)) < 0.3).astype(np.float64)


def test_chip_precision_is_the_compiled_bundle_on_the_cpu_backend(tmp_path):
    net, x = _network(), _spikes()
    bundle, _ = compile_network(net, "loihi2", tmp_path / "bundle")
    expected = CPUBackend(bundle).run(x).counts
    module = NetworkModule(net, load_chip("loihi2").numeric, max_profiles=4)
    module.set_precision("chip")
    counts, _ = module.predict(torch.from_numpy(x))
    assert expected.sum() > 50  # the network fires: the comparison can fail
    np.testing.assert_array_equal(counts, expected)


@pytest.mark.parametrize("hop_delay", [True, False])
def test_float_precision_is_the_numpy_reference(hop_delay):
    net, x = _network(), _spikes()
    module = NetworkModule(net, load_chip("loihi2").numeric, max_profiles=4)
    counts, _ = module.predict(torch.from_numpy(x), hop_delay=hop_delay)
    expected = run_float(net, x, hop_delay=hop_delay)
    assert expected.sum() > 50
    np.testing.assert_array_equal(counts, expected)


def test_chip_gradients_reach_every_synapse_and_the_weights_come_back_in_place():
    net = _network()
    module = NetworkModule(net, load_chip("loihi2").numeric, max_profiles=4)
    module.set_precision("chip")
    module(torch.from_numpy(_spikes())).sum().backward()
    for value, j in zip(module.values, net.projections, strict=True):
        assert value.grad is not None and value.grad.shape == (j.weights.nnz,)
    assert any(bool((v.grad != 0).any()) for v in module.values)
    with torch.no_grad():
        module.values[0].mul_(2)
    back = module.to_float_network()
    np.testing.assert_array_equal(back.projections[0].weights.toarray(), 2 * net.projections[0].weights.toarray())
    np.testing.assert_array_equal(back.projections[1].weights.toarray(), net.projections[1].weights.toarray())
    with pytest.raises(ValueError, match="hop_delay=False is for the float precision"):
        module(torch.from_numpy(_spikes()), hop_delay=False)
