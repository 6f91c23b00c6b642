"""Suite-wide rules.

In CI (``CI=true``) a skipped test is a failure: every dependency the tests skip without (Lava,
the peers of ``make peers``, Chromium) is installed by the README's test command, so a skip there
means a missing install step, not an optional extra. Outside CI a skip stays a skip, with its reason.
"""

from __future__ import annotations

import os

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = (
            f"skipped in CI ({reason}): the README's setup installs every test dependency, so a "
            "skip here is a missing install step"
        )
