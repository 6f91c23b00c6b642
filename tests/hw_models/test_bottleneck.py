"""The bottleneck-splitting placement pass (``hw_models/bottleneck.py``)."""

from __future__ import annotations

import numpy as np
import pytest

from neuromotif.deploy.backends import make_backend
from neuromotif.deploy.compile import bundle_netlist
from neuromotif.deploy.synthetic_bundles import scml_bundle
from neuromotif.hw_models import load_chip
from neuromotif.hw_models.bottleneck import MIN_GAIN, split_bottlenecks, split_lines
from neuromotif.hw_models.chip import with_core_limit
from neuromotif.hw_models.cost import Activity, energy_latency
from neuromotif.hw_models.mapper import map_network


@pytest.fixture(scope="module")
def readout_bound(tmp_path_factory):
    """1,024 neurons on 16 cores at ~97 % activity, a readout of 10 neurons on one core fed by
    every hidden core: its queue bounds every step."""
    bundle = scml_bundle(tmp_path_factory.mktemp("b") / "b", 1024, vth=30, rec_low=0, p_out=0.3)
    net, loihi1 = bundle_netlist(bundle), load_chip("loihi1")
    mapping = map_network(net, with_core_limit(loihi1, 64))
    xs = (np.random.default_rng(1).random((4, 30, bundle.input.size)) < 0.1).astype(np.float32)
    run = make_backend("cpu", bundle).run(xs, activity=True)
    activity = Activity(run.activity_spikes, run.activity_active, 4)

    def price(placement):
        return energy_latency(net, placement, loihi1, activity, "sana_fe", "pipeline")

    return net, mapping, price


def test_the_readout_fed_by_every_core_is_split_while_it_pays(readout_bound):
    net, mapping, price = readout_bound
    after, record = split_bottlenecks(net, mapping, mapping.chip, price)
    assert mapping.cores[record["before"]["bounding_core"]].population == "out"
    assert record["splits"][0]["cores_split"] == "out 0-10"
    latencies = [record["before"]["latency_s"]] + [s["latency_s"] for s in record["splits"]]
    assert all(b < a * (1 - MIN_GAIN) for a, b in zip(latencies, latencies[1:], strict=False))
    assert record["after"]["latency_s"] < 0.5 * record["before"]["latency_s"]
    assert len(after.cores) == record["after"]["cores"] > len(mapping.cores)
    assert [c for c in after.cores if c.population == "h"] == [c for c in mapping.cores if c.population == "h"]
    assert sorted((c.start, c.stop) for c in after.cores if c.population == "out")[0] == (0, 1)
    assert price(after.placement)["latency"]["per_inference_s"] == pytest.approx(record["after"]["latency_s"])
    assert record["stopped"].endswith("holds one motif")
    text = "\n".join(split_lines(record))
    assert "split out 0-10" in text and f"cores {len(mapping.cores)} -> {len(after.cores)}" in text


def test_max_cores_and_a_split_that_does_not_pay_stop_the_pass(readout_bound):
    net, mapping, price = readout_bound
    after, record = split_bottlenecks(net, mapping, mapping.chip, price, max_cores=len(mapping.cores) + 1)
    assert len(record["splits"]) == 1 and len(after.cores) == len(mapping.cores) + 1
    assert record["stopped"] == f"compile.max_cores ({len(mapping.cores) + 1}) reached"

    def flat(placement):  # every layout priced the same: no split pays
        result = price(placement)
        result["latency"]["per_inference_s"] = 1e-3
        return result

    same, record = split_bottlenecks(net, mapping, mapping.chip, flat)
    assert same is mapping and record["splits"] == []
    assert "would change the latency x1.000, not below x0.99" in record["stopped"]
