"""The torch backend equals the CPU backend bit for bit (spikes, v, u, counts, activity) on random
recurrent bundles, an SC-ML bundle, fewer weight bits, and the wrap / saturation edge cases; on
CUDA too when a GPU exists (the same tests, parametrised by device)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from neuromotif.deploy.backends import make_backend
from neuromotif.deploy.synthetic_bundles import lif, make_bundle, scml_bundle
from tests.deploy.bundles import random_bundle

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def _same(bundle, x, device):
    names = tuple(p.name for p in bundle.neuron_populations)
    cpu = make_backend("cpu", bundle).run(x, record=names, record_v=True, activity=True)
    tch = make_backend("torch", bundle, device=device).run(x, record=names, record_v=True, activity=True)
    assert np.array_equal(cpu.counts, tch.counts)
    for key in ("spikes", "voltages", "currents", "final_v", "final_u"):
        for n in names:
            assert np.array_equal(getattr(cpu, key)[n], getattr(tch, key)[n]), (key, n)
    assert np.array_equal(cpu.activity_spikes, tch.activity_spikes)
    assert np.array_equal(cpu.activity_active, tch.activity_active)
    return cpu


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("seed", [0, 1])
def test_random_recurrent_bundles(tmp_path, device, seed):
    b = random_bundle(tmp_path / "b", seed, exps=(2, 1, 0))
    x = (np.random.default_rng(seed).random((3, 30, 12)) < 0.3).astype(np.uint8)
    assert _same(b, x, device).spikes["h"].sum() > 0


@pytest.mark.parametrize("device", DEVICES)
def test_an_scml_bundle_and_fewer_weight_bits(tmp_path, device):
    x = (np.random.default_rng(2).random((4, 25, 64)) < 0.2).astype(np.uint8)
    assert _same(scml_bundle(tmp_path / "s", 128, motif_size=8), x, device).spikes["h"].sum() > 0
    b = random_bundle(tmp_path / "w", 3, exps=(2, 1, 0), numeric={"weight_bits": 4})
    _same(b, (np.random.default_rng(3).random((2, 25, 12)) < 0.3).astype(np.uint8), device)


@pytest.mark.parametrize("device", DEVICES)
def test_wrap_saturation_and_int32_edge_cases(tmp_path, device):
    n = 4
    pops = [
        lif("wrap", n, du=[0, 4095, 100, 0], dv=0, vth=131071),
        lif("sat", n, du=4095, dv=0, vth=131071, bias_mant=-4096, bias_exp=7),
        lif("clear", n, du=4095, dv=[0, 4095, 0, 4095], vth=40, bias_mant=[0, 5, 4095, 0], bias_exp=[0, 0, 7, 3]),
    ]
    w_big = np.full((n, 8), 254)
    b = make_bundle(
        tmp_path / "b",
        8,
        pops,
        [("input", "wrap", w_big, 7), ("input", "sat", w_big // 127, 0), ("input", "clear", w_big // 2, 0)],
        lava_rounds_weights=True,
    )
    x = np.ones((2, 20, 8), np.uint8)
    x[1, ::2] = 0
    cpu = _same(b, x, device)
    assert (cpu.currents["wrap"] < 0).any() and (cpu.voltages["sat"] == -(2**23 - 1)).any()
