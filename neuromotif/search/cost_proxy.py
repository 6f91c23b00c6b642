"""A differentiable estimate of a network's on-chip energy and latency per inference, in torch.

Same constants as the exact cost model (``hw_models/cost.py`` with pipeline timing), from the
chip's cost table; the structure (cores per population, destination cores of every neuron)
from the same mapper the compiler uses, run once on the network's netlist. Per step of the
average inference (spikes averaged over the batch):

    synaptic events into P = sum over projections pre -> P of spikes_pre . fan-out_pre
    messages               = spikes . destination cores per neuron (inputs from the host too)
    a core of P            = max(synaptic pipeline, neuron pipeline) / cores of P  (work spread evenly)
    step time              = slowest population's core time + barrier (tile table)
    energy                 = synaptic events x e_synop + neurons x e_update + messages x e_message
                             + static power x the time the chip is powered (``hw_models/operating.py``:
                               throughput = the steps back to back; realtime = until the decision
                               after the last input bin; per chip or per used core)

Spikes carry surrogate gradients, so activity is penalised where it costs. For the HRMAS
supernet the recurrent fan-out of every motif position is its probability of not being
absent, mixed over motif sizes with their probabilities: the architecture step sees the cost
of each candidate size and connection type. Energy is in µJ and time in ms per inference.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch

from neuromotif.hw_models import load_chip
from neuromotif.hw_models.chip import with_core_limit
from neuromotif.hw_models.cost import route_table
from neuromotif.hw_models.mapper import map_network
from neuromotif.hw_models.netlist import Netlist, NetPopulation, NetProjection
from neuromotif.hw_models.operating import THROUGHPUT, Operation, static_power_w
from neuromotif.hw_models.resources import core_index

PJ_TO_UJ = 1e-6
# (input spikes [B, T, n_in], a forward pass's trace) -> the cost terms of that batch
CostFunction = Callable[[torch.Tensor, list[dict]], dict[str, torch.Tensor]]
NS_TO_MS = 1e-6


@dataclass
class Structure:
    """What the mapper says about one concrete network: cores per population, messages per spike
    of every neuron (distinct destination cores), mean hop energy per message, chips, tiles."""

    cores: dict[str, int]
    messages: dict[str, torch.Tensor]
    hop_pj: dict[str, torch.Tensor]
    chips: int
    tiles: int


def _structure(net: Netlist, chip, table) -> Structure:
    mapping = map_network(net, chip)
    index = core_index(net, mapping.cores)
    routes = route_table(net, mapping.placement, table)
    offsets = net.offsets()
    hop = (
        routes.hops_ew * table.hop_ew.energy_pj
        + routes.hops_ns * table.hop_ns.energy_pj
        + routes.chip_hops * table.chip_hop.energy_pj
    )
    messages, hops = {}, {}
    for pop in net.populations:  # the route table's per-neuron figures, cut per population
        part = slice(offsets[pop.name], offsets[pop.name] + pop.size)
        messages[pop.name] = torch.from_numpy(routes.messages[part]).float()
        hops[pop.name] = torch.from_numpy(hop[part]).float()
    cores = {p.name: int(len(np.unique(index[p.name][index[p.name] >= 0]))) for p in net.populations}
    return Structure(cores, messages, hops, mapping.placement.n_chips, mapping.placement.n_tiles)


def netlist_of(inputs: int, layers: list[tuple[int, int, sp.csr_matrix | None]], classes: int) -> Netlist:
    """Input -> layers (neurons, motif size, recurrent structure or None) -> readout, dense feed-forward."""
    pops = [NetPopulation("input", inputs, is_input=True)]
    projs = []
    pre = "input"
    for i, (n, motif, rec) in enumerate(layers):
        name = f"h{i}"
        pops.append(NetPopulation(name, n, motif_size=motif))
        projs.append(NetProjection(f"{pre}->{name}", pre, name))
        if rec is not None:
            projs.append(NetProjection(f"{name}->{name}", name, name, sp.csr_matrix(rec)))
        pre = name
    pops.append(NetPopulation("readout", classes))
    projs.append(NetProjection(f"{pre}->readout", pre, "readout"))
    return Netlist(tuple(pops), tuple(projs))


def _realtime_finish_ns(step_ns: torch.Tensor, period_s: float | None) -> torch.Tensor:
    """``operating.realtime_finish`` on a tensor of step times (differentiable through max)."""
    assert period_s is not None  # Operation refuses realtime without a period
    period_ns = period_s * 1e9
    t = step_ns.new_zeros(())
    for k in range(step_ns.shape[0]):
        t = torch.clamp(t, min=(k + 1) * period_ns) + step_ns[k]
    return t


class CostProxy:
    """``proxy(x, trace_spikes, fanouts)`` -> energy (µJ), latency (ms), cores, all tensors."""

    def __init__(
        self,
        chip_name: str,
        inputs: int,
        classes: int,
        candidates: list[list[tuple[int, int, sp.csr_matrix | None]]],
        cost_table: str = "default",
        neurons_per_core: int | None = None,
        operation: Operation = THROUGHPUT,
    ):
        """``candidates``: per candidate network (one for a trained RSNN, one per motif size for
        the supernet), per hidden layer (neurons, motif size, recurrent structure or None; all
        positions present for a supernet size)."""
        chip = with_core_limit(load_chip(chip_name), neurons_per_core)
        self.table = chip.cost_table(cost_table)
        self.operation = operation
        self.cores_per_chip = chip.mesh.cores_per_chip
        self.sizes = [inputs, *[n for n, _, _ in candidates[0]], classes]
        self.structures = [_structure(netlist_of(inputs, layers, classes), chip, self.table) for layers in candidates]

    def candidate_cost(
        self, s: Structure, spikes: list[torch.Tensor], rec_fanout: Sequence[torch.Tensor | None]
    ) -> dict[str, torch.Tensor]:
        """``spikes``: per population (input first) the batch-mean spikes [T, n];
        ``rec_fanout``: per hidden layer the recurrent synapses of each neuron [n] (None: none)."""
        t = self.table
        names = ["input", *[f"h{i}" for i in range(len(self.sizes) - 2)], "readout"]
        steps = spikes[0].shape[0]
        syn = {name: spikes[0].new_zeros(steps) for name in names[1:]}
        msg_in = {name: spikes[0].new_zeros(steps) for name in names[1:]}
        energy_pj = spikes[0].new_zeros(())
        for k, name in enumerate(names[:-1]):
            post = names[k + 1]
            s_k = spikes[k]
            syn[post] = syn[post] + s_k.sum(1) * self.sizes[k + 1]  # dense feed-forward fan-out
            msgs = s_k @ s.messages[name].to(s_k)  # [T] messages from this population
            msg_in[post] = msg_in[post] + msgs  # (a hidden layer's messages to itself are counted below)
            energy_pj = energy_pj + (s_k @ (t.message_out.energy_pj + s.hop_pj[name].to(s_k))).sum()
            fan = rec_fanout[k - 1] if k >= 1 else None
            if fan is not None:
                syn[name] = syn[name] + s_k @ fan
        core_ns = []
        for k, name in enumerate(names[1:], start=1):
            n = self.sizes[k]
            synaptic = msg_in[name] * t.message_in_ns + syn[name] * t.synop.time_ns
            neuron = n * t.neuron_active.time_ns + spikes[k].sum(1) * (t.spike_out.time_ns + t.message_out.time_ns)
            core_ns.append(torch.maximum(synaptic, neuron) / max(s.cores[name], 1))
        barrier = t.barrier_ns(s.tiles, s.chips, table=True)
        step_ns = torch.stack(core_ns).max(0).values + barrier
        synops = sum(v.sum() for v in syn.values())
        energy_pj = energy_pj + synops * t.synop.energy_pj + sum(self.sizes[1:]) * steps * t.neuron_active.energy_pj
        op = self.operation
        used = sum(v for k, v in s.cores.items() if k != "input")
        power_w = static_power_w(t.static_w_per_chip, s.chips, used, self.cores_per_chip, op.static)
        time_ns = step_ns.sum() if op.mode == "throughput" else _realtime_finish_ns(step_ns, op.step_period_s)
        static_pj = power_w * time_ns * 1e3  # W x ns = nJ -> pJ
        return {
            "energy_uJ": (energy_pj + static_pj) * PJ_TO_UJ,
            "latency_ms": time_ns * NS_TO_MS,
            "cores": spikes[0].new_tensor(float(sum(v for k, v in s.cores.items() if k != "input"))),
        }

    def __call__(
        self,
        spikes: list[torch.Tensor],
        rec_fanouts: Sequence[Sequence[torch.Tensor | None]],
        weights: torch.Tensor | None = None,
    ) -> dict[str, torch.Tensor]:
        """Mix of the candidates' costs (``weights``: their probabilities; one candidate: 1)."""
        mean = [sp_.mean(0) if sp_.dim() == 3 else sp_ for sp_ in spikes]  # [B, T, n] -> [T, n]
        costs = [self.candidate_cost(s, mean, f) for s, f in zip(self.structures, rec_fanouts, strict=True)]
        w = weights if weights is not None else mean[0].new_ones(1)
        return {k: sum(wi * c[k] for wi, c in zip(w, costs, strict=True)) for k in costs[0]}


