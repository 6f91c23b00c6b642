"""When each step's last spike message has been served: source cores emitting their messages,
the mesh slowing a source that floods it, destination cores serving their queues.

Why a model of its own: at scale the step is not the slowest core plus the busiest link. A core
that sends hundreds of messages per step (the host's input spikes, fanned out to every core)
fills the links it shares, and the chip's flow control then holds its later messages back; a
core that receives from many (a high-fan-in readout) serves a long queue. SANA-FE's detailed
scheduler models both with a congestion heuristic; this is that heuristic solved per step in
closed form, vectorised over steps and core pairs (docs/energy.md, "How a step is timed"):

- Each message costs its destination its own receive time: ``message_in_ns`` plus its synaptic
  events there (an input spike reaching a whole motif costs more than a hidden spike reaching a
  few neurons), per (source core, destination core) pair.
- Each source s emits its M messages one generation delay g apart (its neuron pipeline's time
  over M; the host: ``message_out`` each). A message in flight loads every link of its route
  (the source core's output link and each hop) by 1 / (hops + 2); the route's summed load D times
  the mean receive cost c of the messages in flight, over hops + 1, is its network delay.
- Per message in flight, pair p's route carries L_p; its delay grows by c L_p / (h_p + 1) =: c k_p.
  Little's law gives the steady interval a = c * sum_p share_p k_p: if a > g the messages in
  flight grow by 1 - g / a per message sent, until the route with the highest k_p reaches the
  link buffers' capacity ((hops + 1) x ``link_buffer_messages``); from then on flow control paces
  the source (first pass: at a, with c the step's mean receive cost).
- A source's first message to each destination finds its queue empty and leaves flight at once:
  never more in flight than its messages less one per destination.
- Each destination serves its messages first come, first served, each pair's arriving evenly
  from its hop time to its last arrival (``fifo_finish``).
- Second pass, for each source held at the buffers: SANA-FE's c is the mean over what is in
  flight *now*, and a message stays in flight until its destination starts it. So while the
  source is paced, c(t) mixes its own N_cap messages at its own cost with the other sources'
  messages still in flight (rate x lifetime: c B / 4 in the network plus half the destination's
  drain time), and a message that waits behind other sources' traffic at a busy destination
  holds its buffer slot that long: the source sends one message per
  max(g, c(t) sum_p share_p k_p, sum_p share_p backlog_p(t) / N_cap), walked in time from when
  it reached the buffers until its last message is out. The queues are then served again.

Step = max(every core's generation, every queue's finish) + barrier (``timing.pipeline_timing``).
``benchmarks/bench_sanafe.py`` checks it against SANA-FE on a 40-case grid.
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

LIFETIME_BUFFERS = 0.25  # a message's typical time in the network, in c x link_buffer_messages
WAIT_SHARE = 0.5  # a queued message's mean wait: this share of its destination's drain time
WAIT_POINTS = 16  # a paced source's destinations' backlog is read at this many times, from when its
# buffers fill until its destinations have served everything in the first pass (none is left after)
RANK_BATCH_ENTRIES = 16384  # fifo entries per batch of paced (step, source)s in the second pass


def _running_sum(x: np.ndarray, first: np.ndarray) -> np.ndarray:
    """Per element: x summed over its group so far, itself included; groups run contiguously and
    ``first`` marks where each starts."""
    head = np.maximum.accumulate(np.where(first, np.arange(len(x)), 0))
    c = np.cumsum(x)
    return c - c[head] + x[head]


def _arrivals(
    queue: np.ndarray,
    start: np.ndarray,
    span: np.ndarray,
    work: np.ndarray,
    unit: np.ndarray,
    probe_queue: np.ndarray,
    probe_time: np.ndarray,
) -> tuple[np.ndarray, ...]:
    """The arrival events of every queue, sorted by queue then time: entry j brings ``work[j]``
    evenly over [start_j, start_j + span_j] (at once when span_j = 0), probes read the queue.
    Returns per event: time, queue, work arrived before it, the work left at an entry's end (one
    message's, ``unit``), whether it opens its queue, and its probe index (-1: not a probe)."""
    k = np.asarray(work, np.float64)
    n, n_probe = len(k), len(probe_time)
    spread = span > 0
    rate = np.where(spread, k / np.where(spread, span, 1.0), 0.0)
    t = np.concatenate([start, start + span, probe_time])
    q = np.concatenate([queue, queue, probe_queue])
    slope_change = np.concatenate([rate, -rate, np.zeros(n_probe)])
    jump = np.concatenate([np.where(spread, 0.0, k), np.zeros(n + n_probe)])
    last = np.concatenate([np.zeros(n), np.minimum(k, unit), np.zeros(n_probe)])
    probe = np.concatenate([np.full(2 * n, -1), np.arange(n_probe)])
    order = np.lexsort((t, q))
    t, q, slope_change, jump, last, probe = (x[order] for x in (t, q, slope_change, jump, last, probe))
    first = np.r_[True, q[1:] != q[:-1]] if len(t) else np.zeros(0, bool)
    slope = _running_sum(slope_change, first) - slope_change  # over the queue's earlier events
    dt = np.where(first, 0.0, t - np.r_[t[:1], t[:-1]])
    arrived = _running_sum(slope * dt, first) + _running_sum(jump, first) - jump
    return t, q, arrived, last, first, probe


