"""Progress bars (rich) that respect ``--quiet`` and stay off in non-terminals' logs."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

T = TypeVar("T")
_QUIET = False


def set_quiet(quiet: bool) -> None:
    """Silence every progress bar (the CLI's ``--quiet``)."""
    global _QUIET
    _QUIET = quiet


def _bar() -> Progress | None:
    """A transient progress display on stderr, or None when quiet or piped (no bar then)."""
    if _QUIET or not sys.stderr.isatty():
        return None
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    return Progress(*columns, transient=True, console=Console(stderr=True))


def track(items: Iterable[T], description: str, total: int | None = None) -> Iterator[T]:
    """Iterate over ``items`` with a transient progress bar on stderr (none when quiet or piped)."""
    bar = _bar()
    if bar is None:
        yield from items
        return
    with bar as progress:
        yield from progress.track(items, total=total, description=description)


def warn(message: str) -> None:
    """A warning on stderr, shown even with --quiet: something the user should change."""
    print(f"warning: {message}", file=sys.stderr, flush=True)


def note(message: str) -> None:
    """One line of progress chatter on stderr (silent with --quiet)."""
    if not _QUIET:
        print(message, file=sys.stderr, flush=True)


@contextlib.contextmanager
def progress_bar(total: int, description: str) -> Iterator[Callable[[int], None]]:
    """A transient bar for work that reports its own progress: yields ``done(i)`` (i = items
    finished so far). No bar when quiet or piped."""
    bar = _bar()
    if bar is None:
        yield lambda i: None
        return
    with bar as progress:
        task = progress.add_task(description, total=total)
        yield lambda i: progress.update(task, completed=i)
