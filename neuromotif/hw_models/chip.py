"""Chip specifications: typed, validated at construction, loaded from YAML (``chips/*.yaml``).

A user adds a chip by writing a YAML file with the same fields (``load_chip(path)``, or put it
in ``$NEUROMOTIF_CHIPS``). Every number the compiler, QAT, both backends and the cost model use
lives in these files, with its source beside it: the mesh and per-core limits (mapping and
design rules), the ``numeric`` section (bit widths of weights, decays, threshold, bias, state:
``formats.py`` takes it as an argument) and the cost tables. Code refers to fields by name.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import typing
from collections.abc import Mapping
from dataclasses import field
from pathlib import Path
from typing import Any

import pydantic
import yaml

from neuromotif.hw_models.errors import ChipSpecError

CHIP_DIR = Path(__file__).parent / "chips"
DEFAULT_CHIP = "loihi2"
USER_CHIPS_ENV = "NEUROMOTIF_CHIPS"
# YAML is read by pydantic into these dataclasses: strict types (no "3" for 3, no bool for a number),
# finite numbers, unknown keys refused; each dataclass then checks its ranges in __post_init__.
_STRICT = pydantic.ConfigDict(strict=True, extra="forbid", allow_inf_nan=False)


def check_ranges(obj: Any, ranges: tuple[tuple[str, float, float], ...]) -> None:
    """Raise ``ValueError`` naming the first field outside its (low, high) range (None passes:
    an absent limit)."""
    for name, low, high in ranges:
        value = getattr(obj, name)
        if value is not None and not low <= value <= high:
            raise ValueError(f"{name} = {value} is outside {low:g}..{high:g}")


@pydantic.dataclasses.dataclass(frozen=True, config=_STRICT)
class OpCost:
    """Energy and time of one operation."""

    energy_pj: float
    time_ns: float

    def __post_init__(self) -> None:
        if self.energy_pj < 0 or self.time_ns < 0:
            raise ValueError("energy_pj and time_ns must be >= 0")


# What a cost figure rests on, from strongest to weakest; every constant of a table names one.
SOURCE_KINDS = ("measured", "calibrated", "spice", "pre-silicon", "press", "derived", "assumption")
# The constants a table's ``sources`` must cover ("barrier": every barrier_* field).
COST_CONSTANTS = (
    "synop",
    "neuron_active",
    "neuron_inactive",
    "spike_out",
    "message_out",
    "message_in_ns",
    "hop_ew",
    "hop_ns",
    "chip_hop",
    "barrier",
    "chip_barrier_ns",
    "static_w_per_chip",
)


@pydantic.dataclasses.dataclass(frozen=True, config=_STRICT)
class CostRange:
    """How far the table's figures may be off, as the evidence allows: every dynamic energy figure
    times a factor in ``energy``, every time figure times a factor in ``time``, static power per
    chip anywhere in ``static_w_per_chip`` (watts). The model is linear in each, so evaluating it
    at the ends gives the [low, high] of every energy and latency figure."""

    energy: list[float]  # [low, high]
    time: list[float]
    static_w_per_chip: list[float]
    source: str

    def __post_init__(self) -> None:
        for name in ("energy", "time", "static_w_per_chip"):
            if len(getattr(self, name)) != 2:
                raise ValueError(f"uncertainty.{name} must be [low, high]")
        for name in ("energy", "time"):
            low, high = getattr(self, name)
            if not 0 < low <= 1 <= high <= 1e3:
                raise ValueError(
                    f"uncertainty.{name} = [{low}, {high}] must hold 1 (the table's figure): 0 < low <= 1 <= high"
                )
        low, high = self.static_w_per_chip
        if not 0 <= low <= high <= 1e3:
            raise ValueError(f"uncertainty.static_w_per_chip = [{low}, {high}] must be 0 <= low <= high")


@pydantic.dataclasses.dataclass(frozen=True, config=_STRICT)
class CostTable:
    """Per-operation energy and time, static power and barrier: what the cost model multiplies.

    ``message_out`` is paid per (spike, destination core); ``hop_*`` per mesh hop on the way;
    ``chip_hop`` per chip boundary crossed; the barrier grows linearly with the tiles in use
    from ``barrier_ns_min`` (1 tile) to ``barrier_ns_max`` (``barrier_tiles_max`` tiles).
    """

    source: str
    synop: OpCost
    neuron_active: OpCost
    neuron_inactive: OpCost
    spike_out: OpCost
    message_out: OpCost
    message_in_ns: float
    hop_ew: OpCost
    hop_ns: OpCost
    chip_hop: OpCost
    barrier_ns_min: float
    barrier_ns_max: float
    barrier_tiles_max: int
    chip_barrier_ns: float
    static_w_per_chip: float
    sources: dict[str, str]  # constant -> one of SOURCE_KINDS (what the figure rests on)
    uncertainty: CostRange
    assumption: str | None = None
    barrier_table_ns: dict[str, float] | None = None  # {"from N tiles": ns}: a step table (pipeline timing)

    def __post_init__(self) -> None:
        check_ranges(
            self,
            (
                ("message_in_ns", 0, 1e9),
                ("barrier_ns_min", 0, 1e9),
                ("barrier_ns_max", 0, 1e9),
                ("barrier_tiles_max", 1, 1e9),
                ("chip_barrier_ns", 0, 1e9),
                ("static_w_per_chip", 0, 1e3),
            ),
        )
        if self.barrier_ns_max < self.barrier_ns_min:
            raise ValueError("barrier_ns_max must be >= barrier_ns_min")
        missing = [c for c in COST_CONSTANTS if c not in self.sources]
        if missing:
            raise ValueError(
                f"sources names no source for {', '.join(missing)}: give each one of {', '.join(SOURCE_KINDS)}"
            )
        unknown = {k: v for k, v in self.sources.items() if k not in COST_CONSTANTS or v not in SOURCE_KINDS}
        if unknown:
            raise ValueError(
                f"sources {unknown} unknown: constants are {', '.join(COST_CONSTANTS)}; kinds {', '.join(SOURCE_KINDS)}"
            )
        low, high = self.uncertainty.static_w_per_chip
        if not low <= self.static_w_per_chip <= high:
            raise ValueError(
                f"static_w_per_chip = {self.static_w_per_chip} lies outside its uncertainty range [{low}, {high}]"
            )
        if self.barrier_table_ns is not None:
            keys = list(self.barrier_table_ns)
            if not all(k.isdigit() and int(k) >= 1 for k in keys) or "1" not in keys:
                raise ValueError(f"barrier_table_ns keys must be tile counts >= 1 starting at 1, got {keys}")
            values = [self.barrier_table_ns[k] for k in sorted(keys, key=int)]
            if any(not 0 <= v <= 1e9 for v in values) or values != sorted(values):
                raise ValueError("barrier_table_ns values must be 0..1e9 ns and grow with the tile count")

    def barrier_ns(self, tiles: int, chips: int, table: bool = False) -> float:
        """Barrier time for ``tiles`` tiles on ``chips`` chips: linear between the min and max
        figures, or (``table`` and a ``barrier_table_ns`` given) the step table's entry."""
        if table and self.barrier_table_ns is not None:
            start = max((int(k) for k in self.barrier_table_ns if int(k) <= max(tiles, 1)), default=1)
            base = self.barrier_table_ns[str(start)]
        else:
            frac = min(max(tiles - 1, 0) / max(self.barrier_tiles_max - 1, 1), 1.0)
            base = self.barrier_ns_min + frac * (self.barrier_ns_max - self.barrier_ns_min)
        return base + max(chips - 1, 0) * self.chip_barrier_ns


