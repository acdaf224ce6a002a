"""Where numba caches the compiled solvers: a writable folder, or no cache at all.

The solvers are compiled with ``@njit(cache=True)``.  numba writes the cache next to the source
(``quotient/__pycache__``), else in its user-wide folder (``$XDG_CACHE_HOME/numba`` or
``~/.cache/numba``), else in ``$NUMBA_CACHE_DIR``; when none is writable (a read-only install and
no writable home, as in some containers) the ``@njit`` decorator raises ``RuntimeError: cannot
cache function``.  :func:`configure`, run by ``import orbitspace`` before any solver module is
imported, checks the same places without importing numba and

- leaves everything as it is when one of them is writable;
- otherwise sets ``NUMBA_CACHE_DIR`` to a private folder in the system's temporary folder;
- otherwise turns caching off (the solvers are then compiled once per process).

It returns what it chose, also kept in :data:`CHOICE`.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import MutableMapping
from pathlib import Path

__all__ = ["configure", "writable", "CHOICE"]

CHOICE: str | None = None


def writable(folder: str | os.PathLike) -> bool:
    """Whether ``folder`` exists and is writable, or could be created (its nearest existing
    ancestor is a writable folder).  Creates nothing."""
    path = Path(folder).absolute()
    while not path.exists():
        if path.parent == path:
            return False
        path = path.parent
    return path.is_dir() and os.access(path, os.W_OK | os.X_OK)


def _user_wide(environ: MutableMapping[str, str]) -> Path | None:
    base = environ.get("XDG_CACHE_HOME") or (
        os.path.join(environ["HOME"], ".cache") if environ.get("HOME") else None
    )
    return Path(base, "numba") if base else None


def _in_tree() -> Path:
    return Path(__file__).resolve().parent / "quotient" / "__pycache__"


def configure(
    environ: MutableMapping[str, str] | None = None, *, in_tree: str | os.PathLike | None = None
) -> str:
    """Make numba's cache usable; returns ``"NUMBA_CACHE_DIR"``, ``"in-tree"``, ``"user-wide"``,
    ``"temporary:<folder>"`` or ``"disabled"``.

    ``environ`` defaults to :data:`os.environ` (changed in place); ``in_tree`` overrides the
    package's own ``__pycache__`` folder (for tests).

    Examples
    --------
    >>> env = {"NUMBA_CACHE_DIR": tempfile.gettempdir()}
    >>> configure(env)
    'NUMBA_CACHE_DIR'
    """
    global CHOICE
    env = os.environ if environ is None else environ
    user_dir = env.get("NUMBA_CACHE_DIR")
    user_wide = _user_wide(env)
    if user_dir and writable(user_dir):
        choice = "NUMBA_CACHE_DIR"
    elif writable(_in_tree() if in_tree is None else in_tree):
        choice = "in-tree"
    elif user_wide is not None and writable(user_wide):
        choice = "user-wide"
    else:
        tmp = Path(env.get("TMPDIR") or tempfile.gettempdir())
        folder = tmp / f"orbitspace-numba-cache-{os.getuid() if hasattr(os, 'getuid') else 0}"
        if writable(tmp) and (not folder.exists() or writable(folder)):
            env["NUMBA_CACHE_DIR"] = str(folder)
            config = sys.modules.get("numba.core.config")
            if environ is None and config is not None:  # numba read the environment already
                config.CACHE_DIR = str(folder)
            choice = f"temporary:{folder}"
        else:
            env.pop("NUMBA_CACHE_DIR", None)
            if environ is None:
                _disable_caching()
            choice = "disabled"
    if environ is None:
        CHOICE = choice
    return choice


def _disable_caching() -> None:
    """Make ``@njit(cache=True)`` compile without a cache (only when nothing is writable)."""
    try:
        from numba.core.dispatcher import Dispatcher
    except ImportError:  # pragma: no cover - numba is a dependency
        return
    Dispatcher.enable_caching = lambda self: None  # type: ignore[method-assign]
