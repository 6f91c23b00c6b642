"""Experiment configuration: one YAML file, validated by pydantic, with ``--set`` overrides.

Sections: ``data``, ``model``, ``search``, ``train``, ``compile``, ``simulate``, ``report``
and ``seed``. Every key has a default, so ``{}`` is a valid config (the embedded
``digits-saccade`` quickstart). Unknown keys are errors that name the full key path and the
closest valid key. The parsed config, defaults filled in, is what a run directory saves.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, Field, ValidationError

from neuromotif.core.errors import InputError
from neuromotif.core.io import atomic_write_text
from neuromotif.core.settings import PosFloat, PosInt, Section
from neuromotif.deploy.backends import DEFAULT_TIMEOUT_S
from neuromotif.deploy.quantize import DEFAULT_MAX_PROFILES
from neuromotif.hw_models.chip import DEFAULT_CHIP, TARGETS
from neuromotif.search.settings import (
    DataConfig,
    IPConfig,
    ModelConfig,
    NeuronConfig,
    ObjectiveConfig,
    OperatingFields,
    SearchConfig,
    SearchJob,
    Target,
    TrainConfig,
)

__all__ = [
    "Config",
    "DataConfig",
    "IPConfig",
    "ModelConfig",
    "NeuronConfig",
    "ObjectiveConfig",
    "SearchConfig",
    "SearchJob",
    "Target",
    "TrainConfig",
    "load_config",
    "validate",
    "dump_config",
    "save_config",
]


class CompileConfig(Section):
    """``chip``: a chip name or YAML path; its ``numeric`` section sets every bit width (weights,
    decays, threshold, bias) for quantization, QAT and both backends."""

    chip: str = DEFAULT_CHIP
    max_profiles: Annotated[int, Field(ge=1, le=32)] = Field(
        DEFAULT_MAX_PROFILES, description="decay profiles per population (one Lava LIF process each)"
    )
    neurons_per_core: PosInt | Literal["auto"] | None = Field(
        None,
        description="at most this many neurons per core (default: as "
        "many as the chip's limits allow): more cores, shorter steps; auto: the compiler prices "
        "every packing with the cost model on validation samples and keeps the best (neuromotif/packing.py)",
    )
    max_cores: PosInt | None = Field(None, description="auto packing: use at most this many cores")
    packing_objective: Literal["energy", "latency", "edp"] = Field(
        "energy", description="auto packing: minimise this (in report.mode with report.static)"
    )
    split_bottleneck: bool = Field(
        False,
        description="split the core that bounds the most steps (e.g. a readout fed by every hidden core) "
        "while that shortens the inference by more than 1 %, priced by the pipeline timing on validation "
        "samples; prints the latency before and after (neuromotif/hw_models/bottleneck.py)",
    )
    target: Literal[tuple(TARGETS)] = Field(  # type: ignore[valid-type]  # the registry in hw_models/chip.py
        "loihi",
        description="netx: weight exponents 0 only, so the bundle "
        "exports exactly to lava-dl netx (`neuromotif export --format netx`)",
    )

    @property
    def fixed_neurons_per_core(self) -> int | None:
        """The packing search and training price with: ``auto`` is chosen after training, so
        they map at the chip's limit."""
        return None if self.neurons_per_core == "auto" else self.neurons_per_core


class SimulateConfig(Section):
    """``run`` simulates the whole ``split`` (or ``samples``) on the CPU backend and the first
    ``lava_samples`` on Lava too, checking their spikes match; ``divergence_samples`` for the
    float / quantized / fixed-point comparison."""

    split: Literal["train", "val", "test"] = "test"
    samples: PosInt | None = None
    lava_samples: Annotated[int, Field(ge=0)] = 20
    divergence_samples: Annotated[int, Field(ge=0)] = 16
    timeout_s: PosFloat = DEFAULT_TIMEOUT_S


class ReportConfig(OperatingFields):
    """``timing``: ``pipeline`` = the cycle-level pipeline model (``hw_models/timing.py``: a core's
    synaptic and neuron pipelines overlapped, messages serialised on shared mesh links, the
    barrier table); ``analytic`` = every operation of the busiest core in sequence.

    ``mode`` and ``static`` (``hw_models/operating.py``, docs/energy.md): how the chip is run
    (inferences back to back, or one step per input bin of ``step_period_ms``) and what draws
    static power (whole chips, or only the cores in use). Every report carries both modes; the
    headline is ``mode``'s."""

    plots: bool = True
    cost_table: str = "default"
    timing: Literal["analytic", "pipeline"] = "pipeline"


