"""Pipeline timing: each step as the chip runs it, from the recorded activity and the placement.

A Loihi core runs two pipelines at once (SANA-FE models them the same way):
  synaptic   messages in (``message_in_ns`` each) and their synaptic events (``synop``);
  neuron     neuron updates (active / inactive), spikes out and messages out.
A step ends when every core has generated its messages and every message has been served
(``congestion.message_finish_ns``: sources emit over their neuron pipeline, a source that floods
the mesh is held back by flow control, destinations serve their queues first come, first served),
then the barrier (the cost table's per-tile-count ``barrier_table_ns``; linear min..max when a
table has none). Components per step: compute (the slowest core's longer pipeline), network (the
rest of the step before the barrier: transit, congestion, waiting for messages) and the barrier;
each step's critical path names the larger component and, for compute, the core and pipeline.
Counts are per average inference (the run's sums divided by its samples), as in the analytic
model (``cost.energy_latency``), which adds every operation of the busiest core in sequence.
Also per step, for the report: the busiest directed link's messages (dimension-order x-then-y
routes; chip-to-chip links likewise) and its occupancy at one hop time per message.

Vectorised over steps, links and core pairs: a 10^5-neuron, 100-step run takes seconds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from neuromotif.hw_models.chip import CostTable, MeshSpec
from neuromotif.hw_models.congestion import message_finish_ns
from neuromotif.hw_models.placement import HOST, Placement

if TYPE_CHECKING:
    from neuromotif.hw_models.cost import CoreCounts, RouteTable

EAST, WEST, NORTH, SOUTH = range(4)
DIRECTIONS = 4  # outgoing links per router
STEP_CHUNK = 16  # at least this many steps per sparse product
CHUNK_ENTRIES = 1 << 22  # at most ~this many [links, steps] entries per product (bounds memory)


def _runs(start: np.ndarray, stop: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each route i the positions start_i, start_i ± 1, ... before stop_i: (route, position, direction)."""
    length = np.abs(stop - start)
    route = np.repeat(np.arange(len(start)), length)
    first = np.repeat(np.cumsum(length) - length, length)
    step = np.arange(length.sum()) - first
    sign = np.repeat(np.sign(stop - start), length)
    pos = np.repeat(start, length) + sign * step
    return route, pos, sign


def link_incidence(
    placement: Placement, sources: np.ndarray, destinations: np.ndarray, mesh_x: int, mesh_y: int
) -> tuple[sp.csr_matrix, np.ndarray]:
    """Routes (source core or ``HOST``, destination core) x directed links, and each link's kind
    (0 east-west mesh, 1 north-south mesh, 2 chip-to-chip). Mesh links are those of the source
    chip's mesh (as ``Placement.hops`` counts them); chip links follow the chip grid, x then y."""
    src = np.asarray(sources)
    dst = np.asarray(destinations)
    host = src == HOST
    sxy = np.where(host[:, None], 0, placement.router_xy[np.maximum(src, 0)])
    dxy = placement.router_xy[dst]
    s_chip = np.where(host, 0, placement.chip_of[np.maximum(src, 0)])
    d_chip = placement.chip_of[dst]
    per_chip = mesh_x * mesh_y * DIRECTIONS
    rows, cols = [], []
    # x first along the source row, then y along the destination column
    r, x, sign = _runs(sxy[:, 0], dxy[:, 0])
    left = np.where(sign > 0, x, x - 1)
    rows.append(r)
    cols.append(s_chip[r] * per_chip + (sxy[r, 1] * mesh_x + left) * DIRECTIONS + np.where(sign > 0, EAST, WEST))
    r, y, sign = _runs(sxy[:, 1], dxy[:, 1])
    low = np.where(sign > 0, y, y - 1)
    rows.append(r)
    cols.append(s_chip[r] * per_chip + (low * mesh_x + dxy[r, 0]) * DIRECTIONS + np.where(sign > 0, NORTH, SOUTH))
    n_mesh = placement.n_chips * per_chip
    grid = placement.chip_xy
    side = int(grid[:, 0].max(initial=0)) + 1
    cxy_s, cxy_d = grid[s_chip], grid[d_chip]
    r, cx, sign = _runs(cxy_s[:, 0], cxy_d[:, 0])
    rows.append(r)
    cols.append(
        n_mesh + ((cxy_s[r, 1] * side + np.where(sign > 0, cx, cx - 1)) * DIRECTIONS + np.where(sign > 0, EAST, WEST))
    )
    r, cy, sign = _runs(cxy_s[:, 1], cxy_d[:, 1])
    rows.append(r)
    cols.append(
        n_mesh + ((np.where(sign > 0, cy, cy - 1) * side + cxy_d[r, 0]) * DIRECTIONS + np.where(sign > 0, NORTH, SOUTH))
    )
    n_links = n_mesh + (int(grid[:, 1].max(initial=0)) + 1) * side * DIRECTIONS
    row, col = np.concatenate(rows), np.concatenate(cols)
    inc = sp.csr_matrix((np.ones(len(row)), (row, col)), shape=(len(src), n_links))
    kind = np.full(n_links, 2)
    mesh_dir = np.arange(n_mesh) % DIRECTIONS
    kind[:n_mesh] = np.where(mesh_dir < 2, 0, 1)
    return inc, kind


