"""Backends behind one interface: the registry, one ``run`` signature, clear refusals."""

from __future__ import annotations

import numpy as np
import pytest

from neuromotif.deploy.backends import BACKENDS, UnsupportedOption, make_backend
from neuromotif.deploy.synthetic_bundles import scml_bundle


def test_registry_lists_every_backend_and_refuses_an_unknown_one(tmp_path):
    assert set(BACKENDS) == {"cpu", "lava", "sanafe", "torch"}
    bundle = scml_bundle(tmp_path / "b", 32, motif_size=8, inputs=8, outputs=4)
    with pytest.raises(ValueError, match="unknown backend 'gpu': choose one of cpu, lava, sanafe, torch"):
        make_backend("gpu", bundle)


def test_lava_refuses_what_it_cannot_record_before_starting_a_session(tmp_path):
    bundle = scml_bundle(tmp_path / "b", 32, motif_size=8, inputs=8, outputs=4)
    lava = make_backend("lava", bundle, timeout_s=30)
    x = np.zeros((1, 5, 8), np.float32)
    with pytest.raises(UnsupportedOption, match="lava backend does not record per-step v and u: use the cpu"):
        lava.run(x, record_v=True)
    with pytest.raises(UnsupportedOption, match="activity counts"):
        lava.run(x, activity=True)


def test_head_keeps_the_first_samples_recordings(tmp_path):
    bundle = scml_bundle(tmp_path / "b", 32, motif_size=8, inputs=8, outputs=4, seed=3)
    x = (np.random.default_rng(0).random((6, 20, 8)) < 0.3).astype(np.float32)
    cpu = make_backend("cpu", bundle)
    full = cpu.run(x, record=("h",), record_v=True)
    part = cpu.run(x[:2], record=("h",), record_v=True)
    head = full.head(2)
    assert np.array_equal(head.counts, part.counts) and np.array_equal(head.spikes["h"], part.spikes["h"])
    assert np.array_equal(head.voltages["h"], part.voltages["h"]) and head.samples == 2
