"""Saving figures: PNG, written atomically, with the same file mode as every other output.

Figures are built with matplotlib's object API (``matplotlib.figure.Figure``), never pyplot's
global state, so nothing needs a display, a backend switch or closing (``hw_models.plots``
builds its figures the same way; this module only writes them).
"""

from __future__ import annotations

import os
from pathlib import Path

from matplotlib.figure import Figure

from neuromotif.core.io import atomic_path

DPI = 110


def save_figure(fig: Figure, path: str | os.PathLike[str]) -> Path:
    """Write ``fig`` to ``path`` (PNG) atomically; returns the path."""
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        fig.savefig(fh, format="png", dpi=DPI, bbox_inches="tight")
    return path
