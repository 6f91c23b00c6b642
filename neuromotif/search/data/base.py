"""What every dataset yields: fixed-length binary spike tensors ``[T, channels]`` and labels.

Spikes are stored bit-packed along channels (8x smaller than uint8) and unpacked per batch.
Counts above one in a bin are clipped to one: chip inputs are binary spikes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class DatasetInfo:
    """Shape and meaning of a dataset's samples (after binning)."""

    name: str
    channels: int
    classes: int
    timesteps: int
    dt_ms: float
    class_names: tuple[str, ...]
    synthetic: bool
    description: str

    def __post_init__(self) -> None:
        if len(self.class_names) != self.classes:
            raise ValueError(f"{self.name}: {len(self.class_names)} class names for {self.classes} classes")


@dataclass
class SpikeSplit:
    """One split: packed spikes ``[n, T, ceil(C/8)]`` uint8, labels ``[n]``, optional group ids.

    ``groups`` holds the speaker / voice / user of each sample where one exists, so that
    splits can keep a group on one side.
    """

    packed: np.ndarray
    labels: np.ndarray
    channels: int
    groups: np.ndarray | None = field(default=None)

    def __post_init__(self) -> None:
        if self.packed.ndim != 3 or self.packed.dtype != np.uint8:
            raise ValueError(f"packed spikes must be uint8 [n, T, bytes], got {self.packed.dtype} {self.packed.shape}")
        if len(self.labels) != len(self.packed):
            raise ValueError(f"{len(self.labels)} labels for {len(self.packed)} samples")
        if self.packed.shape[2] != (self.channels + 7) // 8:
            raise ValueError(f"{self.packed.shape[2]} packed bytes cannot hold {self.channels} channels")

    @classmethod
    def from_dense(cls, spikes: np.ndarray, labels: np.ndarray, groups: np.ndarray | None = None) -> SpikeSplit:
        """Pack ``[n, T, C]`` spike counts (clipped to binary)."""
        binary = (np.asarray(spikes) > 0).astype(np.uint8)
        return cls(
            np.packbits(binary, axis=-1),
            np.asarray(labels, np.int64),
            binary.shape[-1],
            None if groups is None else np.asarray(groups),
        )

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def timesteps(self) -> int:
        return self.packed.shape[1]

    def spikes(self, index: np.ndarray | slice | None = None) -> np.ndarray:
        """Unpacked binary spikes ``[n, T, C]`` uint8 for ``index`` (all samples when None)."""
        packed = self.packed if index is None else self.packed[index]
        return np.unpackbits(packed, axis=-1, count=self.channels)

    def subset(self, index: np.ndarray) -> SpikeSplit:
        return SpikeSplit(
            self.packed[index], self.labels[index], self.channels, None if self.groups is None else self.groups[index]
        )


@dataclass
class DatasetSplits:
    """Train / validation / test splits of one dataset, ready for training."""

    info: DatasetInfo
    train: SpikeSplit
    val: SpikeSplit
    test: SpikeSplit

    def split(self, name: str) -> SpikeSplit:
        return {"train": self.train, "val": self.val, "test": self.test}[name]


def bin_events(t_us: np.ndarray, channel: np.ndarray, n_channels: int, dt_us: float, timesteps: int) -> np.ndarray:
    """Events (time in us from the sample start, channel) -> binary ``[timesteps, n_channels]``.

    Events at or after ``timesteps * dt_us`` are dropped (fixed-length samples).
    """
    step = np.floor(np.asarray(t_us, np.float64) / dt_us).astype(np.int64)
    ch = np.asarray(channel, np.int64)
    keep = (step >= 0) & (step < timesteps) & (ch >= 0) & (ch < n_channels)
    out = np.zeros((timesteps, n_channels), np.uint8)
    out[step[keep], ch[keep]] = 1
    return out


def stratified_holdout(labels: np.ndarray, fraction: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Split indices into (keep, holdout) with ``fraction`` of every class held out."""
    keep, hold = [], []
    for cls in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == cls))
        n_hold = int(round(fraction * len(idx)))
        hold.append(idx[:n_hold])
        keep.append(idx[n_hold:])
    return np.sort(np.concatenate(keep)), np.sort(np.concatenate(hold))


def group_holdout(groups: np.ndarray, fraction: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Split indices into (keep, holdout) by whole groups (e.g. voices): no group on both sides."""
    unique = rng.permutation(np.unique(groups))
    n_hold = max(1, int(round(fraction * len(unique))))
    held = np.isin(groups, unique[:n_hold])
    return np.flatnonzero(~held), np.flatnonzero(held)
