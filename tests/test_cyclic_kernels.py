"""The all-pairs Cyclic grid (quotient/_cyclic_grid.py, _cyclic_kernels.py) against its slow
exact twin: the loop over all N shifts, ``<x, ρ(g) y>`` for every g through ``action.act``, on
random and adversarial rows (ties between shifts, zeros, repeats, exact images, float32,
n or m = 1, irreps mixed with regular fields), every route forced."""

import numpy as np
import pytest

from orbitspace.groups import Cyclic
from orbitspace.quotient import _cyclic_grid as ck
from orbitspace.quotient import _cyclic_kernels as kern
from orbitspace.quotient import pairwise_quotient_distances
from orbitspace.quotient.solvers import (
    find_grid,
    max_inner_product_pairs,
    max_inner_product_pairwise,
)

ACTIONS = [
    Cyclic(8, "1xregular"),
    Cyclic(8, "4xregular"),
    Cyclic(8, "16xregular"),
    Cyclic(8, "1x0 + 1x1 + 1x3"),  # one term per frequency, some absent (the C_8 kernel)
    Cyclic(8, "2xregular + 1x1 + 1x0 + 1x4 + 2x3"),  # irreps and regular fields mixed
    Cyclic(8, "3x2"),  # one frequency only: the other planes stay zero
    Cyclic(4, "3x1 + 1xregular"),
    Cyclic(6, "1xregular + 1x3 + 2x2"),
    Cyclic(2, "1x0 + 2x1 + 1xregular"),
]


def shift_loop(X, Y, action):
    """The twin: every shift g through ``action.act``; values (n, m, N), the first maximiser."""
    V = np.stack([X @ np.asarray(action.act(g, Y)).T for g in range(action.N)], axis=-1)
    return V, V.max(-1), V.argmax(-1)


def grids(Y, action):
    """The grid with each route forced: C_8 in registers (where it applies), column loops,
    BLAS blocks."""
    out = []
    for route in ("c8", "loops", "blas"):
        grid = ck.CyclicGrid(Y, action)
        if route == "c8" and not grid.c8:
            continue
        grid.c8, grid.blas = route == "c8", route == "blas"
        grid._RYc = grid._chunks() if grid.blas else None
        grid._Z = grid._c8_rows() if grid.c8 else None
        out.append(grid)
    return out


def test_routes_are_chosen_by_the_layout():
    rng = np.random.default_rng(9)
    routes = {}
    for rep in ("1xregular", "1x0 + 1x1 + 1x4", "4xregular", "32xregular"):
        grid = ck.CyclicGrid(rng.normal(size=(3, Cyclic(8, rep).dim)), Cyclic(8, rep))
        routes[rep] = "c8" if grid.c8 else "blas" if grid.blas else "loops"
    assert routes == {
        "1xregular": "c8",
        "1x0 + 1x1 + 1x4": "c8",
        "4xregular": "loops",
        "32xregular": "blas",
    }
    assert not ck.CyclicGrid(rng.normal(size=(3, 4)), Cyclic(4, "1xregular")).c8


def twin_distances(X, Y, action):
    """``min_g ‖x − ρ(g) y‖`` directly, every shift (no expanded formula)."""
    D = [np.linalg.norm(X[:, None] - np.asarray(action.act(g, Y))[None], axis=-1) for g in
         range(action.N)]  # fmt: skip
    return np.min(D, axis=0)


def adversarial(action, rng, n):
    """Rows with ties between shifts, zeros, repeats, exact images and tiny differences."""
    X = rng.normal(size=(n, action.dim))
    lay = action.layout
    for s in lay.regular_start:  # shift-invariant fields in row 0: every shift ties
        X[0, s : s + action.N] = 1.5
    X[0, lay.pair_a], X[0, lay.pair_b] = 0.0, 0.0
    X[0, lay.scalar_idx[lay.scalar_freq > 0]] = 0.0
    X[1] = 0.0  # zeros
    X[2] = X[3]  # a repeated row
    X[4] = np.asarray(action.act(3, X[5]))  # an exact image: distance 0
    X[6] = X[7] + 1e-9  # below the cancellation guard
    return X


