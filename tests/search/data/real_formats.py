"""Tiny files written in each real dataset's on-disk format (tonic's readers parse them).

Each writer puts known events in sample 0 of every split so tests can check binning
against hand-computed (step, channel) positions.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np


def write_nmnist(root: Path, n_per_split: int = 10_000) -> None:
    """N-MNIST .bin: 5 bytes per event: x, y, (p << 7 | t[22:16]), t[15:8], t[7:0]; t in us."""
    for split, archive in (("Train", "train.zip"), ("Test", "test.zip")):
        base = root / "NMNIST" / split
        (root / "NMNIST" / archive).parent.mkdir(parents=True, exist_ok=True)
        (root / "NMNIST" / archive).write_bytes(b"")
        for digit in range(10):
            (base / str(digit)).mkdir(parents=True, exist_ok=True)
        for k in range(n_per_split):
            digit = k % 10
            # event 1: x=5, y=3, p=1, t=12_000 us -> step 2 at 5 ms; event 2: x=0, y=0, p=0, t=0
            events = [(5, 3, 1, 12_000), (0, 0, 0, 0)] if k == 0 else [(digit, digit, 1, 1000 * digit)]
            raw = bytearray()
            for x, y, p, t in events:
                raw += bytes([x, y, (p << 7) | ((t >> 16) & 0x7F), (t >> 8) & 0xFF, t & 0xFF])
            (base / str(digit) / f"{k:05d}.bin").write_bytes(bytes(raw))


def write_dvsgesture(root: Path, n_per_split: int = 110) -> None:
    """tonic's preprocessed layout: ibmGesture{Train,Test}/userNN_<lighting>/<label>.npy, (N, 4) x y p t[ms]."""
    for folder in ("ibmGestureTrain", "ibmGestureTest"):
        (root / "DVSGesture").mkdir(parents=True, exist_ok=True)
        (root / "DVSGesture" / f"{folder}.tar.gz").write_bytes(b"")
        for k in range(n_per_split):
            user_dir = root / "DVSGesture" / folder / f"user{k // 11 + 1:02d}_fluorescent"
            user_dir.mkdir(parents=True, exist_ok=True)
            label = k % 11
            if k == 0:  # x=127, y=64, p=1 at 31 ms (step 2 at 15 ms); plus an origin event at 1 ms
                events = np.array([[127, 64, 1, 31.0], [0, 0, 0, 1.0]])
            else:
                events = np.array([[label, label, 0, 5.0 * label + 1]])
            np.save(user_dir / f"{label}.npy", events)


def _vlen(group: h5py.Group, name: str, arrays: list[np.ndarray], dtype) -> None:
    ds = group.create_dataset(name, (len(arrays),), dtype=h5py.vlen_dtype(np.dtype(dtype)))
    for i, a in enumerate(arrays):
        ds[i] = np.asarray(a, dtype)


def write_shd(root: Path, n_per_split: int = 40) -> None:
    """SHD HDF5: spikes/times (s), spikes/units, labels, extra/keys, extra/speaker; plus the zip."""
    (root / "SHD").mkdir(parents=True, exist_ok=True)
    for split in ("train", "test"):
        (root / "SHD" / f"shd_{split}.h5.zip").write_bytes(b"")
        times = [np.array([0.0, 0.0255])] + [np.array([0.001 * k]) for k in range(1, n_per_split)]
        units = [np.array([699, 3])] + [np.array([k % 700]) for k in range(1, n_per_split)]
        with h5py.File(root / "SHD" / f"shd_{split}.h5", "w") as f:
            _vlen(f.create_group("spikes"), "times", times, np.float32)
            _vlen(f["spikes"], "units", units, np.uint16)
            f["labels"] = np.arange(n_per_split, dtype=np.uint8) % 20
            f["extra/keys"] = np.array([f"k{i}".encode() for i in range(20)])
            f["extra/speaker"] = np.arange(n_per_split) % 5


def write_ntidigits(root: Path, n_per_split: int = 33) -> None:
    """N-TIDIGITS HDF5: {split}_labels (ids 'spk-set-digits'), {split}_addresses/<id>, {split}_timestamps/<id> (s)."""
    (root / "NTIDIGITS18").mkdir(parents=True, exist_ok=True)
    digits = "o123456789z"
    with h5py.File(root / "NTIDIGITS18" / "n-tidigits.hdf5", "w") as f:
        for split in ("train", "test"):
            ids = [f"man-a{k}-{digits[k % 11]}" for k in range(n_per_split)] + [f"woman-b0-{digits[:2]}"]
            f[f"{split}_labels"] = np.array([i.encode() for i in ids])
            for k, sid in enumerate(ids):
                t = np.array([0.0, 0.047]) if k == 0 else np.array([0.001 * k])
                a = np.array([0, 63]) if k == 0 else np.array([k % 64])
                f[f"{split}_addresses/{sid}"] = a.astype(np.uint8)
                f[f"{split}_timestamps/{sid}"] = t.astype(np.float32)


def write_ti46(root: Path, speakers: tuple[str, ...] = ("f1", "m1", "m2"), letters: str = "abc") -> None:
    """ROOT/TI46-Alpha/{train,test}/<speaker>/<letter>...wav, 12.5 kHz tones whose pitch depends on the letter."""
    import soundfile

    rate = 12_500
    t = np.arange(int(0.4 * rate)) / rate
    for split in ("train", "test"):
        for spk in speakers:
            folder = root / "TI46-Alpha" / split / spk
            folder.mkdir(parents=True, exist_ok=True)
            for i, letter in enumerate(letters):
                wave = 0.3 * np.sin(2 * np.pi * (300 + 900 * i) * t) * np.hanning(len(t))
                soundfile.write(folder / f"{letter}0{spk}set0.wav", wave, rate)
