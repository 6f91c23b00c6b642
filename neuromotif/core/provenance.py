"""Where a result came from, recorded the same way by every result file: the code (git commit and
whether the tree had uncommitted changes), the command, the config's digest, the machine (CPU
model, cores, torch threads), the library versions, the date and the wall time."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from neuromotif.core.versions import package_version

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("neuromotif", "torch", "numpy", "scipy", "lava-nc", "nir")


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def provenance(
    started: float | None = None, command: list[str] | None = None, config_digest: str | None = None
) -> dict[str, Any]:
    """The record; ``started``: ``time.time()`` when the work began (for the wall time);
    ``config_digest``: the SHA-256 of the config the result was computed from, where there is one."""
    torch = sys.modules.get("torch")
    # the code, not the results: a benchmark that writes its result file into the checkout (as the
    # ones before it did) must not mark the next one's code as changed; a new file not yet committed
    # (a benchmark script run before its commit) does, since the commit does not hold it
    status = _git("status", "--porcelain", "--untracked-files=all", "--", ".", ":(exclude)benchmarks/results")
    return {
        "commit": _git("rev-parse", "HEAD"),
        "dirty": bool(status) if status is not None else None,
        "command": " ".join(command if command is not None else sys.argv),
        "config_digest": config_digest,
        "machine": {
            "cpu": cpu_model(),
            "cores": os.cpu_count(),
            "arch": platform.machine(),
            "torch_threads": torch.get_num_threads() if torch is not None else None,
        },
        "versions": {"python": platform.python_version(), **{p: package_version(p) for p in PACKAGES}},
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "wall_s": round(time.time() - started, 3) if started is not None else None,
    }
