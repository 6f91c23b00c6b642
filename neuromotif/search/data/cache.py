"""On-disk cache of binned datasets: bin once, load in milliseconds afterwards.

The key hashes everything that changes the binned arrays (dataset, binning parameters,
source files' sizes and times, cache format version), so a stale entry is never read.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from neuromotif.core.io import OutputError, atomic_path
from neuromotif.core.progress import warn
from neuromotif.search.data.base import SpikeSplit

CACHE_FORMAT = 1
CACHE_ENV = "NEUROMOTIF_CACHE"


def default_cache_dir() -> Path:
    env = os.environ.get(CACHE_ENV)
    return Path(env) if env else Path.home() / ".cache" / "neuromotif"


def cache_key(**params: object) -> str:
    blob = json.dumps({"format": CACHE_FORMAT, **params}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _save(path: Path, splits: dict[str, SpikeSplit]) -> None:
    arrays: dict[str, np.ndarray] = {}
    for name, split in splits.items():
        arrays[f"{name}.packed"] = split.packed
        arrays[f"{name}.labels"] = split.labels
        arrays[f"{name}.channels"] = np.asarray(split.channels, np.int64)
        if split.groups is not None:
            arrays[f"{name}.groups"] = split.groups
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **arrays)


def _load(path: Path) -> dict[str, SpikeSplit]:
    with np.load(path, allow_pickle=False) as z:
        names = sorted({k.split(".")[0] for k in z.files})
        return {
            n: SpikeSplit(
                z[f"{n}.packed"],
                z[f"{n}.labels"],
                int(z[f"{n}.channels"]),
                z[f"{n}.groups"] if f"{n}.groups" in z.files else None,
            )
            for n in names
        }


def cached_splits(
    cache_dir: Path | None, name: str, key: str, build: Callable[[], dict[str, SpikeSplit]]
) -> dict[str, SpikeSplit]:
    """Return the cached splits for (name, key), building and saving them on a miss.

    A cache file that cannot be read (truncated, foreign) is rebuilt rather than trusted; a cache
    folder that cannot be written (read-only, missing parent, full) costs only the caching: the
    data are binned in memory with a one-line warning.
    """
    folder = cache_dir or default_cache_dir()
    path = folder / f"{name}-{key}.npz"
    if path.is_file():
        try:
            return _load(path)
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            try:
                path.unlink()
            except OSError:
                pass
    splits = build()
    try:
        _save(path, splits)
    except (OSError, OutputError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else str(exc).partition(" (")[2].partition(")")[0]
        warn(
            f"cannot write the dataset cache {folder} ({reason or exc}): binned in memory this time; "
            f"point {CACHE_ENV} or data.cache_dir at a writable folder"
        )
    return splits
