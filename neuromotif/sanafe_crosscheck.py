"""Cross-check of our cost and timing models against SANA-FE (``sanafe`` on PyPI, GPL-3.0: an
optional extra, imported only here and only when asked, never vendored).

The same compiled network, the same placement and the same input spikes run on both sides:
  ours     the CPU backend's activity through ``cost.evaluate`` with Loihi 1's ``sana_fe`` cost
           table (the constants of SANA-FE's ``loihi.yaml``), pipeline and analytic timing;
  SANA-FE  its bundled Loihi architecture, its ``leaky_integrate_fire`` soma with
           ``input_decay = 1 - du/4096``, ``leak_decay = 1 - dv/4096``, ``threshold = vth``
           mantissa, hard reset to 0 and weights ``w * 2^exp`` (SANA-FE keeps v in steps of 1/64,
           Loihi's fixed point in steps of 1: in these units the two round alike, so the spikes
           are the same), ``detailed`` timing. Each input neuron replays its spike train from its own
           ``loihi_inputs[i]`` unit on tile 0, where our model's host enters the mesh.
Side by side: spikes per population, neuron updates, synaptic events, messages, hops, energy by
component and time per step. SANA-FE models one Loihi 1 chip (8 x 4 tiles of 4 cores), so the
placement must fit one chip; a Loihi 2 bundle is timed with Loihi 1's constants on both sides
(the check compares models, not chips).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from neuromotif.errors import InputError

TILES_Y = 4           # loihi.yaml numbers its 8 x 4 tiles column by column: id = x * 4 + y
TILES_X = 8
CORES_PER_TILE = 4
INPUT_UNITS = 1024    # loihi_inputs[0..1023]: one soma unit per input neuron
MAX_NEURONS_PER_CORE = 1024  # loihi.yaml's max_neurons_supported
DECAY_ONE = 4096      # Loihi's 12-bit decays: keep = 1 - d / 4096
V_FRACTION = 64       # SANA-FE's v resolution is 1/64; Loihi scales weights and bias by 2^6
COST_TABLE = "sana_fe"


def _sanafe():
    try:
        import sanafe
    except ImportError:
        raise InputError("the SANA-FE cross-check needs the optional package sanafe: "
                         "pip install 'neuromotif[sanafe]' (GPL-3.0)") from None
    return sanafe


def _check_fits(bundle, placement) -> None:
    if placement.n_chips != 1:
        raise InputError(f"the bundle is placed on {placement.n_chips} chips; SANA-FE's Loihi model is one chip: "
                         "cross-check a network that fits one chip")
    xy = placement.router_xy
    if len(xy) and (xy[:, 0].max() >= TILES_X or xy[:, 1].max() >= TILES_Y):
        raise InputError("the placement uses tiles outside Loihi 1's 8 x 4 mesh; compile with chip loihi1 "
                         "to cross-check against SANA-FE")
    if bundle.input.size > INPUT_UNITS:
        raise InputError(f"the bundle has {bundle.input.size} input neurons; SANA-FE's Loihi model has "
                         f"{INPUT_UNITS} input units")


def _sanafe_cores(placement, inputs: int) -> tuple[list[tuple[int, int]], tuple[int, int]]:
    """(tile id, core in tile) of each of our cores, in order of appearance per router, and the
    core on tile 0 (where our host's spikes enter the mesh) that takes the input neurons: a free
    one, else the least-filled one with room."""
    slots: list[tuple[int, int]] = []
    used: dict[int, int] = {}
    fill: dict[tuple[int, int], int] = {}
    for (x, y), c in zip(placement.router_xy.tolist(), placement.cores):
        tile = x * TILES_Y + y
        slots.append((tile, used.get(tile, 0)))
        fill[slots[-1]] = c.size
        used[tile] = used.get(tile, 0) + 1
    if used.get(0, 0) < CORES_PER_TILE:
        return slots, (0, used.get(0, 0))
    core = min(range(CORES_PER_TILE), key=lambda k: fill[(0, k)])
    if fill[(0, core)] + inputs > MAX_NEURONS_PER_CORE:
        raise InputError(f"no core on tile 0 has room for the {inputs} input neurons (SANA-FE places inputs on a "
                         "core): compile with a lower compile.neurons_per_core")
    return slots, (0, core)


def sanafe_network(bundle, placement, x: np.ndarray):
    """SANA-FE architecture and network for one sample ``x [steps, inputs]``."""
    sanafe = _sanafe()
    arch = sanafe.load_loihi()
    net = sanafe.Network()
    slots, input_slot = _sanafe_cores(placement, bundle.input.size)
    core_of = lambda slot: arch.tiles[slot[0]].cores[slot[1]]  # noqa: E731
    groups = {}
    inp = bundle.input
    groups[inp.name] = net.create_neuron_group(inp.name, inp.size, {})
    for i, neuron in enumerate(groups[inp.name].neurons):
        neuron.set_attributes(soma_hw_name=f"loihi_inputs[{i}]", log_spikes=True, default_synapse_hw_name="loihi_sparse_synapse",
                              model_attributes={"spikes": [bool(v) for v in x[:, i]]})
        neuron.map_to_core(core_of(input_slot))
    where = {}
    for k, c in enumerate(placement.cores):
        for i in range(c.start, c.stop):
            where[(c.population, i)] = slots[k]
    for p in bundle.lif_populations:
        groups[p.name] = net.create_neuron_group(p.name, p.size, {})
        for i, neuron in enumerate(groups[p.name].neurons):
            neuron.set_attributes(soma_hw_name="loihi_lif", log_spikes=True, default_synapse_hw_name="loihi_sparse_synapse",
                                  model_attributes={
                                      "threshold": float(p.vth), "reset": 0.0, "reset_mode": "hard",
                                      "leak_decay": 1.0 - float(p.dv[i]) / DECAY_ONE,
                                      "input_decay": 1.0 - float(p.du[i]) / DECAY_ONE,
                                      "bias": float(p.bias_mant[i]) * 2.0 ** float(p.bias_exp[i]) / V_FRACTION})
            neuron.map_to_core(core_of(where[(p.name, i)]))
    from neuromotif.deploy.backends.cpu import stored_weights

    for j in bundle.projections:
        coo = stored_weights(j.weights.tocsr().astype(np.int64), j.sign_mode, bundle.numeric.weight_bits).tocoo()
        groups[j.pre].connect_neurons_sparse(groups[j.post], {"weight": (coo.data * 2.0 ** j.weight_exp).tolist()},
                                             list(zip(coo.col.tolist(), coo.row.tolist())))
    return arch, net


def run_sanafe(bundle, placement, x: np.ndarray) -> dict[str, Any]:
    """Simulate one sample on SANA-FE (detailed timing): events, energy, time per step."""
    sanafe = _sanafe()
    arch, net = sanafe_network(bundle, placement, x)
    chip = sanafe.SpikingChip(arch)
    chip.load(net)
    steps = x.shape[0]
    res = chip.sim(steps, timing_model="detailed", spike_trace=True, perf_trace=True)
    trace = res["perf_trace"]
    spikes = {p.name: 0 for p in bundle.populations}
    rasters = {p.name: np.zeros((steps, p.size), np.uint8) for p in bundle.lif_populations}
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
        "energy_J": {"synapse": float(res["energy"]["synapse"]), "soma": float(res["energy"]["soma"]),
                     "network": float(res["energy"]["network"])},
        "per_step_s": [float(s) for s in trace["sim_time"]],
    }


def _activity(bundle, net, x: np.ndarray, rasters: dict[str, np.ndarray], active: np.ndarray):
    """One sample's ``Activity`` in netlist order from per-population rasters."""
    from neuromotif.hw_models.cost import Activity

    offsets = net.offsets()
    spikes = np.zeros((x.shape[0], net.n_neurons))
    spikes[:, offsets[bundle.input.name]:offsets[bundle.input.name] + bundle.input.size] = x
    for name, r in rasters.items():
        spikes[:, offsets[name]:offsets[name] + r.shape[1]] = r
    return Activity(spikes, np.asarray(active, np.float64), 1)


def model_on(bundle, net, placement, activity) -> dict[str, Any]:
    """Our cost model (``sana_fe`` constants of Loihi 1) on one sample's activity; the event
    counts are the ones ``evaluate`` reports, hops come from its route table."""
    from neuromotif.hw_models import load_chip
    from neuromotif.hw_models.cost import evaluate, route_table

    loihi1 = load_chip("loihi1")
    pipeline = evaluate(net, placement, loihi1, activity, COST_TABLE, "pipeline")
    analytic = evaluate(net, placement, loihi1, activity, COST_TABLE, "analytic")
    table = loihi1.cost_table(COST_TABLE)
    routes = route_table(net, placement, table)
    counted = pipeline["activity"]  # per inference, and this is one sample
    spikes = np.asarray(activity.spikes)
    e = pipeline["energy"]["breakdown"]
    spike_out = counted["spikes_per_inference"] * table.spike_out.energy_pj * 1e-12  # ours: routing; SANA-FE: soma
    offsets = net.offsets()
    return {
        "spikes": {p.name: int(spikes[:, offsets[p.name]:offsets[p.name] + p.size].sum()) for p in bundle.populations},
        "neuron_updates": int(round(counted["active_updates_per_inference"])),
        "synaptic_events": int(round(counted["synops_per_inference"])),
        "messages": int(round(counted["messages_per_inference"])),
        "hops": int(round(float(spikes.sum(0) @ (routes.hops_ew + routes.hops_ns)))),
        "energy_J": {"synapse": e["synops"], "soma": e["neuron_updates"] + spike_out,
                     "network": e["routing"] - spike_out},
        "per_step_s": pipeline["latency"]["per_step_s"],
        "per_step_analytic_s": analytic["latency"]["per_step_s"],
        "critical_path": pipeline["latency"]["pipeline"]["summary"],
    }


def crosscheck(bundle, placement, x: np.ndarray) -> dict[str, Any]:
    """Both sides on sample ``x [steps, inputs]``.

    Dynamics: our fixed-point spikes against SANA-FE's (they can differ: SANA-FE keeps the
    synaptic current u unquantised where Loihi truncates it every step). Models: our cost model
    runs on SANA-FE's own spikes, so both sides count the same activity; event counts must then
    be equal, and energy and time compare as ratios ours / SANA-FE."""
    from neuromotif.deploy.backends.cpu import CPUBackend
    from neuromotif.deploy.compile import bundle_netlist

    _check_fits(bundle, placement)
    theirs = run_sanafe(bundle, placement, x)
    names = tuple(p.name for p in bundle.lif_populations)
    run = CPUBackend(bundle).run(x[None].astype(np.float32), record=names, activity=True)
    spike_mismatches = int(sum((run.spikes[n][0] != theirs["rasters"][n]).sum() for n in names))
    net = bundle_netlist(bundle)
    ours = model_on(bundle, net, placement, _activity(bundle, net, x, theirs["rasters"], run.activity_active))
    events = {f"spikes {name}": (ours["spikes"][name], theirs["spikes"][name]) for name in ours["spikes"]}
    events |= {key.replace("_", " "): (ours[key], theirs[key])
               for key in ("neuron_updates", "synaptic_events", "messages", "hops")}
    t_ours, t_theirs = np.asarray(ours["per_step_s"]), np.asarray(theirs["per_step_s"])
    t_analytic = np.asarray(ours["per_step_analytic_s"])
    return {
        "steps": int(x.shape[0]),
        "cores": len(placement.cores),
        "tiles": int(placement.n_tiles),
        "dynamics": {"spike_mismatches": spike_mismatches,
                     "entries": int(sum(theirs["rasters"][n].size for n in names)),
                     "our_spikes": int(sum(run.spikes[n][0].sum() for n in names)),
                     "sanafe_spikes": int(sum(theirs["rasters"][n].sum() for n in names))},
        "events": {k: {"ours": int(a), "sanafe": int(b), "equal": int(a) == int(b)} for k, (a, b) in events.items()},
        "events_equal": all(int(a) == int(b) for k, (a, b) in events.items() if k != "neuron updates"),
        "energy_J": {k: {"ours": ours["energy_J"][k], "sanafe": theirs["energy_J"][k],
                         "ratio": ours["energy_J"][k] / theirs["energy_J"][k] if theirs["energy_J"][k] else None}
                     for k in ("synapse", "soma", "network")},
        "time": {"ours_pipeline_s": float(t_ours.sum()), "ours_analytic_s": float(t_analytic.sum()),
                 "sanafe_s": float(t_theirs.sum()),
                 "pipeline_ratio": float(t_ours.sum() / t_theirs.sum()),
                 "analytic_ratio": float(t_analytic.sum() / t_theirs.sum()),
                 "per_step_ratio_range": [float((t_ours / t_theirs).min()), float((t_ours / t_theirs).max())]},
        "per_step_s": {"ours_pipeline": t_ours.tolist(), "ours_analytic": t_analytic.tolist(),
                       "sanafe": t_theirs.tolist()},
        "critical_path": ours["critical_path"],
    }


def crosscheck_run(run_dir: Path, sample: int = 0) -> dict[str, Any]:
    """Cross-check sample ``sample`` of the run's simulated split."""
    import json

    from neuromotif.config import load_config
    from neuromotif.deploy.bundle import read_bundle
    from neuromotif.hw_models import load_chip
    from neuromotif.hw_models.mapper import mapping_from_summary
    from neuromotif.search.data import load_dataset

    run_dir = Path(run_dir)
    for need in ("config.yaml", "bundle/manifest.json", "simulation/summary.json"):
        if not (run_dir / need).exists():
            raise InputError(f"{run_dir} has no {need}: run `neuromotif run CONFIG --out {run_dir}` first")
    _sanafe()
    config = load_config(run_dir / "config.yaml")
    bundle = read_bundle(run_dir / "bundle")
    chip = load_chip(bundle.manifest["chip"])
    placement = mapping_from_summary(bundle.manifest["placement"], chip).placement
    split = json.loads((run_dir / "simulation" / "summary.json").read_text())["split"]
    part = load_dataset(config.data, config.seed).split(split)
    if not 0 <= sample < len(part):
        raise InputError(f"--sample {sample} is outside the {split} split's {len(part)} samples")
    result = crosscheck(bundle, placement, part.spikes(np.array([sample]))[0])
    return {"run": str(run_dir), "sample": sample, "split": split, "chip": chip.name, **result}


def render(result: dict[str, Any]) -> str:
    """The side-by-side table as plain text (markdown)."""
    d = result["dynamics"]
    lines = [f"SANA-FE cross-check: {result['steps']} steps, {result['cores']} cores on {result['tiles']} tiles",
             f"dynamics: {d['spike_mismatches']} of {d['entries']} spike entries differ (ours {d['our_spikes']}, "
             f"SANA-FE {d['sanafe_spikes']} spikes); the models below run on SANA-FE's spikes",
             "", "| quantity | ours | SANA-FE | |", "|---|---:|---:|---|"]
    for name, row in result["events"].items():
        verdict = "equal" if row["equal"] else ("each side's own dynamics" if name == "neuron updates" else "DIFFERENT")
        lines.append(f"| {name} | {row['ours']} | {row['sanafe']} | {verdict} |")
    for name, row in result["energy_J"].items():
        ratio = f"x{row['ratio']:.3f}" if row["ratio"] is not None else ""
        lines.append(f"| energy {name} (uJ) | {row['ours'] * 1e6:.4f} | {row['sanafe'] * 1e6:.4f} | {ratio} |")
    t = result["time"]
    lines.append(f"| time, pipeline (us) | {t['ours_pipeline_s'] * 1e6:.2f} | {t['sanafe_s'] * 1e6:.2f} | "
                 f"x{t['pipeline_ratio']:.3f} (steps x{t['per_step_ratio_range'][0]:.2f}..x{t['per_step_ratio_range'][1]:.2f}) |")
    lines.append(f"| time, analytic (us) | {t['ours_analytic_s'] * 1e6:.2f} | {t['sanafe_s'] * 1e6:.2f} | "
                 f"x{t['analytic_ratio']:.3f} |")
    return "\n".join(lines)
