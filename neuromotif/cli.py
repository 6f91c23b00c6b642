"""The ``neuromotif`` command line.

Exit codes: 0 success, 2 bad input (one line on stderr, no traceback), 1 internal error
(one line; ``NEUROMOTIF_DEBUG=1`` shows the traceback), 130 interrupted. Heavy imports
(torch, Lava) happen inside the commands that need them, so ``--help`` is instant.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import traceback
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from neuromotif.config import Config, dump_config, load_config
from neuromotif.core.errors import InputError, Terminated
from neuromotif.core.progress import set_quiet
from neuromotif.core.versions import tool_version
from neuromotif.deploy.backends import DEFAULT_TIMEOUT_S
from neuromotif.hw_models.chip import TARGETS
from neuromotif.hw_models.errors import HardwareModelError

PROG = "neuromotif"
# Pipes and CI logs get a wide console: rich's 80-column default folds tables badly.
stdout = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 160)


def _set_quiet(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        set_quiet(True)


def quiet_option(func):
    """``-q/--quiet`` accepted after the verb as well as before it."""
    return click.option(
        "-q", "--quiet", is_flag=True, expose_value=False, callback=_set_quiet, help="No progress bars or chatter."
    )(func)


def config_options(func):
    """``CONFIG``, ``--set``, ``--data-root`` and ``--quiet``: how every config-driven verb is called."""
    func = quiet_option(func)
    func = click.option(
        "--data-root",
        type=click.Path(path_type=Path, file_okay=False),
        help="Folder holding real datasets (sets data.root).",
    )(func)
    func = click.option(
        "--set",
        "overrides",
        multiple=True,
        metavar="KEY=VALUE",
        help="Override a config value, e.g. --set train.epochs=5 (repeatable).",
    )(func)
    return click.argument("config", type=click.Path(path_type=Path, dir_okay=True))(func)


def check_data_root(data_root: Path | None) -> None:
    if data_root is not None and not data_root.is_dir():
        raise InputError(
            f"--data-root {data_root}: the folder does not exist; give the folder that holds the "
            "datasets (ROOT/NMNIST, ROOT/SHD, ...)"
        )
    env = os.environ.get("NEUROMOTIF_DATA")
    if data_root is None and env and not Path(env).expanduser().is_dir():
        raise InputError(
            f"NEUROMOTIF_DATA={env}: the folder does not exist; point it at the folder that holds the "
            "datasets (ROOT/NMNIST, ROOT/SHD, ...) or unset it"
        )


def load_cli_config(config: Path, overrides: tuple[str, ...], data_root: Path | None) -> Config:
    check_data_root(data_root)
    extra = [f"data.root={data_root}"] if data_root is not None else []
    return load_config(config, list(overrides) + extra)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(tool_version(), "--version", prog_name=PROG)
@click.option("-q", "--quiet", is_flag=True, help="No progress bars or chatter; results and errors only.")
def cli(quiet: bool) -> None:
    """neuromotif: recurrent spiking networks from architecture search to simulated Loihi deployment.

    Every verb reads a YAML config (see configs/) and accepts --set section.key=value.
    """
    set_quiet(quiet)


def _cost_phrase(report: dict) -> str:
    """E.g. ``30.83 µJ [15.4-61.7] and 0.533 ms [0.107-1.07] per inference (throughput, static per chip)``."""
    from neuromotif.report_html import span

    e, lat, op = report["energy"], report["latency"], report["operation"]
    return (
        f"{e['per_inference_J'] * 1e6:.2f} µJ [{span(e['bounds_J'], 1e6)}] and {lat['per_inference_s'] * 1e3:.3f} ms "
        f"[{span(lat['bounds_s'], 1e3)}] per inference "
        f"({op['mode']}, static {op['static_accounting'].replace('_', ' ')})"
    )


@cli.command()
@config_options
@click.option("--print", "show", is_flag=True, help="Print the parsed config with every default filled in.")
def validate(config: Path, overrides: tuple[str, ...], data_root: Path | None, show: bool) -> None:
    """Check CONFIG (keys, values, dataset availability) without running anything."""
    from neuromotif.stages import preflight

    cfg = load_cli_config(config, overrides, data_root)
    if show:
        click.echo(dump_config(cfg), nl=False)
        return
    est = preflight(cfg)  # the very checks every stage runs before it starts
    m = cfg.model
    stdout.print(
        f"[green]ok[/green]: {config} is valid: dataset {cfg.data.name}, model {m.kind} "
        f"{m.hidden} (motif {m.motif_size}), search {'on' if cfg.search.enabled else 'off'}, "
        f"chip {cfg.compile.chip}, seed {cfg.seed}; {est.describe()}"
    )


def run_options(func):
    """``--out``, ``--seed``, ``--device``, ``--force``: what every verb that produces a run takes."""
    func = click.option("--force", is_flag=True, help="Start over instead of resuming what exists in --out.")(func)
    func = click.option("--device", default=None, help="torch device, e.g. cpu or cuda (sets train.device).")(func)
    func = click.option("--seed", type=click.IntRange(min=0), default=None, help="Random seed (sets seed).")(func)
    return click.option(
        "--out",
        type=click.Path(path_type=Path, file_okay=False),
        default=None,
        help="Run directory (default: runs/<config name>).",
    )(func)


def run_config(config: Path, overrides, data_root, seed, device) -> Config:
    extra = (
        list(overrides)
        + ([f"seed={seed}"] if seed is not None else [])
        + ([f"train.device={device}"] if device else [])
    )
    return load_cli_config(config, tuple(extra), data_root)


@cli.command()
@config_options
@run_options
@click.option(
    "--arch",
    "arch_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="architecture.yaml (from `neuromotif search`) to train instead of the config's model.",
)
def train(config: Path, overrides, data_root, out, seed, device, force, arch_file) -> None:
    """Train the network of CONFIG (or --arch) and write OUT/model.pt. Resumes an interrupted run."""
    from neuromotif.stages import main_process, train_model

    cfg = run_config(config, overrides, data_root, seed, device)
    out = out or Path("runs") / config.stem
    metrics = train_model(cfg, out, arch_file, force)
    if not main_process():
        return
    stdout.print(
        f"[green]trained[/green] {metrics['arch_source']} ({metrics['neurons']} neurons) on "
        f"{cfg.data.name}: best val {metrics['best_val_accuracy']:.4f} (epoch {metrics['best_epoch']}), "
        f"test float {metrics['test_accuracy_float']:.4f}, quantized {metrics['test_accuracy_quantized']:.4f}"
        f" -> {out / 'model.pt'}"
    )


@cli.command()
@config_options
@run_options
def search(config: Path, overrides, data_root, out, seed, device, force) -> None:
    """Run HRMAS on CONFIG: write OUT/search/architecture.yaml (train it with `neuromotif train --arch`).
    Resumes an interrupted search."""
    from neuromotif.stages import main_process, search_stage

    cfg = run_config(config, overrides, data_root, seed, device)
    out = out or Path("runs") / config.stem
    arch = search_stage(cfg, out, force)
    if not main_process():
        return
    layer = arch.layers[0]
    counts = {c: int((layer.intra == v).sum()) for c, v in (("E", 1), ("I", -1), ("absent", 0))}
    stdout.print(
        f"[green]found[/green] {arch.source}: motif size {layer.motif_size}, intra-motif E/I/absent "
        f"{counts['E']}/{counts['I']}/{counts['absent']} -> {out / 'search' / 'architecture.yaml'}"
    )


@cli.command()
@config_options
@run_options
def run(config: Path, overrides, data_root, out, seed, device, force) -> None:
    """The whole pipeline on CONFIG: search (if on) -> train -> compile -> simulate (CPU + Lava) ->
    report. Resumes from what OUT holds; --force starts over."""
    from neuromotif.run import run_pipeline

    cfg = run_config(config, overrides, data_root, seed, device)
    out = out or Path("runs") / config.stem
    report = run_pipeline(cfg, out, force)
    if report is None:  # a torchrun rank other than 0: rank 0 compiles, simulates and reports
        return
    a = report["accuracy"]
    stdout.print(
        f"[green]done[/green]: {report['dataset']['name']} on {report['chip']}: accuracy float "
        f"{a['float']:.4f}, fixed point {a['fixed_cpu']:.4f}, "
        f"Lava {a['lava'] if a['lava'] is None else round(a['lava'], 4)} "
        f"({report['agreement']['cpu_vs_lava_spike_mismatches']} spike mismatches); "
        f"{_cost_phrase(report)} on {report['resources']['cores']} cores -> {out / 'report.md'}"
    )


@cli.command()
@config_options
@click.option(
    "--grid",
    "axes",
    multiple=True,
    required=True,
    metavar="KEY=V1,V2,...",
    help="A swept setting (repeatable; the trials are the product of all --grid axes).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    required=True,
    help="Sweep directory: one run directory per trial, sweep.json and sweep.md.",
)
@click.option(
    "--executor",
    type=click.Choice(["local", "ray"]),
    default="local",
    show_default=True,
    help="local: one trial after another here; ray: one Ray task per trial.",
)
@click.option("--address", default=None, help="Ray cluster (ray://host:10001); default $RAY_ADDRESS or a local Ray.")
@click.option("--cpus-per-trial", type=click.FloatRange(min=0.01), default=1.0, show_default=True)
@click.option(
    "--retries",
    type=click.IntRange(min=0),
    default=2,
    show_default=True,
    help="Times a trial whose worker died is retried (it resumes from its checkpoints).",
)
def sweep(config: Path, overrides, data_root, axes, out, executor, address, cpus_per_trial, retries) -> None:
    """Run CONFIG once per point of a --grid (each a full `neuromotif run` in OUT/<trial>),
    locally or on Ray; resumable: finished trials are reused, interrupted ones resume."""
    from neuromotif.sweep import grid, run_sweep

    check_data_root(data_root)
    trials = grid(list(axes))
    rows = run_sweep(config, list(overrides), trials, out, executor, address, cpus_per_trial, retries, data_root)
    best = max(rows, key=lambda r: r["accuracy_fixed"])
    stdout.print(
        f"[green]swept[/green] {len(rows)} trials ({executor}); best fixed-point accuracy "
        f"{best['accuracy_fixed']:.4f} ({best['trial']}) -> {Path(out) / 'sweep.md'}"
    )


@cli.command()
@config_options
@click.option(
    "--lambdas",
    "lambdas",
    multiple=True,
    required=True,
    metavar="OBJECTIVE=W1,W2,...",
    help="Cost weights to try (energy per µJ, latency per ms, cores, rate); repeatable. "
    "The accuracy-only point is always included.",
)
@click.option(
    "--grid",
    "axes",
    multiple=True,
    metavar="KEY=V1,V2,...",
    help="Also sweep a setting with every weight, e.g. --grid compile.neurons_per_core=256,64.",
)
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), required=True)
@click.option("--executor", type=click.Choice(["local", "ray"]), default="local", show_default=True)
@click.option("--address", default=None, help="Ray cluster (ray://host:10001); default $RAY_ADDRESS or a local Ray.")
@click.option("--cpus-per-trial", type=click.FloatRange(min=0.01), default=1.0, show_default=True)
def pareto(config: Path, overrides, data_root, lambdas, axes, out, executor, address, cpus_per_trial) -> None:
    """Search -> train -> compile -> simulate CONFIG once per cost weight and write the Pareto front
    of fixed-point accuracy against energy, latency and cores (OUT/pareto.json, .md, .png)."""
    from neuromotif.pareto import run_pareto

    check_data_root(data_root)
    rows = run_pareto(
        config, list(overrides), list(lambdas), out, executor, address, cpus_per_trial, data_root, list(axes)
    )
    front = [r["trial"] for r in rows if r["pareto"]]
    stdout.print(
        f"[green]pareto[/green]: {len(rows)} points, non-dominated: {', '.join(front)} -> {Path(out) / 'pareto.md'}"
    )


@cli.command()
@click.argument("run_dir", type=click.Path(path_type=Path, file_okay=False))
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override report settings, e.g. --set report.cost_table=sana_fe.",
)
@click.option(
    "--open",
    "open_html",
    is_flag=True,
    help="Print the path of report.html and open it in a browser when one can show it.",
)
@click.option(
    "--crosscheck",
    type=click.Choice(["sana-fe"]),
    default=None,
    help="Also run one sample on SANA-FE (optional extra `neuromotif[sanafe]`, GPL-3.0) and compare "
    "events, energy and step time with our models: RUN_DIR/crosscheck_sanafe.json and .md.",
)
@click.option(
    "--sample",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Which sample of the simulated split the cross-check runs.",
)
@quiet_option
def report(run_dir: Path, overrides, open_html: bool, crosscheck: str | None, sample: int) -> None:
    """Rebuild RUN_DIR/report.json, report.md, report.html and plots from the run's stored results."""
    from neuromotif.report import build_report

    if not (run_dir / "config.yaml").exists():
        raise InputError(f"{run_dir} is not a run directory (no config.yaml): run `neuromotif run` first")
    for item in overrides:
        if not item.strip().startswith("report."):
            raise InputError(
                f"--set {item}: `report` takes only report.* settings (it rebuilds from stored "
                "results); change other settings with `neuromotif run ... --set`"
            )
    cfg = load_config(run_dir / "config.yaml", list(overrides))
    if crosscheck:
        from neuromotif.core.io import atomic_write_text
        from neuromotif.sanafe_crosscheck import crosscheck_run, render

        result = crosscheck_run(run_dir, sample)
        table = render(result)
        atomic_write_text(run_dir / "crosscheck_sanafe.json", json.dumps(result, indent=2))
        atomic_write_text(run_dir / "crosscheck_sanafe.md", table + "\n")
        stdout.print(table, markup=False, highlight=False)
    rep = build_report(run_dir, cfg)
    stdout.print(f"report: {_cost_phrase(rep)} ({rep['energy']['cost_table']}) -> {run_dir / 'report.md'}")
    if open_html:
        page = (run_dir / "report.html").resolve()
        click.echo(str(page))
        if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or sys.platform == "darwin":
            import webbrowser

            webbrowser.open(page.as_uri())


