"""How long the README's test commands take (issue 34's target: `make test` <= 3 min, `make test-fast`
<= 1.5 min on 2 cores), measured the way a newcomer runs them: ``CI=true`` (a skip fails), lint
included, one command at a time, nothing else running.

One call runs a plan of commands (default: `make test` with cold lint caches, as on a fresh clone,
then twice warm; `make test-fast` cold, then warm) and only then appends the runs, each with the
commit it timed, to ``results/bench_test_suite.json``: the suite checks that file against the
README (``tests/test_readme_numbers.py``), so writing it between runs would fail the next run.
The README block ``test-suite`` reports the runs at the file's latest commit.

    python benchmarks/bench_test_suite.py [--plan test:cold test test test-fast:cold test-fast]
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
    row = {"target": target, "cold_lint": cold_lint, "wall_s": round(wall, 1), "exit": done.returncode}
    if found is None:  # the lint or the collection failed: no pytest summary
        return row | {"pytest_s": None, "passed": 0, "failed": None, "skipped": None, "tail": done.stdout[-2000:]}
    others = dict((k, int(n)) for n, k in re.findall(r"(\d+) (\w+)", found["rest"]))
    row |= {
        "pytest_s": float(found["secs"]),
        "passed": int(found["passed"]),
        "failed": others.get("failed", 0),
        "skipped": others.get("skipped", 0),
    }
    if done.returncode:
        row["tail"] = done.stdout[-2000:]  # which tests failed: a failed run is kept, not dropped
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--plan",
        nargs="+",
        default=["test:cold", "test", "test", "test-fast:cold", "test-fast"],
        help="commands in order: test or test-fast, ':cold' to delete the lint caches first",
    )
    args = parser.parse_args()
    plan = [(step.split(":")[0], step.endswith(":cold")) for step in args.plan]
    if bad := [t for t, _ in plan if t not in ("test", "test-fast")]:
        raise SystemExit(f"--plan: unknown command {bad[0]!r}: use test or test-fast, optionally with :cold")
    from neuromotif.core.provenance import provenance

    commit = provenance()["commit"]
    measured = []
    for i, (target, cold) in enumerate(plan):
        run = time_once(target, cold) | {"commit": commit}
        measured.append(run)
        print(
            f"[{i + 1}/{len(plan)}] make {target}{' (cold lint)' if cold else ''}: exit {run['exit']}, "
            f"{run['passed']} passed, {run['failed']} failed, {run['wall_s']:.0f} s wall",
            file=sys.stderr,
        )
        if run["exit"]:
            print(run["tail"], file=sys.stderr)
    path = RESULTS / f"{NAME}.json"
    runs = json.loads(path.read_text())["runs"] if path.exists() else []
    save(NAME, {"runs": runs + measured})  # after the plan: the suite reads this file
    if any(r["exit"] for r in measured):
        raise SystemExit("a run failed: its tail is recorded in the result file")


if __name__ == "__main__":
    main()
