"""Architecture spec: what the search writes, ``train`` reads and the compiler reads.

A network is ``inputs`` channels -> recurrent layers -> an LIF readout of ``classes`` neurons.
An SC-ML layer of N neurons is K = N / m motifs sharing one m x m type matrix ``intra``
(post x pre), linked to ring neighbours by ``inter_prev`` (from motif k-1 into motif k) and
``inter_next`` (from motif k+1). Types: ``E`` excitatory (+|w|), ``I`` inhibitory (-|w|),
``.`` absent. In YAML a type matrix is a list of strings, one row per postsynaptic neuron,
so a motif reads at a glance. Pure numpy + PyYAML: the compiler reads it without torch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from neuromotif.core.errors import InputError
from neuromotif.core.io import atomic_write_text

CODES = {"E": 1, "I": -1, ".": 0}
SYMBOLS = {v: k for k, v in CODES.items()}
LAYER_KINDS = ("scml", "dense", "feedforward")
SPEC_VERSION = 1


@dataclass
class NeuronParams:
    """Float LIF parameters (decay fractions in [0, 1], threshold and bias in threshold units)."""

    du: float = 0.25
    dv: float = 0.1
    vth: float = 1.0
    bias: float = 0.0

    def __post_init__(self) -> None:
        for name in ("du", "dv"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise InputError(f"neuron {name}={getattr(self, name)} must be a decay fraction in [0, 1]")
        if self.vth <= 0:
            raise InputError(f"neuron vth={self.vth} must be > 0")


@dataclass
class LayerSpec:
    """One recurrent layer. ``intra`` / ``inter_*`` are int8 m x m type matrices (scml only)."""

    kind: str
    neurons: int
    motif_size: int = 1
    intra: np.ndarray | None = None
    inter_prev: np.ndarray | None = None
    inter_next: np.ndarray | None = None
    neuron: NeuronParams = field(default_factory=NeuronParams)

    def __post_init__(self) -> None:
        if self.kind not in LAYER_KINDS:
            raise InputError(f"layer kind '{self.kind}' is not one of {', '.join(LAYER_KINDS)}")
        if self.neurons < 1:
            raise InputError(f"layer neurons={self.neurons} must be >= 1")
        if self.kind != "scml":
            return
        m = self.motif_size
        if m < 1 or self.neurons % m:
            raise InputError(
                f"scml layer: {self.neurons} neurons is not a multiple of motif size {m}: "
                "use a layer size divisible by the motif size"
            )
        for name in ("intra", "inter_prev", "inter_next"):
            mat = getattr(self, name)
            if mat is None:
                raise InputError(f"scml layer: missing type matrix '{name}'")
            mat = np.asarray(mat)
            if mat.shape != (m, m):
                raise InputError(f"scml layer: '{name}' must be {m}x{m} (motif size), got {mat.shape}")
            if not np.isin(mat, (-1, 0, 1)).all():
                raise InputError(f"scml layer: '{name}' has codes outside E/I/. (+1/-1/0)")
            setattr(self, name, mat.astype(np.int8))

    @property
    def motifs(self) -> int:
        return self.neurons // self.motif_size if self.kind == "scml" else 1


@dataclass
class ArchSpec:
    inputs: int
    classes: int
    layers: list[LayerSpec]
    readout: NeuronParams = field(default_factory=NeuronParams)
    source: str = "manual"

    def __post_init__(self) -> None:
        if self.inputs < 1 or self.classes < 2:
            raise InputError(f"architecture needs inputs >= 1 and classes >= 2 (got {self.inputs}, {self.classes})")
        if not self.layers:
            raise InputError("architecture needs at least one layer")

    # ---- YAML ------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        def layer(spec: LayerSpec) -> dict[str, Any]:
            d: dict[str, Any] = {"kind": spec.kind, "neurons": spec.neurons, "neuron": vars(spec.neuron).copy()}
            if spec.kind == "scml":
                d["motif_size"] = spec.motif_size
                for name in ("intra", "inter_prev", "inter_next"):
                    d[name] = matrix_to_rows(getattr(spec, name))
            return d

        return {
            "version": SPEC_VERSION,
            "source": self.source,
            "inputs": self.inputs,
            "classes": self.classes,
            "layers": [layer(s) for s in self.layers],
            "readout": vars(self.readout).copy(),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = "architecture") -> ArchSpec:
        try:
            if d.get("version") != SPEC_VERSION:
                raise InputError(f"{where}: architecture version {d.get('version')!r} is not {SPEC_VERSION}")
            layers = []
            for i, raw in enumerate(d["layers"]):
                raw = dict(raw)
                neuron = NeuronParams(**raw.pop("neuron", {}))
                for name in ("intra", "inter_prev", "inter_next"):
                    if name in raw:
                        raw[name] = rows_to_matrix(raw[name], f"{where}: layers[{i}].{name}")
                layers.append(LayerSpec(neuron=neuron, **raw))
            return cls(
                int(d["inputs"]),
                int(d["classes"]),
                layers,
                NeuronParams(**d.get("readout", {})),
                str(d.get("source", "manual")),
            )
        except (KeyError, TypeError) as exc:
            raise InputError(f"{where}: malformed architecture ({type(exc).__name__}: {exc})") from None

    def save(self, path: Path) -> None:
        atomic_write_text(path, yaml.safe_dump(self.to_dict(), sort_keys=False, width=200))

    @classmethod
    def load(cls, path: Path) -> ArchSpec:
        if not Path(path).is_file():
            raise InputError(f"architecture file not found: {path}")
        try:
            data = yaml.safe_load(Path(path).read_text())
        except yaml.YAMLError:
            raise InputError(f"{path}: not valid YAML") from None
        if not isinstance(data, dict):
            raise InputError(f"{path}: an architecture must be a mapping")
        return cls.from_dict(data, str(path))


def matrix_to_rows(mat: np.ndarray) -> list[str]:
    return ["".join(SYMBOLS[int(v)] for v in row) for row in np.asarray(mat)]


def rows_to_matrix(rows: list[str], where: str) -> np.ndarray:
    if not isinstance(rows, list) or not all(isinstance(r, str) for r in rows):
        raise InputError(f"{where}: expected a list of strings of E, I and .")
    bad = sorted({c for r in rows for c in r} - set(CODES))
    if bad:
        raise InputError(f"{where}: bad type code {bad[0]!r}: use E (excitatory), I (inhibitory) or . (absent)")
    if len({len(r) for r in rows}) > 1:
        raise InputError(f"{where}: rows have different lengths")
    return np.array([[CODES[c] for c in r] for r in rows], np.int8)


# ---- default topologies ----------------------------------------------------------------


def default_motif(m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hand-designed SC-ML motif used when no search ran: all-to-all excitation inside a motif
    (no self-loops), and each neuron inhibits its counterpart in both neighbouring motifs."""
    intra = np.ones((m, m), np.int8) - np.eye(m, dtype=np.int8)
    inter = -np.eye(m, dtype=np.int8)
    return intra, inter, inter.copy()


