"""Published Loihi measurements, re-run through our cost model to show where our numbers sit.

Blouw et al., "Benchmarking keyword spotting efficiency on neuromorphic hardware" (NICE 2019):
a 390 -> 256 -> 256 -> 29 dense network on Loihi 1 at 296 inferences per second and 0.27 mJ
per inference (measured).
"""

from __future__ import annotations

import numpy as np

from neuromotif.hw_models.chip import load_chip
from neuromotif.hw_models.cost import Activity, energy_latency
from neuromotif.hw_models.mapper import map_network
from neuromotif.hw_models.netlist import Netlist, NetPopulation, NetProjection

BLOUW_J_PER_INFERENCE = 0.27e-3  # measured on Loihi
BLOUW_INFERENCES_PER_S = 296  # measured throughput (the time an inference takes on the chip)


def blouw_kws(rate: float = 0.1) -> tuple[float, dict]:
    """Our model's energy per inference for Blouw's keyword spotter (all dense, Loihi 1).

    Stated activity: every neuron spikes with probability ``rate`` per step and every compartment
    does an active update. The inference lasts the measured 1/296 s; the number of steps is
    that time over the model's own step time, so dynamic energy, step time and static energy
    all come from the model."""
    net = Netlist(
        (
            NetPopulation("in", 390, is_input=True),
            NetPopulation("h1", 256),
            NetPopulation("h2", 256),
            NetPopulation("out", 29),
        ),
        (
            NetProjection("in->h1", "in", "h1"),
            NetProjection("h1->h2", "h1", "h2"),
            NetProjection("h2->out", "h2", "out"),
        ),
    )
    chip = load_chip("loihi1")
    mapping = map_network(net, chip)
    one_step = energy_latency(
        net, mapping.placement, chip, Activity(np.full((1, net.n_neurons), rate), np.ones((1, net.n_neurons)))
    )
    steps = (1 / BLOUW_INFERENCES_PER_S) / one_step["latency"]["per_inference_s"]
    dynamic = steps * sum(v for k, v in one_step["energy"]["breakdown"].items() if k != "static")
    static = chip.cost_table().static_w_per_chip * mapping.placement.n_chips / BLOUW_INFERENCES_PER_S
    return dynamic + static, {
        "steps": steps,
        "dynamic_J": dynamic,
        "static_J": static,
        "cores": len(mapping.cores),
        "measured_J": BLOUW_J_PER_INFERENCE,
    }