def fifo_finish(
    queue: np.ndarray, start: np.ndarray, span: np.ndarray, work: np.ndarray, unit: np.ndarray, total: np.ndarray
) -> np.ndarray:
    """Per queue q (``total[q]``: all the work it receives, ns): when its last message is served.
    Entry j delivers ``work[j]`` ns of messages, ``unit[j]`` each, to queue ``queue[j]`` evenly over
    [start_j, start_j + span_j] (all at start_j when span_j = 0); the queue serves first come, first
    served. finish = max over breakpoints s of s + work not arrived before s, at least each entry's
    last arrival plus one of its messages. -inf for a queue with no entries."""
    none = np.zeros(0)
    t, q, arrived, last, _, _ = _arrivals(queue, start, span, work, unit, none.astype(int), none)
    out = np.full(len(total), -np.inf)
    np.maximum.at(out, q, t + np.maximum(total[q] - arrived, last))
    return out


def backlog_ns(
    queue: np.ndarray,
    start: np.ndarray,
    span: np.ndarray,
    work: np.ndarray,
    probe_queue: np.ndarray,
    probe_time: np.ndarray,
) -> np.ndarray:
    """Per probe: the work (ns) that has reached queue ``probe_queue`` by ``probe_time`` and not
    been started, the queue serving its arrivals (``fifo_finish``'s entries) from empty:
    Q(t) = A(t) - t - min over s <= t of (A(s) - s), A the work arrived by s."""
    t, q, arrived, _, first, probe = _arrivals(queue, start, span, work, np.zeros(len(work)), probe_queue, probe_time)
    out = np.zeros(len(probe_time))
    if not len(t):
        return out
    v = arrived - t
    group = np.cumsum(first) - 1
    lift = (group.max() + 1 - group) * (2.0 * np.abs(v).max() + 1.0)  # each later queue starts below the last
    running_min = np.minimum.accumulate(v + lift) - lift  # per queue: min over its events so far
    at = probe >= 0
    out[probe[at]] = np.maximum(v[at] - running_min[at], 0.0)
    return out


