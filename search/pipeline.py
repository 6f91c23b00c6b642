"""The `train` step as a library call: config -> data -> architecture -> trained ``model.pt``.

Used by ``neuromotif train`` and (later) ``neuromotif run``. A run directory is resumable:
the saved ``config.yaml`` must match the config asked for, unless ``force``.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from search.arch import ArchSpec, NeuronParams, build_arch
from search.config import Config, dump_config, save_config
from search.data import DatasetSplits, load_dataset
from search.errors import InputError


def prepare_run_dir(out: Path, config: Config, force: bool) -> None:
    """Create ``out`` with ``config.yaml``; refuse to mix a different config into an existing run."""
    saved = out / "config.yaml"
    if force and out.exists():
        for name in ("model.pt", "train", "config.yaml", "search", "bundle", "simulation", "report.json",
                     "report.md", "raster.png", "accuracy.png", "energy.png", "utilisation.png", "placement.png"):
            target = out / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
    if saved.exists() and saved.read_text() != dump_config(config):
        raise InputError(f"{out} holds a run with a different config ({saved}); use --force to start over "
                         "or choose another --out")
    save_config(config, saved)


def architecture(config: Config, data: DatasetSplits, arch_file: Path | None) -> ArchSpec:
    """The architecture to train: ``--arch`` / ``model.arch`` if given, else built from ``model``."""
    path = arch_file or config.model.arch
    if path is not None:
        arch = ArchSpec.load(Path(path))
        if (arch.inputs, arch.classes) != (data.info.channels, data.info.classes):
            raise InputError(f"{path}: architecture has {arch.inputs} inputs / {arch.classes} classes but dataset "
                             f"{data.info.name} has {data.info.channels} / {data.info.classes}")
        return arch
    n = config.model.neuron
    return build_arch(config.model.kind, config.model.hidden, config.model.motif_size, data.info.channels,
                      data.info.classes, NeuronParams(n.du, n.dv, n.vth, n.bias), seed=config.seed)


def train_model(config: Config, out: Path, arch_file: Path | None = None, force: bool = False) -> dict[str, Any]:
    """Train (resuming when possible) and write ``out/model.pt``; returns the metrics."""
    from search.model import RSNN
    from search.train import Trainer, evaluate, resolve_device, save_model

    resolve_device(config.train.device)  # fail fast on a bad --device, before loading data
    prepare_run_dir(out, config, force)
    data = load_dataset(config.data, config.seed)
    arch = architecture(config, data, arch_file)
    model = RSNN(arch, seed=config.seed)
    from search.plasticity import from_config

    ip = from_config(config.search.ip) if config.train.ip else None
    trainer = Trainer(model, data, config.train, config.seed, out, ip=ip, ip_window=config.search.ip.window)
    summary = trainer.fit(resume=True)
    best = trainer.best_model()
    metrics = {**summary,
               "test_accuracy_float": evaluate(best, data.test, trainer.device, "float")["accuracy"],
               "test_accuracy_quantized": evaluate(best, data.test, trainer.device, "quantized")["accuracy"],
               "neurons": sum(s.neurons for s in arch.layers), "arch_source": arch.source}
    save_model(out / "model.pt", best, config, data, metrics, trainer.history)
    return metrics
