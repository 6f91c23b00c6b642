"""``neuromotif report RUN_DIR``: report.json, report.md and plots from a run's stored results.

Everything is recomputed from what the run directory holds (config, the bundle, and what
``neuromotif.simulation`` stored in simulation/: predictions, activity, rasters, summary), so a
report can be rebuilt, e.g. with another cost table (``--set report.cost_table=sana_fe``),
without simulating again: this module never runs a backend or loads a dataset.
"""

from __future__ import annotations

import hashlib
import json
import platform
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from neuromotif.config import Config, dump_config, load_config
from neuromotif.core.errors import InputError
from neuromotif.core.io import atomic_write_text
from neuromotif.core.provenance import provenance
from neuromotif.core.versions import package_version
from neuromotif.deploy.bundle import read_bundle
from neuromotif.deploy.compile import bundle_netlist
from neuromotif.report_html import mode_phrase, neurobench_lines, read_search_rows, render_html, span
from neuromotif.report_html import pct as _pct
from neuromotif.simulation import SIM_DIR


def _execution(run_dir: Path, config: Config) -> dict[str, Any]:
    """How torch computed the run: threads, deterministic switch, the micro-batches training used."""
    done = run_dir / "train" / "done.json"
    trained = json.loads(done.read_text()) if done.is_file() else {}
    return {
        "threads": config.train.threads,
        "deterministic": config.train.deterministic,
        "micro_batches": trained.get("micro_batches"),
    }


def report_inputs(run_dir: Path, config: Config) -> dict[str, str | None]:
    """What a report is derived from: the simulation summary and the config it was built with (digests)."""
    from neuromotif.deploy.bundle import sha256

    summary = Path(run_dir) / SIM_DIR / "summary.json"
    return {
        "simulation": sha256(summary) if summary.is_file() else None,
        "config": hashlib.sha256(dump_config(config).encode()).hexdigest(),
    }


def report_current(run_dir: Path, config: Config) -> dict[str, Any] | None:
    """The run's report.json when it was built from the present simulation with ``config``, else None."""
    try:
        report = json.loads((Path(run_dir) / "report.json").read_text())
    except (OSError, ValueError):
        return None
    inputs = report_inputs(run_dir, config)
    return report if None not in inputs.values() and report.get("inputs") == inputs else None


