"""TI46-Alpha (the 26 spoken letters of the LDC TI46 corpus) from a local folder of audio files.

TI46 is licensed by the LDC and cannot be downloaded; users who hold it point ``data.root``
at a folder laid out as::

    ROOT/TI46-Alpha/train/<speaker>/<letter>....wav   (or .sph, NIST SPHERE)
    ROOT/TI46-Alpha/test/<speaker>/<letter>....wav

The label is the first character of the file name (a-z, any case); the speaker is the
folder. Audio goes through the same Lyon front end and spike encoder as ``letters-tts``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from neuromotif.core.errors import InputError
from neuromotif.core.progress import track
from neuromotif.search.data import cochlea
from neuromotif.search.data.base import DatasetInfo, SpikeSplit

FOLDER = "TI46-Alpha"
AUDIO_SUFFIXES = (".wav", ".sph")
LETTERS = tuple(chr(c) for c in range(ord("a"), ord("z") + 1))
DEFAULT_TIMESTEPS = 100
LAYOUT = f"{FOLDER}/{{train,test}}/<speaker>/<letter>*.wav (label = first letter of the file name)"


def info(timesteps: int) -> DatasetInfo:
    return DatasetInfo(
        "ti46-alpha",
        cochlea.N_CHANNELS,
        26,
        timesteps,
        float(cochlea.FRAME_MS),
        LETTERS,
        False,
        "TI46-Alpha spoken letters (LDC), Lyon cochlea 78 channels",
    )


def audio_files(root: Path, split: str) -> list[Path]:
    folder = root / FOLDER / split
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES) if folder.is_dir() else []
    if not files:
        raise InputError(
            f"dataset ti46-alpha ({split}) not found: no audio files under {folder}; expected {LAYOUT}; "
            f"set data.root (or --data-root) to the folder holding {FOLDER}/"
        )
    return files


def label_of(path: Path) -> int:
    first = path.stem[:1].lower()
    if first not in LETTERS:
        raise InputError(
            f"ti46-alpha: cannot read a letter label from file name {path}: "
            "file names must start with the spoken letter (a-z)"
        )
    return LETTERS.index(first)


def is_present(root: Path) -> bool:
    try:
        audio_files(root, "train")
        audio_files(root, "test")
    except InputError:
        return False
    return True


def source_fingerprint(root: Path) -> list[tuple[str, int, int]]:
    files = audio_files(root, "train") + audio_files(root, "test")
    return [(str(p.relative_to(root)), p.stat().st_size, int(p.stat().st_mtime)) for p in files]


def build(root: Path, timesteps: int) -> dict[str, SpikeSplit]:
    out = {}
    for split in ("train", "test"):
        files = audio_files(root, split)
        speakers = sorted({p.parent.name for p in files})
        spikes = np.zeros((len(files), timesteps, cochlea.N_CHANNELS), np.uint8)
        for k, path in enumerate(track(files, f"cochlea ti46-alpha {split}")):
            try:
                spikes[k] = cochlea.audio_file_to_spikes(path, timesteps)
            except (RuntimeError, ValueError) as exc:  # soundfile raises these for unreadable audio
                raise InputError(f"ti46-alpha: cannot read audio file {path}: {exc}") from None
        labels = np.array([label_of(p) for p in files])
        groups = np.array([speakers.index(p.parent.name) for p in files])
        out[split] = SpikeSplit.from_dense(spikes, labels, groups)
    return out