class Config(Section):
    """A whole experiment."""

    seed: Annotated[int, Field(ge=0)] = 0
    data: DataConfig = Field(default_factory=DataConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    search: SearchConfig = Field(default_factory=SearchConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    compile: CompileConfig = Field(default_factory=CompileConfig)
    simulate: SimulateConfig = Field(default_factory=SimulateConfig)
    report: ReportConfig = Field(default_factory=ReportConfig)

    def target(self) -> Target:
        return Target(
            self.compile.chip, self.compile.target, self.compile.fixed_neurons_per_core, self.compile.max_profiles
        )

    def search_job(self) -> SearchJob:
        """The typed settings the search side receives."""
        return SearchJob(self.seed, self.data, self.model, self.search, self.train, self.target(), self.report.plots)


# ---------------------------------------------------------------------------------------
# Loading, overrides and one-line errors


def _model_at(path: tuple[Any, ...]) -> type[BaseModel] | None:
    """The section model that owns the key at ``path`` (for suggesting valid keys)."""
    model: type[BaseModel] = Config
    for part in path:
        field = model.model_fields.get(str(part))
        if field is None:
            return None
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            model = annotation
        else:
            return None
    return model


def _format_error(err: Mapping[str, Any]) -> str:
    loc = tuple(err["loc"])
    key = ".".join(str(p) for p in loc) or "(top level)"
    if err["type"] == "extra_forbidden":
        parent = _model_at(loc[:-1])
        valid = sorted(parent.model_fields) if parent else []
        close = difflib.get_close_matches(str(loc[-1]), valid, n=1, cutoff=0.5)
        hint = (
            f"did you mean '{'.'.join(str(p) for p in loc[:-1] + (close[0],))}'?"
            if close
            else f"valid keys here: {', '.join(valid)}"
        )
        return f"unknown key '{key}': {hint}"
    message = err["msg"].removeprefix("Value error, ")
    got = err.get("input")
    if err["type"] == "value_error" or isinstance(got, (dict, list)) or "input" not in err:
        return f"{key}: {message}"
    return f"{key}: {message} (got {got!r})"


def validate(raw: dict[str, Any], source: str = "config", overrides: list[str] | None = None) -> Config:
    """Validate a raw mapping; raise ``InputError`` with the first problem as one line. A problem
    with a key that came from ``overrides`` is blamed on that ``--set``, not on ``source``."""
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        errors = exc.errors()
        more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
        loc = [str(p) for p in errors[0]["loc"]]
        for item in reversed(overrides or []):
            path = [p for p in item.partition("=")[0].strip().split(".") if p]
            if loc[: len(path)] == path or path[: len(loc)] == loc:
                source = f"--set {item}"
                break
        raise InputError(f"{source}: {_format_error(errors[0])}{more}") from None


def saved_config(
    text: str | None, source: str, data_root: Path | None = None, overrides: list[str] | None = None
) -> Config:
    """The config a model.pt or bundle recorded (YAML text), read through the schema like any
    config, so its defaults are today's; ``data_root`` replaces its data root; ``overrides``
    (``--set``) apply on top."""
    try:
        raw = yaml.safe_load(text or "") or {}
    except yaml.YAMLError as exc:
        raise InputError(f"{source}: the recorded config is not readable YAML ({exc.__class__.__name__})") from None
    if not isinstance(raw, dict):
        raise InputError(f"{source}: the recorded config is not a mapping")
    if data_root is not None:
        raw.setdefault("data", {})["root"] = str(data_root)
    if overrides:
        raw = apply_overrides(raw, overrides)
    return validate(raw, source, overrides)


def parse_override(item: str) -> tuple[list[str], Any]:
    """``section.key=value`` -> (path, value parsed as a YAML scalar or list)."""
    key, sep, value = item.partition("=")
    path = [p for p in key.strip().split(".") if p]
    if not sep or not path:
        raise InputError(f"--set {item!r}: expected section.key=value, e.g. --set train.epochs=5")
    try:
        parsed = yaml.safe_load(value) if value.strip() else None
    except yaml.YAMLError:
        raise InputError(f"--set {item!r}: the value is not valid YAML") from None
    return path, parsed


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    for item in overrides:
        path, value = parse_override(item)
        node = raw
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise InputError(f"--set {item!r}: '{part}' is not a section")
            node = child
        node[path[-1]] = value
    return raw


class DuplicateKeyError(yaml.YAMLError):
    pass


class UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, except that a key given twice in one mapping is an error
    (PyYAML keeps the last one silently)."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise DuplicateKeyError(f"key '{key}' is given twice (line {key_node.start_mark.line + 1}); keep one")
            seen.add(key)
        return super().construct_mapping(node, deep)


def read_yaml(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise InputError(f"config file not found: {path}; see configs/ for examples")
    if path.is_dir():
        raise InputError(f"config path is a folder, not a YAML file: {path}")
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=UniqueKeyLoader)  # noqa: S506 - a SafeLoader
    except DuplicateKeyError as exc:
        raise InputError(f"{path}: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise InputError(f"{path}: not valid YAML{where}: {problem}") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a text file (expected a UTF-8 YAML config)") from None
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise InputError(
            f"{path}: a config must be a mapping of sections (data:, model:, ...), got {type(raw).__name__}"
        )
    return raw


def load_config(path: str | os.PathLike[str] | None, overrides: list[str] | None = None) -> Config:
    """Read ``path`` (None: all defaults), apply ``--set`` overrides, validate."""
    path = Path(path) if path is not None else None
    raw = read_yaml(path) if path is not None else {}
    raw = apply_overrides(raw, overrides or [])
    return validate(raw, str(path) if path is not None else "config", overrides)


def dump_config(config: Config) -> str:
    return yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False)


def save_config(config: Config, path: Path) -> None:
    """Write the parsed config (defaults filled in) atomically."""
    atomic_write_text(path, dump_config(config))
