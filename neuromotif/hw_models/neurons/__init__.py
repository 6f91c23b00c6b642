"""Neuron models by kind: a bundle population's ``kind`` names one (or the host's input).

Each model is a module here with its integer dynamics written once (``step`` over an ops
shim that numpy and torch both implement) and the per-neuron fields a bundle stores for it.
A new neuron model is one such module plus one ``register`` call below; the bundle reader,
the CPU backend and the torch precisions look it up here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from neuromotif.hw_models.chip import NumericFormat
from neuromotif.hw_models.neurons import lif

INPUT_KIND = "input"  # the host's spike source: a population with no dynamics


@dataclass(frozen=True)
class NeuronModel:
    """``fixed_fields``: per-neuron integer arrays the bundle stores; ``params(pop, fmt)``: a
    compiled population -> the step's parameters in fixed units; ``step(ops, u, v, a, params,
    int32)`` -> (u, v, s); ``bounded(params, max_current)``: the parameters without the checks
    that input up to ``max_current`` (fixed units) can never trigger (identity: keep them all);
    ``concat(params, sizes)``: several populations' parameters as one population's, so a backend
    steps them together (None: each population is stepped alone)."""

    kind: str
    description: str
    fixed_fields: tuple[str, ...]
    params: Callable[[Any, NumericFormat], Any]
    step: Callable[..., tuple[Any, Any, Any]]
    bounded: Callable[[Any, float], Any] = lambda params, max_current: params
    concat: Callable[[list[Any], list[int]], Any] | None = None


NEURON_MODELS: dict[str, NeuronModel] = {}


def register(model: NeuronModel) -> None:
    if model.kind in NEURON_MODELS or model.kind == INPUT_KIND:
        raise ValueError(f"neuron kind {model.kind!r} is already registered")
    NEURON_MODELS[model.kind] = model


def neuron_model(kind: str) -> NeuronModel:
    if kind not in NEURON_MODELS:
        raise ValueError(f"unknown neuron kind {kind!r}: known {', '.join(NEURON_MODELS)}")
    return NEURON_MODELS[kind]


def population_kinds() -> tuple[str, ...]:
    """Every kind a population may have: the input, then each neuron model."""
    return (INPUT_KIND, *NEURON_MODELS)


register(
    NeuronModel(
        lif.KIND,
        "Loihi current-based LIF (Lava's PyLifModelBitAcc)",
        lif.FIXED_FIELDS,
        lambda pop, fmt: lif.fixed_params(pop.du, pop.dv, pop.bias_mant, pop.bias_exp, pop.vth, fmt),
        lif.step,
        lif.unreachable_limits_dropped,
        lif.concat_params,
    )
)
