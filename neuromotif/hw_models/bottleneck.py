"""Split the core that bounds the step, while that shortens the inference.

Why: on a large placement one core often sets every step: a readout fed by every hidden core
serves a queue of messages from all of them (the pipeline timing names it as the bounding core).
Giving half of its neurons to a new core halves the synaptic events each copy serves; each
hidden spike may then need a message to both, so whether the step gets shorter depends on the
traffic, which is what the timing model prices. The pass splits the bounding core at a motif
boundary, places the cores again (``mapper.place_cores``), prices the result and keeps it only if
the latency per inference falls by more than ``MIN_GAIN``. When it does not (the population's
other cores are as busy: halving one leaves the other to bound the step), it tries halving every
core of that population at least ``PEERS`` as busy at once. It stops when neither pays, at
``max_cores``, or when the bounding core holds one motif. Deterministic.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from neuromotif.hw_models.chip import ChipSpec
from neuromotif.hw_models.drc import check_chips
from neuromotif.hw_models.errors import DesignRuleError
from neuromotif.hw_models.mapper import Mapping, place_cores
from neuromotif.hw_models.netlist import Netlist
from neuromotif.hw_models.placement import Placement
from neuromotif.hw_models.resources import CoreSlice

MIN_GAIN = 0.01  # a split must shorten the inference by more than 1 % to be worth its core
MAX_SPLITS = 32
PEERS = 0.9  # a core of the bounding core's population this busy (mean per step) is split with it

Price = Callable[[Placement], dict[str, Any]]  # a placement -> ``cost.energy_latency``'s result, pipeline timing


def _split(core: CoreSlice, motif_size: int) -> tuple[CoreSlice, CoreSlice] | None:
    """The core's neurons in two halves at a motif boundary; None when it holds one motif."""
    motifs = core.size // motif_size
    if motifs < 2:
        return None
    middle = core.start + (motifs // 2) * motif_size
    return CoreSlice(core.population, core.start, middle), CoreSlice(core.population, middle, core.stop)


def _summary(cost: dict[str, Any], cores: int) -> dict[str, Any]:
    pipeline = cost["latency"]["pipeline"]["summary"]
    busy = cost["latency"]["pipeline"]["per_core_busy_ns"]
    return {
        "cores": cores,
        "latency_s": cost["latency"]["per_inference_s"],
        "energy_J": cost["energy"]["per_inference_J"],
        "bounding_core": pipeline["bounding_core"],
        "bounding_core_steps": pipeline["bounding_core_steps"],
        "_busy": busy,  # per core, mean ns per step: which cores are as busy as the bounding one
    }


def _public(summary: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in summary.items() if not k.startswith("_")}


def _trials(cores: list[CoreSlice], bound: int, busy: list[float]) -> list[list[int]]:
    """Which cores to halve, in the order tried: the bounding core; then it with every core of
    its population at least ``PEERS`` as busy (when there are such)."""
    population = cores[bound].population
    peers = [i for i, c in enumerate(cores) if c.population == population and busy[i] >= PEERS * busy[bound]]
    return [[bound]] + ([peers] if len(peers) > 1 else [])


def split_bottlenecks(
    net: Netlist, mapping: Mapping, chip: ChipSpec, price: Price, max_cores: int | None = None
) -> tuple[Mapping, dict[str, Any]]:
    """The mapping after every split that paid, and the record: ``before`` and ``after`` (cores,
    latency and energy per inference, the bounding core), each kept ``splits`` step, and why the
    pass stopped."""
    cores = list(mapping.cores)
    current = _summary(price(mapping.placement), len(cores))
    record: dict[str, Any] = {"before": _public(current), "splits": [], "stopped": ""}
    for _ in range(MAX_SPLITS):
        bound = current["bounding_core"]
        if bound is None:
            record["stopped"] = "no core bounds a step (network or barrier bound)"
            break
        core = cores[bound]
        kept, why = None, ""
        for chosen in _trials(cores, bound, current["_busy"]):
            halves = {i: _split(cores[i], net.population(cores[i].population).motif_size) for i in chosen}
            if any(h is None for h in halves.values()):
                why = f"the bounding core ({core.population} {core.start}-{core.stop}) holds one motif"
                break
            if max_cores is not None and len(cores) + len(chosen) > max_cores:
                why = f"compile.max_cores ({max_cores}) reached"
                break
            trial = [part for i, c in enumerate(cores) for part in (halves[i] if i in halves else (c,))]  # type: ignore[union-attr]
            what = ", ".join(f"{cores[i].population} {cores[i].start}-{cores[i].stop}" for i in chosen)
            try:
                check_chips(len(trial), chip)
                candidate = place_cores(net, trial, chip)
            except DesignRuleError as exc:
                why = f"splitting {what} breaks a design rule: {exc}"
                continue
            priced = _summary(price(candidate.placement), len(trial))
            ratio = priced["latency_s"] / current["latency_s"]
            if ratio < 1 - MIN_GAIN:
                kept = (trial, candidate, priced, what)
                break
            why = f"splitting {what} would change the latency x{ratio:.3f}, not below x{1 - MIN_GAIN:.2f}"
        if kept is None:
            record["stopped"] = why
            break
        cores, mapping, current, what = kept
        record["splits"].append({"cores_split": what, **_public(current)})
    else:
        record["stopped"] = f"{MAX_SPLITS} splits"
    record["after"] = _public(current)
    return mapping, record


def split_lines(record: dict[str, Any]) -> list[str]:
    """What the compiler prints: latency and energy before and after, each split, why it stopped."""
    b, a = record["before"], record["after"]
    lines = [
        f"bottleneck splits: {len(record['splits'])}; latency {b['latency_s'] * 1e3:.4g} -> "
        f"{a['latency_s'] * 1e3:.4g} ms per inference (x{a['latency_s'] / b['latency_s']:.3f}), "
        f"energy {b['energy_J'] * 1e6:.4g} -> "
        f"{a['energy_J'] * 1e6:.4g} µJ, cores {b['cores']} -> {a['cores']}"
    ]
    lines += [
        f"  split {s['cores_split']}: {s['latency_s'] * 1e3:.4g} ms, {s['cores']} cores" for s in record["splits"]
    ]
    lines.append(f"  stopped: {record['stopped']}")
    return lines
