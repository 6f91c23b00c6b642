"""Installed package versions, looked up in one place (reports, bundles, ``--version``)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def package_version(name: str) -> str | None:
    """The installed version of distribution ``name``, or None when it is not installed."""
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def tool_version() -> str:
    """neuromotif's own version (``0+unknown`` when run from a source tree that is not installed)."""
    return package_version("neuromotif") or "0+unknown"
