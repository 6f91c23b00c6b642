"""The ``neuromotif`` command line.

Exit codes: 0 success, 2 bad input (one line on stderr, no traceback), 1 internal error
(one line; ``NEUROMOTIF_DEBUG=1`` shows the traceback), 130 interrupted. Heavy imports
(torch, Lava) happen inside the commands that need them, so ``--help`` is instant.
"""
from __future__ import annotations

import os
import sys
import traceback
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from hw_models.errors import HardwareModelError
from search.config import Config, dump_config, load_config
from search.errors import InputError
from search.progress import set_quiet

PROG = "neuromotif"
# Pipes and CI logs get a wide console: rich's 80-column default folds tables badly.
stdout = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 160)


def _version() -> str:
    try:
        return version("neuromotif")
    except PackageNotFoundError:  # running from a source tree without installing
        return "0+unknown"


def _set_quiet(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        set_quiet(True)


def quiet_option(func):
    """``-q/--quiet`` accepted after the verb as well as before it."""
    return click.option("-q", "--quiet", is_flag=True, expose_value=False, callback=_set_quiet,
                        help="No progress bars or chatter.")(func)


def config_options(func):
    """``CONFIG``, ``--set``, ``--data-root`` and ``--quiet``: how every config-driven verb is called."""
    func = quiet_option(func)
    func = click.option("--data-root", type=click.Path(path_type=Path, file_okay=False),
                        help="Folder holding real datasets (sets data.root).")(func)
    func = click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
                        help="Override a config value, e.g. --set train.epochs=5 (repeatable).")(func)
    return click.argument("config", type=click.Path(path_type=Path, dir_okay=True))(func)


def load_cli_config(config: Path, overrides: tuple[str, ...], data_root: Path | None) -> Config:
    extra = [f"data.root={data_root}"] if data_root is not None else []
    return load_config(config, list(overrides) + extra)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(_version(), "--version", prog_name=PROG)
@click.option("-q", "--quiet", is_flag=True, help="No progress bars or chatter; results and errors only.")
def cli(quiet: bool) -> None:
    """neuromotif: recurrent spiking networks from architecture search to simulated Loihi deployment.

    Every verb reads a YAML config (see configs/) and accepts --set section.key=value.
    """
    set_quiet(quiet)


@cli.command()
@config_options
@click.option("--print", "show", is_flag=True, help="Print the parsed config with every default filled in.")
def validate(config: Path, overrides: tuple[str, ...], data_root: Path | None, show: bool) -> None:
    """Check CONFIG (keys, values, dataset availability) without running anything."""
    from hw_models import load_chip
    from search.data import check_available

    cfg = load_cli_config(config, overrides, data_root)
    check_available(cfg.data)
    load_chip(cfg.compile.chip).cost_table(cfg.report.cost_table)
    if show:
        click.echo(dump_config(cfg), nl=False)
        return
    m = cfg.model
    stdout.print(f"[green]ok[/green]: {config} is valid: dataset {cfg.data.name}, model {m.kind} "
                 f"{m.hidden} (motif {m.motif_size}), search {'on' if cfg.search.enabled else 'off'}, "
                 f"chip {cfg.compile.chip}, seed {cfg.seed}")


def run_options(func):
    """``--out``, ``--seed``, ``--device``, ``--force``: what every verb that produces a run takes."""
    func = click.option("--force", is_flag=True, help="Start over instead of resuming what exists in --out.")(func)
    func = click.option("--device", default=None, help="torch device, e.g. cpu or cuda (sets train.device).")(func)
    func = click.option("--seed", type=click.IntRange(min=0), default=None, help="Random seed (sets seed).")(func)
    return click.option("--out", type=click.Path(path_type=Path, file_okay=False), default=None,
                        help="Run directory (default: runs/<config name>).")(func)


def run_config(config: Path, overrides, data_root, seed, device) -> Config:
    extra = list(overrides) + ([f"seed={seed}"] if seed is not None else []) + \
        ([f"train.device={device}"] if device else [])
    return load_cli_config(config, tuple(extra), data_root)


@cli.command()
@config_options
@run_options
@click.option("--arch", "arch_file", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="architecture.yaml (from `neuromotif search`) to train instead of the config's model.")
def train(config: Path, overrides, data_root, out, seed, device, force, arch_file) -> None:
    """Train the network of CONFIG (or --arch) and write OUT/model.pt. Resumes an interrupted run."""
    from search.pipeline import train_model

    cfg = run_config(config, overrides, data_root, seed, device)
    out = out or Path("runs") / config.stem
    metrics = train_model(cfg, out, arch_file, force)
    stdout.print(f"[green]trained[/green] {metrics['arch_source']} ({metrics['neurons']} neurons) on "
                 f"{cfg.data.name}: best val {metrics['best_val_accuracy']:.4f} (epoch {metrics['best_epoch']}), "
                 f"test float {metrics['test_accuracy_float']:.4f}, quantized {metrics['test_accuracy_quantized']:.4f}"
                 f" -> {out / 'model.pt'}")


@cli.command()
@click.option("--data-root", type=click.Path(path_type=Path, file_okay=False),
              help="Folder holding real datasets (default: $NEUROMOTIF_DATA).")
@quiet_option
def datasets(data_root: Path | None) -> None:
    """List every dataset, where it is looked for, and whether it is present."""
    from search.data import dataset_status

    cfg = load_config(None, [f"data.root={data_root}"] if data_root else [])
    table = Table(title="neuromotif datasets", title_justify="left")
    for col in ("name", "present", "kind", "what", "binning", "size", "location"):
        table.add_column(col, overflow="fold", no_wrap=col in ("name", "present", "kind"))
    for row in dataset_status(cfg.data):
        size = f"{row['bytes'] / 1e6:.1f} MB" if row["bytes"] else "-"
        present = "[green]yes[/green]" if row["present"] else "[red]no[/red]"
        table.add_row(str(row["name"]), present, str(row["kind"]), str(row["description"]),
                      str(row["binning"]), size, str(row["location"]))
    stdout.print(table)


def _fail(message: str, code: int) -> int:
    click.echo(f"{PROG}: error: {message}", err=True)
    return code


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point: run the CLI and map outcomes to exit codes."""
    try:
        result = cli.main(args=argv, prog_name=PROG, standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.ctx.get_help() if exc.ctx else str(exc))
        return 0
    except click.ClickException as exc:  # usage errors: unknown verb or option, missing argument
        cmd = exc.ctx.command_path if getattr(exc, "ctx", None) else PROG
        return _fail(f"{exc.format_message()} (see '{cmd} --help')", 2)
    except click.exceptions.Abort:
        return _fail("aborted", 130)
    except (InputError, HardwareModelError) as exc:  # bad configs, data, chips, networks that do not fit
        return _fail(str(exc), 2)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except Exception as exc:  # noqa: BLE001 - the last line of defence: one line, exit 1
        if os.environ.get("NEUROMOTIF_DEBUG"):
            traceback.print_exc()
        return _fail(f"internal error: {type(exc).__name__}: {exc} "
                     "(set NEUROMOTIF_DEBUG=1 for the traceback, and please report it)", 1)
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
