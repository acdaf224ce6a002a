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
    m, k = idx.shape[0], idx.shape[1]
    xt = np.empty((k, m))
    yt = np.empty((k, m))
    for p in range(rows.shape[0]):
        i, j = rows[p], cols[p]
        # the copies of both rows gathered once, component-major: each entry of out is then
        # one contiguous dot product over the copies
        for c in range(m):
            s = sign[c]
            for a in range(k):
                xt[a, c] = s * X[i, idx[c, a]]
                yt[a, c] = Y[j, idx[c, a]]
        for a in range(k):
            for b in range(k):
                out[p, a, b] = _dot(xt[a], yt[b])


@njit(cache=True, nogil=True, fastmath={"reassoc"})
def _dot(x, y):  # pragma: no cover - compiled
    """``Σ_c x[c] y[c]`` of contiguous vectors; the additions may be reassociated (the only
    fast-math flag: NaN and inf propagate as in a plain loop), so the loop vectorises."""
    acc = 0.0
    for c in range(x.shape[0]):
        acc += x[c] * y[c]
    return acc


#: matrices whose Jacobi sweeps run in lockstep, the lane index innermost (32: 2.5 -> 1.3 us for
#: a 3 x 3 and a 5 x 5 against 8 lanes; the rotations vectorise)
_LANES = 32


@njit(cache=True, nogil=True, error_model="numpy")
def singular_values(C, out):  # pragma: no cover - compiled
    """Singular values of every ``C[p]`` (``(P, k, k)``), descending, into ``out (P, k)``.

    One-sided Jacobi (Hestenes): plane rotations orthogonalise the rows of a copy of ``C[p]``
    (the rotations are orthogonal, so the singular values do not change); the row norms are
    then the singular values, accurate to a few units of rounding times ``σ_1`` (a rotation is
    skipped when its rows are orthogonal to ``1e-15`` relative, or when one of them is at
    rounding level, ``|row|² <= 1e-30 ‖C‖_F²``: rank-deficient ``C``).  ``numpy.linalg.svd``
    is the twin in the tests.  The solver adds its own slack where it needs upper bounds.

    ``_LANES`` matrices are swept together, the lane index innermost (vectorised); a skipped
    rotation is the identity (``c = 1, s = 0``) in its lane, and the sweeps go on until no lane
    rotates, so every matrix gets exactly the rotations of its own sweeps until its own
    convergence (a converged lane is left unchanged by further sweeps): the same arithmetic,
    lane by lane, as sweeping it alone.
    """
    P, k = C.shape[0], C.shape[1]
    B = _LANES
    U = np.empty((k, k, B))
    top = np.empty(B)
    inv = np.empty(B)
    tiny = np.empty(B)
    al = np.empty(B)
    be = np.empty(B)
    ga = np.empty(B)
    cs = np.empty(B)
    sn = np.empty(B)
    rf = np.empty(B)
    nrm = np.empty(k)
    for p0 in range(0, P, B):
        nl = min(B, P - p0)
        for b in range(B):
            t = 0.0
            if b < nl:
                for i in range(k):
                    for j in range(k):
                        t = max(t, abs(C[p0 + b, i, j]))
            top[b] = t
            # scaled to max |entry| = 1: no under- or overflow in the squares
            inv[b] = 1.0 / t if t > 0.0 else 0.0
        for i in range(k):
            for j in range(k):
                for b in range(B):
                    U[i, j, b] = C[p0 + b, i, j] * inv[b] if b < nl else 0.0
        for b in range(B):
            s2 = 0.0
            for i in range(k):
                for j in range(k):
                    s2 += U[i, j, b] * U[i, j, b]
            tiny[b] = s2 * 1e-30
        for _sweep in range(60):
            rotated = 0.0
            for i in range(k - 1):
                for j in range(i + 1, k):
                    for b in range(B):
                        al[b] = 0.0
                        be[b] = 0.0
                        ga[b] = 0.0
                    for m in range(k):
                        for b in range(B):
                            ui, uj = U[i, m, b], U[j, m, b]
                            al[b] += ui * ui
                            be[b] += uj * uj
                            ga[b] += ui * uj
                    for b in range(B):
                        a_, b_, g_ = al[b], be[b], ga[b]
                        zeta = (b_ - a_) / (2.0 * g_)
                        sg = 1.0 if zeta >= 0.0 else -1.0
                        t = sg / (abs(zeta) + np.sqrt(1.0 + zeta * zeta))
                        c = 1.0 / np.sqrt(1.0 + t * t)
                        ok = abs(g_) > 1e-15 * np.sqrt(a_ * b_)
                        ok2 = (a_ if a_ < b_ else b_) > tiny[b]
                        cs[b] = c if (ok and ok2) else 1.0
                        sn[b] = c * t if (ok and ok2) else 0.0
                        rf[b] = 1.0 if (ok and ok2) else 0.0
                    for b in range(B):
                        rotated += rf[b]
                    for m in range(k):
                        for b in range(B):
                            ui, uj = U[i, m, b], U[j, m, b]
                            U[i, m, b] = cs[b] * ui - sn[b] * uj
                            U[j, m, b] = sn[b] * ui + cs[b] * uj
            if rotated == 0:
                break
        for b in range(nl):
            for i in range(k):
                s2 = 0.0
                for m in range(k):
                    s2 += U[i, m, b] * U[i, m, b]
                nrm[i] = math.sqrt(s2) * top[b]
            nrm.sort()
            for i in range(k):
                out[p0 + b, i] = nrm[k - 1 - i]
