"""Cross-check of our cost and timing models against SANA-FE (``sanafe`` on PyPI, GPL-3.0: an
optional extra, imported only here and only when asked, never vendored).

The same compiled network, the same placement and the same input spikes run on both sides:
  ours     the CPU backend's activity through ``cost.energy_latency`` with Loihi 1's ``sana_fe`` cost
           table (the constants of SANA-FE's ``loihi.yaml``), pipeline and analytic timing;
  SANA-FE  its bundled Loihi architecture, its ``leaky_integrate_fire`` soma with
           ``input_decay = 1 - du/4096``, ``leak_decay = 1 - dv/4096``, ``threshold = vth``
           mantissa, hard reset to 0 and weights ``w * 2^exp`` (SANA-FE keeps v in steps of 1/64,
           Loihi's fixed point in steps of 1: in these units the two round alike, so the spikes
           are the same), ``detailed`` timing. Each input neuron replays its spike train from its own
           ``loihi_inputs[i]`` unit on tile 0, where our model's host enters the mesh.
Where the placement fills tile 0, one of its cores moves to the nearest free slot first, on both
sides (``with_host_core``): SANA-FE's input neurons then sit on a core of their own, as our host is
a source of its own. Side by side: spikes per population, neuron updates, synaptic events, messages, hops, energy by
component and time per step. SANA-FE models one Loihi 1 chip (8 x 4 tiles of 4 cores), so the
placement must fit one chip; a Loihi 2 bundle is timed with Loihi 1's constants on both sides
(the check compares models, not chips).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from neuromotif.core.errors import InputError
from neuromotif.deploy.backends import make_backend
from neuromotif.deploy.backends.sanafe import require_sanafe

COST_TABLE = "sana_fe"


def _activity(bundle, net, x: np.ndarray, rasters: dict[str, np.ndarray], active: np.ndarray):
    """One sample's ``Activity`` in netlist order from per-population rasters."""
    from neuromotif.hw_models.cost import Activity

    offsets = net.offsets()
    spikes = np.zeros((x.shape[0], net.n_neurons))
    spikes[:, offsets[bundle.input.name] : offsets[bundle.input.name] + bundle.input.size] = x
    for name, r in rasters.items():
        spikes[:, offsets[name] : offsets[name] + r.shape[1]] = r
    return Activity(spikes, np.asarray(active, np.float64), 1)


def model_on(bundle, net, placement, activity, routes=None) -> dict[str, Any]:
    """Our cost model (``sana_fe`` constants of Loihi 1) on one sample's activity; the event
    counts are the ones ``energy_latency`` reports, hops come from its route table (``routes``:
    built once for the placement, as SANA-FE builds its network once; built here when None)."""
    from neuromotif.hw_models import load_chip
    from neuromotif.hw_models.cost import energy_latency

    loihi1 = load_chip("loihi1")
    t0 = time.perf_counter()
    pipeline = energy_latency(net, placement, loihi1, activity, COST_TABLE, "pipeline", routes=routes)
    p = pipeline["latency"]["pipeline"]
    seconds = time.perf_counter() - t0  # what a report pays: the cost model with the pipeline timing
    analytic = energy_latency(net, placement, loihi1, activity, COST_TABLE, "analytic", routes=routes)
    table = loihi1.cost_table(COST_TABLE)
    counted = pipeline["activity"]  # per inference, and this is one sample
    spikes = np.asarray(activity.spikes)
    e = pipeline["energy"]["breakdown"]
    spike_out = counted["spikes_per_inference"] * table.spike_out.energy_pj * 1e-12  # ours: routing; SANA-FE: soma
    offsets = net.offsets()
    return {
        "spikes": {
            p.name: int(spikes[:, offsets[p.name] : offsets[p.name] + p.size].sum()) for p in bundle.populations
        },
        "neuron_updates": int(round(counted["active_updates_per_inference"])),
        "synaptic_events": int(round(counted["synops_per_inference"])),
        "messages": int(round(counted["messages_per_inference"])),
        "hops": int(round(counted["hops_per_inference"])),
        "energy_J": {
            "synapse": e["synops"],
            "soma": e["neuron_updates"] + spike_out,
            "network": e["routing"] - spike_out,
        },
        "per_step_s": pipeline["latency"]["per_step_s"],
        "per_step_analytic_s": analytic["latency"]["per_step_s"],
        # slowest core + busiest link + barrier per step: the step model before message queues and
        # flow control (``congestion.py``), kept for the comparison
        "per_step_link_bound_s": [
            1e-9 * (c + link + p["components_ns"]["barrier"])
            for c, link in zip(p["components_ns"]["compute"], p["link_ns"], strict=True)
        ],
        "critical_path": pipeline["latency"]["pipeline"]["summary"],
        "seconds": seconds,
    }