class _NeuronsPerCore(click.ParamType):
    """A positive integer, or ``auto`` (the compiler chooses: neuromotif/packing.py)."""

    name = "N|auto"

    def convert(self, value, param, ctx):
        if value == "auto" or isinstance(value, int):
            return value
        try:
            number = int(value)
        except ValueError:
            number = 0
        if number < 1:
            self.fail(f"{value!r} is neither a positive integer nor 'auto'", param, ctx)
        return number


@cli.command(name="compile")
@click.argument("source", type=click.Path(path_type=Path))
@click.option("--chip", default=None, help="Chip name or chip YAML path (default: the model config's compile.chip).")
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Bundle directory (default: bundle/ beside the model).",
)
@click.option(
    "--max-profiles",
    type=click.IntRange(min=1, max=32),
    default=None,
    help="Distinct neuron decay profiles per population (one Lava LIF process each; "
    "default: the model's compile.max_profiles).",
)
@click.option(
    "--target",
    type=click.Choice(list(TARGETS)),
    default=None,
    help="netx: weight exponents 0 only, so `neuromotif export --format netx` carries the bundle exactly "
    "(default: the model config's compile.target; loihi for NIR sources).",
)
@click.option(
    "--neurons-per-core",
    type=_NeuronsPerCore(),
    default=None,
    help="At most this many neurons per core, or auto: the compiler prices every packing with the cost "
    "model on validation samples (compile.max_cores, compile.packing_objective, report.mode) and keeps the "
    "best (default: the model config's compile.neurons_per_core).",
)
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="KEY=VALUE",
    help="compile.* and report.* settings over the model's config, e.g. --set compile.max_cores=4 --set "
    "report.mode=realtime (what --neurons-per-core auto prices with); explicit options win.",
)
@click.option(
    "--dt", type=float, default=None, help="NIR sources: seconds per chip step (default: the graph's metadata dt)."
)
@click.option(
    "--data",
    "data_name",
    default=None,
    help="NIR sources: the dataset `simulate` and `report` run the bundle on (e.g. digits-saccade).",
)
@click.option("--data-root", type=click.Path(path_type=Path, file_okay=False), default=None)
@quiet_option
def compile_cmd(
    source: Path,
    chip: str | None,
    out: Path | None,
    max_profiles: int | None,
    target: str | None,
    neurons_per_core: int | str | None,
    sets: tuple[str, ...],
    dt: float | None,
    data_name: str | None,
    data_root: Path | None,
) -> None:
    """Quantize, map and check SOURCE (a model.pt, a run directory or a .nir graph) and write a bundle."""
    from neuromotif.stages import compile_checkpoint, compile_nir, resolve_model_path

    other = [item for item in sets if not item.strip().startswith(("compile.", "report."))]
    if other:
        raise InputError(
            f"--set {other[0]}: compile takes compile.* and report.* settings; the others change what was "
            "trained: use `neuromotif run`"
        )
    if Path(source).suffix == ".nir":
        if sets:
            raise InputError("--set applies to trained models; for NIR give --chip, --target, --neurons-per-core")
        if isinstance(neurons_per_core, str):  # auto
            raise InputError("--neurons-per-core auto needs a trained model's validation data: give a number for NIR")
        out = out or Path(source).with_suffix("")
        bundle, report = compile_nir(
            Path(source), chip, out, max_profiles, dt, data_name, data_root, neurons_per_core, target or "loihi"
        )
        for line in report.lines():
            stdout.print(f"  [yellow]approximation[/yellow] {line}")
        s = bundle.manifest["placement"]
        stdout.print(
            f"[green]compiled[/green] {source} (NIR, dt {report.dt:g} s) for {s['chip']}: {s['cores']} cores, "
            f"{s['totals']['synapses']:,} synapses -> {out}"
        )
        return
    if dt is not None or data_name is not None:
        raise InputError("--dt and --data apply to NIR sources (.nir) only; a model.pt records both")
    model_path = resolve_model_path(source)
    out = out or model_path.parent / "bundle"
    bundle, _ = compile_checkpoint(model_path, chip, out, max_profiles, neurons_per_core, target, overrides=list(sets))
    s = bundle.manifest["placement"]
    stdout.print(
        f"[green]compiled[/green] {model_path} for {s['chip']}: {s['cores']} cores on {s['chips']} chip(s), "
        f"{s['totals']['synapses']:,} synapses -> {out}"
    )


