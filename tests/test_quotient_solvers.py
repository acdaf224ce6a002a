"""Fast exact solvers against their slow twins (exhaustive oracles) and independent checks."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from orbitspace.groups import SO2, Cyclic, FiniteGroup, Permutation
from orbitspace.quotient import max_inner_product
from orbitspace.quotient import so2 as so2_solver
from orbitspace.quotient.assignment import assign_pairs
from orbitspace.quotient.solvers import (
    max_inner_product_fast,
    max_inner_product_pairs,
    max_inner_product_pairwise,
)

VECTOR_ACTIONS = [
    SO2("2x0 + 3x1 + 2x2 + 1x3"),
    SO2("1x7"),
    SO2("1x1 + 1x7 + 2x4"),
    SO2("3x0"),
    Cyclic(8, "2xregular + 1x1 + 1x4 + 1x0 + 1x3"),
    Cyclic(5, "1xregular + 2x2 + 1x0"),
    Cyclic(2, "1xregular + 1x1"),
    Cyclic(6, "1x3"),
    FiniteGroup.from_action(Cyclic(6, "1x1 + 1x3 + 1xregular")),
]


def _random(action, shape, rng, d=3):
    if isinstance(action, Permutation):
        return rng.normal(size=shape + (action.n_nodes, d))
    return rng.normal(size=shape + (action.dim,))


def _value_at(X, Y, g, action):
    axes = tuple(range(-action.event_ndim, 0))
    return (X * np.asarray(action.act(g, Y))).sum(axes)


def _assert_matches_oracle(X, Y, action, atol=1e-10):
    fast, g = max_inner_product(X, Y, action)
    slow, _ = max_inner_product(X, Y, action, method="exhaustive")
    scale = 1.0 + np.abs(slow).max()
    # the fast value is the global maximum (>= the oracle) ...
    np.testing.assert_allclose(fast, slow, atol=atol * scale, rtol=0)
    # ... and it is attained at the returned element
    np.testing.assert_allclose(_value_at(X, Y, g, action), fast, atol=atol * scale, rtol=0)


@pytest.mark.parametrize("action", VECTOR_ACTIONS, ids=repr)
def test_vector_actions_match_exhaustive_on_random_pairs(action):
    rng = np.random.default_rng(0)
    X, Y = _random(action, (60,), rng), _random(action, (60,), rng)
    _assert_matches_oracle(X, Y, action)


@pytest.mark.parametrize("n_nodes,d", [(1, 2), (2, 2), (4, 3), (6, 4), (7, 2), (5, 1)])
def test_permutation_matches_exhaustive_on_random_pairs(n_nodes, d):
    rng = np.random.default_rng(n_nodes * 10 + d)
    action = Permutation(n_nodes)
    X, Y = _random(action, (40,), rng, d), _random(action, (40,), rng, d)
    _assert_matches_oracle(X, Y, action)


@pytest.mark.parametrize("d", [1, 2, 4])
def test_permutation_adversarial_ties(d):
    """Repeated rows, zero rows, rows drawn from a tiny set of values: many optimal matchings."""
    rng = np.random.default_rng(d)
    action = Permutation(6)
    X = rng.integers(-1, 2, size=(80, 6, d)).astype(float)
    Y = rng.integers(-1, 2, size=(80, 6, d)).astype(float)
    X[:10] = 0.0
    Y[10:20] = Y[10:20, :1]  # every node identical
    X[20:30] = X[20:30, :1]
    _assert_matches_oracle(X, Y, action, atol=1e-12)


def test_permutation_n9_matches_scipy_assignment():
    rng = np.random.default_rng(1)
    X, Y = rng.normal(size=(50, 9, 4)), rng.normal(size=(50, 9, 4))
    value, perm = max_inner_product(X, Y, Permutation(9))
    for q in range(50):
        W = X[q] @ Y[q].T
        r, c = linear_sum_assignment(W, maximize=True)
        assert value[q] == pytest.approx(W[r, c].sum(), abs=1e-12)
        assert W[np.arange(9), perm[q]].sum() == pytest.approx(value[q], abs=1e-12)
        assert sorted(perm[q].tolist()) == list(range(9))


def test_permutation_sort_shortcut_is_exact_with_ties():
    rng = np.random.default_rng(2)
    X = rng.integers(0, 3, size=(30, 7, 1)).astype(float)
    Y = rng.integers(0, 3, size=(30, 7, 1)).astype(float)
    _assert_matches_oracle(X, Y, Permutation(7), atol=1e-12)


def test_permutation_recovers_the_permutation_of_an_identical_orbit():
    rng = np.random.default_rng(3)
    action = Permutation(8)
    Y = rng.normal(size=(20, 8, 3))
    p = action.sample(20, rng)
    X = np.asarray(action.act(p, Y))
    value, g = max_inner_product(X, Y, action)
    np.testing.assert_allclose(value, (Y**2).sum((1, 2)), rtol=1e-12)
    np.testing.assert_array_equal(g, p)  # generic rows: the permutation is unique


@pytest.mark.parametrize("action", VECTOR_ACTIONS, ids=repr)
def test_vector_actions_recover_an_identical_orbit(action):
    rng = np.random.default_rng(4)
    Y = _random(action, (25,), rng)
    X = np.asarray(action.act(action.sample(25, rng), Y))
    value, g = max_inner_product(X, Y, action)
    np.testing.assert_allclose(value, (Y**2).sum(-1), rtol=1e-11)
    np.testing.assert_allclose(np.asarray(action.act(g, Y)), X, atol=1e-9)


@pytest.mark.parametrize("action", VECTOR_ACTIONS + [Permutation(5)], ids=repr)
def test_zero_vectors_give_value_zero(action):
    rng = np.random.default_rng(5)
    Y = _random(action, (4,), rng)
    X = np.zeros_like(Y)
    value, _ = max_inner_product(X, Y, action)
    np.testing.assert_array_equal(value, 0.0)
    value, _ = max_inner_product(Y, X, action)
    np.testing.assert_array_equal(value, 0.0)


@pytest.mark.parametrize(
    "action", [SO2("1x0 + 2x1 + 1x3"), Cyclic(8, "1xregular + 1x2"), Permutation(4)], ids=repr
)
def test_batched_broadcasting_matches_pairwise_and_pairs(action):
    rng = np.random.default_rng(6)
    X, Y = _random(action, (5,), rng), _random(action, (7,), rng)
    e = action.event_ndim
    v_b, _ = max_inner_product_fast(X[:, None], Y[None], action)
    v_p, _ = max_inner_product_pairwise(X, Y, action)
    rows, cols = np.nonzero(np.ones((5, 7)))
    v_q, _ = max_inner_product_pairs(X, Y, rows, cols, action)
    assert v_b.shape == (5, 7)
    np.testing.assert_allclose(v_b, v_p, atol=1e-12)
    np.testing.assert_allclose(v_q.reshape(5, 7), v_p, atol=1e-12)
    # a (3, 1, ...) against (1, 2, ...) batch, and a single Y against a batch of X
    v, _ = max_inner_product_fast(X[:3, None], Y[None, :2], action)
    np.testing.assert_allclose(v, v_p[:3, :2], atol=1e-12)
    v, _ = max_inner_product_fast(X, Y[0], action)
    np.testing.assert_allclose(v, v_p[:, 0], atol=1e-12)
    assert X.ndim - e == 1


# -- SO(2): adversarial trigonometric polynomials and independent checks ----------------------


def _so2_pair_from_coefficients(coeffs):
    """x, y for SO2('1x0 + 1x1 + ... + 1xK') with f(θ) = Re Σ_k coeffs[k] e^{ikθ}."""
    K = len(coeffs) - 1
    action = SO2(" + ".join(f"1x{k}" for k in range(K + 1)))
    x = np.zeros(action.dim)
    y = np.zeros(action.dim)
    x[0], y[0] = 1.0, float(np.real(coeffs[0]))
    x[1::2] = 1.0  # x̃_k = 1, so C_k = ỹ_k
    y[1::2] = np.real(coeffs[1:])
    y[2::2] = np.imag(coeffs[1:])
    return action, x, y


def _reference_maximum(coeffs):
    """Global max of Re Σ c_k e^{ikθ}: roots of f' (companion matrix) polished, plus a 200k grid."""
    c = np.asarray(coeffs, dtype=complex)
    K = len(c) - 1
    k = np.arange(K + 1)

    def f(t):
        return (c[None, :] * np.exp(1j * np.outer(t, k))).real.sum(1)

    def d1(t):
        return (1j * k * c[None, :] * np.exp(1j * np.outer(t, k))).real.sum(1)

    def d2(t):
        return (-(k**2) * c[None, :] * np.exp(1j * np.outer(t, k))).real.sum(1)

    # z^K f'(θ) = Σ_k (i k c_k z^{K+k} − i k conj(c_k) z^{K−k}) / 2, z = e^{iθ}
    poly = np.zeros(2 * K + 1, dtype=complex)  # poly[j] multiplies z^j
    poly[K + k[1:]] += 0.5j * k[1:] * c[1:]
    poly[K - k[1:]] += -0.5j * k[1:] * np.conj(c[1:])
    roots = np.roots(poly[::-1]) if np.any(poly) else np.zeros(0)
    t = np.angle(roots[np.abs(np.abs(roots) - 1) < 1e-3])
    for _ in range(30):  # Newton polish of the critical points
        step = d1(t) / np.where(np.abs(d2(t)) > 1e-300, d2(t), 1.0)
        t = t - np.clip(step, -1e-2, 1e-2)
    grid = np.linspace(0, 2 * np.pi, 200_000, endpoint=False)
    return max(f(t).max(initial=-np.inf), f(grid).max())


