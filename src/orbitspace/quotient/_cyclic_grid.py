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
of size N x n x m is held.  Three routes (chosen by layout, thresholds measured): C_8 with
one term per frequency forms and combines its 8 planes in registers; otherwise loops
vectorised over the columns sum the planes (up to 16 regular fields of C_8), or BLAS products
on blocks (:data:`BLAS_MIN_ROWS`).  The benchmark is ``bench_cyclic`` in
benchmarks/bench_peers.py.

Distances whose square is below ``SMALL·(‖x‖² + ‖y‖²)`` (where the expanded formula loses
digits) are marked by the kernel and recomputed directly as ``‖x − ρ(g*) y‖`` for those pairs
only.  The compiled passes are in :mod:`._cyclic_kernels`; the twin is the loop over all N
shifts (tests/test_cyclic_kernels.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from orbitspace.groups import Cyclic
from orbitspace.quotient._api import SMALL
from orbitspace.quotient._cyclic_kernels import _BR, _CW, _grid_blas, _grid_c8, _grid_loops
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
