"""digits-order is what its docstring says, checked against digits-saccade's own recordings."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from neuromotif.config import load_config
from neuromotif.core.errors import InputError
from neuromotif.search.data import digits_order, digits_saccade, load_dataset
from neuromotif.search.data.base import SpikeSplit


@pytest.fixture(scope="module")
def built():
    return digits_saccade.build(digits_saccade.DEFAULT_TIMESTEPS), digits_order.build()


def _rows(split: SpikeSplit) -> dict[bytes, int]:
    """Each recording's packed bytes -> its label."""
    return {split.packed[i].tobytes(): int(split.labels[i]) for i in range(len(split))}


@pytest.mark.parametrize("name", ["train", "test"])
def test_first_digit_labels_the_pair_second_differs_gap_is_silent(built, name):
    base, order = built
    known, pairs = _rows(base[name]), order[name]
    t = digits_order.DIGIT_STEPS
    assert pairs.timesteps == 2 * t + digits_order.GAP and len(pairs) == digits_order.PAIRS_PER_IMAGE * len(base[name])
    firsts, seconds = Counter(), Counter()
    for i in range(len(pairs)):
        first, second = pairs.packed[i, :t].tobytes(), pairs.packed[i, t + digits_order.GAP :].tobytes()
        # both halves are recordings of this split (test pairs hold only test images)
        assert first in known and second in known
        assert pairs.labels[i] == known[first] != known[second]
        firsts[first] += 1
        seconds[second] += 1
    assert not pairs.packed[:, t : t + digits_order.GAP].any()
    # every recording is the first digit of PAIRS_PER_IMAGE pairs and the second of as many
    copies = Counter(base[name].packed[i].tobytes() for i in range(len(base[name])))
    assert firsts == seconds == Counter({k: digits_order.PAIRS_PER_IMAGE * n for k, n in copies.items()})


def test_order_not_content_decides_the_label(built):
    """Both orders of a pair of classes occur, with opposite labels: spike counts alone cannot tell."""
    _, order = built
    test = order["test"]
    t = digits_order.DIGIT_STEPS
    second_labels = []
    known = _rows(digits_saccade.build(t)["test"])
    for i in range(len(test)):
        second_labels.append(known[test.packed[i, t + digits_order.GAP :].tobytes()])
    ordered = set(zip(test.labels.tolist(), second_labels, strict=True))
    assert sum((b, a) in ordered for a, b in ordered) >= 0.9 * len(ordered)


def test_partners_never_pair_a_class_with_itself():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 500)
    p = digits_order.partners(labels, rng)
    assert sorted(p) == list(range(500)) and not (labels[p] == labels).any()


def test_load_dataset_and_timesteps_refused(tmp_path):
    cfg = load_config(None, ["data.name=digits-order", f"data.cache_dir={tmp_path}"])
    splits = load_dataset(cfg.data, seed=0)
    assert splits.info.timesteps == digits_order.TIMESTEPS and splits.info.classes == 10
    # the validation holdout keeps all pairs that start with one recording on one side
    assert not set(splits.train.groups.tolist()) & set(splits.val.groups.tolist())
    with pytest.raises(InputError, match="data.timesteps does not apply to digits-order"):
        load_dataset(load_config(None, ["data.name=digits-order", "data.timesteps=50"]).data)
