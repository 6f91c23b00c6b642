"""Chip fixtures for tests: the shipped chips, and a tiny chip whose limits are easy to hit."""

from __future__ import annotations

import copy

import yaml

from neuromotif.hw_models.chip import CHIP_DIR, COST_CONSTANTS, ChipSpec, chip_from_dict

SIMPLE_COSTS = {
    "source": "test",
    "synop": {"energy_pj": 1, "time_ns": 1},
    "neuron_active": {"energy_pj": 10, "time_ns": 2},
    "neuron_inactive": {"energy_pj": 5, "time_ns": 1},
    "spike_out": {"energy_pj": 0, "time_ns": 0},
    "message_out": {"energy_pj": 2, "time_ns": 1},
    "message_in_ns": 0,
    "hop_ew": {"energy_pj": 3, "time_ns": 4},
    "hop_ns": {"energy_pj": 7, "time_ns": 7},
    "chip_hop": {"energy_pj": 100, "time_ns": 100},
    "barrier_ns_min": 10,
    "barrier_ns_max": 20,
    "barrier_tiles_max": 2,
    "chip_barrier_ns": 0,
    "static_w_per_chip": 0.001,
    "sources": dict.fromkeys(COST_CONSTANTS, "assumption"),
    "uncertainty": {"energy": [0.5, 2.0], "time": [0.25, 4.0], "static_w_per_chip": [0.0005, 0.003], "source": "test"},
}


def chip_dict(name: str = "loihi1") -> dict:
    return yaml.safe_load((CHIP_DIR / f"{name}.yaml").read_text())


def tiny_chip(base: str = "loihi1", mesh=(2, 1, 1), max_chips: int = 16, costs: dict | None = None, **core) -> ChipSpec:
    """``costs``: changes to ``SIMPLE_COSTS``."""
    d = copy.deepcopy(chip_dict(base))
    d["name"] = "tiny"
    d["max_chips"] = max_chips
    d["mesh"] = {"tiles_x": mesh[0], "tiles_y": mesh[1], "cores_per_tile": mesh[2]}
    d["core"].update(core)
    d["cost_tables"] = {"simple": {**SIMPLE_COSTS, **(costs or {})}}
    d["default_cost_table"] = "simple"
    return chip_from_dict(d, "tiny")
