"""The compiled passes of the C_N all-pairs grid (:mod:`._cyclic_grid` explains the planes).

- :func:`_grid_c8`: C_8 with at most one term per frequency (dim <= 8), the 8 planes of a
  pair formed and combined in registers;
- :func:`_grid_loops`: planes summed by loops vectorised over 512 columns, two rows of X at
  a time (real frequencies four y rows a pass, complex ones both planes of both rows from
  each load), then :func:`_combine`;
- :func:`_grid_blas`: planes from BLAS products on blocks of 32 x 256 pairs, then
  :func:`_combine`.

``_combine`` turns the planes into the N values (C_8 by butterflies, :func:`_best8`; other
even N by their cosine/sine tables, :func:`_values`), keeps the largest and its first
maximiser, or the distance (a pair whose distance the expanded formula cannot resolve is
written −1 and listed for a direct recomputation).  Inner loops carry no reduction, so they
vectorise without reassociation; ``fastmath={"contract"}`` only fuses multiply-adds.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__: list[str] = []

_CH = 512  # columns a loop chunk holds (the planes of two rows: 2 x N x 512 doubles)
_BR = 32  # rows a BLAS block holds
_CW = 256  # columns a BLAS block holds


@njit(nogil=True, cache=True, fastmath={"contract"})
def _values(F, t, TE, TO):
    """The largest of the N values of lane ``t`` of the planes ``F`` (N, L) and its first
    maximiser: ``v_g = E_g + O_g``, ``v_{g+N/2} = E_g − O_g``."""
    H = len(TE)
    b1 = -np.inf
    a1 = 0
    b2 = -np.inf
    a2 = 0
    for g in range(H):
        e = 0.0
        o = 0.0
        rowe = TE[g]
        rowo = TO[g]
        for k in range(H):
            e += rowe[k] * F[k, t]
            o += rowo[k] * F[H + k, t]
        v = e + o
        w = e - o
        if v > b1:
            b1 = v
            a1 = g
        if w > b2:
            b2 = w
            a2 = g + H
    if b2 > b1:  # ties go to g < N/2: the first maximiser
        return b2, a2
    return b1, a1


_C = 0.7071067811865476  # cos(π/4)


@njit(nogil=True, cache=True, fastmath={"contract"})
def _values8(F, t):
    """:func:`_values` for C_8 (planes: even ``F0, Re F2, Im F2, F4``, odd ``Re F1, Im F1,
    Re F3, Im F3``, weights in), by :func:`_best8`."""
    return _best8(F[0, t], F[1, t], F[2, t], F[3, t], F[4, t], F[5, t], F[6, t], F[7, t])


@njit(nogil=True, cache=True, fastmath={"contract"})
def _best8(f0, r2, i2, f4, r1, i1, r3, i3):
    """The largest of the 8 values of C_8 from its planes and its first maximiser, by
    butterflies (22 additions instead of 32 multiply-adds)."""
    p = f0 + f4
    q = f0 - f4
    e0 = p + r2
    e2 = p - r2
    e1 = q - i2
    e3 = q + i2
    a = r1 + r3
    b = r1 - r3
    d = i1 + i3
    o2 = i3 - i1
    o1 = _C * (b - d)
    o3 = -_C * (b + d)
    # the first maximiser by a tree (depth 3, not a chain of 7): the right side of each
    # comparison holds the larger elements and wins only when strictly larger
    v0, v1, v2, v3 = e0 + a, e1 + o1, e2 + o2, e3 + o3
    v4, v5, v6, v7 = e0 - a, e1 - o1, e2 - o2, e3 - o3
    m01, g01 = (v1, 1) if v1 > v0 else (v0, 0)
    m23, g23 = (v3, 3) if v3 > v2 else (v2, 2)
    m45, g45 = (v5, 5) if v5 > v4 else (v4, 4)
    m67, g67 = (v7, 7) if v7 > v6 else (v6, 6)
    m03, g03 = (m23, g23) if m23 > m01 else (m01, g01)
    m47, g47 = (m67, g67) if m67 > m45 else (m45, g45)
    best, arg = (m47, g47) if m47 > m03 else (m03, g03)
    return best, arg


@njit(nogil=True, cache=True, fastmath={"contract"})
def _combine(F, L, TE, TO, sqx, sqy, want_dist, small, out, best, i, s, fi, fj, count):
    """Pairs ``(i, s + t)``, t < L, from their planes ``F`` (N, ≥ L): the largest value into
    ``out[s + t]`` (a row of the output) and its first maximiser into ``best``, or the
    distance (``sqy``: the chunk's squared norms; −1 for a pair whose distance must be
    recomputed, listed in ``fi, fj``).  Returns the updated count of listed pairs.  C_8 takes
    its butterflies (:func:`_values8`), other orders the tables."""
    eight = len(TE) == 4
    if want_dist:
        for t in range(L):
            v = _values8(F, t)[0] if eight else _values(F, t, TE, TO)[0]
            norms = sqx + sqy[t]
            sq = norms - 2.0 * v
            out[s + t] = np.sqrt(max(sq, 0.0)) if sq > small * norms else -1.0
        for t in range(L):
            if out[s + t] < 0.0:
                if count < fi.shape[0]:
                    fi[count] = i
                    fj[count] = s + t
                count += 1
    elif eight:
        for t in range(L):
            v, a = _values8(F, t)
            out[s + t] = v
            best[s + t] = a
    else:
        for t in range(L):
            v, a = _values(F, t, TE, TO)
            out[s + t] = v
            best[s + t] = a
    return count


@njit(nogil=True, cache=True, fastmath={"contract"})
def _acc(fa, fb, LA, ia, LB, ib, S, u0, u1, L):
    """``fa = Σ_u LA[ia, u] S[u, :L]`` and ``fb`` likewise with ``LB[ib]`` (u0 < u1), four
    rows of S a pass (S, the chunk of y rows, has a fixed row length: the column loop
    vectorises with one alias check per plane)."""
    u = u0
    if u1 - u0 >= 4:  # the first pass assigns
        c0, c1, c2, c3 = LA[ia, u], LA[ia, u + 1], LA[ia, u + 2], LA[ia, u + 3]
        d0, d1, d2, d3 = LB[ib, u], LB[ib, u + 1], LB[ib, u + 2], LB[ib, u + 3]
        for t in range(L):
            r0, r1, r2, r3 = S[u, t], S[u + 1, t], S[u + 2, t], S[u + 3, t]
            fa[t] = c0 * r0 + c1 * r1 + c2 * r2 + c3 * r3
            fb[t] = d0 * r0 + d1 * r1 + d2 * r2 + d3 * r3
        u += 4
    else:
        c0, d0 = LA[ia, u], LB[ib, u]
        for t in range(L):
            fa[t] = c0 * S[u, t]
            fb[t] = d0 * S[u, t]
        u += 1
    while u + 3 < u1:
        c0, c1, c2, c3 = LA[ia, u], LA[ia, u + 1], LA[ia, u + 2], LA[ia, u + 3]
        d0, d1, d2, d3 = LB[ib, u], LB[ib, u + 1], LB[ib, u + 2], LB[ib, u + 3]
        for t in range(L):
            r0, r1, r2, r3 = S[u, t], S[u + 1, t], S[u + 2, t], S[u + 3, t]
            fa[t] += c0 * r0 + c1 * r1 + c2 * r2 + c3 * r3
            fb[t] += d0 * r0 + d1 * r1 + d2 * r2 + d3 * r3
        u += 4
    while u < u1:
        c0, d0 = LA[ia, u], LB[ib, u]
        for t in range(L):
            fa[t] += c0 * S[u, t]
            fb[t] += d0 * S[u, t]
        u += 1


@njit(nogil=True, cache=True, fastmath={"contract"})
def _acc_complex(F, a, L1, L2, i, i2, S, u0, u1, L):
    """Planes ``a`` (Re, coefficients L1) and ``a + 1`` (Im, L2) of rows i and i2 of X:
    ``F[r, a + p] = Σ_u L[p][row r, u] S[u, :L]``, four store streams at fixed distances in
    ``F`` (one alias group) sharing each load of S; four rows of S a pass, then two (a
    complex frequency has an even number of rows: Re y then Im y of each term)."""
    u = u0
    while u < u1:
        w = 4 if u + 3 < u1 else 2
        c0, d0, e0, h0 = L1[i, u], L2[i, u], L1[i2, u], L2[i2, u]
        c1, d1, e1, h1 = L1[i, u + 1], L2[i, u + 1], L1[i2, u + 1], L2[i2, u + 1]
        if w == 4:
            c2, d2, e2, h2 = L1[i, u + 2], L2[i, u + 2], L1[i2, u + 2], L2[i2, u + 2]
            c3, d3, e3, h3 = L1[i, u + 3], L2[i, u + 3], L1[i2, u + 3], L2[i2, u + 3]
            if u == u0:
                for t in range(L):
                    r0, r1, r2, r3 = S[u, t], S[u + 1, t], S[u + 2, t], S[u + 3, t]
                    F[0, a, t] = c0 * r0 + c1 * r1 + c2 * r2 + c3 * r3
                    F[0, a + 1, t] = d0 * r0 + d1 * r1 + d2 * r2 + d3 * r3
                    F[1, a, t] = e0 * r0 + e1 * r1 + e2 * r2 + e3 * r3
                    F[1, a + 1, t] = h0 * r0 + h1 * r1 + h2 * r2 + h3 * r3
            else:
                for t in range(L):
                    r0, r1, r2, r3 = S[u, t], S[u + 1, t], S[u + 2, t], S[u + 3, t]
                    F[0, a, t] += c0 * r0 + c1 * r1 + c2 * r2 + c3 * r3
                    F[0, a + 1, t] += d0 * r0 + d1 * r1 + d2 * r2 + d3 * r3
                    F[1, a, t] += e0 * r0 + e1 * r1 + e2 * r2 + e3 * r3
                    F[1, a + 1, t] += h0 * r0 + h1 * r1 + h2 * r2 + h3 * r3
        elif u == u0:
            for t in range(L):
                r0, r1 = S[u, t], S[u + 1, t]
                F[0, a, t] = c0 * r0 + c1 * r1
                F[0, a + 1, t] = d0 * r0 + d1 * r1
                F[1, a, t] = e0 * r0 + e1 * r1
                F[1, a + 1, t] = h0 * r0 + h1 * r1
        else:
            for t in range(L):
                r0, r1 = S[u, t], S[u + 1, t]
                F[0, a, t] += c0 * r0 + c1 * r1
                F[0, a + 1, t] += d0 * r0 + d1 * r1
                F[1, a, t] += e0 * r0 + e1 * r1
                F[1, a + 1, t] += h0 * r0 + h1 * r1
        u += w


@njit(nogil=True, cache=True, fastmath={"contract"})
def _grid_loops(
    L1,
    L2,
    RY,
    roff,
    p1,
    p2,
    TE,
    TO,
    sqx,
    sqy,
    c0,
    want_dist,
    small,
    out,
    best,
    row0,
    shift,
    fi,
    fj,
):  # pragma: no cover - compiled
    """Planes by column-vectorised loops, two rows of X and 512 columns at a time."""
    n = L1.shape[0]
    m = RY.shape[1]
    K = 2 * len(TE)
    F = np.zeros((2, K, _CH))  # planes of no term stay zero
    F1, F2 = F[0], F[1]
    S = np.empty((RY.shape[0], _CH))  # the chunk of RY, rows of fixed length
    count = 0
    for j0 in range(c0, m, _CH):
        L = min(_CH, m - j0)
        for u in range(RY.shape[0]):
            for t in range(L):
                S[u, t] = RY[u, j0 + t]
        sq = sqy[j0 : j0 + L]
        for i in range(0, n, 2):
            i2 = min(i + 1, n - 1)
            for f in range(roff.shape[0] - 1):
                a = p1[f]
                b = p2[f]
                u0 = roff[f]
                u1 = roff[f + 1]
                if b < 0:
                    _acc(F1[a], F2[a], L1, i, L1, i2, S, u0, u1, L)
                else:  # b == a + 1 (grid_plan)
                    _acc_complex(F, a, L1, L2, i, i2, S, u0, u1, L)
            bi = best[row0 + i] if not want_dist else best[0]
            count = _combine(
                F1, L, TE, TO, sqx[i], sq, want_dist, small, out[row0 + i], bi, i, j0 - shift,
                fi, fj, count,
            )  # fmt: skip
            if i2 != i:
                bi = best[row0 + i2] if not want_dist else best[0]
                count = _combine(
                    F2, L, TE, TO, sqx[i2], sq, want_dist, small, out[row0 + i2], bi, i2,
                    j0 - shift, fi, fj, count,
                )  # fmt: skip
    return count


@njit(nogil=True, cache=True, fastmath={"contract"})
def _grid_blas(
    LB,
    loff,
    RYc,
    roff,
    p1,
    p2,
    TE,
    TO,
    sqx,
    sqy,
    c0,
    m,
    want_dist,
    small,
    out,
    best,
    row0,
    shift,
    fi,
    fj,
):  # pragma: no cover - compiled
    """Planes by BLAS products: blocks of ``_BR`` rows of X (``LB``: per frequency group, per
    block, its real rows then its imaginary rows, flattened at ``loff``) against chunks of
    columns of Y (``RYc`` of shape (n_chunks, Q, CW)); then :func:`_combine` per row."""
    n = sqx.shape[0]
    nc, Q, CW = RYc.shape
    K = 2 * len(TE)
    F = np.zeros((K, _BR, CW))
    count = 0
    nb = (n + _BR - 1) // _BR
    for c in range((c0 // CW), nc):
        j0 = c * CW
        L = min(CW, m - j0)
        lo = max(c0 - j0, 0)
        for blk in range(nb):
            for f in range(roff.shape[0] - 1):
                u0 = roff[f]
                u1 = roff[f + 1]
                q = u1 - u0
                a = p1[f]
                rows = _BR if p2[f] < 0 else 2 * _BR
                start = loff[f] + blk * rows * q
                left = LB[start : start + rows * q].reshape((rows, q))
                target = F[a : a + rows // _BR].reshape((rows, CW))
                np.dot(left, RYc[c, u0:u1], target)
            for r in range(min(_BR, n - blk * _BR)):
                i = blk * _BR + r
                bi = best[row0 + i] if not want_dist else best[0]
                count = _combine(
                    F[:, r, lo:], L - lo, TE, TO, sqx[i], sqy[j0 + lo : j0 + L], want_dist,
                    small, out[row0 + i], bi, i, j0 + lo - shift, fi, fj, count,
                )  # fmt: skip
    return count


@njit(nogil=True, cache=True, fastmath={"contract"})
def _grid_c8(A, Z, sqx, sqy, c0, want_dist, small, out, best, row0, shift, fi, fj):
    """C_8 with at most one term per frequency (dim <= 8): the 8 planes of a pair from the
    14 coefficients of its x (``A`` (n, 14): ``a0, a4``, then per frequency 1..3 the two
    coefficients of its Re plane and the two of its Im plane) and the 8 rows of its y (``Z``
    (8, m): ``y0, y4, Re y1, Im y1, .., Im y3``, zeros where a frequency is absent), then
    :func:`_best8`, in registers: one pass over each row of the output, nothing else stored."""
    n = A.shape[0]
    m = Z.shape[1]
    S = np.empty((8, _CH))  # the chunk of Z in an array of fixed shape (one alias group)
    count = 0
    for j0 in range(c0, m, _CH):
        L = min(_CH, m - j0)
        for k in range(8):
            for t in range(L):
                S[k, t] = Z[k, j0 + t]
        sq = sqy[j0 : j0 + L]
        for i in range(n):
            a0, a4 = A[i, 0], A[i, 1]
            c2, c3, d2, d3 = A[i, 2], A[i, 3], A[i, 4], A[i, 5]
            c4, c5, d4, d5 = A[i, 6], A[i, 7], A[i, 8], A[i, 9]
            c6, c7, d6, d7 = A[i, 10], A[i, 11], A[i, 12], A[i, 13]
            o = out[row0 + i]
            s = j0 - shift
            if want_dist:
                sx = sqx[i]
                for t in range(L):
                    z2, z3, z4, z5, z6, z7 = S[2, t], S[3, t], S[4, t], S[5, t], S[6, t], S[7, t]
                    v, _ = _best8(
                        a0 * S[0, t], c4 * z4 + c5 * z5, d4 * z4 + d5 * z5, a4 * S[1, t],
                        c2 * z2 + c3 * z3, d2 * z2 + d3 * z3, c6 * z6 + c7 * z7,
                        d6 * z6 + d7 * z7,
                    )  # fmt: skip
                    norms = sx + sq[t]
                    d = norms - 2.0 * v
                    o[s + t] = np.sqrt(max(d, 0.0)) if d > small * norms else -1.0
                for t in range(L):
                    if o[s + t] < 0.0:
                        if count < fi.shape[0]:
                            fi[count] = i
                            fj[count] = s + t
                        count += 1
            else:
                b = best[row0 + i]
                for t in range(L):
                    z2, z3, z4, z5, z6, z7 = S[2, t], S[3, t], S[4, t], S[5, t], S[6, t], S[7, t]
                    v, g = _best8(
                        a0 * S[0, t], c4 * z4 + c5 * z5, d4 * z4 + d5 * z5, a4 * S[1, t],
                        c2 * z2 + c3 * z3, d2 * z2 + d3 * z3, c6 * z6 + c7 * z7,
                        d6 * z6 + d7 * z7,
                    )  # fmt: skip
                    o[s + t] = v
                    b[s + t] = g
    return count
