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

Both routes (all pairs of a grid, as the pairwise distances give them, and any list of pairs)
hold F as real planes (``Re F_m``, ``Im F_m``) summed term by term from precomputed real
factors, and evaluate the N values as ``v_g = E_g + O_g``, ``v_{g+N/2} = E_g - O_g`` (even
and odd frequencies), keeping the first maximiser.  The grid route works on chunks of pairs
that stay in the first-level cache with the inner loops over pairs; the two routes do the
same arithmetic in the same order, so a pair's value does not depend on the route.
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

    All pairs of a grid (row-major, as the pairwise distances list them) go through the
    chunked grid loop, any other list of pairs through the pair loop; both do the same
    arithmetic in the same order, so a pair gets the same value (to the bit) either way.

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
    TE, TO, k1, k2 = _plan(action)
    nx, ny = X.shape[0], Y.shape[0]
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    cols = np.ascontiguousarray(cols, dtype=np.int64)
    value = np.empty(rows.shape[0])
    best = np.empty(rows.shape[0], dtype=np.int64)
    if rows.shape[0] == 0:
        return value, best
    L1, L2 = _left(X, action)
    R, Rt = _right(Y, action)
    args = (TE, TO, action.N % 2 == 0, k1, k2)
    if rows.shape[0] == nx * ny and _is_grid(rows, cols, ny):
        _grid_kernel(L1, L2, Rt, *args, value.reshape(nx, ny), best.reshape(nx, ny))
    else:
        _pair_kernel(L1, L2, R, *args, rows, cols, value, best)
    return value, best