@pydantic.dataclasses.dataclass(frozen=True, config=_STRICT)
class MeshSpec:
    """Routers in a ``tiles_x`` x ``tiles_y`` mesh, ``cores_per_tile`` cores behind each router;
    ``link_buffer_messages``: what a link's buffer holds, which sets when flow control holds a
    flooding source back (``congestion.py``)."""

    tiles_x: int
    tiles_y: int
    cores_per_tile: int
    link_buffer_messages: int = 16

    def __post_init__(self) -> None:
        if min(self.tiles_x, self.tiles_y, self.cores_per_tile) < 1:
            raise ValueError("tiles_x, tiles_y and cores_per_tile must be >= 1")
        if self.link_buffer_messages < 1:
            raise ValueError("link_buffer_messages must be >= 1 (messages a link's buffer holds)")

    @property
    def cores_per_chip(self) -> int:
        return self.tiles_x * self.tiles_y * self.cores_per_tile


@pydantic.dataclasses.dataclass(frozen=True, config=_STRICT)
class CoreLimits:
    """What one neuro core holds. ``None``: no separate limit (counted in ``shared_memory_bits``)."""

    max_compartments: int
    synapse_memory_bits: int | None
    shared_memory_bits: int | None
    max_input_axons: int | None
    max_output_axons: int | None
    compartment_profiles: int | None
    threshold_profiles: int | None
    synapse_formats: int | None
    neuron_state_bits: int
    input_axon_bits: int
    output_axon_bits: int

    def __post_init__(self) -> None:
        big = 2**40
        check_ranges(
            self,
            (
                ("max_compartments", 1, big),
                ("synapse_memory_bits", 1, big),
                ("shared_memory_bits", 1, big),
                ("max_input_axons", 1, big),
                ("max_output_axons", 1, big),
                ("compartment_profiles", 1, big),
                ("threshold_profiles", 1, big),
                ("synapse_formats", 1, big),
                ("neuron_state_bits", 0, 4096),
                ("input_axon_bits", 0, 4096),
                ("output_axon_bits", 0, 4096),
            ),
        )
        if self.synapse_memory_bits is None and self.shared_memory_bits is None:
            raise ValueError("give synapse_memory_bits or shared_memory_bits")


