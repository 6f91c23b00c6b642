"""Generate ``letters-tts``: the 26 spoken letters, synthetic speech (espeak-ng).

Run ``make letters-tts`` (needs ``apt-get install espeak-ng``). Writes
``search/data/assets/letters_tts.npz``, which ships with the package so that using the
dataset needs no apt install. Each voice identity is an espeak-ng accent combined with a
voice variant; each identity speaks every letter at 2 speeds x 2 pitches. Identities are
the unit of the split. The test voices are every accent spoken with two held-out variants
(``TEST_VARIANTS``): neither those identities nor those voice timbres are ever used for
training or validation, so test accuracy measures speaker-independent recognition.

This is synthetic speech, TI46-Alpha-like in vocabulary and front end, not TI46.
"""

from __future__ import annotations

import itertools
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from neuromotif.core.io import atomic_path
from neuromotif.core.progress import track
from neuromotif.search.data import cochlea

LETTERS = [chr(c) for c in range(ord("A"), ord("Z") + 1)]
ACCENTS = ["en", "en-US", "en-GB-scotland", "en-GB-x-gbclan", "en-GB-x-rp", "en-GB-x-gbcwmd", "en-029", "en-US-nyc"]
VARIANTS = ["m1", "m2", "m3", "m4", "m7", "f1", "f2", "f3", "f4", "f5"]
TEST_VARIANTS = ("m4", "f4")
SPEEDS_WPM = [140, 180]
PITCHES = [35, 65]
TIMESTEPS = 100  # 1 s of 10 ms frames
ASSET = Path(__file__).parent / "assets" / "letters_tts.npz"


def is_test_identity(variant_idx: int) -> bool:
    """Test voices: every accent with a held-out variant (16 of 80 identities)."""
    return VARIANTS[variant_idx] in TEST_VARIANTS


def synthesize(text: str, voice: str, speed: int, pitch: int, wav: Path) -> None:
    subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(wav), text],
        check=True,
        capture_output=True,
    )


def generate(out: Path = ASSET) -> Path:
    if shutil.which("espeak-ng") is None:
        raise SystemExit("espeak-ng not found: install it with `apt-get install espeak-ng`")
    identities = list(itertools.product(range(len(ACCENTS)), range(len(VARIANTS))))
    jobs = list(itertools.product(identities, SPEEDS_WPM, PITCHES, range(len(LETTERS))))
    spikes, labels, voice_ids, is_test = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "u.wav"
        for (a, v), speed, pitch, letter in track(jobs, "synthesising letters"):
            synthesize(LETTERS[letter], f"{ACCENTS[a]}+{VARIANTS[v]}", speed, pitch, wav)
            spikes.append(cochlea.audio_file_to_spikes(wav, TIMESTEPS))
            labels.append(letter)
            voice_ids.append(a * len(VARIANTS) + v)
            is_test.append(is_test_identity(v))
    voices = np.array([f"{ACCENTS[a]}+{VARIANTS[v]}" for a, v in identities])
    with atomic_path(out) as tmp_path:
        with open(tmp_path, "wb") as fh:
            np.savez_compressed(
                fh,
                spikes_packed=np.packbits(np.stack(spikes), axis=-1),
                n_channels=np.int64(cochlea.N_CHANNELS),
                labels=np.array(labels, np.int16),
                voice=np.array(voice_ids, np.int16),
                voice_names=voices,
                test_voice=np.array([is_test_identity(v) for a, v in identities]),
                frame_ms=np.int64(cochlea.FRAME_MS),
            )
    print(
        f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB, {len(labels)} utterances, "
        f"{len(identities)} voices, {sum(is_test)} test utterances)"
    )
    return out


if __name__ == "__main__":
    generate(Path(sys.argv[1]) if len(sys.argv) > 1 else ASSET)
