"""Speech front end shared by ``letters-tts`` and TI46-Alpha: Lyon cochlea -> spikes.

Lyon's passive ear at 12.5 kHz (TI46's native rate) gives the 78 channels the TI46
papers use. Frames are 10 ms. The spike encoder is a per-channel integrate-and-fire:
after aligning the utterance onset to step 2 and normalising to the utterance's peak,
each channel accumulates its cochlear output and emits a spike (and subtracts the
threshold) whenever the accumulator crosses ``IF_THRESHOLD``: at most one spike per
channel and step, rate proportional to the band's energy.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

SAMPLE_RATE_HZ = 12_500
FRAME_MS = 10
DECIMATION = SAMPLE_RATE_HZ * FRAME_MS // 1000  # 125 samples per frame
N_CHANNELS = 78
IF_THRESHOLD = 0.5
ONSET_FRACTION = 0.05  # a frame is "speech" when its energy exceeds 5 % of the peak frame
ONSET_STEP = 2


def resample(wave: np.ndarray, rate_hz: int) -> np.ndarray:
    """Resample a mono waveform to ``SAMPLE_RATE_HZ`` (polyphase, exact for integer rates)."""
    from math import gcd

    from scipy.signal import resample_poly

    if rate_hz == SAMPLE_RATE_HZ:
        return wave.astype(np.float64)
    g = gcd(SAMPLE_RATE_HZ, int(rate_hz))
    return resample_poly(wave.astype(np.float64), SAMPLE_RATE_HZ // g, int(rate_hz) // g)


def cochleagram(wave: np.ndarray, rate_hz: int) -> np.ndarray:
    """Lyon passive-ear output, ``[frames, 78]`` float32, one frame per 10 ms."""
    from lyon.calc import LyonCalc

    signal = resample(wave, rate_hz)
    coch = LyonCalc().lyon_passive_ear(signal, sample_rate=SAMPLE_RATE_HZ, decimation_factor=DECIMATION)
    if coch.shape[1] != N_CHANNELS:  # pragma: no cover - guards a lyon version change
        raise RuntimeError(f"lyon returned {coch.shape[1]} channels, expected {N_CHANNELS}")
    return coch.astype(np.float32)


def encode_spikes(coch: np.ndarray, timesteps: int) -> np.ndarray:
    """Cochleagram ``[frames, C]`` -> binary spikes ``[timesteps, C]`` uint8 (see module doc)."""
    energy = coch.sum(axis=1)
    if energy.max() <= 0:
        return np.zeros((timesteps, coch.shape[1]), np.uint8)
    onset = int(np.argmax(energy > ONSET_FRACTION * energy.max()))
    start = max(onset - ONSET_STEP, 0)
    frames = coch[start : start + timesteps] / coch.max()
    spikes = np.zeros((timesteps, coch.shape[1]), np.uint8)
    acc = np.zeros(coch.shape[1], np.float64)
    for t, frame in enumerate(frames):
        acc += frame
        fired = acc >= IF_THRESHOLD
        spikes[t, fired] = 1
        acc[fired] -= IF_THRESHOLD
    return spikes


def read_audio(path: Path) -> tuple[np.ndarray, int]:
    """Read a WAV (or NIST SPHERE) file as mono float64."""
    import soundfile

    wave, rate = soundfile.read(str(path), dtype="float64", always_2d=True)
    return wave.mean(axis=1), int(rate)


def audio_file_to_spikes(path: Path, timesteps: int) -> np.ndarray:
    wave, rate = read_audio(path)
    return encode_spikes(cochleagram(wave, rate), timesteps)
