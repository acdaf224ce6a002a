"""Exact nearest neighbours under the quotient metric that scale: filter and refine.

No N × N array is ever formed.  For a block of queries:

1. **filter** — a lower bound of ``d`` for whole blocks of pairs by matrix products
   (:func:`orbitspace.quotient._knn_bounds.pair_bound`: the component relaxation for actions
   given as a sum of irreps, else the registered 1-Lipschitz features of
   :func:`~orbitspace.quotient.pruning.lower_bound_features`), restricted by a cell index
   over those features (:class:`~orbitspace.quotient._knn_index.CellIndex`) to the cells that
   can hold a point within the current k-th distance;
2. **refine** — the exact solver (:func:`~orbitspace.quotient.solvers.max_inner_product_pairs`,
   one compiled call per batch of pairs) on the candidates in increasing lower-bound order, in
   rounds of growing size, with early abandoning: a query stops as soon as its next lower
   bound exceeds its current k-th exact distance.

The result is the brute-force one (pairwise distances + stable sort): distances ascending, ties
broken by index.  Memory is O(N·k) plus one block of ``block_size`` lower bounds.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from orbitspace._array import ArrayLike, like
from orbitspace.groups import Action, parse_action
from orbitspace.quotient._api import SMALL, _norm
from orbitspace.quotient._knn_bounds import pair_bound
from orbitspace.quotient._knn_index import CellIndex
from orbitspace.quotient.pruning import lower_bound_features

__all__ = ["exact_knn", "radius_neighbors", "knn_graph", "precomputed_knn"]

_QUERY_CHUNK = 256


class _Search:
    """Everything one search shares across query chunks (read-only once built)."""

    def __init__(self, Xn, Yn, same, action, block_size):
        self.Xn, self.Yn, self.same, self.action = Xn, Yn, same, action
        self.block = int(block_size)
        axes = tuple(range(-action.event_ndim, 0))
        self.sqx = (Xn**2).sum(axes)
        self.sqy = self.sqx if same else (Yn**2).sum(axes)
        self.bound = pair_bound(action)
        self.Py = self.bound.prepare(Yn)
        self.Fy = np.ascontiguousarray(lower_bound_features(action, Yn), dtype=float)
        self.Fx = self.Fy if same else np.ascontiguousarray(lower_bound_features(action, Xn))
        self.index = CellIndex(self.Fy)
        self.label = self.index.label if same else self.index.assign(self.Fx)
        self.tol = 1e-9 * (np.sqrt(self.sqx) + np.sqrt(self.sqy.max(initial=0.0))) + 1e-12

    def chunks(self):
        """Query blocks: the queries of one cell (at most ``_QUERY_CHUNK`` at a time)."""
        order = np.argsort(self.label, kind="stable")
        cuts = np.searchsorted(self.label[order], np.arange(self.index.n_cells + 1))
        out = []
        for c in range(self.index.n_cells):
            for s in range(cuts[c], cuts[c + 1], _QUERY_CHUNK):
                out.append(order[s : min(cuts[c + 1], s + _QUERY_CHUNK)])
        return out

    def prepared(self, rows):
        return _take(self.Py, rows)

    def lower(self, qi, cols, cap=None):
        """Lower bounds ``(len(qi), len(cols))`` (inf above ``cap``); self pairs inf when Y is X."""
        L = self.bound.lower(self.Pq_of(qi), self.prepared(cols), cap)
        if self.same:
            pos = np.searchsorted(cols, qi)
            hit = (pos < cols.size) & (cols[np.minimum(pos, cols.size - 1)] == qi)
            L[np.nonzero(hit)[0], pos[hit]] = np.inf
        return L

    def Pq_of(self, qi):
        return _take(self.Py, qi) if self.same else self.bound.prepare(self.Xn[qi])

    def distances(self, rows, cols):
        """Exact ``d(X[rows[q]], Y[cols[q]])``, small ones recomputed directly."""
        from orbitspace.quotient.solvers import max_inner_product_pairs

        if rows.size == 0:
            return np.zeros(0)
        # solvers may prepare every row they are given: pass only the rows these pairs use
        ur, r_local = np.unique(rows, return_inverse=True)
        uc, c_local = np.unique(cols, return_inverse=True)
        value, g = max_inner_product_pairs(self.Xn[ur], self.Yn[uc], r_local, c_local, self.action)
        norms = self.sqx[rows] + self.sqy[cols]
        sq = norms - 2 * value
        dist = np.sqrt(np.maximum(sq, 0.0))
        small = np.nonzero(sq <= SMALL * norms)[0]
        if small.size:
            aligned = np.asarray(self.action.act(g[small], self.Yn[cols[small]]))
            dist[small] = _norm(self.Xn[rows[small]] - aligned, self.action)
        return dist


def _take(P, rows):
    """Rows of prepared bound arrays ``(sq, packed, pieces, refl)``."""
    return (P[0][rows], P[1][rows], P[2], P[3])


def _merge(best_d, best_i, rr, ids, dist, b, sentinel):
    """Merge new (row, id, distance) triples (rows ascending) into the sorted top-k rows."""
    k = best_d.shape[1]
    counts = np.bincount(rr, minlength=b)
    width = int(counts.max(initial=0))
    if width == 0:
        return best_d, best_i
    offset = np.arange(rr.size) - np.repeat(np.cumsum(counts) - counts, counts)
    new_d = np.full((b, width), np.inf)
    new_i = np.full((b, width), sentinel, dtype=np.int64)
    new_d[rr, offset] = dist
    new_i[rr, offset] = ids
    cat_d = np.concatenate([best_d, new_d], axis=1)
    cat_i = np.concatenate([best_i, new_i], axis=1)
    order = np.lexsort((cat_i, cat_d), axis=1)[:, :k]
    return np.take_along_axis(cat_d, order, 1), np.take_along_axis(cat_i, order, 1)


def _ranges(start, take):
    """Concatenated ``arange(start[i], start[i] + take[i])`` and the row of each entry."""
    rows = np.repeat(np.arange(start.size), take)
    base = np.repeat(start - (np.cumsum(take) - take), take)
    return rows, base + np.arange(rows.size)


def _knn_chunk(ctx: _Search, qi: np.ndarray, k: int):
    """The exact k nearest neighbours of the queries ``qi``: (distances, indices) (b, k)."""
    b, M = qi.size, ctx.Yn.shape[0]
    k0 = min(M - int(ctx.same), 2 * k + 8)
    Fq = ctx.Fx[qi]
    # 1. a first guess of the k-th distance: the k0 best lower bounds among nearby cells
    init = ctx.index.nearby(Fq, k0 + int(ctx.same))
    L0 = ctx.lower(qi, init)
    part = np.argpartition(L0, k0 - 1, axis=1)[:, :k0] if k0 < init.size else None
    first = init[part] if part is not None else np.broadcast_to(init, (b, init.size))
    if ctx.same:  # with few points the self pair can be among them: keep it out
        first = np.where(first == qi[:, None], -1, first)
    rr, cc = np.nonzero(first >= 0)
    ids = first[rr, cc]
    best_d = np.full((b, k), np.inf)
    best_i = np.full((b, k), M, dtype=np.int64)
    best_d, best_i = _merge(best_d, best_i, rr, ids, ctx.distances(qi[rr], ids), b, M)
    done = np.where(first >= 0, first, M)
    # 2. every cell that can hold a point within the k-th distance; blocks of bounded size
    cell_lower = ctx.index.cell_lower(Fq)
    S_all = ctx.index.within(cell_lower, best_d[:, -1] + ctx.tol[qi])
    step = max(1, ctx.block // max(S_all.size, 1))
    for s in range(0, b, step):
        sub = slice(s, min(b, s + step))
        S = (
            S_all
            if step >= b
            else ctx.index.within(cell_lower[sub], best_d[sub, -1] + ctx.tol[qi[sub]])
        )
        best_d[sub], best_i[sub] = _refine(ctx, qi[sub], S, best_d[sub], best_i[sub], done[sub], k0)
    return best_d, best_i


def _refine(ctx, qi, S, best_d, best_i, done, chunk):
    """Rounds of exact solves in increasing lower-bound order, with early abandoning."""
    b, M = qi.size, ctx.Yn.shape[0]
    if S.size == 0:
        return best_d, best_i
    tol = ctx.tol[qi]
    L = ctx.lower(qi, S, best_d[:, -1] + tol)
    pos = np.minimum(np.searchsorted(S, done), S.size - 1)
    hit = S[pos] == done
    L[np.nonzero(hit)[0], pos[hit]] = np.inf  # already solved
    # first round: the `chunk` best bounds of every query, to tighten the k-th distance
    if chunk < S.size:
        first = np.argpartition(L, chunk - 1, axis=1)[:, :chunk]
        rows = np.repeat(np.arange(b), chunk)
        cols = first.ravel()
        ok = L[rows, cols] <= (best_d[rows, -1] + tol[rows])
        rows, cols = rows[ok], cols[ok]
        L[rows, cols] = np.inf
        ids = S[cols]
        best_d, best_i = _merge(best_d, best_i, rows, ids, ctx.distances(qi[rows], ids), b, M)
        chunk *= 2
    r, c = np.nonzero(L <= (best_d[:, -1] + tol)[:, None])
    vals = L[r, c]
    del L
    order = np.argsort(vals)  # by bound (equal bounds in any order), then stably by row
    order = order[np.argsort(r[order].astype(np.int32), kind="stable")]
    r, c, vals = r[order], c[order], vals[order]
    ptr = np.searchsorted(r, np.arange(b))
    end = np.searchsorted(r, np.arange(b), side="right")
    while True:
        thr = best_d[:, -1] + tol
        nxt = vals[np.minimum(ptr, max(vals.size - 1, 0))] if vals.size else np.zeros(b)
        active = (ptr < end) & (nxt <= thr)
        if not active.any():
            return best_d, best_i
        take = np.where(active, np.minimum(end - ptr, chunk), 0)
        rows, p = _ranges(ptr, take)
        keep = vals[p] <= thr[rows]
        rows, p = rows[keep], p[keep]
        ptr = ptr + take
        ids = S[c[p]]
        best_d, best_i = _merge(best_d, best_i, rows, ids, ctx.distances(qi[rows], ids), b, M)
        chunk *= 2


def _check(X, Y, action, what):
    """The action parsed and the flat ``(N, ...event)`` batches checked, as for all pairs."""
    from orbitspace.quotient.pairwise import _flat_batches

    action = parse_action(action)
    Xn, Yn, same = _flat_batches(X, Y, action, what)
    return action, Xn, Yn, same


def _check_options(block_size, n_jobs):
    if block_size is None:
        block_size = 2**22
    if (
        isinstance(block_size, bool)
        or not isinstance(block_size, (int, np.integer))
        or block_size < 1
    ):
        raise ValueError(f"block_size must be None or a positive int; received {block_size!r}")
    if n_jobs is None:
        return int(block_size), 1
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or n_jobs == 0:
        raise ValueError(f"n_jobs must be None, -1 or a positive int; received {n_jobs!r}")
    if n_jobs < 0:
        import os

        n_jobs = max(1, (os.cpu_count() or 1) + 1 + int(n_jobs))
    return int(block_size), int(n_jobs)


def _run(chunks, work, n_jobs, progress, desc):
    """``work(chunk)`` for every chunk (threads when n_jobs > 1), with a progress bar."""
    if n_jobs > 1 and len(chunks) > 1:
        from concurrent.futures import ThreadPoolExecutor

        pool = ThreadPoolExecutor(max_workers=n_jobs)
        results = pool.map(work, chunks)
    else:
        pool, results = None, map(work, chunks)
    if progress:
        from orbitspace._progress import progress_bar

        results = progress_bar(results, total=len(chunks), desc=desc)
    try:
        yield from zip(chunks, results)
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def exact_knn(
    X: ArrayLike,
    k: int,
    *,
    action: Action | str,
    Y: ArrayLike | None = None,
    block_size: int | None = None,
    progress: bool = False,
    n_jobs: int | None = 1,
) -> tuple[ArrayLike, np.ndarray]:
    """The ``k`` nearest rows of ``Y`` (default: of ``X``, each point excluded) under d, exactly.

    Filter and refine (module docstring): equal to brute force
    (:func:`~orbitspace.quotient.pairwise_quotient_distances` + a stable sort) but with no
    N × M array, so it runs on 10⁵–10⁶ codes.

    Parameters
    ----------
    X : array of shape (N, dim) or (N, n_nodes, d) for node actions
    k : number of neighbours
    action : Action or its repr string
    Y : array of shape (M, ...) like X, or None to search X itself (each point excluded)
    block_size : at most this many lower bounds are held at once (default 2**22)
    progress : show a progress bar over query blocks
    n_jobs : threads over query blocks (None or 1: one; -1: every core)

    Returns
    -------
    distances : array of shape (N, k), ascending (ties broken by index)
    indices : int array of shape (N, k)

    Examples
    --------
    >>> import numpy as np
    >>> from orbitspace.groups import SO2
    >>> X = np.array([[1.0, 0.0], [0.0, 2.0], [0.0, 1.0]])
    >>> dist, idx = exact_knn(X, 1, action=SO2("1x1"))  # ties broken by index
    >>> idx.ravel().tolist(), dist.ravel().round(6).tolist()
    ([2, 0, 0], [0.0, 1.0, 0.0])
    """
    action, Xn, Yn, same = _check(X, Y, action, "exact_knn")
    available = Yn.shape[0] - (1 if same else 0)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= available:
        raise ValueError(f"k must be an int in 1..{available}; received {k!r}")
    block, n_jobs = _check_options(block_size, n_jobs)
    ctx = _Search(Xn, Yn, same, action, block)
    N = Xn.shape[0]
    out_d = np.empty((N, int(k)))
    out_i = np.empty((N, int(k)), dtype=np.int64)
    for qi, (d, i) in _run(
        ctx.chunks(), lambda q: _knn_chunk(ctx, q, int(k)), n_jobs, progress, "exact k-NN"
    ):
        out_d[qi], out_i[qi] = d, i
    return like(out_d, X), out_i


def radius_neighbors(
    X: ArrayLike,
    radius: float,
    *,
    action: Action | str,
    Y: ArrayLike | None = None,
    block_size: int | None = None,
    progress: bool = False,
    n_jobs: int | None = 1,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Every row of ``Y`` (default ``X``, each point excluded) within quotient distance ``radius``.

    Parameters
    ----------
    X : array of shape (N, dim) or (N, n_nodes, d)
    radius : float >= 0; rows with ``d <= radius`` are returned
    action, Y, block_size, progress, n_jobs : as in :func:`exact_knn`

    Returns
    -------
    list of N pairs ``(indices, distances)``, each sorted by distance (ties by index)

    Examples
    --------
    >>> import numpy as np
    >>> from orbitspace.groups import SO2
    >>> X = np.array([[1.0, 0.0], [0.0, 2.0], [0.0, 1.0]])
    >>> [i.tolist() for i, _ in radius_neighbors(X, 0.5, action=SO2("1x1"))]
    [[2], [], [0]]
    """
    action, Xn, Yn, same = _check(X, Y, action, "radius_neighbors")
    if isinstance(radius, bool) or not np.isscalar(radius) or not np.isfinite(radius) or radius < 0:
        raise ValueError(f"radius must be a finite number >= 0; received {radius!r}")
    block, n_jobs = _check_options(block_size, n_jobs)
    ctx = _Search(Xn, Yn, same, action, block)
    out: list = [None] * Xn.shape[0]

    def work(qi):
        found = []
        cell_lower = ctx.index.cell_lower(ctx.Fx[qi])
        S_all = ctx.index.within(cell_lower, radius + ctx.tol[qi])
        step = max(1, ctx.block // max(S_all.size, 1))
        for s in range(0, qi.size, step):
            q = qi[s : s + step]
            S = (
                S_all
                if step >= qi.size
                else ctx.index.within(cell_lower[s : s + step], radius + ctx.tol[q])
            )
            if S.size == 0:
                found.append((np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)))
                continue
            cap = radius + ctx.tol[q]
            r, c = np.nonzero(ctx.lower(q, S, cap) <= cap[:, None])
            d = ctx.distances(q[r], S[c])
            keep = d <= radius
            found.append((s + r[keep], S[c[keep]], d[keep]))
        return tuple(np.concatenate(parts) for parts in zip(*found))

    for qi, (r, ids, d) in _run(ctx.chunks(), work, n_jobs, progress, "radius neighbours"):
        order = np.lexsort((ids, d, r))
        r, ids, d = r[order], ids[order], d[order]
        cuts = np.searchsorted(r, np.arange(qi.size + 1))
        for j, q in enumerate(qi):
            out[q] = (ids[cuts[j] : cuts[j + 1]], d[cuts[j] : cuts[j + 1]])
    return out


