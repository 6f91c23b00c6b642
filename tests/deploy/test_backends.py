"""CPU backend vs hand computation and vs Lava's bit-accurate models: zero mismatches."""

from __future__ import annotations

import numpy as np
import pytest

from neuromotif.deploy import lava_compat
from neuromotif.deploy.backends.cpu import CPUBackend
from neuromotif.deploy.divergence import spike_mismatches
from tests.deploy.bundles import lif, make_bundle, random_bundle

needs_lava = pytest.mark.skipif(not lava_compat.lava_available(), reason="lava-nc not installed (make setup)")


def run_both(bundle, x, record=None):
    from neuromotif.deploy.backends.lava import LavaBackend

    record = record or tuple(p.name for p in bundle.neuron_populations)
    cpu = CPUBackend(bundle).run(x, record=record, record_v=True)
    lava = LavaBackend(bundle, timeout_s=300).run(x, record=record)
    return cpu, lava


def assert_identical(cpu, lava):
    assert spike_mismatches(cpu.spikes, lava.spikes) == 0
    assert lava.final_v.keys() == cpu.final_v.keys() == lava.final_u.keys() == cpu.final_u.keys()
    for name in lava.final_v:  # u, v after the last step of each sample, the same shape from both
        np.testing.assert_array_equal(cpu.final_v[name], lava.final_v[name], err_msg=f"v of {name}")
        np.testing.assert_array_equal(cpu.final_u[name], lava.final_u[name], err_msg=f"u of {name}")
        np.testing.assert_array_equal(cpu.voltages[name][:, -1], cpu.final_v[name])
    np.testing.assert_array_equal(cpu.counts, lava.counts)


def test_single_neuron_by_hand(tmp_path):
    # w = 100 (even, mixed), e = 1 -> a = 200 per input spike; du = 2047 keeps (4096-2048)/4096 = 1/2 of u;
    # dv = 1024 keeps 3/4 of v; vth = 300 -> 19200
    b = make_bundle(tmp_path / "b", 1, [lif("n", 1, du=2047, dv=1024, vth=300)], [("input", "n", [[100]], 1)])
    x = np.array([1, 1, 0, 0, 0, 0], np.uint8).reshape(1, 6, 1)
    r = CPUBackend(b).run(x, record=("n",), record_v=True)
    # input x[t] reaches the neuron at step t+1 (one hop): a = 0, 200, 200, 0, 0, 0
    # u = 0, 12800, 6400+12800 = 19200, 9600, 4800, 2400
    # v = 0, 12800, 9600+19200 = 28800 > 19200 -> spike, 0 | 9600 | 7200+4800 = 12000 | 9000+2400 = 11400
    assert r.currents["n"][0, :, 0].tolist() == [0, 12800, 19200, 9600, 4800, 2400]
    assert r.voltages["n"][0, :, 0].tolist() == [0, 12800, 0, 9600, 12000, 11400]
    assert r.spikes["n"][0, :, 0].tolist() == [0, 0, 1, 0, 0, 0]


@needs_lava
def test_single_neuron_matches_lava(tmp_path):
    b = make_bundle(tmp_path / "b", 1, [lif("n", 1, du=2047, dv=1024, vth=300)], [("input", "n", [[100]], 1)])
    x = np.array([1, 1, 0, 1, 1, 1, 0, 0], np.uint8).reshape(1, 8, 1)
    assert_identical(*run_both(b, x))


@needs_lava
@pytest.mark.parametrize("seed,exps", [(0, (1, 0, 0)), (1, (0, 2, 1)), (2, (3, 0, 1))])
def test_random_recurrent_networks_match_lava(tmp_path, seed, exps):
    # 2 (du, dv) values each: 4 LIF processes for the hidden population, about 30 Lava processes
    # (3 values gave 8-9 groups and ~90 processes, 2.5x the time, and exercise nothing more)
    b = random_bundle(tmp_path / "b", seed, exps=exps, profiles=2)
    assert max(p.profiles.max() + 1 for p in b.neuron_populations) > 1  # several LIF processes per population
    x = (np.random.default_rng(seed).random((3, 25, 12)) < 0.3).astype(np.uint8)
    cpu, lava = run_both(b, x)
    assert cpu.spikes["h"].sum() > 0 and cpu.spikes["out"].sum() > 0  # the test exercises spikes
    assert_identical(cpu, lava)


