"""The HW-NAS evaluation's bookkeeping (benchmarks/hwnas.py): equal budgets, the random search's
draws, and the per-seed hypervolume and paired comparison computed by hand on made-up fronts."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import hwnas  # noqa: E402


def _epochs(trial) -> int:
    return int(next(o for o in trial.overrides if o.startswith("train.epochs=")).split("=")[1])


def test_every_method_gets_the_same_passes_per_network():
    b = hwnas.budget()
    todo = hwnas.trials(list(hwnas.METHODS), [0, 1])
    assert len(todo) == len(hwnas.METHODS) * 2 * len(hwnas.WEIGHTS)
    for t in todo:
        method = hwnas.METHODS[t.name.split("__")[0]]
        # a searching method's supernet passes plus its retraining = the others' training
        assert _epochs(t) + (b["search_passes"] if method.search else 0) == b["passes"]
        assert f"search.objective.energy={dict(o.split('=') for o in t.overrides)['train.objective.energy']}" in (
            t.overrides
        )


def test_the_random_search_draws_its_own_candidates_reproducibly():
    first = [t for t in hwnas.trials(["random"], [3]) if t.name.startswith("random")]
    again = [t for t in hwnas.trials(["random"], [3]) if t.name.startswith("random")]
    assert first == again
    seeds = [next(o for o in t.overrides if o.startswith("seed=")) for t in first]
    assert len(set(seeds)) == len(first)  # each candidate its own topology
    for t in first:
        sets = dict(o.split("=", 1) for o in t.overrides)
        assert int(sets["model.motif_size"]) in hwnas.MOTIF_SIZES
        assert float(sets["train.objective.energy"]) in hwnas.WEIGHTS


def _row(method, seed, k, acc, energy, latency):
    return {
        "trial": f"{method}__seed{seed}__{k}",
        "status": "done",
        "accuracy_fixed": acc,
        "energy_uJ": energy,
        "latency_ms": latency,
        "cores": 2,
        "seconds": 10.0,
    }


def test_hypervolume_per_seed_and_paired_comparison_by_hand(monkeypatch):
    monkeypatch.setattr(hwnas, "WEIGHTS", (0.0, 0.01))
    monkeypatch.setattr(hwnas, "REFERENCE", {"accuracy": 0.0, "energy_uJ": 10.0, "latency_ms": 1.0})
    rows = []
    for seed, (a_hr, a_ff) in enumerate([(0.9, 0.5), (0.8, 0.5), (0.7, 0.5)]):
        # HRMAS: one point (a_hr, 5 µJ, 0.5 ms) and a dominated one; HV = a_hr x (10 - 5) x (1 - 0.5)
        rows += [_row("hrmas", seed, 0, a_hr, 5.0, 0.5), _row("hrmas", seed, 1, a_hr - 0.1, 6.0, 0.6)]
        # feed-forward: two points; HV = 0.5 x 8 x 0.9 (at 2 µJ, 0.1 ms) with nothing else dominating more
        rows += [_row("feedforward", seed, 0, a_ff, 2.0, 0.1), _row("feedforward", seed, 1, 0.4, 1.0, 0.05)]
    rows.append({"trial": "fc__seed0__0", "status": "failed"})  # unfinished: not counted
    table = hwnas.per_seed(hwnas.points(rows))
    assert set(table) == {"hrmas", "feedforward"}
    box = 1.0 * 10.0 * 1.0  # the reference box: reported as the dominated fraction of it
    assert table["hrmas"][0]["hypervolume"] == pytest.approx(0.9 * 5 * 0.5 / box)
    # feed-forward: union of the boxes [0,0.5]x[2,10]x[0.1,1] and [0,0.4]x[1,10]x[0.05,1]
    union = 0.5 * 8 * 0.9 + 0.4 * 9 * 0.95 - 0.4 * 8 * 0.9
    assert table["feedforward"][1]["hypervolume"] == pytest.approx(union / box)
    rows_cmp = {r["method"]: r for r in hwnas.compare(table)}
    diffs = [(a * 2.5 - union) / box for a in (0.9, 0.8, 0.7)]
    assert rows_cmp["feedforward"]["vs_reference"]["mean_diff"] == pytest.approx(sum(diffs) / 3)
    assert rows_cmp["feedforward"]["vs_reference"]["t_p_holm"] == rows_cmp["feedforward"]["vs_reference"]["t_p"]
    assert "vs_reference" not in rows_cmp["hrmas"]


def test_friedman_omnibus_by_hand():
    # three methods, two seeds, the same order in both: rank sums 6, 4, 2, so
    # chi2 = 12 / (n k (k + 1)) x sum R^2 - 3 n (k + 1) = 0.5 x 56 - 24 = 4, p = exp(-4 / 2) (2 df)
    table = {m: {s: {"hypervolume": v + 0.01 * s} for s in (0, 1)} for m, v in (("a", 0.9), ("b", 0.8), ("c", 0.7))}
    table["c"][2] = {"hypervolume": 0.5}  # a seed not every method finished: left out
    o = hwnas.omnibus(table, "hypervolume")
    assert o["seeds"] == [0, 1]
    assert o["chi2"] == pytest.approx(4.0)
    assert o["p"] == pytest.approx(math.exp(-2.0))
    assert hwnas.omnibus({"a": table["a"], "b": table["b"]}, "hypervolume") is None  # needs 3 methods
