"""Resource accounting: what a core holding a slice of one population uses.

A core holds a contiguous range ``[start, stop)`` of one population (the partitioner's unit).
Counted per core: compartments, synapses, synapse memory bits (list encoding, see
``SynapseEncoding``), input axons (distinct presynaptic neurons with a synapse here),
output axons (per neuron, the number of distinct destination cores), profiles, and on a
shared-memory chip the total of neuron state + synapses + axon tables.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from neuromotif.hw_models.chip import ChipSpec, SynapseEncoding
from neuromotif.hw_models.netlist import Netlist


@dataclass(frozen=True)
class CoreSlice:
    """Neurons ``[start, stop)`` of ``population`` on one core."""

    population: str
    start: int
    stop: int

    @property
    def size(self) -> int:
        return self.stop - self.start


@dataclass
class CoreUsage:
    compartments: int
    synapses: int
    synapse_bits: int
    input_axons: int
    output_axons: int
    compartment_profiles: int
    threshold_profiles: int
    shared_bits: int  # neuron state + synapses + axon tables (what a shared-memory core spends)

    def as_dict(self) -> dict[str, int]:
        return {k: int(v) for k, v in asdict(self).items()}


def list_bits(n_synapses: np.ndarray, bits_per_synapse: int, enc: SynapseEncoding) -> np.ndarray:
    """Memory bits for axons with ``n_synapses`` targets each: lists of <= ``list_max_synapses``,
    each rounded up to whole words (``ceil_word(n * bits + header)``)."""
    n = np.asarray(n_synapses, np.int64)
    full, rest = np.divmod(n, enc.list_max_synapses)
    word = enc.word_bits
    full_cost = -(-(enc.list_max_synapses * bits_per_synapse + enc.list_header_bits) // word) * word
    rest_cost = np.where(rest > 0, -(-(rest * bits_per_synapse + enc.list_header_bits) // word) * word, 0)
    return full * full_cost + rest_cost


def axon_bits(counts: np.ndarray, spans: np.ndarray, weight_bits: int, enc: SynapseEncoding) -> np.ndarray:
    """Per axon, the cheaper of the sparse format (``counts`` entries with an index each) and the
    dense format (every position of the ``spans`` target range, no index)."""
    sparse = list_bits(counts, weight_bits + enc.delay_bits + enc.index_bits, enc)
    dense = list_bits(spans, weight_bits + enc.delay_bits, enc)
    return np.minimum(sparse, dense)


def _block_axon_stats(net: Netlist, proj, start: int, stop: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(presynaptic ids, synapse counts, target spans) of a projection's synapses onto rows [start, stop)."""
    csr = net.csr(proj)
    if csr is None:  # all-to-all
        n_pre = net.population(proj.pre).size
        size = stop - start
        return np.arange(n_pre), np.full(n_pre, size), np.full(n_pre, size)
    lo, hi = csr.indptr[start], csr.indptr[stop]
    cols = csr.indices[lo:hi]
    if cols.size == 0:
        empty = np.zeros(0, np.int64)
        return empty, empty, empty
    rows = np.repeat(np.arange(stop - start), np.diff(csr.indptr[start : stop + 1]))
    order = np.argsort(cols, kind="stable")
    cols, rows = cols[order], rows[order]
    first = np.flatnonzero(np.r_[True, cols[1:] != cols[:-1]])
    counts = np.diff(np.r_[first, cols.size])
    spans = np.maximum.reduceat(rows, first) - np.minimum.reduceat(rows, first) + 1
    return cols[first], counts, spans


def core_usage(net: Netlist, core: CoreSlice, chip: ChipSpec, output_axons: int = 0) -> CoreUsage:
    """Resources of one core. ``output_axons`` comes from the whole assignment (see ``output_axons``)."""
    pop = net.population(core.population)
    synapses = syn_bits = in_axons = 0
    for proj in net.inputs_to(core.population):
        _, counts, spans = _block_axon_stats(net, proj, core.start, core.stop)
        synapses += int(counts.sum())
        syn_bits += int(axon_bits(counts, spans, proj.weight_bits or chip.numeric.weight_bits, chip.synapses).sum())
        in_axons += len(counts)
    profiles = [
        1 if ids is None else len(np.unique(ids[core.start : core.stop]))
        for ids in (pop.compartment_profile, pop.threshold_profile)
    ]
    limits = chip.core
    shared = (
        core.size * limits.neuron_state_bits
        + syn_bits
        + in_axons * limits.input_axon_bits
        + output_axons * limits.output_axon_bits
    )
    return CoreUsage(core.size, synapses, syn_bits, in_axons, output_axons, profiles[0], profiles[1], shared)


def core_index(net: Netlist, cores: list[CoreSlice]) -> dict[str, np.ndarray]:
    """Per population, the core id of each neuron (-1 for input populations)."""
    out = {p.name: np.full(p.size, -1, np.int64) for p in net.populations}
    for cid, core in enumerate(cores):
        out[core.population][core.start : core.stop] = cid
    return out


def destination_cores(net: Netlist, cores: list[CoreSlice], population: str) -> list[np.ndarray]:
    """For each outgoing projection of ``population``: per presynaptic neuron, its sorted distinct
    destination cores, as (pre, core) pairs in a ``[k, 2]`` array."""
    index = core_index(net, cores)
    out = []
    for proj in net.outputs_of(population):
        post_core = index[proj.post]
        csc = net.csc(proj)
        n_pre = net.population(proj.pre).size
        if csc is None:
            targets = np.unique(post_core)
            pairs = np.stack([np.repeat(np.arange(n_pre), len(targets)), np.tile(targets, n_pre)], 1)
        else:
            # rows sorted within a column and cores contiguous in the row index: the core id is
            # non-decreasing along a column, so distinct cores are where it changes.
            cores_of = post_core[csc.indices]
            col = np.repeat(np.arange(n_pre), np.diff(csc.indptr))
            new = (
                np.r_[True, (cores_of[1:] != cores_of[:-1]) | (col[1:] != col[:-1])] if col.size else np.zeros(0, bool)
            )
            pairs = np.stack([col[new], cores_of[new]], 1)
        out.append(pairs)
    return out


def neuron_destinations(net: Netlist, cores: list[CoreSlice], population: str) -> np.ndarray:
    """Distinct (pre neuron, destination core) pairs of ``population`` over all its projections.

    Projections of one population go to distinct post populations and a core holds one
    population, so pairs from different projections never coincide: concatenation is exact.
    """
    pairs = destination_cores(net, cores, population)
    return np.concatenate(pairs) if pairs else np.zeros((0, 2), np.int64)


def output_axons(net: Netlist, cores: list[CoreSlice]) -> np.ndarray:
    """Per core: sum over its neurons of the number of distinct destination cores."""
    index = core_index(net, cores)
    out = np.zeros(len(cores), np.int64)
    for pop in net.neuron_populations:
        pairs = neuron_destinations(net, cores, pop.name)
        if len(pairs):
            np.add.at(out, index[pop.name][pairs[:, 0]], 1)
    return out


def all_core_usage(net: Netlist, cores: list[CoreSlice], chip: ChipSpec) -> list[CoreUsage]:
    outs = output_axons(net, cores)
    return [core_usage(net, c, chip, int(o)) for c, o in zip(cores, outs, strict=True)]