@dataclass(frozen=True)
class CorePairs:
    """What the placement fixes for the queues: the distinct (source core, destination core) pairs
    spikes travel (the host is source ``cores``), each neuron's pairs and the synapses its spike
    reaches there, their hops and links."""

    source: np.ndarray  # [pairs] source core (``cores``: the host)
    dest: np.ndarray  # [pairs]
    hop_ns: np.ndarray  # [pairs] route time without congestion
    hops: np.ndarray  # [pairs] links after the source core's output link
    of_neuron: sp.csr_matrix  # [neurons, pairs] 1 where a neuron's spikes travel the pair
    synapses: sp.csr_matrix  # [neurons, pairs] the synapses a neuron's spike reaches at the pair's destination
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
        shape = (len(routes.neuron_core), n)
        reached = np.asarray(routes.synapses.tocsr()[dst, g]).ravel()
        return cls(
            source=ps,
            dest=pd,
            hop_ns=ew * table.hop_ew.time_ns + ns * table.hop_ns.time_ns + chips * table.chip_hop.time_ns,
            hops=(ew + ns + chips).astype(np.float64),
            of_neuron=sp.csr_matrix((np.ones(len(g)), (g, pid)), shape=shape),
            synapses=sp.csr_matrix((reached, (g, pid)), shape=shape),
            of_source=sp.csr_matrix((np.ones(n), (np.arange(n), ps)), shape=(n, n_cores + 1)),
            of_dest=sp.csr_matrix((np.ones(n), (np.arange(n), pd)), shape=(n, n_cores)),
            on_links=sp.csr_matrix((np.ones(len(cid)), (inc.row, cid)), shape=(n, len(combo))),
        )


@dataclass(frozen=True)
class _Traffic:
    """One run's messages per step and pair, what each costs its destination, and what each
    source's congestion looks like (first pass: the step's mean receive cost c)."""

    m: np.ndarray  # [T, pairs] messages
    work: np.ndarray  # [T, pairs] their receive time at the destination (ns)
    unit: np.ndarray  # [T, pairs] one message's receive time
    received: np.ndarray  # [T, cores] each destination's receive time (its synaptic pipeline)
    sent: np.ndarray  # [T, sources] messages
    g: np.ndarray  # [T, sources] generation delay per message
    generation: np.ndarray  # [T, sources]
    c: np.ndarray  # [T] mean receive cost over all messages
    own_cost: np.ndarray  # [T, sources] mean receive cost of each source's messages
    share: np.ndarray  # [T, pairs] each pair's share of its source's messages
    k: np.ndarray  # [T, pairs] network delay added per message in flight, over c
    steady: np.ndarray  # [T, sources] sum_p share_p k_p: the steady interval over c
    cap: np.ndarray  # [T, sources] messages in flight when the tightest route's buffers are full


def _traffic(
    cp: CorePairs,
    table: CostTable,
    spikes: np.ndarray,
    samples: int,
    mesh: MeshSpec,
    synaptic: np.ndarray,
    neuron: np.ndarray,
) -> _Traffic:
    n_cores = synaptic.shape[1]
    ps, pd, hops = cp.source, cp.dest, cp.hops
    x = np.asarray(spikes, np.float64).T
    m = np.asarray((cp.of_neuron.T @ x).T) / samples  # [T, pairs]
    synops = np.asarray((cp.synapses.T @ x).T) / samples
    work = m * table.message_in_ns + synops * table.synop.time_ns
    # each destination's pairs add up to its synaptic pipeline (the same counts, kept exact)
    total = work @ cp.of_dest
    work = work * np.where(total > 0, synaptic / np.where(total > 0, total, 1.0), 0.0)[:, pd]
    unit = np.where(m > 0, work / np.where(m > 0, m, 1.0), 0.0)
    sent = m @ cp.of_source  # [T, sources]
    generation = np.concatenate([neuron, (sent[:, n_cores] * table.message_out.time_ns)[:, None]], 1)
    any_sent = np.where(sent > 0, sent, 1.0)
    share = m / any_sent[:, ps]
    # per message in flight: each (source, link)'s load, each pair's route load L_p and k_p = L_p / (h_p + 1)
    load = share / (hops + 2.0)
    route_load = (load @ cp.of_source)[:, ps] + np.asarray((load @ cp.on_links) @ cp.on_links.T)
    k = route_load / (hops + 1.0)
    t_idx, p_idx = np.nonzero(m > 0)
    k_max = np.zeros_like(sent)
    np.maximum.at(k_max, (t_idx, ps[p_idx]), k[t_idx, p_idx])
    return _Traffic(
        m=m,
        work=work,
        unit=unit,
        received=np.asarray(work @ cp.of_dest),
        sent=sent,
        g=np.where(sent > 0, generation / any_sent, 0.0),
        generation=generation,
        c=work.sum(1) / np.maximum(m.sum(1), 1e-300),
        own_cost=(work @ cp.of_source) / any_sent,
        share=share,
        k=k,
        steady=(share * k) @ cp.of_source,
        cap=mesh.link_buffer_messages / np.where(k_max > 0, k_max, np.inf),
    )


