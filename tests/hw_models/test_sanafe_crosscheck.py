"""Our cost and pipeline-timing models against SANA-FE 2.2.9 (an independent simulator of Loihi's
pipelines and mesh, GPL-3.0, installed by `make peers`), on the same bundle, placement and spikes."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from neuromotif.core.errors import InputError
from neuromotif.deploy.compile import bundle_netlist
from neuromotif.deploy.synthetic_bundles import lif, make_bundle, scml_bundle
from neuromotif.hw_models import load_chip
from neuromotif.hw_models.chip import with_core_limit
from neuromotif.hw_models.mapper import map_network

pytest.importorskip("sanafe", reason="make peers installs sanafe")
from neuromotif import sanafe_crosscheck as sc  # noqa: E402


def _placement(bundle, per_core: int):
    return map_network(bundle_netlist(bundle), with_core_limit(load_chip("loihi1"), per_core)).placement


def test_sanafe_and_our_fixed_point_spike_alike_when_the_current_keeps_no_fraction(tmp_path):
    """SANA-FE keeps u as an exact float where Loihi truncates it every step; with du = 0 nothing
    is truncated, so v's decay (truncated alike), biases, thresholds, reset and the weight
    exponents must give the same spikes on both, neuron for neuron."""
    rng = np.random.default_rng(3)
    n_in, n_h, n_o = 20, 60, 6

    def weights(post, pre, density):
        return 2 * rng.integers(-40, 48, (post, pre)) * (rng.random((post, pre)) < density)

    h = lif(
        "h",
        n_h,
        0,
        rng.integers(100, 4000, n_h),
        vth=300,
        bias_mant=rng.integers(-200, 200, n_h),
        bias_exp=rng.integers(0, 3, n_h),
    )
    o = lif("out", n_o, 0, 600, vth=300)
    bundle = make_bundle(
        tmp_path / "b",
        n_in,
        [h, o],
        [
            ("input", "h", weights(n_h, n_in, 0.4), 1),
            ("h", "h", weights(n_h, n_h, 0.2), 0),
            ("h", "out", weights(n_o, n_h, 0.4), 1),
        ],
    )
    x = (rng.random((40, n_in)) < 0.15).astype(np.float32)
    r = sc.crosscheck(bundle, _placement(bundle, 16), x)
    assert r["dynamics"]["our_spikes"] > 50, "a quiet network proves nothing"
    assert r["dynamics"]["spike_mismatches"] == 0
    assert r["events"]["neuron updates"]["equal"]


def test_events_energy_and_step_time_agree_on_a_multi_tile_placement(tmp_path):
    bundle = scml_bundle(tmp_path / "b", 256)
    placement = _placement(bundle, 64)
    assert len(placement.cores) == 5 and placement.n_tiles == 2
    x = (np.random.default_rng(0).random((30, bundle.input.size)) < 0.1).astype(np.float32)
    r = sc.crosscheck(bundle, placement, x)
    assert r["events_equal"], r["events"]
    assert r["events"]["hops"]["ours"] > 0 and r["events"]["messages"]["ours"] > r["events"]["spikes h"]["ours"]
    for part, row in r["energy_J"].items():
        assert row["ratio"] == pytest.approx(1.0, abs=1e-3), part
    assert 0.9 <= r["time"]["pipeline_ratio"] <= 1.1
    assert len(r["per_step_s"]["sanafe"]) == len(r["per_step_s"]["ours_pipeline"]) == 30
    assert "SANA-FE cross-check: 30 steps, 5 cores on 2 tiles" in sc.render(r)
    assert r["moved_for_host"] == 3 and "core 3 moved off tile 0" in sc.render(r)


@pytest.mark.parametrize(
    ("readout", "vth", "rec_low"),
    [("one core", 10000, -64), ("high fan-in", 30, 0)],
)
def test_step_time_holds_on_65_cores_where_queues_and_flow_control_set_it(tmp_path, readout, vth, rec_low):
    """4,096 neurons on 65 cores. One-core readout, ~4 % active: the host's input spikes, fanned
    out to every core, flood the mesh (flow control sets the step: the earlier model, slowest core
    + busiest link, gave x0.735 of SANA-FE). High-fan-in readout, ~97 % active: the readout's
    queue from 64 cores sets it (x1.111 before)."""
    bundle = scml_bundle(tmp_path / "b", 4096, vth=vth, rec_low=rec_low, p_out=0.0 if readout == "one core" else 0.3)
    placement = _placement(bundle, 64)
    x = (np.random.default_rng(0).random((30, bundle.input.size)) < 0.1).astype(np.float32)
    r = sc.crosscheck(bundle, placement, x)
    assert r["cores"] == 65 and r["events_equal"], r["events"]
    assert 0.9 <= r["time"]["pipeline_ratio"] <= 1.1, r["time"]
    per_step = np.asarray(r["per_step_s"]["ours_pipeline"]) / np.asarray(r["per_step_s"]["sanafe"])
    assert 0.9 <= np.median(per_step) <= 1.1


def test_the_split_the_compiler_keeps_shortens_sanafe_step_too(tmp_path):
    """The bottleneck pass halves the readout fed by every hidden core (17 cores, ~97 % active):
    SANA-FE, which prices nothing for us, sees the same gain (ours x0.70, SANA-FE x0.70 when
    written)."""
    from neuromotif.deploy.backends import make_backend
    from neuromotif.hw_models.bottleneck import split_bottlenecks
    from neuromotif.hw_models.cost import Activity, energy_latency

    bundle = scml_bundle(tmp_path / "b", 1024, vth=30, rec_low=0, p_out=0.3)
    net, loihi1 = bundle_netlist(bundle), load_chip("loihi1")
    before = map_network(net, with_core_limit(loihi1, 64))
    xs = (np.random.default_rng(1).random((4, 30, bundle.input.size)) < 0.1).astype(np.float32)
    run = make_backend("cpu", bundle).run(xs, activity=True)
    activity = Activity(run.activity_spikes, run.activity_active, 4)
    price = lambda placement: energy_latency(net, placement, loihi1, activity, "sana_fe", "pipeline")  # noqa: E731
    after, record = split_bottlenecks(net, before, before.chip, price, max_cores=len(before.cores) + 1)
    assert record["splits"][0]["cores_split"] == "out 0-10"
    x = (np.random.default_rng(0).random((30, bundle.input.size)) < 0.1).astype(np.float32)
    t0, t1 = (sc.crosscheck(bundle, m.placement, x)["time"] for m in (before, after))
    ours, theirs = t1["ours_pipeline_s"] / t0["ours_pipeline_s"], t1["sanafe_s"] / t0["sanafe_s"]
    assert theirs < 0.8 and ours == pytest.approx(theirs, abs=0.05)


def test_a_full_tile_0_gives_up_its_last_core_to_the_nearest_free_slot(tmp_path):
    """SANA-FE's input neurons need a core of their own on tile 0 (our host is a source of its
    own): with tile 0 full, its last core moves to the free slot nearest to router (0, 0);
    with room on tile 0, nothing moves."""
    full = _placement(scml_bundle(tmp_path / "a", 256), 64)  # 5 cores: 4 on tile 0, 1 on the next
    assert ((full.router_xy == 0).all(1)).sum() == 4
    moved, core = sc.with_host_core(full)
    assert core == 3
    assert ((moved.router_xy == 0).all(1)).sum() == 3
    assert tuple(moved.router_xy[3]) == tuple(full.router_xy[4]) == (1, 0)  # the nearest tile with room
    assert moved.tile_of[3] == moved.tile_of[4] and moved.n_tiles == 2
    np.testing.assert_array_equal(np.delete(moved.router_xy, 3, 0), np.delete(full.router_xy, 3, 0))
    roomy = _placement(scml_bundle(tmp_path / "b", 128), 64)  # 3 cores, all on tile 0
    assert sc.with_host_core(roomy) == (roomy, None)


def test_what_sanafe_cannot_model_is_refused_with_the_reason(tmp_path, monkeypatch):
    bundle = scml_bundle(tmp_path / "b", 64, inputs=8)
    placement = _placement(bundle, 16)
    placement.chip_of[-1] = 1
    placement.chip_xy = np.array([[0, 0], [1, 0]])
    with pytest.raises(InputError, match="placed on 2 chips"):
        sc.crosscheck(bundle, placement, np.zeros((5, 8), np.float32))
    monkeypatch.setitem(sys.modules, "sanafe", None)
    with pytest.raises(InputError, match=r"pip install 'neuromotif\[sanafe\]'"):
        sc.crosscheck(bundle, _placement(bundle, 16), np.zeros((5, 8), np.float32))
