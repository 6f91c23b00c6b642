"""Run a job in a child process session we own, and never leave a process or segment behind.

Lava starts one OS process per Lava process plus its own services, talks through shared memory,
and can hang in ``stop()``. So the whole Lava session runs in one child of ours, started in its
own session and process group (a terminal's Ctrl-C never reaches it), that talks to us through a
pipe in length-prefixed pickle frames: ``("progress", i)``, ``("result", value)`` or
``("error", kind, message)``. The child and every process it forks get ``PR_SET_PDEATHSIG``
(SIGKILL), so they die when their parent dies, also when ours is killed with SIGKILL.

On anything but a clean finish (an error, a time-out, Ctrl-C, SIGTERM) we stop the child's
process group: SIGTERM, a bounded wait, then SIGKILL; and we unlink the ``/dev/shm`` segments that
appeared during the run and that no live process maps any more. A clean finish is handled the
same way once the result has arrived (the child sends it before Lava's ``stop()``), so a hung
``stop()`` costs at most ``STOP_GRACE_S``.

When our own process is SIGKILLed too, nothing of ours runs to clean up. So while the session
runs, the segments its process group maps are recorded in a registry file named after our pid
(``REGISTRY/<pid>.json``); every new session first removes, for each registry file whose owner is
dead, the segments it lists that no live process maps (``reap_orphans``; also ``neuromotif clean``).
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import IO, Any

from neuromotif.core.errors import InputError

FRAME = struct.Struct("!Q")
SHM = Path("/dev/shm")
STOP_GRACE_S = 5.0  # a finished child gets this long to stop Lava and exit by itself
KILL_GRACE_S = 2.0  # after SIGTERM, before SIGKILL
PARENT_ENV = "NEUROMOTIF_SESSION_PARENT"
PR_SET_PDEATHSIG = 1
REGISTRY = Path(tempfile.gettempdir()) / "neuromotif-sessions"  # <owner pid>.json: segments its sessions map
TRACK_EVERY_S = 0.5


class SessionTimeout(InputError):
    """The job ran past its time limit (bad input: too many samples or too short a limit)."""


class SessionError(RuntimeError):
    """The child failed for a reason that is not the user's input."""


# ---- both sides ---------------------------------------------------------------------------
def send(fh: IO[bytes], message: Any) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    fh.write(FRAME.pack(len(data)) + data)
    fh.flush()


