"""The bad-input corpus: every verb, every class of bad input -> exit 2 and one line naming the
problem (a word of it is checked), never a traceback, never silent success.

Table-driven: each case prepares its input in a scratch folder (copies of a real trained run,
bundle and simulation, damaged on purpose) and gives the argv, the exit code and a word the
message must contain.
"""

from __future__ import annotations

import collections
import dis
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from neuromotif.cli import main
from neuromotif.deploy.bundle import manifest_digest
from tests.paths import QUICKSTART

REPO = Path(__file__).parents[1]
CHIPS = REPO / "hw_models" / "chips"
TINY = ["data.max_samples=64", "model.hidden=[16]", "model.motif_size=4", "train.epochs=1", "train.batch_size=32"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A real run directory: model.pt, bundle/, simulation/ (report-ready)."""
    out = tmp_path_factory.mktemp("corpus") / "run"
    sets = [a for s in TINY for a in ("--set", s)]
    assert main(["train", QUICKSTART, "--out", str(out), "-q", "--set", "search.enabled=false", *sets]) == 0
    assert main(["compile", str(out), "-q"]) == 0
    assert main(["simulate", str(out / "bundle"), "--samples", "8", "--divergence", "0", "-q"]) == 0
    assert main(["report", str(out), "-q", "--set", "report.plots=false"]) == 0
    return out


class WS:
    """A scratch copy of the run for one case, with helpers to damage it."""

    def __init__(self, run: Path, tmp: Path):
        self.run, self.tmp = run, tmp

    def copy_run(self) -> Path:
        target = self.tmp / "run"
        shutil.copytree(self.run, target, ignore=shutil.ignore_patterns(".lock"))
        return target

    def bundle(self) -> Path:
        return self.copy_run() / "bundle"

    def file(self, text: str | bytes, name: str = "x.yaml") -> str:
        path = self.tmp / name
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
        return str(path)

    def chip(self, edit: Callable[[dict], None], name: str = "chip.yaml") -> str:
        raw = yaml.safe_load((CHIPS / "loihi2.yaml").read_text())
        edit(raw)
        return self.file(yaml.safe_dump(raw), name)

    def edit_manifest(self, bundle: Path, edit: Callable[[dict], None], redigest: bool) -> Path:
        m = json.loads((bundle / "manifest.json").read_text())
        edit(m)
        if redigest:
            m["manifest_sha256"] = manifest_digest(m)
        (bundle / "manifest.json").write_text(json.dumps(m))
        return bundle

    def rechecksum(self, bundle: Path, name: str) -> None:
        from neuromotif.deploy.bundle import sha256

        self.edit_manifest(bundle, lambda m: m["checksums"].__setitem__(name, sha256(bundle / name)), redigest=True)


def _pop_sizes(m: dict) -> None:
    m["populations"][1]["size"] += 1


def _truncate(ws: WS) -> str:
    b = ws.bundle()
    name = next(n for n in json.loads((b / "manifest.json").read_text())["checksums"] if n.startswith("proj_"))
    data = (b / name).read_bytes()
    (b / name).write_bytes(data[: len(data) // 2])
    ws.rechecksum(b, name)
    return str(b)


def _missing_tensor(ws: WS) -> str:
    import torch

    run = ws.copy_run()
    payload = torch.load(run / "model.pt", weights_only=False)
    payload["state_dict"].pop(next(iter(payload["state_dict"])))
    torch.save(payload, run / "model.pt")
    return str(run)


def _nonfinite_weights(ws: WS) -> str:
    import torch

    run = ws.copy_run()
    payload = torch.load(run / "model.pt", weights_only=False)
    key = next(k for k in payload["state_dict"] if k.endswith("w_in"))
    payload["state_dict"][key][0, 0] = float("nan")
    torch.save(payload, run / "model.pt")
    return str(run)


def _damage_sim(ws: WS, name: str, data: bytes | None) -> str:
    run = ws.copy_run()
    if data is None:
        (run / "simulation" / name).unlink()
    else:
        (run / "simulation" / name).write_bytes(data)
    return str(run)


def _unstorable_weights_bundle(ws: WS) -> str:
    from neuromotif.deploy.synthetic_bundles import lif, make_bundle

    make_bundle(
        ws.tmp / "b4",
        2,
        [lif("n", 2, 100, 100, 10)],
        [("input", "n", [[32, 100], [0, 0]], 0)],
        numeric={"weight_bits": 4},
        read=False,
    )  # 100 is not a 4-bit weight (the chip keeps 96)
    return str(ws.tmp / "b4")


def _nan_nir(ws: WS) -> str:
    import nir
    import numpy as np

    graph = nir.NIRGraph(
        nodes={
            "in": nir.Input(input_type=np.array([2])),
            "lin": nir.Linear(weight=np.full((2, 2), np.nan)),
            "lif": nir.LIF(
                tau=np.full(2, 1e-2), r=np.ones(2), v_leak=np.zeros(2), v_threshold=np.ones(2), v_reset=np.zeros(2)
            ),
            "out": nir.Output(output_type=np.array([2])),
        },
        edges=[("in", "lin"), ("lin", "lif"), ("lif", "out")],
    )
    nir.write(ws.tmp / "nan.nir", graph)
    return str(ws.tmp / "nan.nir")


def _sourceless_bundle(ws: WS) -> str:
    from neuromotif.deploy.synthetic_bundles import scml_bundle

    scml_bundle(ws.tmp / "synthetic", 32, motif_size=8, inputs=8, outputs=4)  # records no "source"
    return str(ws.tmp / "synthetic")


CFG = QUICKSTART
Case = tuple[Callable[[WS], list[str]], int, str]

CASES: dict[str, Case] = {
    # ---- validate: configs and --set ------------------------------------------------------
    "config missing": (lambda ws: ["validate", "/nonexistent/c.yaml"], 2, "config file not found"),
    "config is a folder": (lambda ws: ["validate", str(ws.tmp)], 2, "is a folder"),
    "config not YAML": (lambda ws: ["validate", ws.file("data: [1, 2\n")], 2, "not valid YAML"),
    "config a list": (lambda ws: ["validate", ws.file("- 1\n")], 2, "must be a mapping"),
    "config binary": (lambda ws: ["validate", ws.file(b"\x89PNG\xff\x00")], 2, "not a text file"),
    "duplicate key": (lambda ws: ["validate", ws.file("train:\n  epochs: 1\ntrain:\n  lr: 0.1\n")], 2, "given twice"),
    "unknown key": (lambda ws: ["validate", ws.file("train:\n  epohcs: 3\n")], 2, "did you mean 'train.epochs'"),
    "lr infinite": (lambda ws: ["validate", CFG, "--set", "train.lr=.inf"], 2, "--set train.lr=.inf"),
    "vth nan": (lambda ws: ["validate", CFG, "--set", "model.neuron.vth=.nan"], 2, "finite number"),
    "inf in the file": (lambda ws: ["validate", ws.file("train:\n  weight_decay: .inf\n")], 2, "finite number"),
    "negative epochs": (lambda ws: ["validate", CFG, "--set", "train.epochs=-1"], 2, "greater than 0"),
    "--set without =": (lambda ws: ["validate", CFG, "--set", "train.epochs"], 2, "expected section.key=value"),
    "--set bad YAML": (lambda ws: ["validate", CFG, "--set", "model.hidden=[1"], 2, "not valid YAML"),
    "--set into a value": (lambda ws: ["validate", CFG, "--set", "seed.x=1"], 2, "is not a section"),
    "motif does not divide": (lambda ws: ["validate", CFG, "--set", "model.hidden=[100]"], 2, "not a multiple"),
    "unknown dataset": (lambda ws: ["validate", CFG, "--set", "data.name=mnist"], 2, "data.name"),
    "local dataset, no root": (
        lambda ws: ["validate", CFG, "--set", "data.name=nmnist", "--set", "data.root=null"],
        2,
        "local folder",
    ),
    "--data-root missing": (lambda ws: ["validate", CFG, "--data-root", "/nonexistent"], 2, "does not exist"),
    "dataset files missing": (
        lambda ws: ["validate", CFG, "--set", "data.name=shd", "--data-root", str(ws.tmp)],
        2,
        "shd_train.h5",
    ),
    "dt for digits": (lambda ws: ["validate", CFG, "--set", "data.dt_ms=5"], 2, "does not apply"),
    "unknown chip": (lambda ws: ["validate", CFG, "--set", "compile.chip=loihi9"], 2, "unknown chip"),
    "unknown cost table": (lambda ws: ["validate", CFG, "--set", "report.cost_table=cheap"], 2, "no cost table"),
    "ranges reversed": (lambda ws: ["validate", CFG, "--set", "search.ip.gain_range=[4, 1]"], 2, "gain_range"),
    "a million neurons": (lambda ws: ["validate", CFG, "--set", "model.hidden=[1000000]"], 2, "would need about"),
    "a billion neurons": (lambda ws: ["validate", CFG, "--set", "model.hidden=[1000000000]"], 2, "lower"),
    "chip file malformed": (
        lambda ws: ["validate", CFG, "--set", f"compile.chip={ws.file('name: [', 'c.yaml')}"],
        2,
        "not valid YAML",
    ),
    # ---- usage -----------------------------------------------------------------------------
    "unknown verb": (lambda ws: ["bogus"], 2, "No such command"),
    "bundle weights beyond weight_bits": (
        lambda ws: ["inspect", _unstorable_weights_bundle(ws)],
        2,
        "weight 100 does not fit numeric.weight_bits = 4",
    ),
    "nir NaN weight": (
        lambda ws: ["compile", _nan_nir(ws), "--dt", "1e-3", "--out", str(ws.tmp / "b")],
        2,
        "weight holds NaN or inf",
    ),
    "crosscheck damaged summary": (
        lambda ws: ["report", _damage_sim(ws, "summary.json", b"{not json"), "--crosscheck", "sana-fe"],
        2,
        "summary.json is damaged",
    ),
    # ---- export, sweep, pareto ----------------------------------------------------------------
    "export missing bundle": (lambda ws: ["export", "/nonexistent", "--format", "nir"], 2, "bundle not found"),
    "export unknown format": (lambda ws: ["export", str(ws.bundle()), "--format", "pdf"], 2, "'pdf' is not one of"),
    "sweep grid without values": (
        lambda ws: ["sweep", CFG, "--grid", "train.lr", "--out", str(ws.tmp / "s")],
        2,
        "write KEY=V1,V2",
    ),
    "sweep grid bad value": (
        lambda ws: ["sweep", CFG, "--grid", "train.lr=abc", "--out", str(ws.tmp / "s")],
        2,
        "train.lr",
    ),
    "pareto unknown objective": (
        lambda ws: ["pareto", CFG, "--lambdas", "power=1", "--out", str(ws.tmp / "p")],
        2,
        "unknown objective 'power'",
    ),
    "unknown option": (lambda ws: ["validate", CFG, "--frobnicate"], 2, "No such option"),
    "missing argument": (lambda ws: ["compile"], 2, "Missing argument"),
    "negative seed": (lambda ws: ["train", CFG, "--seed", "-1"], 2, "Invalid value"),
    # ---- train / search / run -------------------------------------------------------------
    "no CUDA": (lambda ws: ["train", CFG, "--device", "cuda", "--out", str(ws.tmp / "o")], 2, "no CUDA device"),
    "bad device": (
        lambda ws: ["train", CFG, "--device", "tpu9", "--out", str(ws.tmp / "o")],
        2,
        "is not a device neuromotif runs on",
    ),
    # validate runs the stage's own checks (it used to say valid where train refused)
    "validate arch missing": (
        lambda ws: ["validate", CFG, "--set", f"model.arch={ws.tmp / 'none.yaml'}"],
        2,
        "architecture file not found",
    ),
    "validate device foo": (
        lambda ws: ["validate", CFG, "--set", "train.device=foo"],
        2,
        "train.device 'foo' is not a device",
    ),
    "arch file missing": (
        lambda ws: [
            "train",
            CFG,
            "--arch",
            str(ws.tmp / "a.yaml"),
            "--out",
            str(ws.tmp / "o"),
            *sum((["--set", s] for s in TINY), []),
        ],
        2,
        "a.yaml",
    ),
    "train 10^6 neurons": (
        lambda ws: ["train", CFG, "--set", "model.hidden=[1000000]", "--out", str(ws.tmp / "o")],
        2,
        "lower train.batch_size",
    ),
    "search 10^6 neurons": (
        lambda ws: ["search", CFG, "--set", "model.hidden=[1000000]", "--out", str(ws.tmp / "o")],
        2,
        "would need",
    ),
    "run dir of another config": (
        lambda ws: ["run", CFG, "--out", str(ws.copy_run()), "--set", "seed=9"],
        2,
        "different config",
    ),
    "out under a file": (lambda ws: ["train", CFG, "--out", ws.file("x", "plain") + "/run"], 2, "cannot write"),
    # ---- compile ---------------------------------------------------------------------------
    "no model": (lambda ws: ["compile", str(ws.tmp / "nothing")], 2, "no model to compile"),
    "not a model file": (lambda ws: ["compile", ws.file("hello", "m.pt")], 2, "not a readable model checkpoint"),
    "model missing a tensor": (lambda ws: ["compile", _missing_tensor(ws)], 2, "damaged model checkpoint"),
    "model with NaN weights": (lambda ws: ["compile", _nonfinite_weights(ws)], 2, "non-finite"),
    "compile unknown chip": (lambda ws: ["compile", str(ws.copy_run()), "--chip", "loihi9"], 2, "unknown chip"),
    "chip list_max_synapses 0": (
        lambda ws: [
            "compile",
            str(ws.copy_run()),
            "--chip",
            ws.chip(lambda c: c["synapses"].update(list_max_synapses=0)),
        ],
        2,
        "list_max_synapses = 0",
    ),
    "chip memory -5": (
        lambda ws: [
            "compile",
            str(ws.copy_run()),
            "--chip",
            ws.chip(lambda c: c["core"].update(shared_memory_bits=-5)),
        ],
        2,
        "shared_memory_bits = -5",
    ),
    "chip missing field": (
        lambda ws: ["compile", str(ws.copy_run()), "--chip", ws.chip(lambda c: c["core"].pop("max_compartments"))],
        2,
        "missing field",
    ),
    "chip weight bits 12": (
        lambda ws: ["compile", str(ws.copy_run()), "--chip", ws.chip(lambda c: c["numeric"].update(weight_bits=12))],
        2,
        "weight_bits = 12",
    ),
    "chip too small": (
        lambda ws: ["compile", str(ws.copy_run()), "--chip", ws.chip(lambda c: c["core"].update(max_compartments=2))],
        2,
        "compartments",
    ),
    "max profiles 0": (lambda ws: ["compile", str(ws.copy_run()), "--max-profiles", "0"], 2, "Invalid value"),
    "bundle out under a file": (
        lambda ws: ["compile", str(ws.copy_run()), "--out", ws.file("x", "f") + "/b"],
        2,
        "cannot write",
    ),
    # ---- simulate / inspect: bundles --------------------------------------------------------
    "bundle missing": (lambda ws: ["simulate", str(ws.tmp / "none")], 2, "bundle not found"),
    "not a bundle": (lambda ws: ["inspect", str(ws.tmp)], 2, "no manifest.json"),
    "manifest not JSON": (
        lambda ws: ["inspect", str(_write(ws.bundle(), "manifest.json", b"{no"))],
        2,
        "not valid JSON",
    ),
    "manifest edited": (
        lambda ws: [
            "simulate",
            str(
                ws.edit_manifest(
                    ws.bundle(),
                    lambda m: m["populations"][1].update(vth=m["populations"][1]["vth"] + 1),
                    redigest=False,
                )
            ),
        ],
        2,
        "changed after compiling",
    ),
    "manifest without ports": (
        lambda ws: ["inspect", str(ws.edit_manifest(ws.bundle(), lambda m: m.pop("ports"), redigest=True))],
        2,
        "'ports'",
    ),
    "populations not a list": (
        lambda ws: [
            "inspect",
            str(ws.edit_manifest(ws.bundle(), lambda m: m.update(populations={"a": 1}), redigest=True)),
        ],
        2,
        "'populations'",
    ),
    "population size wrong": (
        lambda ws: ["inspect", str(ws.edit_manifest(ws.bundle(), _pop_sizes, redigest=True))],
        2,
        "values for",
    ),
    "truncated npz": (lambda ws: ["simulate", _truncate(ws)], 2, "damaged"),
    "array checksum": (
        lambda ws: ["inspect", str(_write(ws.bundle(), "placement.npz", b"\0" * 9))],
        2,
        "checksum mismatch",
    ),
    "array missing": (lambda ws: ["inspect", str(_unlink(ws.bundle(), "placement.npz"))], 2, "is missing"),
    "foreign format": (
        lambda ws: ["inspect", str(ws.edit_manifest(ws.bundle(), lambda m: m.update(format="x"), redigest=True))],
        2,
        "not a neuromotif bundle",
    ),
    "old format version": (
        lambda ws: ["inspect", str(ws.edit_manifest(ws.bundle(), lambda m: m.update(format_version=1), redigest=True))],
        2,
        "format version 1",
    ),
    "vth out of range": (
        lambda ws: [
            "inspect",
            str(ws.edit_manifest(ws.bundle(), lambda m: m["populations"][1].update(vth=1 << 20), redigest=True)),
        ],
        2,
        "vth = 1048576",
    ),
    "samples 0": (lambda ws: ["simulate", str(ws.bundle()), "--samples", "0"], 2, "Invalid value"),
    "timeout 0": (lambda ws: ["simulate", str(ws.bundle()), "--timeout", "0"], 2, "Invalid value"),
    "split bogus": (lambda ws: ["simulate", str(ws.bundle()), "--split", "dev"], 2, "Invalid value"),
    "simulate --data-root missing": (
        lambda ws: ["simulate", str(ws.bundle()), "--data-root", "/nonexistent"],
        2,
        "does not exist",
    ),
    # ---- report ----------------------------------------------------------------------------
    "report: not a run": (lambda ws: ["report", str(ws.tmp)], 2, "is not a run directory"),
    "report: bad summary": (
        lambda ws: ["report", _damage_sim(ws, "summary.json", b"[1, 2]")],
        2,
        "summary.json is damaged",
    ),
    "report: garbage predictions": (
        lambda ws: ["report", _damage_sim(ws, "predictions.npz", b"garbage")],
        2,
        "predictions.npz is damaged",
    ),
    "report: activity missing": (
        lambda ws: ["report", _damage_sim(ws, "activity.npz", None)],
        2,
        "has no simulation/activity.npz",
    ),
    "report: rasters garbage": (
        lambda ws: ["report", _damage_sim(ws, "rasters.npz", b"PK\x03\x04xx")],
        2,
        "rasters.npz is damaged",
    ),
    "report: damaged pareto.json": (
        lambda ws: ["report", _damage_sim(ws, "../pareto.json", b'{"points": 3}')],
        2,
        "pareto.json is damaged",
    ),
    "report: --set a train key": (
        lambda ws: ["report", str(ws.copy_run()), "--set", "train.lr=1"],
        2,
        "takes only report",
    ),
    "report: unknown cost table": (
        lambda ws: ["report", str(ws.copy_run()), "--set", "report.cost_table=x"],
        2,
        "no cost table",
    ),
    # ---- datasets ----------------------------------------------------------------------------
    "datasets root missing": (lambda ws: ["datasets", "--data-root", "/nonexistent"], 2, "does not exist"),
    "datasets root is a file": (lambda ws: ["datasets", "--data-root", ws.file("x", "f")], 2, "is a file"),
}


def _write(bundle: Path, name: str, data: bytes) -> Path:
    (bundle / name).write_bytes(data)
    return bundle


def _unlink(bundle: Path, name: str) -> Path:
    (bundle / name).unlink()
    return bundle


def verb_of(build: Callable[[WS], list[str]]) -> str:
    """The verb a case runs: the first string constant its argv list starts with (read from the
    builder's bytecode, so nothing is built; a constant list compiles to one tuple constant)."""
    for ins in dis.get_instructions(build):
        if ins.opname == "LOAD_CONST" and isinstance(ins.argval, (str, tuple)) and ins.argval:
            return ins.argval if isinstance(ins.argval, str) else ins.argval[0]
    raise AssertionError(f"no verb in {build}")


def test_the_corpus_is_large_and_covers_every_verb():
    """Counted by exact verb: deleting every case of one verb fails this (a substring match did not)."""
    from neuromotif.cli import cli

    counts = collections.Counter(verb_of(build) for build, _, _ in CASES.values())
    assert set(counts) - {"bogus"} <= set(cli.commands), set(counts) - set(cli.commands)  # bogus: the unknown verb
    assert len(CASES) >= 60
    for verb in (
        "validate",
        "train",
        "search",
        "run",
        "compile",
        "simulate",
        "inspect",
        "report",
        "datasets",
        "export",
        "sweep",
        "pareto",
    ):
        assert counts[verb] >= 1, f"no bad-input case for `neuromotif {verb}`"


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input(case, run_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("NEUROMOTIF_DATA", raising=False)
    build, code, word = CASES[case]
    argv = build(WS(run_dir, tmp_path))
    capsys.readouterr()
    assert main(argv) == code, capsys.readouterr().err
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and word in err, err
    assert "Traceback" not in err and "Exception ignored" not in err


def test_a_missing_data_folder_in_the_environment_is_refused_like_the_option(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("NEUROMOTIF_DATA", str(tmp_path / "nonexistent"))
    for argv in (["datasets"], ["validate", CFG]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "NEUROMOTIF_DATA=" in err and "does not exist" in err and err.count("\n") == 1


def test_an_absurdly_long_run_is_validated_with_a_warning_and_the_estimate(capsys):
    assert main(["validate", CFG, "--set", "train.epochs=1000000000000"]) == 0
    err = capsys.readouterr().err
    assert "would train for at least" in err and "years" in err and "lower train.epochs" in err


def test_inspect_reads_a_bundle_that_records_no_source(run_dir, tmp_path, capsys):
    """Synthetic bundles record no ``source``: inspect used to crash with KeyError (exit 1)."""
    assert main(["inspect", _sourceless_bundle(WS(run_dir, tmp_path))]) == 0
    assert "from an unknown source" in capsys.readouterr().out


def test_a_second_run_on_a_locked_run_dir_stops_at_once(run_dir, tmp_path, capsys):
    """Another process holds the run directory: exit 2 at once, naming the holder."""
    target = WS(run_dir, tmp_path).copy_run()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import sys, time; from pathlib import Path; from neuromotif.stages import lock_run_dir; "
                f"lock_run_dir(Path({str(target)!r})); print('held', flush=True); time.sleep(120)"
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        t0 = time.monotonic()
        assert main(["run", CFG, "--out", str(target), "-q"]) == 2
        err = capsys.readouterr().err
        # a waiting lock would take the holder's 120 s; refusing takes well under 1 s (limit 30 s, not tight)
        assert time.monotonic() - t0 < 30 and "is in use by neuromotif pid" in err and err.count("\n") == 1
    finally:
        holder.kill()
        holder.wait()


def test_outputs_share_one_mode_and_stale_temporaries_go(run_dir, tmp_path):
    import os

    run = WS(run_dir, tmp_path).copy_run()
    mask = os.umask(0)
    os.umask(mask)
    assert (run / "bundle").stat().st_mode & 0o777 == 0o777 & ~mask
    for name in ("report.json", "model.pt", "bundle/manifest.json"):
        assert (run / name).stat().st_mode & 0o777 == 0o666 & ~mask, name
    (run / ".model.pt.abc123.tmp").write_bytes(b"half")
    (run / ".bundle.x1y2z3").mkdir()
    (run / ".bundle.old").mkdir()
    (run / "tmpab12.png").write_bytes(b"")
    (run / "train" / ".checkpoint.pt.q.tmp").write_bytes(b"")
    from neuromotif.config import load_config
    from neuromotif.stages import prepare_run_dir

    prepare_run_dir(run, load_config(run / "config.yaml"), force=False)
    left = {p.name for p in run.iterdir()} | {p.name for p in (run / "train").iterdir()}
    assert not left & {".model.pt.abc123.tmp", ".bundle.x1y2z3", ".bundle.old", "tmpab12.png", ".checkpoint.pt.q.tmp"}
    assert "bundle" in left and "model.pt" in left


def test_recompiling_never_leaves_a_moment_without_a_bundle(run_dir, tmp_path):
    """The new bundle replaces the old one by an atomic exchange: a reader polling the bundle
    while it is rewritten always finds a readable one."""
    import threading

    from neuromotif.deploy.bundle import read_bundle

    run = WS(run_dir, tmp_path).copy_run()
    stop, failures = threading.Event(), []

    def poll():
        while not stop.is_set():
            try:
                read_bundle(run / "bundle")
            except Exception as exc:  # noqa: BLE001 - any failure counts
                failures.append(exc)

    reader = threading.Thread(target=poll)
    reader.start()
    try:
        for _ in range(3):
            assert main(["compile", str(run), "-q"]) == 0
    finally:
        stop.set()
        reader.join()
    assert failures == []


def test_a_run_started_before_a_config_key_existed_resumes_and_a_real_change_is_named(tmp_path):
    """A key added to the schema later (at its default) must not block a run's resumption; a
    changed value must, naming the key and both values."""
    from neuromotif.config import dump_config, load_config
    from neuromotif.core.errors import InputError
    from neuromotif.stages import prepare_run_dir, release_run_dir

    config = load_config(None, ["train.epochs=3"])
    old = yaml.safe_load(dump_config(config))
    del old["train"]["micro_batches"], old["compile"]["target"]  # as an older version saved it
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(old))
    prepare_run_dir(tmp_path, config, force=False)
    assert (tmp_path / "config.yaml").read_text() == dump_config(config)
    release_run_dir(tmp_path)
    with pytest.raises(InputError, match=r"train.epochs 3 -> 5"):
        prepare_run_dir(tmp_path, load_config(None, ["train.epochs=5"]), force=False)
    release_run_dir(tmp_path)