@cli.command()
@click.argument("bundle_dir", metavar="BUNDLE", type=click.Path(path_type=Path))
@click.option(
    "--backend",
    type=click.Choice(["cpu", "lava", "torch"]),
    default="cpu",
    show_default=True,
    help="lava: also run every sample on Lava and check it spike for spike against the CPU backend; "
    "torch: the fixed point on torch (bit-identical to cpu), on --device.",
)
@click.option(
    "--device",
    type=click.Choice(["cpu", "cuda"]),
    default="cpu",
    show_default=True,
    help="Where the torch backend runs.",
)
@click.option("--split", type=click.Choice(["train", "val", "test"]), default="test", show_default=True)
@click.option(
    "--samples", type=click.IntRange(min=1), default=None, help="First N samples of the split (default: all)."
)
@click.option("--data-root", type=click.Path(path_type=Path, file_okay=False), default=None)
@click.option(
    "--timeout",
    "timeout_s",
    type=click.FloatRange(min=1),
    default=DEFAULT_TIMEOUT_S,
    show_default=True,
    help="Time limit for the Lava backend, seconds.",
)
@click.option(
    "--divergence",
    "divergence_samples",
    type=click.IntRange(min=0),
    default=16,
    show_default=True,
    help="Compare float, quantized and fixed point layer by layer on this many samples "
    "(when the bundle's source model.pt is found).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Where to store the results (default: simulation/ beside the bundle, where `report` reads them).",
)
@quiet_option
def simulate(
    bundle_dir: Path,
    backend: str,
    device: str,
    split: str,
    samples: int | None,
    data_root: Path | None,
    timeout_s: float,
    divergence_samples: int,
    out: Path | None,
) -> None:
    """Run BUNDLE on a dataset split with the CPU backend (and Lava with --backend lava, checked
    spike for spike against the CPU backend) and store predictions, activity and rasters."""
    from neuromotif.simulation import SIM_DIR, simulate_bundle

    check_data_root(data_root)
    out = out or Path(bundle_dir).parent / SIM_DIR
    n_lava = 1 << 62 if backend == "lava" else 0  # lava: every simulated sample
    r = simulate_bundle(
        Path(bundle_dir),
        out,
        split=split,
        samples=samples,
        lava_samples=n_lava,
        timeout_s=timeout_s,
        divergence_samples=divergence_samples,
        data_root=data_root,
        backend="torch" if backend == "torch" else "cpu",
        device=device,
    )
    div = r.get("divergence")
    if div:
        table = Table(title="float / quantized / fixed point, per layer", title_justify="left")
        for col in ("layer", "float=fixed spikes", "quantized=fixed spikes", "v RMS float", "first diverging step"):
            table.add_column(col)
        for name, row in div["layers"].items():
            table.add_row(
                name,
                f"{100 * row['float_vs_fixed_spike_agreement']:.2f} %",
                f"{100 * row['quantized_vs_fixed_spike_agreement']:.2f} %",
                f"{row['float_vs_fixed_v_rms']:.4f}",
                str(row["float_vs_fixed_first_diverging_step"]),
            )
        stdout.print(table)
    accuracy = r["accuracy"]
    line = f"{backend} on {r['samples']} {split} samples: fixed-point accuracy {accuracy['fixed_cpu']:.4f}"
    if backend == "lava":
        line += (
            f", Lava {accuracy['lava']:.4f}, CPU/Lava spike mismatches {r['cpu_vs_lava_spike_mismatches']} "
            f"({r['lava_seconds']:.1f} s)"
        )
    stdout.print(line + f" -> {out}")