def build_report(run_dir: Path, config: Config | None = None) -> dict[str, Any]:
    from neuromotif.hw_models.cost import energy_latency
    from neuromotif.hw_models.mapper import mapping_from_summary
    from neuromotif.hw_models.neurobench import neurobench_metrics

    run_dir = Path(run_dir)
    sim = run_dir / SIM_DIR
    for need in (
        "config.yaml",
        "bundle/manifest.json",
        f"{SIM_DIR}/summary.json",
        f"{SIM_DIR}/predictions.npz",
        f"{SIM_DIR}/activity.npz",
        f"{SIM_DIR}/rasters.npz",
    ):
        if not (run_dir / need).exists():
            raise InputError(
                f"{run_dir} has no {need}: run `neuromotif run CONFIG --out {run_dir}` (or "
                f"`neuromotif simulate {run_dir / 'bundle'}`) first"
            )
    config = config or load_config(run_dir / "config.yaml")
    bundle = read_bundle(run_dir / "bundle")
    chip = bundle.chip
    summary, preds, activity, rasters = read_simulation(sim, bundle)
    search_rows = read_search_rows(run_dir)
    net = bundle_netlist(bundle)
    mapping = mapping_from_summary(bundle.manifest["placement"], chip)
    operation = config.report.operation((bundle.manifest.get("data") or {}).get("dt_ms"))
    cost = energy_latency(
        net, mapping.placement, chip, activity, config.report.cost_table, config.report.timing, operation
    )
    _warn_compute_bound(cost)
    placement = bundle.manifest["placement"]
    hidden = [p for p in bundle.neuron_populations if p.name != bundle.output.name]
    div = summary.get("divergence", {})
    inputs = report_inputs(run_dir, config)
    report: dict[str, Any] = {
        "dataset": {
            "name": config.data.name,
            "split": summary["split"],
            "samples": summary["samples"],
            "synthetic": bool(bundle.manifest.get("data", {}).get("synthetic", False)),
        },
        "chip": chip.name,
        "seed": config.seed,
        "inputs": inputs,
        "provenance": provenance(config_digest=inputs["config"]),
        "execution": _execution(run_dir, config),
        "versions": {name: package_version(name) for name in ("neuromotif", "torch", "numpy", "lava-nc")}
        | {"python": platform.python_version()},
        "accuracy": {
            **{stage: summary["accuracy"].get(stage) for stage in ("float", "quantized", "fixed_cpu", "lava")},
            "lava_samples": int(summary.get("lava_samples", 0)),
        },
        "agreement": {
            "cpu_vs_lava_spike_mismatches": summary.get("cpu_vs_lava_spike_mismatches"),
            "lava_entries_compared": summary.get("lava_entries_compared"),
            "lava_spikes": summary.get("lava_spikes"),
            "quantized_vs_fixed_prediction_agreement": float((preds["quantized"] == preds["fixed_cpu"]).mean())
            if "quantized" in preds
            else None,
            "float_vs_fixed_spike_agreement": div.get("float_vs_fixed_spike_agreement"),
            "float_vs_fixed_prediction_agreement": float((preds["float"] == preds["fixed_cpu"]).mean())
            if "float" in preds
            else None,
            "per_layer": div.get("layers", {}),
        },
        "network": {
            "neurons": int(sum(p.size for p in bundle.neuron_populations)),
            "synapses": int(sum(j.weights.nnz for j in bundle.projections)),
            "motif_size": hidden[0].motif_size if hidden else None,
            "layers": [{"name": p.name, "neurons": p.size, "motif_size": p.motif_size} for p in hidden],
            "architecture": bundle.manifest["source"].get("arch_source"),
            "inputs": bundle.input.size,
            "classes": bundle.output.size,
        },
        "resources": {
            "cores": placement["cores"],
            "chips": placement["chips"],
            "tiles": placement["tiles"],
            "totals": placement["totals"],
            "per_core": placement["per_core"],
        },
        "activity": {
            **{k: v for k, v in cost["activity"].items() if k != "per_core_synops"},
            "timesteps": cost["steps"],
        },
        "neurobench": neurobench_metrics(net, activity),
        "synchrony": summary.get("synchrony"),  # None: simulated before it was measured
        "operation": cost["operation"],
        "modes": cost["modes"],
        "energy": {
            "per_inference_J": cost["energy"]["per_inference_J"],
            "bounds_J": cost["energy"]["bounds_J"],
            "mode": operation.mode,
            "breakdown": cost["energy"]["breakdown"],
            "breakdown_bounds_J": cost["energy"]["breakdown_bounds_J"],
            "routing_by_hops_J": cost["energy"]["routing_by_hops_J"],
            "per_core_dynamic_J": cost["energy"]["per_core_J"],
            "per_step_dynamic_J": cost["energy"]["per_step_dynamic_J"],
            "cost_table": cost["cost_table"],
            "cost_table_source": cost["cost_table_source"],
            "assumption": cost["assumption"],
        },
        "latency": {
            "per_step_s": cost["latency"]["mean_step_s"],
            "per_step_series_s": cost["latency"]["per_step_s"],
            "per_inference_s": cost["latency"]["per_inference_s"],
            "bounds_s": cost["latency"]["bounds_s"],
            "mode": operation.mode,
            "compute_s": cost["latency"]["compute_s"],
            "step_time_factor_range": cost["latency"]["step_time_factor_range"],
            "breakdown_s": cost["latency"]["breakdown_s"],
            "model": cost["latency"]["model"],
            **({"pipeline": cost["latency"]["pipeline"]} if "pipeline" in cost["latency"] else {}),
        },
        "quantization": {k: bundle.manifest["quantization"][k] for k in ("populations", "projections")},
        "overflow": bundle.manifest["overflow"],
        "search": _search_summary(search_rows),
    }
    atomic_write_text(run_dir / "report.json", json.dumps(report, indent=2, default=_plain))
    plots = _plots(run_dir, mapping, net, cost, report, rasters, bundle) if config.report.plots else []
    atomic_write_text(run_dir / "report.md", render_markdown(report, run_dir, plots))
    pareto = _read_pareto(run_dir / "pareto.json")
    atomic_write_text(
        run_dir / "report.html",
        render_html(report, run_dir, plots, bundle.manifest["placement"]["limits"], search_rows, pareto),
    )
    return report


