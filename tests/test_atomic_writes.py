"""Atomic writes under a crash at every step: a child process writes through ``neuromotif.core.io``
and is killed (``os._exit``) just before or after its k-th rename, exchange or fsync, for every k.
Afterwards, and after the start-up clean-up every run does (``remove_stale_temporaries``), the
target holds the old content or the new one, whole, and no temporary is left.

Also: with ``renameat2(RENAME_EXCHANGE)`` there is no moment without the target; the fallback
swap (filesystems without it) has one, and a crash inside it is repaired by the clean-up (it used
to delete the moved-aside ``.NAME.old`` and with it the only copy).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from neuromotif.core.io import remove_stale_temporaries

CHILD = r"""
import os, sys
from pathlib import Path
import neuromotif.core.io as io
target, kind, mode, step = Path(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
seen = [0]
def point():
    seen[0] += 1
    if seen[0] == step:
        os._exit(9)
real_replace, real_exchange, real_fsync = os.replace, io.exchange, io._fsync
def replace(a, b):
    point(); real_replace(a, b); point()
def exchange(a, b):
    point(); done = real_exchange(a, b); point(); return done
def fsync(p):
    point(); real_fsync(p)
os.replace, io._fsync = replace, fsync
io.exchange = (lambda a, b: False) if mode == "fallback" else exchange
if kind == "file":
    io.atomic_write_text(target, "new")
else:
    with io.atomic_directory(target) as tmp:
        (tmp / "a").write_text("new")
        (tmp / "b").write_text("new")
print("completed")
"""


def _prepare(target: Path, kind: str) -> None:
    if kind == "file":
        target.write_text("old")
    else:
        target.mkdir()
        (target / "a").write_text("old")
        (target / "b").write_text("old")


def _content(target: Path, kind: str) -> str:
    if kind == "file":
        return target.read_text()
    a, b = (target / "a").read_text(), (target / "b").read_text()
    assert a == b, "a directory mixing old and new files"
    assert sorted(p.name for p in target.iterdir()) == ["a", "b"]
    return a


@pytest.mark.parametrize("kind,mode", [("file", "exchange"), ("dir", "exchange"), ("dir", "fallback")])
def test_a_crash_at_every_step_leaves_the_old_or_the_new_content(tmp_path, kind, mode):
    outcomes, gaps = [], 0
    for step in range(1, 40):
        folder = tmp_path / f"{step}"
        folder.mkdir()
        target = folder / "out"
        _prepare(target, kind)
        done = subprocess.run(
            [sys.executable, "-c", CHILD, str(target), kind, mode, str(step)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode in (0, 9), done.stderr
        gaps += not target.exists()  # seen before any repair
        remove_stale_temporaries(folder)  # what every run does at start-up
        outcomes.append(_content(target, kind))
        assert [p.name for p in folder.iterdir()] == ["out"], "a temporary survived the clean-up"
        if done.returncode == 0:
            break
    else:
        pytest.fail("the write never completed: more crash points than steps tried")
    assert outcomes[0] == "old" and outcomes[-1] == "new" and len(outcomes) >= 4
    if mode == "exchange":
        assert gaps == 0, "a moment without the target"
    else:
        assert gaps >= 1  # the fallback's window exists; the clean-up repaired it above
