"""The one simulation routine: run a bundle on a dataset split and store what reports need.

``simulate_bundle`` is what ``neuromotif simulate`` and the ``run`` pipeline both call. It
runs the fixed point on the CPU backend over the split, each sample once (with activity for
the cost model; the first samples also with rasters and v for the comparisons below), Lava
on the first samples (checked spike for spike against the CPU backend), the source
model in float and quantized precision when the bundle's model.pt is found, the layer-by-
layer divergence, and one sample's rasters; it writes them to ``out`` (``simulation/``):

- ``predictions.npz``: labels and the predicted class per stage (``float``, ``quantized``,
  ``fixed_cpu``, ``lava``; the stages that ran),
- ``activity.npz``: spikes and active neuron updates per step and neuron, summed over samples,
- ``rasters.npz``: every population's spikes for the split's first sample,
- ``summary.json``: counts, accuracy per stage, timings, mismatches, divergence.

``neuromotif report`` reads only these files: it never simulates.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from neuromotif.config import Config
from neuromotif.core.errors import InputError
from neuromotif.core.io import atomic_save_npz, atomic_write_text
from neuromotif.core.progress import note
from neuromotif.deploy.backends import DEFAULT_TIMEOUT_S, SimResult
from neuromotif.synchrony import Synchrony

SIM_DIR = "simulation"
CPU_CHUNK = 1024


def dataset_of(bundle, data_root: Path | None = None, seed: int | None = None):
    """The dataset the bundle's model was trained on, as its saved config describes it."""
    from neuromotif.config import saved_config
    from neuromotif.search.data import load_dataset

    text = bundle.manifest.get("config")
    if not text:
        raise InputError(
            "the bundle records no training config, so its dataset is unknown: "
            "simulate a bundle compiled from a neuromotif model.pt"
        )
    cfg = saved_config(text, "bundle config", data_root)
    return load_dataset(cfg.data, cfg.seed if seed is None else seed), cfg


def source_model_path(bundle_dir: Path, manifest: dict[str, Any]) -> Path | None:
    """The bundle's model.pt: where it was compiled from, else beside the bundle (a moved run
    directory); only a file whose SHA-256 matches the one the bundle recorded."""
    from neuromotif.deploy.bundle import sha256

    source = manifest.get("source", {})
    digest = source.get("sha256")
    recorded = source.get("checkpoint")
    candidates = ([Path(recorded)] if recorded else []) + [Path(bundle_dir).parent / "model.pt"]
    for path in candidates:
        if digest and path.is_file() and sha256(path) == digest:
            return path
    return None


STAGES = {"float": "float", "quantized": "chip"}  # report stage -> torch precision


def simulation_inputs(bundle_dir: Path, config: Config, **settings: Any) -> dict[str, Any]:
    """Everything a simulation's results depend on: the bundle (its manifest digest), the model it
    was compiled from, the dataset, seed and torch threads, and the simulate settings that change
    results (``split``, ``samples``, ``lava_samples``, ``divergence_samples``; not the time-out).
    ``summary.json`` records it; a rerun whose inputs are the same reuses the simulation."""
    try:
        manifest = json.loads((Path(bundle_dir) / "manifest.json").read_text())
    except (OSError, ValueError):
        return {"bundle": None}
    return {
        "bundle": manifest.get("manifest_sha256"),
        "model": manifest.get("source", {}).get("sha256"),
        "data": config.data.model_dump(mode="json", exclude={"cache_dir"}),
        "seed": config.seed,
        "threads": config.train.threads,
        **settings,
    }


def simulation_current(sim_dir: Path, inputs: dict[str, Any]) -> bool:
    """Is ``sim_dir`` a finished simulation of exactly ``inputs``? (summary.json is written last.)"""
    try:
        return (
            inputs.get("bundle") is not None
            and json.loads((Path(sim_dir) / "summary.json").read_text()).get("inputs") == inputs
        )
    except (OSError, ValueError):
        return False


def _torch_stages(model, split, n_div: int, names: list[str], train) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Float and quantized (torch ``chip`` precision) predictions on ``split``; per-population
    traces of the first ``n_div`` samples. ``train``: the run's train settings (threads)."""
    import torch

    from neuromotif.search.execution import apply_execution
    from neuromotif.search.train import evaluate

    apply_execution(train.threads, train.deterministic)

    device = torch.device("cpu")
    preds = {stage: evaluate(model, split, device, precision)["predictions"] for stage, precision in STAGES.items()}
    traces: dict[str, Any] = {}
    if n_div:
        x = torch.from_numpy(split.spikes(np.arange(n_div))).float()
        with torch.no_grad():
            for stage, precision in STAGES.items():
                model.set_precision(precision)
                out = model(x, record=True)["trace"]
                traces[stage] = {
                    name: (o["spikes"].numpy(), o["v"].numpy()) for name, o in zip(names, out, strict=True)
                }
        model.set_precision("float")
    return preds, traces


