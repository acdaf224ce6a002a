"""The compiled linear assignment at n = 20 .. 100 against its slow exact twin, scipy's
``linear_sum_assignment``: Gaussian and tie-heavy problems, repeated and zero nodes, all-equal
weights, float32 input, tiny n, both search variants (predecessors recovered after each search
below ``_TRACK_FROM`` columns, recorded during it from there on), forbidden entries in
``assign_weights``, and non-finite input (terminates, other pairs untouched)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from orbitspace.quotient.assignment import _TRACK_FROM, assign_pairs, assign_weights


def problems(n, d, rng, m):
    """``m`` pairs of each kind: Gaussian, entries in {-1, 0, 1} (heavy ties), small integers
    with repeated nodes, zero / all-identical nodes, and Gaussian nodes far from the origin."""
    gauss = rng.normal(size=(2, m, n, d))
    ties = rng.integers(-1, 2, size=(2, m, n, d)).astype(float)
    rep = rng.integers(-2, 3, size=(2, m, n, d)).astype(float)
    rep[:, :, n // 2 :] = rep[:, :, : n - n // 2]  # every node of the first half repeated
    flat = rng.integers(0, 2, size=(2, m, n, d)).astype(float)
    flat[0, : m // 3] = 0.0  # x = 0: every matching is optimal
    flat[1, m // 3 : 2 * m // 3] = flat[1, m // 3 : 2 * m // 3, :1]  # every node of y equal
    flat[:, 2 * m // 3 :] = 1.0  # all-equal weights
    far = 50.0 + rng.normal(size=(2, m, n, d))
    return np.concatenate([gauss, ties, rep, flat, far], axis=1)


def check_against_scipy(X, Y, values, perms):
    n = X.shape[1]
    for q in range(X.shape[0]):
        W = X[q] @ Y[q].T
        r, c = linear_sum_assignment(W, maximize=True)
        best = W[r, c].sum()
        tol = 1e-12 * (1.0 + np.abs(W).sum())
        assert sorted(perms[q].tolist()) == list(range(n)), q
        assert abs(values[q] - best) <= tol, (q, values[q], best)
        assert abs(W[np.arange(n), perms[q]].sum() - values[q]) <= tol, q
        if np.all(W == np.round(W)):  # integer weights: exactly the optimum
            assert values[q] == best, (q, values[q], best)


@pytest.mark.parametrize("n", [20, 31, 32, 50, 100])
def test_assignment_equals_scipy_random_and_tie_heavy(n):
    """250 problems per n (100 at n = 100), d = 4, on either side of the tracking threshold."""
    assert 20 < _TRACK_FROM <= 50
    rng = np.random.default_rng(1000 + n)
    X, Y = problems(n, 4, rng, 20 if n == 100 else 50)
    rows = np.arange(X.shape[0])
    values, perms = assign_pairs(X, Y, rows, rows)
    check_against_scipy(X, Y, values, perms)


@pytest.mark.parametrize("d", [2, 3, 8])
@pytest.mark.parametrize("n", [12, 40])
def test_assignment_equals_scipy_other_channel_counts(n, d):
    rng = np.random.default_rng(10 * n + d)
    X, Y = problems(n, d, rng, 12)
    rows = np.arange(X.shape[0])
    values, perms = assign_pairs(X, Y, rows, rows)
    check_against_scipy(X, Y, values, perms)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_assignment_tiny_n(n):
    rng = np.random.default_rng(n)
    X, Y = problems(n, 4, rng, 6)
    rows = np.arange(X.shape[0])
    values, perms = assign_pairs(X, Y, rows, rows)
    check_against_scipy(X, Y, values, perms)


@pytest.mark.parametrize("n", [9, 50])
def test_assignment_float32_input_and_index_pairs(n):
    """float32 codes are solved in float64; pairs index the rows of X and Y in any order."""
    rng = np.random.default_rng(7)
    X = rng.normal(size=(5, n, 4)).astype(np.float32)
    Y = rng.normal(size=(4, n, 4)).astype(np.float32)
    rows, cols = np.repeat(np.arange(5), 4), np.tile(np.arange(4), 5)
    values, perms = assign_pairs(X, Y, rows, cols)
    assert values.dtype == np.float64
    check_against_scipy(X[rows].astype(float), Y[cols].astype(float), values, perms)


@pytest.mark.parametrize("n", [7, 40])
def test_assign_weights_with_forbidden_entries_both_variants(n):
    """General (full-rank) weights with ``-inf`` entries, below and above the threshold."""
    rng = np.random.default_rng(n)
    W = np.concatenate(
        [rng.standard_normal((30, n, n)), rng.integers(-2, 3, size=(30, n, n)).astype(float)]
    )
    W[rng.random(W.shape) < 0.3] = -np.inf
    W[-1] = -np.inf  # no feasible matching
    v, p = assign_weights(W)
    for q in range(len(W)):
        C = np.where(np.isfinite(W[q]), -W[q], 1e9)
        r, c = linear_sum_assignment(C)
        assert sorted(p[q].tolist()) == list(range(n))
        if C[r, c].max() >= 1e9:  # every perfect matching uses a forbidden entry
            assert v[q] == -np.inf
        else:
            best, tol = W[q, r, c].sum(), 1e-12 * (1.0 + np.abs(W[q][np.isfinite(W[q])]).sum())
            assert abs(v[q] - best) <= tol
            assert abs(W[q, np.arange(n), p[q]].sum() - v[q]) <= tol


@pytest.mark.parametrize("n", [6, 40])
@pytest.mark.parametrize("bad", [np.nan, np.inf, 1e200])
def test_assignment_non_finite_input_terminates(n, bad):
    """A non-finite (or overflowing) code gives a permutation and a non-finite or meaningless
    value for its own pairs; the next pairs, solved with the same workspace, are unaffected."""
    rng = np.random.default_rng(3)
    X, Y = rng.normal(size=(4, n, 4)), rng.normal(size=(4, n, 4))
    X[0, 1, 2] = bad
    X[2, :, 0] = bad
    rows = np.arange(4)
    values, perms = assign_pairs(X, Y, rows, rows)
    for q in range(4):
        assert sorted(perms[q].tolist()) == list(range(n))
    if bad != 1e200:
        assert not np.isfinite(values[0]) and not np.isfinite(values[2])
    check_against_scipy(X[[1, 3]], Y[[1, 3]], values[[1, 3]], perms[[1, 3]])


@pytest.mark.parametrize("scale", [1e-7, 1e7])
@pytest.mark.parametrize("n", [9, 50])
def test_assignment_codes_of_very_different_scales(n, scale):
    """|x| ≈ 1e7 |y| (or the reverse): the costs |x - y|² alone would lose y below the last
    digit of x; the power-of-two balancing keeps the inner products exact to rounding."""
    rng = np.random.default_rng(n)
    X = scale * rng.normal(size=(30, n, 4))
    Y = rng.normal(size=(30, n, 4)) / scale
    rows = np.arange(30)
    values, perms = assign_pairs(X, Y, rows, rows)
    check_against_scipy(X, Y, values, perms)
