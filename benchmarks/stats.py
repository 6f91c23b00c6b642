"""Statistics the benchmarks report, in one place: Holm's adjustment, the smallest detectable
paired difference, percentile-bootstrap confidence intervals and the hypervolume of a front.

Seeds are the unit of replication: a comparison of two methods pairs their runs by seed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np


def holm(pvalues: list[float]) -> list[float]:
    """Holm's step-down adjustment (family-wise error) of p-values, in their original order."""
    order = sorted(range(len(pvalues)), key=lambda i: pvalues[i])
    adjusted, running = [0.0] * len(pvalues), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(pvalues) - rank) * pvalues[i]))
        adjusted[i] = running
    return adjusted


def detectable_difference(sd_diff: float, n: int, alpha: float = 0.05, power: float = 0.8) -> float:
    """Smallest mean paired difference a two-sided paired t-test with ``n`` seeds detects at ``alpha``
    with ``power``, given the per-seed differences' sample sd (normal-theory approximation)."""
    from scipy.stats import t

    return float((t.ppf(1 - alpha / 2, n - 1) + t.ppf(power, n - 1)) * sd_diff / n**0.5)


def bootstrap_ci(
    values: Sequence[float],
    statistic: Callable[[np.ndarray], float] = np.mean,
    level: float = 0.95,
    resamples: int = 10_000,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of ``statistic`` over ``values`` (seeds resampled with
    replacement; a fixed ``seed``, so a table regenerates identically)."""
    x = np.asarray(values, np.float64)
    if len(x) < 2:
        raise ValueError("a bootstrap interval needs at least 2 values")
    idx = np.random.default_rng(seed).integers(0, len(x), (resamples, len(x)))
    stats = np.array([statistic(x[i]) for i in idx])
    tail = (1 - level) / 2
    return float(np.quantile(stats, tail)), float(np.quantile(stats, 1 - tail))


def hypervolume(accuracy: Sequence[float], costs: Sequence[Sequence[float]], reference: Sequence[float]) -> float:
    """Hypervolume of the points (``accuracy`` maximised, each column of ``costs`` minimised) with
    respect to ``reference`` = (accuracy floor, cost ceilings...): the volume they dominate inside
    the box the reference bounds. Points outside the box add nothing. Exact (moocore)."""
    import moocore

    acc = np.asarray(accuracy, np.float64)
    c = np.asarray(costs, np.float64).reshape(len(acc), -1)
    ref = np.asarray(reference, np.float64)
    if ref.shape != (1 + c.shape[1],):
        raise ValueError(f"reference needs {1 + c.shape[1]} values (accuracy floor, then one ceiling per cost)")
    points = np.column_stack([-acc, c])  # every objective minimised
    bound = np.concatenate([[-ref[0]], ref[1:]])
    inside = (points < bound).all(axis=1)
    if not inside.any():
        return 0.0
    return float(moocore.hypervolume(points[inside], ref=bound))