@needs_lava
@pytest.mark.parametrize("weight_bits", [4, 6, 9])
def test_fewer_weight_bits_truncate_like_lava(tmp_path, weight_bits):
    """The bundle's numeric format reaches both backends: Lava's Sparse keeps the top ``weight_bits``
    of each 9-bit mixed weight; the CPU backend must drop the same low bits (random even weights,
    most of them not multiples of 2^(9 - weight_bits))."""
    # one (du, dv) profile: the fewest Lava processes (the weight bits act in the Sparse processes)
    b = random_bundle(tmp_path / "b", 3, exps=(2, 1, 0), numeric={"weight_bits": weight_bits}, profiles=1)
    assert b.numeric.weight_bits == weight_bits
    x = (np.random.default_rng(3).random((2, 25, 12)) < 0.3).astype(np.uint8)
    cpu, lava = run_both(b, x)
    assert cpu.spikes["h"].sum() > 0
    assert_identical(cpu, lava)


def test_cpu_backend_drops_the_low_weight_bits_by_hand(tmp_path):
    # 4-bit weights keep multiples of 32 (floor): 100 -> 96, -1 -> -32; at 8 bits 100 stays, -1 -> -2
    w = np.array([[100, -1]])
    for bits, expected in ((4, [96, -32]), (8, [100, -2])):
        b = make_bundle(
            tmp_path / f"b{bits}",
            2,
            [lif("n", 1, du=4095, dv=4095, vth=100000)],
            [("input", "n", w, 0)],
            numeric={"weight_bits": bits},
            lava_rounds_weights=True,
        )
        r = CPUBackend(b).run(np.array([[[1, 0], [0, 1], [0, 0]]], np.uint8), record=("n",), record_v=True)
        assert (r.currents["n"][0, 1:, 0] >> 6).tolist() == expected  # u = a << 6, cleared each step (du = 4095)


