"""Datasets: one interface for all. ``load_dataset(config.data, seed)`` -> train / val / test.

Every dataset yields fixed-length binary spike tensors ``[T, channels]`` (bit-packed) and
labels. Test splits are fixed by the dataset; the validation split is drawn from the
training split by the seed (by whole voice / speaker where the dataset has them).
Binned data are cached on disk, keyed by everything that changes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from neuromotif.core.errors import InputError
from neuromotif.search.data import digits_order, digits_saccade, letters_tts, ti46, tonic_sets
from neuromotif.search.data.base import DatasetInfo, DatasetSplits, SpikeSplit, group_holdout, stratified_holdout
from neuromotif.search.data.cache import cache_key, cached_splits

if TYPE_CHECKING:
    from neuromotif.search.settings import DataConfig

__all__ = ["DatasetInfo", "DatasetSplits", "SpikeSplit", "DATASETS", "load_dataset", "dataset_status", "dataset_info"]


@dataclass(frozen=True)
class DatasetEntry:
    name: str
    kind: str  # "generated", "shipped" or "local folder"
    description: str
    binning: str
    samples: int = 0  # about how many samples all splits hold (for run-time estimates)


DATASETS: dict[str, DatasetEntry] = {
    "digits-saccade": DatasetEntry(
        "digits-saccade",
        "generated",
        "scikit-learn 8x8 digits (real) as saccade events",
        "200 ch (2x10x10), 60 steps",
        samples=1797,
    ),
    "digits-order": DatasetEntry(
        "digits-order",
        "generated",
        "which of two digits-saccade digits came first (a memory task)",
        "200 ch, 60 + 20 silent + 60 steps",
        samples=2 * 1797,
    ),
    "letters-tts": DatasetEntry(
        "letters-tts",
        "shipped",
        "SYNTHETIC spoken letters (espeak-ng, 80 voices)",
        "78 ch Lyon cochlea, 100 x 10 ms",
        samples=2808,
    ),
    "nmnist": DatasetEntry("nmnist", "local folder", "N-MNIST", "578 ch (2x17x17), 60 x 5 ms", samples=70000),
    "dvs-gesture": DatasetEntry(
        "dvs-gesture", "local folder", "DVS128 Gesture", "2048 ch (2x32x32), 100 x 15 ms", samples=1342
    ),
    "shd": DatasetEntry("shd", "local folder", "Spiking Heidelberg Digits", "700 ch, 100 x 10 ms", samples=10420),
    "ntidigits": DatasetEntry(
        "ntidigits", "local folder", "N-TIDIGITS single digits", "64 ch, 100 x 10 ms", samples=8800
    ),
    "ti46-alpha": DatasetEntry(
        "ti46-alpha", "local folder", "TI46-Alpha spoken letters (LDC)", "78 ch Lyon cochlea, 100 x 10 ms", samples=4160
    ),
}
FIXED_FRAME = {
    "digits-saccade": "its steps are saccade sub-steps, not a time base",
    "digits-order": "its steps are saccade sub-steps, not a time base",
    "letters-tts": "its frames are fixed at 10 ms",
    "ti46-alpha": "its frames are fixed at 10 ms",
}


def _reject_unused(cfg: DataConfig) -> None:
    if cfg.timesteps is not None and cfg.name == "digits-order":
        raise InputError(
            f"data.timesteps does not apply to digits-order (fixed {digits_order.TIMESTEPS} steps: two digits "
            "and a gap): remove it"
        )
    if cfg.dt_ms is not None and cfg.name in FIXED_FRAME:
        raise InputError(f"data.dt_ms does not apply to {cfg.name} ({FIXED_FRAME[cfg.name]}): remove it")
    if cfg.downsample is not None and not (cfg.name in tonic_sets.SPECS and tonic_sets.SPECS[cfg.name].is_vision):
        raise InputError(f"data.downsample applies to event cameras (nmnist, dvs-gesture), not {cfg.name}: remove it")


def _require_root(cfg: DataConfig) -> Path:
    root = cfg.resolved_root()
    if root is None:
        folder = tonic_sets.SPECS[cfg.name].tonic_class if cfg.name in tonic_sets.SPECS else ti46.FOLDER
        raise InputError(
            f"dataset {cfg.name} is read from a local folder: set data.root, --data-root or "
            f"NEUROMOTIF_DATA to the folder that holds {folder}/"
        )
    if not root.is_dir():
        raise InputError(f"data root {root} does not exist or is not a folder: fix data.root / --data-root")
    return root


def _raw_splits(cfg: DataConfig) -> tuple[DatasetInfo, dict[str, SpikeSplit]]:
    """The dataset's own train / test splits, binned (from the cache when possible)."""
    _reject_unused(cfg)
    name = cfg.name
    if name == "digits-saccade":
        t = cfg.timesteps or digits_saccade.DEFAULT_TIMESTEPS
        key = cache_key(name=name, timesteps=t)
        return digits_saccade.info(t), cached_splits(cfg.cache_dir, name, key, lambda: digits_saccade.build(t))
    if name == "digits-order":
        key = cache_key(name=name, timesteps=digits_order.TIMESTEPS, pair_seed=digits_order.PAIR_SEED)
        return digits_order.info(), cached_splits(cfg.cache_dir, name, key, digits_order.build)
    if name == "letters-tts":
        t = cfg.timesteps or letters_tts.TIMESTEPS
        return letters_tts.info(t), letters_tts.build(t)
    root = _require_root(cfg)
    if name == "ti46-alpha":
        t = cfg.timesteps or ti46.DEFAULT_TIMESTEPS
        key = cache_key(name=name, timesteps=t, files=ti46.source_fingerprint(root))
        return ti46.info(t), cached_splits(cfg.cache_dir, name, key, lambda: ti46.build(root, t))
    spec = tonic_sets.SPECS[name]
    t, dt = cfg.timesteps or spec.timesteps, cfg.dt_ms or spec.dt_ms
    ds = cfg.downsample or spec.downsample
    for train in (True, False):  # fail fast, before any binning
        tonic_sets.open_split(spec, root, train)
    key = cache_key(
        name=name,
        timesteps=t,
        dt_ms=dt,
        downsample=ds,
        max_samples=cfg.max_samples,
        files=tonic_sets.source_fingerprint(spec, root),
    )
    splits = cached_splits(cfg.cache_dir, name, key, lambda: tonic_sets.build(spec, root, t, dt, ds, cfg.max_samples))
    return tonic_sets.info(spec, t, dt, ds), splits


