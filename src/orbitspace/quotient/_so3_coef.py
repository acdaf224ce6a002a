"""Compiled ``c_0`` and ``C_l`` of indexed pairs (numba; loaded on the first solve).

The same sums as :func:`orbitspace.quotient.so3.so3_coefficients` (its numpy twin), read
straight from ``X[rows]`` and ``Y[cols]`` without gathering the rows first.
"""

from __future__ import annotations

from numba import njit

__all__ = ["pair_products"]


@njit(cache=True, nogil=True)
def pair_products(X, Y, rows, cols, idx, sign, out):  # pragma: no cover - compiled
    """``out[p] = Σ_c sign[c] X[rows[p], idx[c]]ᵀ Y[cols[p], idx[c]]``.

    X (n_x, dim), Y (n_y, dim), rows and cols (P,), idx (mult, k) int, sign (mult,),
    out (P, k, k) (overwritten).  With ``k = 1`` and the scalar indices this is ``c_0``.
    """
    k = idx.shape[1]
    for p in range(rows.shape[0]):
        i, j = rows[p], cols[p]
        for a in range(k):
            for b in range(k):
                out[p, a, b] = 0.0
        for c in range(idx.shape[0]):
            s = sign[c]
            for a in range(k):
                xa = s * X[i, idx[c, a]]
                for b in range(k):
                    out[p, a, b] += xa * Y[j, idx[c, b]]
