"""Compiled ``c_0`` and ``C_l`` of indexed pairs, and their singular values (numba; loaded on
the first solve).

The same sums as :func:`orbitspace.quotient.so3.so3_coefficients` (its numpy twin), read
straight from ``X[rows]`` and ``Y[cols]`` without gathering the rows first; the singular values
(the derivative constants of the search) by one-sided Jacobi, ``numpy.linalg.svd`` their twin.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["pair_products", "singular_values"]


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


@njit(cache=True, nogil=True)
def singular_values(C, out):  # pragma: no cover - compiled
    """Singular values of every ``C[p]`` (``(P, k, k)``), descending, into ``out (P, k)``.

    One-sided Jacobi (Hestenes): plane rotations orthogonalise the rows of a copy of ``C[p]``
    (the rotations are orthogonal, so the singular values do not change); the row norms are
    then the singular values, accurate to a few units of rounding times ``σ_1`` (a rotation is
    skipped when its rows are orthogonal to ``1e-15`` relative, or when one of them is at
    rounding level, ``|row|² <= 1e-30 ‖C‖_F²``: rank-deficient ``C``).  ``numpy.linalg.svd``
    is the twin in the tests.  The solver adds its own slack where it needs upper bounds.
    """
    P, k = C.shape[0], C.shape[1]
    U = np.empty((k, k))
    n2 = np.empty(k)
    nrm = np.empty(k)
    for p in range(P):
        top = 0.0
        for i in range(k):
            for j in range(k):
                top = max(top, abs(C[p, i, j]))
        if top == 0.0:
            for i in range(k):
                out[p, i] = 0.0
            continue
        inv = 1.0 / top  # scaled to max |entry| = 1: no under- or overflow in the squares
        for i in range(k):
            s2 = 0.0
            for j in range(k):
                U[i, j] = C[p, i, j] * inv
                s2 += U[i, j] * U[i, j]
            n2[i] = s2
        tiny = 0.0
        for i in range(k):
            tiny += n2[i]
        tiny *= 1e-30
        for _sweep in range(60):
            rotated = False
            for i in range(k - 1):
                for j in range(i + 1, k):
                    al = 0.0
                    be = 0.0
                    ga = 0.0
                    for m in range(k):
                        al += U[i, m] * U[i, m]
                        be += U[j, m] * U[j, m]
                        ga += U[i, m] * U[j, m]
                    if abs(ga) <= 1e-15 * math.sqrt(al * be) or min(al, be) <= tiny:
                        continue  # orthogonal, or a row at rounding level (rank deficiency)
                    rotated = True
                    zeta = (be - al) / (2.0 * ga)
                    t = (1.0 if zeta >= 0.0 else -1.0) / (abs(zeta) + math.sqrt(1.0 + zeta * zeta))
                    c = 1.0 / math.sqrt(1.0 + t * t)
                    s = c * t
                    for m in range(k):
                        ui, uj = U[i, m], U[j, m]
                        U[i, m] = c * ui - s * uj
                        U[j, m] = s * ui + c * uj
            if not rotated:
                break
        for i in range(k):
            s2 = 0.0
            for m in range(k):
                s2 += U[i, m] * U[i, m]
            nrm[i] = math.sqrt(s2) * top
        nrm.sort()
        for i in range(k):
            out[p, i] = nrm[k - 1 - i]