SO2_CASES = {
    "single frequency 7 (7 tied maxima)": [0.0, 0, 0, 0, 0, 0, 0, 2 - 1j],
    "degenerate flat maximum f = cos θ − cos 2θ / 4": [0.0, 1.0, -0.25],
    "two nearly tied peaks": [0.0, 1e-9, 1.0],
    "high frequencies mixed": [0.3, 0.1j, 0, 0.5, 0, 0, 0, 1.0 + 0.2j],
    "constant": [1.5, 0, 0],
    "tiny coefficients": [0.0, 1e-150, 3e-150j],
}


@pytest.mark.parametrize("coeffs", SO2_CASES.values(), ids=SO2_CASES.keys())
def test_so2_adversarial_polynomials_against_companion_roots(coeffs):
    action, x, y = _so2_pair_from_coefficients(coeffs)
    value, theta = max_inner_product(x, y, action)
    ref = _reference_maximum(coeffs)
    scale = np.abs(np.asarray(coeffs)).sum()
    assert value == pytest.approx(ref, abs=1e-9 * scale, rel=0)
    assert value >= ref - 1e-12 * scale  # never below the reference (certified global)
    assert float(x @ np.asarray(action.act(theta, y))) == pytest.approx(value, abs=1e-12 * scale)
    slow, _ = max_inner_product(x, y, action, method="exhaustive")
    assert value >= slow - 1e-12 * scale