@dataclass(frozen=True)
class _Sending:
    """The first pass: when each source's last message leaves, its messages in flight then, when
    its buffers filled (``full_at``; its send end where they never did) and the pairs' last delay."""

    end: np.ndarray  # [T, sources]
    in_flight: np.ndarray  # [T, sources]
    full_at: np.ndarray  # [T, sources]
    before_full: np.ndarray  # [T, sources] messages sent by then
    paced: np.ndarray  # [T, sources] bool: held at the buffers before its last message
    delay: np.ndarray  # [T, pairs] each pair's last message's network delay


def _send(cp: CorePairs, tr: _Traffic) -> _Sending:
    interval = tr.c[:, None] * tr.steady  # a: the steady interval under congestion
    grows = interval > tr.g
    growth = np.where(grows, 1.0 - tr.g / np.where(grows, interval, 1.0), 0.0)
    in_flight = np.minimum(tr.sent * growth, tr.cap)
    # each destination takes a source's first message as it comes (its queue starts empty), so that
    # one never waits in flight: what matters when a few heavy messages go to few cores
    in_flight = np.minimum(in_flight, np.maximum(tr.sent - np.minimum(tr.m, 1.0) @ cp.of_source, 0.0))
    before_cap = np.where(grows, np.minimum(tr.sent, tr.cap / np.where(grows, growth, 1.0)), tr.sent)
    end = np.where(grows, before_cap * tr.g + (tr.sent - before_cap) * interval, tr.generation)
    return _Sending(
        end=end,
        in_flight=in_flight,
        full_at=np.where(grows, before_cap * tr.g, end),
        before_full=before_cap,
        paced=grows & (before_cap < tr.sent),
        delay=in_flight[:, cp.source] * tr.k * tr.c[:, None],
    )


@dataclass(frozen=True)
class _Queues:
    finish: np.ndarray  # [T, cores] when each destination has served its last message (0: none)
    last_arrival: np.ndarray  # [T, cores]
    entries: tuple[np.ndarray, ...]  # fifo entries: (queue, start, span, work), queue = step * cores + core
    step: np.ndarray  # [entries] step of each entry, ascending
    pair: np.ndarray  # [entries] pair of each entry


def _serve(cp: CorePairs, tr: _Traffic, end: np.ndarray, delay: np.ndarray) -> _Queues:
    steps, n_cores = tr.m.shape[0], end.shape[1] - 1
    t_idx, p_idx = np.nonzero(tr.m > 0)
    start = cp.hop_ns[p_idx]
    last = end[t_idx, cp.source[p_idx]] + np.maximum(start, delay[t_idx, p_idx])
    queue = t_idx * n_cores + cp.dest[p_idx]
    work = tr.work[t_idx, p_idx]
    served = fifo_finish(queue, start, last - start, work, tr.unit[t_idx, p_idx], tr.received.ravel())
    last_arrival = np.zeros(steps * n_cores)
    np.maximum.at(last_arrival, queue, last)
    return _Queues(
        finish=np.where(np.isfinite(served), served, 0.0).reshape(steps, n_cores),
        last_arrival=last_arrival.reshape(steps, n_cores),
        entries=(queue, start, last - start, work),
        step=t_idx,
        pair=p_idx,
    )


