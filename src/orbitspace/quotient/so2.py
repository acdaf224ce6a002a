"""Exact SO(2) alignment: the certified global maximum of a real trigonometric polynomial.

Writing the two coordinates of each frequency-k block as one complex number, the inner product
of ``x`` with the rotated ``y`` is

    f(θ) = <x, ρ(θ) y> = c_0 + Re Σ_{k=1..K} C_k e^{ikθ},   C_k = Σ_copies conj(x̃_k) ỹ_k,

a real trigonometric polynomial of degree K (``c_0`` collects the invariant scalars).

The maximiser is found and certified in three steps (per pair, compiled with numba):

1. sample f on L = max(16, 8K) equally spaced angles (from a cosine/sine table inside the
   compiled loop, or by one batched inverse FFT over all pairs of a chunk when K is large);
2. bound f on every cell between neighbouring samples with the derivative bounds
   ``|f'| <= M1 = Σ k|C_k|`` and ``|f''| <= M2 = Σ k²|C_k|``; only cells whose upper bound exceeds
   the best value found so far (plus a tolerance) can hold the maximum;
3. in each surviving cell, if ``f'' + M3·w/2 < 0`` at the midpoint (``M3 = Σ k³|C_k|``, w the
   cell width) f is strictly concave there and its maximum is the root of f' found by bracketed
   (safeguarded) Newton steps; otherwise the cell is bisected and both halves re-bounded.

The value returned is within ``rtol · (|c_0| + Σ|C_k|) <= rtol · ‖x‖‖y‖`` of the true global
maximum (rtol = 1e-12), up to floating-point rounding of f itself.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from orbitspace.groups._layout import BlockLayout

__all__ = [
    "RTOL",
    "so2_pairs",
    "so2_coefficients",
    "maximise_trig_polynomial",
]

#: certified relative accuracy of the maximum value (relative to |c_0| + Σ|C_k|)
RTOL = 1e-12
#: above this degree the samples come from a batched FFT instead of a cosine/sine table product
FFT_DEGREE = 64


def _complex_parts(Z: np.ndarray, layout: BlockLayout) -> np.ndarray:
    return Z[..., layout.pair_a] + 1j * Z[..., layout.pair_b]


def so2_coefficients(X: np.ndarray, Y: np.ndarray, layout: BlockLayout, K: int) -> np.ndarray:
    """Coefficients ``C[..., k]`` of ``f(θ) = Re Σ_k C_k e^{ikθ}`` (C_0 real), broadcasting.

    Parameters
    ----------
    X, Y : arrays of shape (..., dim), batch dims broadcast
    layout : the block layout of the action
    K : the maximum frequency

    Returns
    -------
    complex array of shape (batch, K + 1)
    """
    batch = np.broadcast_shapes(X.shape[:-1], Y.shape[:-1])
    C = np.zeros(batch + (K + 1,), dtype=np.complex128)
    if layout.scalar_idx.size:
        C[..., 0] = (X[..., layout.scalar_idx] * Y[..., layout.scalar_idx]).sum(-1)
    if layout.pair_a.size:
        prod = np.conj(_complex_parts(X, layout)) * _complex_parts(Y, layout)
        for k in np.unique(layout.pair_freq):
            C[..., k] = prod[..., layout.pair_freq == k].sum(-1)
    return C


def sample_count(K: int) -> int:
    """Number of equally spaced samples for degree K (at least 8K)."""
    return max(16, 8 * K)


def maximise_trig_polynomial(
    C: np.ndarray, *, rtol: float = RTOL, chunk: int = 2**16
) -> tuple[np.ndarray, np.ndarray]:
    """Certified global maximum of ``f(θ) = Re Σ_k C_k e^{ikθ}`` for every row of ``C``.

    Parameters
    ----------
    C : complex array of shape (..., K + 1); ``C[..., 0]`` is the (real) constant term
    rtol : accuracy of the maximum relative to ``Σ_k |C_k|``
    chunk : rows handled per compiled call (bounds the memory of the FFT samples)

    Returns
    -------
    value : array of shape (...)
    theta : array of shape (...), a maximiser in [0, 2π)
    """
    batch = C.shape[:-1]
    K = C.shape[-1] - 1
    flat = np.ascontiguousarray(C.reshape(-1, K + 1), dtype=np.complex128)
    value = np.empty(flat.shape[0])
    theta = np.zeros(flat.shape[0])
    if K == 0:
        value[:] = flat[:, 0].real
        return value.reshape(batch), theta.reshape(batch)
    L = sample_count(K)
    cos_table, sin_table = _tables(K)
    for s in range(0, flat.shape[0], chunk):
        block = flat[s : s + chunk]
        # small degree: the kernel samples from the tables; large degree: one batched FFT
        samples = _fft_samples(block, L) if K > FFT_DEGREE else np.empty((0, L))
        _refine_kernel(
            block,
            samples,
            cos_table,
            sin_table,
            float(rtol),
            value[s : s + chunk],
            theta[s : s + chunk],
        )
    return value.reshape(batch), theta.reshape(batch)


def _tables(K: int) -> tuple[np.ndarray, np.ndarray]:
    """cos(kθ_l), sin(kθ_l) at the L sample angles, shape (L, K + 1) each."""
    L = sample_count(K)
    angles = np.outer(2 * np.pi * np.arange(L) / L, np.arange(K + 1))
    return np.ascontiguousarray(np.cos(angles)), np.ascontiguousarray(np.sin(angles))


def so2_pairs(
    X: np.ndarray,
    Y: np.ndarray,
    rows: np.ndarray,
    cols: np.ndarray,
    layout: BlockLayout,
    K: int,
    *,
    rtol: float = RTOL,
) -> tuple[np.ndarray, np.ndarray]:
    """Certified ``max_θ <X[rows[q]], ρ(θ) Y[cols[q]]>`` and a maximiser for every pair ``q``.

    The coefficients of each pair are formed inside the compiled loop (no BLAS, no
    temporaries of shape (pairs, K)).

    Parameters
    ----------
    X : array of shape (n_x, dim)
    Y : array of shape (n_y, dim)
    rows, cols : int arrays of shape (n_pairs,)

    Returns
    -------
    value, theta : arrays of shape (n_pairs,)
    """
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    cols = np.ascontiguousarray(cols, dtype=np.int64)
    if K == 0 or K > FFT_DEGREE:
        value = np.empty(rows.shape[0])
        theta = np.zeros(rows.shape[0])
        step = 2**14
        for s in range(0, rows.shape[0], step):
            r, c = rows[s : s + step], cols[s : s + step]
            value[s : s + step], theta[s : s + step] = maximise_trig_polynomial(
                so2_coefficients(X[r], Y[c], layout, K), rtol=rtol
            )
        return value, theta
    Xs = np.ascontiguousarray(X[:, layout.scalar_idx])
    Ys = np.ascontiguousarray(Y[:, layout.scalar_idx])
    Xc = np.ascontiguousarray(np.conj(_complex_parts(X, layout)))
    Yc = np.ascontiguousarray(_complex_parts(Y, layout))
    freq = np.ascontiguousarray(layout.pair_freq, dtype=np.int64)
    cos_table, sin_table = _tables(K)
    value = np.empty(rows.shape[0])
    theta = np.empty(rows.shape[0])
    _pairs_kernel(
        Xs, Ys, Xc, Yc, freq, rows, cols, K, cos_table, sin_table, float(rtol), value, theta
    )
    return value, theta


def _fft_samples(C: np.ndarray, L: int) -> np.ndarray:
    """``f(2πl/L)`` for every row of ``C`` (P, K+1) by one batched inverse real FFT: (P, L)."""
    K = C.shape[1] - 1
    spectrum = np.zeros((C.shape[0], L // 2 + 1), dtype=np.complex128)
    spectrum[:, 0] = 2.0 * C[:, 0].real
    spectrum[:, 1 : K + 1] = C[:, 1:]
    return np.ascontiguousarray(np.fft.irfft(spectrum, n=L, axis=1) * (L / 2.0))


@njit(cache=True, nogil=True)
def _evaluate(c, K, t):  # pragma: no cover - compiled
    """f(t), f'(t), f''(t)."""
    f = c[0].real
    d1 = 0.0
    d2 = 0.0
    ct = math.cos(t)
    st = math.sin(t)
    zr = ct
    zi = st
    for k in range(1, K + 1):
        re = c[k].real * zr - c[k].imag * zi
        im = c[k].real * zi + c[k].imag * zr
        f += re
        d1 -= k * im
        d2 -= k * k * re
        if k % 16 == 0:  # refresh e^{ikt} now and then to bound the recurrence's rounding
            zr2 = math.cos((k + 1) * t)
            zi = math.sin((k + 1) * t)
            zr = zr2
        else:
            zr, zi = zr * ct - zi * st, zr * st + zi * ct
    return f, d1, d2


