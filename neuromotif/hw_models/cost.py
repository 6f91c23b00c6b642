"""Cost model: energy and latency of a run from its activity and the placement.

Inputs: per-neuron spike counts per step (summed over the samples of the run), per-neuron
active-update counts per step, the netlist and the placement. Per step and core it counts
synaptic ops (a spike of neuron n costs one op per synapse of n onto that core), neuron
updates (active / inactive), spikes out and messages out (one per spike and destination
core, with its mesh hops and chip crossings), then multiplies by a chip cost table.

- energy = synops + neuron updates + routing + static (static power x the time the chip is
  powered: ``operating.py`` sets both by the operating mode and static accounting)
- step time = slowest core (its ops x op times) + longest route of a message sent in that
  step + barrier over the tiles in use; latency figures are for the average inference
  (activity divided by the number of samples).

Everything returned is a plain dict of floats and lists that serialises to JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from neuromotif.hw_models.chip import ChipSpec, CostTable
from neuromotif.hw_models.netlist import Netlist
from neuromotif.hw_models.operating import THROUGHPUT, Operation, operate_with_bounds, static_power_w
from neuromotif.hw_models.placement import HOST, Placement
from neuromotif.hw_models.resources import core_index, neuron_destinations

if TYPE_CHECKING:
    from neuromotif.hw_models.congestion import CorePairs

PJ = 1e-12
NS = 1e-9


@dataclass
class Activity:
    """What a backend measured. Arrays are summed over ``samples``; neuron order = netlist order
    (all populations, inputs included, as ``Netlist.offsets``)."""

    spikes: np.ndarray  # [T, N] spikes per neuron per step
    active: np.ndarray  # [T, N] active neuron updates per neuron per step (inputs: ignored)
    samples: int = 1

    def __post_init__(self) -> None:
        if self.spikes.shape != self.active.shape or self.spikes.ndim != 2:
            raise ValueError("spikes and active must both be [steps, neurons]")
        if self.samples < 1:
            raise ValueError("samples must be >= 1")


@dataclass
class RouteTable:
    """What a placement fixes, whatever the activity: per neuron (global index) its messages per
    spike, summed hops and chip crossings and longest route, and the [cores, neurons] matrices that
    turn spikes into per-core counts. Build it once per placement (``route_table``) and pass it to
    every ``energy_latency`` call on that placement: for one small sample it is half the model's time."""

    messages: np.ndarray
    hops_ew: np.ndarray
    hops_ns: np.ndarray
    chip_hops: np.ndarray
    longest_ns: np.ndarray
    destinations: np.ndarray  # [k, 2] distinct (global neuron, destination core) pairs
    neuron_core: np.ndarray  # [N] core of each neuron (-1: input, on the host)
    synapses: sp.csr_matrix  # [cores, N] synapses of each neuron onto each core
    on_core: sp.csr_matrix  # [cores, N] 1 where the neuron sits on the core
    deliveries: sp.csr_matrix  # [cores, N] 1 where the neuron's spikes reach the core
    hop_times_ns: tuple[float, float, float]  # the cost table's (east-west, north-south, chip) hop times it used
    # route x directed link incidence and each link's kind: built by the pipeline timing when first needed
    links: tuple[sp.csr_matrix, np.ndarray] | None = None
    pairs: CorePairs | None = None  # source x destination core pairs: built by the pipeline timing when first needed

    def check_fits(self, net: Netlist, placement: Placement, table: CostTable) -> None:
        """Refuse a table built for another network, placement or hop timing."""
        if _hop_times(table) != self.hop_times_ns:
            raise ValueError(
                f"route table was built with hop times {self.hop_times_ns} ns, this cost table has "
                f"{_hop_times(table)}: build it with route_table(net, placement, table)"
            )
        if self.synapses.shape != (len(placement.cores), net.n_neurons):
            raise ValueError(
                f"route table is for {self.synapses.shape[0]} cores and {self.synapses.shape[1]} neurons, "
                f"not this placement's {len(placement.cores)} and {net.n_neurons}: build it with "
                "route_table(net, placement, table)"
            )


