"""``neuromotif run``: data -> search (when configured) -> train -> compile -> simulate -> report.

Every stage leaves its result in the run directory and is skipped when that result is already
there and current, so an interrupted run resumes (search and training resume mid-way from
their checkpoints); ``force`` starts over.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from neuromotif.config import Config
from neuromotif.core.errors import InputError
from neuromotif.core.progress import note
from neuromotif.simulation import SIM_DIR, simulate_bundle, simulation_current, simulation_inputs
from neuromotif.stages import (
    compile_checkpoint,
    join_group,
    main_process,
    prepare_run_dir,
    search_stage,
    stage_done,
    train_model,
)


def _search_done(out: Path) -> bool:
    """The search ended (all iterations, or stopped early by its entropy criterion)."""
    return stage_done(out / "search") and (out / "search" / "architecture.yaml").exists()


def _train_done(out: Path) -> bool:
    return stage_done(out / "train") and (out / "model.pt").exists()


def _bundle_stale(out: Path, config: Config) -> str | None:
    """Why the run's bundle must be compiled again (None: it is current): it is missing or
    damaged, or was compiled from another model.pt, for another chip spec or other compile settings
    (e.g. by `neuromotif compile RUN --chip ...` since)."""
    import dataclasses

    from neuromotif.deploy.bundle import read_bundle, sha256
    from neuromotif.hw_models import load_chip
    from neuromotif.hw_models.chip import numeric_for_target

    try:
        m = read_bundle(out / "bundle").manifest
        if m["source"]["sha256"] != sha256(out / "model.pt"):
            return "the model changed"
    except (InputError, KeyError, OSError):
        return "no readable bundle"
    c = config.compile
    chip = load_chip(c.chip)
    chip = dataclasses.replace(chip, numeric=numeric_for_target(chip.numeric, c.target))  # as compile records it
    if m.get("chip_spec") != json.loads(json.dumps(dataclasses.asdict(chip))):
        return f"the bundle was compiled for another chip ({m.get('chip')})"
    recorded = (m.get("neurons_per_core"), m.get("quantization", {}).get("max_profiles"), m.get("target"))
    if c.neurons_per_core == "auto":
        from neuromotif.packing import packing_request

        asked = packing_request(config, (m.get("data") or {}).get("dt_ms"))
        if {k: (m.get("packing") or {}).get(k) for k in asked} != asked:
            return "the bundle's packing was chosen with other settings"
        recorded = ("auto", *recorded[1:])
    if recorded != (c.neurons_per_core, c.max_profiles, c.target):
        return "the bundle was compiled with other compile settings"
    return None


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
    stale = _bundle_stale(out, config)
    if stale is None:
        note("[3/5] compile: done already")
    else:
        note(f"[3/5] compile for {config.compile.chip}" + (f" ({stale})" if (out / "bundle").exists() else ""))
        compile_checkpoint(
            out / "model.pt",
            config.compile.chip,
            out / "bundle",
            config.compile.max_profiles,
            config.compile.neurons_per_core,
            config.compile.target,
            config,
        )
    s = config.simulate
    settings: dict[str, Any] = {
        "split": s.split,
        "samples": s.samples,
        "lava_samples": s.lava_samples,
        "divergence_samples": s.divergence_samples,
    }
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
