"""Atomic file writes: a reader never sees a half-written file.

Every writer puts the bytes in a temporary file in the destination's folder (named
``.NAME.PID.*.partial``, so that :func:`orbitspace.cli._guards.clean_stale_partials` can tell
the leftovers of a killed run from the files of a live one), flushes it to disk
and renames it over the destination with :func:`os.replace` (atomic on POSIX and Windows when
both paths are on one filesystem).  On any error the temporary file is removed and the
destination is left as it was.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> write_json_atomic(d / "m.json", {"a": np.float32(0.5), "b": np.arange(2)}).name
'm.json'
>>> (d / "m.json").read_text()
'{\\n  "a": 0.5,\\n  "b": [\\n    0,\\n    1\\n  ]\\n}\\n'
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "Terminated",
    "atomic_write_bytes",
    "atomic_write_text",
    "save_npy_atomic",
    "write_json_atomic",
    "to_jsonable",
    "staged_dir",
    "staged_file",
]


class Terminated(BaseException):
    """Raised on SIGTERM / SIGHUP (a BaseException, like KeyboardInterrupt)."""

    def __str__(self) -> str:  # re-raised without arguments: the recorded signal's name
        return super().__str__() or (_TERMINATION[0] if _TERMINATION else "")


#: the signal's name once SIGTERM / SIGHUP arrived, else None (set by the CLI's handler)
_TERMINATION: list[str] = []


def note_termination(name: str) -> None:
    """Record that the process was told to stop: no output is published from now on.

    The signal handler's exception can be swallowed (a signal that arrives inside a C
    callback, e.g. numba's cache writer, is "ignored"), so every publishing step below
    also checks this record.
    """
    if not _TERMINATION:
        _TERMINATION.append(name)


def forget_termination() -> None:
    """Clear the record (the CLI's signal guard does, when its block has ended)."""
    _TERMINATION.clear()


def raise_if_terminated() -> None:
    """Raise :class:`Terminated` when a termination was recorded."""
    if _TERMINATION:
        raise Terminated(_TERMINATION[0])


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temporary file in the same folder, then rename).

    The parent folder must exist.  Returns the destination as a :class:`~pathlib.Path`.
    """
    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"cannot write {path}: folder {path.parent} does not exist")
    raise_if_terminated()
    fd, tmp = tempfile.mkstemp(
        prefix=f".{path.name}.{os.getpid()}.", suffix=".partial", dir=path.parent
    )
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        raise_if_terminated()
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def atomic_write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically."""
    return atomic_write_bytes(path, text.encode(encoding))


def save_npy_atomic(path: str | os.PathLike, array: Any) -> Path:
    """Save ``array`` as a ``.npy`` file atomically (torch tensors are converted to numpy)."""
    if type(array).__module__.startswith("torch") and hasattr(array, "detach"):
        array = array.detach().cpu().numpy()
    buf = io.BytesIO()
    np.save(buf, np.asarray(array), allow_pickle=False)
    return atomic_write_bytes(path, buf.getvalue())


def to_jsonable(obj: Any) -> Any:
    """Convert numpy scalars / arrays, tuples, paths and dataclass-like objects for JSON.

    Non-finite floats become ``None`` (JSON has no NaN); mapping keys become strings.
    """
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        value = float(obj)
        return value if math.isfinite(value) else None
    if isinstance(obj, (int, str)) or obj is None:
        return obj
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if hasattr(obj, "to_dict"):
        return to_jsonable(obj.to_dict())
    if type(obj).__module__.startswith("torch") and hasattr(obj, "detach"):
        return to_jsonable(obj.detach().cpu().numpy())
    return str(obj)


def write_json_atomic(path: str | os.PathLike, obj: Any, *, indent: int = 2) -> Path:
    """Write ``obj`` as JSON atomically; numpy scalars and arrays are converted."""
    text = json.dumps(to_jsonable(obj), indent=indent, allow_nan=False) + "\n"
    return atomic_write_text(path, text)


@contextlib.contextmanager
def staged_dir(out_dir: str | os.PathLike) -> Iterator[Path]:
    """Write a folder's files into a hidden temporary folder; publish it only on success.

    Yields the temporary folder.  When the block finishes, the folder is renamed to
    ``out_dir`` (or, when ``out_dir`` already exists, each file is moved into it with an
    atomic :func:`os.replace`).  When the block raises, the temporary folder and any parent
    folders this call created are removed: nothing half-written is left behind.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"output {out} exists and is not a folder")
    created: list[Path] = []
    parent = out.parent.resolve() if str(out.parent) else Path.cwd()
    for p in [parent, *parent.parents][::-1]:
        if not p.exists():
            created.append(p)
    raise_if_terminated()
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(
        tempfile.mkdtemp(prefix=f".{out.name}.{os.getpid()}.", suffix=".partial", dir=parent)
    )
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it private; the result is an ordinary folder
    try:
        yield tmp
        raise_if_terminated()
        if not out.exists():
            os.replace(tmp, out)
        else:
            for item in sorted(tmp.iterdir()):
                os.replace(item, out / item.name)
            tmp.rmdir()
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        for p in reversed(created):
            try:
                p.rmdir()
            except OSError:
                break
        raise


@contextlib.contextmanager
def staged_file(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it to ``path`` only on success.

    For writers that need a file name (e.g. ``np.lib.format.open_memmap``).  On error the
    temporary file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"cannot write {path}: folder {path.parent} does not exist")
    raise_if_terminated()
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{path.name}.{os.getpid()}.", suffix=".partial", dir=path.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        raise_if_terminated()
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
