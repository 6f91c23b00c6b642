"""SANA-FE (``sanafe`` on PyPI, GPL-3.0: an optional extra, imported only when this backend is
made, never vendored) as a backend: the bundle on SANA-FE's bundled Loihi 1 architecture.

The compiled network, its placement (from the bundle's manifest) and each input sample become
a SANA-FE network: its ``leaky_integrate_fire`` soma with ``input_decay = 1 - du/4096``,
``leak_decay = 1 - dv/4096``, ``threshold = vth`` mantissa, hard reset to 0, bias / 64 and
weights ``w * 2^exp`` as Lava keeps them; each input neuron replays its spike train from its
own ``loihi_inputs[i]`` unit on a tile-0 core, where our model's host enters the mesh.
SANA-FE keeps u as an exact float where Loihi truncates it every step, so its spikes can differ
from the chip's in a few entries. ``SimResult.extras["sanafe"]``: per sample, SANA-FE's event
counts, energy per component and time per step (``detailed`` timing).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from neuromotif.core.errors import InputError
from neuromotif.deploy.backends import SimResult, refuse_options
from neuromotif.hw_models import formats
from neuromotif.hw_models.chip import load_chip

MESH = load_chip("loihi1").mesh  # SANA-FE's loihi.yaml is Loihi 1's mesh, its tiles numbered column by column
INPUT_UNITS = 1024  # SANA-FE's loihi_inputs[0..1023]: one soma unit per input neuron
MAX_NEURONS_PER_CORE = 1024  # SANA-FE's loihi.yaml max_neurons_supported
V_FRACTION = 2**formats.STATE_SHIFT  # SANA-FE's v resolution is 1/64; Loihi scales weights and bias by 2^6


def require_sanafe():
    try:
        import sanafe
    except ImportError:
        raise InputError(
            "the SANA-FE cross-check needs the optional package sanafe: pip install 'neuromotif[sanafe]' (GPL-3.0)"
        ) from None
    return sanafe


def _check_fits(bundle, placement) -> None:
    if placement.n_chips != 1:
        raise InputError(
            f"the bundle is placed on {placement.n_chips} chips; SANA-FE's Loihi model is one chip: "
            "cross-check a network that fits one chip"
        )
    xy = placement.router_xy
    if len(xy) and (xy[:, 0].max() >= MESH.tiles_x or xy[:, 1].max() >= MESH.tiles_y):
        raise InputError(
            "the placement uses tiles outside Loihi 1's 8 x 4 mesh; compile with chip loihi1 "
            "to cross-check against SANA-FE"
        )
    if bundle.input.size > INPUT_UNITS:
        raise InputError(
            f"the bundle has {bundle.input.size} input neurons; SANA-FE's Loihi model has {INPUT_UNITS} input units"
        )


def _sanafe_cores(placement, inputs: int) -> tuple[list[tuple[int, int]], tuple[int, int]]:
    """(tile id, core in tile) of each of our cores, in order of appearance per router, and the
    core on tile 0 (where our host's spikes enter the mesh) that takes the input neurons: a free
    one, else the least-filled one with room."""
    slots: list[tuple[int, int]] = []
    used: dict[int, int] = {}
    fill: dict[tuple[int, int], int] = {}
    for (x, y), c in zip(placement.router_xy.tolist(), placement.cores, strict=True):
        tile = x * MESH.tiles_y + y
        slots.append((tile, used.get(tile, 0)))
        fill[slots[-1]] = c.size
        used[tile] = used.get(tile, 0) + 1
    if used.get(0, 0) < MESH.cores_per_tile:
        return slots, (0, used.get(0, 0))
    core = min(range(MESH.cores_per_tile), key=lambda k: fill[(0, k)])
    if fill[(0, core)] + inputs > MAX_NEURONS_PER_CORE:
        raise InputError(
            f"no core on tile 0 has room for the {inputs} input neurons (SANA-FE places inputs on a "
            "core): compile with a lower compile.neurons_per_core"
        )
    return slots, (0, core)


def sanafe_network(bundle, placement, x: np.ndarray):
    """SANA-FE architecture and network for one sample ``x [steps, inputs]``."""
    sanafe = require_sanafe()
    arch = sanafe.load_loihi()
    net = sanafe.Network()
    slots, input_slot = _sanafe_cores(placement, bundle.input.size)
    core_of = lambda slot: arch.tiles[slot[0]].cores[slot[1]]  # noqa: E731
    groups = {}
    inp = bundle.input
    groups[inp.name] = net.create_neuron_group(inp.name, inp.size, {})
    for i, neuron in enumerate(groups[inp.name].neurons):
        neuron.set_attributes(
            soma_hw_name=f"loihi_inputs[{i}]",
            log_spikes=True,
            default_synapse_hw_name="loihi_sparse_synapse",
            model_attributes={"spikes": [bool(v) for v in x[:, i]]},
        )
        neuron.map_to_core(core_of(input_slot))
    where = {}
    for k, c in enumerate(placement.cores):
        for i in range(c.start, c.stop):
            where[(c.population, i)] = slots[k]
    for p in bundle.neuron_populations:
        groups[p.name] = net.create_neuron_group(p.name, p.size, {})
        for i, neuron in enumerate(groups[p.name].neurons):
            neuron.set_attributes(
                soma_hw_name="loihi_lif",
                log_spikes=True,
                default_synapse_hw_name="loihi_sparse_synapse",
                model_attributes={
                    "threshold": float(p.vth),
                    "reset": 0.0,
                    "reset_mode": "hard",
                    "leak_decay": 1.0 - float(p.dv[i]) / formats.DECAY_ONE,
                    "input_decay": 1.0 - float(p.du[i]) / formats.DECAY_ONE,
                    "bias": float(p.bias_mant[i]) * 2.0 ** float(p.bias_exp[i]) / V_FRACTION,
                },
            )
            neuron.map_to_core(core_of(where[(p.name, i)]))
    for j in bundle.projections:
        coo = j.kept_weights(bundle.numeric.weight_bits).tocoo()
        groups[j.pre].connect_neurons_sparse(
            groups[j.post],
            {"weight": (coo.data * 2.0**j.weight_exp).tolist()},
            list(zip(coo.col.tolist(), coo.row.tolist(), strict=True)),
        )
    return arch, net


def run_sanafe(bundle, placement, x: np.ndarray) -> dict[str, Any]:
    """Simulate one sample on SANA-FE (detailed timing): events, energy, time per step."""
    sanafe = require_sanafe()
    t0 = time.perf_counter()
    arch, net = sanafe_network(bundle, placement, x)
    chip = sanafe.SpikingChip(arch)
    chip.load(net)
    steps = x.shape[0]
    t1 = time.perf_counter()
    res = chip.sim(steps, timing_model="detailed", spike_trace=True, perf_trace=True)
    t2 = time.perf_counter()
    trace = res["perf_trace"]
    spikes = {p.name: 0 for p in bundle.populations}
    rasters = {p.name: np.zeros((steps, p.size), np.uint8) for p in bundle.neuron_populations}
    for t, row in enumerate(res["spike_trace"]):
        for a in row:
            spikes[a.group_name] += 1
            if a.group_name in rasters:
                rasters[a.group_name][t, a.neuron_offset] = 1
    inputs = int(x.sum())
    return {
        "spikes": spikes,
        "rasters": rasters,
        "neuron_updates": int(sum(trace["updated"])) - inputs,  # its input units count a spike as an update
        "synaptic_events": int(sum(trace["spikes"])),
        "messages": int(res["packets_sent"]),
        "hops": int(sum(trace["hops"])),
        "energy_J": {
            "synapse": float(res["energy"]["synapse"]),
            "soma": float(res["energy"]["soma"]),
            "network": float(res["energy"]["network"]),
        },
        "per_step_s": [float(s) for s in trace["sim_time"]],
        "wall_s": {"build": t1 - t0, "simulate": t2 - t1},  # what SANA-FE itself took, on this machine
    }


class SanafeBackend:
    """Runs each sample on SANA-FE (one chip; refused with the reason when the placement does not fit)."""

    def __init__(self, bundle: Any, placement: Any = None):
        """``placement``: where the bundle's cores sit (default: the bundle's own, from its manifest)."""
        from neuromotif.hw_models.mapper import mapping_from_summary

        require_sanafe()
        self.bundle = bundle
        self.placement = placement or mapping_from_summary(bundle.manifest["placement"], bundle.chip).placement
        _check_fits(bundle, self.placement)

    def run(
        self, x: np.ndarray, record: tuple[str, ...] = (), record_v: bool = False, activity: bool = False
    ) -> SimResult:
        refuse_options("sanafe", record_v, activity)
        b = self.bundle
        per_sample = [run_sanafe(b, self.placement, sample) for sample in x]
        recorded = tuple(dict.fromkeys((*record, b.output.name)))
        spikes = {n: np.stack([r["rasters"][n] for r in per_sample]) for n in recorded}
        counts = spikes[b.output.name].sum(1).astype(np.int64)
        return SimResult(
            counts,
            {n: spikes[n] for n in record},
            samples=len(x),
            extras={"sanafe": [{k: v for k, v in r.items() if k != "rasters"} for r in per_sample]},
        )
