"""Pipeline timing against hand computation: overlapped pipelines, message queues, the busiest
link, the barrier table."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from neuromotif.hw_models.chip import ChipSpecError, chip_from_dict
from neuromotif.hw_models.cost import Activity, energy_latency
from neuromotif.hw_models.mapper import map_network
from neuromotif.hw_models.netlist import Netlist, NetPopulation, NetProjection
from tests.hw_models.chips import chip_dict, tiny_chip


def test_two_core_pipelines_overlap_by_hand():
    net = Netlist(
        (NetPopulation("in", 2, is_input=True), NetPopulation("a", 2), NetPopulation("b", 1)),
        (NetProjection("in->a", "in", "a"), NetProjection("a->b", "a", "b")),
    )
    chip = tiny_chip(mesh=(2, 1, 1), max_compartments=2)
    mapping = map_network(net, chip)
    spikes = np.array([[1, 1, 0, 0, 0], [0, 1, 1, 0, 1]], float)  # in0 in1 a0 a1 b0
    active = np.array([[0, 0, 1, 1, 0], [0, 0, 1, 0, 1]], float)
    r = energy_latency(net, mapping.placement, chip, Activity(spikes, active), timing="pipeline")
    p = r["latency"]["pipeline"]
    # step 0, core 0: synaptic 4 synops x 1 = 4 ns, neuron 2 active x 2 = 4 ns -> 4 (the analytic model adds: 8)
    #         core 1: synaptic 0, neuron 1 inactive x 1 = 1. No link used (host -> core 0 is 0 hops). Barrier 20.
    # step 1, core 0: synaptic 2 synops = 2; neuron 1 active x 2 + 1 inactive x 1 + 1 message x 1 = 4 -> 4
    #         a0 -> core 1, one east hop (4 ns): its message leaves when core 0's neuron pipeline
    #         ends (4), arrives at 8, core 1 serves it (1 synop, 1 ns) by 9: network 9 - 4 = 5
    assert p["per_step_ns"] == pytest.approx([24.0, 29.0])
    assert r["latency"]["per_inference_s"] == pytest.approx(53e-9)
    assert r["energy"]["breakdown"]["static"] == pytest.approx(0.001 * 53e-9)  # static power over the pipeline time
    assert p["critical_path"] == [
        {"bound": "barrier", "core": 0, "pipeline": "synaptic"},
        {"bound": "barrier", "core": 0, "pipeline": "neuron"},
    ]
    assert p["components_ns"]["network"] == pytest.approx([0.0, 5.0])
    assert p["link_ns"] == pytest.approx([0.0, 4.0])  # the one message on the east link: the route's 4 ns
    assert p["per_core_pipelines_ns"]["synaptic"] == pytest.approx([3.0, 0.5])
    assert sum(r["latency"]["breakdown_s"].values()) == pytest.approx(r["latency"]["per_inference_s"])
    analytic = energy_latency(net, mapping.placement, chip, Activity(spikes, active))
    assert analytic["latency"]["per_step_s"] == pytest.approx([28e-9, 30e-9])  # unchanged by the new model


def test_messages_queue_at_their_destination_and_load_their_link():
    """Three neurons on core 0 fire together to core 1, one hop east (all-to-all onto 3 neurons).
    Core 0's neuron pipeline: 3 inactive x 1 + 3 messages x 1 = 6 ns, a message every 2 ns from
    0 to 6, each arriving 4 ns later (4 to 10). Core 1 serves each in 3 synops x 1 = 3 ns, slower
    than they come: from the first arrival 4 + 3 x 3 = 13 (the last arrival, 10, + 3 is the same).
    Compute: core 1's synaptic pipeline, 9; network 13 - 9 = 4; barrier 20 (step 0: each core's
    3 inactive updates, 3 ns, + 20). The link carries
    3 messages in that step, 3 x 4 ns = 12 ns of occupancy (reported, not added)."""
    net = Netlist(
        (NetPopulation("in", 1, is_input=True), NetPopulation("a", 3), NetPopulation("b", 3)),
        (NetProjection("in->a", "in", "a"), NetProjection("a->b", "a", "b")),
    )
    chip = tiny_chip(mesh=(2, 1, 1), max_compartments=3)
    mapping = map_network(net, chip)
    spikes = np.zeros((2, 7))
    spikes[1, 1:4] = 1  # a0, a1, a2 at step 1
    r = energy_latency(net, mapping.placement, chip, Activity(spikes, np.zeros_like(spikes)), timing="pipeline")
    p = r["latency"]["pipeline"]
    assert p["per_step_ns"] == pytest.approx([23.0, 33.0])
    assert p["components_ns"]["compute"] == pytest.approx([3.0, 9.0])
    assert p["components_ns"]["network"] == pytest.approx([0.0, 4.0])
    assert p["link_ns"] == pytest.approx([0.0, 12.0])
    assert p["summary"]["max_link_messages_per_step"] == 3
    doubled = r = energy_latency(
        net, mapping.placement, chip, Activity(2 * spikes, np.zeros_like(spikes), samples=2), timing="pipeline"
    )
    assert doubled["latency"]["pipeline"]["per_step_ns"] == pytest.approx([23.0, 33.0])  # per inference


def test_barrier_table_steps_and_bad_tables_are_refused():
    table = chip_from_dict(chip_dict("loihi1")).cost_table("sana_fe")
    got = [table.barrier_ns(t, 1, table=True) for t in (1, 2, 3, 4, 28, 29, 40)]
    assert got == [600, 1000, 1000, 1400, 1400, 1800, 1800]
    assert table.barrier_ns(3, 2, table=True) == 1000 + 1000  # plus the per-chip assumption
    assert table.barrier_ns(1, 1) == 600  # the analytic model keeps the linear figure
    for bad, why in (({"2": 10.0}, "starting at 1"), ({"1": 10.0, "4": 5.0}, "grow with the tile count")):
        d = copy.deepcopy(chip_dict("loihi1"))
        d["cost_tables"]["sana_fe"]["barrier_table_ns"] = bad
        with pytest.raises(ChipSpecError, match=why):
            chip_from_dict(d)
