"""``letters-tts``: synthetic spoken letters (espeak-ng), TI46-Alpha-like. Ships with the package.

Read from ``assets/letters_tts.npz`` (made by ``letters_tts_generate.py``): 26 letters,
80 voice identities (8 accents x 10 variants) x 2 speeds x 2 pitches, Lyon cochlea
(78 channels, 10 ms) -> integrate-and-fire spikes, 100 steps. Test voices (two held-out
variants in every accent) are fixed by the asset; validation voices are drawn per seed
from the training voices. Synthetic speech: results on it are not TI46 results.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from neuromotif.core.errors import InputError
from neuromotif.search.data.base import DatasetInfo, SpikeSplit

ASSET = Path(__file__).parent / "assets" / "letters_tts.npz"
TIMESTEPS = 100
FRAME_MS = 10.0
LETTERS = tuple(chr(c) for c in range(ord("a"), ord("z") + 1))


def info(timesteps: int = TIMESTEPS) -> DatasetInfo:
    return DatasetInfo(
        "letters-tts",
        78,
        26,
        timesteps,
        FRAME_MS,
        LETTERS,
        True,
        "SYNTHETIC speech: 26 letters by espeak-ng, 80 voices, Lyon cochlea 78 channels",
    )


def build(timesteps: int = TIMESTEPS) -> dict[str, SpikeSplit]:
    if timesteps > TIMESTEPS:
        raise InputError(
            f"letters-tts ships {TIMESTEPS} steps of 10 ms; data.timesteps={timesteps} is too long: "
            f"use <= {TIMESTEPS} or regenerate with `make letters-tts`"
        )
    if not ASSET.exists():
        raise InputError(f"letters-tts asset missing: {ASSET}; reinstall neuromotif or run `make letters-tts`")
    with np.load(ASSET, allow_pickle=False) as z:
        packed, labels, voice, test_voice = z["spikes_packed"], z["labels"], z["voice"], z["test_voice"]
        channels = int(z["n_channels"])
    is_test = test_voice[voice]
    packed = np.ascontiguousarray(packed[:, :timesteps])
    return {
        name: SpikeSplit(packed[mask], labels[mask].astype(np.int64), channels, voice[mask].astype(np.int64))
        for name, mask in (("train", ~is_test), ("test", is_test))
    }
