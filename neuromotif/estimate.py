"""How much memory a run will need, known before it starts: refuse what cannot fit.

Measured on this project's machine (``benchmarks``-style calibration, torch 2.13 CPU): BPTT keeps
about 34 bytes per neuron and time step in ``float`` precision and about 130 in ``chip``
precision (float64 state plus straight-through terms), per sample of a batch; AdamW keeps four
copies of every weight (value, gradient, two moments); the compiler about 56 bytes per synapse
(float and integer CSR copies, the netlist, the mapping). We round those up (40, 140, 16, 64)
and add the interpreter with torch (~0.4 GB). A run whose estimate exceeds the memory this
machine has available is refused with the estimate and the knob to turn.
"""

from __future__ import annotations

from dataclasses import dataclass

from neuromotif.config import Config
from neuromotif.core.errors import InputError
from neuromotif.core.memory import available_memory

BPTT_BYTES = {"float": 40, "chip": 140}  # per neuron, time step and sample
ADAM_BYTES_PER_WEIGHT = 16  # float32 value, gradient, two moments
COMPILE_BYTES_PER_SYNAPSE = 64
COMPILE_BYTES_PER_NEURON = 1024
BASE_BYTES = 400e6  # Python, numpy, torch
HEADROOM = 0.9  # use at most this share of the available memory
# training work per second, synapse-steps (sample x step x synapse): the quickstart trains 1,222 samples x 60 steps
# x 124 k synapses in 1.55 s per epoch on the 2-core dev machine (5.9e9); rounded up, so estimates are lower bounds
SYNAPSE_STEPS_PER_S = 1e10
SEARCH_ITERATION_EPOCHS = 3  # a search iteration costs about three training epochs
LONG_RUN_S = 7 * 24 * 3600


@dataclass(frozen=True)
class Estimate:
    neurons: int
    weights: int  # trainable weights (upper bound: every motif position present)
    synapses: int  # synapses the compiler handles (the same upper bound)
    train_bytes: float
    compile_bytes: float

    def describe(self) -> str:
        return (
            f"{self.neurons:,} neurons, <= {self.synapses:,} synapses; memory: training ~{_gb(self.train_bytes)}, "
            f"compiling ~{_gb(self.compile_bytes)} (available {_gb(available_memory())})"
        )


def _gb(n: float) -> str:
    return f"{n / 1e9:.2f} GB" if n >= 1e8 else f"{n / 1e6:.0f} MB"


def estimate(config: Config, inputs: int, classes: int, steps: int) -> Estimate:
    """Upper-bound estimate for ``config`` on a dataset of ``inputs`` channels, ``classes`` and ``steps``."""
    m = config.model
    hidden = list(m.hidden)
    n_in, weights = inputs, 0
    for n in hidden:
        weights += n * n_in
        if m.kind in ("scml", "random-scml"):
            weights += n * 3 * m.motif_size
        elif m.kind == "dense":
            weights += n * n
        n_in = n
    weights += n_in * classes
    neurons = sum(hidden) + classes
    if config.search.enabled:  # the supernet holds every candidate size
        weights += sum(
            n * 3 * size * len(config.search.motif_sizes) for n in hidden for size in config.search.motif_sizes
        )
    precision = "chip" if config.train.qat_epochs else "float"
    bptt = float(config.train.batch_size * steps * neurons * BPTT_BYTES[precision])
    if config.search.enabled:
        bptt *= 1 + 0.5 * len(config.search.motif_sizes)
    train = BASE_BYTES + bptt + weights * ADAM_BYTES_PER_WEIGHT
    return Estimate(neurons, weights, weights, train, compile_bytes(neurons, weights))


def compile_bytes(neurons: int, synapses: int) -> float:
    """Memory the compiler needs for a network of this size."""
    return BASE_BYTES + synapses * COMPILE_BYTES_PER_SYNAPSE + neurons * COMPILE_BYTES_PER_NEURON


def training_seconds(config: Config, est: Estimate, steps: int) -> float:
    """A lower bound on the time search and training take (``SYNAPSE_STEPS_PER_S``)."""
    from neuromotif.search.data import DATASETS

    samples = DATASETS[config.data.name].samples or 10_000
    if config.data.max_samples:
        samples = min(samples, 3 * config.data.max_samples)
    epochs = config.train.epochs + (SEARCH_ITERATION_EPOCHS * config.search.epochs if config.search.enabled else 0)
    return float(epochs) * samples * steps * est.synapses / SYNAPSE_STEPS_PER_S


def long_run_warning(config: Config, est: Estimate, steps: int) -> str | None:
    """A warning with the estimate when the run would take over a week, else None."""
    seconds = training_seconds(config, est, steps)
    if seconds <= LONG_RUN_S:
        return None
    days = seconds / 86400
    when = f"{days / 365:.3g} years" if days > 365 else f"{days:.0f} days"
    return (
        f"this run would train for at least {when} on this kind of machine (train.epochs {config.train.epochs:g}, "
        f"search.epochs {config.search.epochs}, {est.synapses:,} synapses): lower train.epochs or the network size"
    )


def check_fits(est: Estimate, stage: str) -> None:
    """Refuse ``stage`` (``train`` or ``compile``) when its estimate exceeds the available memory."""
    need = est.train_bytes if stage == "train" else est.compile_bytes
    have = available_memory() * HEADROOM
    if need > have:
        knob = (
            "lower train.batch_size, data.timesteps or model.hidden"
            if stage == "train"
            else "lower model.hidden or use a sparser architecture (scml with smaller motifs)"
        )
        raise InputError(
            f"{stage} would need about {_gb(need)} of memory ({est.neurons:,} neurons, "
            f"<= {est.synapses:,} synapses) but {_gb(have)} is available: {knob}"
        )


def estimate_for(config: Config) -> Estimate:
    """The estimate for ``config``'s own dataset (read from its description, not its files)."""
    from neuromotif.search.data import dataset_info

    info = dataset_info(config.data)
    return estimate(config, info.channels, info.classes, info.timesteps)
