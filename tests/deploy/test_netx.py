"""lava-dl netx export: a bundle compiled for the netx target runs in ``lava.lib.dl.netx.hdf5.Network``
on Lava's CPU simulation with 0 spike mismatches against our CPU backend; what netx cannot
carry is refused naming the field and value."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import numpy as np
import pytest

from neuromotif.cli import main
from neuromotif.deploy.backends.cpu import CPUBackend
from neuromotif.deploy.bundle import read_bundle
from neuromotif.deploy.netx_export import NetxError, check_netx
from neuromotif.simulation import dataset_of
from tests.deploy.bundles import lif, make_bundle
from tests.paths import QUICKSTART

LAVA_DL = Path(sys.prefix) / "lava-dl"  # `make peers`: pip install --target .venv/lava-dl lava-dl==0.6.0
TINY = [
    "data.max_samples=96",
    "model.hidden=[32]",
    "model.motif_size=8",
    "train.batch_size=32",
    "train.epochs=3",
    "search.enabled=false",
]


def _sets(extra):
    return [a for s in TINY + extra for a in ("--set", s)]


def _netx():
    """``lava.lib.dl.netx.hdf5`` without slayer (which pulls cv2 and torchvision): netx uses only
    ``slayer.neuron.rf.neuron_params``, for resonate-and-fire blocks we never write."""
    if not (LAVA_DL / "lava" / "lib" / "dl" / "netx").is_dir():
        pytest.skip("lava-dl is not installed (make peers)")
    if str(LAVA_DL) not in sys.path:
        sys.path.append(str(LAVA_DL))  # last: its top-level `tests` package must not shadow ours
    from neuromotif.deploy.lava_compat import install_hook

    install_hook()
    for name in ("lava.lib.dl.slayer", "lava.lib.dl.slayer.neuron", "lava.lib.dl.slayer.neuron.rf"):
        sys.modules.setdefault(name, types.ModuleType(name))
    sys.modules["lava.lib.dl.slayer.neuron.rf"].neuron_params = lambda *a, **k: None
    from lava.lib.dl.netx import hdf5

    return hdf5


@pytest.mark.slow
def test_netx_export_runs_on_lava_with_no_spike_mismatch(tmp_path):
    hdf5 = _netx()
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.io.sink import RingBuffer as Sink
    from lava.proc.io.source import RingBuffer as Source

    extra = ["compile.target=netx"]
    assert main(["train", QUICKSTART, "--out", str(tmp_path / "r"), "-q", *_sets(extra)]) == 0
    assert main(["compile", str(tmp_path / "r"), "-q"]) == 0
    assert main(["export", str(tmp_path / "r"), "--format", "netx", "-q"]) == 0
    bundle = read_bundle(tmp_path / "r" / "bundle")
    assert {j.weight_exp for j in bundle.projections} == {0}
    assert len(np.unique(bundle.population("scml0").dv)) > 1  # per-neuron vDecay is exercised
    data, _ = dataset_of(bundle)
    x = data.test.spikes(np.arange(2))
    steps = x.shape[1]
    ours = CPUBackend(bundle).run(x, record=("readout",)).spikes["readout"]
    for i in range(len(x)):
        net = hdf5.Network(net_config=str(tmp_path / "r" / "network.net"))
        source = Source(data=x[i].T.astype(np.int32))
        sink = Sink(shape=net.out.shape, buffer=steps)
        source.s_out.connect(net.inp)
        net.out.connect(sink.a_in)
        try:
            net.run(condition=RunSteps(num_steps=steps), run_cfg=Loihi2SimCfg(select_tag="fixed_pt"))
            got = sink.data.get().T
        finally:
            net.stop()
        assert ours[i].sum() > 0
        np.testing.assert_array_equal(got, ours[i])


def _bundle(tmp_path, w_exp=0, bias=0, extra_proj=False):
    h = lif("h", 4, 100, 200, vth=100, bias_mant=bias, bias_exp=0)
    o = lif("out", 2, 100, 200, vth=100)
    projs = [
        ("input", "h", np.full((4, 3), 100), w_exp),
        ("h", "h", np.eye(4, dtype=int) * 2, 0),
        ("h", "out", np.full((2, 4), 2), 0),
    ]
    if extra_proj:
        projs.append(("input", "out", np.full((2, 3), 2), 0))
    return make_bundle(tmp_path / "b", 3, [h, o], projs)


@pytest.mark.parametrize(
    "kwargs,expected",
    [
        ({"w_exp": 2}, "projection input->h: weight_exp 2 makes weights reach 400..400, outside netx's -256..254"),
        ({"bias": 10}, "population h: bias 10 (neuron 0) is not a multiple of 2^6"),
        ({"extra_proj": True}, "feeds both"),
    ],
)
def test_what_netx_cannot_carry_is_refused(tmp_path, kwargs, expected):
    with pytest.raises(NetxError, match=expected.replace("(", r"\(").replace(")", r"\)").replace("^", r"\^")):
        check_netx(_bundle(tmp_path, **kwargs))


def test_export_refusal_is_exit_2_one_line(tmp_path, capsys):
    _bundle(tmp_path, w_exp=2)
    assert main(["export", str(tmp_path / "b"), "--format", "netx", "--out", str(tmp_path / "n.net")]) == 2
    err = capsys.readouterr().err
    assert "neuromotif compile RUN_OR_MODEL --target netx" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "n.net").exists()
    check_netx(_bundle(tmp_path / "ok", bias=64))  # a multiple of 2^6 is fine
