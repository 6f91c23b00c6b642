"""``digits-saccade``: scikit-learn's 1,797 real 8x8 handwritten digits as N-MNIST-like events.

Like N-MNIST's recording, a static image is moved over an event sensor in three straight
saccades (a triangle: right-down, left-down, back up) and a DVS pixel model turns the
brightness changes into ON/OFF events: each pixel keeps a reference log-intensity and emits
one event per ``CONTRAST`` step the current log-intensity moves away from it. The motion is
sampled ``SUBSTEPS`` times per time step; events are binned per step. Fully deterministic:
no randomness in generation, so the only seed-dependent part is the validation split.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from neuromotif.search.data.base import DatasetInfo, SpikeSplit, stratified_holdout

IMAGE = 8
SENSOR = 10  # the 8x8 image travels up to 2 px inside a 10x10 sensor
CHANNELS = 2 * SENSOR * SENSOR  # ON plane then OFF plane, row-major pixels
DEFAULT_TIMESTEPS = 60
SUBSTEPS = 4
CONTRAST = 0.15  # log-intensity change per event
LOG_EPS = 0.1
TEST_FRACTION = 0.2
TEST_SPLIT_SEED = 20_240_101  # fixed: the test set never depends on the run's seed
SACCADE_CORNERS = np.array([[0.0, 0.0], [2.0, 1.0], [1.0, 2.0], [0.0, 0.0]])  # (dy, dx) in pixels


def info(timesteps: int = DEFAULT_TIMESTEPS) -> DatasetInfo:
    return DatasetInfo(
        "digits-saccade",
        CHANNELS,
        10,
        timesteps,
        1.0,
        tuple(str(d) for d in range(10)),
        False,
        "scikit-learn 8x8 handwritten digits (real) moved in 3 saccades over a 10x10 event sensor",
    )


def saccade_path(timesteps: int) -> np.ndarray:
    """Image offset (dy, dx) at each of ``timesteps * SUBSTEPS`` sub-steps (plus the start)."""
    n = timesteps * SUBSTEPS
    s = np.linspace(0.0, 3.0, n + 1)  # position along the three segments
    seg = np.minimum(s.astype(int), 2)
    frac = (s - seg)[:, None]
    return SACCADE_CORNERS[seg] * (1 - frac) + SACCADE_CORNERS[seg + 1] * frac


def render(images: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """Place ``[n, 8, 8]`` images on the sensor shifted by a sub-pixel ``offset`` (bilinear)."""
    canvas = np.zeros((len(images), SENSOR, SENSOR))
    canvas[:, :IMAGE, :IMAGE] = images
    return ndimage.shift(canvas, (0.0, offset[0], offset[1]), order=1, mode="constant", cval=0.0)


def events_to_spikes(images: np.ndarray, timesteps: int) -> np.ndarray:
    """DVS model over the saccade path: ``[n, 8, 8]`` in [0, 1] -> binary ``[n, T, 200]``."""
    path = saccade_path(timesteps)
    ref = np.log(render(images, path[0]) + LOG_EPS)
    spikes = np.zeros((len(images), timesteps, 2, SENSOR, SENSOR), np.uint8)
    for k in range(1, len(path)):
        level = np.log(render(images, path[k]) + LOG_EPS)
        diff = level - ref
        n_on = np.floor(np.maximum(diff, 0) / CONTRAST)
        n_off = np.floor(np.maximum(-diff, 0) / CONTRAST)
        ref += (n_on - n_off) * CONTRAST
        t = (k - 1) // SUBSTEPS
        spikes[:, t, 0] |= (n_on > 0).astype(np.uint8)
        spikes[:, t, 1] |= (n_off > 0).astype(np.uint8)
    return spikes.reshape(len(images), timesteps, CHANNELS)


def build(timesteps: int = DEFAULT_TIMESTEPS) -> dict[str, SpikeSplit]:
    """All 1,797 digits as events, split into a fixed train / test partition (stratified)."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = digits.images / 16.0
    labels = digits.target.astype(np.int64)
    spikes = events_to_spikes(images, timesteps)
    train_idx, test_idx = stratified_holdout(labels, TEST_FRACTION, np.random.default_rng(TEST_SPLIT_SEED))
    return {
        "train": SpikeSplit.from_dense(spikes[train_idx], labels[train_idx]),
        "test": SpikeSplit.from_dense(spikes[test_idx], labels[test_idx]),
    }
