"""Fast exact solvers for ``max_g <X, ρ(g) Y>``, chosen per action (numpy in, numpy out).

- :class:`~orbitspace.groups.SO2`: certified maximum of a trigonometric polynomial, the
  coefficients of each pair formed inside the compiled loop (:mod:`.so2`);
- :class:`~orbitspace.groups.Cyclic`: all N elements at once through the Fourier coefficients
  (:mod:`.finite`); :class:`~orbitspace.groups.FiniteGroup`: enumeration by matrix products;
- :class:`~orbitspace.groups.Permutation`: a compiled batched linear assignment, sorting when
  d = 1 (:mod:`.assignment`).

Three entry points share the per-action code: broadcasting batches
(:func:`max_inner_product_fast`), all pairs of two sets (:func:`max_inner_product_pairwise`) and
an explicit list of pairs (:func:`max_inner_product_pairs`).  Every one agrees with
:mod:`.exhaustive` (tested).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from orbitspace.groups import SO2, Action, Cyclic, FiniteGroup, Permutation
from orbitspace.quotient.exhaustive import max_inner_product_exhaustive

__all__ = ["max_inner_product_fast", "max_inner_product_pairwise", "max_inner_product_pairs"]

#: pairs handled per chunk when coefficients are gathered pair by pair
PAIR_CHUNK = 2**16


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
    if not isinstance(action, (SO2, Cyclic, FiniteGroup, Permutation)):
        return max_inner_product_exhaustive(X, Y, action)  # an action without a fast solver
    e = action.event_ndim
    bx, by = X.shape[:-e], Y.shape[:-e]
    batch = np.broadcast_shapes(bx, by)
    if isinstance(action, Cyclic):
        # Fourier coefficients broadcast directly (one small vector per pair)
        return _cyclic_solve(X, Y, action)
    nx, ny = int(np.prod(bx, dtype=np.int64)), int(np.prod(by, dtype=np.int64))
    rows = np.broadcast_to(np.arange(nx).reshape(bx), batch).ravel()
    cols = np.broadcast_to(np.arange(ny).reshape(by), batch).ravel()
    Xf = X.reshape((nx,) + _event_shape(action, X))
    Yf = Y.reshape((ny,) + _event_shape(action, Y))
    value, g = max_inner_product_pairs(Xf, Yf, rows, cols, action)
    return value.reshape(batch), g.reshape(batch + g.shape[1:])


def _cyclic_solve(X, Y, action):
    from orbitspace.quotient.finite import cyclic_coefficients, cyclic_values

    return cyclic_values(cyclic_coefficients(X, Y, action), action.N)


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
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    if isinstance(action, Permutation):
        from orbitspace.quotient.assignment import assign_pairs

        return assign_pairs(X, Y, rows, cols)
    if isinstance(action, FiniteGroup):
        from orbitspace.quotient.finite import finite_values_pairs

        return finite_values_pairs(X, Y, rows, cols, action)
    if isinstance(action, SO2):
        from orbitspace.quotient.so2 import so2_pairs

        return so2_pairs(X, Y, rows, cols, action.layout, action.max_frequency)
    if not isinstance(action, Cyclic):
        return max_inner_product_exhaustive(X[rows], Y[cols], action)
    value = np.empty(rows.shape[0])
    g = np.empty(rows.shape[0], dtype=np.int64)
    for s in range(0, rows.shape[0], PAIR_CHUNK):
        sl = slice(s, s + PAIR_CHUNK)
        value[sl], g[sl] = _cyclic_solve(X[rows[sl]], Y[cols[sl]], action)
    return value, g


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
    if isinstance(action, Cyclic):
        from orbitspace.quotient.finite import cyclic_pairwise_coefficients, cyclic_values

        return cyclic_values(cyclic_pairwise_coefficients(X, Y, action), action.N)
    if isinstance(action, FiniteGroup):
        from orbitspace.quotient.finite import finite_values_pairwise

        return finite_values_pairwise(X, Y, action)
    rows = np.repeat(np.arange(n), m)
    cols = np.tile(np.arange(m), n)
    value, g = max_inner_product_pairs(X, Y, rows, cols, action)
    return value.reshape(n, m), g.reshape((n, m) + g.shape[1:])
