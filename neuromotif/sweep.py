"""Sweeps: many independent `neuromotif run`s (a grid of ``--set`` overrides), by hand or on Ray.

Each trial is exactly ``neuromotif run CONFIG --out SWEEP/<trial> --set ...``: the same run
directory, resumable from its checkpoints, with its own lock, so a result is the same whether
Ray or a loop ran it, and a trial retried after its worker died continues where it stopped
instead of starting twice. ``executor="ray"`` starts a local Ray (the machine's cores, no
dashboard, usage statistics off) or joins a cluster (``address`` / ``RAY_ADDRESS``), runs one
task per trial (``cpus_per_trial`` cores each, retried up to ``retries`` times), and rewrites
the summary (``sweep.json``, ``sweep.md``) as each trial finishes. Single runs never go
through Ray: its start-up (seconds) only pays off for runs of minutes.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from neuromotif.core.errors import InputError
from neuromotif.core.io import atomic_write_text
from neuromotif.core.progress import note
from neuromotif.core.provenance import provenance


@dataclass(frozen=True)
class Trial:
    """One point of a sweep: a name (its run directory) and the ``--set`` overrides it adds."""

    name: str
    overrides: tuple[str, ...] = field(default_factory=tuple)


def grid(axes: list[str]) -> list[Trial]:
    """``["train.lr=1e-3,3e-3", "seed=0,1"]`` -> the 4 trials of the product, named by their values."""
    keys, values = [], []
    for axis in axes:
        if "=" not in axis:
            raise InputError(f"--grid {axis!r}: write KEY=V1,V2,... (e.g. --grid train.lr=1e-3,3e-3)")
        key, raw = axis.split("=", 1)
        options = [v.strip() for v in _split(raw) if v.strip()]
        if not key.strip() or not options:
            raise InputError(f"--grid {axis!r}: needs a key and at least one value")
        keys.append(key.strip())
        values.append(_distinct(key.strip(), options))
    trials = []
    for combo in itertools.product(*values):
        name = "__".join(f"{k.split('.')[-1]}-{_slug(v)}" for k, v in zip(keys, combo, strict=True)) or "default"
        trials.append(Trial(name, tuple(f"{k}={v}" for k, v in zip(keys, combo, strict=True))))
    if len({t.name for t in trials}) != len(trials):
        raise InputError("--grid values give two trials the same name; make the values distinct")
    return trials


def _distinct(key: str, options: list[str]) -> list[str]:
    """The values as the config schema reads them, each once (``1e-3`` and ``0.001`` are one trial)."""
    from neuromotif.config import load_config

    seen: dict[str, str] = {}
    for option in options:
        value = load_config(None, [f"{key}={option}"])
        for part in key.split("."):
            value = getattr(value, part)
        normal = repr(value.model_dump() if hasattr(value, "model_dump") else value)
        if normal in seen:
            note(f"--grid {key}: {option} is the same value as {seen[normal]}; one trial")
        else:
            seen[normal] = option
    return list(seen.values())


def _split(raw: str) -> list[str]:
    """Split on commas outside brackets (``model.hidden=[128],[256]``)."""
    parts, depth, cur = [], 0, ""
    for ch in raw:
        depth += ch in "[{("
        depth -= ch in "]})"
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    return parts + [cur]


def _slug(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9.+-]+", "_", value).strip("_") or "x"


def run_trial(
    config_path: str | None, base_overrides: tuple[str, ...], trial: Trial, root: str, data_root: str | None = None
) -> dict[str, Any]:
    """One trial, as `neuromotif run` does it; returns its summary row (runs in a Ray worker too)."""
    from neuromotif.config import load_config
    from neuromotif.run import run_pipeline
    from neuromotif.stages import release_run_dir

    out = Path(root) / trial.name
    t0 = time.perf_counter()
    config = load_config(config_path, trial_overrides(base_overrides, trial, data_root))
    try:
        report = run_pipeline(config, out)
    finally:
        release_run_dir(out)  # Ray workers live on and run other trials
    assert report is not None  # None only on a torchrun rank other than 0; a sweep trial is one process
    return summary_row(trial, out, report, time.perf_counter() - t0)


def trial_overrides(base: tuple[str, ...] | list[str], trial: Trial, data_root: str | None = None) -> list[str]:
    return [*base, *trial.overrides, *([f"data.root={data_root}"] if data_root else [])]


def check_trials(config_path: Path | None, base: list[str], trials: list[Trial], data_root: Path | None) -> None:
    """Validate every trial's config before any starts (a bad grid value is exit 2 up front)."""
    from neuromotif.config import load_config

    for trial in trials:
        load_config(config_path, trial_overrides(base, trial, str(data_root) if data_root else None))


