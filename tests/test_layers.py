"""The import graph: what each layer may pull in, derived from the folders, checked two ways.

Statically (every ``import`` in every module, including those inside functions) and at run
time (importing every module of a layer in a fresh interpreter, then reading ``sys.modules``).
The layers are the folders, bottom to top; a folder that is in no layer fails the test, so the
table cannot go stale:

- ``neuromotif/core`` (plumbing): nothing else of ours, no torch;
- ``hw_models``: nothing of ours, no torch (outside tools and the backends use it);
- ``deploy``: core and hw_models, no torch (bundles and backends run without torch);
- ``search``: core, hw_models and of deploy only the numpy front end (float network, quantizer) and
  the backend interface (its torch backend returns a ``SimResult``);
- the app, every module directly in ``neuromotif/``: anything; nothing below imports it.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# layer -> (folder, what it may import of ours, may it import torch)
LAYERS = {
    "core": (ROOT / "neuromotif" / "core", (), False),
    "hw_models": (ROOT / "neuromotif" / "hw_models", (), False),
    "deploy": (ROOT / "neuromotif" / "deploy", ("core", "hw_models"), False),
    "search": (
        ROOT / "neuromotif" / "search",
        ("core", "hw_models", "deploy.ir", "deploy.quantize", "deploy.backends"),
        True,
    ),
}
BELOW_APP = tuple(LAYERS)


def module_name(layer: str, path: Path) -> str:
    rel = path.relative_to(LAYERS[layer][0]).with_suffix("")
    return ".".join(["neuromotif", layer, *[p for p in rel.parts if p != "__init__"]])


def modules_of(layer: str) -> dict[str, Path]:
    """Module name -> file for every module of a layer."""
    return {module_name(layer, path): path for path in sorted(LAYERS[layer][0].rglob("*.py"))}


def app_modules() -> list[str]:
    return [f"neuromotif.{p.stem}" for p in sorted((ROOT / "neuromotif").glob("*.py")) if p.stem != "__init__"]


def test_every_package_folder_is_a_layer():
    """A new package folder under neuromotif/ must be given a layer here."""
    inner = {p.parent.name for p in (ROOT / "neuromotif").glob("*/__init__.py")}
    assert inner == set(LAYERS)


def test_the_top_level_folders_are_links_to_the_packages():
    """The user's layout (search/, deploy/, hw_models/ at the top) without a second copy of the code:
    each is a link into neuromotif/, which is what static analysers and the wheel read (issue 31)."""
    for name in ("search", "deploy", "hw_models"):
        top = ROOT / name
        assert top.is_symlink() and top.resolve() == (ROOT / "neuromotif" / name).resolve(), name


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


def forbidden(layer: str) -> tuple[str, ...]:
    """Module prefixes ``layer`` must never import: every other layer it is not allowed, the app, torch."""
    _, allowed, torch_ok = LAYERS[layer]
    ours = [f"neuromotif.{other}" for other in LAYERS if other != layer and other not in allowed]
    partial = {a.split(".")[0] for a in allowed if "." in a}
    ours = [o for o in ours if o.removeprefix("neuromotif.") not in partial]
    return (*ours, *app_modules(), *(() if torch_ok else ("torch",)))


def hits(names, prefixes) -> list[str]:
    return sorted(n for n in names if any(n == p or n.startswith(p + ".") for p in prefixes))


def test_the_forbidden_list_names_the_app_and_the_layers_above():
    assert "neuromotif.cli" in forbidden("core") and "neuromotif.search" in forbidden("deploy")
    assert "neuromotif.deploy" in forbidden("hw_models") and "torch" in forbidden("deploy")
    assert "neuromotif.deploy" not in forbidden("search") and "neuromotif.config" in forbidden("search")


@pytest.mark.parametrize("part", BELOW_APP)
def test_no_forbidden_import_anywhere_in_the_source(part):
    found = {name: hits(imported_names(path), forbidden(part)) for name, path in modules_of(part).items()}
    assert not {k: v for k, v in found.items() if v}, f"{part} imports what it must not"


@pytest.mark.parametrize("part", ["core", "hw_models", "deploy"])
def test_importing_every_module_in_a_fresh_interpreter_pulls_in_nothing_forbidden(part):
    names = list(modules_of(part))
    code = (
        "import importlib, json, sys\n"
        f"for name in {names!r}:\n    importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    loaded = json.loads(out.stdout)
    assert not hits(loaded, forbidden(part)), f"importing {part} loaded forbidden modules"
    if part in ("core", "hw_models"):
        assert not [m for m in loaded if m.startswith("neuromotif.") and not m.startswith(f"neuromotif.{part}")]


def test_the_search_side_uses_only_the_compilers_numpy_front_end():
    """search may hand the compiler a float network (``deploy.ir``), reuse its quantizer
    (``deploy.quantize``: the chip precision is the compiler's own rounding) and return the backend
    interface's ``SimResult`` (its torch backend), nothing else of deploy: no backend module."""
    allowed = ("neuromotif.deploy.ir", "neuromotif.deploy.quantize", "neuromotif.deploy.backends.SimResult")
    packages = {"neuromotif.deploy", "neuromotif.deploy.backends"}  # the ``from`` part of an allowed import
    for name, path in modules_of("search").items():
        deploy = [n for n in imported_names(path) if n.startswith("neuromotif.deploy") and n not in packages]
        assert all(n.startswith(allowed) for n in deploy), (name, deploy)


def test_cli_and_dataset_listing_load_no_torch():
    """``neuromotif --help``, ``validate`` and ``datasets`` stay instant: torch loads only in the verbs that train."""
    code = (
        "import json, sys\nimport neuromotif.cli, neuromotif.search.data, neuromotif.config\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert not hits(json.loads(out.stdout), ("torch",))


def test_a_wheel_holds_only_the_neuromotif_namespace():
    """The links at the top must not turn into top-level ``search`` / ``deploy`` packages of a
    wheel: package discovery (as pyproject configures it) finds neuromotif.* only, every layer."""
    import tomllib
    from setuptools import find_packages

    find = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    found = find_packages(str(ROOT), include=find["include"])
    assert found and all(p == "neuromotif" or p.startswith("neuromotif.") for p in found), found
    assert {f"neuromotif.{layer}" for layer in LAYERS} <= set(found)