def rsnn_proxy(
    model,
    chip_name: str,
    cost_table: str = "default",
    neurons_per_core: int | None = None,
    operation: Operation = THROUGHPUT,
) -> tuple[CostProxy, CostFunction]:
    """The proxy of a trained-architecture RSNN and a function ``(x, trace) -> costs``."""
    from neuromotif.search.scml import SCMLLayer, blocks_to_csr

    layers: list[tuple[int, int, sp.csr_matrix | None]] = []
    fanouts: list[torch.Tensor | None] = []
    for layer in model.layers:
        rec = layer.recurrent_weights()
        if rec is None:
            layers.append((layer.n, layer.motif_size, None))
            fanouts.append(None)
            continue
        matrix = (
            blocks_to_csr(rec.detach().cpu().numpy())
            if isinstance(layer, SCMLLayer)
            else sp.csr_matrix(rec.detach().cpu().numpy())
        )
        matrix.data[:] = 1
        layers.append((layer.n, layer.motif_size, matrix))
        fanouts.append(torch.from_numpy(np.asarray(matrix.sum(0)).ravel()).float())
    proxy = CostProxy(
        chip_name, model.arch.inputs, model.arch.classes, [layers], cost_table, neurons_per_core, operation
    )

    def cost(x: torch.Tensor, trace: list[dict]) -> dict[str, torch.Tensor]:
        spikes = [x, *[o["spikes"] for o in trace]]
        return proxy(spikes, [[f.to(x) if f is not None else None for f in fanouts]])

    return proxy, cost


