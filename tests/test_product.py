"""S_n × G (Product): the action, node types, and the certified alignment against brute force."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from orbitspace.groups import (
    O3,
    SO2,
    SO3,
    Cyclic,
    Permutation,
    Product,
    ProductElement,
    parse_action,
    sort_nodes_by_type,
)
from orbitspace.quotient import align, quotient_distance
from orbitspace.quotient.exhaustive import max_inner_product_exhaustive
from orbitspace.quotient.pruning import lower_bound_features
from orbitspace.quotient.solvers import solve_pairs
from orbitspace.testing import check_group_action

ACTIONS = [
    Product(Permutation(4), SO2("1x1")),
    Product(Permutation(5), SO2("1x0 + 1x1 + 1x2")),
    Product(Permutation(6, node_types=(0, 0, 1, 1, 1, 2)), SO2("2x1")),
    Product(Permutation(4), Cyclic(4, "1xregular")),
    Product(Permutation(5, node_types=(3, 1, 3, 1, 3)), Cyclic(6, "1x1 + 1x3")),
    Product(Permutation(5), SO3("1x1o")),
    Product(Permutation(5, node_types=(6, 6, 7, 7, 8)), O3("1x1o")),
    Product(Permutation(4), SO3("1x0e + 1x1o + 1x2e")),
    Product(Permutation(4), O3("1x0o + 1x1e")),
]


def _pair(rng, a, kind):
    n, d = a.event_shape
    X = rng.standard_normal((n, d))
    g = a.sample(None, rng)
    if kind == "orbit":  # Y in the orbit of X: value ‖X‖², distance 0
        return X, np.asarray(a.act(g, X))
    if kind == "repeated":  # identical nodes: many optimal matchings
        X[1:3] = X[0]
        return X, np.asarray(a.act(g, X))
    if kind == "zero":  # a zero node and a symmetric node set
        X[0] = 0
        return X, np.asarray(a.act(g, X)) + 0.1 * rng.standard_normal((n, d))
    return X, np.asarray(a.act(g, X)) + 0.5 * rng.standard_normal((n, d))


@pytest.mark.parametrize("action", ACTIONS, ids=repr)
def test_group_axioms_and_repr(action):
    check_group_action(action, random_state=0)
    assert parse_action(repr(action)) == action
    e = action.sample(3, 1)
    assert isinstance(e, ProductElement) and e.shape == (3,)
    X = np.random.default_rng(2).standard_normal((3,) + action.event_shape)
    M = action.matrix(e)
    flat = (M @ X.reshape(3, -1, 1))[..., 0]
    assert np.allclose(flat, np.asarray(action.act(e, X)).reshape(3, -1))


@pytest.mark.parametrize("action", ACTIONS, ids=repr)
@pytest.mark.parametrize("kind", ["random", "orbit", "repeated", "zero"])
def test_certified_solver_matches_brute_force(action, kind):
    rng = np.random.default_rng(zlib.crc32(f"{action!r}{kind}".encode()))  # stable per case
    for _ in range(6):
        X, Y = _pair(rng, action, kind)
        z = np.zeros(1, dtype=np.int64)
        sol = solve_pairs(X[None], Y[None], z, z, action)
        brute, _ = max_inner_product_exhaustive(X, Y, action)
        scale = np.linalg.norm(X) * np.linalg.norm(Y)
        assert sol.certified
        assert abs(float(sol.value[0]) - float(brute)) <= 1e-9 * scale
        assert float(brute) <= float(sol.value[0] + sol.gap[0]) + 1e-9 * scale
        assert float(sol.gap[0]) <= 1e-8 * scale
        # the element attains the value, and keeps node types
        moved = np.asarray(action.act(sol.g[0], Y))
        assert np.isclose((X * moved).sum(), sol.value[0], atol=1e-9 * scale)
        if kind == "orbit":
            assert float(quotient_distance(X, Y, action)) <= 1e-6 * np.linalg.norm(X)


def test_align_and_distance_through_the_public_api():
    a = ACTIONS[2]
    rng = np.random.default_rng(5)
    X = rng.standard_normal((3,) + a.event_shape)
    Y = np.asarray(a.act(a.sample(3, rng), X))
    res = align(X, Y, a)
    assert np.allclose(res.Y_aligned, X, atol=1e-6)
    assert res.distance.shape == (3,) and np.all(res.distance < 1e-6)


def test_node_types_restrict_the_matching():
    a = Permutation(4, node_types=(0, 0, 1, 1))
    assert a.order == 4 and len(a.elements()) == 4
    with pytest.raises(ValueError, match="does not keep node types"):
        a.act(np.array([2, 1, 0, 3]), np.zeros((4, 1)))
    X = np.array([[0.0], [1.0], [5.0], [6.0]])
    Y = np.array([[5.0], [6.0], [0.0], [1.0]])  # a type-breaking match would be perfect
    assert float(quotient_distance(X, Y, Permutation(4))) == 0.0
    typed = float(quotient_distance(X, Y, a))
    assert np.isclose(typed, np.sqrt(2 * 25 + 2 * 25))
    v, _ = max_inner_product_exhaustive(X, Y, a)
    assert np.isclose(np.sqrt((X**2).sum() + (Y**2).sum() - 2 * v), typed)


def test_sort_nodes_by_type():
    X = np.arange(12.0).reshape(2, 3, 2)
    Xs, t = sort_nodes_by_type(X, [[8, 6, 6], [6, 8, 6]])
    assert t.tolist() == [6, 6, 8]
    assert Xs[1, :, 0].tolist() == [6.0, 10.0, 8.0]
    with pytest.raises(ValueError, match="composition"):
        sort_nodes_by_type(X, [[8, 6, 6], [6, 8, 8]])


@pytest.mark.parametrize("action", ACTIONS, ids=repr)
def test_lower_bound_is_invariant_and_1_lipschitz(action):
    rng = np.random.default_rng(7)
    m = 6
    X = rng.standard_normal((m,) + action.event_shape)
    Y = rng.standard_normal((m,) + action.event_shape)
    F = lower_bound_features(action, X)
    Fg = lower_bound_features(action, np.asarray(action.act(action.sample(m, rng), X)))
    assert np.allclose(F, Fg)
    d = np.asarray(quotient_distance(X, Y, action))
    lb = np.linalg.norm(F - lower_bound_features(action, Y), axis=1)
    assert np.all(lb <= d + 1e-9)
    assert np.mean(lb / d) > 0.2  # a bound that prunes, not the trivial 0


def test_bad_input():
    with pytest.raises(TypeError, match="vector action"):
        Product(Permutation(3), Permutation(2))
    with pytest.raises(ValueError, match="node_types"):
        Permutation(3, node_types=(0, 1))
    a = Product(Permutation(3), SO2("1x1"))
    with pytest.raises(ValueError, match="dim 2"):
        a.check_latents(np.zeros((3, 3)))


@pytest.mark.parametrize("action", [ACTIONS[1], ACTIONS[5]], ids=repr)
def test_knn_and_pairwise_match_brute_force(action):
    from orbitspace.quotient import pairwise_quotient_distances, quotient_knn

    rng = np.random.default_rng(11)
    T = rng.standard_normal((3,) + action.event_shape)
    Z = T[rng.integers(0, 3, 8)] + 0.2 * rng.standard_normal((8,) + action.event_shape)
    X = np.asarray(action.act(action.sample(8, rng), Z))
    D = np.asarray(pairwise_quotient_distances(X, action=action))
    assert np.allclose(D, D.T, atol=1e-9) and np.allclose(np.diag(D), 0, atol=1e-6)
    dist, idx = quotient_knn(X, 3, action=action)
    np.fill_diagonal(D, np.inf)
    assert np.allclose(dist, np.sort(D, axis=1)[:, :3], atol=1e-9)


def test_node_maps_are_not_offered_for_typed_permutations():
    from orbitspace.invariants import available_methods

    plain = set(available_methods(Permutation(4), d=1))
    typed = set(available_methods(Permutation(4, node_types=(0, 0, 1, 1)), d=1))
    assert "sort" in plain and "sort" not in typed
    assert {"align_to_reference", "max_filter"} <= typed  # through the typed solver


def test_duplicate_nodes_in_x_only_and_padded_rows():
    """Repeated rows of x (padding, identical atoms) take the column-wise Murty partition."""
    a = Product(Permutation(6), SO3("1x1o"))
    rng = np.random.default_rng(21)
    for _ in range(4):
        X = rng.standard_normal((6, 3))
        X[4:] = 0.0  # two padded nodes
        X[1] = X[0]
        Y = rng.standard_normal((6, 3))
        Y[5] = 0.0
        z = np.zeros(1, dtype=np.int64)
        sol = solve_pairs(X[None], Y[None], z, z, a)
        brute, _ = max_inner_product_exhaustive(X, Y, a)
        scale = np.linalg.norm(X) * np.linalg.norm(Y)
        assert abs(float(sol.value[0]) - float(brute)) <= 1e-9 * scale
        assert float(brute) <= float(sol.value[0] + sol.gap[0]) + 1e-9 * scale
    # the Murty bound itself, on a stack of cells with x duplicates (shapes m != n)
    from orbitspace.quotient.product import _second_best

    W = rng.standard_normal((3, 6, 6))
    p = np.stack([np.arange(6)] * 3)
    xclass = np.array([0, 0, 1, 2, 3, 4])
    yclass = np.arange(6)
    b = _second_best(W, p, None, xclass, yclass)
    assert b.shape == (3,)
    # brute force over all matchings with another value function than p's
    from itertools import permutations

    for c in range(3):
        best = -np.inf
        for q in permutations(range(6)):
            q = np.array(q)
            if np.all(xclass[np.argsort(q)] == xclass[np.argsort(p[c])]):
                continue  # the same pairs of classes as p: an equivalent matching
            best = max(best, W[c, np.arange(6), q].sum())
        assert b[c] >= best - 1e-12


def test_assign_weights_with_forbidden_entries_matches_scipy():
    from scipy.optimize import linear_sum_assignment

    from orbitspace.quotient.assignment import assign_weights

    rng = np.random.default_rng(3)
    W = rng.standard_normal((40, 7, 7))
    W[rng.random(W.shape) < 0.3] = -np.inf
    v, p = assign_weights(W)
    for q in range(len(W)):
        C = np.where(np.isfinite(W[q]), -W[q], 1e9)
        r, c = linear_sum_assignment(C)
        if C[r, c].max() >= 1e9:  # every perfect matching uses a forbidden entry
            assert v[q] == -np.inf
        else:
            assert np.isclose(v[q], W[q, r, c].sum())
            assert np.isclose(W[q, np.arange(7), p[q]].sum(), v[q])
    v, _ = assign_weights(np.full((1, 3, 3), -np.inf))
    assert v[0] == -np.inf
