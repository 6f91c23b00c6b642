"""The neuron, the SC-ML layer, the baselines and the model: hand-computed dynamics,
connectivity against the spec, gradients, and torch/numpy rounding agreement."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from neuromotif.core.errors import InputError
from neuromotif.hw_models import formats, load_chip
from neuromotif.search.arch import ArchSpec, LayerSpec, NeuronParams, build_arch, default_motif, random_motif
from neuromotif.search.baselines import FeedForwardLayer
from neuromotif.search.model import RSNN, predict
from neuromotif.search.scml import SCMLLayer


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_lif_dynamics_by_hand_with_one_step_input_delay():
    layer = FeedForwardLayer(1, 1, NeuronParams(du=0.5, dv=0.25, vth=1.0), gen())
    with torch.no_grad():
        layer.w_in.fill_(0.5)
    x = torch.tensor([1.0, 1, 0, 1, 0, 0]).view(1, 6, 1)
    out = layer(x, record_v=True)
    # a[t] = 0.5 x[t-1] = 0 .5 .5 0 .5 0 ; u = 0 .5 .75 .375 .6875 .34375
    # v = 0 .5 (1.125 > 1: spike, 0) .375 .96875 (1.0703125: spike, 0)
    assert out["spikes"].view(-1).tolist() == [0, 0, 1, 0, 0, 1]
    assert out["v"].view(-1).tolist() == pytest.approx([0, 0.5, 0, 0.375, 0.96875, 0])


def test_threshold_is_strict_and_bias_integrates():
    layer = FeedForwardLayer(1, 1, NeuronParams(du=1.0, dv=0.0, vth=1.0, bias=0.25), gen())
    with torch.no_grad():
        layer.w_in.zero_()
    out = layer(torch.zeros(1, 6, 1), record_v=True)
    # v = .25 .5 .75 1.0 (not > 1) 1.25 (spike) 0.25
    assert out["spikes"].view(-1).tolist() == [0, 0, 0, 0, 1, 0]
    assert out["v"].view(-1).tolist() == pytest.approx([0.25, 0.5, 0.75, 1.0, 0.0, 0.25])


def test_recurrent_hop_adds_one_step():
    intra = np.array([[0, 0], [1, 0]], np.int8)  # neuron 0 excites neuron 1
    spec = LayerSpec(
        "scml", 2, 2, intra, np.zeros((2, 2), np.int8), np.zeros((2, 2), np.int8), NeuronParams(du=1.0, dv=1.0, vth=1.0)
    )
    layer = SCMLLayer(1, spec, gen())
    with torch.no_grad():
        layer.w_in.copy_(torch.tensor([[2.0], [0.0]]))
        layer.w_rec.fill_(2.0)
    x = torch.tensor([1.0, 0, 0, 0]).view(1, 4, 1)
    s = layer(x)["spikes"][0]
    # input x[0] reaches neuron 0 at t=1; its spike reaches neuron 1 at t=2
    assert s[:, 0].tolist() == [0, 1, 0, 0] and s[:, 1].tolist() == [0, 0, 1, 0]


@pytest.mark.parametrize("k", [1, 2, 5])
def test_scml_connectivity_equals_the_spec(k):
    m = 4
    rng = np.random.default_rng(1)
    intra, prev, nxt = random_motif(m, rng, 0.6, 0.5)
    spec = LayerSpec("scml", k * m, m, intra, prev, nxt)
    layer = SCMLLayer(3, spec, gen())
    dense = layer.recurrent_matrix().toarray()
    expected_sign = np.zeros((k * m, k * m), int)
    for a in range(k):
        expected_sign[a * m : (a + 1) * m, a * m : (a + 1) * m] = intra
        if k > 1:
            b = (a - 1) % k
            expected_sign[a * m : (a + 1) * m, b * m : (b + 1) * m] += prev
        if k > 2:
            c = (a + 1) % k
            expected_sign[a * m : (a + 1) * m, c * m : (c + 1) * m] += nxt
    np.testing.assert_array_equal(np.sign(dense), expected_sign)
    # the batched motif product equals the sparse matrix
    s = (torch.rand(2, k * m, generator=gen(3)) > 0.5).float()
    state = s.view(2, k, m).transpose(0, 1).contiguous()  # the layer's motif-major layout [K, B, m]
    current = layer.recurrent_current(state, layer.recurrent_weights()).transpose(0, 1).reshape(2, k * m)
    torch.testing.assert_close(current, torch.from_numpy(s.numpy() @ dense.T).float())


@pytest.mark.parametrize("k", [1, 3, 4])
def test_motif_recurrence_backward_matches_autograd(k):
    from neuromotif.search.scml import MotifRecurrence, neighbours

    s = torch.rand(k, 2, 3, dtype=torch.float64, generator=gen(k), requires_grad=True)
    w = torch.rand(k, 9, 3, dtype=torch.float64, generator=gen(k + 1), requires_grad=True)
    assert torch.autograd.gradcheck(MotifRecurrence.apply, (s, w))
    torch.testing.assert_close(MotifRecurrence.apply(s, w), torch.bmm(neighbours(s), w))


def test_gradients_reach_every_trainable_parameter():
    for kind in ("scml", "dense", "feedforward", "random-scml"):
        model = RSNN(build_arch(kind, [32, 16], 8, 10, 3, NeuronParams()), seed=0)
        x = (torch.rand(4, 20, 10, generator=gen(1)) > 0.7).float()
        out = model(x)
        torch.nn.functional.cross_entropy(out["counts"], torch.tensor([0, 1, 2, 0])).backward()
        for name, p in model.named_parameters():
            assert p.grad is not None and p.grad.abs().sum() > 0, f"{kind}: no gradient for {name}"


L2 = load_chip("loihi2").numeric  # 8-bit weights, 17-bit vth, 12-bit decays
SMALL = dataclasses.replace(L2, weight_bits=4, vth_bits=16, decay_bits=8)  # a user's chip YAML


# Weights from {0.5, 0.25, -0.125, 0.125, 0}: every one is exact on the chip, so the expected
# integers follow by hand. 8 bits (mantissa -128..127, stored << 1): max|w| 0.5 needs 254 / 0.5 = 508
# fixed units -> the scale is the floor 2^10 = 1024; exponent 2 gives mantissas w * 1024 / 2^(2+1)
# = 64, 32, -16, 16 (exponent 1 would clip 0.5 to 127/256). 4 bits (-8..7, stored << 5): mantissas
# w * 1024 / 2^(2+5) = 4, 2, -1, 1.
HAND_WEIGHTS = torch.tensor([[0.5, 0.0, 0.25, -0.125, 0.125, 0.0]] * 8, dtype=torch.float32)


def _hand_layer(numeric):
    model = RSNN(build_arch("feedforward", [8], 1, 6, 3, NeuronParams(du=0.3, dv=0.07)), seed=0, numeric=numeric)
    layer = model.layers[0]
    with torch.no_grad():
        layer.w_in.copy_(HAND_WEIGHTS)
        return layer.chip_parameters()


def test_chip_parameters_are_the_compilers_by_hand():
    p = _hand_layer(L2)
    assert p["scale"] == 1024.0
    # stored integers 2 * (64, 0, 32, -16, 16, 0), times 2^2 / 1024: the float weights exactly
    stored = p["w_in"].detach().numpy() * 1024 / 2**2
    assert stored[0].tolist() == [128.0, 0.0, 64.0, -32.0, 32.0, 0.0]
    assert p["w_in"].detach().numpy().tolist() == HAND_WEIGHTS.double().numpy().tolist()
    lif = p["params"]
    # du 0.3 -> round(0.3 * 4096) = 1229 -> Lava du 1228, u keeps (4096 - 1229) / 4096; dv 0.07 -> 287
    assert lif.keep_u.tolist() == [2867 / 4096] * 8 and lif.keep_v.tolist() == [3809 / 4096] * 8
    assert lif.vth == 1024 * 64 and lif.u_limit == 2**23 and lif.v_limit == 2**23 - 1


def test_chip_parameters_follow_the_models_numeric_format():
    p = _hand_layer(SMALL)
    assert p["scale"] == 1024.0
    stored = p["w_in"].detach().numpy() * 1024 / 2**2
    assert stored[0].tolist() == [128.0, 0.0, 64.0, -32.0, 32.0, 0.0]  # 4, 2, -1, 1 << 5
    # 8-bit decays on Lava's 12-bit scale: dv 0.07 -> round(0.07 * 256) = 18 -> 18 * 16 = 288
    assert (p["params"].keep_v * 4096).tolist() == [4096 - 288] * 8


@pytest.mark.parametrize("values", [np.linspace(-2, 2, 101), np.array([0.5, -0.5, 1.5, 2.5, -2.5, 1e-6])])
@pytest.mark.parametrize("fmt", [L2, SMALL])
def test_torch_and_numpy_rounding_agree(values, fmt):
    t = torch.from_numpy(values)
    for scale, e in ((1024, 0), (1024, 3), (4096, 1)):
        np.testing.assert_array_equal(
            formats.quantize_weight(values, scale, e, fmt), formats.quantize_weight(t, scale, e, fmt).numpy()
        )
    frac = np.abs(values) / 2
    np.testing.assert_array_equal(
        formats.du_to_int(np.clip(frac, 0, 1), fmt), formats.du_to_int(t.abs().clip(0, 2) / 2, fmt).numpy()
    )
    np.testing.assert_array_equal(
        formats.dv_to_int(np.clip(frac, 0, 1), fmt), formats.dv_to_int(t.abs().clip(0, 2) / 2, fmt).numpy()
    )
    np.testing.assert_allclose(formats.quantize_bias(values, 1024, fmt), formats.quantize_bias(t, 1024, fmt).numpy())


def test_exponent_choice_trades_clipping_for_resolution():
    w = np.r_[np.linspace(0, 0.24, 1000), 0.26]  # one weight just past the finer exponent's range
    assert formats.weight_exponent(0.26, 1024, L2) == 1
    assert formats.choose_exponent(w, 1024, L2) == 0  # clip it (0.26 -> 0.248) and halve everyone's step
    assert formats.choose_exponent(np.r_[np.full(99, 0.01), 1.0], 1024, L2) == 2  # clipping 1.0 would cost more
    assert formats.choose_exponent(np.full(10, 0.5), 1024, L2) == formats.weight_exponent(0.5, 1024, L2)


def test_fixed_point_values_by_hand():
    assert formats.du_to_int(np.float64(0.25), L2) == 1023  # Lava decays u by (1023 + 1) / 4096
    assert formats.dv_to_int(np.float64(0.1), L2) == 410  # round(409.6)
    assert formats.population_scale(0.5, 1.0, L2) == 1024 and formats.population_scale(0.01, 1.0, L2) == 32768
    assert formats.weight_exponent(0.5, 1024, L2) == 2  # 0.5 * 1024 = 512 = 2 * 128 * 2**1 ... > 127 * 4
    assert formats.quantize_weight(np.float64(0.3), 1024, 2, L2) == pytest.approx(0.296875)  # 2 * 38 * 4 / 1024
    mant, exp = formats.bias_to_fixed(np.array([0.01, -3.0]), 1024, L2)
    assert mant.tolist() == [655, -3072] and exp.tolist() == [0, 6]  # 0.01*65536 = 655.36; -196608 = -3072 << 6


def test_netx_scale_clips_no_weight_it_need_not():
    """At exponent 0 (the netx target) the 1024 resolution floor would store 1.0 as 1024, far past
    the 254 the chip keeps: the scale drops to the largest power of two that fits, 128 (1.0 -> 128).
    The wrong implementation (the floor first) clipped 16-48 % of a trained network's weights."""
    netx = dataclasses.replace(L2, weight_exp_max=0)
    assert formats.population_scale(1.0, 1.0, netx) == 128  # 254 / 1.0 -> 2^7
    assert formats.population_scale(0.2, 1.0, netx) == 1024  # 254 / 0.2 = 1270 >= the floor: unchanged
    assert formats.population_scale(1.0, 1.0, L2) == 1024  # exponent up to 7: 1.0 * 1024 / 2^2 fits
    w = np.linspace(-1.0, 1.0, 101)
    scale = formats.population_scale(1.0, 1.0, netx)
    e = formats.choose_exponent(w, scale, netx)
    assert e == 0 and np.abs(formats.quantize_weight(w, scale, e, netx) - w).max() <= 2 / scale  # nothing clipped


