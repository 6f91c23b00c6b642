"""Make ``lava-nc`` 0.10.0 importable on Python 3.11, without touching site-packages.

Lava 0.10.0 declares Python < 3.11. Its only 3.11 problem: ``lava/magma/compiler/var_model.py``
gives eight dataclass fields a mutable default (``x: ByteEncoder = ByteEncoder()``), which
Python 3.11's ``dataclasses`` rejects. We install an import hook that, when (and only when)
that module is loaded, rewrites those defaults to ``field(default_factory=ByteEncoder)`` in
the source before compiling it. On Python 3.10 the hook is not installed.

Use ``import_lava()`` before any ``lava`` import; it raises ``LavaMissingError`` (an
``InputError``: exit code 2 in the CLI) with the install command when Lava is absent.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import re
import sys
from types import ModuleType

from neuromotif.core.errors import InputError

PATCHED_MODULE = "lava.magma.compiler.var_model"
_MUTABLE_DEFAULT = re.compile(r"^(\s+\w+\s*:\s*ByteEncoder\s*=\s*)ByteEncoder\(\)\s*$", re.MULTILINE)
INSTALL_HINT = (
    "pip install --no-deps --ignore-requires-python lava-nc==0.10.0 "
    "'numpy<2' scipy 'networkx<=2.8.7' asteval scikit-learn (or run `make setup`)"
)


class LavaMissingError(InputError):
    """The Lava backend was asked for but lava-nc is not installed."""


def patch_source(source: str) -> str:
    """Rewrite ``name: ByteEncoder = ByteEncoder()`` into a ``default_factory`` field."""
    patched, count = _MUTABLE_DEFAULT.subn(r"\1field(default_factory=ByteEncoder)", source)
    if count == 0:
        return source
    lines = patched.splitlines(keepends=True)
    after_future = next((i + 1 for i, line in enumerate(lines) if line.startswith("from __future__")), 0)
    lines.insert(after_future, "from dataclasses import field\n")
    return "".join(lines)


class _PatchingLoader(importlib.machinery.SourceFileLoader):
    def source_to_code(self, data, path, *, _optimize=-1):
        source = importlib.util.decode_source(data)
        return compile(patch_source(source), path, "exec", dont_inherit=True, optimize=_optimize)

    def get_code(self, fullname):  # bypass the cached .pyc of the unpatched source
        source = self.get_data(self.get_filename(fullname))
        return self.source_to_code(source, self.get_filename(fullname))


class _VarModelFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):
        if fullname != PATCHED_MODULE:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.origin is None:
            return None
        spec.loader = _PatchingLoader(fullname, spec.origin)
        return spec


def install_hook() -> None:
    """Install the import hook once (no-op on Python < 3.11)."""
    if sys.version_info < (3, 11):
        return
    if not any(isinstance(f, _VarModelFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _VarModelFinder())


def lava_available() -> bool:
    return importlib.util.find_spec("lava") is not None


def import_lava() -> ModuleType:
    """Import ``lava`` (patched for 3.11) or raise a one-line install hint."""
    if not lava_available():
        raise LavaMissingError(f"the Lava backend needs lava-nc 0.10.0, which is not installed: {INSTALL_HINT}")
    install_hook()
    import lava

    return lava
