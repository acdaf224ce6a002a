"""Fast exact solvers for ``max_g <X, ρ(g) Y>``, looked up per action type in the solver
registry (:mod:`._registry`; numpy in, numpy out).

- :class:`~orbitspace.groups.SO2`: certified maximum of a trigonometric polynomial, the
  coefficients of each pair formed inside the compiled loop (:mod:`.so2`);
- :class:`~orbitspace.groups.Cyclic`: all N elements at once through the Fourier coefficients
  (:mod:`.finite`); :class:`~orbitspace.groups.FiniteGroup`: enumeration, G dot products a pair;
- :class:`~orbitspace.groups.Permutation`: a compiled batched linear assignment, sorting when
  d = 1 (:mod:`.assignment`).

Every solver works on an explicit list of pairs (row indices into X and Y, one compiled loop),
so the three entry points share it: broadcasting batches (:func:`max_inner_product_fast`), all
pairs of two sets (:func:`max_inner_product_pairwise`) and a list of pairs
(:func:`max_inner_product_pairs`).  Every one agrees with :mod:`.exhaustive` (tested).

An action type may also register a **grid** (:func:`register_grid`): ``fn(Y, action)``
returns an object holding the y side of all-pairs problems against ``Y`` with methods
``max_inner(X) -> (value, g)`` (shape (n, m) each) and ``distances(X, col_start) -> (n, m −
col_start)`` (exact, small distances recomputed directly), or None where it does not apply;
:func:`max_inner_product_pairwise` and the pairwise distances then use it instead of listing
the n·m pairs (Cyclic with even N <= 8: :mod:`._cyclic_grid`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from orbitspace.groups import Action
from orbitspace.quotient._registry import PairSolution, find_grid, find_solver, register_grid

__all__ = [
    "find_grid",
    "register_grid",
    "max_inner_product_fast",
    "max_inner_product_pairwise",
    "max_inner_product_pairs",
    "solve_pairs",
]


def _event_shape(action: Action, Z: np.ndarray) -> tuple[int, ...]:
    return Z.shape[-action.event_ndim :]


def max_inner_product_fast(X: np.ndarray, Y: np.ndarray, action: Action) -> tuple[np.ndarray, Any]:
    """``max_g <X, ρ(g) Y>`` and a maximiser over broadcast batch dimensions.

    Parameters
    ----------
    X, Y : arrays of shape (..., dim) or (..., n_nodes, d); batch dims broadcast

    Returns
    -------
    value : array of the broadcast batch shape
    g : group elements of the batch shape (Permutation: shape batch + (n_nodes,))
    """
    e = action.event_ndim
    bx, by = X.shape[:-e], Y.shape[:-e]
    batch = np.broadcast_shapes(bx, by)
    nx, ny = int(np.prod(bx, dtype=np.int64)), int(np.prod(by, dtype=np.int64))
    rows = np.broadcast_to(np.arange(nx).reshape(bx), batch).ravel()
    cols = np.broadcast_to(np.arange(ny).reshape(by), batch).ravel()
    Xf = X.reshape((nx,) + _event_shape(action, X))
    Yf = Y.reshape((ny,) + _event_shape(action, Y))
    value, g = max_inner_product_pairs(Xf, Yf, rows, cols, action)
    return value.reshape(batch), g.reshape(batch + g.shape[1:])


def max_inner_product_pairs(
    X: np.ndarray, Y: np.ndarray, rows: np.ndarray, cols: np.ndarray, action: Action
) -> tuple[np.ndarray, np.ndarray]:
    """``max_g <X[rows[q]], ρ(g) Y[cols[q]]>`` for every pair ``q``.

    Parameters
    ----------
    X : array of shape (n_x, ...event)
    Y : array of shape (n_y, ...event)
    rows, cols : int arrays of shape (n_pairs,)

    Returns
    -------
    value : array of shape (n_pairs,)
    g : group elements, shape (n_pairs,) or (n_pairs, n_nodes) for Permutation
    """
    sol = solve_pairs(X, Y, rows, cols, action)
    return sol.value, sol.g


def solve_pairs(
    X: np.ndarray, Y: np.ndarray, rows: np.ndarray, cols: np.ndarray, action: Action, **options
) -> PairSolution:
    """Like :func:`max_inner_product_pairs`, with the solver's certificate (a PairSolution)."""
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    return find_solver(action).solve(X, Y, rows, cols, action, **options)


def max_inner_product_pairwise(
    X: np.ndarray, Y: np.ndarray, action: Action
) -> tuple[np.ndarray, np.ndarray]:
    """All pairs of rows: ``value[i, j] = max_g <X[i], ρ(g) Y[j]>`` and the maximisers.

    Parameters
    ----------
    X : array of shape (n, ...event)
    Y : array of shape (m, ...event)

    Returns
    -------
    value : array of shape (n, m)
    g : group elements of shape (n, m) (Permutation: (n, m, n_nodes))
    """
    n, m = X.shape[0], Y.shape[0]
    grid = find_grid(action, Y) if n and m else None
    if grid is not None:
        return grid.max_inner(X)
    rows = np.repeat(np.arange(n), m)
    cols = np.tile(np.arange(m), n)
    value, g = max_inner_product_pairs(X, Y, rows, cols, action)
    return value.reshape(n, m), g.reshape((n, m) + g.shape[1:])
