"""orbitspace: interpret the latent spaces of equivariant networks.

The same object in another pose gets another latent code in the same orbit.  orbitspace gives
exact quotient distances and alignments, invariant projections with declared and tested
guarantees, diagnostics of what a projection keeps, and statistics on the quotient.

>>> import orbitspace as osp
>>> rho = osp.SO2("2x0 + 3x1")
>>> rho.dim
8

``import orbitspace`` imports numpy and scipy only; torch, scikit-learn, matplotlib and escnn
are imported by the submodules that need them, when first used.
"""

from __future__ import annotations

import importlib
from typing import Any

from orbitspace import _numba_cache

_numba_cache.configure()  # before any solver module: numba's cache must be writable (or off)

from orbitspace._validation import OrbitspaceWarning  # noqa: E402
from orbitspace.groups import (  # noqa: E402
    O2,
    O3,
    SO2,
    SO3,
    Action,
    Cyclic,
    Dihedral,
    FiniteGroup,
    Permutation,
    apply_node_mask,
    parse_action,
)

__version__ = "0.1.0"

# Public names served lazily from their modules (keeps `import orbitspace` light).
_LAZY: dict[str, str] = {
    # quotient distances and alignment
    "align": "orbitspace.quotient",
    "max_inner_product": "orbitspace.quotient",
    "quotient_distance": "orbitspace.quotient",
    "pairwise_quotient_distances": "orbitspace.quotient",
    "quotient_knn": "orbitspace.quotient",
    # invariant maps
    "invariant_features": "orbitspace.invariants",
    "available_methods": "orbitspace.invariants",
    # statistics on the quotient
    "frechet_mean": "orbitspace.stats",
    "geodesic_interpolation": "orbitspace.stats",
    "quotient_pca": "orbitspace.stats",
    # learned actions (networks trained with augmentation)
    "estimate_action": "orbitspace.learned",
    # interoperability (imports escnn on first use)
    "from_escnn": "orbitspace.interop",
    "from_e3nn": "orbitspace.interop",
    "from_spherical_channels": "orbitspace.interop",
    # scikit-learn estimators (import scikit-learn on first use)
    "InvariantProjection": "orbitspace.estimators",
    "QuotientAligner": "orbitspace.estimators",
    "QuotientKNeighborsClassifier": "orbitspace.estimators",
    "QuotientKNeighborsRegressor": "orbitspace.estimators",
    # subpackages
    "invariants": "orbitspace.invariants",
    "diagnostics": "orbitspace.diagnostics",
    "stats": "orbitspace.stats",
    "testing": "orbitspace.testing",
    "estimators": "orbitspace.estimators",
    "interop": "orbitspace.interop",
    "learned": "orbitspace.learned",
}

__all__ = [
    "Action",
    "SO2",
    "SO3",
    "O3",
    "Cyclic",
    "O2",
    "Dihedral",
    "Permutation",
    "FiniteGroup",
    "parse_action",
    "apply_node_mask",
    "OrbitspaceWarning",
    "__version__",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'orbitspace' has no attribute {name!r}")
    module = importlib.import_module(module_name)
    value = module if module_name.rsplit(".", 1)[-1] == name else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
