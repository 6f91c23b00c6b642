"""The mapping row: check the netlist -> partition -> place -> verify every core.

``map_network`` is what the compiler calls; its ``Mapping`` carries the per-core usage and a
JSON-ready summary for the bundle manifest and the report.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neuromotif.hw_models.chip import ChipSpec
from neuromotif.hw_models.drc import check_mapping
from neuromotif.hw_models.netlist import Netlist
from neuromotif.hw_models.partition import partition
from neuromotif.hw_models.placement import Placement, chip_grid, place, tile_index, total_hop_traffic
from neuromotif.hw_models.resources import CoreSlice, CoreUsage, all_core_usage, core_index


@dataclass
class Mapping:
    chip: ChipSpec
    placement: Placement
    usage: list[CoreUsage]

    @property
    def cores(self):
        return self.placement.cores

    def neuron_core(self, net: Netlist) -> dict[str, np.ndarray]:
        return core_index(net, self.cores)

    def summary(self, net: Netlist) -> dict:
        limits = self.chip.core
        per_core = []
        for cid, (core, use) in enumerate(zip(self.cores, self.usage, strict=True)):
            row = {
                "core": cid,
                "chip": int(self.placement.chip_of[cid]),
                "x": int(self.placement.router_xy[cid, 0]),
                "y": int(self.placement.router_xy[cid, 1]),
                "population": core.population,
                "start": core.start,
                "stop": core.stop,
                **use.as_dict(),
            }
            per_core.append(row)
        totals = {
            k: int(sum(getattr(u, k) for u in self.usage))
            for k in ("compartments", "synapses", "synapse_bits", "input_axons", "output_axons")
        }
        return {
            "chip": self.chip.name,
            "cores": len(self.cores),
            "chips": self.placement.n_chips,
            "tiles": self.placement.n_tiles,
            "totals": totals,
            "limits": {k: v for k, v in vars(limits).items()},
            "expected_hop_traffic_per_step": total_hop_traffic(net, self.placement),
            "per_core": per_core,
        }


def map_network(net: Netlist, chip: ChipSpec, motif_aware: bool = True, traffic_swaps: bool = True) -> Mapping:
    """Partition, place and verify; raises ``DesignRuleError`` with a fix when it cannot fit."""
    return place_cores(net, partition(net, chip, motif_aware=motif_aware), chip, motif_aware, traffic_swaps)


def place_cores(
    net: Netlist, cores: list[CoreSlice], chip: ChipSpec, motif_aware: bool = True, traffic_swaps: bool = True
) -> Mapping:
    """Place and verify cores already cut (``partition``, or a pass that re-cuts them)."""
    placement = place(net, cores, chip, order="serpentine" if motif_aware else "row-major", swaps=traffic_swaps)
    usage = all_core_usage(net, cores, chip)
    check_mapping(net, cores, usage, chip)
    return Mapping(chip, placement, usage)


def mapping_from_summary(summary: dict, chip: ChipSpec) -> Mapping:
    """Rebuild a ``Mapping`` from ``Mapping.summary`` (as stored in a bundle manifest)."""
    from neuromotif.hw_models.resources import CoreSlice

    rows = summary["per_core"]
    cores = [CoreSlice(r["population"], r["start"], r["stop"]) for r in rows]
    chip_of = np.array([r["chip"] for r in rows], np.int64)
    router_xy = np.array([[r["x"], r["y"]] for r in rows], np.int64).reshape(-1, 2)
    fields = CoreUsage.__dataclass_fields__
    usage = [CoreUsage(**{k: int(r[k]) for k in fields}) for r in rows]
    placement = Placement(
        cores, chip_of, router_xy, chip_grid(int(summary["chips"])), tile_index(chip, chip_of, router_xy)
    )
    return Mapping(chip, placement, usage)