@needs_lava
def test_edge_cases_match_lava(tmp_path):
    n = 4
    pops = [
        lif("wrap", n, du=[0, 4095, 100, 0], dv=0, vth=131071),  # big input: u wraps at 24 bits
        lif("sat", n, du=4095, dv=0, vth=131071, bias_mant=-4096, bias_exp=7),  # v saturates at -(2^23 - 1)
        lif("clear", n, du=4095, dv=[0, 4095, 0, 4095], vth=40, bias_mant=[0, 5, 4095, 0], bias_exp=[0, 0, 7, 3]),
    ]
    w_big = np.full((n, 8), 254)  # w_big // 2 = 127 is odd: Lava's mixed mode stores 126
    b = make_bundle(
        tmp_path / "b",
        8,
        pops,
        [("input", "wrap", w_big, 7), ("input", "sat", w_big // 127, 0), ("input", "clear", w_big // 2, 0)],
        lava_rounds_weights=True,
    )
    x = np.ones((2, 20, 8), np.uint8)  # -524288 per step: saturates after 16 steps
    x[1, ::2] = 0
    cpu, lava = run_both(b, x)
    assert (np.abs(cpu.currents["wrap"]) > 0).any() and (cpu.currents["wrap"] < 0).any()  # wrapped negative
    assert (cpu.voltages["sat"] == -(2**23 - 1)).any()
    assert_identical(cpu, lava)


@needs_lava
def test_samples_do_not_leak_into_each_other(tmp_path):
    from neuromotif.deploy.backends.lava import LavaBackend

    b = random_bundle(tmp_path / "b", 5, profiles=1)  # state reset between samples: one LIF per population will do
    x = (np.random.default_rng(5).random((3, 20, 12)) < 0.4).astype(np.uint8)
    together = LavaBackend(b).run(x, record=("h",))
    alone = LavaBackend(b).run(x[2:], record=("h",))
    np.testing.assert_array_equal(together.spikes["h"][2], alone.spikes["h"][0])


def test_cpu_batched_equals_one_by_one(tmp_path):
    b = random_bundle(tmp_path / "b", 7)
    x = (np.random.default_rng(7).random((5, 20, 12)) < 0.4).astype(np.uint8)
    whole = CPUBackend(b).run(x, record=("h",), batch_size=2, activity=True)
    for i in range(5):
        np.testing.assert_array_equal(
            CPUBackend(b).run(x[i : i + 1], record=("h",)).spikes["h"][0], whole.spikes["h"][i]
        )
    assert whole.activity_spikes.shape == (20, 12 + 24 + 5)
    assert whole.activity_spikes[:, 12 + 24 :].sum() == whole.counts.sum()


@pytest.mark.parametrize("limit", ["DENSE_MAX_ENTRIES", "FLOAT32_EXACT"])
def test_every_synapse_kernel_gives_the_same_spikes(tmp_path, monkeypatch, limit):
    """Dense float32 BLAS and sparse float64 kernels: the same integers, so the same spikes."""
    from neuromotif.deploy.backends import cpu

    b = random_bundle(tmp_path / "b", 11, exps=(2, 1, 0))
    x = (np.random.default_rng(11).random((4, 30, 12)) < 0.4).astype(np.uint8)
    reference = CPUBackend(b).run(x, record=("h", "out"), record_v=True)
    assert {s.kernel(len(x)) for _, s in CPUBackend(b).incoming["h"]} == {"dense32"}
    monkeypatch.setattr(cpu, limit, 0)  # too big for dense, or past float32's exact range
    other = CPUBackend(b)
    assert {s.kernel(len(x)) for _, s in other.incoming["h"]} == {"sparse64"}
    result = other.run(x, record=("h", "out"), record_v=True)
    assert spike_mismatches(reference.spikes, result.spikes) == 0
    np.testing.assert_array_equal(reference.voltages["h"], result.voltages["h"])


@pytest.mark.parametrize("kernel", ["dense32", "motif32", "event64", "sparse64"])
def test_every_kernel_gives_the_same_spikes_on_an_scml_bundle(tmp_path, monkeypatch, kernel):
    """The motif-block, event-driven, dense and sparse kernels compute the same integers."""
    import torch

    from neuromotif.deploy.backends import cpu
    from neuromotif.deploy.compile import compile_network
    from neuromotif.search.arch import NeuronParams, build_arch
    from neuromotif.search.export import to_float_network
    from neuromotif.search.model import RSNN

    model = RSNN(build_arch("scml", [64], 8, 20, 5, NeuronParams(du=0.3, dv=0.2)), seed=3)
    with torch.no_grad():
        model.layers[0].w_rec.mul_(3.0)  # a lively recurrence
    bundle, _ = compile_network(to_float_network(model), "loihi2", tmp_path / "b")
    x = (np.random.default_rng(4).random((6, 40, 20)) < 0.3).astype(np.uint8)
    reference = CPUBackend(bundle).run(x, record=("scml0", "readout"), record_v=True)
    assert reference.spikes["scml0"].mean() > 0.02
    rec = next(s for pre, s in CPUBackend(bundle).incoming["scml0"] if pre == "scml0")
    assert rec.blocks is not None and rec.blocks.shape == (8, 24, 8)  # recognised as a ring of motifs
    monkeypatch.setattr(
        cpu._Synapses,
        "kernel",
        lambda self, batch, events=None: kernel if kernel != "motif32" or self.blocks is not None else "sparse64",
    )
    forced = CPUBackend(bundle).run(x, record=("scml0", "readout"), record_v=True)
    assert spike_mismatches(reference.spikes, forced.spikes) == 0
    np.testing.assert_array_equal(reference.voltages["scml0"], forced.voltages["scml0"])


def test_motif_blocks_refuse_what_is_not_a_ring_of_motifs():
    import scipy.sparse as sp

    from neuromotif.deploy.backends.cpu import motif_blocks

    ring = sp.csr_matrix(np.kron(np.eye(4), np.ones((2, 2))))  # within motifs only
    assert motif_blocks(ring, 2) is not None
    far = ring.tolil()
    far[0, 6] = 5  # motif 0 <- motif 3 is a neighbour on a ring of 4 ...
    assert motif_blocks(far.tocsr(), 2) is not None
    far[0, 4] = 7  # ... motif 0 <- motif 2 is not
    assert motif_blocks(far.tocsr(), 2) is None
    assert motif_blocks(ring, 1) is None and motif_blocks(sp.csr_matrix(np.ones((4, 6))), 2) is None