def knn_graph(X: ArrayLike, k: int, *, action: Action | str, **options: Any) -> Any:
    """The exact quotient k-NN graph of ``X``: a ``scipy.sparse.csr_matrix`` of distances.

    Row i holds the distances to the ``k`` nearest other rows (explicit zeros kept for
    duplicate orbits), the format of scikit-learn's ``KNeighborsTransformer(mode="distance")``:
    pass it to ``sklearn.manifold.TSNE(metric="precomputed", init="random")`` or
    ``umap.UMAP(metric="precomputed")``.  For umap-learn's ``precomputed_knn`` and openTSNE's
    ``PrecomputedNeighbors`` use :func:`precomputed_knn`.

    Parameters
    ----------
    X : array of shape (N, dim) or (N, n_nodes, d)
    k : neighbours per row
    action : Action or its repr string
    **options : block_size, progress, n_jobs of :func:`exact_knn`

    Returns
    -------
    scipy.sparse.csr_matrix of shape (N, N) with N·k stored entries

    Examples
    --------
    >>> import numpy as np
    >>> from orbitspace.groups import SO2
    >>> G = knn_graph(np.array([[1.0, 0.0], [0.0, 2.0], [0.0, 1.0]]), 1, action=SO2("1x1"))
    >>> G.shape, G.nnz, G[1].indices.tolist()
    ((3, 3), 3, [0])
    """
    from scipy.sparse import csr_matrix

    dist, idx = exact_knn(X, k, action=action, **options)
    dist = np.asarray(like(dist, np.zeros(0)))
    N = idx.shape[0]
    return csr_matrix((dist.ravel(), idx.ravel(), np.arange(0, N * k + 1, k)), shape=(N, N))


