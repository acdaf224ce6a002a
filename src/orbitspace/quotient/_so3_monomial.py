"""The SO(3) quaternion polynomial evaluated monomial by monomial (numba): the slow twin.

:func:`_eval` (value, Lie gradient and Hessian) and :func:`_third_norms` (norms of the
third-derivative tensor) differentiate every monomial ``a_α q^α`` of :mod:`._so3_poly`
directly; the search uses the symmetric-tensor contraction of :mod:`._so3_tensor`, and the
tests check the two against each other (and these against finite differences and numpy).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from orbitspace.quotient._so3_kernels import _lambda_max

__all__ = ["TENSOR_MULT", "_eval", "_third_norm", "_third_norms"]


def _triple_counts() -> np.ndarray:
    cnt = np.zeros((20, 4), dtype=np.int64)
    t = 0
    for i in range(4):
        for j in range(i, 4):
            for k in range(j, 4):
                cnt[t, i] += 1
                cnt[t, j] += 1
                cnt[t, k] += 1
                t += 1
    return cnt


#: for the 20 index triples i <= j <= k of 4 coordinates, how often each coordinate occurs
_TRIPLE_CNT = _triple_counts()
#: multiplicities of the 10 unique entries of a symmetric 3-tensor (TENSOR_TRIPLES order)
TENSOR_MULT = np.array([1.0, 1.0, 1.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 6.0])


@njit(cache=True, nogil=True)
def _eval(a, expo, L, q, want_hess, g, H, pw):  # pragma: no cover - compiled
    """p(q); fills the Lie gradient ``g`` (3,) and (if asked) Hessian ``H`` (3, 3).

    ``pw`` is scratch of shape (4, 2L + 1) (the powers of q's coordinates)."""
    deg = 2 * L
    for i in range(4):
        pw[i, 0] = 1.0
        for k in range(1, deg + 1):
            pw[i, k] = pw[i, k - 1] * q[i]
    f = 0.0
    g0 = g1 = g2 = g3 = 0.0
    h00 = h11 = h22 = h33 = h01 = h02 = h03 = h12 = h13 = h23 = 0.0
    for al in range(expo.shape[0]):
        c = a[al]
        if c == 0.0:
            continue
        e0, e1, e2, e3 = expo[al, 0], expo[al, 1], expo[al, 2], expo[al, 3]
        t0, t1, t2, t3 = pw[0, e0], pw[1, e1], pw[2, e2], pw[3, e3]
        m0 = e0 * pw[0, e0 - 1] if e0 >= 1 else 0.0
        m1 = e1 * pw[1, e1 - 1] if e1 >= 1 else 0.0
        m2 = e2 * pw[2, e2 - 1] if e2 >= 1 else 0.0
        m3 = e3 * pw[3, e3 - 1] if e3 >= 1 else 0.0
        t01 = t0 * t1
        t23 = t2 * t3
        f += c * t01 * t23
        g0 += c * m0 * t1 * t23
        g1 += c * m1 * t0 * t23
        g2 += c * m2 * t3 * t01
        g3 += c * m3 * t2 * t01
        if want_hess:
            n0 = e0 * (e0 - 1) * pw[0, e0 - 2] if e0 >= 2 else 0.0
            n1 = e1 * (e1 - 1) * pw[1, e1 - 2] if e1 >= 2 else 0.0
            n2 = e2 * (e2 - 1) * pw[2, e2 - 2] if e2 >= 2 else 0.0
            n3 = e3 * (e3 - 1) * pw[3, e3 - 2] if e3 >= 2 else 0.0
            h00 += c * n0 * t1 * t23
            h11 += c * n1 * t0 * t23
            h22 += c * n2 * t3 * t01
            h33 += c * n3 * t2 * t01
            h01 += c * m0 * m1 * t23
            h23 += c * m2 * m3 * t01
            h02 += c * m0 * m2 * t1 * t3
            h03 += c * m0 * m3 * t1 * t2
            h12 += c * m1 * m2 * t0 * t3
            h13 += c * m1 * m3 * t0 * t2
    # tangent frame W: columns q ⊗ (0, e_k); g = ½ Wᵀ∇p
    w, x, y, z = q[0], q[1], q[2], q[3]
    W00, W10, W20, W30 = -x, w, z, -y
    W01, W11, W21, W31 = -y, -z, w, x
    W02, W12, W22, W32 = -z, y, -x, w
    g[0] = 0.5 * (W00 * g0 + W10 * g1 + W20 * g2 + W30 * g3)
    g[1] = 0.5 * (W01 * g0 + W11 * g1 + W21 * g2 + W31 * g3)
    g[2] = 0.5 * (W02 * g0 + W12 * g1 + W22 * g2 + W32 * g3)
    if want_hess:
        # HW = ∇²p W (4 × 3), then H = ¼ Wᵀ HW − (L/2) p I
        a0 = h00 * W00 + h01 * W10 + h02 * W20 + h03 * W30
        a1 = h01 * W00 + h11 * W10 + h12 * W20 + h13 * W30
        a2 = h02 * W00 + h12 * W10 + h22 * W20 + h23 * W30
        a3 = h03 * W00 + h13 * W10 + h23 * W20 + h33 * W30
        b0 = h00 * W01 + h01 * W11 + h02 * W21 + h03 * W31
        b1 = h01 * W01 + h11 * W11 + h12 * W21 + h13 * W31
        b2 = h02 * W01 + h12 * W11 + h22 * W21 + h23 * W31
        b3 = h03 * W01 + h13 * W11 + h23 * W21 + h33 * W31
        c0_ = h00 * W02 + h01 * W12 + h02 * W22 + h03 * W32
        c1_ = h01 * W02 + h11 * W12 + h12 * W22 + h13 * W32
        c2_ = h02 * W02 + h12 * W12 + h22 * W22 + h23 * W32
        c3_ = h03 * W02 + h13 * W12 + h23 * W22 + h33 * W32
        shift = 0.5 * L * f
        H[0, 0] = 0.25 * (W00 * a0 + W10 * a1 + W20 * a2 + W30 * a3) - shift
        H[1, 1] = 0.25 * (W01 * b0 + W11 * b1 + W21 * b2 + W31 * b3) - shift
        H[2, 2] = 0.25 * (W02 * c0_ + W12 * c1_ + W22 * c2_ + W32 * c3_) - shift
        H[0, 1] = H[1, 0] = 0.25 * (W00 * b0 + W10 * b1 + W20 * b2 + W30 * b3)
        H[0, 2] = H[2, 0] = 0.25 * (W00 * c0_ + W10 * c1_ + W20 * c2_ + W30 * c3_)
        H[1, 2] = H[2, 1] = 0.25 * (W01 * c0_ + W11 * c1_ + W21 * c2_ + W31 * c3_)
    return f


@njit(cache=True, nogil=True)
def _third_norms(a, expo, L, q):  # pragma: no cover - compiled
    """``T0_abc = ⅛ ∇³p[W_a, W_b, W_c]`` at q: its Frobenius norm and the largest singular
    value of its 3 × 9 unfolding (both bound ``|T0(u, u, u)|`` over unit u; the second is
    the smaller)."""
    deg = 2 * L
    pw = np.empty((4, deg + 1))
    for i in range(4):
        pw[i, 0] = 1.0
        for k in range(1, deg + 1):
            pw[i, k] = pw[i, k - 1] * q[i]
    # d3[t] for the 20 index triples i <= j <= k (counts per coordinate, _TRIPLE_CNT); per
    # monomial the falling-factorial powers D[m, n] = e (e−1) ... (e−n+1) q_m^(e−n), n <= 3
    d3 = np.zeros(20)
    D = np.empty((4, 4))
    for al in range(expo.shape[0]):
        c = a[al]
        if c == 0.0:
            continue
        for m in range(4):
            e = expo[al, m]
            D[m, 0] = pw[m, e]
            D[m, 1] = e * pw[m, e - 1] if e >= 1 else 0.0
            D[m, 2] = e * (e - 1) * pw[m, e - 2] if e >= 2 else 0.0
            D[m, 3] = e * (e - 1) * (e - 2) * pw[m, e - 3] if e >= 3 else 0.0
        for t in range(20):
            d3[t] += (
                c
                * D[0, _TRIPLE_CNT[t, 0]]
                * D[1, _TRIPLE_CNT[t, 1]]
                * D[2, _TRIPLE_CNT[t, 2]]
                * D[3, _TRIPLE_CNT[t, 3]]
            )
    full = np.empty((4, 4, 4))
    t = 0
    for i in range(4):
        for j in range(i, 4):
            for k in range(j, 4):
                v = d3[t]
                t += 1
                full[i, j, k] = v
                full[i, k, j] = v
                full[j, i, k] = v
                full[j, k, i] = v
                full[k, i, j] = v
                full[k, j, i] = v
    W = np.empty((4, 3))
    w, x, y, z = q[0], q[1], q[2], q[3]
    W[0, 0], W[1, 0], W[2, 0], W[3, 0] = -x, w, z, -y
    W[0, 1], W[1, 1], W[2, 1], W[3, 1] = -y, -z, w, x
    W[0, 2], W[1, 2], W[2, 2], W[3, 2] = -z, y, -x, w
    # contract one index at a time: (4,4,4) -> (3,4,4) -> (3,3,4) -> (3,3,3)
    s1 = np.zeros((3, 4, 4))
    for aa in range(3):
        for i in range(4):
            wi = W[i, aa]
            for j in range(4):
                for k in range(4):
                    s1[aa, j, k] += wi * full[i, j, k]
    s2 = np.zeros((3, 3, 4))
    for aa in range(3):
        for bb in range(3):
            for j in range(4):
                wj = W[j, bb]
                for k in range(4):
                    s2[aa, bb, k] += wj * s1[aa, j, k]
    T = np.empty((3, 3, 3))
    total = 0.0
    for aa in range(3):
        for bb in range(3):
            for cc in range(3):
                v = 0.0
                for k in range(4):
                    v += W[k, cc] * s2[aa, bb, k]
                T[aa, bb, cc] = 0.125 * v
                total += (0.125 * v) ** 2
    frob = math.sqrt(total)
    # |T(u, u, u)| = |<T_(1)ᵀu, u ⊗ u>| <= ‖T_(1)ᵀu‖ <= σ_max(T_(1)) (the 3 × 9 unfolding)
    G = np.zeros((3, 3))
    for aa in range(3):
        for bb in range(3):
            for cc in range(3):
                for dd in range(3):
                    G[aa, bb] += T[aa, cc, dd] * T[bb, cc, dd]
    lam = _lambda_max(G[0, 0], G[1, 1], G[2, 2], G[0, 1], G[0, 2], G[1, 2])
    spec = math.sqrt(max(lam, 0.0)) * (1.0 + 1e-12)
    return frob, min(frob, spec)


@njit(cache=True, nogil=True)
def _third_norm(a, expo, L, q):  # pragma: no cover - compiled
    """Frobenius norm of ``T0_abc = ⅛ ∇³p[W_a, W_b, W_c]`` at q (bounds ``|T0(u, u, u)|``)."""
    return _third_norms(a, expo, L, q)[0]
