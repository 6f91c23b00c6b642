"""``neuromotif run``: data -> search (when configured) -> train -> compile -> simulate -> report.

Every stage leaves its result in the run directory and is skipped when that result is already
there and current, so an interrupted run resumes (search and training resume mid-way from
their checkpoints); ``force`` starts over.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from deploy.bundle import read_bundle, sha256
from search.atomic import atomic_path, atomic_write_text
from search.config import Config
from search.errors import InputError
from search.progress import note

SIM_DIR = "simulation"
CPU_CHUNK = 1024


def _search_done(out: Path, config: Config) -> bool:
    history = out / "search" / "history.jsonl"
    return (out / "search" / "architecture.yaml").exists() and history.exists() and \
        len(history.read_text().splitlines()) >= config.search.epochs


def _train_done(out: Path, config: Config) -> bool:
    history = out / "train" / "history.jsonl"
    return (out / "model.pt").exists() and history.exists() and \
        len(history.read_text().splitlines()) >= config.train.epochs


def _bundle_current(out: Path) -> bool:
    try:
        return read_bundle(out / "bundle").manifest["source"]["sha256"] == sha256(out / "model.pt")
    except (InputError, KeyError, OSError):
        return False


def simulate_run(out: Path, config: Config) -> dict[str, Any]:
    """Float, quantized and fixed-point (CPU) predictions on the split; Lava on the first samples."""
    import torch

    from deploy.backends.cpu import CPUBackend
    from deploy.compile import spike_mismatches
    from deploy.divergence import divergence
    from search.data import load_dataset
    from search.train import evaluate, load_model

    bundle = read_bundle(out / "bundle")
    data = load_dataset(config.data, config.seed)
    split = data.split(config.simulate.split)
    n = min(config.simulate.samples or len(split), len(split))
    split = split.subset(np.arange(n))
    model, _ = load_model(out / "model.pt")
    device = torch.device("cpu")
    preds = {"labels": split.labels, "float": evaluate(model, split, device, "float")["predictions"],
             "quantized": evaluate(model, split, device, "quantized")["predictions"]}
    cpu = CPUBackend(bundle)
    fixed, act_s, act_a, seconds = [], 0.0, 0.0, 0.0
    for start in range(0, n, CPU_CHUNK):
        r = cpu.run(split.spikes(np.arange(start, min(start + CPU_CHUNK, n))), activity=True)
        fixed.append(np.argmax(r.counts, 1))
        act_s, act_a, seconds = act_s + r.activity_spikes, act_a + r.activity_active, seconds + r.seconds
    preds["fixed_cpu"] = np.concatenate(fixed)
    summary: dict[str, Any] = {"split": config.simulate.split, "samples": n, "cpu_seconds": seconds}
    lava_n = min(config.simulate.lava_samples, n)
    summary["lava_samples"] = lava_n
    if lava_n:
        from deploy.backends.lava import LavaBackend

        x = split.spikes(np.arange(lava_n))
        names = tuple(p.name for p in bundle.lif_populations)
        lava = LavaBackend(bundle, config.simulate.timeout_s).run(x, record=names)
        ref = cpu.run(x, record=names)
        preds["lava"] = np.argmax(lava.counts, 1)
        summary.update(lava_seconds=lava.seconds, cpu_vs_lava_spike_mismatches=spike_mismatches(ref.spikes, lava.spikes),
                       lava_spikes_compared=int(sum(v.size for v in ref.spikes.values())))
    if config.simulate.divergence_samples:
        summary["divergence"] = divergence(model, bundle, split.spikes(np.arange(min(config.simulate.divergence_samples, n))))
    sim = out / SIM_DIR
    with atomic_path(sim / "predictions.npz") as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **preds)
    with atomic_path(sim / "activity.npz") as tmp, open(tmp, "wb") as fh:
        np.savez(fh, spikes=act_s, active=act_a, samples=np.int64(n))
    atomic_write_text(sim / "summary.json", json.dumps(summary, indent=2))
    return summary


def run_pipeline(config: Config, out: Path, force: bool = False) -> dict[str, Any]:
    from deploy.compile import compile_model
    from deploy.report import build_report
    from search.pipeline import prepare_run_dir, train_model

    prepare_run_dir(out, config, force)
    arch_file = None
    if config.search.enabled:
        arch_file = out / "search" / "architecture.yaml"
        if _search_done(out, config):
            note("[1/5] search: done already")
        else:
            from search.hrmas import run_search

            note("[1/5] search (HRMAS)")
            run_search(config, out)
    else:
        note("[1/5] search: off (search.enabled = false)")
    if _train_done(out, config):
        note("[2/5] train: done already")
    else:
        note("[2/5] train")
        train_model(config, out, arch_file)
    if _bundle_current(out):
        note("[3/5] compile: done already")
    else:
        note(f"[3/5] compile for {config.compile.chip}")
        compile_model(out / "model.pt", config.compile.chip, out / "bundle", config.compile.max_profiles)
    note("[4/5] simulate (CPU backend on the split, Lava on the first samples)")
    simulate_run(out, config)
    note("[5/5] report")
    return build_report(out)
