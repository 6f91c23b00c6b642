"""When each step's last spike message has been served: source cores emitting their messages,
the mesh slowing a source that floods it, destination cores serving their queues.

Why a model of its own: at scale the step is not the slowest core plus the busiest link. A core
that sends hundreds of messages per step (the host's input spikes, fanned out to every core)
fills the links it shares, and the chip's flow control then holds its later messages back; a
core that receives from many (a high-fan-in readout) serves a long queue. SANA-FE's detailed
scheduler models both with a congestion heuristic; this is that heuristic solved in closed form
per step, so it stays vectorised (docs/energy.md, "Pipeline timing", derives it):

- Each source s emits its M messages one generation delay g apart (its neuron pipeline's time
  over M; the host: ``message_out`` each). A message in flight loads every link of its route
  (the source core's output link and each hop) by 1 / (hops + 2); the route's summed load D over
  the mean receive cost c (one global mean per step: SANA-FE keeps one over all messages in
  flight) gives its network delay D c / (hops + 1).
- Per message in flight, pair p's route carries L_p = sum over its links of the source's load
  there; its delay grows by c L_p / (h_p + 1) =: c k_p. Little's law then gives the steady
  interval a = c * sum_p share_p k_p: if a > g the messages in flight grow by 1 - g / a per
  message sent, until the route with the highest k_p reaches the link buffers' capacity
  ((hops + 1) x ``link_buffer_messages``), where flow control paces the source at one message per a.
  A source's first message to each destination finds its queue empty and leaves flight at once:
  never more in flight than its messages less one per destination.
- So a source's last message leaves at M* g + (M - M*) a (M*: the messages sent before the cap),
  and pair p's last message arrives N_end c k_p later (N_end: messages in flight at the end).
- Each destination serves its messages first come, first served at its mean cost per message
  (its synaptic pipeline over its messages), from a fluid arrival curve per pair (evenly from
  its hop time to its last arrival): finish = max over breakpoints s of s + cost * (messages not
  arrived before s); the last message is served after it arrives.

Step = max(every core's generation, every queue's finish) + barrier (``timing.pipeline_timing``).
What it leaves out (``benchmarks/bench_sanafe.py``, its grid): the load other sources' messages
put on a route (messages waiting at a busy destination stay in flight in SANA-FE) and a mean
receive cost that changes as sources stop; where the model reads low on large layers, these are
the candidates (SANA-FE's service in send order was tried: it moves them by under 1 %).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from neuromotif.hw_models.placement import HOST, Placement

if TYPE_CHECKING:
    from neuromotif.hw_models.chip import CostTable, MeshSpec
    from neuromotif.hw_models.cost import RouteTable


def fifo_finish(
    queue: np.ndarray, start: np.ndarray, span: np.ndarray, count: np.ndarray, cost: np.ndarray, total: np.ndarray
) -> np.ndarray:
    """Per queue q (``cost`` and ``total`` indexed by q): when its last message is served. Entry j
    delivers ``count[j]`` messages to queue ``queue[j]`` evenly over [start_j, start_j + span_j]
    (all at start_j when span_j = 0); the queue serves them first come, first served at ``cost``
    each. finish = max over breakpoints s of s + cost * (messages not arrived before s), at least
    each entry's last arrival plus one message's service. -inf for a queue with no entries."""
    k = np.asarray(count, np.float64)
    spread = span > 0
    rate = np.where(spread, k / np.where(spread, span, 1.0), 0.0)
    t = np.concatenate([start, start + span])
    q = np.concatenate([queue, queue])
    slope_change = np.concatenate([rate, -rate])
    jump = np.concatenate([np.where(spread, 0.0, k), np.zeros_like(k)])
    last = np.concatenate([np.zeros_like(k), np.minimum(k, 1.0)])  # at an entry's end, its last message is left
    order = np.lexsort((t, q))
    t, q, slope_change, jump, last = t[order], q[order], slope_change[order], jump[order], last[order]
    n = len(t)
    first = np.r_[True, q[1:] != q[:-1]] if n else np.zeros(0, bool)
    head = np.maximum.accumulate(np.where(first, np.arange(n), 0))  # index of each event's queue's first event

    def before(x: np.ndarray) -> np.ndarray:  # per event: the sum of x over its queue's earlier events
        c = np.cumsum(x)
        return c - x - (c[head] - x[head])

    slope = before(slope_change)
    dt = np.where(first, 0.0, t - np.r_[t[:1], t[:-1]])
    arrived = np.cumsum(slope * dt)
    arrived = arrived - arrived[head] + before(jump)
    remaining = np.maximum(total[q] - arrived, last)
    out = np.full(len(total), -np.inf)
    np.maximum.at(out, q, t + cost[q] * remaining)
    return out


@dataclass(frozen=True)
class CorePairs:
    """What the placement fixes for the queues: the distinct (source core, destination core) pairs
    spikes travel (the host is source ``cores``), each neuron's pairs, their hops and links."""

    source: np.ndarray  # [pairs] source core (``cores``: the host)
    dest: np.ndarray  # [pairs]
    hop_ns: np.ndarray  # [pairs] route time without congestion
    hops: np.ndarray  # [pairs] links after the source core's output link
    of_neuron: sp.csr_matrix  # [neurons, pairs] 1 where a neuron's spikes travel the pair
    of_source: sp.csr_matrix  # [pairs, cores + 1]
    of_dest: sp.csr_matrix  # [pairs, cores]
    on_links: sp.csr_matrix  # [pairs, (source, link)] the directed links each pair's route uses

    @classmethod
    def build(cls, placement: Placement, table: CostTable, routes: RouteTable, mesh: MeshSpec) -> CorePairs:
        from neuromotif.hw_models.timing import link_incidence

        n_cores = len(placement.cores)
        g, dst = routes.destinations[:, 0], routes.destinations[:, 1]
        src = np.where(routes.neuron_core[g] < 0, n_cores, routes.neuron_core[g])
        pairs, pid = np.unique(src * n_cores + dst, return_inverse=True)
        ps, pd = pairs // n_cores, pairs % n_cores
        n = len(pairs)
        pair_src = np.where(ps == n_cores, HOST, ps)
        ew, ns, chips = placement.hops(pair_src, pd)
        inc = link_incidence(placement, pair_src, pd, mesh.tiles_x, mesh.tiles_y)[0].tocoo()  # [pairs, links]
        combo, cid = np.unique(ps[inc.row] * inc.shape[1] + inc.col, return_inverse=True)
        return cls(
            source=ps,
            dest=pd,
            hop_ns=ew * table.hop_ew.time_ns + ns * table.hop_ns.time_ns + chips * table.chip_hop.time_ns,
            hops=(ew + ns + chips).astype(np.float64),
            of_neuron=sp.csr_matrix((np.ones(len(g)), (g, pid)), shape=(len(routes.neuron_core), n)),
            of_source=sp.csr_matrix((np.ones(n), (np.arange(n), ps)), shape=(n, n_cores + 1)),
            of_dest=sp.csr_matrix((np.ones(n), (np.arange(n), pd)), shape=(n, n_cores)),
            on_links=sp.csr_matrix((np.ones(len(cid)), (inc.row, cid)), shape=(n, len(combo))),
        )


