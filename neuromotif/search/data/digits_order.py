"""``digits-order``: which of two digits came first? A memory task built from ``digits-saccade``.

Each sample is one digit-saccade recording (60 steps), a silent gap of ``GAP`` steps, then a second
recording of another class; the label is the class of the **first**. The readout counts output
spikes over the whole sample, and a network without memory counts both digits alike (its counts
are nearly the same for "3 then 7" as for "7 then 3"), so it cannot beat about half of the pairs
it recognises; a network has to hold the first digit across the gap and the second digit
(recurrence, or slow neuron decays: a feed-forward SNN reaches 91-93 % on validation).
Digits-saccade alone is saturated (every reasonable network reaches ~96 %); this task leaves room
for architecture to matter (issue 30).

Deterministic: pairs are drawn with a fixed seed inside each split of digits-saccade, so test
pairs hold only test images. Every image is the first digit of ``PAIRS_PER_IMAGE`` pairs (with
different partners) and the second digit of as many; a sample's group is its first image, so the
validation holdout keeps all pairs that start with one image on one side.
"""

from __future__ import annotations

import numpy as np

from neuromotif.search.data import digits_saccade
from neuromotif.search.data.base import DatasetInfo, SpikeSplit

DIGIT_STEPS = digits_saccade.DEFAULT_TIMESTEPS
GAP = 20  # silent steps between the digits: the first must be held without input
TIMESTEPS = 2 * DIGIT_STEPS + GAP
PAIRS_PER_IMAGE = 2
PAIR_SEED = 20_261_201


def info() -> DatasetInfo:
    return DatasetInfo(
        "digits-order",
        digits_saccade.CHANNELS,
        10,
        TIMESTEPS,
        1.0,
        tuple(str(d) for d in range(10)),
        False,
        f"two digits-saccade recordings of different classes, {GAP} silent steps apart; label: the first",
    )


def partners(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A permutation ``p`` with ``labels[p[i]] != labels[i]`` for every i (each image is a second
    digit exactly once): a random permutation, then every clash swapped with a random partner
    whose swap removes it without making another."""
    n = len(labels)
    p = rng.permutation(n)
    for i in np.flatnonzero(labels[p] == labels):
        while labels[p[i]] == labels[i]:
            j = int(rng.integers(n))
            if labels[p[j]] != labels[i] and labels[p[i]] != labels[j]:
                p[i], p[j] = p[j], p[i]
    return p


def pairs(split: SpikeSplit, rng: np.random.Generator) -> SpikeSplit:
    """The ordered pairs of one digits-saccade split (packed spikes joined along time)."""
    n = len(split)
    gap = np.zeros((n, GAP, split.packed.shape[2]), np.uint8)
    packed, labels, groups = [], [], []
    for _ in range(PAIRS_PER_IMAGE):
        second = partners(split.labels, rng)
        packed.append(np.concatenate([split.packed, gap, split.packed[second]], axis=1))
        labels.append(split.labels)
        groups.append(np.arange(n))
    return SpikeSplit(np.concatenate(packed), np.concatenate(labels), split.channels, np.concatenate(groups))


def build() -> dict[str, SpikeSplit]:
    base = digits_saccade.build(DIGIT_STEPS)
    rng = np.random.default_rng(PAIR_SEED)
    return {name: pairs(base[name], rng) for name in ("train", "test")}