def core_pipelines_ns(table: CostTable, counts: CoreCounts, samples: int) -> tuple[np.ndarray, np.ndarray]:
    """Per step and core ``[T, cores]``, per sample: the synaptic pipeline's time (messages in and
    synaptic operations) and the neuron pipeline's (updates, spikes out, messages out)."""
    per = 1.0 / samples
    synaptic = per * (counts.messages_in * table.message_in_ns + counts.synops * table.synop.time_ns)
    neuron = per * (
        counts.active * table.neuron_active.time_ns
        + counts.inactive * table.neuron_inactive.time_ns
        + counts.spikes * table.spike_out.time_ns
        + counts.messages_out * table.message_out.time_ns
    )
    return synaptic, neuron


def pipeline_timing(
    placement: Placement,
    table: CostTable,
    counts: CoreCounts,
    routes: RouteTable,
    spikes: np.ndarray,
    samples: int,
    mesh: MeshSpec,
) -> dict:
    """Per step: slowest core (longer of its two pipelines), network (until the last message is
    served, beyond the slowest core), barrier (table); per core busy time; the critical path of
    every step; the busiest link's load (``link_ns``: its occupancy, or the longest route)."""
    per = 1.0 / samples
    synaptic, neuron = core_pipelines_ns(table, counts, samples)
    core_ns = np.maximum(synaptic, neuron)
    steps, n_cores = core_ns.shape
    compute = core_ns.max(1) if n_cores else np.zeros(steps)
    bound_core = core_ns.argmax(1) if n_cores else np.zeros(steps, int)
    bound_pipeline = np.where(
        synaptic[np.arange(steps), bound_core] >= neuron[np.arange(steps), bound_core], "synaptic", "neuron"
    )

    g, dst = routes.destinations[:, 0], routes.destinations[:, 1]
    if routes.links is None:  # fixed by the placement: built once per route table, stored link-major
        inc, kind = link_incidence(placement, routes.neuron_core[g], dst, mesh.tiles_x, mesh.tiles_y)
        routes.links = (inc.T.tocsr(), kind)
    by_link, kind = routes.links  # [links, routes]
    hop_ns = np.array([table.hop_ew.time_ns, table.hop_ns.time_ns, table.chip_hop.time_ns])[kind]
    link_busy = np.zeros(steps)
    max_load = 0.0
    spikes = np.asarray(spikes, np.float64)
    # steps per sparse product: all at once unless [links, steps] would be large
    chunk = max(STEP_CHUNK, CHUNK_ENTRIES // max(by_link.shape[0], 1))
    for t0 in range(0, steps, chunk):
        load = per * (by_link @ spikes[t0 : t0 + chunk, g].T)  # [links, chunk] messages per link
        if load.shape[0]:
            busy = load * hop_ns[:, None]
            link_busy[t0 : t0 + chunk] = busy.max(0)
            max_load = max(max_load, float(load.max()))
    route_ns = np.where(spikes > 0, routes.longest_ns[None, :], 0.0).max(1) if spikes.size else np.zeros(steps)
    link_ns = np.maximum(link_busy, route_ns)
    finish = message_finish_ns(placement, table, routes, spikes, samples, mesh, synaptic, neuron)
    network = np.maximum(finish - compute, 0.0)
    barrier = table.barrier_ns(placement.n_tiles, placement.n_chips, table=True)
    step_ns = compute + network + barrier
    parts = np.stack([compute, network, np.full(steps, barrier)], 1)
    names = np.array(["compute", "network", "barrier"])
    bound = names[parts.argmax(1)] if steps else np.array([], str)
    critical = [
        {"bound": str(b), "core": int(c), "pipeline": str(p)}
        for b, c, p in zip(bound, bound_core, bound_pipeline, strict=True)
    ]
    compute_steps = bound == "compute"
    cores_bounding, times = np.unique(bound_core[compute_steps], return_counts=True)
    top = int(cores_bounding[times.argmax()]) if len(times) else None
    return {
        "per_step_ns": step_ns.tolist(),
        "components_ns": {"compute": compute.tolist(), "network": network.tolist(), "barrier": barrier},
        "link_ns": link_ns.tolist(),
        "breakdown_ns": {
            "compute": float(compute.sum()),
            "network": float(network.sum()),
            "barrier": float(barrier * steps),
        },
        "per_core_busy_ns": core_ns.mean(0).tolist() if steps else [],
        "per_core_pipelines_ns": {
            "synaptic": synaptic.mean(0).tolist() if steps else [],
            "neuron": neuron.mean(0).tolist() if steps else [],
        },
        "critical_path": critical,
        "summary": {
            "steps_bound_by": {str(n): int((bound == n).sum()) for n in names},
            "bounding_core": top,
            "bounding_core_steps": int(times.max()) if len(times) else 0,
            "bounding_pipeline": (
                str(bound_pipeline[compute_steps & (bound_core == top)][0]) if top is not None else None
            ),
            "max_link_messages_per_step": max_load,
            "barrier_ns": barrier,
        },
    }
