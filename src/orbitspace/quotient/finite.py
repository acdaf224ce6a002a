"""Exact alignment for finite groups: every element at once, in one compiled loop over pairs.

- ``Cyclic(N, ...)``: the inner product of ``x`` with ``ρ(g) y`` is a trigonometric polynomial
  in ``g``, ``Re Σ_{m=0..N//2} F_m ω^{mg}`` with ``ω = e^{2πi/N}``.  Regular blocks contribute
  their circular cross-correlation (``F_m`` from ``rfft(x) · conj(rfft(y))``, weighted 1/N for
  m = 0 and N/2, 2/N otherwise), 2-dimensional irreps of frequency k add ``conj(x̃) ỹ`` to
  ``F_k``, the trivial irrep adds ``x·y`` to ``F_0`` and the sign irrep (N even) adds ``x·y`` to
  ``F_{N/2}``.  All N values then come from a cosine/sine table; the best is exact
  (enumeration, nothing skipped).
- ``FiniteGroup``: ``<x, M_g y> = <M_gᵀ x, y>`` for every element, the smaller side transformed
  once, then G dot products a pair.

The spectra are computed once per row (numpy FFT); each pair then costs a few dozen multiply-adds
inside a numba loop, with no BLAS call (small BLAS products thrash when cores are shared).

All pairs of two sets (the pairs of a grid, as :func:`~orbitspace.quotient.solvers.
max_inner_product_pairwise` and the pairwise distances give them) take a faster route: the
real and imaginary parts of every ``F_m`` for all pairs come from one matrix product per
frequency (``[Re a, -Im a; Im a, Re a] · [Re b, Im b]ᵀ``: 14 multiply-adds a pair per regular
C_8 field instead of the 64 of the 8 shifted products), one compiled pass evaluates the N values
from them (``v_g`` and ``v_{g+N/2}`` share their terms) and keeps the first maximiser.
The y-side matrices of the last call are kept (with a copy of ``Y`` to check that they still
apply), since the pairwise distances call once per block of rows with the same ``Y``.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numba import njit

from orbitspace.groups import Cyclic, FiniteGroup

__all__ = ["cyclic_terms", "cyclic_pairs", "finite_pairs"]


def _weights(N: int) -> np.ndarray:
    w = np.full(N // 2 + 1, 2.0 / N)
    w[0] = 1.0 / N
    if N % 2 == 0:
        w[-1] = 1.0 / N
    return w


def cyclic_terms(Z: np.ndarray, action: Cyclic, *, left: bool) -> tuple[np.ndarray, np.ndarray]:
    """Per-row terms ``A`` (left, x side) or ``B`` (right, y side) with ``F_m = Σ_{q: m_q = m}
    A_q B_q``, and the frequency ``m_q`` of each term.

    Parameters
    ----------
    Z : array of shape (n, dim)
    left : True for the x side (weights and conjugates folded in), False for the y side

    Returns
    -------
    terms : complex array of shape (n, n_terms)
    freq : int array of shape (n_terms,)
    """
    lay = action.layout
    N = action.N
    parts, freqs = [], []
    if lay.regular_start.size:
        idx = lay.regular_start[:, None] + np.arange(N)
        spec = np.fft.rfft(Z[:, idx], axis=-1)  # (n, R, N//2 + 1)
        spec = spec * _weights(N) if left else np.conj(spec)
        parts.append(spec.reshape(Z.shape[0], -1))
        freqs.append(np.tile(np.arange(N // 2 + 1), lay.regular_start.size))
    if lay.pair_a.size:
        sign = -1.0 if left else 1.0  # conj(x̃) ỹ
        parts.append(Z[:, lay.pair_a] + sign * 1j * Z[:, lay.pair_b])
        freqs.append(lay.pair_freq)
    if lay.scalar_idx.size:
        parts.append(Z[:, lay.scalar_idx].astype(np.complex128))
        freqs.append(lay.scalar_freq)
    terms = np.concatenate(parts, axis=1) if parts else np.zeros((Z.shape[0], 0), complex)
    freq = np.concatenate(freqs) if freqs else np.zeros(0, np.int64)
    return np.ascontiguousarray(terms, dtype=np.complex128), freq.astype(np.int64)


def cyclic_pairs(
    X: np.ndarray, Y: np.ndarray, rows: np.ndarray, cols: np.ndarray, action: Cyclic
) -> tuple[np.ndarray, np.ndarray]:
    """``max_g <X[rows[q]], ρ(g) Y[cols[q]]>`` and the first maximiser ``g`` for every pair.

    Parameters
    ----------
    X : array of shape (n_x, dim)
    Y : array of shape (n_y, dim)
    rows, cols : int arrays of shape (n_pairs,)

    Returns
    -------
    value : array of shape (n_pairs,)
    g : int array of shape (n_pairs,)
    """
    nx, ny = X.shape[0], Y.shape[0]
    if rows.shape[0] == nx * ny and nx * ny >= _GRID_MIN and _is_grid(rows, cols, ny):
        value, best = _cyclic_grid(X, Y, action)
        return value.ravel(), best.ravel()
    A, freq = cyclic_terms(X, action, left=True)
    B, _ = cyclic_terms(Y, action, left=False)
    N = action.N
    angles = np.outer(2 * np.pi * np.arange(N) / N, np.arange(N // 2 + 1))  # (N, N//2 + 1)
    value = np.empty(rows.shape[0])
    best = np.empty(rows.shape[0], dtype=np.int64)
    _cyclic_kernel(
        A,
        B,
        freq,
        np.ascontiguousarray(rows, dtype=np.int64),
        np.ascontiguousarray(cols, dtype=np.int64),
        np.ascontiguousarray(np.cos(angles)),
        np.ascontiguousarray(np.sin(angles)),
        value,
        best,
    )
    return value, best


@njit(cache=True, nogil=True)
def _cyclic_kernel(A, B, freq, rows, cols, cos_table, sin_table, value, best):  # pragma: no cover
    N = cos_table.shape[0]
    M = cos_table.shape[1]
    F = np.empty(M, dtype=np.complex128)
    for q in range(rows.shape[0]):
        a = A[rows[q]]
        b = B[cols[q]]
        for m in range(M):
            F[m] = 0.0
        for t in range(a.shape[0]):
            F[freq[t]] += a[t] * b[t]
        top = -np.inf
        arg = 0
        for g in range(N):
            v = 0.0
            for m in range(M):
                v += F[m].real * cos_table[g, m] - F[m].imag * sin_table[g, m]
            if v > top:
                top = v
                arg = g
        value[q] = top
        best[q] = arg


#: below this many pairs the per-pair loop is as fast as the matrix products
_GRID_MIN = 256
#: the y-side matrices of the last grid call: (action, copy of Y, matrices)
_LAST_Y: tuple = ()


@njit(cache=True, nogil=True)
def _is_grid(rows, cols, ny):  # pragma: no cover - compiled
    """``rows, cols`` list every pair of an ``(n_x, ny)`` grid in row-major order."""
    q = 0
    for i in range(rows.shape[0] // max(ny, 1)):
        for j in range(ny):
            if rows[q] != i or cols[q] != j:
                return False
            q += 1
    return True


@lru_cache(maxsize=64)
def _grid_plan(action: Cyclic) -> tuple:
    """What the grid route needs of an action, computed once: ``(chans, TE, TO)``.

    ``chans``: ``(term indices, real)`` for every frequency m that has terms (``real``: F_m is
    real, m = 0 and m = N/2 for even N); ``TE``, ``TO``: the cosine / sine table of the real
    planes of F (Re F_m with cos, Im F_m with -sin), split by the parity of m.
    """
    _, freq = cyclic_terms(np.zeros((1, action.dim)), action, left=True)
    N = action.N
    chans = tuple(
        (np.flatnonzero(freq == m), m == 0 or 2 * m == N)
        for m in range(N // 2 + 1)
        if np.any(freq == m)
    )
    ms = [m for m in range(N // 2 + 1) if np.any(freq == m)]
    freqs = np.array([m for m, (_, real) in zip(ms, chans, strict=True) for _ in range(2 - real)])
    parts = np.array([p for _, real in chans for p in ((0,) if real else (0, 1))])
    ang = 2 * np.pi * np.outer(np.arange(N), freqs) / N  # (N, K)
    T = np.where(parts == 0, np.cos(ang), -np.sin(ang))
    if N % 2 == 0:  # T[g + N/2] = TE[g] - TO[g]: odd frequencies change sign
        odd = freqs % 2 == 1
        TE = np.ascontiguousarray(np.where(odd, 0.0, T[: N // 2]))
        TO = np.ascontiguousarray(np.where(odd, T[: N // 2], 0.0))
    else:
        TE, TO = np.ascontiguousarray(T), np.zeros((N, len(freqs)))
    return chans, TE, TO


def _y_side(Y: np.ndarray, action: Cyclic) -> list[np.ndarray]:
    """``[Re b, Im b]`` (or ``Re b`` for a real frequency) per channel, cached for one Y."""
    global _LAST_Y
    last = _LAST_Y
    if last and last[0] == action and last[1].shape == Y.shape and np.array_equal(last[1], Y):
        return last[2]
    B, _ = cyclic_terms(Y, action, left=False)
    mats = [
        np.ascontiguousarray(
            B[:, idx].real if real else np.hstack([B[:, idx].real, B[:, idx].imag])
        )
        for idx, real in _grid_plan(action)[0]
    ]
    _LAST_Y = (action, np.array(Y, copy=True), mats)
    return mats


def _cyclic_grid(X: np.ndarray, Y: np.ndarray, action: Cyclic) -> tuple[np.ndarray, np.ndarray]:
    """All pairs: ``value[i, j] = max_g <X[i], ρ(g) Y[j]>`` and the first maximiser."""
    N = action.N
    chans, TE, TO = _grid_plan(action)
    right = _y_side(Y, action)
    A, _ = cyclic_terms(X, action, left=True)
    nx, ny = X.shape[0], Y.shape[0]
    K = TE.shape[1]
    value = np.empty((nx, ny))
    best = np.empty((nx, ny), dtype=np.int64)
    step = max(1, min(nx, 2**18 // max(K * ny, 1)))  # F of one block: about 2 MB
    F = np.empty((K, step, ny))
    for s in range(0, nx, step):
        e = min(nx, s + step)
        k = 0
        for (idx, real), Rm in zip(chans, right, strict=True):
            a = A[s:e, idx]
            if real:
                np.matmul(a.real, Rm.T, out=F[k, : e - s])
                k += 1
            else:  # Re = [Re a, -Im a]·[Re b, Im b], Im = [Im a, Re a]·[Re b, Im b]
                L = np.vstack([np.hstack([a.real, -a.imag]), np.hstack([a.imag, a.real])])
                F[k : k + 2, : e - s] = (L @ Rm.T).reshape(2, e - s, ny)
                k += 2
        _grid_eval(
            F[:, : e - s].reshape(K, -1),
            TE,
            TO,
            N % 2 == 0,
            value[s:e].reshape(-1),
            best[s:e].reshape(-1),
        )
    return value, best


@njit(cache=True, nogil=True, inline="always")
def _eval_chunk(Fc, L, TE, TO, two, Ev, Od, t1, a1, t2, a2, value, best, p0):  # pragma: no cover
    """The N values of the L pairs whose F planes are ``Fc[:, :L]``; the largest and its first
    g into ``value[p0:p0 + L]``, ``best[p0:p0 + L]`` (see :func:`_grid_eval`)."""
    K = TE.shape[1]
    half = TE.shape[0]
    for t in range(L):
        t1[t] = -np.inf
        t2[t] = -np.inf
        a1[t] = 0
        a2[t] = 0
    for g in range(half):
        for t in range(L):
            Ev[t] = 0.0
            Od[t] = 0.0
        for k in range(K):
            a = TE[g, k]
            b = TO[g, k]
            if a != 0.0:
                for t in range(L):
                    Ev[t] += a * Fc[k, t]
            if b != 0.0:
                for t in range(L):
                    Od[t] += b * Fc[k, t]
        for t in range(L):
            v = Ev[t] + Od[t]
            c = v > t1[t]
            t1[t] = v if c else t1[t]
            a1[t] = g if c else a1[t]
            w = Ev[t] - Od[t]
            c2 = w > t2[t]
            t2[t] = w if c2 else t2[t]
            a2[t] = g + half if c2 else a2[t]
    for t in range(L):
        c = two and t2[t] > t1[t]  # ties go to g < N/2: the first maximiser
        value[p0 + t] = t2[t] if c else t1[t]
        best[p0 + t] = a2[t] if c else a1[t]


_CHUNK = 256


@njit(cache=True, nogil=True)
def _grid_eval(F, TE, TO, two, value, best):  # pragma: no cover - compiled
    """``v_g = Σ_k T[g, k] F[k, p]`` for every pair p and g = 0..N-1; the largest into
    ``value[p]``, its first g into ``best[p]``.

    ``T = TE + TO`` split by the parity of the frequency: for even N (``two``),
    ``v_g = E_g + O_g`` and ``v_{g+N/2} = E_g - O_g`` with ``E = TE F``, ``O = TO F`` (N/2
    rows each); for odd N, ``TE = T`` (N rows) and ``TO = 0``.  Pairs go in chunks that stay
    in the first-level cache, the inner loops run over contiguous pairs.
    """
    P = F.shape[1]
    CH = _CHUNK
    Ev, Od, t1, t2 = np.empty(CH), np.empty(CH), np.empty(CH), np.empty(CH)
    a1, a2 = np.empty(CH, np.int64), np.empty(CH, np.int64)
    for p0 in range(0, P, CH):
        L = min(CH, P - p0)
        _eval_chunk(F[:, p0 : p0 + L], L, TE, TO, two, Ev, Od, t1, a1, t2, a2, value, best, p0)


def finite_pairs(
    X: np.ndarray, Y: np.ndarray, rows: np.ndarray, cols: np.ndarray, action: FiniteGroup
) -> tuple[np.ndarray, np.ndarray]:
    """``max_g <X[rows[q]], M_g Y[cols[q]]>`` and the first maximiser (an index) for every pair.

    The smaller of X and Y is transformed by every group element once.
    """
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    cols = np.ascontiguousarray(cols, dtype=np.int64)
    value = np.empty(rows.shape[0])
    best = np.empty(rows.shape[0], dtype=np.int64)
    if X.shape[0] <= Y.shape[0]:
        Xg = np.einsum("gji,nj->ngi", action.matrices, X)  # M_gᵀ x
        _finite_kernel(np.ascontiguousarray(Xg), np.ascontiguousarray(Y), rows, cols, value, best)
    else:
        Yg = np.einsum("gij,nj->ngi", action.matrices, Y)  # M_g y
        _finite_kernel(np.ascontiguousarray(Yg), np.ascontiguousarray(X), cols, rows, value, best)
    return value, best


@njit(cache=True, nogil=True)
def _finite_kernel(Ag, B, ia, ib, value, best):  # pragma: no cover - compiled
    G = Ag.shape[1]
    D = Ag.shape[2]
    for q in range(ia.shape[0]):
        a = Ag[ia[q]]
        b = B[ib[q]]
        top = -np.inf
        arg = 0
        for g in range(G):
            v = 0.0
            for k in range(D):
                v += a[g, k] * b[k]
            if v > top:
                top = v
                arg = g
        value[q] = top
        best[q] = arg
