"""Exact alignment under node permutations: a batched linear assignment (compiled with numba).

``max_P <X, P Y> = max_p Σ_i <x_i, y_p(i)>`` is a linear assignment problem.  Since
``Σ_i |x_i - y_p(i)|² = |X|² + |Y|² - 2 Σ_i <x_i, y_p(i)>``, it has the same optimal matchings
as the minimum of ``Σ_i C[i, p(i)]`` with ``C[i, j] = |x_i - y_j|² / 2``; the kernel solves that
one, whose row and column reductions (nearest neighbours) leave far fewer rows unmatched than
those of ``-<x_i, y_j>`` (where a few long ``y_j`` are every row's best), and reports
``Σ_i <x_i, y_p(i)>`` of the matching it finds.  (``x`` and ``y`` are first scaled by ``s`` and
``1 / s``, a power of two that brings their norms together, so that no digits of ``<x_i, y_j>``
are lost when the two codes differ in scale.)  Each pair is solved by shortest augmenting paths
(Jonker–Volgenant / Crouse, O(n³)) inside one compiled loop over all pairs, so the per-pair
Python overhead of ``scipy.optimize.linear_sum_assignment`` disappears; each Dijkstra step is
one dense, vectorised pass over the columns.  With one channel (d = 1) sorting is exact by the
rearrangement inequality and no assignment is solved.

Pairs are given by index arrays into the rows of ``X`` and ``Y``, so one kernel serves
broadcasting (``align``), all-pairs matrices and the candidate pairs of nearest-neighbour search.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from orbitspace.quotient._assignment_sap import _TRACK_FROM, _solve_cost, _workspace
from orbitspace.quotient._assignment_simd import fmin

__all__ = ["assign_pairs", "assign_pairs_sorted", "assign_weights"]


@njit(cache=True, nogil=True)
def _assign_kernel(X, Y, rows, cols, values, perms):  # pragma: no cover - compiled
    """``max_p Σ_i <x_i, y_p(i)>`` for each pair (see :func:`_assign_loop`), compiled once with
    and once without predecessor tracking."""
    if X.shape[1] >= _TRACK_FROM:
        _assign_loop(X, Y, rows, cols, values, perms, True)
    else:
        _assign_loop(X, Y, rows, cols, values, perms, False)


@njit(cache=True, nogil=True, inline="always")
def _assign_loop(X, Y, rows, cols, values, perms, track):  # pragma: no cover - compiled
    """The costs ``C[i, j] = |s x_i - y_j / s|² / 2`` (``s`` from :func:`_balance`) with their
    row minima ``u_i`` (the first dual reduction; ``y`` transposed into ``yt`` so that each row
    is one vector pass), then :func:`_solve_cost`, then ``Σ_i <x_i, y_p(i)>`` of the matching.
    (The cost pass is written out here: as a separate function, its call costs a tenth of a
    small problem.)"""
    n = X.shape[1]
    dd = X.shape[2]
    C = np.empty((n, n))
    yt = np.empty((dd, n))
    ws = _workspace(n)
    u = ws[0]
    for q in range(rows.shape[0]):
        xa = X[rows[q]]
        ya = Y[cols[q]]
        sc, isc = _balance(xa, ya)
        for c in range(dd):
            for j in range(n):
                yt[c, j] = isc * ya[j, c]
        for i in range(n):
            Ci = C[i]
            m = np.inf
            if dd == 4:  # the common case, unrolled
                x0, x1, x2, x3 = sc * xa[i, 0], sc * xa[i, 1], sc * xa[i, 2], sc * xa[i, 3]
                y0, y1, y2, y3 = yt[0], yt[1], yt[2], yt[3]
                for j in range(n):
                    t0 = x0 - y0[j]
                    t1 = x1 - y1[j]
                    t2 = x2 - y2[j]
                    t3 = x3 - y3[j]
                    c = 0.5 * (t0 * t0 + t1 * t1 + t2 * t2 + t3 * t3)
                    Ci[j] = c
                    m = fmin(m, c)
            else:
                for j in range(n):
                    Ci[j] = 0.0
                for c in range(dd):
                    xc = sc * xa[i, c]
                    yc = yt[c]
                    for j in range(n):
                        t = xc - yc[j]
                        Ci[j] += t * t
                for j in range(n):
                    Ci[j] *= 0.5
                    m = fmin(m, Ci[j])
            u[i] = m
        p = perms[q]
        _solve_cost(C, ws, p, track)
        total = 0.0
        for i in range(n):
            j = p[i]
            if dd == 4:  # same summation order as the loop below
                total += (
                    xa[i, 0] * ya[j, 0]
                    + xa[i, 1] * ya[j, 1]
                    + xa[i, 2] * ya[j, 2]
                    + (xa[i, 3] * ya[j, 3])
                )
            else:
                acc = 0.0
                for c in range(dd):
                    acc += xa[i, c] * ya[j, c]
                total += acc
        values[q] = total


@njit(cache=True, nogil=True, inline="always")
def _balance(xa, ya):  # pragma: no cover - compiled
    """A power of two ``s`` (and ``1 / s``) with ``s⁴ |X|² / |Y|²`` in [1/16, 16], so that
    ``s x`` and ``y / s`` (exact scalings) have norms of one order: ``|s x_i - y_j / s|²`` keeps
    the digits of ``<x_i, y_j>`` when the two codes differ in scale by orders of magnitude
    (``|x - y|²`` drops ``y`` below the last digit of ``x``).  ``s = 1`` for codes within a
    factor 4 in norm (integer codes stay exact either way) and when either norm is zero or not
    finite."""
    sx = 0.0
    sy = 0.0
    for i in range(xa.shape[0]):  # node by node: short dependency chains
        a = 0.0
        b = 0.0
        for c in range(xa.shape[1]):
            a += xa[i, c] * xa[i, c]
            b += ya[i, c] * ya[i, c]
        sx += a
        sy += b
    s = 1.0
    t = 1.0  # 1 / s, with no division on the way to the costs
    if 0.0 < sx < np.inf and 0.0 < sy < np.inf:  # each loop ends within 512 steps
        while sy > 16.0 * sx:
            sx *= 16.0
            s *= 2.0
            t *= 0.5
        while sx > 16.0 * sy:
            sy *= 16.0
            s *= 0.5
            t *= 2.0
    return s, t


@njit(cache=True, nogil=True)
def _assign_weights_kernel(W, values, perms):  # pragma: no cover - compiled
    """``max_p Σ_i W[q, i, p(i)]`` for each weight matrix ``W[q]`` (see :func:`_weights_loop`)."""
    if W.shape[1] >= _TRACK_FROM:
        _weights_loop(W, values, perms, True)
    else:
        _weights_loop(W, values, perms, False)


@njit(cache=True, nogil=True, inline="always")
def _weights_loop(W, values, perms, track):  # pragma: no cover - compiled
    """The cost ``C = -W`` and its row minima, then :func:`_solve_cost`.  ``-inf`` entries are
    forbidden: they cost a finite stand-in below every feasible total, and a matching that
    still uses one (none avoids them) is worth ``-inf``."""
    n = W.shape[1]
    C = np.empty((n, n))
    ws = _workspace(n)
    u = ws[0]
    for q in range(W.shape[0]):
        span = 0.0
        for i in range(n):
            for j in range(n):
                w = W[q, i, j]
                if np.isfinite(w):
                    span = max(span, abs(w))
        low = 4.0 * n * span + 1.0
        for i in range(n):
            m = np.inf
            for j in range(n):
                w = W[q, i, j]
                c = -w if np.isfinite(w) else low
                C[i, j] = c
                m = min(m, c)
            u[i] = m
        p = perms[q]
        _solve_cost(C, ws, p, track)
        total = 0.0
        for i in range(n):
            w = W[q, i, p[i]]
            total = total + w if np.isfinite(w) else -np.inf
        values[q] = total


def assign_pairs(
    X: np.ndarray, Y: np.ndarray, rows: np.ndarray, cols: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Solve ``max_p Σ_i <X[rows[q], i], Y[cols[q], p(i)]>`` for every pair ``q``.

    Parameters
    ----------
    X : array of shape (n_x, n_nodes, d)
    Y : array of shape (n_y, n_nodes, d)
    rows, cols : int arrays of shape (n_pairs,), row indices into X and Y

    Returns
    -------
    values : array of shape (n_pairs,), float64
    perms : int array of shape (n_pairs, n_nodes), ``perms[q, i] = p(i)``

    Non-finite entries give a non-finite value (and some permutation) for their own pairs.

    Examples
    --------
    >>> X = np.array([[[1.0, 0.0], [0.0, 1.0]]])
    >>> v, p = assign_pairs(X, X[:, ::-1], np.array([0]), np.array([0]))  # nodes swapped
    >>> float(v[0]), p[0].tolist()
    (2.0, [1, 0])
    """
    X = np.ascontiguousarray(X, dtype=np.float64)
    Y = np.ascontiguousarray(Y, dtype=np.float64)
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    cols = np.ascontiguousarray(cols, dtype=np.int64)
    n = X.shape[1]
    values = np.empty(rows.shape[0])
    perms = np.empty((rows.shape[0], n), dtype=np.int64)
    if rows.shape[0] == 0:
        return values, perms
    if X.shape[2] == 1:
        return assign_pairs_sorted(X, Y, rows, cols)
    _assign_kernel(X, Y, rows, cols, values, perms)
    return values, perms