def test_so2_random_polynomials_against_companion_roots():
    rng = np.random.default_rng(7)
    for K in [1, 2, 3, 5, 9]:
        for _ in range(8):
            coeffs = rng.normal(size=K + 1) + 1j * rng.normal(size=K + 1)
            coeffs[0] = coeffs[0].real
            coeffs *= rng.random(K + 1) < 0.7  # some frequencies absent
            action, x, y = _so2_pair_from_coefficients(coeffs)
            value, _ = max_inner_product(x, y, action)
            scale = np.abs(coeffs).sum() + 1e-300
            assert value == pytest.approx(_reference_maximum(coeffs), abs=1e-9 * scale, rel=0)


def test_so2_fft_sampling_path_agrees_with_table_path(monkeypatch):
    rng = np.random.default_rng(8)
    C = rng.normal(size=(200, 6)) + 1j * rng.normal(size=(200, 6))
    C[:, 0] = C[:, 0].real
    v_table, t_table = so2_solver.maximise_trig_polynomial(C)
    monkeypatch.setattr(so2_solver, "FFT_DEGREE", 0)
    v_fft, _ = so2_solver.maximise_trig_polynomial(C)
    np.testing.assert_allclose(v_fft, v_table, atol=1e-12)
    k = np.arange(6)
    at_theta = (C * np.exp(1j * t_table[:, None] * k)).real.sum(1)
    np.testing.assert_allclose(at_theta, v_table, atol=1e-12)