def summary_row(trial: Trial, out: Path, report: dict[str, Any], seconds: float) -> dict[str, Any]:
    a = report["accuracy"]
    return {
        "trial": trial.name,
        "overrides": list(trial.overrides),
        "run_dir": str(out),
        "status": "done",
        "accuracy_float": a["float"],
        "accuracy_fixed": a["fixed_cpu"],
        "energy_uJ": report["energy"]["per_inference_J"] * 1e6,
        "latency_ms": report["latency"]["per_inference_s"] * 1e3,
        # [low, high] from the cost table's uncertainty (reports before it: None)
        **{
            f"{key}_{end}": (report[section][bounds][i] * scale if bounds in report[section] else None)
            for key, section, bounds, scale in (
                ("energy_uJ", "energy", "bounds_J", 1e6),
                ("latency_ms", "latency", "bounds_s", 1e3),
            )
            for i, end in enumerate(("low", "high"))
        },
        "mode": report.get("operation", {}).get("mode"),
        "cores": report["resources"]["cores"],
        "seconds": seconds,
    }


def write_summary(root: Path, rows: dict[str, dict[str, Any]], trials: list[Trial]) -> None:
    ordered = [rows.get(t.name, {"trial": t.name, "overrides": list(t.overrides), "status": "pending"}) for t in trials]
    atomic_write_text(root / "sweep.json", json.dumps({"provenance": provenance(), "trials": ordered}, indent=2))
    lines = [
        "| trial | overrides | status | float (%) | fixed point (%) | µJ / inference | ms / inference | cores |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in ordered:
        if r["status"] == "done":
            lines.append(
                f"| [{r['trial']}]({r['trial']}/report.md) | {' '.join(r['overrides'])} | done | "
                f"{100 * r['accuracy_float']:.2f} | {100 * r['accuracy_fixed']:.2f} | {r['energy_uJ']:.2f} | "
                f"{r['latency_ms']:.3f} | {r['cores']} |"
            )
        else:
            status = f"failed: {r['error']}" if r["status"] == "failed" else r["status"]
            lines.append(f"| {r['trial']} | {' '.join(r['overrides'])} | {status} | | | | | |")
    atomic_write_text(root / "sweep.md", "\n".join(lines) + "\n")


def run_sweep(
    config_path: Path | None,
    base_overrides: list[str],
    trials: list[Trial],
    root: Path,
    executor: str = "local",
    address: str | None = None,
    cpus_per_trial: float = 1.0,
    retries: int = 2,
    data_root: Path | None = None,
) -> list[dict[str, Any]]:
    """Every trial to completion (``local``: one after another here; ``ray``: as Ray tasks)."""
    check_trials(config_path, base_overrides, trials, data_root)
    root = Path(root).resolve()
    root.mkdir(parents=True, exist_ok=True)
    args = (str(config_path.resolve()) if config_path else None, tuple(base_overrides))
    dr = str(data_root) if data_root else None
    rows: dict[str, dict[str, Any]] = {}
    write_summary(root, rows, trials)
    if executor == "local":
        for i, trial in enumerate(trials, 1):
            note(f"sweep {i}/{len(trials)}: {trial.name}")
            rows[trial.name] = run_trial(*args, trial, str(root), dr)
            write_summary(root, rows, trials)
        return [rows[t.name] for t in trials]
    if executor != "ray":
        raise InputError(f"--executor {executor!r}: use local or ray")
    return _run_on_ray(args, trials, root, rows, address, cpus_per_trial, retries, dr)


def ray_init(address: str | None, cpus: int | None = None):
    """Start (or join) Ray quietly: no dashboard, no usage statistics, our log level."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    try:
        import ray
    except ImportError:
        raise InputError("Ray is not installed: pip install 'ray[tune]==2.60.0' 'pyarrow<26' (or make setup)") from None
    address = address or os.environ.get("RAY_ADDRESS")
    if not ray.is_initialized():
        kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "logging_level": "ERROR"}
        if address:
            ray.init(address=address, **kwargs)
        else:
            ray.init(num_cpus=cpus or os.cpu_count(), **kwargs)
    return ray


def map_tasks(
    fn: Callable,
    items: list,
    on_done: Callable[[int, Any], None],
    address: str | None = None,
    cpus_per_task: float = 1.0,
    retries: int = 2,
    on_error: Callable[[int, Exception], None] | None = None,
) -> list:
    """``fn(item)`` for every item as Ray tasks (retried when a worker dies); ``on_done(i, result)``
    as each finishes. An item that raises ends the whole map, unless ``on_error(i, error)`` is
    given: then it is reported there and the other items go on (its result stays None). The engine
    under the sweeps and the HRMAS ablation."""
    ray = ray_init(address)
    remote = ray.remote(num_cpus=cpus_per_task, max_retries=retries, retry_exceptions=False)(fn)
    pending = {remote.remote(item): i for i, item in enumerate(items)}
    results: list = [None] * len(items)
    while pending:
        done, _ = ray.wait(list(pending), num_returns=1)
        i = pending.pop(done[0])
        try:
            results[i] = ray.get(done[0])
        except Exception as error:  # the task's own exception (a worker that died was retried)
            if on_error is None:
                raise
            on_error(i, error)
            continue
        on_done(i, results[i])
    return results


def _run_on_ray(
    args: tuple[str | None, tuple[str, ...]], trials, root, rows, address, cpus_per_trial, retries, data_root
) -> list[dict[str, Any]]:
    def finished(i: int, row: dict[str, Any]) -> None:
        rows[trials[i].name] = row
        write_summary(root, rows, trials)
        note(f"sweep: {trials[i].name} done ({len(rows)}/{len(trials)})")

    failed: list[str] = []

    def broke(i: int, error: Exception) -> None:
        """One trial's failure is recorded and the others go on: a long sweep is not lost to it."""
        cause = getattr(error, "cause", None) or error
        reason = f"{type(cause).__name__}: {str(cause).strip().splitlines()[-1] if str(cause).strip() else ''}"
        rows[trials[i].name] = {
            "trial": trials[i].name,
            "overrides": list(trials[i].overrides),
            "status": "failed",
            "error": reason,
        }
        failed.append(trials[i].name)
        write_summary(root, rows, trials)
        note(f"sweep: {trials[i].name} failed ({reason}); the other trials go on")

    def one(trial: Trial) -> dict[str, Any]:
        from neuromotif.core.progress import set_quiet

        set_quiet(True)  # a worker's progress bars would interleave in the driver's terminal
        return run_trial(*args, trial, str(root), data_root)

    results = map_tasks(one, trials, finished, address, cpus_per_trial, retries, on_error=broke)
    if failed:
        raise RuntimeError(
            f"{len(failed)} of {len(trials)} sweep trials failed ({', '.join(failed)}): the reasons are in "
            f"{root / 'sweep.md'}; the finished trials are kept, and rerunning the sweep retries the failed ones"
        )
    return results
