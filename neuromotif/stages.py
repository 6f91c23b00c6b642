"""The pipeline's stages as library calls: search, train, compile. ``neuromotif.run`` chains
them; each CLI verb calls one.

A run directory is resumable: the saved ``config.yaml`` must match the config asked for,
unless ``force``. Torch and the search package are imported inside the stages that need them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import IO, Any

from neuromotif.config import Config, dump_config, load_config, save_config, saved_config
from neuromotif.core.errors import InputError
from neuromotif.core.io import atomic_write_text
from neuromotif.core.progress import note, warn

RUN_OUTPUTS = (
    "model.pt",
    "train",
    "config.yaml",
    "search",
    "bundle",
    "simulation",
    "report.json",
    "report.md",
    "report.html",
    "raster.png",
    "accuracy.png",
    "energy.png",
    "utilisation.png",
    "placement.png",
    "network.png",
)


LOCK_NAME = ".lock"
_held_locks: dict[Path, IO[str]] = {}  # run dirs this process holds, open lock files (held until exit)


DONE_FILE = "done.json"  # written into a stage's folder when the stage ends


def mark_done(folder: Path, **info: Any) -> None:
    """Record that the stage writing ``folder`` finished (rank 0 only); ``--force`` or a rerun of
    an earlier stage removes the folder or the marker."""
    if main_process():
        atomic_write_text(Path(folder) / DONE_FILE, json.dumps(info, indent=2) + "\n")


def stage_done(folder: Path) -> bool:
    return (Path(folder) / DONE_FILE).is_file()


def lock_run_dir(out: Path) -> None:
    """Hold ``out/.lock`` for the rest of this process: a second neuromotif on the same run
    directory stops at once (exit 2) naming the holder, instead of doing the work twice."""
    import fcntl
    import os
    import socket
    import time

    key = out.resolve()
    if key in _held_locks:
        return
    try:
        out.mkdir(parents=True, exist_ok=True)
        fh = open(out / LOCK_NAME, "a+")  # noqa: SIM115 - held open on purpose
    except OSError as exc:
        from neuromotif.core.io import output_error

        raise output_error(out / LOCK_NAME, exc) from None
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.seek(0)
        holder = fh.read().strip() or "another process"
        fh.close()
        raise InputError(f"{out} is in use by {holder}: wait for that run to finish or choose another --out") from None
    fh.seek(0)
    fh.truncate()
    fh.write(f"neuromotif pid {os.getpid()} on {socket.gethostname()} since {time.strftime('%Y-%m-%d %H:%M:%S')}")
    fh.flush()
    _held_locks[key] = fh


def release_run_dir(out: Path) -> None:
    """Give ``out/.lock`` back before this process ends (a long-lived worker running many runs)."""
    fh = _held_locks.pop(Path(out).resolve(), None)
    if fh is not None:
        fh.close()  # closing the file drops the flock


def join_group(config: Config):
    """Under torchrun, join the job's process group (``neuromotif.search.distributed``); ranks
    other than 0 go quiet. Without torchrun: rank 0 of 1, and torch is not even imported here."""
    from neuromotif.core.progress import set_quiet
    from neuromotif.search import distributed

    group = distributed.setup(config.train.device)
    if not group.main:
        set_quiet(True)
    return group


def main_process() -> bool:
    """False only on the ranks > 0 of a torchrun job: they compute, rank 0 writes and prints."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return True
    from neuromotif.search import distributed

    return distributed.current().main


def prepare_run_dir(out: Path, config: Config, force: bool) -> None:
    """Lock ``out``, clear what interrupted writes left there, create it with ``config.yaml``;
    refuse to mix a different config into an existing run. Under torchrun rank 0 does it while
    the others wait."""
    if not main_process():
        _barrier()
        return
    _prepare_run_dir(out, config, force)
    _barrier()


def _barrier() -> None:
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        from neuromotif.search import distributed

        distributed.current().barrier()


def _prepare_run_dir(out: Path, config: Config, force: bool) -> None:
    from neuromotif.core.io import remove_stale_temporaries

    lock_run_dir(out)
    for folder in (out, out / "train", out / "search", out / "simulation"):
        remove_stale_temporaries(folder)
    saved = out / "config.yaml"
    if force and out.exists():
        for name in RUN_OUTPUTS:
            target = out / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
    if saved.exists() and saved.read_text() != dump_config(config):
        changed = _config_changes(saved, config)
        blocking = [c for c in changed if not c.startswith(LATER_STAGE_KEYS)]
        if blocking:
            shown = ", ".join(blocking[:3]) + (f" and {len(blocking) - 3} more" if len(blocking) > 3 else "")
            raise InputError(
                f"{out} holds a run with a different config ({saved}: {shown}); use --force to "
                "start over or choose another --out"
            )
        if changed:
            note(
                f"{out}: the config changed only in settings of later stages ({', '.join(changed[:3])}); "
                "search and training are kept, and what those settings feed is recomputed"
            )
    save_config(config, saved)


