"""Atomic writes: a reader sees the old file (or directory) or the new one, never half of one.

Everything neuromotif writes (caches, checkpoints, bundles, reports, plots) goes through here,
and every output gets the same permissions (the umask's, not ``mkstemp``'s private 0600/0700).
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from neuromotif.core.errors import InputError

# errors that mean "this place cannot take the output" (bad input: exit 2), not a bug
WRITE_ERRNOS = {
    errno.ENOSPC,
    errno.EDQUOT,
    errno.EROFS,
    errno.EACCES,
    errno.EPERM,
    errno.ENOTDIR,
    errno.EISDIR,
    errno.ENAMETOOLONG,
}


class OutputError(InputError):
    """An output cannot be written where it was asked for: read-only, no permission, disk full."""


def _size(path: Path) -> int:
    try:
        return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.is_dir() else path.stat().st_size
    except OSError:
        return 0


def output_error(target: Path, exc: BaseException, written: Path | None = None) -> OutputError:
    """One line naming the path, the reason and, when the disk is full, the space involved."""
    folder = next((p for p in (target.parent, *target.parents) if p.exists()), Path("."))
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        free = None
    code = getattr(exc, "errno", None)
    if code in (errno.ENOSPC, errno.EDQUOT) or (free is not None and free < 1 << 20):
        need = _size(written) if written is not None else 0
        return OutputError(
            f"no space left to write {target}: it needs more than {need / 1e6:.1f} MB and "
            f"{(free or 0) / 1e6:.1f} MB are free there; free some space or choose another --out"
        )
    blocker = next((p for p in target.parents if p.exists()), None)
    if blocker is not None and not blocker.is_dir():
        reason = f"{blocker} is a file, not a folder"
    else:
        reason = os.strerror(code) if code else f"{type(exc).__name__}: {exc}"
    return OutputError(f"cannot write {target} ({reason}); choose a writable --out folder")


def _is_write_failure(exc: BaseException) -> bool:
    if isinstance(exc, OSError):
        return exc.errno in WRITE_ERRNOS
    return isinstance(exc, RuntimeError) and "writ" in str(exc).lower()  # torch.save reports ENOSPC this way


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _make_temporary(target: Path, directory: bool) -> Path:
    """An empty temporary file or directory beside ``target``, with the umask's permissions."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if directory:
            tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        else:
            fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
            os.close(fd)
            tmp = Path(name)
    except OSError as exc:
        raise output_error(target, exc) from None
    os.chmod(tmp, (0o777 if directory else 0o666) & ~_umask())
    return tmp


@contextlib.contextmanager
def _write_failures_as_output_errors(target: Path, tmp: Path) -> Iterator[None]:
    try:
        yield
    except (OSError, RuntimeError) as exc:
        if _is_write_failure(exc):
            raise output_error(target, exc, tmp) from None
        raise


def _fsync(path: Path) -> None:
    """Flush a file's data, or a directory's entries, to the disk (so a rename never publishes a
    file whose content a power loss could still drop)."""
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if path.is_dir() else 0))
    try:
        os.fsync(fd)
    except OSError as exc:  # a filesystem that cannot sync directories (EINVAL) has nothing to flush
        if exc.errno not in (errno.EINVAL, errno.EBADF):
            raise
    finally:
        os.close(fd)


def _fsync_tree(root: Path) -> None:
    for path in (*sorted(p for p in root.rglob("*") if p.is_file()), root):
        _fsync(path)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success flush it and rename it over ``path``."""
    target = Path(path)
    tmp = _make_temporary(target, directory=False)
    try:
        with _write_failures_as_output_errors(target, tmp):
            yield tmp
            _fsync(tmp)
            os.replace(tmp, target)
            _fsync(target.parent)
    finally:
        if tmp.exists():
            tmp.unlink()


@contextlib.contextmanager
def atomic_directory(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary sibling directory to fill; on success it takes the place of ``path``
    (exchanged atomically where the system can, else the old one moved aside first: a crash
    between the two renames leaves ``.NAME.old``, which ``remove_stale_temporaries`` puts back)."""
    target = Path(path)
    tmp = _make_temporary(target, directory=True)
    try:
        with _write_failures_as_output_errors(target, tmp):
            yield tmp
            _fsync_tree(tmp)
            if target.exists() and exchange(tmp, target):
                pass  # tmp holds the old content now: removed below
            elif target.exists():  # no atomic exchange here: a moment without ``target``
                old = target.with_name(f".{target.name}.old")
                shutil.rmtree(old, ignore_errors=True)
                os.replace(target, old)
                os.replace(tmp, target)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp, target)
            _fsync(target.parent)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


RENAME_EXCHANGE = 2
AT_FDCWD = -100


def exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2(RENAME_EXCHANGE)``); False where unsupported,
    so a reader of ``b`` always sees the old or the new directory, never none."""
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except AttributeError:  # a libc without the wrapper
        return False
    result = renameat2(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):  # filesystem or kernel cannot exchange
        return False
    raise OSError(code, os.strerror(code), str(b))


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Delete what interrupted atomic writes left in ``folder`` (``.NAME.*.tmp`` files, ``.NAME.*``
    directories, ``.NAME.old``, empty ``tmp*.png``); returns what was removed. A ``.NAME.old``
    whose ``NAME`` is missing (a crash inside the fallback swap) is put back, not removed."""
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    for old in list(folder.glob(".*.old")):
        original = folder / old.name[1 : -len(".old")]
        if old.is_dir() and not original.exists():
            os.replace(old, original)
    for entry in folder.iterdir():
        name = entry.name
        stale = (
            name.startswith(".")
            and (name.endswith(".tmp") or name.endswith(".old") or (entry.is_dir() and name.count(".") >= 2))
        ) or (name.startswith("tmp") and name.endswith(".png") and entry.is_file() and entry.stat().st_size == 0)
        if stale:
            shutil.rmtree(entry, ignore_errors=True) if entry.is_dir() else entry.unlink(missing_ok=True)
            removed.append(entry)
    return removed


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_save_npz(path: str | os.PathLike[str], **arrays: np.ndarray) -> None:
    """``np.savez`` to ``path`` atomically (the exact name is kept: no ``.npz`` appended)."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **arrays)
