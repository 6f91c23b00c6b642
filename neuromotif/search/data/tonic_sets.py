"""Real event datasets read through tonic from a local data root (nothing is downloaded).

tonic reads ``ROOT/<ClassName>/...``. Before tonic is asked, we check the exact files its
existence test looks for and fail with a one-line message naming them; the tonic class is
also subclassed (same class name, so the same folder) with a ``download`` that refuses, so
no code path can reach the network.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from neuromotif.core.errors import InputError
from neuromotif.core.progress import note, track
from neuromotif.search.data.base import DatasetInfo, SpikeSplit, bin_events


@dataclass(frozen=True)
class TonicSpec:
    """How one tonic dataset is found on disk and binned into ``[T, channels]``."""

    name: str
    tonic_class: str
    class_names: tuple[str, ...]
    sensor: tuple[int, int, int]  # tonic's sensor_size: (width, height, polarities)
    dt_ms: float
    timesteps: int
    downsample: int  # spatial factor (vision sensors only)
    layout: dict[str, str]  # split -> the files tonic expects, for error messages
    description: str

    @property
    def is_vision(self) -> bool:
        return self.sensor[1] > 1

    def grid(self, downsample: int) -> tuple[int, int, int]:
        w, h, p = self.sensor
        if not self.is_vision:
            return w, 1, 1
        return -(-w // downsample), -(-h // downsample), p

    def channels(self, downsample: int) -> int:
        w, h, p = self.grid(downsample)
        return w * h * p


SPECS: dict[str, TonicSpec] = {
    "nmnist": TonicSpec(
        "nmnist",
        "NMNIST",
        tuple(str(d) for d in range(10)),
        (34, 34, 2),
        5.0,
        60,
        2,
        {
            "train": "NMNIST/train.zip and >= 10000 *.bin under NMNIST/Train/<digit>/",
            "test": "NMNIST/test.zip and >= 10000 *.bin under NMNIST/Test/<digit>/",
        },
        "N-MNIST (Orchard 2015): MNIST digits recorded with an ATIS sensor in 3 saccades",
    ),
    "dvs-gesture": TonicSpec(
        "dvs-gesture",
        "DVSGesture",
        (
            "clap",
            "right wave",
            "left wave",
            "right arm cw",
            "right arm ccw",
            "left arm cw",
            "left arm ccw",
            "arm roll",
            "air drums",
            "air guitar",
            "other",
        ),
        (128, 128, 2),
        15.0,
        100,
        4,
        {
            "train": "DVSGesture/ibmGestureTrain.tar.gz and >= 100 *.npy under "
            "DVSGesture/ibmGestureTrain/userNN_<lighting>/",
            "test": "DVSGesture/ibmGestureTest.tar.gz and >= 100 *.npy under "
            "DVSGesture/ibmGestureTest/userNN_<lighting>/",
        },
        "IBM DVS128 Gesture (Amir 2017), tonic's preprocessed .npy layout",
    ),
    "shd": TonicSpec(
        "shd",
        "SHD",
        tuple(f"class{k}" for k in range(20)),
        (700, 1, 1),
        10.0,
        100,
        1,
        {"train": "SHD/shd_train.h5.zip and SHD/shd_train.h5", "test": "SHD/shd_test.h5.zip and SHD/shd_test.h5"},
        "Spiking Heidelberg Digits (Cramer 2020): spoken digits, English and German",
    ),
    "ntidigits": TonicSpec(
        "ntidigits",
        "NTIDIGITS18",
        ("o", "1", "2", "3", "4", "5", "6", "7", "8", "9", "z"),
        (64, 1, 1),
        10.0,
        100,
        1,
        {"train": "NTIDIGITS18/n-tidigits.hdf5", "test": "NTIDIGITS18/n-tidigits.hdf5"},
        "N-TIDIGITS (Anumula 2018): TIDIGITS through a silicon cochlea, single digits",
    ),
}


def info(spec: TonicSpec, timesteps: int, dt_ms: float, downsample: int) -> DatasetInfo:
    return DatasetInfo(
        spec.name,
        spec.channels(downsample),
        len(spec.class_names),
        timesteps,
        dt_ms,
        spec.class_names,
        False,
        spec.description,
    )


class _DownloadRefused(Exception):
    pass


def _offline_class(spec: TonicSpec) -> type:
    """The tonic class, same name (so the same folder), with downloading refused."""
    import tonic.datasets

    base = getattr(tonic.datasets, spec.tonic_class)

    def refuse(self) -> None:  # noqa: ARG001 - tonic calls it as a method
        raise _DownloadRefused()

    return type(spec.tonic_class, (base,), {"download": refuse})


def read_sample(spec: TonicSpec, ds, i: int, split: str, root: Path, downsample: int):
    """Sample ``i``: (events, label, channel of each event, which events lie on the sensor), or
    ``InputError`` naming the sample when it is unreadable or has no valid event."""
    where = f"dataset {spec.name} ({split}) sample {i} under {root / spec.tonic_class}"
    try:
        events, target = ds[i]
        if np.ndim(events) != 1:
            raise ValueError(f"its events are not a list of events (shape {np.shape(events)})")
        ch, valid = events_to_channels(spec, events, downsample)
    except (OSError, ValueError, KeyError, IndexError, TypeError, EOFError) as exc:
        raise InputError(
            f"{where} is unreadable ({type(exc).__name__}: {str(exc)[:120]}): the file is "
            "damaged; restore it from the original archive"
        ) from None
    if not valid.any():
        raise InputError(
            f"{where} has no valid event ({len(valid)} events, all outside the "
            f"{spec.sensor[:2]} sensor or without a time): the file is empty or damaged; "
            "restore it from the original archive"
        )
    return events, target, ch, valid


def open_split(spec: TonicSpec, root: Path, train: bool):
    """Construct the tonic dataset for one split, or raise ``InputError`` naming the files."""
    split = "train" if train else "test"
    kwargs = {"single_digits": True} if spec.tonic_class == "NTIDIGITS18" else {}
    try:
        return _offline_class(spec)(save_to=str(root), train=train, **kwargs)
    except (_DownloadRefused, OSError, ValueError, KeyError) as exc:
        detail = "" if isinstance(exc, _DownloadRefused) else f" ({type(exc).__name__}: {exc})"
        raise InputError(
            f"dataset {spec.name} ({split}) not found or unreadable under {root}{detail}: expected "
            f"{spec.layout[split]}; set data.root (or --data-root) to the folder holding "
            f"{spec.tonic_class}/"
        ) from None


def is_present(spec: TonicSpec, root: Path) -> bool:
    try:
        for train in (True, False):
            open_split(spec, root, train)
    except InputError:
        return False
    return True


MAX_BAD_FRACTION = 0.01  # out-of-range events tolerated per split before the data is refused


def events_to_channels(spec: TonicSpec, events: np.ndarray, downsample: int) -> tuple[np.ndarray, np.ndarray]:
    """Channel index of each event (polarity plane, then row, then column for vision; the unit for
    audio), and which events are valid: coordinates inside the sensor, a finite time."""
    w_full, h_full, p_full = spec.sensor
    x = np.asarray(events["x"], np.int64)
    valid = (x >= 0) & (x < w_full) & np.isfinite(np.asarray(events["t"], np.float64))
    if not spec.is_vision:
        return x, valid
    y, p = np.asarray(events["y"], np.int64), np.asarray(events["p"], np.int64)
    valid &= (y >= 0) & (y < h_full) & (p >= 0) & (p < p_full)
    w, h, _ = spec.grid(downsample)
    return p * (w * h) + (y // downsample) * w + x // downsample, valid


def build(
    spec: TonicSpec, root: Path, timesteps: int, dt_ms: float, downsample: int, max_samples: int | None
) -> dict[str, SpikeSplit]:
    """Bin every sample; refuse damaged data instead of training on it silently: an unreadable
    sample, a sample with no valid event, or more than 1 % of a split's events out of range."""
    channels = spec.channels(downsample)
    out = {}
    for split, train in (("train", True), ("test", False)):
        ds = open_split(spec, root, train)
        index = np.arange(len(ds))
        if max_samples is not None and max_samples < len(ds):
            index = np.sort(np.random.default_rng(0).choice(len(ds), max_samples, replace=False))
        spikes = np.zeros((len(index), timesteps, channels), np.uint8)
        labels = np.zeros(len(index), np.int64)
        bad = total = 0
        for k, i in enumerate(track(index, f"binning {spec.name} {split}", total=len(index))):
            events, target, ch, valid = read_sample(spec, ds, int(i), split, root, downsample)
            bad, total = bad + int((~valid).sum()), total + len(valid)
            t = np.asarray(events["t"], np.float64)[valid]
            spikes[k] = bin_events(t - t.min(), ch[valid], channels, dt_ms * 1000, timesteps)
            labels[k] = int(target)
        if bad > MAX_BAD_FRACTION * total:
            raise InputError(
                f"dataset {spec.name} ({split}) under {root / spec.tonic_class}: {bad:,} of {total:,} "
                f"events lie outside the {spec.sensor[:2]} sensor (more than "
                f"{MAX_BAD_FRACTION:.0%}): the files are damaged or of another sensor"
            )
        if bad:
            note(f"dataset {spec.name} ({split}): dropped {bad:,} out-of-range events of {total:,}")
        out[split] = SpikeSplit.from_dense(spikes, labels)
    return out


def source_fingerprint(spec: TonicSpec, root: Path) -> list[tuple[str, int, int]]:
    """(path, size, mtime) of the top-level files of the dataset folder: changes invalidate the cache."""
    folder = root / spec.tonic_class
    return [(p.name, p.stat().st_size, int(p.stat().st_mtime)) for p in sorted(folder.iterdir()) if p.is_file()]
