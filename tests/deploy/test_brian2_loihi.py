"""A third, independent Loihi emulator: brian2-loihi 0.5.2 (Loihi 1's neuron and synapse arithmetic
written in Brian2 equations) against our CPU backend, spike for spike, on the bundles it can
express: no bias, one (du, dv) profile per population, mixed-sign 8-bit weights, no u wrap or v
saturation reached. It cannot express biases, per-neuron decays, the 24-bit wrap of u or the
saturation of v, so those stay with Lava's models as the reference."""

from __future__ import annotations

import numpy as np
import pytest

from neuromotif.deploy.backends.cpu import CPUBackend
from tests.deploy.bundles import lif, make_bundle

brian2 = pytest.importorskip("brian2", reason="make peers installs brian2-loihi")
bl = pytest.importorskip("brian2_loihi")


def _random_bundle(path, seed: int):
    rng = np.random.default_rng(seed)

    def weights(post, pre, density):
        return 2 * rng.integers(-128, 128, (post, pre)) * (rng.random((post, pre)) < density)

    n_in, n_h, n_o = 12, 24, 5
    hidden = lif("h", n_h, int(rng.integers(0, 4095)), int(rng.integers(1, 4096)), vth=int(rng.integers(60, 300)))
    out = lif("out", n_o, int(rng.integers(0, 4095)), int(rng.integers(1, 4096)), vth=int(rng.integers(60, 300)))
    exps = rng.integers(0, 3, 3)
    return make_bundle(
        path,
        n_in,
        [hidden, out],
        [
            ("input", "h", weights(n_h, n_in, 0.5), int(exps[0])),
            ("h", "h", weights(n_h, n_h, 0.3), int(exps[1])),
            ("h", "out", weights(n_o, n_h, 0.5), int(exps[2])),
        ],
    )


def run_brian2_loihi(bundle, x: np.ndarray) -> dict[str, np.ndarray]:
    """One sample ``x`` [T, inputs] through brian2-loihi: decay_I = du + 1, decay_v = dv, threshold
    mantissa = vth, synapses with the bundle's exponent and 8-bit mixed weights; our input spike at
    step index t is brian2-loihi's spike time t + 1."""
    brian2.prefs.codegen.target = "numpy"
    brian2.start_scope()
    steps = x.shape[0]
    t_idx, n_idx = np.nonzero(x)
    groups = {bundle.input.name: bl.LoihiSpikeGeneratorGroup(bundle.input.size, n_idx, t_idx + 1)}
    for p in bundle.neuron_populations:
        assert len(np.unique(p.du)) == len(np.unique(p.dv)) == 1 and not p.bias_mant.any()
        groups[p.name] = bl.LoihiNeuronGroup(
            p.size, refractory=1, threshold_v_mant=int(p.vth), decay_v=int(p.dv[0]), decay_I=int(p.du[0]) + 1
        )
    synapses = []
    for j in bundle.projections:
        s = bl.LoihiSynapses(groups[j.pre], groups[j.post], w_exp=j.weight_exp, sign_mode=1, num_weight_bits=8)
        coo = j.weights.tocoo()
        s.connect(i=coo.col, j=coo.row)
        s.w = coo.data
        synapses.append(s)
    monitors = {p.name: bl.LoihiSpikeMonitor(groups[p.name]) for p in bundle.neuron_populations}
    bl.LoihiNetwork(*groups.values(), *synapses, *monitors.values()).run(steps)
    rasters = {}
    for name, m in monitors.items():
        r = np.zeros((steps, groups[name].N), np.int8)
        t, i = np.asarray(m.t).astype(int), np.asarray(m.i)
        r[t[t < steps], i[t < steps]] = 1
        rasters[name] = r
    return rasters


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_brian2_loihi_and_our_cpu_backend_spike_identically(tmp_path, seed):
    bundle = _random_bundle(tmp_path / "b", seed)
    x = (np.random.default_rng(100 + seed).random((1, 100, bundle.input.size)) < 0.2).astype(np.float32)
    ours = CPUBackend(bundle).run(x, record=("h", "out"))
    theirs = run_brian2_loihi(bundle, x[0])
    for name in ("h", "out"):
        assert ours.spikes[name][0].sum() > 0, "a silent population proves nothing"
        np.testing.assert_array_equal(theirs[name], ours.spikes[name][0], err_msg=name)
