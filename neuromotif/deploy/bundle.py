"""The bundle: the compiled network, the only thing backends and cost models read.

A directory with ``manifest.json`` (format and tool versions, chip, the chip's numeric format,
source checkpoint hash, quantization settings and report, populations, projections, ports,
placement summary, and a SHA-256 of every array file) and ``.npz`` array files. Numpy only. Writing is atomic (a
temporary directory renamed into place); reading verifies format, version and every checksum
and refuses a damaged, truncated or foreign bundle with one line saying what is wrong.

Fixed-point semantics (Lava's bit-accurate LIF / Sparse, see ``backends/cpu.py``):
populations carry per-neuron ``du``, ``dv``, ``bias_mant``/``bias_exp`` and one ``vth``;
projections carry (post x pre) integer weights in CSR (mixed sign, multiples of
2^(9 - weight_bits)), a ``weight_exp`` and a one-step delay; ``numeric`` gives the bit widths
(weights, u, v, decays, threshold, bias) both backends compute with.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import scipy.sparse as sp
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from neuromotif.core.errors import InputError
from neuromotif.core.io import atomic_directory
from neuromotif.core.versions import tool_version
from neuromotif.hw_models import formats
from neuromotif.hw_models.chip import ChipSpec, ChipSpecError, NumericFormat, load_chip, section_from_dict
from neuromotif.hw_models.neurons import INPUT_KIND, neuron_model, population_kinds

FORMAT = "neuromotif-bundle"
FORMAT_VERSION = 3  # 2: the chip's numeric format is part of the bundle; 3: cost tables carry sources and uncertainty
DIGEST_KEY = "manifest_sha256"


class _Entry(BaseModel):
    model_config = ConfigDict(extra="allow")


class PopulationEntry(_Entry):
    name: str
    size: Annotated[int, Field(gt=0, strict=True)]
    kind: str
    motif_size: Annotated[int, Field(gt=0, strict=True)] = 1
    vth: int | None = None
    scale: Annotated[float, Field(gt=0)] | None = None
    file: str | None = None

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, kind: str) -> str:
        if kind not in population_kinds():
            raise ValueError(f"kind {kind!r} is none of {', '.join(population_kinds())}")
        return kind


class ProjectionEntry(_Entry):
    name: str
    pre: str
    post: str
    weight_exp: Annotated[int, Field(strict=True)]
    sign_mode: str
    delay: Annotated[int, Field(strict=True)]
    nnz: Annotated[int, Field(ge=0, strict=True)]
    shape: tuple[Annotated[int, Field(gt=0, strict=True)], Annotated[int, Field(gt=0, strict=True)]]
    file: str


class Ports(_Entry):
    input: str
    output: str


class ManifestSchema(_Entry):
    """The manifest's structure, checked before any field is used (values are checked by
    ``check_fields`` against the numeric format)."""

    chip: str
    numeric: dict[str, int]
    ports: Ports
    classes: Annotated[int, Field(gt=0, strict=True)]
    populations: list[PopulationEntry]
    projections: list[ProjectionEntry]
    checksums: dict[str, str]
    placement: dict[str, Any]
    quantization: dict[str, Any]


class BundleError(InputError):
    """A bundle that cannot be read: missing, damaged, truncated or foreign."""


@dataclass
class Population:
    """Neurons of one kind: ``input`` (host spike source) or a neuron model of ``hw_models.neurons``."""

    name: str
    size: int
    kind: str
    motif_size: int = 1
    vth: int = 0
    du: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    dv: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    bias_mant: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    bias_exp: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    scale: float = 1.0  # fixed units per float (threshold) unit, for reading v back as floats

    @property
    def profiles(self) -> np.ndarray:
        """Profile id of each neuron: neurons sharing (du, dv) share a profile (one Lava LIF each)."""
        keys = self.du.astype(np.int64) * formats.DECAY_ONE + self.dv.astype(np.int64)
        return np.unique(keys, return_inverse=True)[1]

    def profile_groups(self) -> list[np.ndarray]:
        """Neuron indices of each profile (an input population is one group): one Lava LIF each."""
        if self.kind == INPUT_KIND:
            return [np.arange(self.size)]
        profiles = self.profiles
        return [np.flatnonzero(profiles == g) for g in range(int(profiles.max()) + 1)]


@dataclass
class Projection:
    name: str
    pre: str
    post: str
    weights: sp.csr_matrix  # (post x pre) int
    weight_exp: int
    sign_mode: str = "mixed"
    delay: int = 1

    def kept_weights(self, weight_bits: int) -> sp.csr_matrix:
        """The weights as Lava's Sparse keeps them (``formats.lava_kept_weights``: clipped by sign mode,
        low bits zeroed), int64 CSR, zeros dropped: what every backend computes with."""
        w = self.weights.tocsr().astype(np.int64)
        w.data = formats.lava_kept_weights(w.data, self.sign_mode, weight_bits)
        w.eliminate_zeros()
        return w


@dataclass
class Bundle:
    manifest: dict[str, Any]
    populations: list[Population]
    projections: list[Projection]
    neuron_core: dict[str, np.ndarray]  # per population, core id of each neuron (-1: host)

    def population(self, name: str) -> Population:
        return next(p for p in self.populations if p.name == name)

    @property
    def input(self) -> Population:
        return self.population(self.manifest["ports"]["input"])

    @property
    def output(self) -> Population:
        return self.population(self.manifest["ports"]["output"])

    @property
    def neuron_populations(self) -> list[Population]:
        """Every population with dynamics (all but the input)."""
        return [p for p in self.populations if p.kind != INPUT_KIND]

    def inputs_to(self, name: str) -> list[Projection]:
        return [p for p in self.projections if p.post == name]

    @property
    def chip(self) -> ChipSpec:
        """The chip the bundle was compiled for: its recorded spec (a bundle from before the spec was
        recorded: the built-in chip of that name)."""
        spec = self.manifest.get("chip_spec")
        if spec is not None:
            return section_from_dict(ChipSpec, spec, "bundle chip_spec")
        return load_chip(self.manifest["chip"])

    @property
    def numeric(self) -> NumericFormat:
        """The bit widths the backends compute with (the target chip's ``numeric`` section)."""
        return section_from_dict(NumericFormat, self.manifest["numeric"], "manifest numeric")


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_bundle(
    out: Path,
    manifest: dict[str, Any],
    populations: list[Population],
    projections: list[Projection],
    neuron_core: dict[str, np.ndarray],
) -> Path:
    """Write atomically: build in a temporary sibling directory, then swap it into place."""
    with atomic_directory(out) as tmp:
        files: dict[str, str] = {}

        def save(name: str, **arrays: np.ndarray) -> str:
            with open(tmp / name, "wb") as fh:
                np.savez(fh, **arrays)
            files[name] = sha256(tmp / name)
            return name

        pops = []
        for p in populations:
            entry = {"name": p.name, "size": p.size, "kind": p.kind, "motif_size": p.motif_size}
            if p.kind != INPUT_KIND:
                entry.update(
                    vth=int(p.vth),
                    scale=float(p.scale),
                    profiles=int(p.profiles.max() + 1),
                    file=save(f"pop_{p.name}.npz", du=p.du, dv=p.dv, bias_mant=p.bias_mant, bias_exp=p.bias_exp),
                )
            pops.append(entry)
        projs = []
        for j in projections:
            w = j.weights.tocsr()
            projs.append(
                {
                    "name": j.name,
                    "pre": j.pre,
                    "post": j.post,
                    "weight_exp": int(j.weight_exp),
                    "sign_mode": j.sign_mode,
                    "delay": j.delay,
                    "nnz": int(w.nnz),
                    "shape": list(w.shape),
                    "file": save(
                        f"proj_{j.name.replace('>', '_').replace('-', '_')}.npz",
                        data=w.data.astype(np.int16),
                        indices=w.indices.astype(np.int32),
                        indptr=w.indptr.astype(np.int64),
                    ),
                }
            )
        save("placement.npz", **{f"core_{k}": v for k, v in neuron_core.items()})
        full = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "tool_version": tool_version(),
            **manifest,
            "populations": pops,
            "projections": projs,
            "checksums": files,
        }
        full = json.loads(json.dumps(full, default=_json_default))  # plain JSON types, as a reader will see them
        full[DIGEST_KEY] = manifest_digest(full)
        (tmp / "manifest.json").write_text(json.dumps(full, indent=2))
    return Path(out)