@pydantic.dataclasses.dataclass(frozen=True, config=_STRICT)
class SynapseEncoding:
    """Synapse memory cost (nengo-loihi's model): an axon's targets on a core are stored in lists
    of <= ``list_max_synapses`` entries, each costing ceil_to_word(n * bits_per_synapse + header)."""

    word_bits: int
    list_max_synapses: int
    list_header_bits: int
    index_bits: int
    delay_bits: int

    def __post_init__(self) -> None:
        check_ranges(
            self,
            (
                ("word_bits", 1, 4096),
                ("list_max_synapses", 1, 2**20),
                ("list_header_bits", 0, 4096),
                ("index_bits", 0, 64),
                ("delay_bits", 0, 64),
            ),
        )


@pydantic.dataclasses.dataclass(frozen=True, config=_STRICT)
class NumericFormat:
    """Fixed-point formats of weights and neuron state (Loihi / Lava bit-accurate models)."""

    weight_bits: int
    weight_exp_min: int
    weight_exp_max: int
    u_bits: int
    v_bits: int
    decay_bits: int
    vth_bits: int
    bias_mant_bits: int
    bias_exp_bits: int
    max_delay: int

    # (field, low, high): what Lava's bit-accurate models (and so both our backends) can run.
    RANGES: typing.ClassVar[tuple[tuple[str, int, int], ...]] = (
        ("weight_bits", 1, 9),
        ("weight_exp_min", -8, 0),
        ("weight_exp_max", 0, 7),
        ("u_bits", 24, 24),
        ("v_bits", 24, 24),
        ("decay_bits", 1, 12),
        ("vth_bits", 1, 17),
        ("bias_mant_bits", 2, 13),
        ("bias_exp_bits", 1, 3),
        ("max_delay", 1, 63),
    )

    def __post_init__(self) -> None:
        try:
            check_ranges(self, self.RANGES)
        except ValueError as exc:
            raise ValueError(f"{exc} (the range Lava's bit-accurate Loihi models run)") from None


