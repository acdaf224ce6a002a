"""The registry of invariant maps: one registered :class:`InvariantMap` object per method name.

How to add an invariant map
---------------------------
1. Write the map as a pure function in a module of :mod:`orbitspace.invariants` (numpy or
   torch in, the caller's kind out, numpydoc with shapes and a doctest).  Read the action only
   through its traits (``event_shape``, ``node_axis``, ``feature_action``, ``components()``,
   ``is_trivial``, ``is_finite``; see DESIGN.md §3a), never its class.
2. Subclass :class:`InvariantMap` next to the other declarations (``maps_*.py``) and set the
   class attributes ``name``, ``summary``, ``data_free`` (True: no fitted parameters),
   ``quick`` (False: skipped by quick runs), ``variants`` (option sets a report runs by
   default), ``fit_options`` / ``transform_options`` (name -> default).
3. Implement ``_supports(action, d)`` from traits; ``_properties(action, d, **options)``
   returning a keyword-built :class:`Properties` whose ``output_dim`` is computed from the
   traits (never by running the map); ``_transform(X, action, params, mask=None, **options)``;
   and, for a map with parameters, ``_fit(Xn, action, rng, **fit_options) -> dict`` (then
   ``data_free = False``).
4. Decorate the class with ``@register_map`` and import its module in
   ``orbitspace/invariants/__init__.py`` (registration order is the order of
   :func:`available_methods`).
5. Add its option variants to ``VARIANTS`` in ``tests/test_invariants_common.py``: every
   declaration (invariance, separation with a colliding pair for lossy maps, isometry /
   Lipschitz bounds against the exact quotient distance, cross-section, output size) is then
   tested on every action of the bank it supports.  Give the map a slow exact twin in
   ``tests/test_invariants_maps.py``.

Reports (:mod:`orbitspace.report.methods`), the scikit-learn shell
(:class:`orbitspace.estimators.InvariantProjection`) and the CLI read ``data_free``, ``quick``
and ``variants`` from the registered objects; no list elsewhere needs editing.

Examples
--------
>>> import orbitspace as osp
>>> m = get_map("align_to_reference")
>>> m.data_free, m.quick, [dict(v) for v in m.variants]
(False, True, [{'n_references': 1}, {'n_references': 4}])
>>> available_methods(osp.Permutation(4), d=2)
['lexsort', 'channel_sort', 'sorted_projections', 'node_pool', 'align_to_reference', 'max_filter']
"""

from __future__ import annotations

from typing import Any

from orbitspace._array import ArrayLike
from orbitspace.groups import Action, parse_action
from orbitspace.invariants._map import REGISTRY, InvariantMap, register_map

# the built-in maps register on import; their order is the order of available_methods
# isort: off
from orbitspace.invariants import maps_nodes  # noqa: F401, E402
from orbitspace.invariants import maps_templates  # noqa: F401, E402
from orbitspace.invariants import maps_spectral  # noqa: F401, E402
from orbitspace.invariants import maps_product  # noqa: F401, E402

# isort: on

__all__ = [
    "InvariantMap",
    "REGISTRY",
    "register_map",
    "get_map",
    "available_methods",
    "invariant_features",
    "data_free_methods",
]


def get_map(name: str) -> InvariantMap:
    """The invariant map called ``name`` (ValueError listing the valid names otherwise)."""
    if not isinstance(name, str) or name not in REGISTRY:
        raise ValueError(f"unknown invariant map {name!r}; expected one of {sorted(REGISTRY)}")
    return REGISTRY[name]


def available_methods(action: Action | str, *, d: int | None = None) -> list[str]:
    """Names of the maps that support ``action`` (and ``d`` channels for node latents)."""
    action = parse_action(action)
    return [name for name, m in REGISTRY.items() if m.supports(action, d=d)]


def data_free_methods() -> frozenset[str]:
    """Names of the registered maps with no fitted parameters (``data_free``)."""
    return frozenset(name for name, m in REGISTRY.items() if m.data_free)


def invariant_features(
    X: ArrayLike,
    action: Action | str,
    method: str,
    *,
    random_state: Any = None,
    mask: Any = None,
    **options,
) -> ArrayLike:
    """Fit ``method`` on ``X`` and transform ``X``: features of shape ``(..., output_dim)``.

    Examples
    --------
    >>> import numpy as np
    >>> from orbitspace import Permutation
    >>> X = np.array([[[3.0], [1.0], [2.0]]])
    >>> invariant_features(X, Permutation(3), "sort").tolist()
    [[1.0, 2.0, 3.0]]
    """
    imap = get_map(method)
    fit_opts, rest = imap.split_options(options)
    params = imap.fit(X, action, random_state=random_state, mask=mask, **fit_opts)
    return imap.transform(X, action, params, mask=mask, **rest)