# Keys that change nothing search or training computed: the simulation and the report recompute when
# their recorded inputs differ, data.root / data.cache_dir only say where the same data lies.
LATER_STAGE_KEYS = ("simulate.", "report.", "data.root ", "data.cache_dir ")


def _config_changes(saved: Path, config: Config) -> list[str]:
    """What differs between the run's saved config and ``config`` (``"key old -> new"``), read
    through today's schema, so that keys added since the run was started (at their defaults) do not
    block its resumption. Empty when nothing does."""
    import yaml

    try:
        before = yaml.safe_load(dump_config(load_config(saved)))
    except InputError:
        return ["the saved config no longer validates"]
    after = yaml.safe_load(dump_config(config))

    def flat(tree: dict, prefix: str = "") -> dict:
        items: dict = {}
        for key, value in tree.items():
            items.update(flat(value, f"{prefix}{key}.") if isinstance(value, dict) else {f"{prefix}{key}": value})
        return items

    a, b = flat(before), flat(after)
    return [f"{k} {a.get(k)!r} -> {b.get(k)!r}" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]


def architecture(config: Config, info, arch_file: Path | None):
    """The architecture to train (``info``: the dataset's ``DatasetInfo``): ``--arch`` / ``model.arch``
    if given, else built from ``model``."""
    from neuromotif.search.arch import ArchSpec, build_arch

    path = arch_file or config.model.arch
    if path is not None:
        arch = ArchSpec.load(Path(path))
        if (arch.inputs, arch.classes) != (info.channels, info.classes):
            raise InputError(
                f"{path}: architecture has {arch.inputs} inputs / {arch.classes} classes but dataset "
                f"{info.name} has {info.channels} / {info.classes}"
            )
        return arch
    return build_arch(
        config.model.kind,
        config.model.hidden,
        config.model.motif_size,
        info.channels,
        info.classes,
        config.model.neuron.params(),
        seed=config.seed,
    )


DEVICE = re.compile(r"^(cpu|cuda(:\d+)?)$")


def preflight(config: Config, arch_file: Path | None = None):
    """What every stage checks before any work, and exactly what `validate` checks: the dataset's files
    (and that their first sample reads), the chip and every cost table the run uses, the device, the
    architecture file, the memory; a warning with the estimate when the run would take over a week.
    Returns the memory estimate."""
    from neuromotif.estimate import check_fits, estimate_for, long_run_warning
    from neuromotif.hw_models import load_chip
    from neuromotif.search.data import check_available, dataset_info

    check_available(config.data)
    chip = load_chip(config.compile.chip)
    for table in {config.report.cost_table, config.search.objective.cost_table, config.train.objective.cost_table}:
        chip.cost_table(table)
    if not DEVICE.match(config.train.device):
        raise InputError(
            f"train.device {config.train.device!r} is not a device neuromotif runs on: use cpu, cuda or cuda:N"
        )
    if config.train.device.startswith("cuda"):
        from neuromotif.search.train import resolve_device

        resolve_device(config.train.device)
    info = dataset_info(config.data)
    if arch_file is not None or config.model.arch is not None:
        architecture(config, info, arch_file)
    est = estimate_for(config)
    if config.train.device == "cpu":  # host memory bounds CPU runs only
        check_fits(est, "train")
    check_fits(est, "compile")
    message = long_run_warning(config, est, info.timesteps)
    if message:
        warn(message)
    return est


def search_stage(config: Config, out: Path, force: bool = False):
    """HRMAS on ``config``: writes ``out/search/`` (resumes an interrupted search unless ``force``)."""
    from neuromotif.search.hrmas import run_search

    preflight(config)
    join_group(config)
    if force and (out / "search").exists() and main_process():
        shutil.rmtree(out / "search")
    prepare_run_dir(out, config, force)
    if main_process():
        (out / "train" / DONE_FILE).unlink(missing_ok=True)  # a new architecture: training is not done
    arch = run_search(config.search_job(), out, resume=not force)
    mark_done(out / "search", architecture="architecture.yaml")
    return arch