def _hop_times(table: CostTable) -> tuple[float, float, float]:
    return (table.hop_ew.time_ns, table.hop_ns.time_ns, table.chip_hop.time_ns)


def route_table(net: Netlist, placement: Placement, table: CostTable) -> RouteTable:
    cores = placement.cores
    index = core_index(net, cores)
    offsets = net.offsets()
    n = net.n_neurons
    msgs, ew, ns, ch, longest = (np.zeros(n) for _ in range(5))
    syn_triples, dests = [], []
    for pop in net.populations:
        pairs = neuron_destinations(net, cores, pop.name)
        if not len(pairs):
            continue
        src_core = index[pop.name][pairs[:, 0]] if not pop.is_input else np.full(len(pairs), HOST)
        e, s, c = placement.hops(src_core, pairs[:, 1])
        g = offsets[pop.name] + pairs[:, 0]
        dests.append(np.stack([g, pairs[:, 1]], 1))
        np.add.at(msgs, g, 1)
        np.add.at(ew, g, e)
        np.add.at(ns, g, s)
        np.add.at(ch, g, c)
        route_ns = e * table.hop_ew.time_ns + s * table.hop_ns.time_ns + c * table.chip_hop.time_ns
        np.maximum.at(longest, g, route_ns)
    for proj in net.projections:
        post_core = index[proj.post]
        csc = net.csc(proj)
        n_pre = net.population(proj.pre).size
        if csc is None:
            cores_of_post, per_core = np.unique(post_core, return_counts=True)
            pre = np.repeat(np.arange(n_pre), len(cores_of_post))
            syn_triples.append((offsets[proj.pre] + pre, np.tile(cores_of_post, n_pre), np.tile(per_core, n_pre)))
        else:
            col = np.repeat(np.arange(n_pre), np.diff(csc.indptr))
            key = col * len(cores) + post_core[csc.indices]
            uniq, counts = np.unique(key, return_counts=True)
            syn_triples.append((offsets[proj.pre] + uniq // len(cores), uniq % len(cores), counts))
    destinations = np.concatenate(dests) if dests else np.zeros((0, 2), np.int64)
    n_cores = len(cores)
    neuron_core = np.full(n, -1)
    for pop in net.populations:
        neuron_core[offsets[pop.name] : offsets[pop.name] + pop.size] = index[pop.name]
    if syn_triples:
        pre, core, count = (np.concatenate(parts) for parts in zip(*syn_triples, strict=True))
        synapses = sp.csr_matrix((count.astype(np.float64), (core, pre)), shape=(n_cores, n))
    else:
        synapses = sp.csr_matrix((n_cores, n))
    keep = np.flatnonzero(neuron_core >= 0)  # neurons on a core (the input is on the host)
    on_core = sp.csr_matrix((np.ones(len(keep)), (neuron_core[keep], keep)), shape=(n_cores, n))
    g, dest = destinations[:, 0], destinations[:, 1]
    deliveries = sp.csr_matrix((np.ones(len(g)), (dest, g)), shape=(n_cores, n))
    return RouteTable(
        msgs, ew, ns, ch, longest, destinations, neuron_core, synapses, on_core, deliveries, _hop_times(table)
    )


@dataclass
class CoreCounts:
    """Operations per step and core ``[T, cores]``, summed over the run's samples: what both the
    analytic step time here and the pipeline model (``timing.py``) multiply by operation times."""

    synops: np.ndarray
    active: np.ndarray
    inactive: np.ndarray
    spikes: np.ndarray
    messages_out: np.ndarray
    messages_in: np.ndarray
    neuron_core: np.ndarray  # [N] core of each neuron (-1: input, on the host)


def core_counts(placement: Placement, activity: Activity, routes: RouteTable) -> CoreCounts:
    cores = placement.cores
    n_cores = len(cores)
    spikes = np.asarray(activity.spikes, np.float64)
    active = np.asarray(activity.active, np.float64)
    steps = spikes.shape[0]
    compartments = np.array([c.size for c in cores], np.float64)
    # sparse products over all steps at once, built directly core-major (counts are integers:
    # exact in float64 in any order); the three per-neuron quantities share one product
    by_neuron = np.ascontiguousarray(spikes.T)  # [N, T]
    synops = np.asarray(routes.synapses @ by_neuron).T.reshape(steps, n_cores)
    stacked = np.concatenate([active.T, by_neuron, by_neuron * routes.messages[:, None]], axis=1)  # [N, 3T]
    per_core = np.asarray(routes.on_core @ stacked)  # [cores, 3T]
    active_sum, spikes_core, messages_core = (per_core[:, i * steps : (i + 1) * steps].T for i in range(3))
    active_core = np.minimum(active_sum, compartments * activity.samples)
    msgs_in = np.asarray(routes.deliveries @ by_neuron).T.reshape(steps, n_cores)
    return CoreCounts(
        synops,
        active_core,
        compartments[None, :] * activity.samples - active_core,
        np.ascontiguousarray(spikes_core),
        np.ascontiguousarray(messages_core),
        msgs_in,
        routes.neuron_core,
    )


def energy_latency(
    net: Netlist,
    placement: Placement,
    chip: ChipSpec,
    activity: Activity,
    cost_table: str = "default",
    timing: str = "analytic",
    operation: Operation = THROUGHPUT,
    routes: RouteTable | None = None,
) -> dict:
    """Energy and latency: totals, per inference, per step and per core, with breakdowns.

    ``timing``: ``analytic`` = every operation of the busiest core in sequence, plus the longest
    route and the barrier; ``pipeline`` = ``timing.pipeline_timing`` (the two pipelines of a core
    overlapped, messages serialised on shared links, the barrier table). Static energy follows
    the chosen run time.

    ``operation`` (``operating.py``): the mode whose energy and latency are the headline
    (``energy.per_inference_J``, ``latency.per_inference_s``), with their [low, high] from the
    table's uncertainty; ``modes`` holds every mode the operation allows (realtime needs a step
    period).

    ``routes``: ``route_table(net, placement, table)`` built once for this placement and cost
    table (hop times set the longest route), reused across calls; built here when not given."""
    table = chip.cost_table(cost_table)
    if routes is None:
        routes = route_table(net, placement, table)
    routes.check_fits(net, placement, table)
    counts = core_counts(placement, activity, routes)
    neuron_core = counts.neuron_core
    spikes = np.asarray(activity.spikes, np.float64)
    steps = spikes.shape[0]
    synops, active_core, inactive_core = counts.synops, counts.active, counts.inactive
    spikes_core, messages_core, msgs_in = counts.spikes, counts.messages_out, counts.messages_in

    # energy (joules), summed over the whole run
    e_syn = synops.sum() * table.synop.energy_pj * PJ
    e_neuron = (
        active_core.sum() * table.neuron_active.energy_pj + inactive_core.sum() * table.neuron_inactive.energy_pj
    ) * PJ
    total_spikes = spikes.sum(0)
    hop_energy = (
        routes.hops_ew * table.hop_ew.energy_pj
        + routes.hops_ns * table.hop_ns.energy_pj
        + routes.chip_hops * table.chip_hop.energy_pj
    )
    route_per_neuron = (
        routes.messages * table.message_out.energy_pj
        + hop_energy
        + np.where(neuron_core >= 0, table.spike_out.energy_pj, 0.0)
    )
    e_route = float((total_spikes * route_per_neuron).sum()) * PJ

    # time (seconds) of the average inference, per step
    per = 1.0 / activity.samples
    core_ns = per * (
        synops * table.synop.time_ns
        + active_core * table.neuron_active.time_ns
        + inactive_core * table.neuron_inactive.time_ns
        + spikes_core * table.spike_out.time_ns
        + messages_core * table.message_out.time_ns
        + msgs_in * table.message_in_ns
    )
    route_ns = np.where(spikes > 0, routes.longest_ns[None, :], 0.0).max(1) if spikes.size else np.zeros(steps)
    barrier_ns = table.barrier_ns(placement.n_tiles, placement.n_chips)
    step_ns = core_ns.max(1) + route_ns + barrier_ns
    breakdown = {
        "compute": float(core_ns.max(1).sum()) * NS,
        "routing": float(route_ns.sum()) * NS,
        "barrier": barrier_ns * steps * NS,
    }
    pipeline = None
    if timing == "pipeline":
        from neuromotif.hw_models.timing import pipeline_timing

        pipeline = pipeline_timing(placement, table, counts, routes, spikes, activity.samples, chip.mesh)
        step_ns = np.asarray(pipeline["per_step_ns"])
        parts = pipeline["breakdown_ns"]
        breakdown = {
            "compute": parts["compute"] * NS,
            "routing": parts["network"] * NS,
            "barrier": parts["barrier"] * NS,
        }
    elif timing != "analytic":
        raise ValueError(f"timing must be 'analytic' or 'pipeline', got {timing!r}")
    dynamic = {
        k: v / activity.samples for k, v in {"synops": e_syn, "neuron_updates": e_neuron, "routing": e_route}.items()
    }
    modes = operating_modes(step_ns * NS, sum(dynamic.values()), table, chip, placement, operation)
    chosen = modes[operation.mode]
    per_inf = {**dynamic, "static": chosen["static_J"]}
    hop_hist = _routing_by_hops(routes, total_spikes * route_per_neuron * PJ)
    return {
        "cost_table": cost_table if cost_table != "default" else chip.default_cost_table,
        "cost_table_source": table.source,
        "assumption": table.assumption,
        "samples": activity.samples,
        "steps": steps,
        "operation": {
            "mode": operation.mode,
            "static_accounting": operation.static,
            "step_period_s": operation.step_period_s,
            "static_power_W": chosen["static_power_W"],
            "uncertainty_source": table.uncertainty.source,
        },
        "modes": modes,
        "energy": {
            "per_inference_J": chosen["per_inference_J"],
            "bounds_J": chosen["bounds"]["per_inference_J"],
            "breakdown": per_inf,
            # each component's [low, high]: dynamic ones scale with the energy range, static as its mode says
            "breakdown_bounds_J": {
                **{k: [v * f for f in table.uncertainty.energy] for k, v in dynamic.items()},
                "static": chosen["bounds"]["static_J"],
            },
            "routing_by_hops_J": {k: v / activity.samples for k, v in hop_hist.items()},
            "per_core_J": (
                (
                    synops.sum(0) * table.synop.energy_pj
                    + active_core.sum(0) * table.neuron_active.energy_pj
                    + inactive_core.sum(0) * table.neuron_inactive.energy_pj
                )
                * PJ
                / activity.samples
            ).tolist(),
            "per_step_dynamic_J": (
                (
                    (
                        synops.sum(1) * table.synop.energy_pj
                        + active_core.sum(1) * table.neuron_active.energy_pj
                        + inactive_core.sum(1) * table.neuron_inactive.energy_pj
                    )
                    * PJ
                    + (spikes * route_per_neuron[None, :]).sum(1) * PJ  # not BLAS: same bits at any thread count
                )
                / activity.samples
            ).tolist(),
        },
        "latency": {
            "per_step_s": (step_ns * NS).tolist(),
            "mean_step_s": float(step_ns.mean()) * NS if steps else 0.0,
            "per_inference_s": chosen["latency_s"],
            "bounds_s": chosen["bounds"]["latency_s"],
            "step_time_factor_range": list(table.uncertainty.time),  # every per-step time scales by it
            "compute_s": float(step_ns.sum()) * NS,  # the steps alone, back to back
            "breakdown_s": breakdown,
            "model": timing,
            **({"pipeline": pipeline} if pipeline is not None else {}),
        },
        "activity": {
            "synops_per_inference": float(synops.sum()) / activity.samples,
            "spikes_per_inference": float(spikes[:, neuron_core >= 0].sum()) / activity.samples,
            "input_spikes_per_inference": float(spikes[:, neuron_core < 0].sum()) / activity.samples,
            # every spike message sent, the host's input messages included: what routing energy counts
            "messages_per_inference": float(spikes.sum(0) @ routes.messages) / activity.samples,
            # mesh hops (east-west and north-south) every message takes, summed
            "hops_per_inference": float(total_spikes @ (routes.hops_ew + routes.hops_ns)) / activity.samples,
            "input_messages_per_inference": float(spikes[:, neuron_core < 0].sum(0) @ routes.messages[neuron_core < 0])
            / activity.samples,
            "active_updates_per_inference": float(active_core.sum()) / activity.samples,
            "per_core_synops": (synops.sum(0) / activity.samples).tolist(),
            "per_core_messages": (messages_core.sum(0) / activity.samples).tolist(),
            # spike messages per inference from core to core (source -1: the host's input spikes)
            "core_to_core_messages": _core_pairs(neuron_core, routes.destinations, total_spikes / activity.samples),
        },
    }


def operating_modes(
    step_s: np.ndarray, dynamic_j: float, table: CostTable, chip: ChipSpec, placement: Placement, operation: Operation
) -> dict[str, dict]:
    """Every mode ``operation`` allows (throughput always; realtime with a step period), each with
    its bounds from the table's uncertainty."""
    used, chips, per_chip = len(placement.cores), placement.n_chips, chip.mesh.cores_per_chip

    def power(w: float) -> float:
        return static_power_w(w, chips, used, per_chip, operation.static)

    unc = table.uncertainty
    static_range = [power(w) for w in unc.static_w_per_chip]
    modes = ["throughput"] + (["realtime"] if operation.step_period_s is not None else [])
    return {
        mode: operate_with_bounds(
            step_s,
            dynamic_j,
            power(table.static_w_per_chip),
            mode,
            operation.step_period_s,
            unc.energy,
            unc.time,
            static_range,
        )
        for mode in modes
    }


def _core_pairs(neuron_core: np.ndarray, destinations: np.ndarray, spikes: np.ndarray) -> list[list[float]]:
    """[source core, destination core, messages] for every pair that exchanged any."""
    if not len(destinations):
        return []
    src, dst = neuron_core[destinations[:, 0]], destinations[:, 1]
    n = int(max(neuron_core.max(initial=0), dst.max(initial=0))) + 2
    key = (src + 1) * n + dst
    total = np.bincount(key, weights=spikes[destinations[:, 0]], minlength=n * n)
    used = np.flatnonzero(total)
    return [[int(k // n) - 1, int(k % n), float(total[k])] for k in used]


def _routing_by_hops(routes: RouteTable, energy: np.ndarray) -> dict[str, float]:
    """Routing energy per neuron (``energy``), grouped by the neuron's mean hops per message (a
    neuron that sends no message, e.g. an output, pays only its spike-out energy: 0 hops)."""
    sends = routes.messages > 0
    mean_hops = np.zeros_like(routes.messages)
    mean_hops[sends] = (routes.hops_ew[sends] + routes.hops_ns[sends]) / routes.messages[sends]
    bins = np.rint(mean_hops).astype(int)
    paid = energy > 0
    return {str(h): float(energy[paid & (bins == h)].sum()) for h in np.unique(bins[paid])}
