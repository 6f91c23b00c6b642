"""Experiment configuration: one YAML file, validated by pydantic, with ``--set`` overrides.

Sections: ``data``, ``model``, ``search``, ``train``, ``compile``, ``simulate``, ``report``
and ``seed``. Every key has a default, so ``{}`` is a valid config (the embedded
``digits-saccade`` quickstart). Unknown keys are errors that name the full key path and the
closest valid key. The parsed config, defaults filled in, is what a run directory saves.
"""
from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from neuromotif.io import atomic_write_text
from neuromotif.errors import InputError
from neuromotif.hw_models.chip import DEFAULT_CHIP

DatasetName = Literal["digits-saccade", "letters-tts", "nmnist", "dvs-gesture", "shd", "ntidigits", "ti46-alpha"]
PosInt = Annotated[int, Field(gt=0)]
PosFloat = Annotated[float, Field(gt=0)]
Fraction = Annotated[float, Field(gt=0, lt=1)]


class Section(BaseModel):
    # inf and nan pass no range check a run can use (train.lr=.inf): refuse them everywhere
    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)


class DataConfig(Section):
    """Which dataset and how it is binned. ``None`` means the dataset's own default."""

    name: DatasetName = "digits-saccade"
    root: Path | None = Field(None, description="folder with real datasets (ROOT/NMNIST, ...); env NEUROMOTIF_DATA")
    cache_dir: Path | None = Field(None, description="binned-data cache; default ~/.cache/neuromotif")
    timesteps: PosInt | None = None
    dt_ms: PosFloat | None = Field(None, description="bin width, event datasets only")
    downsample: PosInt | None = Field(None, description="spatial pooling factor, event cameras only")
    val_fraction: Fraction = 0.15
    max_samples: PosInt | None = Field(None, description="cap per split (quick experiments on big datasets)")

    def resolved_root(self) -> Path | None:
        if self.root is not None:
            return self.root.expanduser()
        env = os.environ.get("NEUROMOTIF_DATA")
        return Path(env).expanduser() if env else None


class NeuronConfig(Section):
    """Float parameters of the current-based LIF shared by all three precisions (DESIGN.md)."""

    du: Annotated[float, Field(ge=0, le=1)] = 0.25
    dv: Annotated[float, Field(ge=0, le=1)] = 0.1
    vth: PosFloat = 1.0
    bias: float = 0.0


class ModelConfig(Section):
    kind: Literal["scml", "dense", "random-scml", "feedforward"] = "scml"
    hidden: list[PosInt] = Field(default_factory=lambda: [256], min_length=1, description="neurons per layer")
    motif_size: PosInt = 8
    neuron: NeuronConfig = Field(default_factory=NeuronConfig)
    arch: Path | None = Field(None, description="architecture.yaml written by `neuromotif search`")

    @model_validator(mode="after")
    def _motifs_tile_layers(self) -> ModelConfig:
        if self.kind in ("scml", "random-scml"):
            for i, n in enumerate(self.hidden):
                if n % self.motif_size:
                    raise ValueError(f"hidden[{i}]={n} is not a multiple of motif_size={self.motif_size}: "
                                     "use a layer size divisible by the motif size")
        return self


class IPConfig(Section):
    """SpiKL-IP intrinsic plasticity (HRMAS step 2)."""

    enabled: bool = True
    target_rate: Annotated[float, Field(gt=0, lt=1)] = 0.1
    eta: PosFloat = 0.05
    window: PosInt = 8
    gain_range: tuple[PosFloat, PosFloat] = (0.25, 4.0)
    dv_range: tuple[Annotated[float, Field(ge=0, le=1)], Annotated[float, Field(ge=0, le=1)]] = (0.01, 0.5)

    @model_validator(mode="after")
    def _ranges_ordered(self) -> IPConfig:
        for name in ("gain_range", "dv_range"):
            lo, hi = getattr(self, name)
            if lo > hi:
                raise ValueError(f"{name} must be (low, high) with low <= high, got ({lo}, {hi})")
        return self


class ObjectiveConfig(Section):
    """Chip cost in the loss: ``loss = task + energy x µJ + latency x ms + cores x cores + rate x
    mean hidden firing rate`` per inference, from the differentiable proxy of the exact cost model
    (``search/cost_proxy.py``) for ``compile.chip``. All 0: accuracy alone."""

    energy: Annotated[float, Field(ge=0)] = Field(0.0, description="loss per µJ per inference")
    latency: Annotated[float, Field(ge=0)] = Field(0.0, description="loss per ms per inference")
    cores: Annotated[float, Field(ge=0)] = Field(0.0, description="loss per neuro core (supernet: expected cores)")
    rate: Annotated[float, Field(ge=0)] = Field(0.0, description="loss per unit of mean hidden spikes/neuron/step")

    @property
    def active(self) -> bool:
        return any((self.energy, self.latency, self.cores, self.rate))