def with_host_core(placement):
    """The placement both sides run: ``placement`` itself, or, when it fills tile 0, the same with
    the last core of tile 0 moved to the free core slot nearest to router (0, 0). Returns
    (placement, the moved core or None).

    SANA-FE has no host: its input neurons sit on a core of tile 0 and send their messages one
    after another with that core's own. Our host is a source of its own entering at router
    (0, 0). Where tile 0 is full the input neurons would share one of our cores, and the two
    models would time different mappings; a free core on tile 0 gives them the same one."""
    import dataclasses
    from collections import Counter

    from neuromotif.deploy.backends.sanafe import MESH
    from neuromotif.hw_models import load_chip
    from neuromotif.hw_models.placement import tile_index

    xy = placement.router_xy
    on_tile0 = np.flatnonzero((xy[:, 0] == 0) & (xy[:, 1] == 0))
    if len(on_tile0) < MESH.cores_per_tile:
        return placement, None
    used = Counter(map(tuple, xy.tolist()))
    free = [
        (x + y, y, x)
        for x in range(MESH.tiles_x)
        for y in range(MESH.tiles_y)
        if used.get((x, y), 0) < MESH.cores_per_tile
    ]
    if not free:
        return placement, None  # a full chip: nowhere to move to, so SANA-FE's inputs share a core
    _, y, x = min(free)
    moved = int(on_tile0[-1])
    router_xy = xy.copy()
    router_xy[moved] = (x, y)
    tile_of = tile_index(load_chip("loihi1"), placement.chip_of, router_xy)  # SANA-FE's mesh is Loihi 1's
    return dataclasses.replace(placement, router_xy=router_xy, tile_of=tile_of), moved


