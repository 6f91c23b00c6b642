"""Real datasets through tonic (and TI46 through soundfile) from tiny files in their real formats.

Nothing may touch the network: tonic's download is refused by our loader, and the test
also replaces ``urllib``/``requests`` entry points with functions that fail loudly.
"""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from neuromotif.config import DataConfig
from neuromotif.core.errors import InputError
from neuromotif.search.data import check_available, dataset_status, load_dataset
from tests.search.data import real_formats


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a dataset loader tried to use the network")

    import urllib.request

    import requests

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    monkeypatch.setattr(urllib.request, "urlretrieve", refuse)
    monkeypatch.setattr(requests, "get", refuse)


def _cfg(tmp_path, name, **kw) -> DataConfig:
    return DataConfig(name=name, root=tmp_path / "data", cache_dir=tmp_path / "cache", **kw)


def _spike_positions(split, i):
    t, c = np.nonzero(split.spikes(np.array([i]))[0])
    return sorted(zip(t.tolist(), c.tolist(), strict=True))


@pytest.mark.parametrize(
    "name,folder",
    [
        ("nmnist", "NMNIST"),
        ("dvs-gesture", "DVSGesture"),
        ("shd", "SHD"),
        ("ntidigits", "NTIDIGITS18"),
        ("ti46-alpha", "TI46-Alpha"),
    ],
)
def test_missing_dataset_names_the_expected_files(tmp_path, name, folder):
    (tmp_path / "data").mkdir()
    with pytest.raises(InputError) as err:
        check_available(_cfg(tmp_path, name))
    message = str(err.value)
    assert "\n" not in message and folder in message and "data.root" in message


def test_local_dataset_without_root_asks_for_one(tmp_path, monkeypatch):
    monkeypatch.delenv("NEUROMOTIF_DATA", raising=False)
    with pytest.raises(InputError, match="set data.root, --data-root or NEUROMOTIF_DATA"):
        load_dataset(DataConfig(name="shd"))


def test_shd_bins_known_events(tmp_path):
    real_formats.write_shd(tmp_path / "data")
    ds = load_dataset(_cfg(tmp_path, "shd", val_fraction=0.25), seed=0)
    assert ds.info.channels == 700 and ds.info.timesteps == 100 and ds.info.classes == 20
    assert len(ds.train) + len(ds.val) == 40 and len(ds.test) == 40
    # sample 0: units 699 at 0 s and 3 at 25.5 ms -> (step 0, ch 699), (step 2, ch 3)
    assert _spike_positions(ds.test, 0) == [(0, 699), (2, 3)]
    assert ds.test.labels[0] == 0


def test_ntidigits_single_digits_and_known_events(tmp_path):
    real_formats.write_ntidigits(tmp_path / "data")
    ds = load_dataset(_cfg(tmp_path, "ntidigits"), seed=0)
    assert len(ds.test) == 33  # the two-digit utterance is left out
    assert ds.info.classes == 11 and ds.info.channels == 64
    assert _spike_positions(ds.test, 0) == [(0, 0), (4, 63)]  # 47 ms -> step 4
    assert sorted(set(ds.test.labels.tolist())) == list(range(11))


def test_dvsgesture_bins_known_events(tmp_path):
    real_formats.write_dvsgesture(tmp_path / "data")
    ds = load_dataset(_cfg(tmp_path, "dvs-gesture"), seed=0)
    assert ds.info.channels == 2 * 32 * 32
    # x=127, y=64, p=1 at 31 ms, origin event at 1 ms: relative 30 ms -> step 2 at 15 ms;
    # channel = p*1024 + (64//4)*32 + 127//4 = 1567.
    found = [i for i in range(len(ds.test)) if _spike_positions(ds.test, i) == [(0, 0), (2, 1567)]]
    assert len(found) == 1 and ds.test.labels[found[0]] == 0


def test_nmnist_bins_known_events(tmp_path):
    real_formats.write_nmnist(tmp_path / "data")  # tonic insists on >= 10,000 files per split
    ds = load_dataset(_cfg(tmp_path, "nmnist", max_samples=200), seed=0)
    assert ds.info.channels == 578 and ds.info.timesteps == 60
    full = load_dataset(_cfg(tmp_path, "nmnist", timesteps=10), seed=0)
    assert len(full.test) == 10_000
    # x=5, y=3, p=1 at 12 ms -> step 2 (5 ms bins); channel 1*289 + (3//2)*17 + 5//2 = 308
    assert _spike_positions(full.test, 0) == [(0, 0), (2, 308)]
    assert full.test.labels[0] == 0


