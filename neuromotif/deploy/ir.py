"""The compiler's input: a float network, before quantization. Numpy only.

What a trained model (``neuromotif.search.export``) or an imported graph hands the compiler:
LIF populations in *threshold units* and the projections between them, every parameter per
neuron, gains already folded into the weights. The dynamics are the chip's LIF (docs/design.md), per step:

    a[t] = sum over projections of W @ s_pre[t-1]      (every hop delays by one step)
    u[t] = u[t-1] * (1 - du) + a[t]
    v[t] = v[t-1] * (1 - dv) + u[t] + bias
    s[t] = v[t] > vth;  v[t] = 0 where s[t]

Small typed dataclasses, checked at construction, so a malformed network fails where it is
made, not deep in the quantizer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from neuromotif.hw_models.neurons import INPUT_KIND, population_kinds
from neuromotif.hw_models.neurons.lif import KIND as LIF_KIND

PREDICTION_RULE = "argmax of output spike counts; ties go to the lowest class index"


def predict(counts: Any) -> Any:
    """The class of each sample from output spike counts [..., classes] (``PREDICTION_RULE``; numpy
    and torch ``argmax`` both return the first maximum). Every stage and backend predicts with it."""
    return counts.argmax(-1)


@dataclass
class FloatPopulation:
    """``size`` neurons: ``kind`` ``input`` (host spike source) or ``lif`` (parameters per neuron).

    ``motif_size``: neurons that belong together on one core (an SC-ML motif; 1: no grouping).
    """

    name: str
    size: int
    kind: str = LIF_KIND
    motif_size: int = 1
    vth: float = 1.0
    du: np.ndarray = field(default_factory=lambda: np.zeros(0))
    dv: np.ndarray = field(default_factory=lambda: np.zeros(0))
    bias: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def __post_init__(self) -> None:
        if self.kind not in population_kinds():
            raise ValueError(
                f"population {self.name}: kind must be one of {', '.join(population_kinds())}, got {self.kind!r}"
            )
        if self.size < 1 or self.motif_size < 1 or self.size % self.motif_size:
            raise ValueError(
                f"population {self.name}: size {self.size} must be >= 1 and a multiple of motif_size {self.motif_size}"
            )
        if self.kind != INPUT_KIND:
            for name in ("du", "dv", "bias"):
                value = np.broadcast_to(np.asarray(getattr(self, name), np.float64), (self.size,)).copy()
                if not np.isfinite(value).all():
                    raise ValueError(f"population {self.name}: {name} has non-finite values")
                setattr(self, name, value)
            if not (np.isfinite(self.vth) and self.vth > 0):
                raise ValueError(f"population {self.name}: vth must be a positive number, got {self.vth}")


@dataclass
class FloatProjection:
    """Synapses ``pre`` -> ``post``: float weights as a (post x pre) sparse matrix (Lava's orientation)."""

    name: str
    pre: str
    post: str
    weights: sp.csr_matrix

    def __post_init__(self) -> None:
        self.weights = sp.csr_matrix(self.weights, dtype=np.float64)
        if not np.isfinite(self.weights.data).all():
            raise ValueError(f"projection {self.name}: weights have non-finite values")


@dataclass
class FloatNetwork:
    """Populations (input first), projections, and which population is the input / the output.

    ``source``: where the network came from (e.g. ``hrmas``, ``scml``, ``nir``), for reports.
    """

    populations: list[FloatPopulation]
    projections: list[FloatProjection]
    input: str
    output: str
    source: str = "unknown"

    def __post_init__(self) -> None:
        sizes = {p.name: p.size for p in self.populations}
        if len(sizes) != len(self.populations):
            raise ValueError("population names must be unique")
        for port in (self.input, self.output):
            if port not in sizes:
                raise ValueError(f"port population {port!r} is not in the network")
        for j in self.projections:
            if j.pre not in sizes or j.post not in sizes:
                raise ValueError(f"projection {j.name}: unknown population {j.pre!r} or {j.post!r}")
            if j.weights.shape != (sizes[j.post], sizes[j.pre]):
                raise ValueError(
                    f"projection {j.name}: weights are {j.weights.shape}, expected "
                    f"(post {sizes[j.post]}, pre {sizes[j.pre]})"
                )

    def population(self, name: str) -> FloatPopulation:
        return next(p for p in self.populations if p.name == name)

    def inputs_to(self, name: str) -> list[FloatProjection]:
        return [j for j in self.projections if j.post == name]
