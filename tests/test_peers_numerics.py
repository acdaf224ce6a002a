"""The fast paths written to beat the peers, each against its slow exact twin: block norms and
group pooling (float32 kept), the all-pairs Cyclic grid, and the linear assignment vs scipy."""

from __future__ import annotations

import numpy as np
import pytest

from orbitspace import O3, SO2, SO3, Cyclic
from orbitspace.invariants import group_pool, norms
from orbitspace.invariants import so3 as so3_inv
from orbitspace.quotient import max_inner_product_exhaustive
from orbitspace.quotient.assignment import assign_pairs
from orbitspace.quotient.finite import cyclic_pairs

ACTIONS = [
    SO2("2x0 + 3x1 + 2x2"),
    Cyclic(8, "2xregular + 1x1 + 1x0 + 1x4 + 2x3 + 1xregular"),
    Cyclic(5, "3xregular + 1x2"),
    SO3("3x0e + 2x1o + 2x2e"),
    O3("1x0o + 2x1e + 1x0e"),
]


def loop_features(X, action, pool):
    """One copy at a time, in float64: the twin of the compiled pass."""
    out = []
    for comp in action.components():
        for sl in comp.copy_slices():
            b = X[..., sl].astype(np.float64)
            ir = comp.irrep
            if ir.kind == "irrep" and ir.trivial and ir.dim == 1:
                out.append(b[..., 0])
            elif ir.kind == "regular" and pool == "max":
                out.append(b.max(-1))
            elif ir.kind == "regular" and pool == "mean":
                out.append(b.mean(-1))
            else:
                out.append(np.sqrt((b * b).sum(-1)))
    return np.stack(out, -1)


@pytest.mark.parametrize("action", ACTIONS, ids=repr)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_norms_equal_the_loop_over_copies_and_keep_float32(action, dtype):
    X = np.random.default_rng(0).normal(size=(4, 7, action.dim)).astype(dtype)
    F = norms(X, action)
    assert F.dtype == dtype and F.shape == (4, 7, sum(c.multiplicity for c in action.components()))
    tol = 1e-6 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(F, loop_features(X, action, None), rtol=tol, atol=tol)


@pytest.mark.parametrize("action", ACTIONS[3:], ids=repr)
def test_block_norms_equal_the_so3_norms(action):
    X = np.random.default_rng(1).normal(size=(20, action.dim))
    np.testing.assert_allclose(norms(X, action), so3_inv.norms(X, action), atol=1e-13)


@pytest.mark.parametrize("reduction", ["max", "mean"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_group_pool_equals_the_loop(reduction, dtype):
    action = ACTIONS[1]
    X = np.random.default_rng(2).normal(size=(50, action.dim)).astype(dtype)
    F = group_pool(X, action, reduction=reduction)
    assert F.dtype == dtype
    np.testing.assert_allclose(F, loop_features(X, action, reduction), rtol=1e-6, atol=1e-6)


def test_float32_norms_do_not_overflow_where_float64_does_not():
    action = SO2("1x1")
    X = np.array([[3e20, 4e20]], dtype=np.float32)  # squares overflow float32
    np.testing.assert_allclose(norms(X, action), [[5e20]], rtol=1e-6)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_input_is_refused_even_where_max_pooling_hides_it(bad):
    action = Cyclic(4, "1xregular + 1x0")
    X = np.ones((3, 5))
    X[1, 2] = bad  # -inf vanishes under the max of its field
    with pytest.raises(ValueError, match="must be finite"):
        group_pool(X, action)
    with pytest.raises(ValueError, match="must be finite"):
        norms(X, action)


def test_huge_finite_float64_is_not_refused():
    action = SO2("1x1")
    out = norms(np.array([[1e200, 1e200]]), action)  # the sum of squares overflows
    assert np.isinf(out).all()


@pytest.mark.parametrize(
    "action",
    [
        Cyclic(8, "4xregular"),
        Cyclic(8, "2xregular + 1x1 + 1x0 + 1x4 + 2x3"),
        Cyclic(5, "2xregular + 1x2 + 1x0"),
        Cyclic(6, "1xregular + 1x3"),
    ],
    ids=repr,
)
def test_cyclic_grid_equals_enumeration_and_the_pair_loop(action):
    rng = np.random.default_rng(3)
    X, Y = rng.normal(size=(23, action.dim)), rng.normal(size=(31, action.dim))
    rows, cols = np.repeat(np.arange(23), 31), np.tile(np.arange(31), 23)
    value, g = cyclic_pairs(X, Y, rows, cols, action)  # the grid route (713 pairs)
    ref, _ = max_inner_product_exhaustive(X[:, None], Y[None], action)
    np.testing.assert_allclose(value.reshape(23, 31), ref, atol=1e-12)
    # the maximiser attains the value
    got = np.einsum("qd,qd->q", X[rows], np.asarray(action.act(g, Y[cols])))
    np.testing.assert_allclose(got, value, atol=1e-12)
    # a non-grid order takes the per-pair loop: the same value to the bit, the same element
    perm = rng.permutation(rows.size)
    v2, g2 = cyclic_pairs(X, Y, rows[perm], cols[perm], action)
    np.testing.assert_array_equal(v2, value[perm])
    np.testing.assert_array_equal(g2, g[perm])


def test_cyclic_grid_follows_y_changed_in_place():
    action = Cyclic(8, "3xregular")
    rng = np.random.default_rng(4)
    X, Y = rng.normal(size=(20, 24)), rng.normal(size=(30, 24))
    rows, cols = np.repeat(np.arange(20), 30), np.tile(np.arange(30), 20)
    cyclic_pairs(X, Y, rows, cols, action)
    Y[5] += 1.0  # changed in place: the cached y side must not be used
    value, _ = cyclic_pairs(X, Y, rows, cols, action)
    ref, _ = max_inner_product_exhaustive(X[:, None], Y[None], action)
    np.testing.assert_allclose(value.reshape(20, 30), ref, atol=1e-12)


def test_cyclic_grid_first_maximiser_on_ties():
    action = Cyclic(8, "1xregular")
    X = np.ones((16, 8))  # every shift ties: the first maximiser is 0
    rows, cols = np.repeat(np.arange(16), 16), np.tile(np.arange(16), 16)
    _, g = cyclic_pairs(X, X, rows, cols, action)
    assert (g == 0).all()


@pytest.mark.parametrize("n", [5, 9, 20, 50, 100])
def test_assignment_equals_scipy(n):
    from scipy.optimize import linear_sum_assignment

    rng = np.random.default_rng(n)
    X, Y = rng.normal(size=(6, n, 4)), rng.normal(size=(5, n, 4))
    rows, cols = np.repeat(np.arange(6), 5), np.tile(np.arange(5), 6)
    value, perm = assign_pairs(X, Y, rows, cols)
    for q, (i, j) in enumerate(zip(rows, cols, strict=True)):
        W = X[i] @ Y[j].T
        r, c = linear_sum_assignment(W, maximize=True)
        assert value[q] == pytest.approx(W[r, c].sum(), abs=1e-10)
        assert W[np.arange(n), perm[q]].sum() == pytest.approx(value[q], abs=1e-10)
        assert sorted(perm[q]) == list(range(n))