class SearchConfig(Section):
    """HRMAS. ``space``: ``motif`` (sizes x types of a shared motif) or ``full`` (no motifs: a type for
    every connection; the ablation). ``arch_fraction``: share of the training split whose batches
    update the architecture (the rest update weights). ``ip``: SpiKL-IP, also used in retraining."""

    enabled: bool = False
    space: Literal["motif", "full"] = "motif"
    motif_sizes: list[PosInt] = Field(default_factory=lambda: [4, 8, 16], min_length=1)
    epochs: PosInt = 4
    arch_lr: PosFloat = 0.1
    arch_eps: PosFloat = Field(1e-8, description="Adam epsilon of the architecture step: gradients far below it "
                               "move a logit by less than arch_lr (Adam would otherwise turn float noise on "
                               "an unused position into full steps)")
    arch_fraction: Fraction = 0.3
    temperature: tuple[PosFloat, PosFloat] = Field((1.0, 0.1), description="softmax temperature of the "
                                                   "architecture choices, annealed geometrically first -> last")
    warmup: Annotated[int, Field(ge=0)] = Field(0, description="iterations that train weights only before the "
                                                "architecture moves (DARTS warm-up)")
    relaxation: Literal["mixture", "gumbel"] = Field("mixture", description="mixture: every candidate weighted by "
                                                     "its probability; gumbel: one hard straight-through sample "
                                                     "per batch")
    type_init_std: Annotated[float, Field(ge=0)] = Field(1e-3, description="std of the initial type logits; "
                                                         "near 0 every position starts at p_E = p_I (weight 0)")
    stop_entropy: Annotated[float, Field(ge=0)] | None = Field(None, description="stop early once the mean type "
                                                               "entropy (nats) falls below this")
    diagnostics: bool = Field(True, description="per iteration: accuracy drop of the architecture update and what "
                                                "IP recovers (costs two extra validation passes)")
    ip: IPConfig = Field(default_factory=IPConfig)
    objective: ObjectiveConfig = Field(default_factory=ObjectiveConfig)


class TrainConfig(Section):
    """BPTT training. ``loss``: ``ce`` = cross-entropy on spike counts (scaled by ``ce_scale`` / T),
    ``count`` = squared error of spike rates against ``target_rate_true`` / ``target_rate_false``."""

    epochs: PosInt = 20
    batch_size: PosInt = 64
    lr: PosFloat = 3e-3
    weight_decay: Annotated[float, Field(ge=0)] = 1e-4
    loss: Literal["count", "ce"] = "ce"
    ce_scale: PosFloat = 10.0
    target_rate_true: Fraction = 0.5
    target_rate_false: Annotated[float, Field(ge=0, lt=1)] = 0.05
    micro_batches: PosInt = Field(1, description="cut each batch into this many micro-batches and sum their "
                                  "gradients (less memory); under torchrun at least the number of processes, and "
                                  "a run with the same value on one process gives bit-identical results")
    qat_epochs: Annotated[int, Field(ge=0)] = 0
    ip: bool = Field(False, description="run SpiKL-IP (search.ip knobs) after every epoch")
    device: str = "cpu"
    threads: PosInt | None = Field(None, description="torch CPU threads (default: all cores)")
    objective: ObjectiveConfig = Field(default_factory=ObjectiveConfig)


class CompileConfig(Section):
    """``chip``: a chip name or YAML path; its ``numeric`` section sets every bit width (weights,
    decays, threshold, bias) for quantization, QAT and both backends."""

    chip: str = DEFAULT_CHIP
    max_profiles: Annotated[int, Field(ge=1, le=32)] = Field(4, description="decay profiles per population "
                                                                       "(one Lava LIF process each)")
    neurons_per_core: PosInt | None = Field(None, description="at most this many neurons per core (default: as "
                                            "many as the chip's limits allow): more cores, shorter steps")
    target: Literal["loihi", "netx"] = Field("loihi", description="netx: weight exponents 0 only, so the bundle "
                                             "exports exactly to lava-dl netx (`neuromotif export --format netx`)")


class SimulateConfig(Section):
    """``run`` simulates the whole ``split`` (or ``samples``) on the CPU backend and the first
    ``lava_samples`` on Lava too, checking their spikes match; ``divergence_samples`` for the
    float / quantized / fixed-point comparison."""

    split: Literal["train", "val", "test"] = "test"
    samples: PosInt | None = None
    lava_samples: Annotated[int, Field(ge=0)] = 20
    divergence_samples: Annotated[int, Field(ge=0)] = 16
    timeout_s: PosFloat = 600.0


class ReportConfig(Section):
    """``timing``: ``pipeline`` = the cycle-level pipeline model (``hw_models/timing.py``: a core's
    synaptic and neuron pipelines overlapped, messages serialised on shared mesh links, the
    barrier table); ``analytic`` = every operation of the busiest core in sequence."""

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


def _format_error(err: dict[str, Any]) -> str:
    loc = tuple(err["loc"])
    key = ".".join(str(p) for p in loc) or "(top level)"
    if err["type"] == "extra_forbidden":
        parent = _model_at(loc[:-1])
        valid = sorted(parent.model_fields) if parent else []
        close = difflib.get_close_matches(str(loc[-1]), valid, n=1, cutoff=0.5)
        hint = f"did you mean '{'.'.join(str(p) for p in loc[:-1] + (close[0],))}'?" if close \
            else f"valid keys here: {', '.join(valid)}"
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
                raise DuplicateKeyError(f"key '{key}' is given twice (line {key_node.start_mark.line + 1}); "
                                        "keep one")
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
        raise InputError(f"{path}: a config must be a mapping of sections (data:, model:, ...), got {type(raw).__name__}")
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
