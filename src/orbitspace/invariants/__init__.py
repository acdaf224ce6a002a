"""Invariant maps with declared, tested guarantees.

Each map is a pure function plus one registered object (a subclass of :class:`InvariantMap`)
that says which actions it supports (from their traits), declares its :class:`Properties` per
action (exact invariance, orbit separation, isometry or Lipschitz bounds, continuity, whether
it is a cross-section, the output dimension), fits and transforms.  The declarations are
checked for every map and action by ``tests/test_invariants_common.py``; how to add a map is
described in :mod:`orbitspace.invariants.registry`.  SO(3) / O(3) latents (e3nn irreps) get
norms, power spectrum and bispectrum from :mod:`orbitspace.invariants.so3`, with a bank of
hard pairs (:func:`so3_hard_pairs`) on which the lossy ones collide.  :class:`MapSpec` is the one text format
naming a map with options (``"align_to_reference(n_references=4)"``).

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
from orbitspace.invariants.blocks import group_pool, norms
from orbitspace.invariants.fourier import (
    bispectrum,
    bispectrum_is_complete,
    fourier_view,
    power_spectrum,
)
from orbitspace.invariants.permutation import (
    channel_sort,
    lexsort,
    node_pool,
    sort,
    sorted_projections,
)
from orbitspace.invariants.product import (
    node_invariants,
    node_pooled_invariants,
    node_sorted_invariants,
    node_sorted_projections,
)
from orbitspace.invariants.registry import (
    REGISTRY,
    InvariantMap,
    available_methods,
    data_free_methods,
    get_map,
    invariant_features,
    register_map,
)
from orbitspace.invariants.so3_hard_pairs import HardPair, so3_hard_pairs
from orbitspace.invariants.spec import MapSpec, default_specs, resolve_specs
from orbitspace.invariants.templates import align_to_reference, max_filter

__all__ = [
    "node_invariants",
    "node_pooled_invariants",
    "node_sorted_invariants",
    "node_sorted_projections",
    "Properties",
    "InvariantMap",
    "REGISTRY",
    "register_map",
    "get_map",
    "data_free_methods",
    "MapSpec",
    "default_specs",
    "resolve_specs",
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
    "HardPair",
    "so3_hard_pairs",
]
