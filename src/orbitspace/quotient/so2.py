"""Exact SO(2) alignment: the certified global maximum of a real trigonometric polynomial.

Writing the two coordinates of each frequency-k block as one complex number, the inner product
of ``x`` with the rotated ``y`` is

    f(θ) = <x, ρ(θ) y> = c_0 + Re Σ_{k=1..K} C_k e^{ikθ},   C_k = Σ_copies conj(x̃_k) ỹ_k,

a real trigonometric polynomial of degree K (``c_0`` collects the invariant scalars).

The maximiser is found and certified in three steps (per pair, compiled with numba):

1. sample f on L = max(16, 8K) equally spaced angles (one matrix product with a cosine/sine
   table for all pairs of a chunk, or one batched FFT when K is large);
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
    "so2_coefficients",
    "so2_pairwise_coefficients",
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


def so2_pairwise_coefficients(
    X: np.ndarray, Y: np.ndarray, layout: BlockLayout, K: int
) -> np.ndarray:
    """All-pairs coefficients: ``C[i, j]`` for rows ``X[i]`` and ``Y[j]`` (one matmul a frequency).

    Parameters
    ----------
    X : array of shape (n, dim)
    Y : array of shape (m, dim)

    Returns
    -------
    complex array of shape (n, m, K + 1)
    """
    C = np.zeros((X.shape[0], Y.shape[0], K + 1), dtype=np.complex128)
    if layout.scalar_idx.size:
        C[..., 0] = X[:, layout.scalar_idx] @ Y[:, layout.scalar_idx].T
    if layout.pair_a.size:
        Xc = np.conj(_complex_parts(X, layout))
        Yc = _complex_parts(Y, layout)
        for k in np.unique(layout.pair_freq):
            sel = layout.pair_freq == k
            C[..., k] = Xc[:, sel] @ Yc[:, sel].T
    return C


def _samples(C: np.ndarray, L: int) -> np.ndarray:
    """``f`` at the angles ``2πl/L`` for every row of ``C`` (shape (P, K+1)) -> (P, L)."""
    K = C.shape[1] - 1
    if K > FFT_DEGREE:
        spectrum = np.zeros((C.shape[0], L // 2 + 1), dtype=np.complex128)
        spectrum[:, 0] = 2.0 * C[:, 0].real
        spectrum[:, 1 : K + 1] = C[:, 1:]
        return np.fft.irfft(spectrum, n=L, axis=1) * (L / 2.0)
    angles = np.outer(np.arange(K + 1), 2 * np.pi * np.arange(L) / L)
    return C.real @ np.cos(angles) - C.imag @ np.sin(angles)


def maximise_trig_polynomial(
    C: np.ndarray, *, rtol: float = RTOL, chunk: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Certified global maximum of ``f(θ) = Re Σ_k C_k e^{ikθ}`` for every row of ``C``.

    Parameters
    ----------
    C : complex array of shape (..., K + 1); ``C[..., 0]`` is the (real) constant term
    rtol : accuracy of the maximum relative to ``Σ_k |C_k|``

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
    L = max(16, 8 * K)
    step = chunk or max(256, 2**21 // L)
    for s in range(0, flat.shape[0], step):
        block = flat[s : s + step]
        samples = np.ascontiguousarray(_samples(block, L))
        _refine_kernel(block, samples, float(rtol), value[s : s + step], theta[s : s + step])
    return value.reshape(batch), theta.reshape(batch)


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
def _refine_kernel(C, samples, rtol, out_value, out_theta):  # pragma: no cover - compiled
    P = C.shape[0]
    K = C.shape[1] - 1
    L = samples.shape[1]
    h = 2.0 * math.pi / L
    cap = L + 256
    st_a = np.empty(cap)
    st_b = np.empty(cap)
    st_fa = np.empty(cap)
    st_fb = np.empty(cap)
    min_width = h * 1e-12
    for p in range(P):
        c = C[p]
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
        best = -np.inf
        best_t = 0.0
        lb = 0
        for ell in range(L):
            if samples[p, ell] > best:
                best = samples[p, ell]
                lb = ell
        best_t = lb * h
        if M1 == 0.0:
            out_value[p] = best
            out_theta[p] = 0.0
            continue
        top = 0
        # push every promising cell; the two beside the best sample last, so they come first
        for ell in range(L + 2):
            if ell < L:
                cell = ell
                if cell == lb or cell == (lb - 1) % L:
                    continue
            elif ell == L:
                cell = (lb - 1) % L
            else:
                cell = lb
            fa = samples[p, cell]
            fb = samples[p, (cell + 1) % L]
            if _cell_bound(fa, fb, h, M1, M2) > best + tol:
                st_a[top] = cell * h
                st_b[top] = (cell + 1) * h
                st_fa[top] = fa
                st_fb[top] = fb
                top += 1
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
                    _, gh, _ = _evaluate(c, K, b)
                    if gh >= 0.0:
                        continue  # increasing up to b: max at b, already counted
                elif g1 < 0.0:
                    lo = a
                    hi = m
                    _, gl, _ = _evaluate(c, K, a)
                    if gl <= 0.0:
                        continue  # decreasing from a: max at a, already counted
                else:
                    continue  # m is the critical point
                t = m
                for _ in range(100):
                    tn = t - g1 / g2 if g2 < 0.0 else 0.5 * (lo + hi)
                    if not (lo < tn < hi):
                        tn = 0.5 * (lo + hi)
                    ft, g1, g2 = _evaluate(c, K, tn)
                    if ft > best:
                        best = ft
                        best_t = tn
                    if g1 > 0.0:
                        lo = tn
                    elif g1 < 0.0:
                        hi = tn
                    else:
                        break
                    if abs(tn - t) <= 1e-15 * (1.0 + abs(tn)) or hi - lo <= 1e-15 * (1.0 + abs(tn)):
                        break
                    t = tn
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
        out_value[p] = best
        out_theta[p] = best_t % (2.0 * math.pi)
