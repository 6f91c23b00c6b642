"""The settings the search side owns: data, model, HRMAS, intrinsic plasticity, training, the
chip-cost objective, and the target it optimises for. The app's ``Config`` composes these
sections with its own (compile, simulate, report); search code receives them typed, never the
app's whole config.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, model_validator

from neuromotif.core.errors import InputError
from neuromotif.core.settings import Fraction, PosFloat, PosInt, Section
from neuromotif.deploy.quantize import DEFAULT_MAX_PROFILES
from neuromotif.hw_models.chip import DEFAULT_CHIP
from neuromotif.hw_models.operating import Operation
from neuromotif.search.arch import NeuronParams
from neuromotif.search.data import DATASETS

if TYPE_CHECKING:  # built at run time from the registry in search/data (the one list); checkers see a str
    DatasetName = str
else:
    DatasetName = Literal[tuple(DATASETS)]


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
    """Float parameters of the current-based LIF shared by all three precisions (docs/design.md)."""

    du: Annotated[float, Field(ge=0, le=1)] = NeuronParams.du  # the model's defaults: search/arch.py
    dv: Annotated[float, Field(ge=0, le=1)] = NeuronParams.dv
    vth: PosFloat = NeuronParams.vth
    bias: float = NeuronParams.bias

    def params(self) -> NeuronParams:
        return NeuronParams(self.du, self.dv, self.vth, self.bias)


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
                    raise ValueError(
                        f"hidden[{i}]={n} is not a multiple of motif_size={self.motif_size}: "
                        "use a layer size divisible by the motif size"
                    )
        return self


class IPConfig(Section):
    """SpiKL-IP intrinsic plasticity (HRMAS step 2)."""

    enabled: bool = True
    target_rate: Annotated[float, Field(gt=0, lt=1)] = 0.1
    eta: PosFloat = Field(0.05, description="step size of the SpiKL-IP updates (taken in ln R and ln tau)")
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


class OperatingFields(Section):
    """How the chip is run and what draws static power (``hw_models/operating.py``,
    docs/energy.md): shared by the report and the cost terms of the loss, so both price a
    network the same way."""

    mode: Literal["throughput", "realtime"] = Field(
        "throughput", description="throughput: inferences back to back; realtime: one step per input bin"
    )
    static: Literal["per_chip", "per_core"] = Field(
        "per_chip", description="static power of every placed chip, or only of the cores in use"
    )
    step_period_ms: PosFloat | None = Field(
        None, description="realtime: one step per this many ms (default: the dataset's bin width)"
    )

    def operation(self, dataset_dt_ms: float | None) -> Operation:
        """The ``Operation`` these settings describe; the step period defaults to the dataset's bin."""
        period = self.step_period_ms or dataset_dt_ms
        if self.mode == "realtime" and not period:
            raise InputError(
                "mode realtime needs a step period and the dataset records no bin width: set step_period_ms "
                "(e.g. --set report.step_period_ms=1)"
            )
        return Operation(self.mode, self.static, period * 1e-3 if period else None)


class ObjectiveConfig(OperatingFields):
    """Chip cost in the loss: ``loss = task + energy x µJ + latency x ms + cores x cores + rate x
    mean hidden firing rate`` per inference, from the differentiable proxy of the exact cost model
    (``search/cost_proxy.py``) for ``compile.chip``. All 0: accuracy alone. ``mode`` and ``static``:
    how the energy and latency terms price static power (as ``report.mode`` / ``report.static``)."""

    energy: Annotated[float, Field(ge=0)] = Field(0.0, description="loss per µJ per inference")
    latency: Annotated[float, Field(ge=0)] = Field(0.0, description="loss per ms per inference")
    cores: Annotated[float, Field(ge=0)] = Field(0.0, description="loss per neuro core (supernet: expected cores)")
    rate: Annotated[float, Field(ge=0)] = Field(0.0, description="loss per unit of mean hidden spikes/neuron/step")
    cost_table: str = Field("default", description="the chip's cost table the energy and latency terms read")

    @property
    def active(self) -> bool:
        return any(getattr(self, name) for name in OBJECTIVES)


OBJECTIVES = ("energy", "latency", "cores", "rate")  # the weights; the other fields say how costs are priced


