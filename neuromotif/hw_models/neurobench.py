"""NeuroBench's static and workload metrics of a deployed network, by their definitions.

NeuroBench (Yik et al., Nature Communications 2025) compares neuromorphic solutions by a fixed
set of metrics; its package computes them on ``torch.nn`` layers, which our deployed networks are
not (a bundle is integer populations and sparse projections), so they are computed here from the
netlist and a backend's activity, as NeuroBench defines them:

- **footprint**: bytes the network's parameters take as deployed: every synapse's weight at its
  stored width, sign included (the projection's ``weight_bits``, else Loihi's 8), and per neuron the
  chip's du, dv (12 bits each) and bias (13-bit mantissa + 3-bit exponent); per population one
  17-bit threshold. (NeuroBench counts a torch model's parameter and buffer bytes.)
- **connection sparsity**: the fraction of zero entries in all weight matrices, each matrix taken
  as pre x post.
- **activation sparsity**: the fraction of zero outputs over every neuron (inputs excluded) and
  step, averaged over the samples.
- **synaptic operations** per inference: ``effective_acs``, one accumulate per spike and
  synapse it reaches (the inputs are spikes, so there are no effective MACs); ``dense``, what a
  dense execution would do, every matrix entry every step.
- **membrane updates** per inference: every neuron every step (NeuroBench's count); beside it
  ``active_updates``, the updates the chip actually performs (a neuron whose u, v and input are
  all zero is skipped).
"""

from __future__ import annotations

import math

import numpy as np

from neuromotif.hw_models.cost import Activity
from neuromotif.hw_models.netlist import Netlist

DEFAULT_WEIGHT_BITS = 8
DECAY_BITS = 12
BIAS_BITS = 13 + 3
THRESHOLD_BITS = 17


def neurobench_metrics(net: Netlist, activity: Activity) -> dict:
    """NeuroBench's metrics for ``net`` from ``activity`` (summed over ``activity.samples``)."""
    pops = {p.name: p for p in net.populations}
    offsets = net.offsets()
    steps = activity.spikes.shape[0]
    neurons = net.neuron_populations
    n_neurons = sum(p.size for p in neurons)
    weight_bits = 0
    entries = 0
    synapses = 0
    effective_acs = 0.0
    for proj in net.projections:
        pre, post = pops[proj.pre], pops[proj.post]
        entries += pre.size * post.size
        csc = net.csc(proj)
        fan_out = np.full(pre.size, post.size) if csc is None else np.diff(csc.indptr)
        count = int(fan_out.sum())
        synapses += count
        weight_bits += count * (proj.weight_bits or DEFAULT_WEIGHT_BITS)
        start = offsets[proj.pre]
        effective_acs += float(activity.spikes[:, start : start + pre.size].sum(0) @ fan_out)
    neuron_bits = n_neurons * (2 * DECAY_BITS + BIAS_BITS) + len(neurons) * THRESHOLD_BITS
    spikes = sum(float(activity.spikes[:, offsets[p.name] : offsets[p.name] + p.size].sum()) for p in neurons)
    active = sum(float(activity.active[:, offsets[p.name] : offsets[p.name] + p.size].sum()) for p in neurons)
    per = activity.samples
    return {
        "footprint_bytes": math.ceil((weight_bits + neuron_bits) / 8),
        "connection_sparsity": 1.0 - synapses / entries if entries else 0.0,
        "activation_sparsity": 1.0 - spikes / (per * n_neurons * steps) if n_neurons else 0.0,
        "synaptic_operations": {
            "effective_acs": effective_acs / per,
            "effective_macs": 0.0,
            "dense": float(entries * steps),
        },
        "membrane_updates": float(n_neurons * steps),
        "active_updates": active / per,
        "definitions": "NeuroBench (Yik et al. 2025), computed from the deployed network: docs/energy.md",
    }