def message_finish_ns(
    placement: Placement,
    table: CostTable,
    routes: RouteTable,
    spikes: np.ndarray,
    samples: int,
    mesh: MeshSpec,
    synaptic: np.ndarray,
    neuron: np.ndarray,
) -> np.ndarray:
    """Per step ``[T]``: when the last core has generated and the last message has been served
    (ns, barrier not included), per average inference; ``synaptic`` / ``neuron`` ``[T, cores]``:
    each core's two pipelines (``timing.core_pipelines_ns``). The core pairs are built once per
    route table (``routes.pairs``)."""
    steps, n_cores = synaptic.shape
    if steps == 0 or n_cores == 0:
        return np.zeros(steps)
    if routes.pairs is None:
        routes.pairs = CorePairs.build(placement, table, routes, mesh)
    cp = routes.pairs
    ps, pd, hops = cp.source, cp.dest, cp.hops
    m = np.asarray((cp.of_neuron.T @ np.asarray(spikes, np.float64).T).T) / samples  # [T, pairs] messages
    sent = m @ cp.of_source  # [T, sources]
    generation = np.concatenate([neuron, (sent[:, n_cores] * table.message_out.time_ns)[:, None]], 1)
    arriving = m @ cp.of_dest  # [T, cores]
    cost = np.where(arriving > 0, synaptic / np.where(arriving > 0, arriving, 1.0), 0.0)  # per message, per core
    c = (m * cost[:, pd]).sum(1) / np.maximum(m.sum(1), 1e-300)  # one mean receive cost per step
    any_sent = np.where(sent > 0, sent, 1.0)
    share = m / any_sent[:, ps]  # each pair's share of its source's messages

    # per message in flight: each (source, link)'s load, each pair's route load L_p and k_p = L_p / (h_p + 1)
    load = share / (hops + 2.0)
    route_load = (load @ cp.of_source)[:, ps] + np.asarray((load @ cp.on_links) @ cp.on_links.T)
    k = route_load / (hops + 1.0)
    interval = c[:, None] * ((share * k) @ cp.of_source)  # a: the steady interval under congestion
    g_each = np.where(sent > 0, generation / any_sent, 0.0)
    grows = interval > g_each
    growth = np.where(grows, 1.0 - g_each / np.where(grows, interval, 1.0), 0.0)
    t_idx, p_idx = np.nonzero(m > 0)
    k_max = np.zeros_like(sent)
    np.maximum.at(k_max, (t_idx, ps[p_idx]), k[t_idx, p_idx])
    cap = mesh.link_buffer_messages / np.where(k_max > 0, k_max, np.inf)  # messages in flight at the buffers' capacity
    in_flight = np.minimum(sent * growth, cap)
    # each destination takes a source's first message as it comes (its queue starts empty), so that
    # one never waits in flight: what matters when a few heavy messages go to few cores
    in_flight = np.minimum(in_flight, np.maximum(sent - np.minimum(m, 1.0) @ cp.of_source, 0.0))
    before_cap = np.where(grows, np.minimum(sent, cap / np.where(grows, growth, 1.0)), sent)
    send_end = np.where(grows, before_cap * g_each + (sent - before_cap) * interval, generation)
    delay = in_flight[:, ps] * k * c[:, None]  # each pair's last message's network delay

    s_of = ps[p_idx]
    start = cp.hop_ns[p_idx]
    end = send_end[t_idx, s_of] + np.maximum(start, delay[t_idx, p_idx])
    served = fifo_finish(
        t_idx * n_cores + pd[p_idx], start, end - start, m[t_idx, p_idx], cost.ravel(), arriving.ravel()
    )
    served = np.where(np.isfinite(served), served, 0.0).reshape(steps, n_cores).max(1)
    return np.maximum(send_end[:, :n_cores].max(1), served)