def random_motif(m: int, rng: np.random.Generator, p_intra: float = 0.5, p_inter: float = 0.25):
    """Random types: each position E or I with equal odds where present."""

    def draw(p: float) -> np.ndarray:
        present = rng.random((m, m)) < p
        return (present * rng.choice(np.array([1, -1], np.int8), (m, m))).astype(np.int8)

    return draw(p_intra), draw(p_inter), draw(p_inter)


def build_arch(
    kind: str, hidden: list[int], motif_size: int, inputs: int, classes: int, neuron: NeuronParams, seed: int = 0
) -> ArchSpec:
    """The architecture of a config's ``model`` section (no search): scml (default motif),
    random-scml, dense (fully connected recurrent) or feedforward."""
    rng = np.random.default_rng(seed)
    layers = []
    for n in hidden:
        if kind in ("scml", "random-scml"):
            intra, prev, nxt = default_motif(motif_size) if kind == "scml" else random_motif(motif_size, rng)
            layers.append(LayerSpec("scml", n, motif_size, intra, prev, nxt, NeuronParams(**vars(neuron))))
        else:
            layers.append(LayerSpec(kind, n, neuron=NeuronParams(**vars(neuron))))
    return ArchSpec(inputs, classes, layers, NeuronParams(**vars(neuron)), source=kind)