class SearchConfig(Section):
    """HRMAS. ``space``: ``motif`` (sizes x types of a shared motif) or ``full`` (no motifs: a type for
    every connection; the ablation). ``arch_fraction``: share of the training split whose batches
    update the architecture (the rest update weights). ``ip``: SpiKL-IP, also used in retraining."""

    enabled: bool = False
    space: Literal["motif", "full"] = "motif"
    motif_sizes: list[PosInt] = Field(default_factory=lambda: [4, 8, 16], min_length=1)
    epochs: PosInt = 4
    arch_lr: PosFloat = 0.1
    arch_eps: PosFloat = Field(
        1e-8,
        description="Adam epsilon of the architecture step: gradients far below it "
        "move a logit by less than arch_lr (Adam would otherwise turn float noise on "
        "an unused position into full steps)",
    )
    arch_fraction: Fraction = 0.3
    temperature: tuple[PosFloat, PosFloat] = Field(
        (1.0, 0.1), description="softmax temperature of the architecture choices, annealed geometrically first -> last"
    )
    warmup: Annotated[int, Field(ge=0)] = Field(
        0, description="iterations that train weights only before the architecture moves (DARTS warm-up)"
    )
    relaxation: Literal["mixture", "gumbel"] = Field(
        "mixture",
        description="mixture: every candidate weighted by "
        "its probability; gumbel: one hard straight-through sample "
        "per batch",
    )
    type_init_std: Annotated[float, Field(ge=0)] = Field(
        1e-3, description="std of the initial type logits; near 0 every position starts at p_E = p_I (weight 0)"
    )
    stop_entropy: Annotated[float, Field(ge=0)] | None = Field(
        None, description="stop early once the mean type entropy (nats) falls below this"
    )
    decision: Literal["evidence", "argmax"] = Field(
        "evidence",
        description="evidence: commit a motif size or connection type only when the architecture gradient's "
        "advantage for it exceeds its noise (z-score above evidence_z; search/evidence.py); an undecided "
        "position keeps the hand-designed motif's type, an undecided size is default_motif_size; argmax: the "
        "relaxed search's most probable choices after annealing (DARTS, the HRMAS paper)",
    )
    evidence_z: PosFloat = Field(
        4.0,
        description="z-score a choice must beat every alternative by before it is committed (decision=evidence); "
        "4 is about a Bonferroni bound over 1,000 choices at 5 %: at 3 most commitments were noise that "
        "another thread count did not repeat",
    )
    replicates: PosInt = Field(
        3,
        description="decision=evidence: independent searches (seeds seed, seed+1, ...) whose commitments must "
        "all agree before a choice leaves its default; one search's evidence depends on its own weight "
        "trajectory, which another thread count or rounding changes",
    )
    default_motif_size: PosInt | None = Field(
        None, description="the motif size when the evidence never commits one (default: the largest candidate)"
    )
    init_perturbation: Annotated[float, Field(ge=0, le=1e-2)] = Field(
        0.0,
        description="relative noise on the "
        "supernet's initial weights (w * (1 + e N(0, 1))); "
        "0 = none. For stability tests: an answer that "
        "changes under 1e-6 was decided by rounding",
    )
    diagnostics: bool = Field(
        True,
        description="per iteration: accuracy drop of the architecture update and what "
        "IP recovers (costs two extra validation passes)",
    )
    ip: IPConfig = Field(default_factory=IPConfig)
    objective: ObjectiveConfig = Field(default_factory=ObjectiveConfig)

    @model_validator(mode="after")
    def _evidence_needs_the_mixture(self) -> SearchConfig:
        if self.decision == "evidence" and self.relaxation == "gumbel":
            raise ValueError(
                "search.decision=evidence measures the gradient of the uniform mixture; "
                "use search.relaxation=mixture or search.decision=argmax"
            )
        if self.default_motif_size is not None and self.default_motif_size not in self.motif_sizes:
            raise ValueError(
                f"search.default_motif_size {self.default_motif_size} is not one of motif_sizes {self.motif_sizes}"
            )
        return self


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
    micro_batches: PosInt = Field(
        1,
        description="cut each batch into this many micro-batches and sum their "
        "gradients (less memory); under torchrun at least the number of processes, and "
        "a run with the same value on one process gives bit-identical results",
    )
    qat_epochs: Annotated[int, Field(ge=0)] = 0
    activity_weight: Annotated[float, Field(ge=0)] = Field(
        0.0,
        description="weight of the activity regulariser: mean over hidden layers and steps of (fraction "
        "of the layer firing - activity_target)^2, against synchronous bursts (search and training)",
    )
    activity_target: Fraction = Field(0.1, description="the fraction of a hidden layer that should fire per step")
    ip: bool = Field(False, description="run SpiKL-IP (search.ip knobs) after every epoch")
    device: str = "cpu"
    threads: PosInt = Field(
        1,
        description="torch CPU threads for search, training and evaluation; 1 gives the "
        "same answer on every machine, more may be faster but then results differ in the "
        "last bits from runs with another thread count (search/execution.py)",
    )
    deterministic: bool = Field(
        True, description="torch's deterministic algorithms (CPU: no change; CUDA: no nondeterministic kernels)"
    )
    objective: ObjectiveConfig = Field(default_factory=ObjectiveConfig)


@dataclass(frozen=True)
class Target:
    """What search and training optimise for: the chip (name or YAML path), the compile target
    (``loihi`` or ``netx``: its number format), the most neurons per core the proxy maps with,
    and the decay profiles per population the compiler allows."""

    chip: str = DEFAULT_CHIP
    kind: str = "loihi"
    neurons_per_core: int | None = None
    max_profiles: int = DEFAULT_MAX_PROFILES


@dataclass(frozen=True)
class SearchJob:
    """Everything ``run_search`` needs, typed. ``plots``: write the search's figures."""

    seed: int
    data: DataConfig
    model: ModelConfig
    search: SearchConfig
    train: TrainConfig
    target: Target
    plots: bool = True
