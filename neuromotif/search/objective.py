"""The chip-aware part of the loss: ``energy x µJ + latency x ms + cores x cores + rate x mean
hidden rate`` per inference (weights from ``search.objective`` / ``train.objective``), with the
costs from ``cost_proxy`` on the forward pass's spikes."""

from __future__ import annotations

from collections.abc import Callable

import torch

CostFn = Callable[[torch.Tensor, list], dict]


def chip_cost_term(
    objective, cost: CostFn, x: torch.Tensor, trace: list[dict]
) -> tuple[torch.Tensor, dict[str, float]]:
    """The weighted cost to add to the task loss, and its parts (for the history)."""
    c = cost(x, trace)
    rate = torch.stack([o["spikes"].mean() for o in trace[:-1]]).mean() if len(trace) > 1 else x.new_zeros(())
    term = (
        objective.energy * c["energy_uJ"]
        + objective.latency * c["latency_ms"]
        + objective.cores * c["cores"]
        + objective.rate * rate
    )
    return term, {
        "energy_uJ": float(c["energy_uJ"].detach()),
        "latency_ms": float(c["latency_ms"].detach()),
        "cores": float(c["cores"].detach()),
        "rate": float(rate.detach()),
    }


def mean_parts(parts: list[dict[str, float]]) -> dict[str, float]:
    return {k: sum(p[k] for p in parts) / len(parts) for k in parts[0]} if parts else {}
