"""Interrupting a stage loses nothing: Ctrl-C (exit 130, one line) or SIGKILL in the middle of
`train`, `search` or `run`, then the same command again, ends with exactly the result of an
uninterrupted run (model.pt tensors, architecture.yaml)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from tests.paths import QUICKSTART

pytestmark = pytest.mark.slow
TINY = [
    "data.max_samples=128",
    "model.hidden=[32]",
    "model.motif_size=8",
    "train.batch_size=32",
    "train.epochs=2",  # cut after the first epoch, resumed for the second
    "search.motif_sizes=[4, 8]",
    "search.epochs=2",
    "search.ip.window=1",
    "search.replicates=1",  # one search: these tests are about resuming and threads, not replicates
    "simulate.lava_samples=0",
    "simulate.divergence_samples=0",
    "report.plots=false",
]


def _cmd(verb: str, out: Path, quiet: bool = True) -> list[str]:
    sets = [a for s in TINY for a in ("--set", s)]
    if verb == "run":
        sets += ["--set", "search.enabled=true"]
    return [sys.executable, "-m", "neuromotif", verb, QUICKSTART, "--out", str(out), *(["-q"] if quiet else []), *sets]


def _result(out: Path, verb: str):
    if verb == "search":
        return (out / "search" / "architecture.yaml").read_text(), torch.load(
            out / "search" / "checkpoint.pt", weights_only=False
        )["net"]
    return None, torch.load(out / "model.pt", weights_only=False)["state_dict"]


@pytest.mark.parametrize(
    "verb,sig,checkpoint",
    [
        ("train", signal.SIGINT, "train/checkpoint.pt"),
        ("search", signal.SIGKILL, "search/checkpoint.pt"),
        ("run", signal.SIGKILL, "train/checkpoint.pt"),
    ],
)
def test_an_interrupted_stage_resumes_to_the_uninterrupted_result(tmp_path, verb, sig, checkpoint):
    from neuromotif.cli import main

    assert main(_cmd(verb, tmp_path / "straight")[3:]) == 0  # the reference, in this process
    job = subprocess.Popen(
        _cmd(verb, tmp_path / "cut"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 300
    while not (tmp_path / "cut" / checkpoint).exists():
        assert job.poll() is None and time.monotonic() < deadline, "the stage ended before it could be cut"
        time.sleep(0.02)
    os.kill(job.pid, sig)
    _, err = job.communicate(timeout=120)
    if sig == signal.SIGINT:
        assert job.returncode == 130 and "interrupted" in err and err.count("\n") == 1, err
    else:
        assert job.returncode == -signal.SIGKILL
    resumed = subprocess.run(_cmd(verb, tmp_path / "cut", quiet=False), capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert "resumed at" in resumed.stderr  # continued from the checkpoint (a restart would match too: deterministic)
    arch_a, weights_a = _result(tmp_path / "straight", verb)
    arch_b, weights_b = _result(tmp_path / "cut", verb)
    assert arch_a == arch_b and weights_a.keys() == weights_b.keys()
    assert all(torch.equal(weights_a[k], weights_b[k]) for k in weights_a)