@pydantic.dataclasses.dataclass(frozen=True, config=_STRICT)
class ChipSpec:
    """One neuromorphic chip model: mesh, per-core limits, numeric formats and cost tables."""

    name: str
    description: str
    max_chips: int
    mesh: MeshSpec
    core: CoreLimits
    synapses: SynapseEncoding
    numeric: NumericFormat
    default_cost_table: str
    cost_tables: dict[str, CostTable] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.default_cost_table not in self.cost_tables:
            raise ValueError(
                f"default_cost_table '{self.default_cost_table}' is not one of the cost_tables "
                f"({', '.join(self.cost_tables) or 'none given'})"
            )
        if self.max_chips < 1:
            raise ValueError("max_chips must be >= 1")

    @property
    def cores_per_chip(self) -> int:
        return self.mesh.cores_per_chip

    def cost_table(self, name: str = "default") -> CostTable:
        key = self.default_cost_table if name in ("default", "", None) else name
        if key not in self.cost_tables:
            raise ChipSpecError(
                f"chip {self.name} has no cost table '{name}': choose one of "
                f"{', '.join(self.cost_tables)} (or 'default')"
            )
        return self.cost_tables[key]


# ---------------------------------------------------------------------------------------
# YAML -> ChipSpec through pydantic, with errors that name the field in one line.

_MESSAGES = {
    "missing": "missing field '{where}'",
    "unexpected_keyword_argument": "unknown field '{where}'{valid}",
    "int_type": "field '{where}' must be an integer, got {value!r}",
    "float_type": "field '{where}' must be a finite number, got {value!r}",
    "finite_number": "field '{where}' must be a finite number, got {value!r}",
    "string_type": "field '{where}' must be a string, got {value!r}",
    "dict_type": "field '{where}' must be a mapping",
    "dataclass_type": "field '{where}' must be a mapping",
    "dataclass_exact_type": "field '{where}' must be a mapping",
}


def _chip_error(err: Mapping[str, Any], root: type | None = None) -> str:
    """One line for pydantic's first error; fields are named from ``root`` (prefixed with its name
    when it is a section read alone)."""
    root = root or ChipSpec
    prefix = () if root is ChipSpec else (root.__name__,)
    where = ".".join(str(p) for p in (*prefix, *err["loc"]))
    if err["type"] == "value_error":  # a range check of __post_init__
        return f"{where or 'chip'}: {str(err['ctx']['error'])}"
    template = _MESSAGES.get(err["type"], "field '{where}': {msg}")
    return template.format(
        where=where, value=err.get("input"), msg=err["msg"], valid=_valid_fields(root, err["loc"][:-1])
    )


def _valid_fields(root: type, loc: tuple) -> str:
    """`` (valid: a, b, ...)``: the fields of the section at ``loc`` under ``root`` (dict keys are skipped)."""
    cls: Any = root
    for part in loc:
        hint = typing.get_type_hints(cls).get(part) if dataclasses.is_dataclass(cls) else None
        if hint is None:  # a key of a dict section: its values' type
            hint = cls
        cls = typing.get_args(hint)[-1] if typing.get_origin(hint) is dict else hint
    return f" (valid: {', '.join(f.name for f in dataclasses.fields(cls))})" if dataclasses.is_dataclass(cls) else ""


T = typing.TypeVar("T")


def section_from_dict(cls: type[T], data: Any, source: str) -> T:
    """A chip section (or the whole ``ChipSpec``) from a mapping, or ``ChipSpecError`` in one line
    naming ``source`` and the field."""
    if not isinstance(data, dict):
        raise ChipSpecError(f"{source}: expected a mapping for {cls.__name__}, got {type(data).__name__}")
    try:
        # JSON mode: strict types yet mappings for the nested sections (strict Python mode wants instances)
        return pydantic.TypeAdapter(cls).validate_json(json.dumps(data, default=str))
    except pydantic.ValidationError as exc:
        raise ChipSpecError(f"{source}: {_chip_error(exc.errors()[0], cls)}") from None
    except ChipSpecError as exc:
        raise ChipSpecError(f"{source}: {exc}") from None


