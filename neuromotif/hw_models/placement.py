"""Placement: cores -> chips and mesh positions, by expected spike traffic.

Cores arrive in partition order (population by population, neighbouring motifs on
consecutive cores), which is already a low-cut order for SC-ML's local traffic. Chips take
consecutive runs of cores (inter-chip cuts fall between runs, crossing the least local
traffic); inside a chip, cores follow a serpentine over the router mesh so consecutive
cores are neighbours; then a pairwise-swap pass moves cores to cut traffic x hops further.
Deterministic. ``order='row-major'`` with no swaps is the naive baseline.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from neuromotif.hw_models.chip import ChipSpec
from neuromotif.hw_models.netlist import Netlist
from neuromotif.hw_models.resources import CoreSlice, core_index, neuron_destinations

SWAP_SWEEPS = 2
HOST = -1  # pseudo core id of the host that injects input spikes (at chip 0, router (0, 0))


@dataclass
class Placement:
    """Where each core sits: chip id, router (x, y) inside the chip, and the chip's grid position."""

    cores: list[CoreSlice]
    chip_of: np.ndarray  # [cores]
    router_xy: np.ndarray  # [cores, 2]
    chip_xy: np.ndarray  # [chips, 2]
    tile_of: np.ndarray  # [cores] global tile (router) id, for the barrier and per-tile counts

    @property
    def n_chips(self) -> int:
        return len(self.chip_xy)

    @property
    def n_tiles(self) -> int:
        return len(np.unique(self.tile_of))

    def hops(self, src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(east-west hops, north-south hops, chip crossings) between cores; ``HOST`` = chip 0, (0, 0)."""
        src, dst = np.asarray(src), np.asarray(dst)
        sxy = np.where((src == HOST)[:, None], 0, self.router_xy[np.maximum(src, 0)])
        dxy = self.router_xy[dst]
        sc = np.where(src == HOST, 0, self.chip_of[np.maximum(src, 0)])
        cxy = np.abs(self.chip_xy[sc] - self.chip_xy[self.chip_of[dst]]).sum(1)
        return np.abs(sxy[:, 0] - dxy[:, 0]), np.abs(sxy[:, 1] - dxy[:, 1]), cxy


def chip_grid(n_chips: int) -> np.ndarray:
    """Chips on a square grid, row by row: (x, y) of each chip."""
    side = int(np.ceil(np.sqrt(max(n_chips, 1))))
    return np.array([(k % side, k // side) for k in range(n_chips)], np.int64).reshape(-1, 2)


def tile_index(chip: ChipSpec, chip_of: np.ndarray, router_xy: np.ndarray) -> np.ndarray:
    """Global router (tile) id of each core."""
    return chip_of * (chip.mesh.tiles_x * chip.mesh.tiles_y) + router_xy[:, 1] * chip.mesh.tiles_x + router_xy[:, 0]


def serpentine(mesh_x: int, mesh_y: int, cores_per_tile: int) -> np.ndarray:
    """Router (x, y) of each core slot in serpentine order: consecutive slots are neighbours."""
    slots = []
    for y in range(mesh_y):
        xs = range(mesh_x) if y % 2 == 0 else range(mesh_x - 1, -1, -1)
        for x in xs:
            slots += [(x, y)] * cores_per_tile
    return np.array(slots, np.int64)


def row_major(mesh_x: int, mesh_y: int, cores_per_tile: int) -> np.ndarray:
    return np.array([(x, y) for y in range(mesh_y) for x in range(mesh_x) for _ in range(cores_per_tile)], np.int64)


def core_traffic(net: Netlist, cores: list[CoreSlice]) -> sp.csr_matrix:
    """Expected spike messages per step from core a to core b (rates from the populations)."""
    index = core_index(net, cores)
    rows, cols, vals = [], [], []
    for pop in net.neuron_populations:
        pairs = neuron_destinations(net, cores, pop.name)
        rows.append(index[pop.name][pairs[:, 0]])
        cols.append(pairs[:, 1])
        vals.append(np.full(len(pairs), pop.rate))
    n = len(cores)
    if not rows:
        return sp.csr_matrix((n, n))
    return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))


def _swap_pass(traffic: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Greedy pairwise swaps of core positions that reduce sum(traffic x Manhattan distance)."""
    t = traffic + traffic.T
    pos = xy.copy()
    for _ in range(SWAP_SWEEPS):
        improved = False
        for i in range(len(pos)):
            d = np.abs(pos[:, None, :] - pos[None, :, :]).sum(-1)
            # cost change of swapping i with each j (the i-j pair keeps its distance)
            delta = (d @ t[i] - d[i] @ t[i]) + (t @ d[i] - (t * d).sum(1)) + 2 * t[i] * d[i]
            delta[i] = 0
            j = int(np.argmin(delta))
            if delta[j] < -1e-12:
                pos[[i, j]] = pos[[j, i]]
                improved = True
        if not improved:
            break
    return pos


def place(
    net: Netlist, cores: list[CoreSlice], chip: ChipSpec, order: str = "serpentine", swaps: bool = True
) -> Placement:
    per_chip = chip.cores_per_chip
    n = len(cores)
    n_chips = max(1, -(-n // per_chip))
    slots = (serpentine if order == "serpentine" else row_major)(
        chip.mesh.tiles_x, chip.mesh.tiles_y, chip.mesh.cores_per_tile
    )
    chip_of = np.arange(n) // per_chip
    router_xy = slots[np.arange(n) % per_chip].copy()
    if swaps and n > 1:
        traffic = core_traffic(net, cores)
        for c in range(n_chips):
            members = np.flatnonzero(chip_of == c)
            if len(members) > 2:
                local = traffic[members][:, members].toarray()
                router_xy[members] = _swap_pass(local, router_xy[members])
    return Placement(cores, chip_of, router_xy, chip_grid(n_chips), tile_index(chip, chip_of, router_xy))


def total_hop_traffic(net: Netlist, placement: Placement) -> float:
    """Sum over core pairs of expected spikes per step x hops (mesh hops + chip crossings)."""
    t = core_traffic(net, placement.cores).tocoo()
    ew, ns, chips = placement.hops(t.row, t.col)
    return float((t.data * (ew + ns + chips)).sum())
