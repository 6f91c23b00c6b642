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

from neuromotif.core.memory import available_memory
from neuromotif.config import Config
from neuromotif.core.errors import InputError

BPTT_BYTES = {"float": 40, "chip": 140}   # per neuron, time step and sample
ADAM_BYTES_PER_WEIGHT = 16                # float32 value, gradient, two moments
COMPILE_BYTES_PER_SYNAPSE = 64
COMPILE_BYTES_PER_NEURON = 1024
BASE_BYTES = 400e6                        # Python, numpy, torch
HEADROOM = 0.9                            # use at most this share of the available memory


@dataclass(frozen=True)
class Estimate:
    neurons: int
    weights: int          # trainable weights (upper bound: every motif position present)
    synapses: int         # synapses the compiler handles (the same upper bound)
    train_bytes: float
    compile_bytes: float

    def describe(self) -> str:
        return (f"{self.neurons:,} neurons, <= {self.synapses:,} synapses; memory: training ~{_gb(self.train_bytes)}, "
                f"compiling ~{_gb(self.compile_bytes)} (available {_gb(available_memory())})")


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
        weights += sum(n * 3 * size * len(config.search.motif_sizes) for n in hidden for size in config.search.motif_sizes)
    precision = "chip" if config.train.qat_epochs else "float"
    bptt = config.train.batch_size * steps * neurons * BPTT_BYTES[precision]
    if config.search.enabled:
        bptt *= 1 + 0.5 * len(config.search.motif_sizes)
    train = BASE_BYTES + bptt + weights * ADAM_BYTES_PER_WEIGHT
    return Estimate(neurons, weights, weights, train, compile_bytes(neurons, weights))


def compile_bytes(neurons: int, synapses: int) -> float:
    """Memory the compiler needs for a network of this size."""
    return BASE_BYTES + synapses * COMPILE_BYTES_PER_SYNAPSE + neurons * COMPILE_BYTES_PER_NEURON


def check_fits(est: Estimate, stage: str) -> None:
    """Refuse ``stage`` (``train`` or ``compile``) when its estimate exceeds the available memory."""
    need = est.train_bytes if stage == "train" else est.compile_bytes
    have = available_memory() * HEADROOM
    if need > have:
        knob = ("lower train.batch_size, data.timesteps or model.hidden" if stage == "train"
                else "lower model.hidden or use a sparser architecture (scml with smaller motifs)")
        raise InputError(f"{stage} would need about {_gb(need)} of memory ({est.neurons:,} neurons, "
                         f"<= {est.synapses:,} synapses) but {_gb(have)} is available: {knob}")


def estimate_for(config: Config) -> Estimate:
    """The estimate for ``config``'s own dataset (read from its description, not its files)."""
    from neuromotif.search.data import dataset_info

    info = dataset_info(config.data)
    return estimate(config, info.channels, info.classes, info.timesteps)
