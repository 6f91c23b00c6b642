"""``neuromotif run``: data -> search (when configured) -> train -> compile -> simulate -> report.

Every stage leaves its result in the run directory and is skipped when that result is already
there and current, so an interrupted run resumes (search and training resume mid-way from
their checkpoints); ``force`` starts over.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from neuromotif.config import Config
from neuromotif.core.errors import InputError
from neuromotif.core.progress import note
from neuromotif.simulation import SIM_DIR, simulate_bundle, simulation_current, simulation_inputs
from neuromotif.stages import (compile_checkpoint, join_group, main_process, prepare_run_dir, search_stage,
                               stage_done, train_model)


def _search_done(out: Path) -> bool:
    """The search ended (all iterations, or stopped early by its entropy criterion)."""
    return stage_done(out / "search") and (out / "search" / "architecture.yaml").exists()


def _train_done(out: Path) -> bool:
    return stage_done(out / "train") and (out / "model.pt").exists()


def _bundle_current(out: Path) -> bool:
    from neuromotif.deploy.bundle import read_bundle, sha256

    try:
        return read_bundle(out / "bundle").manifest["source"]["sha256"] == sha256(out / "model.pt")
    except (InputError, KeyError, OSError):
        return False


def run_pipeline(config: Config, out: Path, force: bool = False) -> dict[str, Any] | None:
    from neuromotif.report import build_report, report_current

    if config.search.enabled or not _train_done(out):
        join_group(config)  # torchrun: every rank searches and trains; rank 0 alone goes on
    prepare_run_dir(out, config, force)
    arch_file = None
    if config.search.enabled:
        arch_file = out / "search" / "architecture.yaml"
        if _search_done(out):
            note("[1/5] search: done already")
        else:
            note("[1/5] search (HRMAS)")
            search_stage(config, out)
    else:
        note("[1/5] search: off (search.enabled = false)")
    if _train_done(out):
        note("[2/5] train: done already")
    else:
        note("[2/5] train")
        train_model(config, out, arch_file)
    if not main_process():
        return None
    if _bundle_current(out):
        note("[3/5] compile: done already")
    else:
        note(f"[3/5] compile for {config.compile.chip}")
        compile_checkpoint(out / "model.pt", config.compile.chip, out / "bundle", config.compile.max_profiles,
                           config.compile.neurons_per_core, config.compile.target)
    s = config.simulate
    settings = {"split": s.split, "samples": s.samples, "lava_samples": s.lava_samples,
                "divergence_samples": s.divergence_samples}
    if simulation_current(out / SIM_DIR, simulation_inputs(out / "bundle", config, **settings)):
        note("[4/5] simulate: done already")
    else:
        note("[4/5] simulate (CPU backend on the split, Lava on the first samples)")
        simulate_bundle(out / "bundle", out / SIM_DIR, timeout_s=s.timeout_s, config=config, **settings)
    current = report_current(out, config)
    if current is not None:
        note("[5/5] report: done already")
        return current
    note("[5/5] report")
    return build_report(out)
