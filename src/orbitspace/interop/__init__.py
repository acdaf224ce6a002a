"""Adapters to escnn field types, e3nn irreps and PyTorch Geometric batches.

Each adapter imports its library only when first used, so ``import orbitspace.interop`` stays
light.

>>> from orbitspace.interop import from_escnn  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "from_escnn": "orbitspace.interop.escnn",
    "to_escnn_element": "orbitspace.interop.escnn",
    "node_latents_from_pyg": "orbitspace.interop.pyg",
    "from_e3nn": "orbitspace.interop.e3nn",
    "from_spherical_channels": "orbitspace.interop.e3nn",
    "enable_escnn": "orbitspace.interop._escnn_compat",
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'orbitspace.interop' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