@njit(cache=True, nogil=True)
def _cell_bound(fa, fb, w, M1, M2):  # pragma: no cover - compiled
    """Upper bound of f on a cell of width w with end values fa, fb."""
    lipschitz = 0.5 * (fa + fb) + 0.5 * M1 * w
    q = 0.5 * M2 * w * w  # f <= linear interpolation + q s(1 - s), s in [0, 1]
    delta = fb - fa
    if q > 0.0:
        s = 0.5 + delta / (2.0 * q)
        s = min(1.0, max(0.0, s))
        quadratic = fa + delta * s + q * s * (1.0 - s)
    else:
        quadratic = max(fa, fb)
    return min(lipschitz, quadratic)


@njit(cache=True, nogil=True)
def _maximise_one(
    c, K, samples, have_samples, cos_table, sin_table, rtol, fs, st_a, st_b, st_fa, st_fb
):  # pragma: no cover - compiled
    """Certified maximum (value, angle) of one polynomial ``c`` (K + 1 complex coefficients)."""
    L = cos_table.shape[0]
    h = 2.0 * math.pi / L
    cap = st_a.shape[0]
    min_width = h * 1e-12
    scale = abs(c[0].real)
    M1 = 0.0
    M2 = 0.0
    M3 = 0.0
    for k in range(1, K + 1):
        a = abs(c[k])
        scale += a
        M1 += k * a
        M2 += k * k * a
        M3 += k * k * k * a
    tol = rtol * scale
    # 1. samples
    best = -np.inf
    lb = 0
    for ell in range(L):
        if have_samples:
            v = samples[ell]
        else:
            v = c[0].real
            for k in range(1, K + 1):
                v += c[k].real * cos_table[ell, k] - c[k].imag * sin_table[ell, k]
        fs[ell] = v
        if v > best:
            best = v
            lb = ell
    best_t = lb * h
    if M1 == 0.0:
        return best, 0.0
    # 2. cells whose upper bound beats the best sample, visited cyclically from lb + 1 so that
    #    the two beside the best sample are pushed last and popped first
    top = 0
    threshold = best + tol - 0.125 * M2 * h * h  # cheap pre-filter of the quadratic bound
    cell = lb + 1
    for _ in range(L):
        if cell >= L:
            cell -= L
        fa = fs[cell]
        fb = fs[cell + 1] if cell + 1 < L else fs[0]
        if max(fa, fb) > threshold and _cell_bound(fa, fb, h, M1, M2) > best + tol:
            st_a[top] = cell * h
            st_b[top] = (cell + 1) * h
            st_fa[top] = fa
            st_fb[top] = fb
            top += 1
        cell += 1
    # 3. refine: concave cells by bracketed Newton, the others by bisection
    crit = -np.inf  # best critical point found by Newton (precise position)
    crit_t = 0.0
    while top > 0:
        top -= 1
        a = st_a[top]
        b = st_b[top]
        fa = st_fa[top]
        fb = st_fb[top]
        w = b - a
        if _cell_bound(fa, fb, w, M1, M2) <= best + tol:
            continue
        m = 0.5 * (a + b)
        fm, g1, g2 = _evaluate(c, K, m)
        if fm > best:
            best = fm
            best_t = m
        if g2 + 0.5 * M3 * w < 0.0:
            # strictly concave on [a, b]: f' decreases, at most one critical point
            if g1 > 0.0:
                lo = m
                hi = b
            elif g1 < 0.0:
                lo = a
                hi = m
            else:
                if fm > crit:  # m is the critical point
                    crit = fm
                    crit_t = m
                continue
            t = m
            tn = m
            ft = fm
            checked = False
            converged = False
            for _ in range(100):
                step = -g1 / g2 if g2 < 0.0 else np.inf
                tn = t + step
                if not (lo <= tn <= hi):
                    if not checked:
                        # the Newton step leaves the cell: is there a root inside at all?
                        checked = True
                        edge = hi if g1 > 0.0 else lo
                        _, ge, _ = _evaluate(c, K, edge)
                        if (g1 > 0.0 and ge >= 0.0) or (g1 < 0.0 and ge <= 0.0):
                            break  # monotone on the cell: its max is an end, already seen
                    tn = 0.5 * (lo + hi)
                ft, g1, g2 = _evaluate(c, K, tn)
                if ft > best:
                    best = ft
                    best_t = tn
                if abs(step) <= 1e-9 or g1 == 0.0:
                    converged = True  # quadratic convergence: tn is at machine precision
                    break
                if g1 > 0.0:
                    lo = tn
                else:
                    hi = tn
                if hi - lo <= 1e-15 * (1.0 + abs(tn)):
                    converged = True
                    break
                t = tn
            if converged and ft > crit:
                crit = ft
                crit_t = tn
            continue
        if w < min_width or top + 2 > cap:
            continue
        st_a[top] = a
        st_b[top] = m
        st_fa[top] = fa
        st_fb[top] = fm
        top += 1
        st_a[top] = m
        st_b[top] = b
        st_fa[top] = fm
        st_fb[top] = fb
        top += 1
    # f is flat at a maximum: a sample within rounding of the best value may sit ~1e-8 away
    # from the maximiser, so report the Newton critical point when it ties with the best
    if crit >= best - 1e-14 * (K + 1) * scale:
        best_t = crit_t
    return best, best_t % (2.0 * math.pi)