def supernet_proxy(
    net,
    chip_name: str,
    cost_table: str = "default",
    neurons_per_core: int | None = None,
    operation: Operation = THROUGHPUT,
) -> tuple[CostProxy, CostFunction]:
    """The supernet's expected cost: per motif size, the network with every position present maps
    to its cores; the recurrent fan-out of each neuron is the sum of its positions' probability of
    not being absent; sizes mix by their probabilities (one hidden layer)."""
    from neuromotif.search.scml import blocks_to_csr

    layer = net.layers[0]
    if len(net.layers) != 1:
        raise ValueError("the supernet cost proxy handles one hidden layer")
    candidates = []
    for m in layer.sizes:
        mask = getattr(layer, f"mask{m}").cpu().numpy()
        blocks = np.broadcast_to(mask, (layer.n // m, m, 3 * m)).copy()
        candidates.append([(layer.n, m, blocks_to_csr(blocks))])
    proxy = CostProxy(chip_name, net.inputs, net.classes, candidates, cost_table, neurons_per_core, operation)

    def fanout(i: int, m: int) -> torch.Tensor:
        present = (1 - layer.used_type_probabilities(i)[..., 2]) * getattr(layer, f"mask{m}")  # [m (post), 3m (pre)]
        # a neuron at position c feeds its own motif (intra column c), motif k+1 (where it is
        # "k-1", column c) and motif k-1 (where it is "k+1", column 2m + c)
        per_position = present[:, m : 2 * m].sum(0) + present[:, :m].sum(0) + present[:, 2 * m :].sum(0)
        return per_position.repeat(layer.n // m)

    def cost(x: torch.Tensor, trace: list[dict]) -> dict[str, torch.Tensor]:
        spikes = [x, *[o["spikes"] for o in trace]]
        fanouts = [[fanout(i, m)] for i, m in enumerate(layer.sizes)]
        return proxy(spikes, fanouts, layer.used_size_probabilities())

    return proxy, cost