def simulate_bundle(
    bundle_dir: Path,
    out: Path,
    *,
    split: str = "test",
    samples: int | None = None,
    lava_samples: int = 0,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    divergence_samples: int = 0,
    config: Config | None = None,
    data_root: Path | None = None,
    backend: str = "cpu",
    device: str = "cpu",
) -> dict[str, Any]:
    """Simulate ``bundle_dir`` on ``split`` (first ``samples``; all when None) and write ``out``.

    ``backend``: what runs the fixed point over the split: ``cpu`` (numpy) or ``torch`` (on
    ``device``, bit-identical); Lava, when asked, is checked against it.

    ``config``: the run's config, for the dataset (default: the config the bundle records).
    Returns the summary (also written to ``out/summary.json``).
    """
    from neuromotif.deploy.backends import make_backend
    from neuromotif.deploy.bundle import read_bundle
    from neuromotif.deploy.divergence import divergence, spike_mismatches
    from neuromotif.deploy.ir import predict

    bundle = read_bundle(bundle_dir)
    if config is None:
        data, config = dataset_of(bundle, data_root)
    else:
        from neuromotif.search.data import load_dataset

        data = load_dataset(config.data, config.seed)
    part = data.split(split)
    n = min(samples or len(part), len(part))
    part = part.subset(np.arange(n))
    names = [p.name for p in bundle.neuron_populations]
    preds: dict[str, np.ndarray] = {"labels": part.labels}
    summary: dict[str, Any] = {"split": split, "samples": n}
    inputs = simulation_inputs(
        bundle_dir,
        config,
        split=split,
        samples=samples,
        lava_samples=lava_samples,
        divergence_samples=divergence_samples,
    )

    model_path = source_model_path(Path(bundle_dir), bundle.manifest)
    lava_n = min(lava_samples, n)
    n_div = min(divergence_samples, n) if model_path is not None else 0
    # the first samples also keep rasters (and v for the divergence): each sample runs once
    head = min(n, max(1, lava_n, n_div))
    engine = make_backend(backend, bundle, **({"device": device} if backend == "torch" else {}))  # the fixed point
    summary["backend"] = backend if backend == "cpu" else f"{backend} ({device})"
    fixed: list[np.ndarray] = []
    act_s: np.ndarray | float = 0.0  # spikes and active neurons per step and neuron, summed over chunks
    act_a: np.ndarray | float = 0.0
    seconds, first_run = 0.0, None
    synchrony = Synchrony()  # from every sample's rasters (the first chunk's are also kept)
    for start in [0, *range(head, n, CPU_CHUNK)] if n else []:
        stop = head if start == 0 else min(start + CPU_CHUNK, n)
        r = engine.run(
            part.spikes(np.arange(start, stop)),
            activity=True,
            record=tuple(names),
            record_v=start == 0 and n_div > 0,
        )
        for name in names:
            synchrony.add(name, r.spikes[name])
        first_run = r if start == 0 else first_run
        fixed.append(predict(r.counts))
        assert r.activity_spikes is not None and r.activity_active is not None  # activity=True
        act_s, act_a, seconds = act_s + r.activity_spikes, act_a + r.activity_active, seconds + r.seconds
    if first_run is None:  # no sample: an empty result (nothing below reads it then)
        first_run = SimResult(np.zeros((0, bundle.output.size), np.int64))
    preds["fixed_cpu"] = np.concatenate(fixed) if fixed else np.zeros(0, np.int64)
    summary["synchrony"] = synchrony.result()
    summary["cpu_seconds"] = seconds
    rasters = {bundle.input.name: part.spikes(np.arange(1))[0].astype(np.uint8)} if n else {}
    if n:
        rasters.update({k: v[0] for k, v in first_run.spikes.items()})

    summary["lava_samples"] = lava_n
    if lava_n:
        x = part.spikes(np.arange(lava_n))
        lava = make_backend("lava", bundle, timeout_s=timeout_s).run(x, record=tuple(names))
        ref = {k: v[:lava_n] for k, v in first_run.spikes.items()}
        preds["lava"] = predict(lava.counts)
        summary.update(
            lava_seconds=lava.seconds,
            cpu_vs_lava_spike_mismatches=spike_mismatches(ref, lava.spikes),
            lava_entries_compared=int(sum(v.size for v in ref.values())),
            lava_spikes=int(sum(v.sum() for v in ref.values())),
        )

    summary["model"] = str(model_path) if model_path else None
    if model_path is None:
        note("simulate: the bundle's model.pt was not found (or changed since compiling): no float / quantized stages")
    else:
        from neuromotif.search.train import load_model

        model, _ = load_model(model_path)
        model.set_target(bundle.numeric, int(bundle.manifest["quantization"]["max_profiles"]))  # as compiled
        torch_preds, traces = _torch_stages(model, part, n_div, names, config.train)
        preds.update(torch_preds)
        if n_div:
            summary["divergence"] = divergence(traces, bundle, first_run.head(n_div))

    summary["accuracy"] = {
        k: float((v == part.labels[: len(v)]).mean()) if len(v) else None for k, v in preds.items() if k != "labels"
    }
    out = Path(out)
    atomic_save_npz(out / "predictions.npz", **preds)
    atomic_save_npz(out / "activity.npz", spikes=np.asarray(act_s), active=np.asarray(act_a), samples=np.asarray(n))
    atomic_save_npz(out / "rasters.npz", **rasters)
    summary["inputs"] = inputs
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=2))  # last: marks the simulation done
    return summary
