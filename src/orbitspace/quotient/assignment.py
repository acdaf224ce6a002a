"""Exact alignment under node permutations: a batched linear assignment (compiled with numba).

``max_P <X, P Y> = max_p Σ_i <x_i, y_p(i)>`` is a linear assignment problem on the Gram matrix
``W[i, j] = <x_i, y_j>``.  Each pair is solved by the shortest-augmenting-path Hungarian
algorithm (Jonker–Volgenant style, O(n³)) inside one compiled loop over all pairs, so the
per-pair Python overhead of ``scipy.optimize.linear_sum_assignment`` disappears.  With one
channel (d = 1) sorting is exact by the rearrangement inequality and no assignment is solved.

Pairs are given by index arrays into the rows of ``X`` and ``Y``, so one kernel serves
broadcasting (``align``), all-pairs matrices and the candidate pairs of nearest-neighbour search.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["assign_pairs", "assign_pairs_sorted", "assign_weights"]


@njit(cache=True, nogil=True)
def _assign_kernel(X, Y, rows, cols, values, perms):  # pragma: no cover - compiled
    """``max_p Σ_i <x_i, y_p(i)>`` for each pair: the cost ``C = -W`` from the Gram matrix,
    then :func:`_solve_cost`."""
    n = X.shape[1]
    dd = X.shape[2]
    C = np.empty((n, n))
    ws = _workspace(n)
    for q in range(rows.shape[0]):
        xa = X[rows[q]]
        ya = Y[cols[q]]
        for i in range(n):
            if dd == 4:  # the common case, unrolled (same summation order as the loop)
                x0, x1, x2, x3 = xa[i, 0], xa[i, 1], xa[i, 2], xa[i, 3]
                for j in range(n):
                    C[i, j] = -(x0 * ya[j, 0] + x1 * ya[j, 1] + x2 * ya[j, 2] + x3 * ya[j, 3])
            else:
                for j in range(n):
                    acc = 0.0
                    for c in range(dd):
                        acc += xa[i, c] * ya[j, c]
                    C[i, j] = -acc
            _row_min(C, i, ws[0])
        values[q] = _solve_cost(C, ws, perms[q])


@njit(cache=True, nogil=True)
def _assign_weights_kernel(W, values, perms):  # pragma: no cover - compiled
    """``max_p Σ_i W[q, i, p(i)]`` for each weight matrix ``W[q]``; ``-inf`` entries are
    forbidden: they cost a finite stand-in below every feasible total, and a matching that
    still uses one (none avoids them) is worth ``-inf``."""
    n = W.shape[1]
    C = np.empty((n, n))
    ws = _workspace(n)
    for q in range(W.shape[0]):
        span = 0.0
        for i in range(n):
            for j in range(n):
                w = W[q, i, j]
                if np.isfinite(w):
                    span = max(span, abs(w))
        low = 4.0 * n * span + 1.0
        for i in range(n):
            for j in range(n):
                w = W[q, i, j]
                C[i, j] = -w if np.isfinite(w) else low
            _row_min(C, i, ws[0])
        values[q] = _solve_cost(C, ws, perms[q])
        for i in range(n):
            if not np.isfinite(W[q, i, perms[q, i]]):
                values[q] = -np.inf
                break


@njit(cache=True, nogil=True, inline="always")
def _row_min(C, i, u):  # pragma: no cover - compiled
    """``u_i = min_j C_ij`` (the first dual reduction), taken as each row is formed."""
    m = C[i, 0]
    for j in range(1, C.shape[1]):
        m = min(m, C[i, j])
    u[i] = m


@njit(cache=True, nogil=True)
def _workspace(n):  # pragma: no cover - compiled
    return (
        np.empty(n),
        np.empty(n),
        np.empty(n),
        np.empty(n, np.int64),
        np.empty(n, np.int64),
        np.empty(n, np.int64),
        np.empty(n, np.int64),
        np.empty(n, np.int64),
        np.empty(n, np.int64),
        np.empty(n),
    )


@njit(cache=True, nogil=True)
def _solve_cost(C, ws, perm):  # pragma: no cover - compiled
    """Minimise ``Σ_i C[i, p(i)]`` by shortest augmenting paths (Crouse's variant of
    Jonker–Volgenant) after row and column reduction; writes ``p`` into ``perm`` and returns
    ``-Σ_i C[i, p(i)]``.  The caller has set the row minima ``u`` (``ws[0]``).

    Row then column reduction set the duals ``u_i = min_j C_ij``, ``v_j = min_i (C_ij - u_i)``
    and match each column to a row where its reduced cost is the minimum (zero), when that row
    is free; every other row is added by one Dijkstra search over reduced costs, which keeps the
    duals feasible, so the final matching is optimal (up to rounding).
    """
    u, v, spc, path, col4row, row4col, remaining, scanned, step_row, step_base = ws
    n = C.shape[0]
    for i in range(n):
        col4row[i] = -1
        row4col[i] = -1
    # column reduction v_j = min_i (C_ij - u_i): feasible duals with a zero in every row
    # and column (fewer searches than reducing columns only)
    for j in range(n):
        best = C[0, j] - u[0]
        bi = 0
        for i in range(1, n):
            c = C[i, j] - u[i]
            b = c < best
            best = c if b else best
            bi = i if b else bi
        v[j] = best
        free_row = col4row[bi] < 0  # match when the row is free (branch-free)
        col4row[bi] = j if free_row else col4row[bi]
        row4col[j] = bi if free_row else -1
    for cur in range(n):
        if col4row[cur] >= 0:
            continue
        minval = 0.0
        nrem = n
        nsc = 0
        for it in range(n):
            remaining[it] = it
            spc[it] = np.inf
        i = cur
        sink = -1
        while sink == -1:
            index = 0
            lowest = np.inf
            base = minval - u[i]
            step_row[nsc] = i
            step_base[nsc] = base
            # branch-free relaxation (min / select); predecessors are recovered afterwards
            for it in range(nrem):
                j = remaining[it]
                s = min(spc[j], base + C[i, j] - v[j])
                spc[j] = s
                b2 = s < lowest
                lowest = min(s, lowest)
                index = it if b2 else index
            minval = lowest
            j = remaining[index]
            scanned[nsc] = j
            nsc += 1
            if row4col[j] == -1:
                sink = j
            else:
                i = row4col[j]
            nrem -= 1
            remaining[index] = remaining[nrem]
        # dual update: the start row, the rows reached, the columns scanned
        u[cur] += minval
        for k in range(nsc - 1):
            j = scanned[k]
            u[row4col[j]] += minval - spc[j]
        for k in range(nsc):
            j = scanned[k]
            v[j] -= minval - spc[j]
        # predecessor of each scanned column: the earlier scanned row that gave its distance
        for k in range(nsc):
            j = scanned[k]
            best_r = step_base[0] + C[step_row[0], j]
            pred = step_row[0]
            for t in range(1, k + 1):
                r = step_base[t] + C[step_row[t], j]
                b = r < best_r
                best_r = r if b else best_r
                pred = step_row[t] if b else pred
            path[j] = pred
        # augment along the path
        j = sink
        while True:
            i = path[j]
            row4col[j] = i
            tmp = col4row[i]
            col4row[i] = j
            j = tmp
            if i == cur:
                break
    total = 0.0
    for i in range(n):
        perm[i] = col4row[i]
        total -= C[i, col4row[i]]
    return total


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
    values : array of shape (n_pairs,)
    perms : int array of shape (n_pairs, n_nodes), ``perms[q, i] = p(i)``
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