@njit(cache=True, nogil=True)
def _refine_kernel(
    C, samples, cos_table, sin_table, rtol, out_value, out_theta
):  # pragma: no cover
    """Maximise every row of the coefficient array ``C`` (P, K + 1)."""
    K = C.shape[1] - 1
    L = cos_table.shape[0]
    have_samples = samples.shape[0] == C.shape[0]
    fs = np.empty(L)
    cap = L + 256
    st_a, st_b, st_fa, st_fb = np.empty(cap), np.empty(cap), np.empty(cap), np.empty(cap)
    for p in range(C.shape[0]):
        row = samples[p] if have_samples else fs
        out_value[p], out_theta[p] = _maximise_one(
            C[p], K, row, have_samples, cos_table, sin_table, rtol, fs, st_a, st_b, st_fa, st_fb
        )


@njit(cache=True, nogil=True)
def _pairs_kernel(
    Xs, Ys, Xc, Yc, freq, rows, cols, K, cos_table, sin_table, rtol, out_value, out_theta
):  # pragma: no cover - compiled
    """Coefficients of each pair (rows[q], cols[q]) built in place, then maximised."""
    L = cos_table.shape[0]
    fs = np.empty(L)
    cap = L + 256
    st_a, st_b, st_fa, st_fb = np.empty(cap), np.empty(cap), np.empty(cap), np.empty(cap)
    c = np.empty(K + 1, dtype=np.complex128)
    for q in range(rows.shape[0]):
        i = rows[q]
        j = cols[q]
        acc = 0.0
        for a in range(Xs.shape[1]):
            acc += Xs[i, a] * Ys[j, a]
        c[0] = acc
        for k in range(1, K + 1):
            c[k] = 0.0
        for a in range(Xc.shape[1]):
            c[freq[a]] += Xc[i, a] * Yc[j, a]
        out_value[q], out_theta[q] = _maximise_one(
            c, K, fs, False, cos_table, sin_table, rtol, fs, st_a, st_b, st_fa, st_fb
        )