def train_model(config: Config, out: Path, arch_file: Path | None = None, force: bool = False) -> dict[str, Any]:
    """Train (resuming when possible) and write ``out/model.pt``; returns the metrics."""
    from neuromotif.hw_models import load_chip
    from neuromotif.hw_models.chip import numeric_for_target
    from neuromotif.search.data import load_dataset
    from neuromotif.search.model import RSNN
    from neuromotif.search.plasticity import from_config
    from neuromotif.search.train import Trainer, evaluate, record_state_ranges, save_model

    # fail fast on a bad device, chip, dataset or model.arch, before any work; ``arch_file`` may be the search's
    # output, which rank 0 writes: it is read after prepare_run_dir's barrier (architecture() below)
    preflight(config)
    numeric = numeric_for_target(load_chip(config.compile.chip).numeric, config.compile.target)  # QAT rounds to it
    join_group(config)
    prepare_run_dir(out, config, force)
    data = load_dataset(config.data, config.seed)
    arch = architecture(config, data.info, arch_file)
    model = RSNN(arch, seed=config.seed, numeric=numeric, max_profiles=config.compile.max_profiles)
    ip = from_config(config.search.ip) if config.train.ip else None
    cost = None
    if config.train.objective.active:
        from neuromotif.search.cost_proxy import rsnn_proxy

        objective = config.train.objective
        cost = rsnn_proxy(
            model,
            config.compile.chip,
            objective.cost_table,
            config.compile.fixed_neurons_per_core,
            objective.operation(data.info.dt_ms),
        )[1]
    trainer = Trainer(model, data, config.train, config.seed, out, ip=ip, ip_window=config.search.ip.window, cost=cost)
    summary = trainer.fit(resume=True)
    best = trainer.best_model()
    metrics = {
        **summary,
        "test_accuracy_float": evaluate(best, data.test, trainer.device, "float")["accuracy"],
        "test_accuracy_quantized": evaluate(best, data.test, trainer.device, "chip")["accuracy"],
        "neurons": sum(s.neurons for s in arch.layers),
        "arch_source": arch.source,
        "micro_batches": trainer.micro,
    }
    ranges = record_state_ranges(best, data.train, trainer.device)  # the compiler predicts overflow from them
    save_model(out / "model.pt", best, dump_config(config), data, metrics, trainer.history, ranges)
    mark_done(
        out / "train", epochs=trainer.epoch, model="model.pt", micro_batches=trainer.micro, threads=config.train.threads
    )
    return metrics


def resolve_model_path(source: Path) -> Path:
    """``compile`` accepts a model.pt or a run directory holding one; the path is made absolute
    so the bundle's record of it works from any directory."""
    source = Path(source)
    path = source / "model.pt" if source.is_dir() else source
    if not path.is_file():
        raise InputError(
            f"no model to compile at {source}: give a model.pt or a run directory containing one "
            "(train one with `neuromotif train`)"
        )
    return path.resolve()