def test_fixed_point_values_by_hand_for_a_4_bit_16_bit_chip():
    assert formats.max_stored_weight(SMALL) == 224 and formats.mantissa_range(SMALL) == (-8, 7)  # 7 << 5
    assert formats.population_scale(0.5, 1.0, SMALL) == 1024  # 224 / 0.5 = 448 -> the 1024 floor
    assert formats.population_scale(0.01, 1.0, SMALL) == 32768  # 22,400 -> 32768 < 2^16 - 1
    assert formats.population_scale(0.01, 2.0, SMALL) == 16384  # vth 2 * 32768 would not fit 16 bits
    assert formats.weight_exponent(0.5, 1024, SMALL) == 2  # ceil(log2(512 / 7)) - 5: 512 / 2^(2+5) = 4 <= 7
    assert formats.weight_exponent(0.1, 1024, SMALL) == 0  # 102.4 / 2^5 = 3.2 <= 7
    assert formats.quantize_weight(np.float64(0.3), 1024, 2, SMALL) == pytest.approx(
        0.25
    )  # round(2.4) = 2 -> 2*128/1024
    assert formats.du_to_int(np.float64(0.25), SMALL) == 1023  # 0.25 * 256 = 64 -> 64 * 16 - 1
    assert formats.dv_to_int(np.float64(0.1), SMALL) == 416  # round(25.6) = 26 -> 26 * 16
    assert formats.vth_to_int(1.0, 32768, SMALL) == 32768
    with pytest.raises(ValueError, match="does not fit 16 bits"):
        formats.vth_to_int(2.0, 32768, SMALL)


