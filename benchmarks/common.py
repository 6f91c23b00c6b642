"""Shared benchmark plumbing: run a measurement in a fresh process (clean peak memory), save JSON."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # benchmarks run as scripts: make the repo root importable
    sys.path.insert(0, str(ROOT))
RESULTS = Path(__file__).parent / "results"


def run_isolated(module: str, *args: str, timeout: float = 900) -> dict:
    """Run ``python -m module args`` and parse the JSON object it prints last."""
    out = subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=Path(__file__).parents[1],
    )
    if out.returncode != 0:
        raise RuntimeError(f"{module} {args} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_quickstart(verb: str, out: Path, sets: Sequence[str] = ()) -> None:
    """``neuromotif VERB configs/quickstart.yaml --out OUT -q --set ...`` in a fresh process (its own
    torch threads and memory); a failure raises with the end of its stderr."""
    cmd = [sys.executable, "-m", "neuromotif", verb, str(ROOT / "configs" / "quickstart.yaml"), "--out", str(out), "-q"]
    done = subprocess.run([*cmd, *[a for s in sets for a in ("--set", s)]], capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"neuromotif {verb} --out {out} failed:\n{done.stderr[-2000:]}")


def peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


STARTED = time.time()


def save(name: str, payload: dict) -> Path:
    """Write ``RESULTS/name.json`` with the provenance every result file carries (commit, machine,
    versions, command, wall time since the benchmark started)."""
    from neuromotif.core.io import atomic_write_text
    from neuromotif.core.provenance import provenance

    RESULTS.mkdir(parents=True, exist_ok=True)
    payload = {"benchmark": name, "provenance": provenance(STARTED), **payload}

    path = RESULTS / f"{name}.json"
    atomic_write_text(path, json.dumps(payload, indent=2))
    return path


def table(rows: list[dict], columns: list[str]) -> str:
    """A Markdown table of ``rows`` (floats to 3 significant digits)."""

    def fmt(v):
        return f"{v:.3g}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(fmt(r.get(c, "")) for c in columns) + " |" for r in rows]
    return "\n".join(lines)
