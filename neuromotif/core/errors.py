"""Errors caused by the user's input (configs, arguments, data files).

The CLI prints an ``InputError`` as one line and exits with code 2; anything else is an
internal error (exit 1). Messages name the problem and the fix.
"""

from __future__ import annotations


class InputError(ValueError):
    """Bad input from the user: a config key, a CLI argument, a missing or damaged file."""


class Terminated(BaseException):
    """The process received SIGTERM: unwind (running every ``finally``), then exit 143.

    A ``BaseException`` like ``KeyboardInterrupt``, so no ``except Exception`` swallows it."""