def assign_weights(W: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Solve ``max_p Σ_i W[q, i, p(i)]`` for a stack of square weight matrices.

    Parameters
    ----------
    W : array of shape (m, n, n); ``-inf`` entries forbid a match (if every perfect matching
        uses one, the value is ``-inf``)

    Returns
    -------
    values : array of shape (m,)
    perms : int array of shape (m, n), ``perms[q, i] = p(i)``

    Examples
    --------
    >>> v, p = assign_weights(np.array([[[1.0, 5.0], [4.0, 1.0]]]))
    >>> float(v[0]), p[0].tolist()
    (9.0, [1, 0])
    """
    W = np.asarray(W, dtype=np.float64)
    if W.ndim != 3 or W.shape[1] != W.shape[2]:
        raise ValueError(f"W must have shape (m, n, n); received shape {W.shape}")
    m, n = W.shape[0], W.shape[1]
    values = np.zeros(m)
    perms = np.empty((m, n), dtype=np.int64)
    if m and n:
        _assign_weights_kernel(np.ascontiguousarray(W), values, perms)
    return values, perms


def assign_pairs_sorted(
    X: np.ndarray, Y: np.ndarray, rows: np.ndarray, cols: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The d = 1 case of :func:`assign_pairs`: match the r-th smallest of x to the r-th of y.

    Exact by the rearrangement inequality: ``Σ_i x_i y_p(i)`` is largest when both are sorted
    the same way.
    """
    ox = np.argsort(X[..., 0], axis=-1, kind="stable")  # (n_x, n)
    oy = np.argsort(Y[..., 0], axis=-1, kind="stable")
    xs = np.take_along_axis(X[..., 0], ox, -1)
    ys = np.take_along_axis(Y[..., 0], oy, -1)
    n = X.shape[1]
    values = np.empty(rows.shape[0])
    perms = np.empty((rows.shape[0], n), dtype=np.int64)
    step = max(1, 2**20 // max(n, 1))
    for s in range(0, rows.shape[0], step):
        i, j = rows[s : s + step], cols[s : s + step]
        values[s : s + step] = (xs[i] * ys[j]).sum(-1)
        block = np.empty((i.shape[0], n), dtype=np.int64)
        # node ox[r] of x (rank r) takes node oy[r] of y (rank r)
        block[np.arange(i.shape[0])[:, None], ox[i]] = oy[j]
        perms[s : s + step] = block
    return values, perms