@cli.command()
@click.argument("source", metavar="RUN_DIR_OR_BUNDLE", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["nir", "netx"]),
    default="nir",
    show_default=True,
    help="nir: a NIR graph; netx: lava-dl's HDF5 network (compile with `neuromotif compile RUN --target netx`).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Output file (default: network.nir beside the bundle).",
)
@click.option(
    "--dt",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Seconds per chip step written into the graph (default: what --for needs; generic 1e-3).",
)
@click.option(
    "--for",
    "peer",
    type=click.Choice(["generic", "snntorch", "norse"]),
    default="generic",
    show_default=True,
    help="nir: the simulator that will read the file: snntorch writes dt 1e-4 (its converters assume it); "
    "snntorch and norse refuse networks with neuron biases, which they would misread (docs/interop.md).",
)
@quiet_option
def export(source: Path, fmt: str, out: Path | None, dt: float | None, peer: str) -> None:
    """Write the compiled network (the bundle of a run directory, or a bundle) in another format:
    nir = a NIR graph of the exact fixed-point network (snnTorch, Norse, ... read it); netx =
    lava-dl's HDF5 network, exact or refused naming the field it cannot carry."""
    from neuromotif.deploy.bundle import read_bundle

    source = Path(source)
    bundle_dir = source / "bundle" if (source / "bundle" / "manifest.json").exists() else source
    bundle = read_bundle(bundle_dir)
    if fmt == "netx":
        from neuromotif.deploy.netx_export import write_netx

        out = out or bundle_dir.parent / "network.net"
        notes = write_netx(bundle, out)
    else:
        from neuromotif.deploy.nir_export import peer_dt, write_nir

        out = out or bundle_dir.parent / "network.nir"
        notes = write_nir(bundle, out, peer_dt(bundle, peer, dt))
    for line in notes:
        stdout.print(f"  [yellow]note[/yellow] {line}")
    stdout.print(f"[green]exported[/green] {bundle_dir} as {fmt} -> {out}")


