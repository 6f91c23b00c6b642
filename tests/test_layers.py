"""The import graph: what each part may pull in, checked two ways.

Statically (every ``import`` in every module, including those inside functions) and at run
time (importing every module of a part in a fresh interpreter, then reading ``sys.modules``):

- ``hw_models``: nothing of ours, no torch (outside tools and the backends use it);
- ``deploy``: no ``search``, no app layer, no torch (bundles and backends run without torch);
- ``search``: of deploy only the numpy front end (float network, quantizer);
- the shared plumbing (``errors``, ``io``, ``progress``, ``plotting``, ``versions``, ``config``):
  no ``search``, ``deploy`` or app layer, so every part can use it.
"""
from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PLUMBING = ("errors", "io", "progress", "plotting", "versions", "config")
APP = ("neuromotif.cli", "neuromotif.stages", "neuromotif.simulation", "neuromotif.run", "neuromotif.report")


def modules_of(part: str) -> dict[str, Path]:
    """Module name -> file for a part (``search``, ``deploy``, ``hw_models``) or the plumbing."""
    if part == "plumbing":
        return {f"neuromotif.{name}": ROOT / "neuromotif" / f"{name}.py" for name in PLUMBING}
    out = {}
    for path in sorted((ROOT / part).rglob("*.py")):
        rel = path.relative_to(ROOT / part).with_suffix("")
        parts = [p for p in rel.parts if p != "__init__"]
        out[".".join(["neuromotif", part, *parts])] = path
    return out


def imported_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def forbidden(part: str) -> tuple[str, ...]:
    """Module prefixes ``part`` must never import."""
    if part == "hw_models":
        return ("torch", "neuromotif.search", "neuromotif.deploy", *APP, *(f"neuromotif.{p}" for p in PLUMBING))
    if part == "deploy":
        return ("torch", "neuromotif.search", "neuromotif.config", *APP)
    return ("torch", "neuromotif.search", "neuromotif.deploy", *APP)


def hits(names, prefixes) -> list[str]:
    return sorted(n for n in names if any(n == p or n.startswith(p + ".") for p in prefixes))


@pytest.mark.parametrize("part", ["hw_models", "deploy", "plumbing"])
def test_no_forbidden_import_anywhere_in_the_source(part):
    found = {name: hits(imported_names(path), forbidden(part)) for name, path in modules_of(part).items()}
    assert not {k: v for k, v in found.items() if v}, f"{part} imports what it must not"


@pytest.mark.parametrize("part", ["hw_models", "deploy", "plumbing"])
def test_importing_every_module_in_a_fresh_interpreter_pulls_in_nothing_forbidden(part):
    names = list(modules_of(part))
    code = ("import importlib, json, sys\n"
            f"for name in {names!r}:\n    importlib.import_module(name)\n"
            "print(json.dumps(sorted(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    loaded = json.loads(out.stdout)
    assert not hits(loaded, forbidden(part)), f"importing {part} loaded forbidden modules"
    if part == "hw_models":
        assert not [m for m in loaded if m.startswith("neuromotif.") and not m.startswith("neuromotif.hw_models")]


def test_the_search_side_uses_only_the_compilers_numpy_front_end():
    """search may hand the compiler a float network (``deploy.ir``) and reuse its quantizer
    (``deploy.quantize``: the chip precision is the compiler's own rounding), nothing else of deploy."""
    allowed = ("neuromotif.deploy.ir", "neuromotif.deploy.quantize")
    for name, path in modules_of("search").items():
        deploy = [n for n in imported_names(path) if n.startswith("neuromotif.deploy")]
        assert all(n.startswith(allowed) for n in deploy), (name, deploy)


def test_cli_and_dataset_listing_load_no_torch():
    """``neuromotif --help``, ``validate`` and ``datasets`` stay instant: torch loads only in the verbs that train."""
    code = ("import json, sys\nimport neuromotif.cli, neuromotif.search.data, neuromotif.config\n"
            "print(json.dumps(sorted(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert not hits(json.loads(out.stdout), ("torch",))
