"""Backends run a bundle: ``cpu`` (numpy, vectorised over samples) and ``lava`` (Lava's
bit-accurate Loihi process models). Both return a ``SimResult``; they must agree on every spike."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class SimResult:
    """Output spike counts [B, classes]; optional rasters / voltages per population [B, T, n];
    activity summed over samples, per step and neuron (bundle population order, inputs first)."""

    counts: np.ndarray
    spikes: dict[str, np.ndarray] = field(default_factory=dict)
    voltages: dict[str, np.ndarray] = field(default_factory=dict)
    currents: dict[str, np.ndarray] = field(default_factory=dict)
    activity_spikes: np.ndarray | None = None   # [T, N_all]
    activity_active: np.ndarray | None = None   # [T, N_all]
    samples: int = 0
    seconds: float = 0.0


BACKENDS = ("cpu", "lava")
