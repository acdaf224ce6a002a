"""Import escnn on numpy 2 (see ENVIRONMENT.md, "escnn on numpy 2").

escnn 1.0.11 is installed with ``--no-deps``: its declared dependencies ``lie_learn`` and
``py3nj`` do not build on numpy 2.  Two shims make every planar group (C_N, D_N, SO(2), O(2))
work:

1. escnn imports ``lie_learn.representations.SO3.wigner_d.wigner_D_matrix`` at import time.
   When ``lie_learn`` cannot be imported we register a stand-in module whose function raises
   ``NotImplementedError("3-D groups need lie_learn")``; planar groups never call it.
2. escnn's numerical null-space solver passes an ``np.matrix`` to scikit-learn's
   ``randomized_svd``, which scikit-learn >= 1.9 rejects; we wrap it so the argument is
   converted with ``np.asarray`` first.

Both shims are applied once, by :func:`import_escnn`, before escnn is imported.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
import warnings
from typing import Any

__all__ = ["import_escnn", "LIE_LEARN_STUB_MESSAGE"]

LIE_LEARN_STUB_MESSAGE = "3-D groups need lie_learn, which does not build on numpy 2"

_escnn: Any = None


def _wigner_D_matrix_unavailable(*args: Any, **kwargs: Any) -> Any:
    raise NotImplementedError(LIE_LEARN_STUB_MESSAGE)


def _install_lie_learn_stub() -> None:
    """Register ``lie_learn.representations.SO3.wigner_d`` if the real package is unusable."""
    name = "lie_learn.representations.SO3.wigner_d"
    if name in sys.modules:
        return
    try:
        importlib.import_module(name)
        return
    except Exception:  # absent, or compiled parts that fail to load under numpy 2
        for partial in [m for m in sys.modules if m == "lie_learn" or m.startswith("lie_learn.")]:
            del sys.modules[partial]
    parts = name.split(".")
    parent = None
    for i in range(1, len(parts) + 1):
        mod_name = ".".join(parts[:i])
        module = types.ModuleType(mod_name, "orbitspace stand-in: lie_learn is not installed")
        module.__path__ = []  # a package, so submodules resolve
        sys.modules[mod_name] = module
        if parent is not None:
            setattr(parent, parts[i - 1], module)
        parent = module
    sys.modules[name].wigner_D_matrix = _wigner_D_matrix_unavailable  # type: ignore[attr-defined]


def _patch_randomized_svd() -> None:
    """Make escnn's call of sklearn's ``randomized_svd`` accept an ``np.matrix``."""
    import numpy as np

    numerical = importlib.import_module("escnn.group._numerical")
    original = getattr(numerical, "randomized_svd", None)
    if original is None or getattr(original, "_orbitspace_patched", False):
        return

    def randomized_svd(M: Any, *args: Any, **kwargs: Any) -> Any:
        return original(np.asarray(M), *args, **kwargs)

    randomized_svd._orbitspace_patched = True  # type: ignore[attr-defined]
    numerical.randomized_svd = randomized_svd


def import_escnn() -> Any:
    """Import and return the ``escnn`` package with the numpy-2 shims applied.

    Examples
    --------
    >>> escnn = import_escnn()  # doctest: +SKIP
    >>> escnn.gspaces.rot2dOnR2(N=8)  # doctest: +SKIP
    C8_on_R2[(None, 8)]

    Raises
    ------
    ImportError
        When escnn is not installed (install it with ``pip install --no-deps escnn==1.0.11``).
    """
    global _escnn
    if _escnn is not None:
        return _escnn
    if importlib.util.find_spec("escnn") is None:
        raise ImportError(
            "escnn is not installed; expected escnn==1.0.11 (install with "
            "`pip install --no-deps escnn==1.0.11`, see requirements/nodeps.txt)"
        )
    _install_lie_learn_stub()
    with warnings.catch_warnings():
        # "py3nj not found" and similar import-time notices concern 3-D groups only
        warnings.simplefilter("ignore")
        escnn = importlib.import_module("escnn")
        importlib.import_module("escnn.gspaces")
        importlib.import_module("escnn.nn")
    _patch_randomized_svd()
    _escnn = escnn
    return escnn
