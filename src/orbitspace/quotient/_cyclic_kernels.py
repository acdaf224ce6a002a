"""All pairs of two sets under C_N (N even, N <= 8): ``max_g <x, ρ(g) y>`` and quotient distances.

Through the real DFT over each field, ``<x, ρ(g) y> = Σ_m Re(F_m ω^{mg})`` with ``F_m`` summed
over the copies of frequency m (:mod:`.finite` explains the terms; weights folded into the x
side).  ``F`` is held as N real planes (``Re F_m``; ``Im F_m`` unless m = 0 or N/2), the
even frequencies first: ``v_g = E_g + O_g`` and ``v_{g+N/2} = E_g − O_g`` for g < N/2, with
``E`` (``O``) the even (odd) planes weighted by a (N/2, N/2) cosine/sine table.

Per output block the planes come from real products of inner size ``R`` or ``2R`` (R copies;
14R multiply-adds a pair for C_8 instead of the 64R of the 8 shifts), then one compiled pass
over the block combines them into the N values, keeps the largest (and, for the solver, its
first maximiser) or turns it into the distance.  The planes of a block stay in cache; nothing
of size N x n x m is held.  Two routes form the planes: loops vectorised over the columns
(few copies) or BLAS products on blocks (many copies); :data:`BLAS_MIN_ROWS` chooses.

Distances whose square is below ``SMALL·(‖x‖² + ‖y‖²)`` (where the expanded formula loses
digits) are marked by the kernel and recomputed directly as ``‖x − ρ(g*) y‖`` for those pairs
only.  The twin is the loop over all N shifts (tests/test_cyclic_kernels.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numba import njit

from orbitspace.groups import Cyclic
from orbitspace.quotient._api import SMALL
from orbitspace.quotient.finite import cyclic_pairs, cyclic_terms

__all__ = ["CyclicGrid", "grid_plan"]

#: the planes come from BLAS products once a frequency has at least this many real rows a
#: pair (2 per complex term); measured on C_8 (1,000 x 1,000, one thread): the column loops
#: take 8 / 21 / 42 ms at 4 / 16 / 32 regular fields, BLAS blocks 14 / 25 / 40 ms
BLAS_MIN_ROWS = 64
#: the largest order served (even orders up to it); beyond, the N x N/2 table products of the
#: combine cost more than the pair loop of :mod:`.finite` saves (measured: C_10, C_12, C_16
#: lose 1.2–2.4x against it, C_2 .. C_8 win 1.6–2.5x)
MAX_ORDER = 8
_CH = 256  # columns a loop chunk holds (the planes of two rows: 2 x N x 256 doubles)
_BR = 32  # rows a BLAS block holds
_CW = 256  # columns a BLAS block holds


@dataclass(frozen=True)
class _Plan:
    """The plane layout of an action: per frequency present, its row range and planes."""

    N: int
    freqs: np.ndarray  # (n_groups,) frequency of each group of rows
    p1: np.ndarray  # (n_groups,) plane of Re F_m
    p2: np.ndarray  # (n_groups,) plane of Im F_m, -1 when F_m is real
    counts: np.ndarray  # (n_groups,) complex terms of that frequency
    TE: tuple  # (N/2, N/2) weights of the even planes
    TO: tuple  # (N/2, N/2) weights of the odd planes


@lru_cache(maxsize=64)
def grid_plan(action: Cyclic) -> _Plan | None:
    """The plane layout of ``action``; None for odd N or N > :data:`MAX_ORDER` (the pair loop
    of :mod:`.finite` serves those)."""
    N = action.N
    if N % 2 or N > MAX_ORDER:
        return None
    _, freq = cyclic_terms(np.zeros((1, action.dim)), action, left=True)
    planes = []  # (m, part): part 0 Re, 1 Im; even m first
    for parity in (0, 1):
        for m in range(parity, N // 2 + 1, 2):
            planes += [(m, 0)] if m == 0 or 2 * m == N else [(m, 0), (m, 1)]
    index = {p: k for k, p in enumerate(planes)}
    H = N // 2
    freqs, p1, p2, counts = [], [], [], []
    for m in range(N // 2 + 1):
        c = int(np.count_nonzero(freq == m))
        if c:
            freqs.append(m)
            counts.append(c)
            p1.append(index[(m, 0)])
            p2.append(index.get((m, 1), -1))

    def table(sub):
        g = np.arange(H)[:, None]
        ms = np.array([m for m, _ in sub])[None]
        ang = 2 * np.pi * g * ms / N
        T = np.where(np.array([p for _, p in sub])[None] == 0, np.cos(ang), -np.sin(ang))
        T[np.abs(T) < 1e-14] = 0.0  # exact zeros at multiples of 90°
        return tuple(tuple(float(v) for v in row) for row in T)

    return _Plan(
        N,
        np.array(freqs, dtype=np.int64),
        np.array(p1, dtype=np.int64),
        np.array(p2, dtype=np.int64),
        np.array(counts, dtype=np.int64),
        table(planes[:H]),
        table(planes[H:]),
    )


@lru_cache(maxsize=64)
def _factor_index(action: Cyclic) -> tuple[np.ndarray, ...]:
    """Where the real factors come from: columns of ``[Re A, Im A, 0]`` (A the complex terms
    of :func:`.finite.cyclic_terms`) with signs, for L1, L2 (x side) and R (y side)."""
    plan = grid_plan(action)
    _, freq = cyclic_terms(np.zeros((1, action.dim)), action, left=True)
    T = freq.size
    zero = 2 * T  # the appended zero column
    i1, s1, i2, s2, iy = [], [], [], [], []
    for m, real in zip(plan.freqs, plan.p2 < 0):
        q = np.flatnonzero(freq == m)
        if real:  # F_m = Σ Re a Re b
            i1 += [q]
            s1 += [np.ones(q.size)]
            i2 += [np.full(q.size, zero)]
            s2 += [np.zeros(q.size)]
            iy += [q]
        else:  # Re F = [Re a, −Im a]·[Re b, Im b], Im F = [Im a, Re a]·[Re b, Im b]
            i1 += [q, q + T]
            s1 += [np.ones(q.size), -np.ones(q.size)]
            i2 += [q + T, q]
            s2 += [np.ones(2 * q.size)]
            iy += [q, q + T]
    cat = np.concatenate
    return cat(i1), cat(s1), cat(i2), cat(s2), cat(iy)


def _real_terms(Z, action, left):
    A, _ = cyclic_terms(Z, action, left=left)
    return np.hstack([A.real, A.imag, np.zeros((Z.shape[0], 1))])


def _left(X, action):
    """The x side ``L1, L2`` of shape (n, Q): Re F_m (Im F_m) = Σ_q L1 (L2)[q] · R[q]."""
    i1, s1, i2, s2, _ = _factor_index(action)
    A = _real_terms(X, action, True)
    return np.ascontiguousarray(A[:, i1] * s1), np.ascontiguousarray(A[:, i2] * s2)


def _right(Y, action):
    """The y side ``R`` of shape (Q, m), rows grouped by frequency."""
    return np.ascontiguousarray(_real_terms(Y, action, False)[:, _factor_index(action)[4]].T)


def _checked(Z, action, name):
    Z = np.ascontiguousarray(Z, dtype=np.float64)
    if Z.ndim != 2 or Z.shape[1] != action.dim:
        raise ValueError(f"{name} must have shape (n, {action.dim}); received {Z.shape}")
    return Z


class CyclicGrid:
    """The y side of all-pairs problems against ``Y`` under a Cyclic action with even N.

    Parameters
    ----------
    Y : array of shape (m, dim)
    action : Cyclic with even N

    Examples
    --------
    >>> import numpy as np
    >>> from orbitspace.groups import Cyclic
    >>> action = Cyclic(4, "1xregular")
    >>> Y = np.array([[1.0, 2.0, 3.0, 4.0]])
    >>> X = np.asarray(action.act(1, Y))  # Y shifted by one
    >>> value, g = CyclicGrid(Y, action).max_inner(X)
    >>> float(value[0, 0]), int(g[0, 0])
    (30.0, 1)
    >>> CyclicGrid(Y, action).distances(X + 1.0).round(6).tolist()
    [[2.0]]
    """

    def __init__(self, Y: np.ndarray, action: Cyclic) -> None:
        plan = grid_plan(action)
        if plan is None:
            raise ValueError(
                f"CyclicGrid needs an even order N <= {MAX_ORDER}; received {action!r}"
            )
        Y = _checked(Y, action, "Y")
        self.action, self.plan, self.Y = action, plan, Y
        self.RY = _right(Y, action)
        rows = np.where(plan.p2 < 0, plan.counts, 2 * plan.counts)
        self.roff = np.concatenate([[0], np.cumsum(rows)]).astype(np.int64)
        self.blas = int(rows.max()) >= BLAS_MIN_ROWS
        # C_8 with one term per frequency: everything in registers (_grid_c8)
        self.c8 = plan.N == 8 and int(plan.counts.max()) == 1
        self.sqy = (Y**2).sum(1)
        self._RYc = self._chunks() if self.blas else None
        self._Z = self._c8_rows() if self.c8 else None

    def _run(self, X, c0, want_dist, out, best, row0, shift):
        """The kernel on rows X against columns ``c0:`` of Y, writing pair (i, j) at
        ``out[row0 + i, j − shift]``; returns the pairs it marked (rows of X, columns of out)."""
        L1, L2 = _left(X, self.action)
        p = self.plan
        cap = 1024 + 4 * X.shape[0]
        fi, fj = np.empty(cap, np.int64), np.empty(cap, np.int64)
        common = (self.roff, p.p1, p.p2, p.TE, p.TO, (X**2).sum(1), self.sqy, c0)
        rest = (want_dist, SMALL, out, best, row0, shift, fi, fj)
        if self.c8:
            count = _grid_c8(self._c8_coefficients(L1, L2), self._Z, *common[5:], *rest)
        elif self.blas:
            LB, loff = self._left_blocks(L1, L2)
            count = _grid_blas(LB, loff, self._RYc, *common, self.Y.shape[0], *rest)
        else:
            count = _grid_loops(L1, L2, self.RY, *common, *rest)
        if count > cap:  # more than the list holds: the kernel marked them all with −1
            fi, fj = np.nonzero(out[row0 : row0 + X.shape[0]] < 0)
            return fi, fj
        return fi[:count], fj[:count]

    def _c8_rows(self):
        """The y rows of :func:`_grid_c8`: ``y0, y4, Re y1, Im y1, .., Im y3`` (8, m)."""
        Z = np.zeros((8, self.RY.shape[1]))
        for f, m in enumerate(self.plan.freqs):
            u = self.roff[f]
            at = {0: [0], 4: [1]}.get(int(m), [2 * int(m), 2 * int(m) + 1])
            Z[at] = self.RY[u : u + len(at)]
        return Z

    def _c8_coefficients(self, L1, L2):
        """The 14 x coefficients of :func:`_grid_c8` per row: ``a0, a4``, then per frequency
        1..3 the two of its Re plane and the two of its Im plane."""
        A = np.zeros((L1.shape[0], 14))
        for f, m in enumerate(self.plan.freqs):
            u = self.roff[f]
            if m in (0, 4):
                A[:, 0 if m == 0 else 1] = L1[:, u]
            else:
                b = 2 + 4 * (int(m) - 1)
                A[:, b : b + 2], A[:, b + 2 : b + 4] = L1[:, u : u + 2], L2[:, u : u + 2]
        return A

    def _chunks(self):
        """The y factors as (n_chunks, Q, _CW) column chunks (zero padded)."""
        Q, m = self.RY.shape
        nc = -(-m // _CW)
        pad = np.zeros((Q, nc * _CW))
        pad[:, :m] = self.RY
        return np.ascontiguousarray(pad.reshape(Q, nc, _CW).transpose(1, 0, 2))

    def _left_blocks(self, L1, L2):
        """Per frequency group, per block of _BR rows: its (Re) rows, then its Im rows."""
        n = L1.shape[0]
        nb = -(-n // _BR)
        P1, P2 = np.zeros((nb * _BR, L1.shape[1])), np.zeros((nb * _BR, L1.shape[1]))
        P1[:n], P2[:n] = L1, L2
        parts, loff = [], [0]
        for f, real in enumerate(self.plan.p2 < 0):
            u0, u1 = self.roff[f], self.roff[f + 1]
            b1 = P1[:, u0:u1].reshape(nb, _BR, u1 - u0)
            blk = b1 if real else np.concatenate([b1, P2[:, u0:u1].reshape(b1.shape)], axis=1)
            parts.append(blk.ravel())
            loff.append(loff[-1] + parts[-1].size)
        return np.concatenate(parts), np.array(loff, dtype=np.int64)

    def max_inner(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``value[i, j] = max_g <X[i], ρ(g) Y[j]>`` and the first maximisers, (n, m) each."""
        X = _checked(X, self.action, "X")
        n, m = X.shape[0], self.Y.shape[0]
        value, best = np.empty((n, m)), np.empty((n, m), dtype=np.int64)
        self._run(X, 0, False, value, best, 0, 0)
        return value, best

    def distances(
        self, X: np.ndarray, col_start: int = 0, *, out: np.ndarray | None = None, row0: int = 0
    ) -> np.ndarray:
        """Quotient distances of ``X`` to ``Y[col_start:]``, shape (n, m − col_start); or,
        given ``out`` (C-contiguous float64 of shape (≥ row0 + n, m)), written into
        ``out[row0 + i, col_start + j]`` (and ``out`` returned)."""
        X = _checked(X, self.action, "X")
        m = self.Y.shape[0]
        if not 0 <= col_start <= m:
            raise ValueError(f"col_start must be in 0..{m}; received {col_start!r}")
        if out is None:
            dist, shift, row0 = np.empty((X.shape[0], m - col_start)), col_start, 0
        else:
            if not (
                isinstance(out, np.ndarray) and out.dtype == np.float64 and out.ndim == 2
                and out.flags.c_contiguous and out.shape[1] == m
                and 0 <= row0 and out.shape[0] >= row0 + X.shape[0]
            ):  # fmt: skip
                raise ValueError(
                    f"out must be C-contiguous float64 of shape (>= {row0 + X.shape[0]}, {m}); "
                    f"received {type(out).__name__} {getattr(out, 'shape', None)}"
                )
            dist, shift = out, 0
        fi, fj = self._run(X, col_start, True, dist, np.empty((1, 1), np.int64), row0, shift)
        if fi.size:  # the pairs the expanded formula cannot resolve: directly
            Xf, Yf = X[fi], self.Y[fj + shift]
            q = np.arange(fi.size)
            _, g = cyclic_pairs(Xf, Yf, q, q, self.action)
            aligned = np.asarray(self.action.act(g, Yf))
            dist[row0 + fi, fj] = np.sqrt(((Xf - aligned) ** 2).sum(1))
        return dist


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
    """Planes by column-vectorised loops, two rows of X and 256 columns at a time."""
    n = L1.shape[0]
    m = RY.shape[1]
    K = 2 * len(TE)
    F1 = np.zeros((K, _CH))  # planes of no term stay zero
    F2 = np.zeros((K, _CH))
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
                else:
                    _acc(F1[a], F1[b], L1, i, L2, i, S, u0, u1, L)
                    _acc(F2[a], F2[b], L1, i2, L2, i2, S, u0, u1, L)
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
