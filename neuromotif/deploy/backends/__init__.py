"""Backends run a bundle, all behind one interface (``Backend.run``) and one registry:

- ``cpu``: numpy, vectorised over samples, bit-identical to Lava (``cpu.py``);
- ``lava``: Lava's bit-accurate Loihi process models, in a supervised child session (``lava.py``);
- ``sanafe``: SANA-FE's Loihi 1 simulator, for its own energy and timing (``sanafe.py``, optional);
- ``torch``: the CPU backend's integer dynamics on torch tensors, CPU or CUDA, bit for bit. It needs
  torch, so it lives on the torch side (``neuromotif/search/torch_backend.py``); named here, it is
  imported only when asked.

A new backend is one module with a class ``__init__(bundle, **options)`` + ``run(...)`` and one
line in ``BACKENDS``. Modules are imported only when their backend is made, so the CLI and the
compiler never import Lava or SANA-FE unless asked.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

DEFAULT_TIMEOUT_S = 600.0  # a supervised session's time limit (Lava) unless the caller sets one

# name -> (module, class): imported on first use
BACKENDS: dict[str, tuple[str, str]] = {
    "cpu": ("neuromotif.deploy.backends.cpu", "CPUBackend"),
    "lava": ("neuromotif.deploy.backends.lava", "LavaBackend"),
    "sanafe": ("neuromotif.deploy.backends.sanafe", "SanafeBackend"),
    "torch": ("neuromotif.search.torch_backend", "TorchBackend"),
}


@dataclass
class SimResult:
    """What a backend returns, the same shapes from every backend.

    ``counts`` [B, classes]: output spike counts. Per recorded population: ``spikes`` [B, T, n]
    rasters; ``final_v`` / ``final_u`` [B, n], the state after the last step; ``voltages`` /
    ``currents`` [B, T, n], v and u at every step (``record_v``). ``activity_*`` [T, N_all]:
    summed over samples, per step and neuron (bundle population order, inputs first), for the
    cost model (``activity``). ``extras``: what only this backend measures (SANA-FE: its energy
    and step times per sample).
    """

    counts: np.ndarray
    spikes: dict[str, np.ndarray] = field(default_factory=dict)
    final_v: dict[str, np.ndarray] = field(default_factory=dict)
    final_u: dict[str, np.ndarray] = field(default_factory=dict)
    voltages: dict[str, np.ndarray] = field(default_factory=dict)
    currents: dict[str, np.ndarray] = field(default_factory=dict)
    activity_spikes: np.ndarray | None = None  # [T, N_all]
    activity_active: np.ndarray | None = None  # [T, N_all]
    samples: int = 0
    seconds: float = 0.0
    extras: dict[str, Any] = field(default_factory=dict)

    def head(self, k: int) -> SimResult:
        """The recordings of the first ``k`` samples (activity and extras are not per sample)."""

        def cut(recorded: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
            return {n: a[:k] for n, a in recorded.items()}

        return SimResult(
            self.counts[:k],
            spikes=cut(self.spikes),
            final_v=cut(self.final_v),
            final_u=cut(self.final_u),
            voltages=cut(self.voltages),
            currents=cut(self.currents),
            samples=min(k, self.samples),
            seconds=self.seconds,
        )


class UnsupportedOption(ValueError):
    """A backend was asked to record something it cannot observe."""


class Backend(Protocol):
    """Runs a bundle on binary input ``x`` [B, T, channels]. ``record``: populations whose
    rasters (and final state) to keep; ``record_v``: also v and u at every step; ``activity``:
    spikes and active updates per step and neuron for the cost model. A backend that cannot
    observe something raises ``UnsupportedOption`` naming the backend that can."""

    def run(
        self, x: np.ndarray, record: tuple[str, ...] = (), record_v: bool = False, activity: bool = False
    ) -> SimResult: ...


def make_backend(name: str, bundle: Any, **options: Any) -> Backend:
    """The backend ``name`` for ``bundle`` (options go to its constructor, e.g. ``timeout_s``)."""
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}: choose one of {', '.join(BACKENDS)}")
    module, cls = BACKENDS[name]
    return getattr(importlib.import_module(module), cls)(bundle, **options)


def refuse_options(backend: str, record_v: bool, activity: bool) -> None:
    """For backends that observe only spikes and final state."""
    if record_v or activity:
        what = "per-step v and u" if record_v else "activity counts"
        raise UnsupportedOption(f"the {backend} backend does not record {what}: use the cpu backend")