def test_ti46_labels_from_file_names_and_speaker_groups(tmp_path):
    real_formats.write_ti46(tmp_path / "data")
    ds = load_dataset(_cfg(tmp_path, "ti46-alpha", val_fraction=0.34), seed=0)
    assert ds.info.channels == 78 and ds.info.classes == 26
    assert sorted(ds.test.labels.tolist()) == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert set(ds.train.groups.tolist()).isdisjoint(ds.val.groups.tolist())  # whole speakers held out
    assert ds.test.spikes().sum() > 0


def test_ti46_bad_file_name_is_named(tmp_path):
    real_formats.write_ti46(tmp_path / "data")
    bad = tmp_path / "data" / "TI46-Alpha" / "train" / "f1" / "7oops.wav"
    bad.write_bytes((tmp_path / "data" / "TI46-Alpha" / "train" / "f1" / "a0f1set0.wav").read_bytes())
    with pytest.raises(InputError, match="7oops.wav"):
        load_dataset(_cfg(tmp_path, "ti46-alpha"), seed=0)


def test_status_reports_present_local_datasets(tmp_path):
    real_formats.write_shd(tmp_path / "data")
    rows = {r["name"]: r for r in dataset_status(_cfg(tmp_path, "shd"))}
    assert rows["shd"]["present"] and rows["shd"]["bytes"] > 0
    assert not rows["nmnist"]["present"]
    assert rows["digits-saccade"]["present"] and rows["letters-tts"]["present"]


def test_cache_is_reused_and_rebuilt_when_damaged(tmp_path, monkeypatch):
    real_formats.write_shd(tmp_path / "data")
    cfg = _cfg(tmp_path, "shd")
    first = load_dataset(cfg, seed=0)
    (cache_file,) = (tmp_path / "cache").glob("shd-*.npz")
    from neuromotif.search.data import tonic_sets

    monkeypatch.setattr(tonic_sets, "build", lambda *a, **k: pytest.fail("cache miss: binned again"))
    second = load_dataset(cfg, seed=0)
    np.testing.assert_array_equal(first.test.packed, second.test.packed)
    monkeypatch.undo()
    cache_file.write_bytes(cache_file.read_bytes()[:100])  # truncated: must be rebuilt, not trusted
    third = load_dataset(cfg, seed=0)
    np.testing.assert_array_equal(first.test.packed, third.test.packed)


def test_an_shd_file_with_malformed_spikes_is_refused_in_one_line(tmp_path):
    """spikes/times stored as one number per sample instead of a list per sample: it used to end in
    ``TypeError: object of type 'numpy.bool_' has no len()`` (exit 1)."""
    real_formats.write_shd(tmp_path / "data")
    for split in ("train", "test"):
        with h5py.File(tmp_path / "data" / "SHD" / f"shd_{split}.h5", "r+") as f:
            del f["spikes/times"], f["spikes/units"]
            f["spikes/times"] = np.linspace(0, 0.05, 40).astype(np.float32)
            f["spikes/units"] = (np.arange(40) % 700).astype(np.uint16)
    with pytest.raises(InputError, match="is unreadable .*not a list of events"):
        load_dataset(_cfg(tmp_path, "shd"))


def test_validate_reads_the_first_sample_as_training_would(tmp_path):
    """N-MNIST files whose events all lie off the sensor: `validate` used to say valid and `train` refused."""
    from neuromotif.search.data import check_available

    real_formats.write_nmnist(tmp_path / "data")
    for path in (tmp_path / "data" / "NMNIST" / "Train").rglob("*.bin"):
        path.write_bytes(bytes([255, 255, 0, 0, 0]))  # x = y = 255: outside the 34 x 34 sensor
    with pytest.raises(InputError, match=r"dataset nmnist \(train\) sample 0 .* has no valid event"):
        check_available(_cfg(tmp_path, "nmnist"))
