"""Operating modes and static accounting, against timelines worked out by hand in the comments."""

from __future__ import annotations

import numpy as np
import pytest

from neuromotif.hw_models.operating import Operation, operate, operate_with_bounds, static_power_w

US = 1e-6


def test_throughput_pays_static_power_over_the_busy_time():
    r = operate(np.array([1, 2, 3]) * US, 5e-6, 0.1, "throughput")
    # busy 1 + 2 + 3 = 6 us; static 0.1 W x 6 us = 0.6 uJ; total 5 + 0.6 uJ
    assert r["latency_s"] == pytest.approx(6 * US)
    assert r["static_J"] == pytest.approx(0.6e-6) and r["per_inference_J"] == pytest.approx(5.6e-6)


def test_realtime_timeline_by_hand_with_one_compute_bound_step():
    r = operate(np.array([1, 3, 1]) * US, 5e-6, 0.1, "realtime", 2 * US)
    # bin 0 ends at 2, step 0 runs 2..3; bin 1 ends at 4, step 1 runs 4..7 (3 us > the 2 us period:
    # compute-bound); bin 2 ends at 6 but waits for step 1: runs 7..8. Decision at 8 us.
    assert r["latency_s"] == pytest.approx(8 * US) and r["window_s"] == pytest.approx(6 * US)
    assert r["after_last_input_s"] == pytest.approx(2 * US) and r["compute_bound_steps"] == 1
    assert r["static_J"] == pytest.approx(0.1 * 8 * US)  # powered from the first bin to the decision


def test_realtime_static_energy_does_not_depend_on_how_fast_a_step_is():
    """The issue's point: on a sensor stream, spreading a network to shorten its steps saves no
    static energy; only the time after the last input changes."""
    slow = operate(np.full(100, 0.5e-3), 1e-6, 0.05, "realtime", 10e-3)
    fast = operate(np.full(100, 0.1e-3), 1e-6, 0.05, "realtime", 10e-3)
    # 100 bins of 10 ms = 1 s window, plus the last step: 1.0005 s and 1.0001 s
    assert slow["latency_s"] == pytest.approx(1.0005) and fast["latency_s"] == pytest.approx(1.0001)
    assert fast["static_J"] / slow["static_J"] == pytest.approx(1.0001 / 1.0005)
    assert slow["compute_bound_steps"] == fast["compute_bound_steps"] == 0


def test_static_accounting_per_chip_and_per_used_core():
    assert static_power_w(0.029, 2, 5, 128, "per_chip") == pytest.approx(0.058)
    assert static_power_w(0.029, 2, 5, 128, "per_core") == pytest.approx(0.029 * 5 / 128)


def test_bounds_take_the_ends_of_every_range_together():
    r = operate_with_bounds(np.array([1, 2, 3]) * US, 5e-6, 0.1, "throughput", None, [0.5, 2], [0.25, 4], [0.05, 0.2])
    # low: dynamic 2.5 uJ, busy 6 x 0.25 = 1.5 us, static 0.05 W x 1.5 us = 0.075 uJ
    # high: dynamic 10 uJ, busy 24 us, static 0.2 W x 24 us = 4.8 uJ
    assert r["bounds"]["per_inference_J"] == pytest.approx([2.575e-6, 14.8e-6])
    assert r["bounds"]["latency_s"] == pytest.approx([1.5 * US, 24 * US])
    assert r["bounds"]["per_inference_J"][0] <= r["per_inference_J"] <= r["bounds"]["per_inference_J"][1]


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"mode": "batch"}, "unknown operating mode 'batch': choose one of throughput, realtime"),
        ({"static": "per_tile"}, "unknown static accounting 'per_tile'"),
        ({"mode": "realtime", "step_period_s": 0.0}, "step period must be > 0 s"),
        ({"mode": "realtime"}, "realtime mode needs a step period"),
    ],
)
def test_bad_operations_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Operation(**kwargs)
