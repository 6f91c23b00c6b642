"""How much memory this process can still use: the least of the machine's available memory and the
container's cgroup limit minus its usage (cgroup v2 ``memory.max``, v1 ``memory.limit_in_bytes``).
A run that fits the host but not its container is killed by the kernel with no message, so every
memory check asks here."""

from __future__ import annotations

import os
from pathlib import Path

CGROUP_V2 = Path("/sys/fs/cgroup")
CGROUP_V1 = Path("/sys/fs/cgroup/memory")


def _read_int(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None  # "max" (v2, no limit) reads as None


def host_available() -> float:
    """MemAvailable, or physical memory where /proc/meminfo is missing."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


def cgroup_available(v2: Path = CGROUP_V2, v1: Path = CGROUP_V1) -> float | None:
    """The container's limit minus its usage, or None without a limit."""
    for limit_file, usage_file in (
        (v2 / "memory.max", v2 / "memory.current"),
        (v1 / "memory.limit_in_bytes", v1 / "memory.usage_in_bytes"),
    ):
        limit = _read_int(limit_file)
        if limit is not None and limit < 1 << 60:  # v1 writes "no limit" as a huge number
            return float(max(limit - (_read_int(usage_file) or 0), 0))
    return None


def available_memory() -> float:
    """Bytes this process can still allocate: the host's and the container's, whichever is less."""
    cgroup = cgroup_available()
    host = host_available()
    return host if cgroup is None else min(host, cgroup)
