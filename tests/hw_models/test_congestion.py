"""The message-queue and flow-control step model (``congestion.py``) against hand computation."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from neuromotif.hw_models.congestion import backlog_ns, fifo_finish
from neuromotif.hw_models.cost import Activity, energy_latency
from neuromotif.hw_models.mapper import map_network
from neuromotif.hw_models.netlist import Netlist, NetPopulation, NetProjection
from tests.hw_models.chips import tiny_chip


def test_a_queue_serves_what_has_arrived_first_come_first_served():
    """Queue 0: 4 messages evenly over [0, 8], then 2 at once at 10, 3 ns each. The first four
    keep it busy until 12 (they come faster than it serves); at 10 it still has 2 ns of work,
    plus 2 x 3: 18. Queue 1: 2 messages over [5, 9] at 1 ns each, served as they come: the last
    arrives at 9 and is done at 10. Queue 2 gets nothing."""
    got = fifo_finish(
        queue=np.array([0, 0, 1]),
        start=np.array([0.0, 10.0, 5.0]),
        span=np.array([8.0, 0.0, 4.0]),
        work=np.array([12.0, 6.0, 2.0]),
        unit=np.array([3.0, 3.0, 1.0]),
        total=np.array([18.0, 2.0, 0.0]),
    )
    assert got[:2] == pytest.approx([18.0, 10.0])
    assert got[2] == -np.inf


def _flood(inputs: int, synop_ns: float = 1.0):
    """``inputs`` host inputs, all firing at step 1, onto 16 neurons on the 4 cores of one tile
    (0 hops from the host), all to all: 4 x ``inputs`` messages, 4 synops (4 x ``synop_ns``) each."""
    net = Netlist(
        (NetPopulation("in", inputs, is_input=True), NetPopulation("a", 16)),
        (NetProjection("in->a", "in", "a"),),
    )
    chip = tiny_chip(mesh=(1, 1, 4), max_compartments=4, costs={"synop": {"energy_pj": 1, "time_ns": synop_ns}})
    mapping = map_network(net, chip)
    spikes = np.zeros((2, inputs + 16))
    spikes[1, :inputs] = 1
    r = energy_latency(net, mapping.placement, chip, Activity(spikes, np.zeros_like(spikes)), timing="pipeline")
    return r["latency"]["pipeline"]


def test_a_source_that_floods_the_mesh_is_held_back_by_flow_control():
    """24 inputs fire: the host emits 96 messages, 1 ns apart (``message_out``). Each loads the
    host's output link (its whole 0-hop route) by 1 / (0 + 2): per message in flight the route
    carries 1/2, so each adds c / 2 = 2 ns to the network delay (c: 4 ns mean receive cost) and
    the source's steady interval is 2 ns, slower than 1 ns: messages in flight grow by 1 - 1/2
    per message sent until the route reaches the buffer (16 messages x (0 + 1)): 32 in flight,
    after 64 messages. The last 32 leave 2 ns apart: the last at 64 + 32 x 2 = 128, then
    32 x 1/2 x 4 = 64 ns in the network: 192. Each core's 24 messages (96 ns of work) trickle in
    over [0, 192], one per 8 ns, so the last is served at 192 + 4 = 196. Compute (each core's
    synaptic pipeline): 96; network 196 - 96 = 100; barrier (1 tile) 10."""
    p = _flood(24)
    assert p["components_ns"]["compute"] == pytest.approx([4.0, 96.0])
    assert p["per_step_ns"] == pytest.approx([14.0, 206.0])
    assert p["components_ns"]["network"] == pytest.approx([0.0, 100.0])


def test_a_source_below_the_buffer_capacity_only_spreads_its_arrivals():
    """8 inputs: 32 messages; in flight grow to 32 x 1/2 = 16, below the 32 the buffers hold, so
    the host sends at its own pace (1 ns, last at 32) and the last message's network delay is
    16 x 1/2 x 4 = 32 ns: arrivals over [0, 64], one per 8 ns per core; each core's 8 messages
    (32 ns of work) keep pace: the last is served at 64 + 4 = 68."""
    p = _flood(8)
    assert p["components_ns"]["compute"] == pytest.approx([4.0, 32.0])
    assert p["per_step_ns"] == pytest.approx([14.0, 78.0])


def test_a_few_heavy_messages_leave_flight_as_their_idle_destinations_take_them():
    """3 inputs, 400 ns per message (4 synops x 100 ns): the steady interval, 400 / 2 = 200 ns, is
    far above the host's 1 ns, so nearly every message sent would stay in flight (11.94 of 12) but
    each core takes the first of its 3 as it comes: 12 - 4 = 8 in flight at the last send (12 ns).
    Its delay: 8 x 1/2 x 400 = 1600 ns, so arrivals span [0, 1612] and each core's last message,
    its 1200 ns of work long done, is served by 1612 + 400 = 2012; barrier 10."""
    p = _flood(3, synop_ns=100.0)
    assert p["components_ns"]["compute"] == pytest.approx([4.0, 1200.0])
    assert p["per_step_ns"] == pytest.approx([14.0, 2022.0])


def test_backlog_is_what_has_arrived_and_not_been_started():
    """Queue 0 (served at 1 ns per ns of work): 12 ns of work evenly over [0, 8], then 6 ns at
    10. At 4: 6 arrived, 4 served, 2 waiting; at 8: 12 arrived, 8 served: 4; at 11 (busy since 0):
    18 - 11 = 7; at 30 it has drained. Queue 1: 2 ns over [5, 9] comes slower than it is served:
    nothing waits."""
    got = backlog_ns(
        queue=np.array([0, 0, 1]),
        start=np.array([0.0, 10.0, 5.0]),
        span=np.array([8.0, 0.0, 4.0]),
        work=np.array([12.0, 6.0, 2.0]),
        probe_queue=np.array([0, 0, 0, 0, 1]),
        probe_time=np.array([4.0, 8.0, 11.0, 30.0, 7.0]),
    )
    assert got == pytest.approx([2.0, 4.0, 7.0, 0.0, 0.0])


def test_a_source_held_at_the_buffers_pays_the_cost_of_what_is_in_flight_while_it_sends():
    """The host floods a tile's 4 cores (24 inputs: 96 messages, 4 synops = 4 ns each, 1 ns apart)
    while core b sends 16 cheap messages (1 synop each, 1.25 ns apart: its 4 updates and 16
    messages out). First pass, at the step's mean receive cost c = 400 / 112 ns: the host's steady
    interval is c / 2 = 1.786 ns, its messages in flight grow by 1 - 1 / 1.786 = 0.44 per message
    until the buffers hold 32 (after 72.73 messages). b's messages are long gone by then (sent by
    20 ns, in flight c x 16 / 4 = 14.29 ns plus half the 4 ns its destinations drain after their
    last arrival), so from 72.73 ns on only the host's 4 ns messages are in flight: it sends one
    per 4 / 2 = 2 ns, its last at 72.73 + 23.27 x 2 = 119.27 ns (114.29 at c). Its last message
    spends 32 x c / 2 = 57.14 ns in the network: each core's last is served at
    119.27 + 57.14 + 4 = 180.42; compute 100 (each core's 96 + 4 synops), barrier 10."""
    inputs = 24
    b_to_a = sp.csr_matrix((np.ones(16), (np.arange(16), np.tile(np.arange(4), 4))), shape=(16, 4))
    net = Netlist(
        (NetPopulation("in", inputs, is_input=True), NetPopulation("a", 16), NetPopulation("b", 4)),
        (NetProjection("in->a", "in", "a"), NetProjection("b->a", "b", "a", b_to_a)),
    )
    chip = tiny_chip(mesh=(1, 1, 8), max_compartments=4)
    mapping = map_network(net, chip)
    spikes = np.zeros((2, inputs + 20))
    spikes[1, :inputs] = 1
    spikes[1, inputs + 16 :] = 1
    r = energy_latency(net, mapping.placement, chip, Activity(spikes, np.zeros_like(spikes)), timing="pipeline")
    p = r["latency"]["pipeline"]
    assert p["components_ns"]["compute"][1] == pytest.approx(100.0)
    full = 32 / 0.44  # messages sent when the buffers fill, 1 ns apart
    assert p["per_step_ns"][1] == pytest.approx(full + (96 - full) * 2 + 32 * 0.5 * 400 / 112 + 4 + 10)


def test_a_paced_source_waits_behind_the_backlog_other_cores_leave_at_its_destination():
    """One core receives 10 µs of another core's messages at once (2,500 of 4 ns) while the host sends
    it 100 messages of 4 ns, 1 ns apart, each loading its route by 1/2 per message in flight: its
    buffers hold 32 after 64 messages. Every later host message queues behind the other core's
    backlog, 10^4 - t ns at time t, holding its buffer slot: the host sends one per
    (10^4 - t) / 32 ns (far above c / 2 = 2 ns), so n(t) = 32 ln(9936 / (10^4 - t)) messages by t
    and its other 36 are out at t = 10^4 - 9936 e^(-36/32) = 6774 ns (first pass: 64 + 36 x 2 = 136).
    The model walks that in 16 steps of the backlog: within 1 %."""
    from neuromotif.hw_models.chip import MeshSpec
    from neuromotif.hw_models.congestion import CorePairs, _paced_end, _Queues, _Sending, _Traffic

    def row(*values: float) -> np.ndarray:
        return np.array([values], dtype=float)

    none = sp.csr_matrix((1, 2))
    pairs = CorePairs(  # pair 0: core 0 to itself; pair 1: the host (source 1) to core 0
        source=np.array([0, 1]),
        dest=np.array([0, 0]),
        hop_ns=np.zeros(2),
        hops=np.zeros(2),
        of_neuron=none,
        synapses=none,
        of_source=sp.csr_matrix(np.eye(2)),
        of_dest=sp.csr_matrix(np.ones((2, 1))),
        on_links=sp.csr_matrix((2, 1)),
    )
    traffic = _Traffic(
        m=row(2500, 100),
        work=row(10000, 400),
        unit=row(4, 4),
        received=row(10400),
        sent=row(2500, 100),
        g=row(0.004, 1),
        generation=row(10, 100),
        c=np.array([4.0]),
        own_cost=row(4, 4),
        share=row(1, 1),
        k=row(0.5, 0.5),
        steady=row(0.5, 0.5),
        cap=row(32, 32),
    )
    first = _Sending(
        end=row(10, 136),
        in_flight=row(0, 32),
        full_at=row(10, 64),
        before_full=row(2500, 64),
        paced=np.array([[False, True]]),
        delay=row(0, 64),
    )
    queues = _Queues(  # the first pass: the backlog at 0, the host's 400 ns over [0, 200]; served by 10,400
        finish=row(10400),
        last_arrival=row(200),
        entries=(np.array([0, 0]), np.zeros(2), np.array([0.0, 200.0]), np.array([10000.0, 400.0])),
        step=np.array([0, 0]),
        pair=np.array([0, 1]),
    )
    end = _paced_end(pairs, traffic, MeshSpec(tiles_x=1, tiles_y=1, cores_per_tile=1), first, queues)
    assert end[0, 0] == 10.0  # not paced: as in the first pass
    assert end[0, 1] == pytest.approx(1e4 - 9936 * np.exp(-36 / 32), rel=0.01)
