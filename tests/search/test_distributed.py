"""Data-parallel training and search under torchrun (2 processes, gloo) equal one process with the
same global batch and micro-batches bit for bit, and a killed 2-process run resumes in 1 process
to the same weights (at the default micro-batch setting, whose effective count the checkpoint keeps)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml

from tests.paths import QUICKSTART

pytestmark = pytest.mark.slow

TINY = [
    "data.max_samples=96",
    "model.hidden=[32]",
    "model.motif_size=8",
    "train.batch_size=32",
    "train.epochs=2",
    "train.ip=true",
    "search.ip.window=2",
    "search.motif_sizes=[4, 8]",
    "search.epochs=2",
    "search.replicates=1",  # one search: these tests compare process counts, not replicates
    "report.plots=false",
    "train.micro_batches=2",
]
TORCHRUN = [
    sys.executable,
    "-m",
    "torch.distributed.run",
    "--standalone",
    "--nproc_per_node=2",
]  # standalone: a free port from the OS


def _sets(extra: list[str]) -> list[str]:
    return [a for s in TINY + extra for a in ("--set", s)]


def _neuromotif(verb: str, out: Path, extra: list[str], world: int, **kw) -> subprocess.Popen:
    cmd = ["-m", "neuromotif", verb, QUICKSTART, "--out", str(out), "-q", *_sets(extra)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    if world == 1:
        env.pop("WORLD_SIZE", None)
        return subprocess.Popen([sys.executable, *cmd], env=env, **kw)
    return subprocess.Popen([*TORCHRUN, *cmd], env=env, start_new_session=True, **kw)


def _run(verb, out, extra, world):
    p = _neuromotif(verb, out, extra, world, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    text, _ = p.communicate(timeout=600)
    assert p.returncode == 0, text
    return text


def _weights(path: Path, key: str = "state_dict") -> dict[str, torch.Tensor]:
    return torch.load(path, weights_only=False)[key]


def _assert_close(a: dict, b: dict, rel: float = 0.0) -> None:
    for name in a:
        if a[name].is_floating_point():
            scale = a[name].double().abs().max().clamp_min(1e-12)
            assert float((a[name].double() - b[name].double()).abs().max() / scale) <= rel, name


def test_micro_batches_must_divide_among_the_processes(tmp_path):
    p = _neuromotif(
        "train",
        tmp_path / "x",
        ["train.micro_batches=3"],
        2,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    text, _ = p.communicate(timeout=300)
    assert p.returncode != 0 and "train.micro_batches 3 is not a multiple of the 2 processes" in text


def _process_tree(root: int) -> list[int]:
    """``root`` and all its descendants (from /proc), parents first."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def _wait_until_unlocked(lock, seconds: float = 60) -> None:
    """The run-dir lock goes when the last killed worker is torn down, which can come after
    ``wait`` returns for the launcher."""
    import fcntl

    deadline = time.monotonic() + seconds
    with open(lock) as fh:
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(fh, fcntl.LOCK_UN)
                return
            except BlockingIOError:
                assert time.monotonic() < deadline, "the killed job still holds its run directory"
                time.sleep(0.05)


def test_a_killed_run_at_the_default_micro_batches_resumes_identically_on_another_world_size(tmp_path):
    """Under torchrun the default ``train.micro_batches: 1`` becomes the world size (2); the checkpoint
    records the 2, so a 1-process resume continues the same sums (it used to fall back to 1: 57 % off)."""
    from neuromotif.cli import main

    extra = ["data.max_samples=256", "train.epochs=4", "train.micro_batches=1"]
    # the uninterrupted reference: one process with 2 micro-batches, in this process (2 processes
    # equal 1 with the same micro-batches: test_the_whole_run_under_torchrun_equals_one_process)
    assert (
        main(
            [
                "train",
                QUICKSTART,
                "--out",
                str(tmp_path / "straight"),
                "-q",
                *_sets([*extra[:-1], "train.micro_batches=2"]),
            ]
        )
        == 0
    )
    job = _neuromotif("train", tmp_path / "killed", extra, 2, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    checkpoint = tmp_path / "killed" / "train" / "checkpoint.pt"
    deadline = time.monotonic() + 300
    while not checkpoint.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    for pid in _process_tree(job.pid):
        os.kill(pid, signal.SIGKILL)
    job.wait()
    _wait_until_unlocked(tmp_path / "killed" / ".lock")
    state = torch.load(checkpoint, weights_only=False)
    assert state["epoch"] < 4 and state["micro_batches"] == 2
    _run("train", tmp_path / "killed", extra, 1)
    _assert_close(_weights(tmp_path / "straight" / "model.pt"), _weights(tmp_path / "killed" / "model.pt"))
    assert torch.load(tmp_path / "killed" / "model.pt", weights_only=False)["metrics"]["micro_batches"] == 2


def test_the_whole_run_under_torchrun_equals_one_process(tmp_path):
    """`neuromotif run` on 2 processes: every rank searches and trains, rank 0 alone compiles,
    simulates and reports. The search (architecture and weights), the training history and
    model.pt equal the 1-process run with the same global batch and micro-batches (2).

    One pair of runs checks what three pairs did (``train`` alone, ``search`` alone, then ``run``):
    the verbs share the stages, and ``train`` under torchrun is run by the resume test below."""
    extra = [
        "search.enabled=true",
        "simulate.lava_samples=0",
        "simulate.divergence_samples=0",
    ]
    _run("run", tmp_path / "one", extra, 1)
    text = _run("run", tmp_path / "two", extra, 2)
    assert text.count("done:") == 1  # only rank 0 reports
    assert (tmp_path / "two" / "report.json").exists()
    one, two = tmp_path / "one", tmp_path / "two"
    a = yaml.safe_load((one / "search" / "architecture.yaml").read_text())
    b = yaml.safe_load((two / "search" / "architecture.yaml").read_text())
    assert a["layers"] == b["layers"]
    _assert_close(_weights(one / "search" / "checkpoint.pt", "net"), _weights(two / "search" / "checkpoint.pt", "net"))
    h1 = (one / "train" / "history.jsonl").read_text().splitlines()
    h2 = (two / "train" / "history.jsonl").read_text().splitlines()
    assert len(h1) == 2 and [yaml.safe_load(x)["val_accuracy"] for x in h1] == [
        yaml.safe_load(x)["val_accuracy"] for x in h2
    ]
    _assert_close(_weights(one / "model.pt"), _weights(two / "model.pt"))