@cli.command()
@click.argument("bundle_dir", metavar="BUNDLE", type=click.Path(path_type=Path))
@quiet_option
def inspect(bundle_dir: Path) -> None:
    """Summarise BUNDLE: network, quantization report, resources."""
    from neuromotif.deploy.bundle import read_bundle

    b = read_bundle(bundle_dir)
    m = b.manifest
    q = m["quantization"]
    src = m.get("source", {})
    origin = (
        f"{src['checkpoint']} (sha256 {src['sha256'][:12]})"
        if src.get("checkpoint")
        else src.get("arch_source", "an unknown source")
    )  # synthetic bundles record no source
    stdout.print(
        f"[bold]{bundle_dir}[/bold]: {m['format']} v{m['format_version']} (neuromotif {m['tool_version']}), "
        f"chip {m['chip']}, from {origin}"
    )
    pops = Table(title="populations", title_justify="left")
    for col in ("name", "kind", "neurons", "motif", "vth", "scale", "du", "profiles", "dv clustered by"):
        pops.add_column(col)
    for p in b.populations:
        r = q["populations"].get(p.name, {})
        pops.add_row(
            p.name,
            p.kind,
            str(p.size),
            str(p.motif_size),
            str(r.get("vth", "-")),
            str(r.get("scale", "-")),
            str(r.get("du", "-")),
            str(r.get("profiles", "-")),
            str(r.get("dv_max_cluster_shift", "-")),
        )
    stdout.print(pops)
    projs = Table(title="projections (quantization)", title_justify="left")
    for col in ("name", "synapses", "weight_exp", "clipped", "rel. RMS error"):
        projs.add_column(col)
    for j in b.projections:  # a bundle written without the compiler (synthetic) has no quantization report
        r = q["projections"].get(j.name)
        projs.add_row(
            j.name,
            f"{j.weights.nnz:,}",
            str(j.weight_exp),
            f"{100 * r['clip_fraction']:.2f} %" if r else "-",
            f"{100 * r['rel_rms_error']:.2f} %" if r else "-",
        )
    stdout.print(projs)
    s = m["placement"]
    if s:
        stdout.print(
            f"resources: {s['cores']} cores, {s['chips']} chip(s), {s['tiles']} tiles; totals "
            + ", ".join(f"{k} {v:,}" for k, v in s["totals"].items())
        )
    else:
        stdout.print("resources: not placed (a bundle written without the compiler)")


