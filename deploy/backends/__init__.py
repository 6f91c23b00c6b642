"""Backends run a bundle: ``cpu`` (numpy, vectorised over samples) and ``lava`` (Lava's
bit-accurate Loihi process models). Both return a ``SimResult``; they must agree on every spike."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class SimResult:
    """What a backend returns, the same shapes from both.

    ``counts`` [B, classes]: output spike counts. Per recorded population: ``spikes`` [B, T, n]
    rasters; ``final_v`` / ``final_u`` [B, n], the state after the last step (both backends);
    ``voltages`` / ``currents`` [B, T, n], v and u at every step (CPU backend, ``record_v``).
    ``activity_*`` [T, N_all]: summed over samples, per step and neuron (bundle population
    order, inputs first), for the cost model.
    """

    counts: np.ndarray
    spikes: dict[str, np.ndarray] = field(default_factory=dict)
    final_v: dict[str, np.ndarray] = field(default_factory=dict)
    final_u: dict[str, np.ndarray] = field(default_factory=dict)
    voltages: dict[str, np.ndarray] = field(default_factory=dict)
    currents: dict[str, np.ndarray] = field(default_factory=dict)
    activity_spikes: np.ndarray | None = None   # [T, N_all]
    activity_active: np.ndarray | None = None   # [T, N_all]
    samples: int = 0
    seconds: float = 0.0

