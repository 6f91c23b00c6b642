"""``compile.neurons_per_core: auto``: the compiler chooses how densely to pack neurons onto cores.

Spreading a population over more cores shortens every step (each core has less to do) at the
price of cores; what that is worth depends on the operating mode and the static accounting
(``hw_models/operating.py``). Activity does not depend on the packing (every hop takes one step
wherever a neuron sits), so the fixed point runs once on the CPU backend over validation
samples (never the test split), and every candidate packing is priced by the exact mapper,
timing and cost model: no retraining, no second simulation. The candidates that fit
``compile.max_cores`` are ranked by ``compile.packing_objective`` (fewer cores break ties) and
the table is printed and stored in the bundle's manifest (``packing``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from neuromotif.core.errors import InputError
from neuromotif.core.progress import note

# None: as many as the chip's limits allow; then halving down to motif-sized cores
CANDIDATES: tuple[int | None, ...] = (None, 4096, 2048, 1024, 512, 256, 128, 64, 32, 16, 8)
PACKING_SAMPLES = 64
OBJECTIVES = {
    "energy": lambda r: r["energy_J"],
    "latency": lambda r: r["latency_s"],
    "edp": lambda r: r["energy_J"] * r["latency_s"],
}


@dataclass(frozen=True)
class AutoPacking:
    """What the choice needs besides the model: limits, objective, and how the report prices."""

    max_cores: int | None
    objective: str
    operation: Any  # hw_models.operating.Operation
    cost_table: str
    timing: str
    samples: int = PACKING_SAMPLES

    @classmethod
    def from_config(cls, config: Any, dataset_dt_ms: float | None) -> AutoPacking:
        c, r = config.compile, config.report
        return cls(c.max_cores, c.packing_objective, r.operation(dataset_dt_ms), r.cost_table, r.timing)


def validation_activity(bundle: Any, data_cfg: Any, seed: int, samples: int):
    """Spikes and active updates per step and neuron on the first ``samples`` validation samples."""
    from neuromotif.deploy.backends import make_backend
    from neuromotif.hw_models.cost import Activity
    from neuromotif.search.data import load_dataset

    val = load_dataset(data_cfg, seed).split("val")
    n = min(samples, len(val))
    if n == 0:
        raise InputError("compile.neurons_per_core=auto needs validation samples: the dataset has none")
    r = make_backend("cpu", bundle).run(val.spikes(np.arange(n)), activity=True)
    assert r.activity_spikes is not None and r.activity_active is not None
    return Activity(np.asarray(r.activity_spikes), np.asarray(r.activity_active), samples=n)


def price_packings(bundle: Any, activity: Any, auto: AutoPacking) -> list[dict[str, Any]]:
    """Every candidate packing with its cores, energy and latency per inference (and their
    bounds), or why it was left out."""
    from neuromotif.deploy.compile import bundle_netlist
    from neuromotif.hw_models.chip import with_core_limit
    from neuromotif.hw_models.cost import energy_latency
    from neuromotif.hw_models.errors import DesignRuleError
    from neuromotif.hw_models.mapper import map_network

    net = bundle_netlist(bundle)
    chip = bundle.chip
    rows: list[dict[str, Any]] = []
    largest = max(p.size for p in net.populations if not p.is_input)
    for npc in CANDIDATES:
        if npc is not None and npc >= min(chip.core.max_compartments, largest):
            continue  # splits no population more than the chip's own limit does: the same layout
        row: dict[str, Any] = {"neurons_per_core": npc}
        try:
            mapping = map_network(net, with_core_limit(chip, npc))
        except DesignRuleError as exc:
            rows.append({**row, "fits": False, "why": str(exc).split(":")[0]})
            continue
        cores = len(mapping.cores)
        if auto.max_cores is not None and cores > auto.max_cores:
            rows.append({**row, "cores": cores, "fits": False, "why": f"{cores} cores > compile.max_cores"})
            continue
        cost = energy_latency(net, mapping.placement, chip, activity, auto.cost_table, auto.timing, auto.operation)
        rows.append(
            {
                **row,
                "fits": True,
                "cores": cores,
                "chips": mapping.placement.n_chips,
                "energy_J": cost["energy"]["per_inference_J"],
                "energy_bounds_J": cost["energy"]["bounds_J"],
                "latency_s": cost["latency"]["per_inference_s"],
                "latency_bounds_s": cost["latency"]["bounds_s"],
            }
        )
    return rows


def best_packing(rows: list[dict[str, Any]], objective: str) -> dict[str, Any]:
    fitting = [r for r in rows if r["fits"]]
    if not fitting:
        reasons = "; ".join(f"{r['neurons_per_core'] or 'chip limit'}: {r['why']}" for r in rows)
        raise InputError(f"no packing fits ({reasons}): raise compile.max_cores or set compile.neurons_per_core")
    return min(fitting, key=lambda r: (OBJECTIVES[objective](r), r["cores"]))


def packing_table(rows: list[dict[str, Any]], chosen: dict[str, Any]) -> list[str]:
    lines = ["neurons/core  cores  µJ/inference  ms/inference"]
    for r in rows:
        npc = str(r["neurons_per_core"] or "chip")
        if not r["fits"]:
            lines.append(f"{npc:>12}  {r.get('cores', '-'):>5}  left out: {r['why']}")
            continue
        mark = "  <- chosen" if r is chosen else ""
        lines.append(f"{npc:>12}  {r['cores']:>5}  {r['energy_J'] * 1e6:12.4g}  {r['latency_s'] * 1e3:12.4g}{mark}")
    return lines


def choose_packing(bundle_dir: Path, data_cfg: Any, seed: int, auto: AutoPacking) -> dict[str, Any]:
    """Price every packing of the bundle at ``bundle_dir`` (compiled at the chip's limit) and
    return the record the manifest keeps: candidates, choice, objective, mode, samples."""
    from neuromotif.deploy.bundle import read_bundle

    bundle = read_bundle(bundle_dir)
    activity = validation_activity(bundle, data_cfg, seed, auto.samples)
    rows = price_packings(bundle, activity, auto)
    chosen = best_packing(rows, auto.objective)
    note(
        f"packing ({auto.objective}, {auto.operation.mode} mode, static {auto.operation.static}, "
        f"{activity.samples} validation samples):"
    )
    for line in packing_table(rows, chosen):
        note("  " + line)
    return {
        **_request(auto),
        "chosen": chosen["neurons_per_core"],
        "validation_samples": activity.samples,
        "candidates": rows,
    }


def bottleneck_pass(bundle: Any, data_cfg: Any, seed: int, auto: AutoPacking) -> Any:
    """The placement pass ``compile.split_bottleneck`` runs (``hw_models/bottleneck.py``): each
    split priced with the pipeline timing, in the report's mode, on the validation activity of
    ``bundle`` (this network compiled without the pass; activity does not depend on the mapping).
    Prints the latency before and after; the record goes into the manifest (``placement_pass``)."""
    from neuromotif.hw_models.bottleneck import split_bottlenecks, split_lines
    from neuromotif.hw_models.cost import energy_latency

    activity = validation_activity(bundle, data_cfg, seed, auto.samples)

    def run(net: Any, mapping: Any) -> tuple[Any, dict[str, Any]]:
        def price(placement: Any) -> dict[str, Any]:
            return energy_latency(net, placement, bundle.chip, activity, auto.cost_table, "pipeline", auto.operation)

        mapping, record = split_bottlenecks(net, mapping, mapping.chip, price, auto.max_cores)
        for line in split_lines(record):
            note(line)
        request = {k: v for k, v in _request(auto).items() if k not in ("requested", "objective", "timing")}
        return mapping, {"pass": "split_bottleneck", **request, "validation_samples": activity.samples, **record}

    return run


def _request(auto: AutoPacking) -> dict[str, Any]:
    op = auto.operation
    return {
        "requested": "auto",
        "objective": auto.objective,
        "max_cores": auto.max_cores,
        "mode": op.mode,
        "static": op.static,
        "step_period_s": op.step_period_s,
        "cost_table": auto.cost_table,
        "timing": auto.timing,
    }


def packing_request(config: Any, dataset_dt_ms: float | None) -> dict[str, Any]:
    """The settings an auto packing was chosen with: a bundle chosen with others is stale."""
    return _request(AutoPacking.from_config(config, dataset_dt_ms))
