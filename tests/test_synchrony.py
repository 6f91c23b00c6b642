"""The synchrony measures by hand: lockstep bursts, independent neurons, silence."""

from __future__ import annotations

import numpy as np
import pytest

from neuromotif.synchrony import Synchrony


def test_lockstep_bursts_by_hand():
    raster = np.zeros((1, 4, 4), np.uint8)
    raster[0, ::2] = 1  # every neuron fires on steps 0 and 2: counts 4, 0, 4, 0
    s = Synchrony()
    s.add("h", raster)
    out = s.result()["h"]
    assert out["burst_fraction"] == pytest.approx(0.5)  # 2 of 4 steps have more than 2 of 4 neurons
    assert out["fano"] == pytest.approx(4.0 / 2.0)  # counts var 4, mean 2
    assert out["chi"] == pytest.approx(1.0)  # the population mean varies exactly as each neuron does


def test_one_neuron_at_a_time_is_asynchronous():
    raster = np.zeros((2, 4, 4), np.uint8)
    for t in range(4):
        raster[:, t, t] = 1  # a count of exactly 1 every step: no burst, no fluctuation
    s = Synchrony()
    s.add("h", raster[:1])
    s.add("h", raster[1:])  # two chunks accumulate like one
    out = s.result()["h"]
    assert out["burst_fraction"] == 0 and out["fano"] == 0 and out["chi"] == 0


def test_a_silent_population_has_no_fano_or_chi():
    s = Synchrony()
    s.add("h", np.zeros((3, 5, 2), np.uint8))
    assert s.result()["h"] == {"burst_fraction": 0.0, "fano": None, "chi": None}
