"""Invariant maps on O(2) and D_N latents, which they reach only through traits
(``components()``, the registered solvers): invariance under sampled elements, and the
properties that follow from the maps' definitions.
"""

from __future__ import annotations

import numpy as np
import pytest

from orbitspace import O2, Dihedral
from orbitspace.invariants import available_methods, get_map, invariant_features
from orbitspace.quotient import pairwise_quotient_distances, quotient_distance
from orbitspace.testing import assert_invariant

ACTIONS = [
    O2("2x(0,0) + 1x(1,0) + 3x(1,1) + 2x(1,2)"),
    O2("2x(1,0) + 1x(1,3)"),
    Dihedral(4, "2xregular + 1x(1,1) + 1x(0,2) + 1x(1,2) + 1x(1,0) + 1x(0,0)"),
    Dihedral(8, "1xregular + 2x(1,3)"),
    Dihedral(5, "1x(0,0) + 2x(1,2) + 1x(1,0)"),
]
FINITE_WITH_REGULAR = [a for a in ACTIONS if a.is_finite and "regular" in a.rep]
METHODS = [
    ("norms", {}),
    ("power_spectrum", {}),
    ("align_to_reference", {"n_references": 2}),
    ("max_filter", {"n_templates": 16}),
]


def _features(method, options, action, X):
    """The map fitted once on ``X`` (references / templates fixed), as a function of Z."""
    imap = get_map(method)
    params = imap.fit(X, action, random_state=0, **options)
    return lambda Z: imap.transform(Z, action, params)


def _latents(action, n=12, seed=0):
    return np.random.default_rng(seed).normal(size=(n, action.dim))


@pytest.mark.parametrize("method,options", METHODS, ids=[m for m, _ in METHODS])
@pytest.mark.parametrize("action", ACTIONS, ids=repr)
def test_maps_are_supported_and_invariant(action, method, options):
    assert method in available_methods(action)
    X = _latents(action)
    fn = _features(method, options, action, X)
    assert_invariant(fn, X, action, n_group_samples=4, random_state=1, atol=1e-8)


@pytest.mark.parametrize("action", FINITE_WITH_REGULAR, ids=repr)
def test_group_pool_is_invariant_and_pools_each_regular_field(action):
    assert "group_pool" in available_methods(action)
    X = _latents(action)
    assert_invariant(_features("group_pool", {}, action, X), X, action, random_state=2)
    out = np.asarray(invariant_features(X, action, "group_pool"))
    regular = [c for c in action.components() if c.irrep.kind == "regular"]
    expected = np.concatenate(
        [X[:, sl].max(1, keepdims=True) for c in regular for sl in c.copy_slices()], axis=1
    )
    # every regular field's max over its 2N entries appears among the pooled features
    for col in expected.T:
        assert np.min(np.abs(out - col[:, None]).max(0)) < 1e-12


@pytest.mark.parametrize("action", ACTIONS, ids=repr)
def test_norms_see_sign_scalars_only_through_their_absolute_value(action):
    X = _latents(action)
    out = np.asarray(invariant_features(X, action, "norms"))
    flipped = X.copy()
    for c in action.components():
        if c.irrep.dim == 1 and not c.irrep.trivial:
            flipped[:, c.slice] *= -1.0  # not a group element in general, but norms ignore it
    np.testing.assert_allclose(np.asarray(invariant_features(flipped, action, "norms")), out)


@pytest.mark.parametrize("action", ACTIONS, ids=repr)
def test_align_to_reference_lands_in_the_orbit(action):
    X = _latents(action)
    out = np.asarray(invariant_features(X, action, "align_to_reference", n_references=1))
    assert out.shape == X.shape
    np.testing.assert_allclose(np.asarray(quotient_distance(out, X, action)), 0.0, atol=1e-7)


@pytest.mark.parametrize("action", ACTIONS, ids=repr)
def test_max_filter_and_norms_are_1_lipschitz_for_the_quotient_distance(action):
    X, Y = _latents(action, 10, 3), _latents(action, 10, 4)
    D = np.asarray(pairwise_quotient_distances(X, Y, action=action))
    for method, options in [("norms", {}), ("max_filter", {"n_templates": 16})]:
        fn = _features(method, options, action, X)
        fx, fy = np.asarray(fn(X)), np.asarray(fn(Y))
        gaps = np.linalg.norm(fx[:, None] - fy[None], axis=-1)
        assert np.all(gaps <= D + 1e-9), method
