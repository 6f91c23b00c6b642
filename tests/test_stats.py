"""The benchmarks' statistics against hand computation (benchmarks/stats.py)."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.stats import bootstrap_ci, detectable_difference, holm, hypervolume


def test_holm_by_hand():
    # sorted 0.01, 0.02, 0.04 -> x3, x2, x1 = 0.03, 0.04, 0.04 (running max), back in input order
    assert holm([0.04, 0.01, 0.02]) == pytest.approx([0.04, 0.03, 0.04])
    assert holm([0.5, 0.6]) == [1.0, 1.0]  # capped at 1


def test_detectable_difference_by_hand():
    # n = 5: t_0.975,4 = 2.7764, t_0.8,4 = 0.9410; (2.7764 + 0.9410) x 1.0 / sqrt(5) = 1.6625
    assert detectable_difference(1.0, 5) == pytest.approx(1.6625, abs=1e-3)


def test_hypervolume_by_hand():
    # accuracy maximised, energy and latency minimised, reference (0.5, 10, 4): box widths
    # point A (0.9, 2, 1): 0.4 x 8 x 3 = 9.6; point B (0.7, 1, 3): 0.2 x 9 x 1 = 1.8; overlap (acc 0.5-0.7,
    # energy 2-10, latency 3-4): 0.2 x 8 x 1 = 1.6 -> union 9.8
    assert hypervolume([0.9], [[2, 1]], (0.5, 10, 4)) == pytest.approx(9.6)
    assert hypervolume([0.9, 0.7], [[2, 1], [1, 3]], (0.5, 10, 4)) == pytest.approx(9.8)
    # a dominated point adds nothing; a point outside the box adds nothing
    assert hypervolume([0.9, 0.8, 0.4], [[2, 1], [3, 2], [0.5, 0.5]], (0.5, 10, 4)) == pytest.approx(9.6)
    assert hypervolume([0.4], [[1, 1]], (0.5, 10, 4)) == 0.0
    with pytest.raises(ValueError, match="reference needs 3 values"):
        hypervolume([0.9], [[2, 1]], (0.5, 10))


def test_bootstrap_interval_holds_the_mean_and_is_reproducible():
    values = [1.0, 2.0, 3.0, 4.0, 10.0]
    lo, hi = bootstrap_ci(values)
    assert lo < np.mean(values) < hi and lo >= 1.0 and hi <= 10.0
    assert bootstrap_ci(values) == (lo, hi)  # a fixed seed: a table regenerates identically
    narrow = bootstrap_ci(values, level=0.5)
    assert lo <= narrow[0] <= narrow[1] <= hi
