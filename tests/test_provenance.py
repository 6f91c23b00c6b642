"""Provenance marks changed code as dirty, not result files a benchmark wrote into the checkout."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from neuromotif.core import provenance


@pytest.fixture
def repo(tmp_path, monkeypatch):
    if shutil.which("git") is None:
        pytest.fail("git is needed (the README's setup has it)")
    root = tmp_path / "r"
    (root / "benchmarks" / "results").mkdir(parents=True)
    (root / "code.py").write_text("x = 1\n")
    (root / "benchmarks" / "results" / "r.json").write_text("{}\n")

    def git(*args):
        subprocess.run(
            ["git", "-c", "user.email=t@t", "-c", "user.name=t", *args], cwd=root, check=True, capture_output=True
        )

    git("init", "-q")
    git("add", ".")
    git("commit", "-qm", "init")
    monkeypatch.setattr(provenance, "REPO", root)
    return root


def test_a_rewritten_result_file_is_not_dirty_code(repo):
    assert provenance.provenance(0.0)["dirty"] is False
    (repo / "benchmarks" / "results" / "r.json").write_text('{"new": 1}\n')
    assert provenance.provenance(0.0)["dirty"] is False
    (repo / "code.py").write_text("x = 2\n")
    assert provenance.provenance(0.0)["dirty"] is True


def test_a_new_file_not_yet_committed_is_dirty(repo):
    """A benchmark script run before its commit: the recorded commit does not hold it."""
    (repo / "benchmarks" / "results" / "new_result.json").write_text("{}\n")
    assert provenance.provenance(0.0)["dirty"] is False  # results are not code
    (repo / "benchmarks" / "bench_new.py").write_text("print(1)\n")
    assert provenance.provenance(0.0)["dirty"] is True