@pytest.mark.parametrize("action", ACTIONS, ids=repr)
def test_max_inner_equals_the_shift_loop(action):
    rng = np.random.default_rng(0)
    X = adversarial(action, rng, 37)
    Y = np.vstack([adversarial(action, rng, 20), rng.normal(size=(280, action.dim))])
    V, ref, _ = shift_loop(X, Y, action)
    scale = np.linalg.norm(X, axis=1)[:, None] * np.linalg.norm(Y, axis=1)[None] + 1.0
    for grid in grids(Y, action):
        value, g = grid.max_inner(X)
        assert value.shape == g.shape == (37, 300) and g.dtype == np.int64
        np.testing.assert_allclose(value, ref, rtol=0, atol=1e-13 * scale.max())
        # the element returned attains the maximum (ties between shifts included)
        attained = np.take_along_axis(V, g[..., None], -1)[..., 0]
        assert np.all(np.abs(attained - ref) <= 1e-13 * scale)
        assert ((g >= 0) & (g < action.N)).all()


@pytest.mark.parametrize("action", ACTIONS, ids=repr)
def test_distances_equal_the_direct_shift_loop(action):
    rng = np.random.default_rng(1)
    X = adversarial(action, rng, 23)
    Y = np.vstack([X[:10], rng.normal(size=(40, action.dim))])
    ref = twin_distances(X, Y, action)
    for grid in grids(Y, action):
        D = grid.distances(X)
        np.testing.assert_allclose(D, ref, rtol=1e-12, atol=1e-12)
        assert D[4, 5] < 1e-14 and D[5, 4] < 1e-14  # exact images (irreps rotate in floats)
        assert (np.diag(D[:10, :10]) == 0.0).all()  # rows against themselves
        assert abs(D[6, 7] - ref[6, 7]) < 1e-15  # recomputed, not ‖x‖² + ‖y‖² − 2v
        # a column offset (the upper triangle of the pairwise distances)
        np.testing.assert_allclose(grid.distances(X, 13), ref[:, 13:], rtol=1e-12, atol=1e-12)
        # written into a larger output in place
        out = np.full((30, Y.shape[0]), 7.0)
        assert grid.distances(X, 13, out=out, row0=5) is out
        np.testing.assert_allclose(out[5:28, 13:], ref[:, 13:], rtol=1e-12, atol=1e-12)
        assert (out[:5] == 7.0).all() and (out[5:28, :13] == 7.0).all()


def test_shift_invariant_rows_tie_exactly_and_take_the_first_shift():
    action = Cyclic(8, "2xregular")
    X = np.ones((5, 16))  # every shift gives the same value: the first maximiser is 0
    Y = np.vstack([np.ones((3, 16)), np.arange(32.0).reshape(2, 16)])
    for grid in grids(Y, action):
        value, g = grid.max_inner(X)
        _, ref, first = shift_loop(X, Y, action)
        np.testing.assert_allclose(value, ref, atol=1e-12)
        assert (g[:, :3] == 0).all() and (g == first).all()


@pytest.mark.parametrize("shape", [(1, 1), (1, 9), (9, 1), (2, 300), (300, 2)])
def test_tiny_and_thin_grids(shape):
    n, m = shape
    action = Cyclic(8, "2xregular + 1x1")
    rng = np.random.default_rng(2)
    X, Y = rng.normal(size=(n, action.dim)), rng.normal(size=(m, action.dim))
    _, ref, _ = shift_loop(X, Y, action)
    for grid in grids(Y, action):
        np.testing.assert_allclose(grid.max_inner(X)[0], ref, atol=1e-12)
        np.testing.assert_allclose(grid.distances(X), twin_distances(X, Y, action), atol=1e-12)


def test_float32_input_is_solved_in_float64():
    action = Cyclic(8, "4xregular")
    rng = np.random.default_rng(3)
    X32, Y32 = (
        rng.normal(size=(30, 32)).astype(np.float32),
        rng.normal(size=(40, 32)).astype(np.float32),
    )
    X, Y = X32.astype(np.float64), Y32.astype(np.float64)
    _, ref, _ = shift_loop(X, Y, action)
    value, _ = max_inner_product_pairwise(X32, Y32, action)
    assert value.dtype == np.float64
    np.testing.assert_allclose(value, ref, atol=1e-12)
    D = pairwise_quotient_distances(X32, Y32, action=action)
    np.testing.assert_allclose(D, twin_distances(X, Y, action), atol=1e-12)


