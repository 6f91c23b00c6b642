"""Lava on Python 3.11 through deploy.lava_compat: a hand-computed LIF+Dense run."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from neuromotif.deploy import lava_compat


def test_patch_source_rewrites_only_mutable_encoder_defaults():
    src = (
        "from __future__ import annotations\nfrom dataclasses import dataclass\n"
        "@dataclass\nclass C:\n    x: ByteEncoder = ByteEncoder()\n    n: int = 0\n"
    )
    out = lava_compat.patch_source(src)
    assert "x: ByteEncoder = field(default_factory=ByteEncoder)" in out
    assert "n: int = 0" in out
    assert out.splitlines()[1] == "from dataclasses import field"  # after the __future__ import
    assert lava_compat.patch_source("a = 1\n") == "a = 1\n"


def test_missing_lava_gives_install_hint(monkeypatch):
    monkeypatch.setattr(lava_compat, "lava_available", lambda: False)
    with pytest.raises(lava_compat.LavaMissingError, match="pip install --no-deps --ignore-requires-python lava-nc"):
        lava_compat.import_lava()


def _child_pids() -> set[int]:
    """Live (non-zombie) children of this process, read from /proc.

    Python's ``multiprocessing.resource_tracker`` is left out by name: it is one helper per
    interpreter, started on first shared-memory use, and exits with the interpreter.
    """
    me, kids = os.getpid(), set()
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line)
        except OSError:
            continue
        if int(fields.get("PPid", "0").strip()) != me or fields.get("State", "").startswith("Z"):
            continue
        cmdline = (status.parent / "cmdline").read_bytes()
        if b"multiprocessing.resource_tracker" not in cmdline:
            kids.add(int(status.parent.name))
    return kids


@pytest.mark.skipif(not lava_compat.lava_available(), reason="lava-nc not installed (make setup installs it)")
def test_lava_lif_dense_fixed_point_matches_hand_computation():
    lava_compat.import_lava()
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.dense.process import Dense
    from lava.proc.io.sink import RingBuffer as Sink
    from lava.proc.io.source import RingBuffer as Source
    from lava.proc.lif.process import LIF

    # Input spikes x[0..9]; the source sends x[t-1] at step t, Dense delays one more step,
    # so the LIF sees a_in(t) = w * x[t-2].
    x = np.array([[1, 1, 1, 0, 0, 1, 1, 0, 0, 0]])
    steps = x.shape[1]
    before = _child_pids()
    src = Source(data=x)
    dense = Dense(weights=np.array([[100]]))  # mixed sign mode: 100 is even, kept as is
    # du = 4095 clears u every step, so u(t) = a_in(t) << 6 = 6400 per arriving spike.
    # dv = 0: no leak. vth = 150 -> threshold 150 << 6 = 9600.
    lif = LIF(shape=(1,), du=4095, dv=0, vth=150, bias_mant=0, bias_exp=0)
    sink = Sink(shape=(1,), buffer=steps)
    src.s_out.connect(dense.s_in)
    dense.a_out.connect(lif.a_in)
    lif.s_out.connect(sink.a_in)
    try:
        lif.run(condition=RunSteps(num_steps=steps), run_cfg=Loihi2SimCfg(select_tag="fixed_pt"))
        spikes = sink.data.get().astype(int)
        v_end = int(lif.v.get()[0])
    finally:
        lif.stop()
    # v by step (1-based): t1 0 | t2 6400 | t3 12800 > 9600 -> spike, 0 | t4 6400 | t5 6400 | t6 6400
    # | t7 12800 -> spike, 0 | t8 6400 | t9 6400 | t10 6400
    expected = np.zeros((1, steps), int)
    expected[0, [2, 6]] = 1  # steps 3 and 7
    np.testing.assert_array_equal(spikes, expected)
    assert v_end == 6400
    assert _child_pids() <= before, "Lava left child processes behind"
