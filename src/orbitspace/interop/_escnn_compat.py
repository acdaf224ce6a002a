"""Make ``import escnn`` work on numpy 2 (see ENVIRONMENT.md, "escnn on numpy 2").

escnn 1.0.11 is installed with ``--no-deps``: its declared dependency ``lie_learn`` does not
build on numpy 2 (``lie-learn-escience`` 0.0.5, the only wheel, is compiled against numpy 1 and
fails with "numpy.core.multiarray failed to import").  Two fixes make every planar group (C_N,
D_N, SO(2), O(2)) work:

1. escnn imports ``lie_learn.representations.SO3.wigner_d.wigner_D_matrix`` at import time.
   When the real ``lie_learn`` cannot be imported, an import hook serves a stand-in module whose
   function raises ``NotImplementedError("3-D groups need lie_learn ...")``; planar groups
   never call it.
2. escnn's numerical null-space solver passes an ``np.matrix`` to scikit-learn's
   ``randomized_svd``, which scikit-learn >= 1.9 rejects; the hook wraps it so the argument is
   converted with ``np.asarray`` first, as soon as ``escnn.group._numerical`` is imported.

:func:`enable_escnn` installs the hook (one entry in :data:`sys.meta_path`; it imports nothing)
and forgets a failed earlier ``import escnn``, so that ``import escnn`` can be retried::

    import orbitspace as osp
    osp.interop.enable_escnn()
    from escnn import gspaces, nn   # works as escnn documents

The project's environment (``make venv``) also installs ``orbitspace-escnn.pth`` (see
:func:`pth_line`), which installs the same hook when Python starts, so there a plain
``from escnn import gspaces`` works with no call at all.  This module imports only the standard
library at module level: the ``.pth`` line runs it on every start of the interpreter.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types
import warnings
from typing import Any

__all__ = ["enable_escnn", "import_escnn", "pth_line", "LIE_LEARN_STUB_MESSAGE"]

LIE_LEARN_STUB_MESSAGE = "3-D groups need lie_learn, which does not build on numpy 2"
_WIGNER = "lie_learn.representations.SO3.wigner_d"
_STUB_PACKAGES = ("lie_learn", "lie_learn.representations", "lie_learn.representations.SO3")
_NUMERICAL = "escnn.group._numerical"
_MARK = "_orbitspace_escnn_hook"

_escnn: Any = None


def _wigner_D_matrix_unavailable(*args: Any, **kwargs: Any) -> Any:
    raise NotImplementedError(LIE_LEARN_STUB_MESSAGE)


def _purge(prefix: str) -> None:
    for name in [m for m in sys.modules if m == prefix or m.startswith(prefix + ".")]:
        del sys.modules[name]


def _real_lie_learn_works() -> bool:
    """Whether the installed ``lie_learn`` (if any) imports; leaves no half-imported modules."""
    others = [f for f in sys.meta_path if not getattr(f, _MARK, False)]
    if not any(_find_with(others, "lie_learn", None)):
        return False
    hooks = [f for f in sys.meta_path if getattr(f, _MARK, False)]
    for f in hooks:
        sys.meta_path.remove(f)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            importlib.import_module(_WIGNER)
        return True
    except Exception:  # compiled parts built against numpy 1 fail under numpy 2
        _purge("lie_learn")
        return False
    finally:
        sys.meta_path[:0] = hooks


def _find_with(finders: list, name: str, path: Any):
    for finder in finders:
        find = getattr(finder, "find_spec", None)
        spec = find(name, path) if find is not None else None
        if spec is not None:
            yield spec
            return


def _patch_numerical(numerical: types.ModuleType) -> None:
    """Wrap ``randomized_svd`` in ``escnn.group._numerical`` to accept an ``np.matrix``."""
    original = getattr(numerical, "randomized_svd", None)
    if original is None or getattr(original, "_orbitspace_patched", False):
        return

    def randomized_svd(M: Any, *args: Any, **kwargs: Any) -> Any:
        import numpy as np

        return original(np.asarray(M), *args, **kwargs)

    randomized_svd._orbitspace_patched = True  # type: ignore[attr-defined]
    numerical.randomized_svd = randomized_svd


class _StubLoader(importlib.abc.Loader):
    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        module = types.ModuleType(spec.name, "orbitspace stand-in: lie_learn is not usable")
        module.__path__ = []  # a package, so submodules resolve
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        if module.__name__ == _WIGNER:
            module.wigner_D_matrix = _wigner_D_matrix_unavailable  # type: ignore[attr-defined]


class _PatchingLoader(importlib.abc.Loader):
    """Runs the real loader of ``escnn.group._numerical``, then patches the module."""

    def __init__(self, loader: Any) -> None:
        self.loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> Any:
        return self.loader.create_module(spec)

    def exec_module(self, module: types.ModuleType) -> None:
        self.loader.exec_module(module)
        _patch_numerical(module)


class EscnnImportHook(importlib.abc.MetaPathFinder):
    """Serves the ``lie_learn`` stand-in (when the real one is unusable) and patches escnn."""

    _orbitspace_escnn_hook = True

    def __init__(self) -> None:
        self._use_stub: bool | None = None

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name in (*_STUB_PACKAGES, _WIGNER):
            if self._use_stub is None:
                self._use_stub = not _real_lie_learn_works()
            if self._use_stub:
                return importlib.machinery.ModuleSpec(name, _StubLoader(), is_package=True)
            return None
        if name == _NUMERICAL:
            others = [f for f in sys.meta_path if not getattr(f, _MARK, False)]
            for spec in _find_with(others, name, path):
                if spec.loader is not None:
                    spec.loader = _PatchingLoader(spec.loader)
                return spec
        return None


def enable_escnn() -> None:
    """Let ``import escnn`` work on numpy 2; call once, before or after a failed import.

    Installs an import hook (idempotent; escnn itself is not imported): ``lie_learn`` is served
    by a stand-in when the real package is missing or broken (only 3-D groups need it; they
    raise ``NotImplementedError``), and escnn's null-space solver is made to work with
    scikit-learn >= 1.9.  Modules left behind by a failed ``import escnn`` are forgotten, so
    the import can be retried.

    Examples
    --------
    >>> import orbitspace as osp
    >>> osp.interop.enable_escnn()
    >>> from escnn import gspaces  # doctest: +SKIP
    >>> gspaces.rot2dOnR2(N=8)  # doctest: +SKIP
    C8_on_R2[(None, 8)]
    """
    if not any(getattr(f, _MARK, False) for f in sys.meta_path):
        sys.meta_path.insert(0, EscnnImportHook())
    escnn = sys.modules.get("escnn")
    if escnn is None or not hasattr(escnn, "group"):
        # a failed attempt: escnn's __init__ swallows the ImportError and keeps a package
        # without its subpackages, plus the submodules that did import
        _purge("escnn")
    if _WIGNER not in sys.modules:
        _purge("lie_learn")
    numerical = sys.modules.get(_NUMERICAL)
    if numerical is not None:  # escnn was imported before the hook
        _patch_numerical(numerical)


def import_escnn() -> Any:
    """Import and return the ``escnn`` package with the numpy-2 fixes applied.

    Examples
    --------
    >>> escnn = import_escnn()  # doctest: +SKIP
    >>> escnn.gspaces.rot2dOnR2(N=8)  # doctest: +SKIP
    C8_on_R2[(None, 8)]

    Raises
    ------
    ImportError
        When escnn is not installed (install it with ``pip install --no-deps escnn==1.0.11``);
        a later call retries.
    """
    global _escnn
    if _escnn is not None:
        return _escnn
    if importlib.util.find_spec("escnn") is None:
        raise ImportError(
            "escnn is not installed; expected escnn==1.0.11 (install with "
            "`pip install --no-deps escnn==1.0.11`, see requirements/nodeps.txt)"
        )
    enable_escnn()
    try:
        with warnings.catch_warnings():
            # "py3nj not found" and similar import-time notices concern 3-D groups only
            warnings.simplefilter("ignore")
            escnn = importlib.import_module("escnn")
            importlib.import_module("escnn.gspaces")
            importlib.import_module("escnn.nn")
    except BaseException:
        _purge("escnn")  # so that a later call starts afresh
        raise
    _patch_numerical(importlib.import_module(_NUMERICAL))
    _escnn = escnn
    return escnn


def pth_line() -> str:
    """The one line of ``orbitspace-escnn.pth``: installs the hook when Python starts.

    It locates this file without importing ``orbitspace`` (which would import numpy on every
    start of the interpreter) and does nothing when orbitspace is not importable.
    """
    return (
        "import importlib.util as _u; _s = _u.find_spec('orbitspace'); "
        "_s and _s.origin and __import__('runpy').run_path("
        "__import__('os').path.join(__import__('os').path.dirname(_s.origin), 'interop', "
        "'_escnn_compat.py'), run_name='orbitspace_escnn_hook')"
    )


def _install_pth(site_packages: str) -> str:
    import os

    path = os.path.join(site_packages, "orbitspace-escnn.pth")
    with open(path, "w", encoding="utf-8") as f:
        f.write(pth_line() + "\n")
    return path


if __name__ == "orbitspace_escnn_hook":  # run by the .pth line at interpreter start
    enable_escnn()
elif __name__ == "__main__":  # python -m orbitspace.interop._escnn_compat SITE_PACKAGES
    print(_install_pth(sys.argv[1]))
