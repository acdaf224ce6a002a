"""The shortest-augmenting-path solver behind :mod:`orbitspace.quotient.assignment`.

:func:`_solve_cost` minimises ``Σ_i C[i, p(i)]`` over permutations for one square cost matrix
(row minima given), with the scratch arrays of :func:`_workspace`; the kernels in
``assignment`` form the costs and inline it (``track`` then a compile-time constant).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from orbitspace.quotient._assignment_simd import fmin

# from this many columns on, each Dijkstra step records the predecessor of every column it
# improves (one more vector select per column); below, the predecessors of the few scanned
# columns are recovered after the search
_TRACK_FROM = 32


@njit(cache=True, nogil=True)
def _workspace(n):  # pragma: no cover - compiled
    """``u, v, w, d, path, col4row, row4col, scanned, sdist, step_row, step_base, done``."""
    return (
        np.empty(n),
        np.empty(n),
        np.empty(n),
        np.empty(n),
        np.empty(n, np.int64),
        np.empty(n, np.int64),
        np.empty(n, np.int64),
        np.empty(n, np.int64),
        np.empty(n),
        np.empty(n, np.int64),
        np.empty(n),
        np.zeros(n, np.uint8),
    )


@njit(cache=True, nogil=True, inline="always")
def _first_equal(d, lowest, n):  # pragma: no cover - compiled
    """The first ``j`` with ``d[j] == lowest`` (``n`` if none), four columns per test."""
    j = 0
    while j <= n - 4:
        if (d[j] == lowest) | (d[j + 1] == lowest) | (d[j + 2] == lowest) | (d[j + 3] == lowest):
            break
        j += 4
    while j < n and d[j] != lowest:
        j += 1
    return j


@njit(cache=True, nogil=True, inline="always")
def _solve_cost(C, ws, perm, track):  # pragma: no cover - compiled
    """Minimise ``Σ_i C[i, p(i)]`` by shortest augmenting paths (Crouse's variant of
    Jonker–Volgenant) after row and column reduction; writes ``p`` into ``perm``.  The caller
    has set the row minima ``u`` (``ws[0]``); ``track`` (a compile-time constant where it is
    inlined) records predecessors during the search instead of recovering them after it.

    Row then column reduction set the duals ``u_i = min_j C_ij``, ``v_j = min_i (C_ij - u_i)``
    and match each column to the first row where its reduced cost is the minimum (zero), when
    that row is free; every other row is added by one Dijkstra search over reduced costs, which
    keeps the duals feasible, so the final matching is optimal (up to rounding).  A Dijkstra
    step is one dense pass over all columns, ``d_j = min(d_j, base + C_ij - v_j)``, with the
    columns already scanned masked by ``w_j = -v_j = +inf`` (no index gather), then the first
    column at the minimum.  Non-finite costs give some permutation (each step scans a new
    column, so every search ends) and a non-finite or meaningless value.
    """
    u, v, w, d, path, col4row, row4col, scanned, sdist, step_row, step_base, done = ws
    n = C.shape[0]
    # column reduction v_j = min_i (C_ij - u_i) (column by column: cheaper than row passes at
    # small n, no dearer at n = 100); path: the first row at each column's minimum
    for j in range(n):
        best = C[0, j] - u[0]
        bi = 0
        for i in range(1, n):
            c = C[i, j] - u[i]
            b = c < best
            best = c if b else best
            bi = i if b else bi
        v[j] = best
        path[j] = bi
    for i in range(n):
        col4row[i] = -1
    for j in range(n):
        bi = path[j]
        free_row = col4row[bi] < 0  # match when the row is free
        col4row[bi] = j if free_row else col4row[bi]
        row4col[j] = bi if free_row else -1
        w[j] = -v[j]
    for cur in range(n):
        if col4row[cur] >= 0:
            continue
        for j in range(n):
            d[j] = np.inf
        if track:  # the predecessor of a column no finite distance reaches
            for j in range(n):
                path[j] = cur
        minval = 0.0
        i = cur
        nsc = 0
        while True:
            base = minval - u[i]
            step_row[nsc] = i
            step_base[nsc] = base
            Ci = C[i]
            lowest = np.inf
            if track:
                for j in range(n):
                    cand = base + Ci[j] + w[j]
                    dj = d[j]
                    b = cand < dj
                    s = cand if b else dj
                    path[j] = i if b else path[j]
                    d[j] = s
                    lowest = fmin(lowest, s)
            else:
                for j in range(n):
                    s = fmin(d[j], base + Ci[j] + w[j])
                    d[j] = s
                    lowest = fmin(lowest, s)
            j = _first_equal(d, lowest, n)
            if j == n or done[j]:  # only with non-finite costs: any column not yet scanned
                j = 0
                while done[j]:
                    j += 1
            minval = lowest
            scanned[nsc] = j
            sdist[nsc] = lowest
            nsc += 1
            d[j] = np.inf
            w[j] = np.inf
            done[j] = 1
            if row4col[j] < 0:
                break
            i = row4col[j]
        # dual update: the start row, the rows reached, the columns scanned
        u[cur] += minval
        for k in range(nsc - 1):
            u[row4col[scanned[k]]] += minval - sdist[k]
        for k in range(nsc):
            j = scanned[k]
            v[j] -= minval - sdist[k]
            w[j] = -v[j]
            done[j] = 0
        if not track:
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
        j = scanned[nsc - 1]
        while True:
            i = path[j]
            row4col[j] = i
            tmp = col4row[i]
            col4row[i] = j
            j = tmp
            if i == cur:
                break
    for i in range(n):
        perm[i] = col4row[i]
