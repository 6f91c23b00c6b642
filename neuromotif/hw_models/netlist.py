"""What the hardware models map: populations of neurons and the projections between them.

Plain typed dataclasses (numpy / scipy only), validated at construction. The compiler
builds one from a bundle; tests and benchmarks build them directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from neuromotif.hw_models.formats import LAVA_WEIGHT_BITS


@dataclass(frozen=True)
class NetPopulation:
    """``size`` neurons of one kind.

    ``motif_size``: neurons that must share a core (an SC-ML motif); 1 leaves the
    partitioner free. Input populations are spike sources outside the neuro cores (the host):
    they use no compartments, only input axons on the cores they project to.
    ``compartment_profile`` / ``threshold_profile``: per-neuron profile ids (None: one profile).
    ``rate``: expected spikes per neuron per step, for placement by traffic.
    """

    name: str
    size: int
    motif_size: int = 1
    is_input: bool = False
    compartment_profile: np.ndarray | None = field(default=None, compare=False)
    threshold_profile: np.ndarray | None = field(default=None, compare=False)
    rate: float = 0.05

    def __post_init__(self) -> None:
        if self.size < 1 or self.motif_size < 1:
            raise ValueError(f"population {self.name}: size and motif_size must be >= 1")
        if self.size % self.motif_size:
            raise ValueError(
                f"population {self.name}: size {self.size} is not a multiple of motif_size {self.motif_size}"
            )
        for label in ("compartment_profile", "threshold_profile"):
            ids = getattr(self, label)
            if ids is not None and np.shape(ids) != (self.size,):
                raise ValueError(f"population {self.name}: {label} must have one id per neuron ({self.size})")

    @property
    def motifs(self) -> int:
        return self.size // self.motif_size


@dataclass(frozen=True)
class NetProjection:
    """Synapses from population ``pre`` onto ``post``.

    ``structure``: a (post x pre) scipy sparse matrix whose non-zeros are the synapses
    (Lava's orientation), or None for all-to-all (a dense projection is never materialised,
    so very large networks stay cheap to map). ``weight_bits``: stored bits per weight (None: the chip's).
    """

    name: str
    pre: str
    post: str
    structure: sp.csr_matrix | None = field(default=None, compare=False)
    weight_bits: int | None = None

    def __post_init__(self) -> None:
        if self.structure is not None and not sp.issparse(self.structure):
            raise ValueError(f"projection {self.name}: structure must be a scipy.sparse matrix or None")
        if self.weight_bits is not None and not 1 <= self.weight_bits <= LAVA_WEIGHT_BITS:
            raise ValueError(f"projection {self.name}: weight_bits must be 1..{LAVA_WEIGHT_BITS}")

    @property
    def dense(self) -> bool:
        return self.structure is None


@dataclass(frozen=True)
class Netlist:
    """Populations (in order) and projections; one projection per (pre, post) pair."""

    populations: tuple[NetPopulation, ...]
    projections: tuple[NetProjection, ...]

    def __post_init__(self) -> None:
        names = [p.name for p in self.populations]
        if len(set(names)) != len(names):
            raise ValueError("population names must be unique")
        pops = {p.name: p for p in self.populations}
        seen = set()
        for proj in self.projections:
            for end in (proj.pre, proj.post):
                if end not in pops:
                    raise ValueError(f"projection {proj.name}: unknown population '{end}'")
            if pops[proj.post].is_input:
                raise ValueError(f"projection {proj.name}: cannot project onto input population {proj.post}")
            if (proj.pre, proj.post) in seen:
                raise ValueError(f"projection {proj.name}: a second projection {proj.pre}->{proj.post}; merge them")
            seen.add((proj.pre, proj.post))
            if proj.structure is not None and proj.structure.shape != (pops[proj.post].size, pops[proj.pre].size):
                raise ValueError(
                    f"projection {proj.name}: structure shape {proj.structure.shape} != (post, pre) "
                    f"({pops[proj.post].size}, {pops[proj.pre].size})"
                )
        object.__setattr__(self, "_pops", pops)
        object.__setattr__(
            self, "_csr", {p.name: (p.structure.tocsr() if p.structure is not None else None) for p in self.projections}
        )
        object.__setattr__(self, "_csc", {})

    def population(self, name: str) -> NetPopulation:
        return self._pops[name]  # type: ignore[attr-defined]

    def csr(self, proj: NetProjection) -> sp.csr_matrix | None:
        """Row (postsynaptic) access to a projection's structure, cached."""
        return self._csr[proj.name]  # type: ignore[attr-defined]

    def csc(self, proj: NetProjection) -> sp.csc_matrix | None:
        """Column (presynaptic) access, cached: what an axon's targets are."""
        cache = self._csc  # type: ignore[attr-defined]
        if proj.name not in cache and proj.structure is not None:
            cache[proj.name] = sp.csc_matrix(self.csr(proj))
            cache[proj.name].sort_indices()
        return cache.get(proj.name)

    def inputs_to(self, post: str) -> list[NetProjection]:
        return [p for p in self.projections if p.post == post]

    def outputs_of(self, pre: str) -> list[NetProjection]:
        return [p for p in self.projections if p.pre == pre]

    @property
    def neuron_populations(self) -> list[NetPopulation]:
        """Populations that live on neuro cores (not inputs)."""
        return [p for p in self.populations if not p.is_input]

    def offsets(self) -> dict[str, int]:
        """Global index of each population's first neuron (all populations, in order)."""
        out, at = {}, 0
        for p in self.populations:
            out[p.name] = at
            at += p.size
        return out

    @property
    def n_neurons(self) -> int:
        return sum(p.size for p in self.populations)