@cli.command()
@click.option(
    "--data-root",
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder holding real datasets (default: $NEUROMOTIF_DATA).",
)
@quiet_option
def datasets(data_root: Path | None) -> None:
    """List every dataset, where it is looked for, and whether it is present."""
    from neuromotif.search.data import dataset_status

    check_data_root(data_root)
    cfg = load_config(None, [f"data.root={data_root}"] if data_root else [])
    table = Table(title="neuromotif datasets", title_justify="left")
    for col in ("name", "present", "kind", "what", "binning", "size", "location"):
        table.add_column(col, overflow="fold", no_wrap=col in ("name", "present", "kind"))
    for row in dataset_status(cfg.data):
        size = f"{float(row['bytes']) / 1e6:.1f} MB" if row["bytes"] else "-"
        present = "[green]yes[/green]" if row["present"] else "[red]no[/red]"
        table.add_row(
            str(row["name"]),
            present,
            str(row["kind"]),
            str(row["description"]),
            str(row["binning"]),
            size,
            str(row["location"]),
        )
    stdout.print(table)


@cli.command()
@quiet_option
def clean() -> None:
    """Remove what killed runs left behind: Lava shared-memory segments of dead neuromotif processes
    (every Lava session also does this when it starts)."""
    from neuromotif.deploy.backends.session import reap_orphans

    removed = reap_orphans()
    stdout.print(
        f"removed {len(removed)} shared-memory segment(s) left by dead neuromotif processes"
        + (f": {', '.join(removed[:8])}{' ...' if len(removed) > 8 else ''}" if removed else "")
    )


