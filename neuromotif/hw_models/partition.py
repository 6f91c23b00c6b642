"""Partitioner: neurons -> cores, never producing a core that breaks a design rule.

Motif-aware greedy fill: each core takes a contiguous run of whole motifs (``motif_size``) of
one population, as many as fit every per-core rule (compartments, synapse memory, axons,
profiles, shared memory). Splitting happens along the postsynaptic side, so a motif's dense
local recurrence never leaves its core and neighbouring motifs share cores. Feasibility is
monotone in the number of motifs, so the fill gallops from the previous core's size and
bisects: a handful of evaluations per core, linear in the network size overall.

Output axons depend on where the targets land, so the fill reserves an estimate per neuron
(one per outgoing projection), then the exact count is checked and the estimate raised for
any population whose cores overflow, until the mapping is exact.
"""

from __future__ import annotations

from neuromotif.hw_models.chip import ChipSpec
from neuromotif.hw_models.drc import check_chips, check_mapping, check_netlist, core_violations
from neuromotif.hw_models.errors import DesignRuleError
from neuromotif.hw_models.netlist import Netlist, NetPopulation
from neuromotif.hw_models.resources import CoreSlice, all_core_usage, core_usage

MAX_REFILLS = 8


def _fill(net: Netlist, pop: NetPopulation, motif_size: int, chip: ChipSpec, out_per_neuron: int) -> list[CoreSlice]:
    def violations(start: int, motifs: int) -> list[DesignRuleError]:
        core = CoreSlice(pop.name, start, start + motifs * motif_size)
        return core_violations(core_usage(net, core, chip, core.size * out_per_neuron), chip, core)

    max_motifs = chip.core.max_compartments // motif_size
    if max_motifs == 0:
        raise DesignRuleError(
            "compartments per core",
            f"one motif of population {pop.name}",
            motif_size,
            chip.core.max_compartments,
            f"use motifs of at most {chip.core.max_compartments} neurons",
            "compartments",
        )
    slices, start, guess = [], 0, 1
    while start < pop.size:
        hi = min((pop.size - start) // motif_size, max_motifs)
        single = violations(start, 1)
        if single:
            err = single[0]
            what = f"one {'motif' if motif_size > 1 else 'neuron'} of population {pop.name} ({motif_size} neurons)"
            raise DesignRuleError(err.rule, what, err.needed, err.allowed, err.fix, err.unit)
        lo, guess = 1, min(guess, hi)
        if not violations(start, guess):
            lo, step = guess, 1
            while lo < hi:  # gallop up from the last core's size
                cand = min(lo + step, hi)
                if violations(start, cand):
                    hi = cand - 1
                    break
                lo, step = cand, step * 2
        else:
            hi = guess - 1
        while lo < hi:  # bisect: lo fits, hi + 1 does not
            mid = (lo + hi + 1) // 2
            if violations(start, mid):
                hi = mid - 1
            else:
                lo = mid
        slices.append(CoreSlice(pop.name, start, start + lo * motif_size))
        start += lo * motif_size
        guess = lo
    return slices


def partition(net: Netlist, chip: ChipSpec, motif_aware: bool = True) -> list[CoreSlice]:
    """Assign every non-input neuron to a core. ``motif_aware=False`` is the naive baseline
    (same fill, motifs may be cut at core boundaries)."""
    check_netlist(net, chip)
    pops = net.neuron_populations
    estimate = {p.name: max(1, len(net.outputs_of(p.name))) for p in pops}
    filled = {p.name: _fill(net, p, p.motif_size if motif_aware else 1, chip, estimate[p.name]) for p in pops}
    for _ in range(MAX_REFILLS):
        cores = [c for p in pops for c in filled[p.name]]
        check_chips(len(cores), chip)
        usage = all_core_usage(net, cores, chip)
        bad = {c.population for c, u in zip(cores, usage, strict=True) if core_violations(u, chip, c)}
        if not bad:
            return cores
        seen: dict[str, int] = {}  # the output axons per neuron the exact count found, per population
        for c, u in zip(cores, usage, strict=True):
            seen[c.population] = max(seen.get(c.population, 0), -(-u.output_axons // max(c.size, 1)))
        for name in bad:  # exact output axons exceeded the reservation: reserve what was seen, refill
            estimate[name] = max(estimate[name] + 1, seen.get(name, 0))
            pop = net.population(name)
            filled[name] = _fill(net, pop, pop.motif_size if motif_aware else 1, chip, estimate[name])
    check_mapping(net, cores, usage, chip)  # raises the remaining violation, with its fix
    return cores  # pragma: no cover - check_mapping raised