def die_with_parent() -> None:
    """Ask the kernel to SIGKILL this process when its parent dies (Linux; elsewhere a no-op)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


# ---- the parent's side ----------------------------------------------------------------------
def _read_exact(fd: int, n: int, deadline: float, what: str, tick: Callable[[], None] = lambda: None) -> bytes:
    chunks, got = [], 0
    while got < n:
        left = deadline - time.monotonic()
        if left <= 0:
            raise SessionTimeout(what)
        tick()
        ready, _, _ = select.select([fd], [], [], min(left, TRACK_EVERY_S))
        if not ready:
            continue
        chunk = os.read(fd, n - got)
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _mapped_shm(pgid: int | None = None) -> set[str]:
    """Names of /dev/shm segments some live process maps (only processes of group ``pgid`` if given)."""
    names = set()
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if pgid is not None and _group_of(proc / "stat") != pgid:
                continue
            for line in (proc / "maps").read_text().splitlines():
                if " /dev/shm/" in line:
                    names.add(line.rsplit("/dev/shm/", 1)[1].split(" ")[0])
        except (OSError, IndexError, ValueError):
            continue
    return names


class SegmentTracker:
    """Records, in ``REGISTRY/<our pid>.json``, the segments a child's process group maps, at most
    every ``TRACK_EVERY_S`` (so a SIGKILL of everything leaves a list a later run can clear)."""

    def __init__(self, pgid: int):
        self.pgid, self.next = pgid, 0.0
        self.seen: set[str] = set()
        self.path = REGISTRY / f"{os.getpid()}.json"

    def __call__(self) -> None:
        now = time.monotonic()
        if now < self.next:
            return
        self.next = now + TRACK_EVERY_S
        found = _mapped_shm(self.pgid) - self.seen
        if found:
            self.seen |= found
            REGISTRY.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps({"owner": os.getpid(), "segments": sorted(self.seen)}))
            os.replace(tmp, self.path)

    def close(self) -> None:
        self.path.unlink(missing_ok=True)


def reap_orphans() -> list[str]:
    """Unlink the segments that sessions of dead neuromotif processes recorded and no live process
    maps; drop their registry files. Returns the names unlinked."""
    removed: list[str] = []
    files = list(REGISTRY.glob("*.json")) if REGISTRY.is_dir() else []
    dead = []
    for path in files:
        try:
            entry = json.loads(path.read_text())
            owner, segments = int(entry["owner"]), list(entry["segments"])
        except (OSError, ValueError, KeyError, TypeError):
            path.unlink(missing_ok=True)
            continue
        if not _alive(owner):
            dead.append((path, segments))
    if not dead:
        return removed
    mapped = _mapped_shm()
    for path, segments in dead:
        for name in segments:
            if name not in mapped and "/" not in name and (SHM / name).exists():
                with contextlib.suppress(OSError):
                    (SHM / name).unlink()
                    removed.append(name)
        path.unlink(missing_ok=True)
    return removed


def _shm_names() -> set[str]:
    try:
        return set(os.listdir(SHM))
    except OSError:
        return set()


def _alive(pid: int, group: bool = False) -> bool:
    """Does process ``pid`` (or, with ``group``, any process of group ``pid``) still run? A zombie
    does not: killed processes whose parent is gone wait for init to reap them, which some
    container inits do only every second or two."""
    if group and sys.platform.startswith("linux"):
        return any(_group_of(stat) == pid for stat in Path("/proc").glob("[0-9]*/stat"))
    try:
        (os.killpg if group else os.kill)(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def _group_of(stat: Path) -> int | None:
    """The process group of a live, non-zombie process (from its /proc stat), else None."""
    try:
        fields = stat.read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return None if fields[0] in ("Z", "X") else int(fields[2])


def stop_group(
    proc: subprocess.Popen, shm_before: set[str], grace_s: float, seen: AbstractSet[str] = frozenset()
) -> None:
    """End the child's whole process group (bounded), then unlink the segments it left: those it
    was seen mapping, and those that appeared during the run and no live process maps.

    A child that exited by itself has already stopped Lava (or answered with an error): what is
    left of its group are Lava workers winding down, which take about 2 s to honour a SIGTERM and
    hold nothing we need (their segments are unlinked here). They get SIGKILL at once; a child that
    is still running gets SIGTERM first."""
    pgid = proc.pid  # the child leads its own session and group
    deadline = time.monotonic() + grace_s
    while proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    signals: tuple[tuple[signal.Signals, float], ...] = ((signal.SIGTERM, KILL_GRACE_S), (signal.SIGKILL, KILL_GRACE_S))
    if proc.returncode == 0:
        signals = signals[1:]
    for sig, wait_s in signals:
        if not _alive(pgid, group=True):
            break
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            break
        end = time.monotonic() + wait_s
        while _alive(pgid, group=True) and time.monotonic() < end:
            proc.poll()  # reap the child so the group can empty
            time.sleep(0.02)
    proc.poll()
    new = (_shm_names() - shm_before) | (set(seen) & _shm_names())
    if new:
        for name in new - _mapped_shm():
            try:
                (SHM / name).unlink()
            except OSError:
                pass


def run_in_session(
    module: str, request: Any, timeout_s: float, what: str, on_progress: Callable[[int], None] | None = None
) -> Any:
    """Run ``python -m module`` as a supervised child session, hand it ``request``, return its result.

    ``what`` names the job in the time-out message. Raises ``SessionTimeout`` past ``timeout_s``,
    the child's ``InputError`` as an ``InputError``, anything else as ``SessionError``; on every
    path the child's process group is gone and its shared memory unlinked when this returns.
    """
    reap_orphans()
    shm_before = _shm_names()
    deadline = time.monotonic() + timeout_s
    env = {**os.environ, PARENT_ENV: str(os.getpid())}
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(
            [sys.executable, "-m", module],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            start_new_session=True,
            env=env,
        )
        assert proc.stdin is not None and proc.stdout is not None  # both are pipes
        tracker = SegmentTracker(proc.pid)  # the child leads its own session and group
        try:
            send(proc.stdin, request)
            proc.stdin.close()
            fd = proc.stdout.fileno()
            while True:
                try:
                    size = FRAME.unpack(_read_exact(fd, FRAME.size, deadline, what, tracker))[0]
                    message = pickle.loads(_read_exact(fd, size, deadline, what, tracker))
                except EOFError:
                    proc.wait(timeout=KILL_GRACE_S)
                    raise SessionError(
                        f"the {module} child exited with code {proc.returncode} before answering: {_last_line(errors)}"
                    ) from None
                if message[0] == "progress" and on_progress is not None:
                    on_progress(message[1])
                elif message[0] == "result":
                    return message[1]
                elif message[0] == "error":
                    _, kind, text = message
                    raise (InputError if kind == "input" else SessionError)(text)
        finally:
            grace = STOP_GRACE_S if sys.exc_info()[0] is None else 0.0  # finished: let it stop Lava itself
            with _signals_held():  # a second Ctrl-C must not cut the clean-up short; it is delivered after
                stop_group(proc, shm_before, grace, tracker.seen)
                tracker.close()
            for pipe in (proc.stdin, proc.stdout):
                if pipe is not None and not pipe.closed:
                    pipe.close()


@contextlib.contextmanager
def _signals_held():
    """Hold SIGINT and SIGTERM (main thread) until the block ends; they arrive afterwards."""
    held = {signal.SIGINT, signal.SIGTERM}
    try:
        old = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    except (ValueError, OSError):
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _last_line(fh) -> str:
    fh.seek(0)
    lines = [line for line in fh.read().decode(errors="replace").splitlines() if line.strip()]
    return lines[-1] if lines else "no message"


# ---- the child's side -----------------------------------------------------------------------
def child_main(job: Callable[[Any, Callable[[int], None], Callable[[Any], None]], None]) -> None:
    """Entry point of a session child: ``job(request, progress, deliver)`` does the work and calls
    ``deliver(result)`` as soon as it has it (before any slow shutdown)."""
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # stray prints of the job go to stderr, never into the result pipe
    die_with_parent()
    if os.environ.get(PARENT_ENV) and os.getppid() != int(os.environ[PARENT_ENV]):
        os._exit(1)  # the parent died before the death signal was armed
    os.register_at_fork(after_in_child=die_with_parent)  # every process Lava forks dies with us
    size = FRAME.unpack(sys.stdin.buffer.read(FRAME.size))[0]
    request = pickle.loads(sys.stdin.buffer.read(size))
    delivered = []

    def deliver(result: Any) -> None:
        send(out, ("result", result))
        delivered.append(True)

    try:
        job(request, lambda i: send(out, ("progress", i)), deliver)
    except InputError as exc:
        if not delivered:
            send(out, ("error", "input", str(exc)))
    except BaseException as exc:  # noqa: BLE001 - report anything to the parent, then exit
        if not delivered:
            send(out, ("error", "internal", f"{type(exc).__name__}: {exc}"))
    finally:
        out.flush()
    os._exit(0)  # skip interpreter teardown: Lava's services are already stopped or will be killed