def crosscheck(bundle, placement, x: np.ndarray) -> dict[str, Any]:
    """Both sides on sample ``x [steps, inputs]``.

    Dynamics: our fixed-point spikes against SANA-FE's (they can differ: SANA-FE keeps the
    synaptic current u unquantised where Loihi truncates it every step). Models: our cost model
    runs on SANA-FE's own spikes, so both sides count the same activity; event counts must then
    be equal, and energy and time compare as ratios ours / SANA-FE."""
    from neuromotif.deploy.compile import bundle_netlist
    from neuromotif.hw_models import load_chip
    from neuromotif.hw_models.cost import route_table

    names = tuple(p.name for p in bundle.neuron_populations)
    placement, moved_core = with_host_core(placement)
    sanafe = make_backend("sanafe", bundle, placement=placement).run(x[None], record=names)
    theirs = {**sanafe.extras["sanafe"][0], "rasters": {n: sanafe.spikes[n][0] for n in names}}
    # our "network build", timed apart as SANA-FE's is: the backend, the netlist, the placement's routes
    t0 = time.perf_counter()
    backend, net = make_backend("cpu", bundle), bundle_netlist(bundle)
    routes = route_table(net, placement, load_chip("loihi1").cost_table(COST_TABLE))
    t1 = time.perf_counter()
    run = backend.run(x[None].astype(np.float32), record=names, activity=True)
    t2 = time.perf_counter()
    assert run.activity_active is not None  # activity=True
    spike_mismatches = int(sum((run.spikes[n][0] != theirs["rasters"][n]).sum() for n in names))
    ours = model_on(bundle, net, placement, _activity(bundle, net, x, theirs["rasters"], run.activity_active), routes)
    events = {f"spikes {name}": (ours["spikes"][name], theirs["spikes"][name]) for name in ours["spikes"]}
    events |= {
        key.replace("_", " "): (ours[key], theirs[key])
        for key in ("neuron_updates", "synaptic_events", "messages", "hops")
    }
    t_ours, t_theirs = np.asarray(ours["per_step_s"]), np.asarray(theirs["per_step_s"])
    t_analytic = np.asarray(ours["per_step_analytic_s"])
    return {
        "steps": int(x.shape[0]),
        "cores": len(placement.cores),
        "tiles": int(placement.n_tiles),
        # None: the placement as given; else the core moved off tile 0 so SANA-FE's input neurons
        # have a core of their own there, as our host is a source of its own (``with_host_core``)
        "moved_for_host": moved_core,
        "dynamics": {
            "spike_mismatches": spike_mismatches,
            "entries": int(sum(theirs["rasters"][n].size for n in names)),
            "our_spikes": int(sum(run.spikes[n][0].sum() for n in names)),
            "sanafe_spikes": int(sum(theirs["rasters"][n].sum() for n in names)),
        },
        "events": {k: {"ours": int(a), "sanafe": int(b), "equal": int(a) == int(b)} for k, (a, b) in events.items()},
        "events_equal": all(int(a) == int(b) for k, (a, b) in events.items() if k != "neuron updates"),
        "energy_J": {
            k: {
                "ours": ours["energy_J"][k],
                "sanafe": theirs["energy_J"][k],
                "ratio": ours["energy_J"][k] / theirs["energy_J"][k] if theirs["energy_J"][k] else None,
            }
            for k in ("synapse", "soma", "network")
        },
        "time": {
            "ours_pipeline_s": float(t_ours.sum()),
            "ours_analytic_s": float(t_analytic.sum()),
            "sanafe_s": float(t_theirs.sum()),
            "pipeline_ratio": float(t_ours.sum() / t_theirs.sum()),
            "analytic_ratio": float(t_analytic.sum() / t_theirs.sum()),
            "per_step_ratio_range": [float((t_ours / t_theirs).min()), float((t_ours / t_theirs).max())],
        },
        "per_step_s": {
            "ours_pipeline": t_ours.tolist(),
            "ours_analytic": t_analytic.tolist(),
            "ours_link_bound": ours["per_step_link_bound_s"],
            "sanafe": t_theirs.tolist(),
        },
        "critical_path": ours["critical_path"],
        # wall time on this machine for one sample: SANA-FE's simulation against our CPU backend
        # plus our cost model with the pipeline timing (what a report runs; the analytic timing
        # computed here for the comparison is not counted), each side's network build apart
        "wall_s": with_speedup(
            {
                "sanafe_build": theirs["wall_s"]["build"],
                "sanafe_simulate": theirs["wall_s"]["simulate"],
                "ours_build": t1 - t0,
                "ours_simulate": t2 - t1,
                "ours_cost_and_timing": ours["seconds"],
            }
        ),
    }


def with_speedup(wall: dict[str, float]) -> dict[str, float]:
    """``wall`` (a cross-check's wall times) with ``speedup``: SANA-FE's simulation time over ours
    (CPU backend plus cost model with the pipeline timing), each side's network already built;
    ``speedup_cold``: the same with each side's build counted (one sample from nothing); and
    ``speedup_ours_built``, the strictest reading: our build counted, SANA-FE's not."""
    ours = wall["ours_simulate"] + wall["ours_cost_and_timing"]
    return {
        **wall,
        "speedup": wall["sanafe_simulate"] / ours,
        "speedup_cold": (wall["sanafe_build"] + wall["sanafe_simulate"]) / (wall["ours_build"] + ours),
        "speedup_ours_built": wall["sanafe_simulate"] / (wall["ours_build"] + ours),
    }


