"""Invariant maps with declared, tested guarantees.

Each map is a pure function plus a registry record (:class:`InvariantMap`) that declares its
:class:`Properties` per action: exact invariance, orbit separation, isometry or Lipschitz
bounds, continuity, whether it is a cross-section, and the output dimension.  The declarations
are checked for every map and action by ``tests/test_invariants_common.py``.

>>> import numpy as np
>>> import orbitspace as osp
>>> from orbitspace.invariants import invariant_features, get_map
>>> X = np.random.default_rng(0).normal(size=(10, 5, 1))
>>> invariant_features(X, osp.Permutation(5), "sort").shape
(10, 5)
>>> get_map("sort").properties(osp.Permutation(5), d=1).isometric
True
"""

from orbitspace.invariants._properties import Properties
from orbitspace.invariants.fourier import (
    bispectrum,
    bispectrum_is_complete,
    fourier_view,
    group_pool,
    norms,
    power_spectrum,
)
from orbitspace.invariants.permutation import (
    channel_sort,
    lexsort,
    node_pool,
    sort,
    sorted_projections,
)
from orbitspace.invariants.registry import (
    REGISTRY,
    InvariantMap,
    available_methods,
    get_map,
    invariant_features,
)
from orbitspace.invariants.templates import align_to_reference, max_filter

__all__ = [
    "Properties",
    "InvariantMap",
    "REGISTRY",
    "get_map",
    "available_methods",
    "invariant_features",
    "sort",
    "lexsort",
    "channel_sort",
    "sorted_projections",
    "node_pool",
    "align_to_reference",
    "max_filter",
    "norms",
    "power_spectrum",
    "bispectrum",
    "group_pool",
    "bispectrum_is_complete",
    "fourier_view",
]
