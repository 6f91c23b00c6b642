"""Fault injection: full or read-only disks, unusable caches, damaged dataset files.

Every fault is bad input or a bad environment, never a bug: exit 2 with one line naming the
path and the fix (or, for the cache, a one-line warning and the run goes on), no traceback,
and no half-written file replaces a good one.
"""

from __future__ import annotations

import errno
import os

import h5py
import numpy as np
import pytest

from neuromotif.cli import main
from neuromotif.config import DataConfig
from neuromotif.core import io
from neuromotif.core.errors import InputError
from neuromotif.search.data import load_dataset
from tests.paths import QUICKSTART
from tests.search.data import real_formats


def _failing_replace(code: int):
    real = os.replace

    def replace(src, dst, *a, **k):
        if str(dst).endswith(("config.yaml", "report.json", "c.txt")):
            raise OSError(code, os.strerror(code), str(dst))
        return real(src, dst, *a, **k)

    return replace


@pytest.mark.parametrize(
    "code,word",
    [(errno.ENOSPC, "no space left"), (errno.EROFS, "Read-only file system"), (errno.EACCES, "Permission denied")],
)
def test_unwritable_output_is_exit_2_naming_the_path(tmp_path, capsys, monkeypatch, code, word):
    monkeypatch.setattr(io.os, "replace", _failing_replace(code))
    assert main(["train", QUICKSTART, "--out", str(tmp_path / "run"), "-q"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and word in err and str(tmp_path / "run" / "config.yaml") in err
    assert "Traceback" not in err and "Exception ignored" not in err
    assert not list((tmp_path / "run").glob(".*.tmp"))  # the temporary is gone


def test_disk_full_says_how_much_was_needed_and_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "c.txt"
    target.write_text("old")
    monkeypatch.setattr(io.os, "replace", _failing_replace(errno.ENOSPC))
    with pytest.raises(io.OutputError) as err:
        io.atomic_write_text(target, "x" * 3_000_000)
    assert "needs more than 3.0 MB" in str(err.value) and "MB are free" in str(err.value)
    assert target.read_text() == "old"


def test_a_cache_folder_that_cannot_be_written_falls_back_to_memory(tmp_path, capsys, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv("NEUROMOTIF_CACHE", str(blocker / "cache"))
    ds = load_dataset(DataConfig(max_samples=20))
    assert len(ds.test) == 20
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("warning: cannot write the dataset cache")


def test_a_damaged_cache_file_is_rebuilt(tmp_path):
    cfg = DataConfig(max_samples=20, cache_dir=tmp_path)
    first = load_dataset(cfg)
    (cache,) = tmp_path.glob("*.npz")
    cache.write_bytes(b"PK\x03\x04 not a zip")
    again = load_dataset(cfg)
    np.testing.assert_array_equal(first.test.packed, again.test.packed)


def _data_cfg(tmp_path, name) -> DataConfig:
    return DataConfig(name=name, root=tmp_path / "data", cache_dir=tmp_path / "cache")


def test_corrupt_shd_file_is_refused(tmp_path):
    real_formats.write_shd(tmp_path / "data")
    with h5py.File(tmp_path / "data" / "SHD" / "shd_train.h5", "r+") as f:
        del f["spikes/units"]  # a damaged file: times without units
    with pytest.raises(InputError, match="unreadable|not found or unreadable") as err:
        load_dataset(_data_cfg(tmp_path, "shd"))
    assert "\n" not in str(err.value)


def test_garbage_shd_file_is_refused(tmp_path):
    real_formats.write_shd(tmp_path / "data")
    (tmp_path / "data" / "SHD" / "shd_test.h5").write_bytes(b"\x00garbage" * 100)
    with pytest.raises(InputError, match="shd"):
        load_dataset(_data_cfg(tmp_path, "shd"))


def test_corrupt_dvs_gesture_npy_is_refused(tmp_path):
    real_formats.write_dvsgesture(tmp_path / "data")
    victim = next((tmp_path / "data" / "DVSGesture" / "ibmGestureTrain").rglob("*.npy"))
    victim.write_bytes(b"\x93NUMPY garbage")
    with pytest.raises(InputError, match="unreadable") as err:
        load_dataset(_data_cfg(tmp_path, "dvs-gesture"))
    assert "the file is damaged" in str(err.value)


def test_events_outside_the_sensor_are_counted_and_refused(tmp_path):
    real_formats.write_dvsgesture(tmp_path / "data")
    for npy in list((tmp_path / "data" / "DVSGesture" / "ibmGestureTrain").rglob("*.npy"))[:30]:
        events = np.load(npy)
        events[:, 0] = 500  # x beyond the 128-pixel sensor
        np.save(npy, np.vstack([events, [[1, 1, 0, 2.0]]]))  # keep one valid event per sample
    with pytest.raises(InputError, match=r"events lie outside the \(128, 128\) sensor"):
        load_dataset(_data_cfg(tmp_path, "dvs-gesture"))


def test_a_sample_without_valid_events_is_refused(tmp_path):
    real_formats.write_shd(tmp_path / "data")
    with h5py.File(tmp_path / "data" / "SHD" / "shd_train.h5", "r+") as f:
        f["spikes/units"][3] = np.array([900], np.uint16)  # the only event, outside the 700 units
    with pytest.raises(InputError, match="sample 3 .* has no valid event"):
        load_dataset(_data_cfg(tmp_path, "shd"))


@pytest.mark.slow
def test_empty_nmnist_files_are_refused(tmp_path):
    real_formats.write_nmnist(tmp_path / "data")
    (tmp_path / "data" / "NMNIST" / "Train" / "3" / "00003.bin").write_bytes(b"")
    with pytest.raises(InputError, match="has no valid event"):
        load_dataset(_data_cfg(tmp_path, "nmnist"))
