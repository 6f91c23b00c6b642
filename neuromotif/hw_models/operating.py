"""How the chip is run, and what that makes static power cost: operating modes and accounting.

The cost model times every step of an inference and counts its dynamic energy; what a
deployment pays on top depends on how the chip is driven and on what draws static power.

Modes:

- ``throughput``: inferences back to back, each step starting when the previous one ends. The
  chip is busy for the sum of the step times; static power is paid for that time, and the
  latency is that time.
- ``realtime``: one step per input bin of ``step_period_s`` (a sensor stream: a bin can only be
  processed once it has been recorded). Bin k ends at (k + 1) x period; its step starts then, or
  when step k - 1 ends if that is later (the chip is *compute-bound* when a step takes longer
  than the period). The decision comes when the last step ends. The chip is powered from the
  first bin to the decision, so static energy is power x that time, however fast a step is;
  the latency is the window plus the time from the last input to the decision.

Static accounting: ``per_chip`` (every chip of the placement draws its full static power: no
public evidence that Loihi gates unused cores; the measured idle power of a chip running a small
network is a whole-chip figure) or ``per_core`` (unused cores gated: power / cores per chip for
each used core).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

MODES = ("throughput", "realtime")
ACCOUNTINGS = ("per_chip", "per_core")


@dataclass(frozen=True)
class Operation:
    """The operating mode, the static accounting and (realtime) the period of one step."""

    mode: str = "throughput"
    static: str = "per_chip"
    step_period_s: float | None = None

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"unknown operating mode {self.mode!r}: choose one of {', '.join(MODES)}")
        if self.static not in ACCOUNTINGS:
            raise ValueError(f"unknown static accounting {self.static!r}: choose one of {', '.join(ACCOUNTINGS)}")
        if self.step_period_s is not None and not self.step_period_s > 0:
            raise ValueError(f"step period must be > 0 s, got {self.step_period_s}")
        if self.mode == "realtime" and self.step_period_s is None:
            raise ValueError("realtime mode needs a step period (report.step_period_ms)")


THROUGHPUT = Operation()  # the default: inferences back to back, static power per chip


def static_power_w(
    static_w_per_chip: float, chips: int, used_cores: int, cores_per_chip: int, accounting: str
) -> float:
    """Static power of a placement: whole chips, or only the cores it uses."""
    if accounting == "per_chip":
        return static_w_per_chip * chips
    if accounting == "per_core":
        return static_w_per_chip * used_cores / cores_per_chip
    raise ValueError(f"unknown static accounting {accounting!r}: choose one of {', '.join(ACCOUNTINGS)}")


def realtime_finish(step_s: np.ndarray, period_s: float) -> float:
    """Time from the start of the first bin to the end of the last step (see the module docstring)."""
    t = 0.0
    for k, compute in enumerate(np.asarray(step_s, np.float64)):
        t = max(t, (k + 1) * period_s) + float(compute)
    return t


def operate(step_s: np.ndarray, dynamic_j: float, static_w: float, mode: str, period_s: float | None = None) -> dict:
    """Energy and latency of one inference in ``mode``: dynamic energy plus static power over the
    time the chip is powered."""
    step_s = np.asarray(step_s, np.float64)
    if mode == "throughput":
        powered = float(step_s.sum())
        extra: dict[str, Any] = {}
    elif mode == "realtime":
        if period_s is None:
            raise ValueError("realtime mode needs a step period")
        powered = realtime_finish(step_s, period_s)
        window = len(step_s) * period_s
        slow = int((step_s > period_s).sum())
        extra = {
            "step_period_s": period_s,
            "window_s": window,
            "after_last_input_s": powered - window,
            "compute_bound_steps": slow,
            "longest_step_s": float(step_s.max(initial=0.0)),
        }
    else:
        raise ValueError(f"unknown operating mode {mode!r}: choose one of {', '.join(MODES)}")
    static = static_w * powered
    return {
        "mode": mode,
        "per_inference_J": dynamic_j + static,
        "dynamic_J": dynamic_j,
        "static_J": static,
        "static_power_W": static_w,
        "latency_s": powered,
        **extra,
    }


def operate_with_bounds(
    step_s: np.ndarray,
    dynamic_j: float,
    static_w: float,
    mode: str,
    period_s: float | None,
    energy_range: tuple[float, float] | list[float],
    time_range: tuple[float, float] | list[float],
    static_range_w: tuple[float, float] | list[float],
) -> dict:
    """``operate`` at the table's figures, with [low, high] of energy, static energy and latency
    from the cost table's uncertainty. Every dynamic energy is linear in the energy figures and
    every step time in the time figures, so the ends of the ranges give the ends of the results
    (static power enters as the range's ends: ``static_range_w`` is already scaled to the placement)."""
    point = operate(step_s, dynamic_j, static_w, mode, period_s)
    ends = [
        operate(np.asarray(step_s) * t, dynamic_j * e, w, mode, period_s)
        for e, t, w in zip(energy_range, time_range, static_range_w, strict=True)
    ]
    point["bounds"] = {
        "per_inference_J": [ends[0]["per_inference_J"], ends[1]["per_inference_J"]],
        "dynamic_J": [ends[0]["dynamic_J"], ends[1]["dynamic_J"]],
        "static_J": [ends[0]["static_J"], ends[1]["static_J"]],
        "latency_s": [ends[0]["latency_s"], ends[1]["latency_s"]],
    }
    if mode == "realtime":
        point["bounds"]["compute_bound_steps"] = [ends[0]["compute_bound_steps"], ends[1]["compute_bound_steps"]]
    return point