def dataset_info(cfg: DataConfig) -> DatasetInfo:
    """Channels, classes and steps of the configured dataset, without reading or binning it."""
    _reject_unused(cfg)
    name = cfg.name
    if name == "digits-saccade":
        return digits_saccade.info(cfg.timesteps or digits_saccade.DEFAULT_TIMESTEPS)
    if name == "digits-order":
        return digits_order.info()
    if name == "letters-tts":
        return letters_tts.info(cfg.timesteps or letters_tts.TIMESTEPS)
    if name == "ti46-alpha":
        return ti46.info(cfg.timesteps or ti46.DEFAULT_TIMESTEPS)
    spec = tonic_sets.SPECS[name]
    return tonic_sets.info(
        spec, cfg.timesteps or spec.timesteps, cfg.dt_ms or spec.dt_ms, cfg.downsample or spec.downsample
    )


def _cap(split: SpikeSplit, max_samples: int | None, rng: np.random.Generator) -> SpikeSplit:
    if max_samples is None or max_samples >= len(split):
        return split
    return split.subset(np.sort(rng.permutation(len(split))[:max_samples]))


def load_dataset(cfg: DataConfig, seed: int = 0) -> DatasetSplits:
    """Load (binning and caching on first use) and split a dataset, deterministically for ``seed``."""
    info, raw = _raw_splits(cfg)
    train, test = raw["train"], raw["test"]
    rng = np.random.default_rng(seed)
    if train.groups is not None:
        keep, hold = group_holdout(train.groups, cfg.val_fraction, rng)
    else:
        keep, hold = stratified_holdout(train.labels, cfg.val_fraction, rng)
    cap_rng = np.random.default_rng(seed + 1)
    return DatasetSplits(
        info,
        _cap(train.subset(keep), cfg.max_samples, cap_rng),
        _cap(train.subset(hold), cfg.max_samples, cap_rng),
        _cap(test, cfg.max_samples, cap_rng),
    )


def dataset_status(cfg: DataConfig) -> list[dict[str, Any]]:
    """One row per dataset: where it looks, whether it is there, its binning and size."""
    root = cfg.resolved_root()
    rows = []
    for entry in DATASETS.values():
        if entry.kind == "generated":
            where, present = "generated from scikit-learn (no files)", True
        elif entry.kind == "shipped":
            where, present = str(letters_tts.ASSET), letters_tts.ASSET.exists()
        elif root is None:
            where, present = "(no data root: set --data-root or NEUROMOTIF_DATA)", False
        elif entry.name == "ti46-alpha":
            where, present = str(root / ti46.FOLDER), ti46.is_present(root)
        else:
            spec = tonic_sets.SPECS[entry.name]
            where, present = str(root / spec.tonic_class), tonic_sets.is_present(spec, root)
        size = _disk_size(Path(where)) if present and entry.kind != "generated" else None
        rows.append(
            {
                "name": entry.name,
                "kind": entry.kind,
                "description": entry.description,
                "binning": entry.binning,
                "location": where,
                "present": present,
                "bytes": size,
            }
        )
    return rows


def _disk_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def check_available(cfg: DataConfig) -> None:
    """Raise ``InputError`` (naming the files expected) if ``cfg``'s dataset cannot be read."""
    _reject_unused(cfg)
    if cfg.name in ("digits-saccade", "digits-order", "letters-tts"):
        if cfg.name == "letters-tts" and not letters_tts.ASSET.exists():
            raise InputError(f"letters-tts asset missing: {letters_tts.ASSET}; run `make letters-tts`")
        return
    root = _require_root(cfg)
    if cfg.name == "ti46-alpha":
        ti46.audio_files(root, "train")
        ti46.audio_files(root, "test")
        return
    spec = tonic_sets.SPECS[cfg.name]
    for train in (True, False):  # the files exist, and their first sample reads as the loader will read it
        ds = tonic_sets.open_split(spec, root, train)
        if len(ds):
            split = "train" if train else "test"
            tonic_sets.read_sample(spec, ds, 0, split, root, cfg.downsample or spec.downsample)
