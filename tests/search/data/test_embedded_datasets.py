"""digits-saccade (generated) and letters-tts (shipped): size, splits, determinism, balance."""

from __future__ import annotations

import numpy as np
import pytest

from neuromotif.config import DataConfig
from neuromotif.core.errors import InputError
from neuromotif.search.data import digits_saccade, load_dataset


def _rows(split) -> set[bytes]:
    return {row.tobytes() for row in split.packed}


@pytest.fixture(scope="module")
def digits_cfg():
    """The suite's shared cache (conftest): the tests read the same binned digits."""
    return DataConfig(name="digits-saccade")


def test_digits_size_and_shape(digits_cfg):
    ds = load_dataset(digits_cfg, seed=0)
    assert len(ds.train) + len(ds.val) + len(ds.test) == 1797
    assert len(ds.test) == 359
    x = ds.train.spikes(np.arange(4))
    assert x.shape == (4, 60, 200) and x.dtype == np.uint8 and set(np.unique(x)) <= {0, 1}
    assert 0.02 < ds.train.spikes().mean() < 0.3  # sparse events, but events


def test_digits_splits_are_disjoint(digits_cfg):
    ds = load_dataset(digits_cfg, seed=0)
    train, val, test = _rows(ds.train), _rows(ds.val), _rows(ds.test)
    assert not (train & val) and not (train & test) and not (val & test)


def test_digits_deterministic_for_a_seed(tmp_path, digits_cfg):
    a, b = load_dataset(digits_cfg, seed=3), load_dataset(digits_cfg, seed=3)
    np.testing.assert_array_equal(a.val.packed, b.val.packed)
    fresh = load_dataset(DataConfig(name="digits-saccade", cache_dir=tmp_path / "other"), seed=3)
    np.testing.assert_array_equal(a.train.packed, fresh.train.packed)  # regenerated bit for bit
    c = load_dataset(digits_cfg, seed=4)
    assert _rows(c.val) != _rows(a.val)  # another seed, another validation split
    np.testing.assert_array_equal(a.test.packed, c.test.packed)  # the test split never moves


def test_digits_label_balance(digits_cfg):
    ds = load_dataset(digits_cfg, seed=0)
    for split in (ds.train, ds.val, ds.test):
        counts = np.bincount(split.labels, minlength=10)
        assert counts.min() >= 0.85 * counts.mean(), counts


def test_digits_saccade_moves_the_image():
    """A bright pixel at (3, 3) on the first saccade (towards offset (2, 1)): OFF where it leaves,
    ON where it arrives (5, 4)."""
    image = np.zeros((1, 8, 8))
    image[0, 3, 3] = 1.0
    spikes = digits_saccade.events_to_spikes(image, 60).reshape(60, 2, 10, 10)
    first = spikes[:20]  # first of three 20-step saccades
    on, off = first[:, 0].sum(0), first[:, 1].sum(0)
    assert off[3, 3] > 0 and on[3, 3] == 0
    assert on[5, 4] > 0 and off[5, 4] == 0
    assert on[0:2, :].sum() == 0 and on[:, 0:2].sum() == 0  # nothing lights up behind the motion


def test_letters_size_voices_and_balance():
    ds = load_dataset(DataConfig(name="letters-tts"), seed=0)
    assert ds.info.synthetic and ds.info.channels == 78 and ds.info.classes == 26
    assert len(ds.train) + len(ds.val) + len(ds.test) == 8320
    train_v, val_v, test_v = (set(s.groups.tolist()) for s in (ds.train, ds.val, ds.test))
    assert len(test_v) == 16 and not (test_v & train_v) and not (test_v & val_v) and not (train_v & val_v)
    for split in (ds.train, ds.val, ds.test):  # every voice says every letter 4 times
        counts = np.bincount(split.labels, minlength=26)
        assert counts.min() == counts.max() == 4 * len(set(split.groups.tolist()))


def test_letters_deterministic_and_seeded_val_voices():
    a, b = load_dataset(DataConfig(name="letters-tts"), seed=1), load_dataset(DataConfig(name="letters-tts"), seed=1)
    np.testing.assert_array_equal(a.val.groups, b.val.groups)
    c = load_dataset(DataConfig(name="letters-tts"), seed=2)
    assert set(c.val.groups.tolist()) != set(a.val.groups.tolist())
    np.testing.assert_array_equal(a.test.packed, c.test.packed)


def test_letters_timesteps_too_long_is_an_input_error():
    with pytest.raises(InputError, match="ships 100 steps"):
        load_dataset(DataConfig(name="letters-tts", timesteps=200))


def test_max_samples_caps_every_split(digits_cfg):
    ds = load_dataset(digits_cfg.model_copy(update={"max_samples": 50}), seed=0)
    assert len(ds.train) == len(ds.val) == len(ds.test) == 50
