"""The quickstart end to end at full size: its accuracy targets and CPU/Lava equivalence.

In a file of its own so that pytest-xdist (``--dist loadfile``) can run it, the suite's longest
test, on one worker while the other takes the rest of the compiler tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from neuromotif.config import load_config
from neuromotif.deploy.backends.cpu import CPUBackend
from neuromotif.deploy.divergence import spike_mismatches
from neuromotif.simulation import dataset_of
from neuromotif.stages import compile_checkpoint as compile_model
from neuromotif.stages import train_model


@pytest.mark.slow
def test_quickstart_fixed_point_accuracy_and_lava_equivalence(tmp_path):
    """Issue targets on the quickstart model (SC-ML, digits-saccade): >= 94 % float test accuracy,
    fixed-point CPU accuracy within 1 point of float, zero CPU/Lava spike mismatches on one test sample
    of every class (10 samples, about 1.2 s each on Lava; the first 20 test samples, the demo's
    ``simulate.lava_samples``, took twice as long and cover fewer classes)."""
    from neuromotif.deploy.backends.lava import LavaBackend

    cfg = load_config(Path(__file__).parents[2] / "configs" / "quickstart.yaml")
    metrics = train_model(cfg, tmp_path / "run")
    assert metrics["test_accuracy_float"] >= 0.94, metrics
    bundle, _ = compile_model(tmp_path / "run", "loihi2", tmp_path / "run" / "bundle")
    data, _ = dataset_of(bundle)
    fixed = CPUBackend(bundle).run(data.test.spikes())
    fixed_acc = float((np.argmax(fixed.counts, 1) == data.test.labels).mean())
    assert abs(fixed_acc - metrics["test_accuracy_float"]) <= 0.01, (fixed_acc, metrics)
    one_per_class = np.unique(data.test.labels, return_index=True)[1]
    assert len(one_per_class) == 10
    x = data.test.spikes(one_per_class)
    names = tuple(p.name for p in bundle.neuron_populations)
    cpu = CPUBackend(bundle).run(x, record=names)
    lava = LavaBackend(bundle).run(x, record=names)
    assert spike_mismatches(cpu.spikes, lava.spikes) == 0 and cpu.spikes["scml0"].sum() > 0
