"""How long the README's test commands take (issue 34's target: `make test` <= 3 min, `make test-fast`
<= 1.5 min on 2 cores), measured the way a newcomer runs them: ``CI=true`` (a skip fails), lint
included, one command at a time, nothing else running.

Each call appends its runs to ``results/bench_test_suite.json`` (earlier runs are kept, so the file
accumulates evidence over sessions; every run records the commit it timed) and the README block
``test-suite`` reports the runs at the file's latest commit. ``--cold-lint`` deletes the mypy and
ruff caches first, as on a fresh clone.

    python benchmarks/bench_test_suite.py --target test --repeat 2 [--cold-lint]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time

from common import RESULTS, ROOT, save

SUMMARY = re.compile(r"=+ (?P<passed>\d+) passed(?P<rest>[^=]*) in (?P<secs>[\d.]+)s")
NAME = "bench_test_suite"


def time_once(target: str, cold_lint: bool) -> dict:
    """One ``make TARGET`` with ``CI=true``: its wall time, pytest's own time and counts."""
    if cold_lint:
        for cache in (".mypy_cache", ".ruff_cache"):
            shutil.rmtree(ROOT / cache, ignore_errors=True)
    started = time.perf_counter()
    done = subprocess.run(["make", target], cwd=ROOT, env={**os.environ, "CI": "true"}, capture_output=True, text=True)
    wall = time.perf_counter() - started
    found = SUMMARY.search(done.stdout)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"make {target} failed (exit {done.returncode}):\n{done.stdout[-3000:]}")
    others = dict((k, int(n)) for n, k in re.findall(r"(\d+) (\w+)", found["rest"]))
    return {
        "target": target,
        "cold_lint": cold_lint,
        "wall_s": round(wall, 1),
        "pytest_s": float(found["secs"]),
        "passed": int(found["passed"]),
        "failed": others.get("failed", 0),
        "skipped": others.get("skipped", 0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", choices=["test", "test-fast"], default="test")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--cold-lint", action="store_true", help="delete the lint caches first (fresh clone)")
    args = parser.parse_args()
    path = RESULTS / f"{NAME}.json"
    runs = json.loads(path.read_text())["runs"] if path.exists() else []
    from neuromotif.core.provenance import provenance

    for i in range(args.repeat):
        run = time_once(args.target, args.cold_lint) | {"commit": provenance()["commit"]}
        runs.append(run)
        print(
            f"make {args.target} run {i + 1}/{args.repeat}: {run['passed']} passed, "
            f"{run['wall_s']:.0f} s wall (pytest {run['pytest_s']:.0f} s)",
            file=sys.stderr,
        )
        save(NAME, {"runs": runs})  # after every run: an interrupted series keeps what it measured


if __name__ == "__main__":
    main()