def compile_checkpoint(
    source: Path,
    chip_name: str | None,
    out: Path,
    max_profiles: int | None = None,
    neurons_per_core: int | str | None = None,
    target: str | None = None,
    config: Config | None = None,
    overrides: list[str] | None = None,
):
    """model.pt -> float network -> ``deploy.compile`` -> bundle at ``out``. ``chip_name`` None:
    the model config's ``compile.chip``; ``max_profiles`` None: the model's (``compile.max_profiles``
    when it was trained). ``neurons_per_core="auto"``: ``packing.py`` chooses, with ``config``'s
    compile and report settings (default: the model's config with ``overrides``, ``--set``
    compile.* / report.*); ``compile.split_bottleneck``: then ``hw_models/bottleneck.py`` splits the
    core that bounds the steps while that pays. Prints the overflow warnings.
    Returns (bundle, mapping)."""
    from neuromotif.deploy.bundle import sha256
    from neuromotif.deploy.compile import compile_network
    from neuromotif.estimate import Estimate, check_fits, compile_bytes
    from neuromotif.search.export import to_float_network
    from neuromotif.search.train import load_model

    model_path = resolve_model_path(source)
    model, payload = load_model(model_path)
    weights = sum(p.numel() for p in model.parameters())
    neurons = sum(layer.n for layer in model.populations())
    check_fits(Estimate(neurons, weights, weights, 0.0, compile_bytes(neurons, weights)), "compile")
    trained = saved_config(payload.get("config"), f"{model_path} config", overrides=overrides)
    saved = trained.compile
    chip_name = chip_name or saved.chip
    data = payload.get("data", {})
    metadata = {
        "source": {"checkpoint": str(model_path), "sha256": sha256(model_path)},
        "timesteps": data.get("timesteps"),
        "data": data,
        "config": payload.get("config"),
        "state_ranges": payload.get("state_ranges"),
    }
    if neurons_per_core is None:
        neurons_per_core = saved.neurons_per_core

    net = to_float_network(model)

    def build(npc: int | None, extra: dict, placement_pass=None) -> tuple:
        return compile_network(
            net,
            chip_name,
            out,
            max_profiles or model.max_profiles,
            {**metadata, **extra},
            npc,
            target or saved.target,
            placement_pass,
        )

    cfg = config or trained
    extra: dict = {}
    if neurons_per_core == "auto":
        from neuromotif.packing import AutoPacking, choose_packing

        build(None, {})  # packed as tightly as the chip allows: the activity does not depend on it
        packing = choose_packing(out, cfg.data, cfg.seed, AutoPacking.from_config(cfg, data.get("dt_ms")))
        npc, extra = packing["chosen"], {"packing": packing}
    else:
        npc = None if isinstance(neurons_per_core, str) else neurons_per_core
    bundle, mapping = build(npc, extra)
    if cfg.compile.split_bottleneck:  # priced on this bundle's validation activity, then built again
        from neuromotif.packing import AutoPacking, bottleneck_pass

        auto = AutoPacking.from_config(cfg, data.get("dt_ms"))
        bundle, mapping = build(npc, extra, bottleneck_pass(bundle, cfg.data, cfg.seed, auto))
    announce(bundle)
    if trained.train.qat_epochs and model.numeric is not None and bundle.numeric != model.numeric:
        changed = ", ".join(
            f"{k} {getattr(model.numeric, k)} -> {getattr(bundle.numeric, k)}"
            for k in vars(model.numeric)
            if getattr(model.numeric, k) != getattr(bundle.numeric, k)
        )
        warn(
            f"the model was trained with quantization-aware epochs for another number format ({changed}); what QAT "
            f"learned does not carry over: retrain it with --set compile.chip={chip_name} to keep its accuracy"
        )
    return bundle, mapping


def announce(bundle) -> None:
    """What a compiled bundle's user should know: the overflow the compiler predicts (warnings),
    and which projections lost weights to the mantissa range (a chosen trade for finer steps on
    the chip's own target; with netx, only what even exponent 0 at the lowest scale cannot hold)."""
    for message in bundle.manifest["overflow"]["warnings"]:
        warn(message)
    clipped = {
        name: q["clip_fraction"]
        for name, q in bundle.manifest["quantization"]["projections"].items()
        if q.get("clip_fraction", 0) > 0
    }
    if clipped:
        note("weights clipped to the mantissa range: " + ", ".join(f"{k} {100 * v:.2f} %" for k, v in clipped.items()))


def compile_nir(
    source: Path,
    chip_name: str | None,
    out: Path,
    max_profiles: int | None,
    dt: float | None,
    data_name: str | None,
    data_root: Path | None = None,
    neurons_per_core: int | None = None,
    target: str = "loihi",
):
    """A NIR graph -> float network (``deploy.nir_import``) -> bundle. ``data_name``: the dataset
    `simulate` and `report` will run it on (recorded in the bundle). Returns (bundle, import report)."""
    from dataclasses import asdict

    from neuromotif.config import load_config
    from neuromotif.deploy.bundle import sha256
    from neuromotif.deploy.compile import compile_network
    from neuromotif.deploy.nir_import import nir_to_float_network, read_nir_graph
    from neuromotif.deploy.quantize import DEFAULT_MAX_PROFILES
    from neuromotif.hw_models.chip import DEFAULT_CHIP

    graph = read_nir_graph(source)
    net, report = nir_to_float_network(graph, dt, source=f"nir ({Path(source).name})")
    metadata: dict = {
        "source": {"checkpoint": None, "nir": str(Path(source).resolve()), "sha256": sha256(source)},
        "nir_import": {"dt": report.dt, "approximations": report.items},
    }
    if data_name is not None:
        from neuromotif.search.data import dataset_info

        config = load_config(None, [f"data.name={data_name}", *([f"data.root={data_root}"] if data_root else [])])
        info = dataset_info(config.data)
        if info.channels != net.population(net.input).size:
            raise InputError(
                f"--data {data_name}: the dataset has {info.channels} input channels, the NIR graph's "
                f"Input has {net.population(net.input).size}; pick the dataset it was trained on"
            )
        metadata.update(config=dump_config(config), data=asdict(info), timesteps=info.timesteps)
    bundle, _ = compile_network(
        net, chip_name or DEFAULT_CHIP, out, max_profiles or DEFAULT_MAX_PROFILES, metadata, neurons_per_core, target
    )
    announce(bundle)
    return bundle, report
