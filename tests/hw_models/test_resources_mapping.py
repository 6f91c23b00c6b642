"""Resource counts by hand, partitions that always pass the checker, and every design rule."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from neuromotif.hw_models import DesignRuleError, load_chip
from neuromotif.hw_models.drc import check_mapping
from neuromotif.hw_models.mapper import map_network
from neuromotif.hw_models.netlist import Netlist, NetPopulation, NetProjection
from neuromotif.hw_models.partition import partition
from neuromotif.hw_models.resources import CoreSlice, all_core_usage, axon_bits, core_usage, list_bits, output_axons
from neuromotif.hw_models.synthetic_netlists import scml_net
from tests.hw_models.chips import tiny_chip


def test_list_encoding_by_hand():
    enc = load_chip("loihi1").synapses  # 64-bit words, lists of <= 64, 10-bit header, 10-bit index
    # sparse 8-bit synapse = 8 + 10 index bits = 18
    assert list_bits(np.array([1]), 18, enc)[0] == 64  # 18 + 10 = 28 -> one word
    assert list_bits(np.array([64]), 18, enc)[0] == 1216  # 64*18 + 10 = 1162 -> 19 words
    assert list_bits(np.array([65]), 18, enc)[0] == 1216 + 64  # a second list of one
    assert list_bits(np.array([0]), 18, enc)[0] == 0
    # dense 8-bit: 64*8 + 10 = 522 -> 9 words; cheaper than sparse for a full span
    assert axon_bits(np.array([64]), np.array([64]), 8, enc)[0] == 576
    # ~55 k sparse or ~116 k dense synapses fill 128 KB (docs/hardware.md)
    assert 1_048_576 // (1216 / 64) == pytest.approx(55_188, abs=1)
    assert 1_048_576 // (576 / 64) == pytest.approx(116_508, abs=1)


def _hand_net(post_size=4, with_out=False):
    w_in = sp.csr_matrix(np.array([[1, 1, 0], [1, 0, 0], [0, 0, 0], [0, 0, 1]]))  # h0<-in0,in1; h1<-in0; h3<-in2
    w_rec = sp.csr_matrix((np.ones(2), ([1, 3], [0, 2])), shape=(4, 4))  # h1<-h0; h3<-h2
    pops = [NetPopulation("in", 3, is_input=True), NetPopulation("h", post_size)]
    projs = [NetProjection("in->h", "in", "h", w_in), NetProjection("h->h", "h", "h", w_rec)]
    if with_out:
        pops.append(NetPopulation("out", 1))
        projs.append(NetProjection("h->out", "h", "out"))
    return Netlist(tuple(pops), tuple(projs))


def test_core_usage_by_hand():
    net, chip = _hand_net(), load_chip("loihi1")
    core = CoreSlice("h", 0, 4)
    use = core_usage(net, core, chip, output_axons=int(output_axons(net, [core])[0]))
    assert use.compartments == 4 and use.synapses == 6
    assert use.input_axons == 5  # in0, in1, in2 + h0, h2
    assert use.synapse_bits == 5 * 64  # every axon's list fits one 64-bit word
    assert use.output_axons == 2  # h0 -> core 0, h2 -> core 0
    assert use.compartment_profiles == 1 and use.threshold_profiles == 1


def test_output_axons_count_distinct_destination_cores():
    net = _hand_net(with_out=True)
    cores = [CoreSlice("h", 0, 2), CoreSlice("h", 2, 4), CoreSlice("out", 0, 1)]
    # h0 -> {core0 (h1), core2}, h1 -> {core2}, h2 -> {core1 (h3), core2}, h3 -> {core2}
    np.testing.assert_array_equal(output_axons(net, cores), [3, 3, 0])


@pytest.mark.parametrize("chip_name", ["loihi1", "loihi2", "tiny"])
@pytest.mark.parametrize("motif_aware", [True, False])
@pytest.mark.parametrize("n,m", [(256, 8), (2048, 16), (4096, 32)])
def test_partitions_always_pass_the_checker(chip_name, motif_aware, n, m):
    chip = (
        tiny_chip(mesh=(8, 8, 2), max_compartments=96, max_input_axons=4096)
        if chip_name == "tiny"
        else load_chip(chip_name)
    )
    net = scml_net(n, m, inputs=200, seed=n)
    cores = partition(net, chip, motif_aware=motif_aware)
    check_mapping(net, cores, all_core_usage(net, cores, chip), chip)  # raises on any violation
    if motif_aware:
        assert all(c.start % m == 0 and c.stop % m == 0 for c in cores if c.population == "scml0")
    assert cores == partition(net, chip, motif_aware=motif_aware)  # deterministic


def test_mapping_summary_and_placement_are_consistent():
    net, chip = scml_net(4096, 16), load_chip("loihi1")
    mapping = map_network(net, chip)
    s = mapping.summary(net)
    assert s["cores"] == len(s["per_core"]) and s["chips"] == 1
    assert s["totals"]["compartments"] == 4096 + 10
    slots = {(r["chip"], r["x"], r["y"]) for r in s["per_core"]}
    assert len(slots) * chip.mesh.cores_per_tile >= s["cores"]  # no router holds more cores than it has
    assert all(0 <= r["x"] < chip.mesh.tiles_x and 0 <= r["y"] < chip.mesh.tiles_y for r in s["per_core"])


def _one_pop(size, group=1, inputs=3, **pop_kw):
    return Netlist(
        (NetPopulation("in", inputs, is_input=True), NetPopulation("h", size, motif_size=group, **pop_kw)),
        (NetProjection("in->h", "in", "h"),),
    )


RULES = {
    "compartments": (
        lambda: tiny_chip(max_compartments=4),
        lambda: _one_pop(8, group=8),
        "compartments per core",
        "use motifs of at most 4 neurons",
    ),
    "synapse memory": (
        lambda: tiny_chip(synapse_memory_bits=64),
        lambda: _one_pop(1),
        "synapse memory per core",
        "reduce the fan-in of 'h'",
    ),
    "input axons": (
        lambda: tiny_chip(max_input_axons=2),
        lambda: _one_pop(1),
        "input axons per core",
        "fewer presynaptic neurons",
    ),
    "compartment profiles": (
        lambda: tiny_chip(compartment_profiles=2),
        lambda: _one_pop(4, group=4, compartment_profile=np.array([0, 1, 2, 0])),
        "compartment profiles per core",
        "at most 2 profiles",
    ),
    "threshold profiles": (
        lambda: tiny_chip(threshold_profiles=1),
        lambda: _one_pop(2, group=2, threshold_profile=np.array([0, 1])),
        "threshold profiles per core",
        "at most 1 distinct thresholds",
    ),
    "shared memory": (
        lambda: tiny_chip("loihi2", shared_memory_bits=100),
        lambda: _one_pop(1),
        "shared memory per core",
        "reduce the fan-in",
    ),
    "chips": (
        lambda: tiny_chip(mesh=(1, 1, 1), max_chips=1, max_compartments=2),
        lambda: _one_pop(6),
        "chips per system",
        "use fewer or smaller layers",
    ),
}


@pytest.mark.parametrize("rule", sorted(RULES))
def test_each_design_rule_triggers_with_an_actionable_message(rule):
    make_chip, make_net, name, fix = RULES[rule]
    with pytest.raises(DesignRuleError) as err:
        map_network(make_net(), make_chip())
    message = str(err.value)
    assert err.value.rule == name and fix in message and "needs" in message and "allowed" in message
    assert err.value.needed > err.value.allowed


def test_output_axon_rule_triggers():
    chip = tiny_chip(max_output_axons=1, max_compartments=1)
    net = Netlist(
        (NetPopulation("in", 1, is_input=True), NetPopulation("h", 1), NetPopulation("a", 1), NetPopulation("b", 1)),
        (NetProjection("in->h", "in", "h"), NetProjection("h->a", "h", "a"), NetProjection("h->b", "h", "b")),
    )
    with pytest.raises(DesignRuleError) as err:
        map_network(net, chip)  # h's one neuron must reach two cores
    assert err.value.rule == "output axons per core" and "fan-out of 'h'" in str(err.value)


def test_weight_bits_rule():
    net = Netlist(
        (NetPopulation("in", 2, is_input=True), NetPopulation("h", 2)),
        (NetProjection("in->h", "in", "h", weight_bits=9),),
    )
    with pytest.raises(DesignRuleError, match="quantize to at most 8-bit weights"):
        map_network(net, load_chip("loihi2"))


def test_motif_larger_than_a_core_names_the_layer():
    with pytest.raises(DesignRuleError) as err:
        map_network(scml_net(2048, 2048, inputs=4), load_chip("loihi1"))
    assert "one motif of population scml0" in str(err.value) and "1024" in str(err.value)


def test_a_dense_recurrent_layer_spread_over_many_cores_maps():
    """Each neuron of a dense recurrent layer on ~30 cores has ~30 output axons: the partitioner's
    reservation must reach the exact count (it used to creep up by one per refill and give up)."""
    net = Netlist(
        (NetPopulation("in", 200, is_input=True), NetPopulation("dense0", 2048), NetPopulation("out", 2)),
        (
            NetProjection("in->dense0", "in", "dense0"),
            NetProjection("dense0->dense0", "dense0", "dense0"),
            NetProjection("dense0->out", "dense0", "out"),
        ),
    )
    mapping = map_network(net, load_chip("loihi2"))  # raises a DesignRuleError if any core breaks a rule
    assert len(mapping.cores) > 20 and sum(c.size for c in mapping.cores) == 2050