def manifest_digest(manifest: dict[str, Any]) -> str:
    """SHA-256 of the manifest's canonical JSON, its own digest left out: an edited field
    (a threshold, a port) is caught like a changed array file."""
    body = {k: v for k, v in manifest.items() if k != DIGEST_KEY}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def read_bundle(path: Path, lava_rounds_weights: bool = False) -> Bundle:
    """Read and verify a bundle; raise ``BundleError`` (one line) if it is not a sound bundle.

    A bundle replaced while it is read (a recompile swaps the directory atomically) is read
    again, so a reader never mixes the old manifest with the new arrays. Weights the chip cannot
    store exactly in ``numeric.weight_bits`` are refused, unless ``lava_rounds_weights``: then both
    backends apply Lava's storage rule to them (the backend tests check that they do it alike)."""
    path = Path(path)
    for attempt in range(3):
        before = _inode(path)
        try:
            return _read_bundle(path, lava_rounds_weights)
        except BundleError:
            if attempt == 2 or before is None or _inode(path) == before:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _inode(path: Path) -> int | None:
    try:
        return path.stat().st_ino
    except OSError:
        return None


def _read_bundle(path: Path, lava_rounds_weights: bool = False) -> Bundle:
    manifest_path = path / "manifest.json"
    if not path.is_dir():
        raise BundleError(f"bundle not found: {path} is not a directory (compile one with `neuromotif compile`)")
    if not manifest_path.is_file():
        raise BundleError(f"{path} is not a bundle: no manifest.json (compile one with `neuromotif compile`)")
    try:
        manifest = json.loads(manifest_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise BundleError(f"{manifest_path} is damaged: not valid JSON; recompile the bundle") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        raise BundleError(f"{path} is not a neuromotif bundle (format {found!r})")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BundleError(
            f"{path}: bundle format version {manifest.get('format_version')} is not supported "
            f"(this neuromotif reads {FORMAT_VERSION}): recompile it, e.g. `neuromotif compile "
            f"{Path(path).parent} --out {path}` for a run directory's bundle (`neuromotif run` does it itself)"
        )
    if manifest.get(DIGEST_KEY) != manifest_digest(manifest):
        raise BundleError(
            f"{path} is damaged: manifest.json was changed after compiling (its digest does not "
            "match); recompile the bundle"
        )
    try:
        ManifestSchema.model_validate(manifest)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "manifest"
        raise BundleError(
            f"{path} is damaged: manifest.json field '{where}': {err['msg']}; recompile the bundle"
        ) from None
    for name, digest in manifest["checksums"].items():
        file = path / name
        if not file.is_file():
            raise BundleError(f"{path} is incomplete: {name} is missing; recompile the bundle")
        if sha256(file) != digest:
            raise BundleError(f"{path} is damaged: checksum mismatch in {name}; recompile the bundle")
    try:
        populations = []
        for entry in manifest["populations"]:
            pop = Population(entry["name"], entry["size"], entry["kind"], entry.get("motif_size", 1))
            if pop.kind != INPUT_KIND:
                with np.load(path / entry["file"]) as z:
                    for name in neuron_model(pop.kind).fixed_fields:
                        setattr(pop, name, z[name].astype(np.int64))
                pop.vth, pop.scale = int(entry["vth"]), float(entry["scale"])
            populations.append(pop)
        projections = []
        for entry in manifest["projections"]:
            with np.load(path / entry["file"]) as z:
                w = sp.csr_matrix((z["data"].astype(np.int64), z["indices"], z["indptr"]), shape=tuple(entry["shape"]))
            projections.append(
                Projection(
                    entry["name"],
                    entry["pre"],
                    entry["post"],
                    w,
                    int(entry["weight_exp"]),
                    entry["sign_mode"],
                    int(entry["delay"]),
                )
            )
        with np.load(path / "placement.npz") as z:
            neuron_core = {k.removeprefix("core_"): z[k] for k in z.files}
        bundle = Bundle(manifest, populations, projections, neuron_core)
        numeric = bundle.numeric
    except (KeyError, TypeError, ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise BundleError(f"{path} is damaged ({type(exc).__name__}: {exc}); recompile the bundle") from None
    check_fields(bundle, numeric, path, lava_rounds_weights)
    try:
        bundle.chip  # noqa: B018 - a bundle for a chip nobody can load is refused here, not at the report
    except ChipSpecError as exc:
        raise BundleError(f"{path}: its chip cannot be read ({exc}); recompile the bundle") from None
    return bundle


def check_fields(bundle: Bundle, fmt: NumericFormat, path: Path, lava_rounds_weights: bool = False) -> None:
    """Refuse any field value the backends would not both honour the same way, naming the field,
    the value and the allowed range (one line, ``BundleError``)."""

    def refuse(where: str, field_name: str, value, allowed: str, why: str = "") -> None:
        raise BundleError(
            f"{path}: {where}: {field_name} = {value} is outside {allowed}{why}; recompile the bundle or fix the field"
        )

    def within(where: str, field_name: str, values: np.ndarray, lo: int, hi: int, why: str = "") -> None:
        values = np.asarray(values)
        if values.size and (values.min() < lo or values.max() > hi):
            bad = values[(values < lo) | (values > hi)][0]
            refuse(where, field_name, int(bad), f"{lo}..{hi}", why)

    names = {p.name: p for p in bundle.populations}
    for pop in bundle.populations:
        where = f"population {pop.name}"
        if pop.kind not in population_kinds():
            refuse(where, "kind", repr(pop.kind), " or ".join(map(repr, population_kinds())))
        if pop.kind == INPUT_KIND:
            continue
        for field_name in neuron_model(pop.kind).fixed_fields:
            if getattr(pop, field_name).shape != (pop.size,):
                raise BundleError(
                    f"{path}: {where}: {field_name} has {getattr(pop, field_name).size} values for "
                    f"{pop.size} neurons; recompile the bundle"
                )
        within(where, "du", pop.du, 0, formats.decay_max())
        within(where, "dv", pop.dv, 0, formats.decay_max())
        within(where, "vth", np.array([pop.vth]), 0, formats.vth_max(fmt))
        mant = formats.bias_mant_max(fmt)
        within(where, "bias_mant", pop.bias_mant, -mant - 1, mant)
        within(where, "bias_exp", pop.bias_exp, 0, formats.bias_exp_max(fmt))
    for port in ("input", "output"):
        if bundle.manifest["ports"].get(port) not in names:
            raise BundleError(f"{path}: ports.{port} names no population; recompile the bundle")
    if names[bundle.manifest["ports"]["input"]].kind != INPUT_KIND:
        raise BundleError(f"{path}: ports.input names a neuron population; it must be the input population")
    if names[bundle.manifest["ports"]["output"]].kind == INPUT_KIND:
        raise BundleError(f"{path}: ports.output names the input population; it must be a neuron population")
    for j in bundle.projections:
        where = f"projection {j.name}"
        if j.pre not in names or j.post not in names:
            raise BundleError(
                f"{path}: {where} connects unknown populations {j.pre!r} -> {j.post!r}; recompile the bundle"
            )
        if j.weights.shape != (names[j.post].size, names[j.pre].size):
            raise BundleError(
                f"{path}: {where}: weights are {j.weights.shape}, expected (post, pre) = "
                f"({names[j.post].size}, {names[j.pre].size}); recompile the bundle"
            )
        if names[j.post].kind == INPUT_KIND:
            raise BundleError(
                f"{path}: {where} targets the input population {j.post!r}: a projection must end on "
                "a neuron population; recompile the bundle"
            )
        if j.sign_mode not in formats.SIGN_MODES:
            refuse(where, "sign_mode", repr(j.sign_mode), " or ".join(map(repr, formats.SIGN_MODES)))
        if j.sign_mode != "mixed" and fmt.weight_bits > formats.LAVA_WEIGHT_BITS - 1:
            raise BundleError(
                f"{path}: {where}: sign_mode {j.sign_mode} with numeric.weight_bits {fmt.weight_bits}: "
                f"a single-sign weight has at most {formats.LAVA_WEIGHT_BITS - 1} bits (Lava zeroes "
                "every weight); use mixed sign or fewer weight bits"
            )
        within(where, "weights", j.weights.data, *formats.sign_range(j.sign_mode), f" for sign_mode {j.sign_mode}")
        kept = formats.lava_kept_weights(j.weights.data, j.sign_mode, fmt.weight_bits)
        if not lava_rounds_weights and (kept != j.weights.data).any():
            bad = int(j.weights.data[kept != j.weights.data][0])
            raise BundleError(
                f"{path}: {where}: weight {bad} does not fit numeric.weight_bits = {fmt.weight_bits} "
                f"(the chip would store "
                f"{int(formats.lava_kept_weights(np.array([bad]), j.sign_mode, fmt.weight_bits)[0])}); "
                "recompile the bundle for this chip"
            )
        within(
            where,
            "weight_exp",
            np.array([j.weight_exp]),
            0,
            fmt.weight_exp_max,
            " (a negative exponent floors each partial sum, so its result would depend on how a "
            "backend splits the projection)",
        )
        within(
            where,
            "delay",
            np.array([j.delay]),
            1,
            1,
            " (only the one-step hop of every projection is supported; longer synaptic delays are not)",
        )