def _paced_end(cp: CorePairs, tr: _Traffic, mesh: MeshSpec, first: _Sending, queues: _Queues) -> np.ndarray:
    """The second pass: for each source held at its buffers, when its last message leaves, paced
    by what is in flight while it sends (module docstring). Other sources keep their first-pass
    times; only a paced source's own time is walked. Each paced (step, source) is a "rank"."""
    ps, pd = cp.source, cp.dest
    n_cores = first.end.shape[1] - 1
    end = first.end.copy()
    paced_t, paced_s = np.nonzero(first.paced)
    if not len(paced_t):
        return end
    # every pair's messages in flight (rate x lifetime) and until when, at their own cost
    drain = np.maximum(queues.finish - queues.last_arrival, 0.0)
    lifetime = LIFETIME_BUFFERS * mesh.link_buffer_messages * tr.c[:, None] + WAIT_SHARE * drain[:, pd]
    send_end = first.end[:, ps]
    weight = np.where(tr.m > 0, tr.m * lifetime / np.maximum(send_end, 1e-9), 0.0)
    gone = send_end + lifetime
    # each rank's time grid: from its buffers filling until its destinations are done in the first pass
    busy_until = np.zeros((len(tr.m), n_cores + 1))
    np.maximum.at(busy_until, (queues.step, ps[queues.pair]), queues.finish[queues.step, pd[queues.pair]])
    full = first.full_at[paced_t, paced_s]
    span = np.maximum(busy_until[paced_t, paced_s] - full, 1.0)
    grid = full[:, None] + np.linspace(0.0, 1.0, WAIT_POINTS + 1) * span[:, None]
    # each rank's step's fifo entries (one per pair with messages), its own and the others'
    step_at = np.searchsorted(queues.step, np.arange(len(tr.m) + 1))  # entries run step by step
    counts = step_at[paced_t + 1] - step_at[paced_t]
    rank = np.repeat(np.arange(len(paced_t)), counts)
    offset = np.repeat(step_at[paced_t] - (np.cumsum(counts) - counts), counts)
    entry = np.arange(counts.sum()) + offset  # each rank's step's entries, rank after rank
    pair = queues.pair[entry]
    own = ps[pair] == paced_s[rank]
    # a few thousand entries per batch of ranks: one sort over every rank at once runs slower
    batch = (np.cumsum(counts) // RANK_BATCH_ENTRIES)[rank]
    for part in np.unique(batch):
        mine, others = np.nonzero(own & (batch == part))[0], np.nonzero(~own & (batch == part))[0]
        waits = _waits(tr, queues, grid, paced_t, n_cores, rank, entry, pair, mine, others)
        o_rank, o_pair, o_t = rank[others], pair[others], paced_t[rank[others]]
        ranks = np.unique(rank[np.r_[mine, others]])
        others_in_flight = (o_rank, gone[o_t, o_pair], weight[o_t, o_pair], tr.unit[o_t, o_pair])
        end[paced_t[ranks], paced_s[ranks]] = _walk(
            tr, first, (paced_t, paced_s), (full, span, grid, waits), ranks, others_in_flight
        )
    return end


def _waits(
    tr: _Traffic,
    queues: _Queues,
    grid: np.ndarray,
    paced_t: np.ndarray,
    n_cores: int,
    rank: np.ndarray,
    entry: np.ndarray,
    pair: np.ndarray,
    mine: np.ndarray,
    others: np.ndarray,
) -> np.ndarray:
    """Per rank and grid point: the backlog the other sources' messages leave at the rank's
    destinations, weighted by its share of messages to each (a message waits behind it)."""
    points = grid.shape[1]
    queue = rank * n_cores + queues.entries[0][entry] % n_cores  # one queue per rank and destination
    _, start, width, work = queues.entries
    backlog = backlog_ns(
        queue[others],
        start[entry[others]],
        width[entry[others]],
        work[entry[others]],
        np.repeat(queue[mine], points),
        grid[rank[mine]].ravel(),
    ).reshape(-1, points)
    waits = np.zeros_like(grid)
    np.add.at(waits, rank[mine], tr.share[paced_t[rank[mine]], pair[mine]][:, None] * backlog)
    return waits


def _walk(
    tr: _Traffic,
    first: _Sending,
    paced: tuple[np.ndarray, np.ndarray],
    timeline: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    ranks: np.ndarray,
    others_in_flight: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
) -> np.ndarray:
    """When each of ``ranks``' last message leaves: walked over segments between its buffers
    filling, the grid and the other pairs' gone times, one message per
    max(g, c(t) x steady, wait(t) / N_cap) on each. ``paced``: every rank's (step, source);
    ``timeline``: when its buffers fill, its grid's span, the grid and the waits on it;
    ``others_in_flight``: the other pairs of those ranks (rank, gone time, weight, cost)."""
    paced_t, paced_s = paced
    full, span, grid, waits = timeline
    o_rank, o_gone, o_w, o_cost = others_in_flight
    n = len(full)
    # segment bounds per rank; the other pairs carry their weight, counted gone from their time on
    points = grid.shape[1]
    b_rank = np.concatenate([ranks, np.repeat(ranks, points), o_rank])
    b_at = np.concatenate([full[ranks], grid[ranks].ravel(), np.maximum(o_gone, full[o_rank])])
    b_w = np.concatenate([np.zeros(len(ranks) * (points + 1)), o_w])
    b_wc = np.concatenate([np.zeros(len(ranks) * (points + 1)), o_w * o_cost])
    order = np.lexsort((b_at, b_rank))
    b_rank, b_at, b_w, b_wc = b_rank[order], b_at[order], b_w[order], b_wc[order]
    first_of_rank = np.r_[True, b_rank[1:] != b_rank[:-1]]
    gone_w, gone_wc = _running_sum(b_w, first_of_rank), _running_sum(b_wc, first_of_rank)
    last_here = np.r_[(b_rank[1:] != b_rank[:-1]) | (b_at[1:] > b_at[:-1]), True]  # one bound per time
    b_rank, b_at, gone_w, gone_wc = b_rank[last_here], b_at[last_here], gone_w[last_here], gone_wc[last_here]
    last_of_rank = np.r_[b_rank[1:] != b_rank[:-1], True]
    seg_first = np.r_[True, b_rank[1:] != b_rank[:-1]]
    seg_end = np.where(last_of_rank, np.inf, np.r_[b_at[1:], np.inf])
    mid = np.where(last_of_rank, b_at, 0.5 * (b_at + seg_end))
    t, s = paced_t[b_rank], paced_s[b_rank]
    n_cap = np.maximum(tr.cap[t, s], 1.0)
    in_flight_w = np.bincount(o_rank, o_w, n)[b_rank] - gone_w
    in_flight_wc = np.bincount(o_rank, o_w * o_cost, n)[b_rank] - gone_wc
    cost_now = (in_flight_wc + n_cap * tr.own_cost[t, s]) / (in_flight_w + n_cap)
    position = (mid - full[b_rank]) / span[b_rank] * (points - 1)  # on the rank's grid
    k = np.minimum(np.floor(position).astype(int), points - 2)
    frac = position - k
    wait = np.where(position < points - 1, waits[b_rank, k] * (1 - frac) + waits[b_rank, k + 1] * frac, 0.0)
    interval = np.maximum.reduce([tr.g[t, s], cost_now * tr.steady[t, s], wait / n_cap])
    # messages out by each segment's end, per rank (a rank's last segment never ends)
    out = _running_sum(np.where(last_of_rank, 0.0, (seg_end - b_at) / interval), seg_first)
    sent_by = np.where(last_of_rank, np.inf, out)
    remaining = (tr.sent - first.before_full)[paced_t[ranks], paced_s[ranks]]
    short = sent_by < np.repeat(remaining, np.bincount(b_rank, minlength=n)[ranks])  # ends before the last is out
    j = np.searchsorted(b_rank, ranks) + np.bincount(b_rank, short, n)[ranks].astype(int)
    before = np.where(seg_first[j], 0.0, np.r_[0.0, sent_by][j])
    return b_at[j] + (remaining - before) * interval[j]


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
    tr = _traffic(cp, table, spikes, samples, mesh, synaptic, neuron)
    first = _send(cp, tr)
    queues = _serve(cp, tr, first.end, first.delay)
    if first.paced.any():
        end = _paced_end(cp, tr, mesh, first, queues)
        queues = _serve(cp, tr, end, first.delay)
    else:
        end = first.end
    return np.maximum(end[:, :n_cores].max(1), queues.finish.max(1))
