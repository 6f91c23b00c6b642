"""The same inputs give the same answer: the thread count is the config's, not the environment's."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
TINY = [
    "data.max_samples=128",
    "model.hidden=[64]",
    "search.enabled=true",
    "search.motif_sizes=[4, 8]",
    "search.epochs=2",
    "search.ip.window=1",
    "search.replicates=1",  # one search: these tests are about resuming and threads, not replicates
    "train.epochs=1",
    "train.batch_size=32",
    "simulate.lava_samples=0",
    "simulate.divergence_samples=0",
    "report.plots=false",
]


def _run(out: Path, omp: str, *extra: str) -> tuple[dict, str]:
    sets = [a for s in [*TINY, *extra] for a in ("--set", s)]
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "neuromotif",
            "run",
            str(ROOT / "configs" / "quickstart.yaml"),
            "--out",
            str(out),
            "-q",
            *sets,
        ],
        env={**os.environ, "OMP_NUM_THREADS": omp},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return torch.load(out / "model.pt", weights_only=False)["state_dict"], (
        out / "search" / "architecture.yaml"
    ).read_text()


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_search_and_training_ignore_the_environments_thread_count(tmp_path):
    one, arch_one = _run(tmp_path / "omp1", "1")
    two, arch_two = _run(tmp_path / "omp2", "2")
    assert arch_one == arch_two and _same(one, two)
    # why the setting exists: asking torch for two threads does change the answer here
    threads2, arch_threads2 = _run(tmp_path / "threads2", "1", "train.threads=2")
    assert not (_same(one, threads2) and arch_one == arch_threads2)