def _warn_compute_bound(cost: dict[str, Any]) -> None:
    """Realtime: say so, with the numbers, when steps take longer than their period."""
    from neuromotif.core.progress import warn

    rt = cost["modes"].get("realtime")
    if rt and rt["compute_bound_steps"]:
        warn(
            f"realtime: {rt['compute_bound_steps']} of {cost['steps']} steps take longer than the step period "
            f"({rt['longest_step_s'] * 1e3:.4g} ms > {rt['step_period_s'] * 1e3:.4g} ms): the chip falls behind the "
            f"input and the decision comes {rt['after_last_input_s'] * 1e3:.4g} ms after the last bin; spread the "
            "network over more cores (compile.neurons_per_core) or lengthen report.step_period_ms"
        )


def read_simulation(sim: Path, bundle) -> tuple[dict[str, Any], dict[str, np.ndarray], Any, dict[str, np.ndarray]]:
    """summary.json, predictions.npz, activity.npz and rasters.npz, checked: a damaged file is bad
    input (exit 2)."""
    from neuromotif.hw_models.cost import Activity

    def damaged(name: str, why: str) -> InputError:
        return InputError(
            f"{sim / name} is damaged ({why}): simulate again with `neuromotif simulate "
            f"{sim.parent / 'bundle'}` or `neuromotif run`"
        )

    try:
        summary = json.loads((sim / "summary.json").read_text())
        if not isinstance(summary, dict) or not isinstance(summary.get("samples"), int) or "split" not in summary:
            raise ValueError("no sample count or split")
    except (ValueError, UnicodeDecodeError, OSError) as exc:
        raise damaged("summary.json", str(exc)) from None
    made_from = (summary.get("inputs") or {}).get("bundle")
    if made_from is not None and made_from != bundle.manifest.get("manifest_sha256"):
        raise InputError(
            f"{sim} was simulated from another bundle than {sim.parent / 'bundle'} (recompiled since): "
            f"simulate again with `neuromotif simulate {sim.parent / 'bundle'}` or `neuromotif run`"
        )
    n_all = sum(p.size for p in bundle.populations)
    try:
        with np.load(sim / "predictions.npz") as z:
            preds = {k: z[k] for k in z.files}
        if "labels" not in preds or "fixed_cpu" not in preds or any(v.ndim != 1 for v in preds.values()):
            raise ValueError("labels or fixed_cpu predictions missing")
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise damaged("predictions.npz", str(exc)) from None
    try:
        with np.load(sim / "activity.npz") as z:
            activity = Activity(z["spikes"], z["active"], int(z["samples"]))
        if activity.spikes.ndim != 2 or activity.spikes.shape[1] != n_all or activity.samples < 1:
            raise ValueError(f"expected [steps, {n_all}] activity of at least one sample")
    except (KeyError, ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise damaged("activity.npz", str(exc)) from None
    try:
        with np.load(sim / "rasters.npz") as z:
            rasters = {k: z[k] for k in z.files}
        if any(r.ndim != 2 for r in rasters.values()):
            raise ValueError("rasters must be [steps, neurons]")
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise damaged("rasters.npz", str(exc)) from None
    return summary, preds, activity, rasters


def _plain(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(type(obj).__name__)


def _read_pareto(path: Path) -> list[dict[str, Any]] | None:
    """The sweep's points when the run directory holds a ``pareto.json`` (a list of flat rows)."""
    if not path.exists():
        return None
    try:
        points = json.loads(path.read_text()).get("points")
        if not isinstance(points, list) or not all(isinstance(p, dict) for p in points):
            raise ValueError("no list of points")
    except (ValueError, AttributeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path} is damaged ({exc}): rerun the sweep or remove the file") from None
    return points or None


def _search_summary(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    if not rows:
        return None
    ip = [r.get("ip") or {} for r in rows]
    return {
        "iterations": len(rows),
        "chosen_motif_size": rows[-1]["chosen_motif_size"],
        "size_probabilities": rows[-1]["size_probabilities"],
        "decisions": rows[-1].get("decisions"),
        "final_val_accuracy": rows[-1]["val_accuracy"],
        "seconds": sum(r["seconds"] for r in rows),
        # SpiKL-IP: the first hidden layer's mean rate and KL to the target, per iteration,
        # measured on the first and last batch of each IP window (before / after it adapts)
        "ip": {
            "rate_before": [i.get("rate_before") for i in ip],
            "rate_after": [i.get("rate_after") for i in ip],
            "kl_before": [i.get("kl_before") for i in ip],
            "kl_after": [i.get("kl_after") for i in ip],
        },
    }


def _plots(
    run_dir: Path, mapping, net, cost: dict[str, Any], report: dict[str, Any], rasters: dict[str, np.ndarray], bundle
) -> list[str]:
    from neuromotif.core.plotting import save_figure
    from neuromotif.figures import accuracy_figure, motif_pattern, network_figure, raster_figure
    from neuromotif.hw_models.plots import energy_figure, placement_figure, utilisation_figure

    pops = [(p.name, p.size, p.kind, p.motif_size) for p in bundle.populations]
    projs = [(j.pre, j.post, int(j.weights.nnz)) for j in bundle.projections]
    motifs = {
        j.post: motif_pattern(j.weights, bundle.population(j.post).motif_size)
        for j in bundle.projections
        if j.pre == j.post and bundle.population(j.post).motif_size > 1
    }
    figures = {
        "network.png": network_figure(pops, projs, motifs),
        "accuracy.png": accuracy_figure(report["accuracy"]),
        "energy.png": energy_figure(cost),
        "utilisation.png": utilisation_figure(mapping),
        "placement.png": placement_figure(
            net, mapping, cost["activity"]["per_core_messages"], cost["activity"]["core_to_core_messages"]
        ),
    }
    if rasters:
        figures["raster.png"] = raster_figure(rasters, report["dataset"]["split"])
    if "pipeline" in cost["latency"]:
        from neuromotif.hw_models.plots import step_time_figure

        figures["step_time.png"] = step_time_figure(cost["latency"]["pipeline"])
    return [save_figure(fig, run_dir / name).name for name, fig in figures.items()]


def _overflow_lines(overflow: dict[str, Any]) -> list[str]:
    if not overflow.get("checked"):
        return [f"Overflow: not checked ({overflow.get('reason')}).", ""]
    if not overflow["warnings"]:
        return [
            f"Overflow: none predicted (u and v peaks on {overflow['samples']} training samples stay inside "
            "the chip's u wrap and v saturation limits).",
            "",
        ]
    return (
        ["**Overflow predicted** (from u / v peaks on the training data):", ""]
        + [f"- {w}" for w in overflow["warnings"]]
        + [""]
    )


def _critical_path_lines(lat: dict[str, Any]) -> list[str]:
    """What bounds the steps, in words (pipeline timing only)."""
    if "pipeline" not in lat:
        return []
    s = lat["pipeline"]["summary"]
    steps = sum(s["steps_bound_by"].values())
    parts = ", ".join(f"{name} {count}" for name, count in s["steps_bound_by"].items() if count)
    line = f"Critical path: of {steps} steps, bound by {parts}."
    if s["bounding_core"] is not None:
        line += (
            f" Compute-bound steps are led by core {s['bounding_core']} ({s['bounding_core_steps']} steps, its "
            f"{s['bounding_pipeline']} pipeline)."
        )
    line += (
        f" Busiest mesh link: {s['max_link_messages_per_step']:.1f} messages in one step; barrier "
        f"{s['barrier_ns']:.0f} ns per step."
    )
    return [line, ""]


def _ip_lines(ip: dict[str, list] | None) -> list[str]:
    """The IP windows' effect on the first hidden layer: first and last iteration."""
    if not ip or not any(v is not None for v in ip.get("kl_before", [])):
        return []
    first = {k: next((x for x in v if x is not None), None) for k, v in ip.items()}
    last = {k: next((x for x in reversed(v) if x is not None), None) for k, v in ip.items()}

    def num(v):
        return "-" if v is None else f"{v:.3f}"

    return [
        f"SpiKL-IP, first hidden layer (mean rate, KL to the target distribution): first window "
        f"{num(first['rate_before'])} / {num(first['kl_before'])} -> {num(first['rate_after'])} / "
        f"{num(first['kl_after'])}; last window {num(last['rate_before'])} / {num(last['kl_before'])} -> "
        f"{num(last['rate_after'])} / {num(last['kl_after'])} (`search/history.jsonl`, key `ip`).",
        "",
    ]


def _synchrony_lines(synchrony: dict[str, dict[str, float | None]] | None) -> list[str]:
    """One table of how synchronously each population fires (neuromotif/synchrony.py)."""
    if not synchrony:
        return []

    def num(v: float | None, fmt: str) -> str:
        return "-" if v is None else format(v, fmt)

    lines = [
        "Synchrony (every simulated sample; bursts: steps on which more than half of a population fires; "
        "Fano: var / mean of the population spike count over steps; chi: Golomb's measure, 1 = lockstep):",
        "",
        "| population | bursts | Fano | chi |",
        "|---|---|---|---|",
    ]
    for name, s in synchrony.items():
        lines.append(f"| {name} | {_pct(s['burst_fraction'])} | {num(s['fano'], '.2f')} | {num(s['chi'], '.3f')} |")
    return [*lines, ""]


def _modes_lines(r: dict[str, Any]) -> list[str]:
    """One row per operating mode: what the same network costs when run the other way."""
    lines = [
        "| mode | energy (µJ) | of it static | latency (ms) | note |",
        "|---|---|---|---|---|",
    ]
    for name, m in r["modes"].items():
        note = "inferences back to back"
        if name == "realtime":
            note = (
                f"one step per {m['step_period_s'] * 1e3:.3g} ms bin; decision {m['after_last_input_s'] * 1e3:.3g} ms "
                f"after the last bin"
                + (f"; **compute-bound in {m['compute_bound_steps']} steps**" if m["compute_bound_steps"] else "")
            )
        lines.append(
            f"| {name}{' (headline)' if name == r['operation']['mode'] else ''} | {m['per_inference_J'] * 1e6:.4g} "
            f"[{span(m['bounds']['per_inference_J'], 1e6)}] | {m['static_J'] * 1e6:.4g} | "
            f"{m['latency_s'] * 1e3:.4g} [{span(m['bounds']['latency_s'], 1e3)}] | {note} |"
        )
    return [*lines, ""]


def render_markdown(r: dict[str, Any], run_dir: Path, plots: list[str]) -> str:
    a, e, lat, net, res = r["accuracy"], r["energy"], r["latency"], r["network"], r["resources"]
    synthetic = " (synthetic speech)" if r["dataset"]["synthetic"] else ""
    layers = ", ".join(f"{layer['name']} {layer['neurons']}" for layer in net["layers"])
    lines = [
        f"# neuromotif report: {r['dataset']['name']} on {r['chip']}",
        "",
        f"Network: {net['architecture']}, {net['neurons']} neurons ({layers}; "
        f"motif size {net['motif_size']}), {net['synapses']:,} synapses, {net['inputs']} inputs, "
        f"{net['classes']} classes. "
        f"Dataset {r['dataset']['name']}{synthetic}, {r['dataset']['samples']} {r['dataset']['split']} samples, "
        f"seed {r['seed']}.",
        "",
        "## Accuracy at each precision",
        "",
        "| float | quantized | fixed point (CPU) | Lava |",
        "|---|---|---|---|",
        f"| {_pct(a['float'])} | {_pct(a['quantized'])} | {_pct(a['fixed_cpu'])} | "
        f"{_pct(a['lava'])} (first {a['lava_samples']} samples) |",
        "",
        f"CPU vs Lava: **{r['agreement']['cpu_vs_lava_spike_mismatches']} spike mismatches** in "
        f"{r['agreement']['lava_entries_compared'] or 0:,} (sample, step, neuron) entries compared, holding "
        f'{r["agreement"]["lava_spikes"] or 0:,} spikes. "quantized" is the torch model in `chip` precision, which '
        f"computes the fixed point bit for bit: it predicts the same class as the fixed point for "
        f"{_pct(r['agreement']['quantized_vs_fixed_prediction_agreement'])} of samples; float and fixed point for "
        f"{_pct(r['agreement']['float_vs_fixed_prediction_agreement'])}. Spike agreement per layer:",
        "",
        "| layer | float = fixed | quantized = fixed | v RMS (float) | first diverging step |",
        "|---|---|---|---|---|",
    ]
    for name, d in r["agreement"]["per_layer"].items():
        lines.append(
            f"| {name} | {_pct(d['float_vs_fixed_spike_agreement'])} | "
            f"{_pct(d['quantized_vs_fixed_spike_agreement'])} | {d['float_vs_fixed_v_rms']:.4f} | "
            f"{d['float_vs_fixed_first_diverging_step']} |"
        )
    b = e["breakdown"]
    lines += [
        "",
        "## Energy and latency (model, not a measurement)",
        "",
        f"Per inference, {mode_phrase(r['operation'])}: **{e['per_inference_J'] * 1e6:.3f} µJ** "
        f"[{span(e['bounds_J'], 1e6)}] and **{lat['per_inference_s'] * 1e3:.3f} ms** "
        f"[{span(lat['bounds_s'], 1e3)}] "
        f"({r['activity']['timesteps']} steps, mean {lat['per_step_s'] * 1e6:.2f} µs per step). Brackets: the "
        f"cost table's uncertainty ({r['operation']['uncertainty_source']}).",
        "",
        *_modes_lines(r),
        "| synaptic ops | neuron updates | routing | static | total |",
        "|---|---|---|---|---|",
        f"| {b['synops'] * 1e6:.4f} µJ | {b['neuron_updates'] * 1e6:.4f} µJ | {b['routing'] * 1e6:.4f} µJ | "
        f"{b['static'] * 1e6:.4f} µJ | {e['per_inference_J'] * 1e6:.4f} µJ |",
        "| "
        + " | ".join(
            f"[{span(e['breakdown_bounds_J'][k], 1e6)}]" for k in ("synops", "neuron_updates", "routing", "static")
        )
        + f" | [{span(e['bounds_J'], 1e6)}] |",
        "",
        f"Timing model `{lat['model']}`:",
        "",
        "| compute | routing | barrier | total |",
        "|---|---|---|---|",
        f"| {lat['breakdown_s']['compute'] * 1e3:.4f} ms | {lat['breakdown_s']['routing'] * 1e3:.4f} ms | "
        f"{lat['breakdown_s']['barrier'] * 1e3:.4f} ms | {lat['per_inference_s'] * 1e3:.4f} ms |",
        "",
        *_critical_path_lines(lat),
        f"Cost table `{e['cost_table']}`: {e['cost_table_source']}."
        + (f" Assumption: {e['assumption']}" if e["assumption"] else ""),
        "",
        f"Activity per inference: {r['activity']['spikes_per_inference']:.0f} spikes, "
        f"{r['activity']['synops_per_inference']:.0f} synaptic ops, "
        f"{r['activity']['input_spikes_per_inference']:.0f} input spikes, "
        f"{r['activity']['messages_per_inference']:.0f} spike messages (one per spike and destination "
        f"core; {r['activity']['input_messages_per_inference']:.0f} of them from the host's input spikes, "
        "counted in the routing energy too).",
        "",
        *neurobench_lines(r.get("neurobench")),
        *_synchrony_lines(r.get("synchrony")),
        *_overflow_lines(r["overflow"]),
        "## Resources",
        "",
        f"{res['cores']} cores on {res['chips']} chip(s) ({res['tiles']} tiles): "
        + ", ".join(f"{k} {v:,}" for k, v in res["totals"].items())
        + ".",
        "",
    ]
    if r["search"]:
        s = r["search"]
        lines += [
            "## Search",
            "",
            f"HRMAS, {s['iterations']} iterations ({s['seconds']:.0f} s): motif size "
            f"{net['motif_size']} (size probabilities of the first search {s['size_probabilities']}), "
            "supernet validation accuracy "
            f"{_pct(s['final_val_accuracy'])}. Plots: `search/motif_types.png`, `search/search_history.png`.",
            "",
            *_ip_lines(s.get("ip")),
        ]
    if plots:
        lines += ["## Plots", ""] + [f"![{p}]({p})" for p in plots] + [""]
    lines += [
        "The same report as one self-contained page, with the search history, the quantization and "
        "divergence tables and every core's design-rule headroom: [report.html](report.html).",
        "",
        "## Reproduce",
        "",
        "```bash",
        f"neuromotif run {run_dir}/config.yaml --out {run_dir} --force",
        "```",
        "",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in r["versions"].items() if v) + ". "
        f"Torch threads: {r['execution']['threads']} (deterministic algorithms "
        f"{'on' if r['execution']['deterministic'] else 'off'}), training micro-batches per batch: "
        f"{r['execution']['micro_batches'] or 'not recorded'}.",
    ]
    return "\n".join(lines) + "\n"