def test_many_pairs_to_recompute_overflow_the_list():
    """More pairs below the guard than the kernel's list holds: all are still recomputed."""
    action = Cyclic(8, "1xregular")
    rng = np.random.default_rng(4)
    base = rng.normal(size=(1, 8))
    X = np.repeat(base, 60, axis=0) + 1e-10 * rng.normal(size=(60, 8))
    Y = np.asarray(action.act(rng.integers(0, 8, 50), np.repeat(base, 50, axis=0)))
    for grid in grids(Y, action):
        D = grid.distances(X)
        np.testing.assert_allclose(D, twin_distances(X, Y, action), rtol=1e-6, atol=1e-15)
        assert D.max() < 1e-8


@pytest.mark.parametrize("action", [Cyclic(8, "3xregular + 1x1"), Cyclic(6, "2xregular")], ids=repr)
def test_pairwise_distances_use_the_grid_and_equal_enumeration(action):
    rng = np.random.default_rng(5)
    X = adversarial(action, rng, 130)
    assert find_grid(action, X) is not None
    ref = pairwise_quotient_distances(X, action=action, method="exhaustive")
    for kw in ({}, {"n_jobs": 2}, {"batch_size": 100}):
        D = pairwise_quotient_distances(X, action=action, **kw)
        np.testing.assert_allclose(D, ref, atol=1e-12)
        assert (D == D.T).all() and (np.diag(D) == 0).all()
        D2 = pairwise_quotient_distances(X[:40], X[30:], action=action, **kw)
        np.testing.assert_allclose(D2, ref[:40, 30:], atol=1e-12)


def test_grid_and_pair_routes_agree():
    action = Cyclic(8, "2xregular + 1x0 + 1x3")
    rng = np.random.default_rng(6)
    X, Y = rng.normal(size=(17, action.dim)), rng.normal(size=(19, action.dim))
    value, g = max_inner_product_pairwise(X, Y, action)
    rows, cols = np.repeat(np.arange(17), 19), np.tile(np.arange(19), 17)
    v2, _ = max_inner_product_pairs(X, Y, rows, cols, action)
    np.testing.assert_allclose(value.ravel(), v2, atol=1e-12)
    got = np.einsum("qd,qd->q", X[rows], np.asarray(action.act(g.ravel(), Y[cols])))
    np.testing.assert_allclose(got, v2, atol=1e-12)


def test_butterflies_of_c8_equal_the_tables():
    """The C_8 combine (butterflies) against the generic cosine/sine tables."""
    plan = ck.grid_plan(Cyclic(8, "1xregular"))
    F = np.random.default_rng(7).normal(size=(8, 64))
    for t in range(64):
        v8, g8 = kern._values8.py_func(F, t)
        v, g = kern._values.py_func(F, t, plan.TE, plan.TO)
        assert abs(v8 - v) < 1e-14 and g8 == g


def test_odd_and_large_orders_have_no_grid_and_bad_input_is_named():
    rng = np.random.default_rng(8)
    assert find_grid(Cyclic(5, "2xregular"), rng.normal(size=(3, 10))) is None
    assert ck.grid_plan(Cyclic(7, "1x1")) is None
    assert ck.grid_plan(Cyclic(12, "2xregular")) is None  # beyond MAX_ORDER: the pair loop
    with pytest.raises(ValueError, match="even order"):
        ck.CyclicGrid(rng.normal(size=(3, 10)), Cyclic(5, "2xregular"))
    action = Cyclic(8, "1xregular")
    with pytest.raises(ValueError, match=r"Y must have shape \(n, 8\); received \(3, 9\)"):
        ck.CyclicGrid(rng.normal(size=(3, 9)), action)
    grid = ck.CyclicGrid(rng.normal(size=(3, 8)), action)
    with pytest.raises(ValueError, match=r"X must have shape \(n, 8\)"):
        grid.max_inner(rng.normal(size=(2, 7)))
    with pytest.raises(ValueError, match="col_start must be in 0..3"):
        grid.distances(rng.normal(size=(2, 8)), 4)
    with pytest.raises(ValueError, match="out must be C-contiguous float64 of shape"):
        grid.distances(rng.normal(size=(2, 8)), out=np.zeros((2, 4)))