def crosscheck_run(run_dir: Path, sample: int = 0) -> dict[str, Any]:
    """Cross-check sample ``sample`` of the run's simulated split."""
    import json

    from neuromotif.config import load_config
    from neuromotif.deploy.bundle import read_bundle
    from neuromotif.hw_models.mapper import mapping_from_summary
    from neuromotif.search.data import load_dataset

    run_dir = Path(run_dir)
    for need in ("config.yaml", "bundle/manifest.json", "simulation/summary.json"):
        if not (run_dir / need).exists():
            raise InputError(f"{run_dir} has no {need}: run `neuromotif run CONFIG --out {run_dir}` first")
    require_sanafe()
    config = load_config(run_dir / "config.yaml")
    bundle = read_bundle(run_dir / "bundle")
    chip = bundle.chip
    placement = mapping_from_summary(bundle.manifest["placement"], chip).placement
    try:
        split = json.loads((run_dir / "simulation" / "summary.json").read_text())["split"]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise InputError(
            f"{run_dir / 'simulation' / 'summary.json'} is damaged ({type(exc).__name__}): simulate "
            f"again with `neuromotif simulate {run_dir / 'bundle'}` or `neuromotif run`"
        ) from None
    part = load_dataset(config.data, config.seed).split(split)
    if not 0 <= sample < len(part):
        raise InputError(f"--sample {sample} is outside the {split} split's {len(part)} samples")
    result = crosscheck(bundle, placement, part.spikes(np.array([sample]))[0])
    return {"run": str(run_dir), "sample": sample, "split": split, "chip": chip.name, **result}


def render(result: dict[str, Any]) -> str:
    """The side-by-side table as plain text (markdown)."""
    d = result["dynamics"]
    lines = [
        f"SANA-FE cross-check: {result['steps']} steps, {result['cores']} cores on {result['tiles']} tiles",
        f"dynamics: {d['spike_mismatches']} of {d['entries']} spike entries differ (ours {d['our_spikes']}, "
        f"SANA-FE {d['sanafe_spikes']} spikes); the models below run on SANA-FE's spikes",
        *(
            [f"core {result['moved_for_host']} moved off tile 0 on both sides: SANA-FE's input neurons take its slot"]
            if result.get("moved_for_host") is not None
            else []
        ),
        "",
        "| quantity | ours | SANA-FE | |",
        "|---|---:|---:|---|",
    ]
    for name, row in result["events"].items():
        verdict = "equal" if row["equal"] else ("each side's own dynamics" if name == "neuron updates" else "DIFFERENT")
        lines.append(f"| {name} | {row['ours']} | {row['sanafe']} | {verdict} |")
    for name, row in result["energy_J"].items():
        ratio = f"x{row['ratio']:.3f}" if row["ratio"] is not None else ""
        lines.append(f"| energy {name} (uJ) | {row['ours'] * 1e6:.4f} | {row['sanafe'] * 1e6:.4f} | {ratio} |")
    t = result["time"]
    lines.append(
        f"| time, pipeline (us) | {t['ours_pipeline_s'] * 1e6:.2f} | {t['sanafe_s'] * 1e6:.2f} | "
        f"x{t['pipeline_ratio']:.3f} (steps x{t['per_step_ratio_range'][0]:.2f}..x{t['per_step_ratio_range'][1]:.2f}) |"
    )
    lines.append(
        f"| time, analytic (us) | {t['ours_analytic_s'] * 1e6:.2f} | {t['sanafe_s'] * 1e6:.2f} | "
        f"x{t['analytic_ratio']:.3f} |"
    )
    return "\n".join(lines)