def chip_from_dict(data: Any, source: str = "chip") -> ChipSpec:
    return section_from_dict(ChipSpec, data, source)


def _search_dirs() -> list[Path]:
    extra = os.environ.get(USER_CHIPS_ENV)
    return ([Path(p) for p in extra.split(os.pathsep) if p] if extra else []) + [CHIP_DIR]


def list_chips() -> list[str]:
    return sorted({p.stem for d in _search_dirs() if d.is_dir() for p in d.glob("*.yaml")})


def load_chip(name_or_path: str | os.PathLike[str]) -> ChipSpec:
    """Load a chip by name (``loihi1``, ``loihi2``, or one in ``$NEUROMOTIF_CHIPS``) or YAML path."""
    text = str(name_or_path)
    path = Path(text)
    if not (text.endswith((".yaml", ".yml")) or path.is_file()):
        found = [d / f"{text}.yaml" for d in _search_dirs() if (d / f"{text}.yaml").is_file()]
        if not found:
            raise ChipSpecError(
                f"unknown chip '{text}': choose one of {', '.join(list_chips())} or give the path of a chip YAML file"
            )
        path = found[0]
    if not path.is_file():
        raise ChipSpecError(f"chip file not found: {path}")
    return _parsed_chip(str(path), path.read_bytes())


@functools.lru_cache(maxsize=32)
def _parsed_chip(path: str, content: bytes) -> ChipSpec:
    """A chip file parsed and validated once per content (the bytes key the cache, so an edited
    file is parsed again): parsing the YAML took ~28 ms, 40 % of costing one sample in the SANA-FE
    cross-check. The spec is frozen, so callers share it."""
    try:
        data = yaml.safe_load(content.decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ChipSpecError(f"{path}: not valid YAML ({type(exc).__name__})") from None
    return chip_from_dict(data, path)


def with_core_limit(chip: ChipSpec, neurons_per_core: int | None) -> ChipSpec:
    """``chip`` with at most ``neurons_per_core`` compartments per core (None: unchanged): spreading
    a population over more cores shortens each core's share of the step (lower latency, and lower
    static energy) at the price of cores."""
    if neurons_per_core is None:
        return chip
    if neurons_per_core < 1:
        raise ChipSpecError(f"neurons_per_core must be >= 1, got {neurons_per_core}")
    core = dataclasses.replace(chip.core, max_compartments=min(chip.core.max_compartments, neurons_per_core))
    return dataclasses.replace(chip, core=core)


@dataclasses.dataclass(frozen=True)
class CompileTarget:
    """What a bundle is compiled for beyond the chip: ``numeric`` narrows the chip's number format."""

    name: str
    description: str
    numeric: typing.Callable[[NumericFormat], NumericFormat]


TARGETS: dict[str, CompileTarget] = {
    t.name: t
    for t in (
        CompileTarget("loihi", "the chip itself, its own number format", lambda numeric: numeric),
        CompileTarget(
            "netx",
            "lava-dl netx HDF5 networks: weight exponent 0 only, since netx picks a block's exponent "
            "itself and carries a bundle exactly only when every stored weight lies in [-256, 254]",
            lambda numeric: dataclasses.replace(numeric, weight_exp_max=0),
        ),
    )
}


def numeric_for_target(numeric: NumericFormat, target: str = "loihi") -> NumericFormat:
    """The number format a compile target allows (``TARGETS``)."""
    if target not in TARGETS:
        raise ChipSpecError(f"compile target {target!r}: choose one of {', '.join(TARGETS)}")
    return TARGETS[target].numeric(numeric)