def precomputed_knn(
    X: ArrayLike, n_neighbors: int, *, action: Action | str, **options: Any
) -> tuple[np.ndarray, np.ndarray]:
    """``(indices, distances)`` of shape (N, n_neighbors), each row's first entry the point
    itself (distance 0), then its ``n_neighbors − 1`` exact quotient nearest neighbours.

    The format of umap-learn's ``UMAP(n_neighbors=n_neighbors, precomputed_knn=(indices,
    distances))`` and of openTSNE's
    ``affinity.PerplexityBasedNN(knn_index=nearest_neighbors.PrecomputedNeighbors(indices,
    distances))`` (there drop the first column), so that 2-D maps use the quotient neighbours.

    Examples
    --------
    >>> import numpy as np
    >>> from orbitspace.groups import SO2
    >>> X = np.array([[1.0, 0.0], [0.0, 2.0], [0.0, 1.0]])
    >>> idx, dist = precomputed_knn(X, 2, action=SO2("1x1"))
    >>> idx.tolist(), dist.round(6).tolist()
    ([[0, 2], [1, 0], [2, 0]], [[0.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    """
    if (
        isinstance(n_neighbors, bool)
        or not isinstance(n_neighbors, (int, np.integer))
        or n_neighbors < 2
    ):
        raise ValueError(f"n_neighbors must be an int >= 2; received {n_neighbors!r}")
    dist, idx = exact_knn(X, int(n_neighbors) - 1, action=action, **options)
    dist = np.asarray(like(dist, np.zeros(0)))
    N = idx.shape[0]
    self_col = np.arange(N)[:, None]
    return np.hstack([self_col, idx]), np.hstack([np.zeros((N, 1)), dist])