def test_predict_ties_go_to_the_lowest_class():
    counts = np.array([[3, 5, 5], [0, 0, 0]])
    assert predict(counts).tolist() == [1, 0]
    assert predict(torch.from_numpy(counts)).tolist() == [1, 0]


def test_arch_yaml_round_trip_and_readable_motifs(tmp_path):
    arch = build_arch("random-scml", [32], 4, 10, 3, NeuronParams(), seed=2)
    arch.save(tmp_path / "a.yaml")
    text = (tmp_path / "a.yaml").read_text()
    assert "intra:" in text and all(
        set(r) <= set("EI.") for r in ArchSpec.load(tmp_path / "a.yaml").to_dict()["layers"][0]["intra"]
    )
    again = ArchSpec.load(tmp_path / "a.yaml")
    assert again.to_dict() == arch.to_dict()
    intra, _, _ = default_motif(3)
    assert intra.tolist() == [[0, 1, 1], [1, 0, 1], [1, 1, 0]]


@pytest.mark.parametrize(
    "mutate,expected",
    [
        (lambda d: d["layers"][0].update(neurons=30), "not a multiple of motif size 4"),
        (lambda d: d["layers"][0].update(intra=["EEXE"] * 4), "bad type code 'X'"),
        (lambda d: d["layers"][0].update(intra=["EE"] * 4), "must be 4x4"),
        (lambda d: d["layers"][0].update(kind="lstm"), "layer kind 'lstm'"),
        (lambda d: d.update(version=99), "architecture version 99"),
        (lambda d: d["layers"][0]["neuron"].update(dv=1.5), "decay fraction"),
    ],
)
def test_arch_validation_errors(mutate, expected):
    d = build_arch("scml", [32], 4, 10, 3, NeuronParams()).to_dict()
    mutate(d)
    with pytest.raises(InputError, match=expected.replace("(", r"\(")):
        ArchSpec.from_dict(d)
