"""The torch ``chip`` precision is the fixed point, bit for bit: zero spike and zero v mismatches
against the CPU backend (itself checked against Lava) on every layer of compiled bundles.

Cases: every layer kind, two hidden layers, per-neuron decays that the compiler must cluster
into profiles (what intrinsic plasticity leaves), biases, du = 0 (u wraps at 24 bits), large
weights (u wraps, v saturates), a 4-bit-weight chip, and a model trained with QAT.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from neuromotif.config import load_config
from neuromotif.deploy.backends.cpu import CPUBackend
from neuromotif.deploy.compile import compile_network
from neuromotif.hw_models import load_chip
from neuromotif.search.arch import NeuronParams, build_arch
from neuromotif.search.export import population_names, to_float_network
from neuromotif.search.model import RSNN
from neuromotif.search.train import load_model, record_state_ranges

ROOT = Path(__file__).resolve().parents[2]
L2 = load_chip("loihi2").numeric


def model_for(kind: str, hidden: list[int], neuron: NeuronParams, seed: int = 0, gain: float = 1.0, numeric=L2) -> RSNN:
    model = RSNN(build_arch(kind, hidden, 4, 12, 5, neuron, seed=seed), seed=seed, numeric=numeric)
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for layer in model.populations():
            layer.w_in.mul_(gain)
            layer.dv.copy_(torch.from_numpy(rng.uniform(0.02, 0.4, layer.n)).float())  # IP-like: all different
            layer.bias.copy_(torch.from_numpy(rng.normal(0, 0.02, layer.n)).float())
    return model


def compare(model: RSNN, tmp_path, x: np.ndarray, chip: str = "loihi2") -> dict[str, int]:
    """Compile ``model``, run the bundle on the CPU backend and the model in chip precision."""
    bundle, _ = compile_network(to_float_network(model), chip, tmp_path / "bundle", model.max_profiles)
    names = population_names(model)
    fixed = CPUBackend(bundle).run(x, record=tuple(names), record_v=True)
    model.set_precision("chip")
    with torch.no_grad():
        trace = model(torch.from_numpy(x).float(), record=True)["trace"]
    model.set_precision("float")
    spikes = 0
    for name, out in zip(names, trace, strict=True):
        pop = bundle.population(name)
        np.testing.assert_array_equal(out["spikes"].numpy(), fixed.spikes[name], err_msg=f"spikes of {name}")
        np.testing.assert_array_equal(out["v"].numpy() * 64 * pop.scale, fixed.voltages[name], err_msg=f"v of {name}")
        spikes += int(fixed.spikes[name].sum())
    assert spikes > 0, "the case exercises no spikes"
    return {
        "profiles": max(int(p.profiles.max()) + 1 for p in bundle.neuron_populations),
        "u_peak": max(float(np.abs(fixed.currents[n]).max()) for n in names),
    }


X = (np.random.default_rng(1).random((6, 40, 12)) < 0.3).astype(np.uint8)


@pytest.mark.parametrize("kind", ["scml", "random-scml", "dense", "feedforward"])
def test_every_layer_kind_is_bit_identical(tmp_path, kind):
    seen = compare(model_for(kind, [16], NeuronParams(du=0.25, dv=0.1)), tmp_path, X)
    assert seen["profiles"] == 4  # many distinct decays, clustered exactly as the compiler does


def test_two_hidden_layers(tmp_path):
    compare(model_for("scml", [16, 8], NeuronParams(du=0.3, dv=0.1), seed=3), tmp_path, X)


def peaks(model: RSNN, run) -> dict[str, float]:
    """Run ``run()`` with the first hidden layer recording its u / v peaks (fixed units, before wrap / clip)."""
    layer = model.layers[0]
    layer.range_stats = {}
    try:
        run()
        return dict(layer.range_stats)
    finally:
        layer.range_stats = None


def test_du_zero_wraps_u_and_still_matches(tmp_path):
    model = model_for("scml", [16], NeuronParams(du=0.0, dv=0.1), seed=4, gain=3.0)
    x = (np.random.default_rng(2).random((4, 120, 12)) < 0.6).astype(np.uint8)
    seen = peaks(model, lambda: compare(model, tmp_path, x))
    assert seen["u_max_abs"] > 2**23  # u passed the 24-bit wrap: the chip flipped its sign, and so did torch


def test_large_weights_wrap_and_saturate_and_still_match(tmp_path):
    model = model_for("dense", [16], NeuronParams(du=0.02, dv=0.0), seed=5, gain=40.0)
    with torch.no_grad():
        model.layers[0].bias.fill_(-5.0)
    x = (np.random.default_rng(3).random((4, 60, 12)) < 0.7).astype(np.uint8)
    seen = peaks(model, lambda: compare(model, tmp_path, x))
    assert seen["u_max_abs"] > 2**23 and seen["v_max_abs"] > 2**23 - 1  # wrapped and saturated


def test_a_4_bit_weight_chip(tmp_path):
    import yaml

    raw = yaml.safe_load((ROOT / "hw_models" / "chips" / "loihi2.yaml").read_text())
    raw["numeric"].update(weight_bits=4, vth_bits=16)
    (tmp_path / "small.yaml").write_text(yaml.safe_dump(raw))
    small = load_chip(tmp_path / "small.yaml").numeric
    assert small == dataclasses.replace(L2, weight_bits=4, vth_bits=16)
    compare(model_for("scml", [16], NeuronParams(), seed=6, numeric=small), tmp_path, X, str(tmp_path / "small.yaml"))


def test_a_model_trained_with_qat_matches_and_the_compiler_predicts_overflow(tmp_path):
    from neuromotif.stages import compile_checkpoint, train_model

    cfg = load_config(
        None,
        [
            "data.max_samples=64",
            "model.hidden=[16]",
            "model.motif_size=4",
            "train.epochs=2",
            "train.qat_epochs=1",
            "train.batch_size=32",
            "train.ip=true",
            "model.neuron.du=0",
        ],
    )
    train_model(cfg, tmp_path / "run")
    model, payload = load_model(tmp_path / "run" / "model.pt")
    ranges = payload["state_ranges"]["populations"]
    assert set(ranges) == {"scml0", "readout"} and ranges["scml0"]["u_max_abs"] > 0
    bundle, _ = compile_checkpoint(tmp_path / "run", None, tmp_path / "run" / "bundle")
    overflow = bundle.manifest["overflow"]
    assert overflow["checked"] and set(overflow["populations"]) == {"scml0", "readout"}
    u_peak = overflow["populations"]["scml0"]["u_peak"]
    assert (u_peak > 2**23) == any("population scml0: u reaches" in w for w in overflow["warnings"])
    from neuromotif.simulation import dataset_of

    data, _ = dataset_of(bundle)
    x = data.test.spikes(np.arange(16))
    compare(model, tmp_path / "again", x)


def test_recorded_ranges_are_in_threshold_units(tmp_path):
    model = model_for("scml", [16], NeuronParams(du=0.25, dv=0.1), seed=7)

    class Split:  # the smallest SpikeSplit: what record_state_ranges reads
        def __init__(self, x):
            self.x, self.labels = x, np.zeros(len(x), int)

        def __len__(self):
            return len(self.x)

        def subset(self, idx):
            return Split(self.x[idx])

        def spikes(self, idx=None):
            return self.x if idx is None else self.x[idx]

    ranges = record_state_ranges(model, Split(X), torch.device("cpu"))["populations"]
    bundle, _ = compile_network(to_float_network(model), "loihi2", tmp_path / "b", model.max_profiles)
    fixed = CPUBackend(bundle).run(X, record=("scml0",), record_v=True)
    unit = 64 * bundle.population("scml0").scale
    assert ranges["scml0"]["u_max_abs"] * unit == float(np.abs(fixed.currents["scml0"]).max())  # no wrap here