def test_so2_large_degree_uses_fft_and_stays_exact():
    rng = np.random.default_rng(9)
    K = so2_solver.FFT_DEGREE + 6
    coeffs = np.zeros(K + 1, dtype=complex)
    coeffs[[1, 5, K]] = rng.normal(size=3) + 1j * rng.normal(size=3)
    value, _ = so2_solver.maximise_trig_polynomial(coeffs[None])
    scale = np.abs(coeffs).sum()
    assert value[0] == pytest.approx(_reference_maximum(coeffs), abs=1e-9 * scale, rel=0)


def test_so2_solver_on_float32_inputs_matches_float64():
    rng = np.random.default_rng(10)
    action = SO2("2x0 + 4x1 + 2x2")
    X, Y = rng.normal(size=(30, action.dim)), rng.normal(size=(30, action.dim))
    v32, _ = max_inner_product(X.astype(np.float32), Y.astype(np.float32), action)
    v64, _ = max_inner_product(X.astype(np.float32).astype(float), Y.astype(np.float32), action)
    assert v32.dtype == np.float32
    np.testing.assert_allclose(v32, v64, rtol=1e-6)


def test_assign_pairs_index_arrays():
    rng = np.random.default_rng(11)
    X, Y = rng.normal(size=(4, 5, 2)), rng.normal(size=(3, 5, 2))
    rows, cols = np.array([0, 3, 3, 1]), np.array([2, 0, 2, 1])
    values, perms = assign_pairs(X, Y, rows, cols)
    for q in range(4):
        W = X[rows[q]] @ Y[cols[q]].T
        r, c = linear_sum_assignment(W, maximize=True)
        assert values[q] == pytest.approx(W[r, c].sum(), abs=1e-12)
        assert W[np.arange(5), perms[q]].sum() == pytest.approx(values[q], abs=1e-12)
    values, perms = assign_pairs(X, Y, np.zeros(0, int), np.zeros(0, int))
    assert values.shape == (0,) and perms.shape == (0, 5)


@pytest.mark.parametrize("n_nodes", [9, 12])
def test_assignment_with_heavy_ties_matches_scipy(n_nodes):
    """Integer entries from {-1, 0, 1}: many tied optimal matchings and tied shortest paths."""
    rng = np.random.default_rng(12)
    X = rng.integers(-1, 2, size=(300, n_nodes, 2)).astype(float)
    Y = rng.integers(-1, 2, size=(300, n_nodes, 2)).astype(float)
    rows = np.arange(300)
    values, perms = assign_pairs(X, Y, rows, rows)
    for q in range(300):
        W = X[q] @ Y[q].T
        r, c = linear_sum_assignment(W, maximize=True)
        assert values[q] == W[r, c].sum()
        assert W[np.arange(n_nodes), perms[q]].sum() == values[q]
        assert sorted(perms[q].tolist()) == list(range(n_nodes))


@pytest.mark.parametrize("d", [2, 3, 4, 8])
def test_assignment_9x9_random_and_tie_heavy_matches_scipy(d):
    """700 problems per d: Gaussian, entries in {-1, 0, 1}, zero rows and identical nodes."""
    rng = np.random.default_rng(100 + d)
    gauss = rng.normal(size=(2, 300, 9, d))
    ties = rng.integers(-1, 2, size=(2, 300, 9, d)).astype(float)
    degenerate = rng.integers(0, 2, size=(2, 100, 9, d)).astype(float)
    degenerate[0, :40] = 0.0
    degenerate[1, 40:80] = degenerate[1, 40:80, :1]  # every node of y identical
    X, Y = np.concatenate([gauss, ties, degenerate], axis=1)
    rows = np.arange(X.shape[0])
    values, perms = assign_pairs(X, Y, rows, rows)
    for q in rows:
        W = X[q] @ Y[q].T
        r, c = linear_sum_assignment(W, maximize=True)
        best = W[r, c].sum()
        assert abs(values[q] - best) <= 1e-12 * (1.0 + abs(best))
        assert sorted(perms[q].tolist()) == list(range(9))
        assert abs(W[np.arange(9), perms[q]].sum() - values[q]) <= 1e-12 * (1.0 + abs(best))
