"""The one LIF step (hw_models/neurons/lif.py) against hand-computed values, on the numpy ops of the
CPU backend and the torch ops of the chip precision; the neuron-model registry; the ring of motifs."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from neuromotif.hw_models import motifs
from neuromotif.hw_models.chip import load_chip
from neuromotif.hw_models.neurons import INPUT_KIND, NeuronModel, neuron_model, population_kinds, register
from neuromotif.hw_models.neurons.lif import NumpyFixedOps, fixed_params, step
from neuromotif.search.neuron import ChipOps

FMT = load_chip("loihi2").numeric
# du = 2047: u keeps (4096 - 2048) / 4096 = 1/2; dv = 1024: v keeps 3/4; bias 64 << 1 = 128; vth 100 -> 6400
PARAMS = fixed_params(np.array([2047]), np.array([1024]), np.array([64]), np.array([1]), 100, FMT)
# per step (a, u, v after the step, spike), by hand:
#   t1: u = 0 + 6400 = 6400;  v = 0 + 6400 + 128 = 6528 > 6400: spike, v = 0
#   t2: u = 3200;             v = 0 + 3200 + 128 = 3328
#   t3: u = 1600;             v = trunc(3328 * 3/4) = 2496, + 1600 + 128 = 4224
#   t4 (a = -6403): u = 800 - 6403 = -5603;  v = 3168 - 5603 + 128 = -2307
#   t5: u = trunc(-2801.5) = -2801 (toward zero);  v = trunc(-1730.25) = -1730, - 2801 + 128 = -4403
HAND = [
    (6400, 6400, 0, True),
    (0, 3200, 3328, False),
    (0, 1600, 4224, False),
    (-6403, -5603, -2307, False),
    (0, -2801, -4403, False),
]


def _numpy_run():
    u, v, out = np.zeros((1, 1)), np.zeros((1, 1)), []
    p = PARAMS.map(lambda a: a[None, :])
    for a, *_ in HAND:
        u, v, s = step(NumpyFixedOps, u, v, np.full((1, 1), float(a)), p)
        out.append((float(u[0, 0]), float(v[0, 0]), bool(s[0, 0])))
    return out


def _torch_run():
    u, v, out = torch.zeros(1, 1, dtype=torch.float64), torch.zeros(1, 1, dtype=torch.float64), []
    p = PARAMS.map(lambda a: torch.from_numpy(a)[None, :])
    for a, *_ in HAND:
        u, v, s = step(ChipOps(unit=64.0), u, v, torch.full((1, 1), float(a), dtype=torch.float64), p)
        out.append((float(u[0, 0]), float(v[0, 0]), bool(s[0, 0] > 0)))
    return out


@pytest.mark.parametrize("run", [_numpy_run, _torch_run], ids=["numpy", "torch-chip"])
def test_one_step_function_matches_hand_computation(run):
    assert run() == [(u, v, s) for _, u, v, s in HAND]


@pytest.mark.parametrize("ops", [NumpyFixedOps, ChipOps(unit=1.0)], ids=["numpy", "torch-chip"])
def test_u_wraps_at_u_bits_and_v_saturates(ops):
    lim = 2 ** (FMT.u_bits - 1)
    p = fixed_params(np.array([4095]), np.array([0]), np.array([0]), np.array([0]), 131071, FMT)  # u cleared each step
    as_array = (
        (lambda x: np.array([[x]], float))
        if ops is NumpyFixedOps
        else (lambda x: torch.tensor([[x]], dtype=torch.float64))
    )
    p = p.map(lambda a: as_array(float(a[0])))
    u, v, _ = step(ops, as_array(0.0), as_array(0.0), as_array(float(lim + 5)), p)
    assert float(u[0][0]) == -lim + 5  # 2^23 + 5 wraps to -2^23 + 5
    u, v, _ = step(ops, as_array(0.0), as_array(float(-(2**23 - 10))), as_array(float(-(lim - 1))), p)
    assert float(u[0][0]) == -(lim - 1) and float(v[0][0]) == -(2 ** (FMT.v_bits - 1) - 1)  # saturates at -(2^23 - 1)


def test_the_registry_names_every_kind_and_refuses_unknown_and_duplicate_kinds():
    assert population_kinds() == (INPUT_KIND, "lif")
    assert neuron_model("lif").fixed_fields == ("du", "dv", "bias_mant", "bias_exp")
    with pytest.raises(ValueError, match="unknown neuron kind 'izh'"):
        neuron_model("izh")
    with pytest.raises(ValueError, match="already registered"):
        register(NeuronModel("lif", "again", (), lambda pop, fmt: None, step))


@pytest.mark.parametrize("k", [1, 2, 3, 8])
def test_ring_blocks_round_trip_and_non_ring_synapses_are_refused(k):
    m = 4
    rng = np.random.default_rng(k)
    blocks = rng.integers(-3, 4, (k, m, 3 * m)).astype(np.float64)
    if k <= 2:  # with one or two motifs the neighbours coincide: compare through the matrix only
        w = motifs.blocks_to_csr(blocks)
        assert motifs.blocks_to_csr(motifs.csr_to_blocks(w, m)).toarray().tolist() == w.toarray().tolist()
    else:
        assert np.array_equal(motifs.csr_to_blocks(motifs.blocks_to_csr(blocks), m), blocks)
        far = sp.lil_matrix((k * m, k * m))
        far[0, 2 * m] = 1.0  # motif 0 <- motif 2: not a neighbour on a ring of k >= 4 (k = 3: it is k-1)
        assert (motifs.csr_to_blocks(far.tocsr(), m) is None) == (k > 3)


@pytest.mark.parametrize("ops", [NumpyFixedOps, ChipOps(unit=1.0)], ids=["numpy", "torch-chip"])
def test_a_current_past_int32_wraps_like_lavas_int32_sum_then_at_24_bits(ops):
    """Lava adds the current into int32, then applies the 24-bit wrap once: u = 0 (cleared) plus
    a = 2^31 + 5 -> int32 -2^31 + 5 = -2147483643 -> + 2^24 = -2130706427 (one correction, as Lava)."""
    p = fixed_params(np.array([4095]), np.array([0]), np.array([0]), np.array([0]), 131071, FMT)
    as_array = (
        (lambda x: np.array([[x]], float))
        if ops is NumpyFixedOps
        else (lambda x: torch.tensor([[x]], dtype=torch.float64))
    )
    p = p.map(lambda a: as_array(float(a[0])))
    u, _, _ = step(ops, as_array(0.0), as_array(0.0), as_array(float(2**31 + 5)), p, int32=True)
    assert float(u[0][0]) == -2130706427
    if ops is NumpyFixedOps:  # without the int32 branch the result differs: the branch is what makes it right
        u, _, _ = step(ops, as_array(0.0), as_array(0.0), as_array(float(2**31 + 5)), p, int32=False)
        assert float(u[0][0]) != -2130706427


def test_limits_are_dropped_only_where_no_input_can_reach_them():
    """u keeps 1/2 (du = 2047), v keeps 3/4, bias 128: |u| < A / (1 - 1/2) = 2A and
    |v| < (2A + 128) / (1 - 3/4) = 8A + 512, by hand."""
    from dataclasses import replace

    from neuromotif.hw_models.neurons.lif import unreachable_limits_dropped

    p = replace(PARAMS, u_limit=1000.0, v_limit=4505.0)
    assert unreachable_limits_dropped(p, 499.0).u_limit is None  # 998 < 1000
    assert unreachable_limits_dropped(p, 500.0).u_limit == 1000.0  # 1000: at the limit, kept
    assert unreachable_limits_dropped(p, 500.0).v_limit == 4505.0  # u unbounded: v not examined
    # v: (998 + 128) / (1 - 3/4) = 4504
    assert unreachable_limits_dropped(p, 499.0).v_limit is None
    assert unreachable_limits_dropped(replace(p, v_limit=4504.0), 499.0).v_limit == 4504.0
    # v without decay (dv = 0) is unbounded below: never dropped
    no_decay = replace(p, keep_v=np.array([1.0]))
    assert unreachable_limits_dropped(no_decay, 1.0).v_limit == 4505.0


def test_the_bound_holds_when_the_largest_input_arrives_every_step():
    """Driven by the largest current every step, u approaches A / (1 - k) without reaching it, so a
    dropped wrap check could never have fired (the claim the bound rests on)."""
    p = PARAMS.map(lambda a: a[None, :])
    p = type(p)(p.keep_u, p.keep_v, p.bias, 1e12)  # no spikes, no limits: watch u and v grow
    u, v, peak_u, peak_v = np.zeros((1, 1)), np.zeros((1, 1)), 0.0, 0.0
    for _ in range(200):
        u, v, _s = step(NumpyFixedOps, u, v, np.full((1, 1), 499.0), p)
        peak_u, peak_v = max(peak_u, float(u[0, 0])), max(peak_v, float(v[0, 0]))
    assert 990 < peak_u < 998 and peak_v < (998 + 128) * 4


def test_populations_concatenated_step_like_each_alone():
    from neuromotif.hw_models.neurons.lif import concat_params

    other = fixed_params(np.array([100, 200]), np.array([0, 4095]), np.array([0, -5]), np.array([0, 2]), 7, FMT)
    fused = concat_params([PARAMS, other], [1, 2]).map(lambda a: a[None, :])
    rng = np.random.default_rng(0)
    u3, v3 = np.zeros((4, 3)), np.zeros((4, 3))
    parts = [(np.zeros((4, 1)), np.zeros((4, 1))), (np.zeros((4, 2)), np.zeros((4, 2)))]
    alone = [PARAMS.map(lambda a: a[None, :]), other.map(lambda a: a[None, :])]
    for _ in range(30):
        a = np.trunc(rng.normal(0, 4000, (4, 3)))
        u3, v3, s3 = step(NumpyFixedOps, u3, v3, a.copy(), fused)
        for i, (q, cols) in enumerate(zip(alone, (slice(0, 1), slice(1, 3)), strict=True)):
            u, v, s = step(NumpyFixedOps, *parts[i], a[:, cols].copy(), q)
            parts[i] = (u, v)
            np.testing.assert_array_equal(s, s3[:, cols])
            np.testing.assert_array_equal(v, v3[:, cols])
