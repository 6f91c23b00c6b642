"""The Lava stage never leaves anything behind: Ctrl-C, SIGTERM, a time-out, kill -9.

Each test starts ``neuromotif simulate --backend lava`` in a process group of its own, waits until
Lava's processes are up, interrupts it, and then checks what the issue asks: exit code and one
line, ended within 30 s (it takes 1-3 s), no process of the run alive (every process of the run carries a marker
in its environment, inherited through every fork), and none of the ``/dev/shm`` segments the run's
processes mapped left behind. Only the run's own processes and segments are looked at, so other
programs (or other test workers running Lava at the same time) neither disturb nor get touched.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from neuromotif.deploy import lava_compat
from tests.paths import QUICKSTART

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not lava_compat.lava_available(), reason="lava-nc not installed (make setup)"),
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc and /dev/shm"),
]

EXE = Path(sys.executable).with_name("neuromotif")
MARK = "NEUROMOTIF_FAULT_TEST"
SHM = Path("/dev/shm")
ENDS_WITHIN_S = 30  # a run ends 1-3 s after a signal here: 10x and more of slack, never a tight limit


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    from neuromotif.cli import main

    out = tmp_path_factory.mktemp("run")
    sets = [
        "data.max_samples=64",
        "model.hidden=[32]",
        "train.epochs=1",
        "search.enabled=false",
    ]
    args = [a for s in sets for a in ("--set", s)]
    assert main(["train", QUICKSTART, "--out", str(out), "-q", *args]) == 0  # in this process: no start-up
    assert main(["compile", str(out), "-q"]) == 0
    return out / "bundle"


def marked(mark: str) -> list[int]:
    """Live processes whose environment carries ``mark``."""
    pids = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if f"{MARK}={mark}".encode() in environ.read_bytes().split(b"\0"):
                pids.append(int(environ.parent.name))
        except OSError:
            continue
    return pids


def mapped_segments(mark: str) -> set[str]:
    """Names of the /dev/shm segments the live processes carrying ``mark`` map."""
    names = set()
    for pid in marked(mark):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
                if " /dev/shm/" in line:
                    names.add(line.rsplit("/dev/shm/", 1)[1].split(" ")[0])
    return names


def _as_in_a_terminal() -> None:
    """A command in a terminal's foreground has SIGINT at its default; a background job of a
    non-interactive shell (how CI may run the suite) inherits it ignored: undo that for the child."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(bundle: Path, *extra: str) -> tuple[subprocess.Popen, str, set[str]]:
    mark = uuid.uuid4().hex
    RUNS.append(mark)
    proc = subprocess.Popen(
        [str(EXE), "simulate", str(bundle), "--backend", "lava", "--samples", "300", "--divergence", "0", *extra],
        env={**os.environ, MARK: mark},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        text=True,
        preexec_fn=_as_in_a_terminal,
    )
    deadline = time.monotonic() + 120
    while len(marked(mark)) < 6:  # main + session child + Lava's services and processes
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "Lava never started"
        time.sleep(0.2)
    own: set[str] = set()
    last: set[str] = set()
    for _ in range(25):  # let it run, noting the segments its processes map, until two looks agree
        now = mapped_segments(mark)
        own |= now
        if now and now == last:
            break  # nothing new for 0.2 s: Lava's channels are all up
        last = now
        time.sleep(0.2)
    assert own, "the run mapped no /dev/shm segment: these tests would no longer check the clean-up"
    return proc, mark, own


@pytest.fixture(autouse=True)
def no_leftovers_even_when_a_test_fails():
    """A failing test must not leave its Lava run behind for the next one. Only what the test's own
    runs created is touched: their processes (by marker) and the segments their sessions recorded."""
    from neuromotif.deploy.backends.session import reap_orphans

    started = len(RUNS)
    yield
    for mark in RUNS[started:]:
        for pid in marked(mark):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    time.sleep(0.5)
    reap_orphans()


RUNS: list[str] = []


def finish(proc: subprocess.Popen, mark: str, own: set[str], code: int, word: str) -> None:
    t0 = time.monotonic()
    try:
        _, err = proc.communicate(timeout=ENDS_WITHIN_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail(f"still running {ENDS_WITHIN_S} s after the signal: {len(marked(mark))} processes of the run alive")
    assert time.monotonic() - t0 < ENDS_WITHIN_S
    assert proc.returncode == code, err
    assert err.count("\n") == 1 and word in err and "Traceback" not in err, err
    assert marked(mark) == [], "processes of the run are left behind"
    assert own & set(os.listdir(SHM)) == set(), "shared-memory segments are left behind"


def test_ctrl_c_to_the_process_group(bundle):
    proc, mark, shm = start(bundle)
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C sends
    finish(proc, mark, shm, 130, "interrupted")


def test_sigint_to_the_main_process(bundle):
    proc, mark, shm = start(bundle)
    proc.send_signal(signal.SIGINT)
    finish(proc, mark, shm, 130, "interrupted")


def test_sigterm(bundle):
    proc, mark, shm = start(bundle)
    proc.terminate()
    finish(proc, mark, shm, 143, "terminated")


def test_an_expired_timeout(bundle):
    proc, mark, shm = start(bundle, "--timeout", "4")
    finish(proc, mark, shm, 2, "time limit of 4 s")


def test_kill_9_of_the_main_process_leaves_no_worker(bundle):
    proc, mark, shm = start(bundle)
    proc.kill()
    proc.wait(timeout=ENDS_WITHIN_S)
    deadline = time.monotonic() + ENDS_WITHIN_S
    while marked(mark) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert marked(mark) == [], "Lava workers outlived a SIGKILL of the main process"
    # SIGKILL allows no clean-up; the session recorded its segments, and `neuromotif clean` removes them
    out = subprocess.run([str(EXE), "clean"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "removed" in out.stdout, out
    assert shm & set(os.listdir(SHM)) == set(), "segments of the killed run survived `neuromotif clean`"


def test_sigkill_of_the_whole_tree_mid_lava_is_cleared_by_the_next_run(bundle):
    """Every process of the run (main, session child, Lava's) killed at once: nothing of ours runs
    to clean up. The next Lava session clears what the dead one recorded."""
    proc, mark, shm = start(bundle)
    # stop every process first, then kill: killed one by one, a process could see its parent die
    # (PR_SET_PDEATHSIG) and clean up before its own SIGKILL came, and the test would check nothing
    stopped: set[int] = set()
    while pending := set(marked(mark)) - stopped:
        for pid in pending:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)
        stopped |= pending
    # what the run will leave, looked at while it is frozen: once it is dead, a Lava session that
    # another test worker starts clears dead sessions' segments itself (reap_orphans, the mechanism
    # under test too), so a look after the kill could find nothing
    leaked = shm & set(os.listdir(SHM))
    for pid in stopped:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    proc.wait(timeout=ENDS_WITHIN_S)
    deadline = time.monotonic() + ENDS_WITHIN_S
    while marked(mark) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert marked(mark) == []
    assert leaked, "the killed run left no segment: this test no longer checks the clean-up"
    nxt = subprocess.run(
        [str(EXE), "simulate", str(bundle), "--backend", "lava", "--samples", "1", "--divergence", "0", "-q"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert nxt.returncode == 0, nxt.stderr
    assert not leaked & set(os.listdir(SHM)), "the next run left the killed run's segments in /dev/shm"
