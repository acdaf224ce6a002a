"""All-pairs quotient distances and exact nearest neighbours under the quotient metric.

``pairwise_quotient_distances`` solves the group maximisation for blocks of pairs at once (one
compiled call or a few matrix products per block; threads with ``n_jobs``) and turns the value
into a distance, recomputing directly the small distances where the expanded formula loses
digits.  ``quotient_knn`` prunes candidates with an invariant lower bound of d
(:func:`orbitspace.quotient.pruning.lower_bound_features`, registered per action type) and
stays exact.  Solvers and oracles come from the registry (:mod:`orbitspace.quotient._registry`);
nothing here asks which class an action is.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from orbitspace._array import ArrayLike, like
from orbitspace.groups import Action, parse_action
from orbitspace.quotient._api import SMALL, _apply_node_masks, _norm, check_method
from orbitspace.quotient._registry import find_grid, find_solver
from orbitspace.quotient.exhaustive import max_inner_product_exhaustive

__all__ = ["pairwise_quotient_distances", "quotient_knn"]


def pairwise_quotient_distances(
    X: ArrayLike,
    Y: ArrayLike | None = None,
    *,
    action: Action | str,
    method: str = "auto",
    batch_size: int = 16384,
    progress: bool = False,
    x_mask: Any = None,
    y_mask: Any = None,
    n_jobs: int | None = None,
) -> ArrayLike:
    """The (N, M) matrix of quotient distances between rows of ``X`` and of ``Y`` (default X).

    Parameters
    ----------
    X : array of shape (N, ...event): (N, dim), or (N, n_nodes, d) for node actions
    Y : array of shape (M, ...) like X, or None for ``Y = X``
    action : Action or its repr string
    method : "auto" (the registered fast solver) or "exhaustive" (slow oracle)
    batch_size : pairs processed at a time (memory stays bounded)
    progress : show a progress bar
    x_mask, y_mask : node masks of shape (N, n_nodes) / (M, n_nodes) for node actions
    n_jobs : threads solving blocks of pairs at once (None: 1; -1: every CPU core).  The
        compiled solvers release the GIL, so threads run in parallel.

    Returns
    -------
    array of shape (N, M); with ``Y=None`` it is symmetric with a zero diagonal.

    Notes
    -----
    Distances come from ``‖x‖² + ‖y‖² − 2 max_g <x, ρ(g)y>``; those small against the norms
    (where that formula loses digits) are recomputed directly as ``‖x − ρ(g*) y‖``.  Where
    the action registers an all-pairs grid (:func:`orbitspace.quotient.register_grid`;
    Cyclic with even N <= 8) its compiled pass writes each block of rows into the output and
    marks those pairs itself, so only they are recomputed.
    """
    from orbitspace._array import requires_grad

    action = parse_action(action)
    if requires_grad(X) or requires_grad(Y):  # torch, with gradients (envelope theorem)
        from orbitspace.quotient._torch import pairwise_distances_torch

        return pairwise_distances_torch(
            X, Y, action=action, x_mask=x_mask, y_mask=y_mask, batch_size=batch_size
        )
    Xn, Yn, same = _flat_batches(X, Y, action, "pairwise distances", x_mask, y_mask)
    if same and y_mask is not None:
        raise ValueError("y_mask is given but Y is None; pass the mask of X as x_mask")
    if check_method(method) == "auto":
        find_solver(action)  # no solver: a ValueError naming the action, before any work
    if (
        isinstance(batch_size, bool)
        or not isinstance(batch_size, (int, np.integer))
        or batch_size < 1
    ):
        raise ValueError(f"batch_size must be a positive int; received {batch_size!r}")
    n_threads = _check_n_jobs(n_jobs)
    N, M = Xn.shape[0], Yn.shape[0]
    axes = tuple(range(-action.event_ndim, 0))
    sqx, sqy = (Xn**2).sum(axes), (Yn**2).sum(axes)
    out = np.zeros((N, M))
    pairs_per_block = int(batch_size)
    if method == "exhaustive":  # the oracle holds one value per group element (or angle) a pair
        pairs_per_block = min(pairs_per_block, max(1, 2**23 // _oracle_width(action)))
    # a registered grid holds the y side once and needs no per-pair memory: larger blocks
    grid = find_grid(action, Yn) if method == "auto" and N and M else None
    if grid is not None:
        pairs_per_block = max(pairs_per_block, GRID_BLOCK_PAIRS)
    rows_per = max(1, pairs_per_block // max(M, 1))
    if grid is not None and n_threads > 1:  # every thread gets a few blocks
        rows_per = max(1, min(rows_per, -(-N // (4 * n_threads))))
    starts = range(0, N, rows_per)

    def block(s):
        e = min(N, s + rows_per)
        c0 = s if same else 0  # with Y = X only the upper triangle is solved
        if grid is not None:  # written into out in place
            return s, e, c0, grid.distances(Xn[s:e], c0, out=out, row0=s)
        return s, e, c0, _block_distances(Xn[s:e], Yn[c0:], sqx[s:e], sqy[c0:], action, method)

    if n_threads > 1 and len(starts) > 1:
        from concurrent.futures import ThreadPoolExecutor

        pool = ThreadPoolExecutor(max_workers=n_threads)
        results = pool.map(block, starts)
    else:
        pool, results = None, map(block, starts)
    if progress:
        from orbitspace._progress import progress_bar

        results = progress_bar(results, total=len(starts), desc="pairwise distances")
    try:
        for s, e, c0, dist in results:
            if dist is not out:
                out[s:e, c0:] = dist
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    if same:
        upper = np.triu(out, 1)
        out = upper + upper.T
    return like(out, X)


#: pairs a block holds when the action registers a grid (register_grid)
GRID_BLOCK_PAIRS = 2**18

#: values per pair assumed for the oracle of an infinite group not given by its irreps
DEFAULT_ORACLE_WIDTH = 4096


def _oracle_width(action):
    """Values the exhaustive oracle holds per pair: the group order for finite groups, the
    angle grid (>= 64 points per period of the top degree, at least 720) for infinite groups
    given by their irreps, :data:`DEFAULT_ORACLE_WIDTH` otherwise."""
    if action.is_finite:
        return int(min(action.order, 2**23))
    if action.has_components():
        top = max((c.irrep.degree or 0 for c in action.components()), default=0)
        return max(720, 64 * max(top, 1))
    return DEFAULT_ORACLE_WIDTH


def _check_n_jobs(n_jobs):
    if n_jobs is None:
        return 1
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or n_jobs == 0:
        raise ValueError(f"n_jobs must be None, -1 or a positive int; received {n_jobs!r}")
    if n_jobs < 0:
        import os

        return max(1, (os.cpu_count() or 1) + 1 + int(n_jobs))
    return int(n_jobs)


def _block_distances(Xb, Yb, sqx, sqy, action, method):
    """Distances between all rows of Xb and Yb; small ones recomputed directly."""
    from orbitspace.quotient import solvers

    if method == "exhaustive":
        value, g = max_inner_product_exhaustive(Xb[:, None], Yb[None], action)
    else:
        value, g = solvers.max_inner_product_pairwise(Xb, Yb, action)
    norms = sqx[:, None] + sqy[None, :]
    sq = norms - 2 * value
    dist = np.sqrt(np.maximum(sq, 0.0))
    # the formula loses ~sqrt(eps)·‖·‖ near zero: recompute those pairs as ‖x − ρ(g*) y‖
    i, j = np.nonzero(sq <= SMALL * norms)
    if i.size and dist.size:
        aligned = np.asarray(action.act(g[i, j], Yb[j]))
        dist[i, j] = _norm(Xb[i] - aligned, action)
    return dist


def quotient_knn(
    X: ArrayLike,
    k: int,
    *,
    action: Action | str,
    Y: ArrayLike | None = None,
    method: str = "auto",
    progress: bool = False,
) -> tuple[ArrayLike, np.ndarray]:
    """The ``k`` nearest rows of ``Y`` (default: of ``X``, excluding each point itself) under d.

    Exact.  With ``method="auto"`` the invariant 1-Lipschitz lower bound registered for the
    action (block norms and Fourier moduli for the planar groups, channel sorting for
    permutations, the norm ``‖x‖`` for any other action) prunes the candidates: the alignment
    is solved only for pairs whose lower bound does not exceed the current k-th distance.

    Parameters
    ----------
    X : array of shape (N, ...event): (N, dim), or (N, n_nodes, d) for node actions
    k : number of neighbours
    action : Action or its repr string
    Y : array of shape (M, ...) like X, or None to search X itself (each point excluded)
    method : "auto" or "exhaustive"
    progress : a progress bar over the query blocks (method="auto")

    Returns
    -------
    distances : array of shape (N, k), ascending (ties broken by index)
    indices : int array of shape (N, k)

    Examples
    --------
    >>> import numpy as np
    >>> from orbitspace.groups import SO2
    >>> X = np.array([[1.0, 0.0], [0.0, 2.0], [0.0, 1.0]])
    >>> dist, idx = quotient_knn(X, 1, action=SO2("1x1"))  # ties broken by index
    >>> idx.ravel().tolist(), dist.ravel().round(6).tolist()
    ([2, 0, 0], [0.0, 1.0, 0.0])
    """
    action = parse_action(action)
    Xn, Yn, same = _flat_batches(X, Y, action, "quotient_knn")
    check_method(method)
    available = Yn.shape[0] - (1 if same else 0)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= available:
        raise ValueError(f"k must be an int in 1..{available}; received {k!r}")
    if method == "auto":  # filter and refine with no N x N array (quotient/knn.py)
        from orbitspace.quotient.knn import exact_knn

        find_solver(action)  # no solver: a ValueError naming the action, before any work
        dist, idx = exact_knn(Xn, int(k), action=action, Y=None if same else Yn, progress=progress)
        return like(dist, X), idx
    D = np.asarray(
        like(
            pairwise_quotient_distances(Xn, None if same else Yn, action=action, method=method),
            np.zeros(0),
        )
    )
    if same:
        np.fill_diagonal(D, np.inf)
    idx = np.argsort(D, axis=1, kind="stable")[:, :k]
    return like(np.take_along_axis(D, idx, 1), X), idx


#: pairs handed to the solver at once by the k-NN search (bounds enumeration's temporaries)
PAIR_CHUNK = 2**14


def _flat_batches(X, Y, action, what, x_mask=None, y_mask=None):
    """Checked ``(N, ...event)`` / ``(M, ...event)`` arrays (``Y`` is ``X`` when None), masks
    applied for node actions; returns ``(Xn, Yn, same)``."""
    Xn = action.check_latents(X, "X")
    same = Y is None
    Yn = Xn if same else action.check_latents(Y, "Y")
    if Xn.ndim != action.event_ndim + 1 or Yn.ndim != action.event_ndim + 1:
        raise ValueError(
            f"{what}: X and Y must be flat batches of shape (N, ...event); "
            f"received X.shape {Xn.shape} and Y.shape {Yn.shape}"
        )
    Xn, Yn = _apply_node_masks(Xn, Yn, action, x_mask, y_mask, same=same)
    return Xn, Yn, same