def _fail(message: str, code: int, prefix: str = "error: ") -> int:
    click.echo(f"{PROG}: {prefix}{message}", err=True)
    return code


def _raise_terminated(signum, frame) -> None:
    raise Terminated()


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point: run the CLI and map outcomes to exit codes."""
    try:  # SIGTERM unwinds like Ctrl-C, so every ``finally`` (e.g. stopping Lava) runs
        previous_term = signal.signal(signal.SIGTERM, _raise_terminated)
    except ValueError:  # not the main thread (embedded use): leave signals alone
        previous_term = None
    try:
        return _main(argv)
    finally:
        if previous_term is not None:
            signal.signal(signal.SIGTERM, previous_term)


def _main(argv: list[str] | None) -> int:
    try:  # click's own main() would print a bare newline on Ctrl-C: make the context and invoke it ourselves
        with cli.make_context(PROG, list(sys.argv[1:] if argv is None else argv)) as ctx:
            result = cli.invoke(ctx)
    except click.exceptions.Exit as exc:  # --help, --version
        return exc.exit_code
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.ctx.get_help() if exc.ctx else str(exc))
        return 0
    except click.ClickException as exc:  # usage errors: unknown verb or option, missing argument
        usage = getattr(exc, "ctx", None)  # UsageError and its kind carry the command; others do not
        cmd = usage.command_path if usage else PROG
        return _fail(f"{exc.format_message()} (see '{cmd} --help')", 2)
    except (click.exceptions.Abort, KeyboardInterrupt):
        return _fail("interrupted", 130, prefix="")
    except Terminated:
        return _fail("terminated", 143, prefix="")
    except (InputError, HardwareModelError) as exc:  # bad configs, data, chips, networks that do not fit
        return _fail(str(exc), 2)
    except Exception as exc:  # noqa: BLE001 - the last line of defence: one line, exit 1
        if os.environ.get("NEUROMOTIF_DEBUG"):
            traceback.print_exc()
        return _fail(
            f"internal error: {type(exc).__name__}: {exc} "
            "(set NEUROMOTIF_DEBUG=1 for the traceback, and please report it)",
            1,
        )
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