@lru_cache(maxsize=64)
def _plan(action: Cyclic) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The real layout of the spectra of an action, computed once.

    ``F`` (the coefficients ``F_m``) is held as K real planes: ``Re F_m`` (weight
    ``cos 2πmg/N``) and, unless ``F_m`` is real (m = 0, m = N/2), ``Im F_m`` (``-sin``).
    Real term t adds ``L1[t] R[t]`` to plane ``k1[t]`` and ``L2[t] R[t]`` to plane ``k2[t]``
    (none when -1): with complex terms ``a`` (x side) and ``b`` (y side), ``Re ab`` is
    ``[Re a, -Im a]·[Re b, Im b]`` and ``Im ab`` is ``[Im a, Re a]·[Re b, Im b]``.

    Returns ``TE, TO`` (the (N/2, K) weights of the even / odd frequencies for even N, with
    ``v_{g+N/2} = E_g - O_g``; for odd N, ``TE`` (N, K) and ``TO = 0``) and ``k1, k2``.
    """
    _, freq = cyclic_terms(np.zeros((1, action.dim)), action, left=True)
    N = action.N
    freqs, parts, k1, k2 = [], [], [], []
    for m in range(N // 2 + 1):
        t = int(np.count_nonzero(freq == m))
        if not t:
            continue
        k = len(freqs)
        if m == 0 or 2 * m == N:
            freqs += [m]
            parts += [0]
            k1 += [k] * t
            k2 += [-1] * t
        else:
            freqs += [m, m]
            parts += [0, 1]
            k1 += [k] * (2 * t)
            k2 += [k + 1] * (2 * t)
    freqs_a, parts_a = np.array(freqs), np.array(parts)
    ang = 2 * np.pi * np.outer(np.arange(N), freqs_a) / N  # (N, K)
    T = np.where(parts_a == 0, np.cos(ang), -np.sin(ang))
    if N % 2 == 0:  # T[g + N/2] = TE[g] - TO[g]: odd frequencies change sign
        odd = freqs_a % 2 == 1
        TE = np.ascontiguousarray(np.where(odd, 0.0, T[: N // 2]))
        TO = np.ascontiguousarray(np.where(odd, T[: N // 2], 0.0))
    else:
        TE, TO = np.ascontiguousarray(T), np.zeros((N, len(freqs)))
    return TE, TO, np.array(k1, dtype=np.int64), np.array(k2, dtype=np.int64)


def _by_frequency(Z: np.ndarray, action: Cyclic, left: bool) -> list[tuple[np.ndarray, bool]]:
    A, freq = cyclic_terms(Z, action, left=left)
    N = action.N
    return [(A[:, freq == m], m == 0 or 2 * m == N) for m in range(N // 2 + 1) if np.any(freq == m)]


def _left(X: np.ndarray, action: Cyclic) -> tuple[np.ndarray, np.ndarray]:
    """``L1, L2`` of shape (n_x, n_real_terms) (see :func:`_plan`)."""
    L1, L2 = [], []
    for a, real in _by_frequency(X, action, True):
        if real:
            L1.append(a.real)
            L2.append(np.zeros(a.shape))
        else:
            L1.append(np.hstack([a.real, -a.imag]))
            L2.append(np.hstack([a.imag, a.real]))
    return np.ascontiguousarray(np.hstack(L1)), np.ascontiguousarray(np.hstack(L2))


#: the y side of the last call: (action, copy of Y, R, Rᵀ); the pairwise distances call once
#: per block of rows with the same Y
_LAST_Y: tuple = ()
#: the largest Y (bytes) whose y side is kept
_CACHE_BYTES = 2**26


def _right(Y: np.ndarray, action: Cyclic) -> tuple[np.ndarray, np.ndarray]:
    """``R`` of shape (n_y, n_real_terms) (see :func:`_plan`) and its contiguous transpose,
    reused while ``Y`` (compared in full with a kept copy) and the action are the same."""
    global _LAST_Y
    last = _LAST_Y
    if last and last[0] == action and last[1].shape == Y.shape and np.array_equal(last[1], Y):
        return last[2], last[3]
    parts = _by_frequency(Y, action, False)
    R = np.ascontiguousarray(
        np.hstack([b.real if real else np.hstack([b.real, b.imag]) for b, real in parts])
    )
    Rt = np.ascontiguousarray(R.T)
    if Y.nbytes <= _CACHE_BYTES:  # a larger Y is not copied (nor cached)
        _LAST_Y = (action, np.array(Y, copy=True), R, Rt)
    return R, Rt


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


_CHUNK = 256


@njit(cache=True, nogil=True, inline="always")
def _eval_chunk(Fc, L, TE, TO, two, Ev, Od, t1, a1, t2, a2, value, best, p0):  # pragma: no cover
    """``v_g = Σ_k T[g, k] Fc[k, t]`` for the L pairs of a chunk and g = 0..N-1, written
    ``v_g = E_g + O_g``, ``v_{g+N/2} = E_g - O_g`` for even N (``two``); the largest and its
    first g into ``value[p0 + t]``, ``best[p0 + t]``.  Inner loops run over the pairs."""
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


@njit(cache=True, nogil=True)
def _grid_kernel(L1, L2, Rt, TE, TO, two, k1, k2, value, best):  # pragma: no cover - compiled
    """Every pair of rows of X (``L1, L2``) and Y (``Rt``, term-major): the planes of F for a
    chunk of y rows, summed term by term, then :func:`_eval_chunk`."""
    nx = L1.shape[0]
    Q, ny = Rt.shape
    K = TE.shape[1]
    CH = _CHUNK
    Fc = np.empty((K, CH))
    Ev, Od, t1, t2 = np.empty(CH), np.empty(CH), np.empty(CH), np.empty(CH)
    a1, a2 = np.empty(CH, np.int64), np.empty(CH, np.int64)
    for i in range(nx):
        for j0 in range(0, ny, CH):
            L = min(CH, ny - j0)
            for k in range(K):
                for t in range(L):
                    Fc[k, t] = 0.0
            for q in range(Q):
                a = L1[i, q]
                r = Rt[q, j0 : j0 + L]
                fa = Fc[k1[q]]
                for t in range(L):
                    fa[t] += a * r[t]
                if k2[q] >= 0:
                    b = L2[i, q]
                    fb = Fc[k2[q]]
                    for t in range(L):
                        fb[t] += b * r[t]
            _eval_chunk(Fc, L, TE, TO, two, Ev, Od, t1, a1, t2, a2, value[i], best[i], j0)


@njit(cache=True, nogil=True)
def _pair_kernel(L1, L2, R, TE, TO, two, k1, k2, rows, cols, value, best):  # pragma: no cover
    """The pairs ``(rows[q], cols[q])`` one at a time, with the arithmetic of
    :func:`_grid_kernel` (same terms, same order)."""
    Q = R.shape[1]
    K = TE.shape[1]
    Fc = np.empty((K, 1))
    Ev, Od, t1, t2 = np.empty(1), np.empty(1), np.empty(1), np.empty(1)
    a1, a2 = np.empty(1, np.int64), np.empty(1, np.int64)
    for p in range(rows.shape[0]):
        i = rows[p]
        j = cols[p]
        for k in range(K):
            Fc[k, 0] = 0.0
        for q in range(Q):
            r = R[j, q]
            Fc[k1[q], 0] += L1[i, q] * r
            if k2[q] >= 0:
                Fc[k2[q], 0] += L2[i, q] * r
        _eval_chunk(Fc, 1, TE, TO, two, Ev, Od, t1, a1, t2, a2, value, best, p)


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
