"""The quaternion polynomial as a symmetric tensor: value and derivatives by contraction (numba).

A homogeneous polynomial of degree ``n`` in ``q = (w, x, y, z)`` is ``p(q) = A[q, ..., q]`` for
one symmetric tensor ``A`` of order n; with ``a_e`` the coefficient of the monomial ``q^e``
(:func:`._so3_poly.monomial_exponents` order), ``A_e = a_e / multinomial(n; e)``.  Contracting
one slot with q at a time gives the tensors ``T_k = A[q^(n−k), ·]`` of order k
(``T_k[e] = Σ_i q_i T_(k+1)[e + e_i]``, entries indexed by exponent vectors ``|e| = k``), and

    p = T_0,    ∇p = n T_1,    ∇²p = n (n−1) T_2,    ∇³p = n (n−1) (n−2) T_3.

All of them cost ``4 Σ_k C(k+3, 3)`` multiply-adds (140 for n = 4, against ~1,000 for the
derivatives monomial by monomial in :func:`._so3_monomial._eval`, the twin in the tests).

The Lie gradient and Hessian follow as in :mod:`._so3_poly` (``W = [q ⊗ (0, e_k)]_k``):
``g = ½ Wᵀ∇p``, ``H = ¼ Wᵀ∇²p W − (L/2) p I``.  The Frobenius norm of the tangent part of
``T_3`` (the slots restricted to the orthonormal complement ``W`` of q) needs no frame: in the
orthonormal basis ``(q, W)``, counting the slots filled with q,
``‖T_3|W‖² = ‖T_3‖² − 3 ‖T_2‖² + 3 ‖T_1‖² − T_0²`` (``T_3[q, ·, ·] = T_2`` and so on).
"""

from __future__ import annotations

import math
from functools import lru_cache
from math import comb, factorial

import numpy as np
from numba import njit

from orbitspace.quotient._so3_poly import monomial_exponents

__all__ = [
    "tensor_tables",
    "to_tensor",
    "poly_tuple",
    "contract",
    "tensor_eval",
    "chain_hessian",
    "tangent_third_norm",
    "tangent_third_tensor_ws",
]


@lru_cache(maxsize=8)
def tensor_tables(n: int):
    """Index tables of the contraction chain for degree ``n`` (cached).

    Returns
    -------
    child : int array (N, 4): flat index of ``e + e_i`` for every entry ``e`` of every level
        ``k < n`` (``N = Σ_{k<=n} C(k+3, 3)``; rows of level n unused)
    off : int array (n + 2,), where level k starts in the flat buffer (``off[n+1] = N``)
    mult : float array (N,), ``k! / Π e_i!`` (Frobenius weight of a symmetric entry)
    pair : int array (4, 4), flat index of ``e_i + e_j`` (level 2)
    scale : float array (C(n+3, 3),), ``1 / multinomial(n; e)`` in monomial order
    """
    levels = [monomial_exponents(k) for k in range(n + 1)]
    off = np.cumsum([0] + [len(e) for e in levels]).astype(np.int64)
    where = [{tuple(e): off[k] + i for i, e in enumerate(lv)} for k, lv in enumerate(levels)]
    N = int(off[-1])
    child = np.zeros((N, 4), dtype=np.int64)
    mult = np.zeros(N)
    for k, lv in enumerate(levels):
        for i, e in enumerate(lv):
            mult[off[k] + i] = factorial(k) / np.prod([factorial(int(x)) for x in e])
            if k < n:
                for d in range(4):
                    up = list(e)
                    up[d] += 1
                    child[off[k] + i, d] = where[k + 1][tuple(up)]
    pair = np.zeros((4, 4), dtype=np.int64) if n >= 2 else np.zeros((0, 0), dtype=np.int64)
    if n >= 2:
        for i in range(4):
            for j in range(4):
                e = [0, 0, 0, 0]
                e[i] += 1
                e[j] += 1
                pair[i, j] = where[2][tuple(e)]
    scale = 1.0 / mult[off[n] : off[n + 1]]
    for arr in (child, off, mult, pair, scale):
        arr.setflags(write=False)
    assert len(scale) == comb(n + 3, 3)
    return child, off, mult, pair, scale


def to_tensor(A: np.ndarray, n: int) -> np.ndarray:
    """Monomial coefficients ``(..., C(n+3, 3))`` to symmetric-tensor entries (same order)."""
    return np.ascontiguousarray(A * tensor_tables(n)[4])


@njit(cache=True, nogil=True, fastmath={"contract"})
def _contract4(A, q, T):  # pragma: no cover - compiled
    """:func:`_contract_tables` for n = 4, unrolled (levels 0..3 of ``T``; the statements are
    those of the index tables of ``tensor_tables(4)``, tested equal to the table loop)."""
    q0, q1, q2, q3 = q[0], q[1], q[2], q[3]
    t15 = q0 * A[0] + q1 * A[1] + q2 * A[2] + q3 * A[3]
    t16 = q0 * A[1] + q1 * A[4] + q2 * A[5] + q3 * A[6]
    t17 = q0 * A[2] + q1 * A[5] + q2 * A[7] + q3 * A[8]
    t18 = q0 * A[3] + q1 * A[6] + q2 * A[8] + q3 * A[9]
    t19 = q0 * A[4] + q1 * A[10] + q2 * A[11] + q3 * A[12]
    t20 = q0 * A[5] + q1 * A[11] + q2 * A[13] + q3 * A[14]
    t21 = q0 * A[6] + q1 * A[12] + q2 * A[14] + q3 * A[15]
    t22 = q0 * A[7] + q1 * A[13] + q2 * A[16] + q3 * A[17]
    t23 = q0 * A[8] + q1 * A[14] + q2 * A[17] + q3 * A[18]
    t24 = q0 * A[9] + q1 * A[15] + q2 * A[18] + q3 * A[19]
    t25 = q0 * A[10] + q1 * A[20] + q2 * A[21] + q3 * A[22]
    t26 = q0 * A[11] + q1 * A[21] + q2 * A[23] + q3 * A[24]
    t27 = q0 * A[12] + q1 * A[22] + q2 * A[24] + q3 * A[25]
    t28 = q0 * A[13] + q1 * A[23] + q2 * A[26] + q3 * A[27]
    t29 = q0 * A[14] + q1 * A[24] + q2 * A[27] + q3 * A[28]
    t30 = q0 * A[15] + q1 * A[25] + q2 * A[28] + q3 * A[29]
    t31 = q0 * A[16] + q1 * A[26] + q2 * A[30] + q3 * A[31]
    t32 = q0 * A[17] + q1 * A[27] + q2 * A[31] + q3 * A[32]
    t33 = q0 * A[18] + q1 * A[28] + q2 * A[32] + q3 * A[33]
    t34 = q0 * A[19] + q1 * A[29] + q2 * A[33] + q3 * A[34]
    t5 = q0 * t15 + q1 * t16 + q2 * t17 + q3 * t18
    t6 = q0 * t16 + q1 * t19 + q2 * t20 + q3 * t21
    t7 = q0 * t17 + q1 * t20 + q2 * t22 + q3 * t23
    t8 = q0 * t18 + q1 * t21 + q2 * t23 + q3 * t24
    t9 = q0 * t19 + q1 * t25 + q2 * t26 + q3 * t27
    t10 = q0 * t20 + q1 * t26 + q2 * t28 + q3 * t29
    t11 = q0 * t21 + q1 * t27 + q2 * t29 + q3 * t30
    t12 = q0 * t22 + q1 * t28 + q2 * t31 + q3 * t32
    t13 = q0 * t23 + q1 * t29 + q2 * t32 + q3 * t33
    t14 = q0 * t24 + q1 * t30 + q2 * t33 + q3 * t34
    t1 = q0 * t5 + q1 * t6 + q2 * t7 + q3 * t8
    t2 = q0 * t6 + q1 * t9 + q2 * t10 + q3 * t11
    t3 = q0 * t7 + q1 * t10 + q2 * t12 + q3 * t13
    t4 = q0 * t8 + q1 * t11 + q2 * t13 + q3 * t14
    t0 = q0 * t1 + q1 * t2 + q2 * t3 + q3 * t4
    T[0] = t0
    T[1] = t1
    T[2] = t2
    T[3] = t3
    T[4] = t4
    T[5] = t5
    T[6] = t6
    T[7] = t7
    T[8] = t8
    T[9] = t9
    T[10] = t10
    T[11] = t11
    T[12] = t12
    T[13] = t13
    T[14] = t14
    T[15] = t15
    T[16] = t16
    T[17] = t17
    T[18] = t18
    T[19] = t19
    T[20] = t20
    T[21] = t21
    T[22] = t22
    T[23] = t23
    T[24] = t24
    T[25] = t25
    T[26] = t26
    T[27] = t27
    T[28] = t28
    T[29] = t29
    T[30] = t30
    T[31] = t31
    T[32] = t32
    T[33] = t33
    T[34] = t34


@njit(cache=True, nogil=True, fastmath={"contract"})
def contract(asym, child, off, n, q, T):  # pragma: no cover - compiled
    """Fill ``T`` (flat, ``off[n+1]`` entries) with every ``T_k = A[q^(n−k)]`` (k < n; for
    n = 4 unrolled, :func:`_contract4`, else the table loop :func:`_contract_tables`)."""
    if n == 4:
        _contract4(asym, q, T)
    else:
        _contract_tables(asym, child, off, n, q, T)


@njit(cache=True, nogil=True, fastmath={"contract"})
def _contract_tables(asym, child, off, n, q, T):  # pragma: no cover - compiled
    """The contraction chain by the index tables: ``T_n = A`` copied into ``T``, then
    ``T_k[e] = Σ_i q_i T_(k+1)[e + e_i]`` level by level."""
    base = off[n]
    for e in range(asym.shape[0]):
        T[base + e] = asym[e]
    q0, q1, q2, q3 = q[0], q[1], q[2], q[3]
    for k in range(n - 1, -1, -1):
        for e in range(off[k], off[k + 1]):
            T[e] = (
                q0 * T[child[e, 0]]
                + q1 * T[child[e, 1]]
                + q2 * T[child[e, 2]]
                + q3 * T[child[e, 3]]
            )


@njit(cache=True, nogil=True, fastmath={"contract"})
def tensor_eval(asym, child, off, pair, n, q, want_hess, g, H, T):  # pragma: no cover
    """p(q), the Lie gradient ``g`` (3,) and (if asked) Hessian ``H`` (3, 3); ``T`` scratch
    (``off[n+1]``), left holding the contraction chain (for :func:`tangent_third_norm`)."""
    if n == 4:
        _contract4(asym, q, T)
    else:
        _contract_tables(asym, child, off, n, q, T)
    f = T[0]
    w, x, y, z = q[0], q[1], q[2], q[3]
    # tangent frame W: columns q ⊗ (0, e_k)
    W00, W10, W20, W30 = -x, w, z, -y
    W01, W11, W21, W31 = -y, -z, w, x
    W02, W12, W22, W32 = -z, y, -x, w
    d0, d1, d2, d3 = T[1], T[2], T[3], T[4]  # level 1
    hn = 0.5 * n
    g[0] = hn * (W00 * d0 + W10 * d1 + W20 * d2 + W30 * d3)
    g[1] = hn * (W01 * d0 + W11 * d1 + W21 * d2 + W31 * d3)
    g[2] = hn * (W02 * d0 + W12 * d1 + W22 * d2 + W32 * d3)
    if want_hess:
        chain_hessian(T, n, q, H)
    return f


@njit(cache=True, nogil=True, fastmath={"contract"})
def chain_hessian(T, n, q, H):  # pragma: no cover - compiled
    """The Lie Hessian ``H = ¼ Wᵀ∇²p W − (L/2) p I`` (3, 3) from the chain that
    :func:`tensor_eval` left in T at q (``∇²p = n (n−1) T_2``, ``p = T_0``)."""
    f = T[0]
    w, x, y, z = q[0], q[1], q[2], q[3]
    W00, W10, W20, W30 = -x, w, z, -y
    W01, W11, W21, W31 = -y, -z, w, x
    W02, W12, W22, W32 = -z, y, -x, w
    # level 2 starts at 5 for every n (levels 0, 1 have 1 and 4 entries), in the order
    # of monomial_exponents(2): ``pair`` is [[5, 6, 7, 8], [6, 9, 10, 11], ...]
    h00, h01, h02, h03 = T[5], T[6], T[7], T[8]
    h11, h12, h13 = T[9], T[10], T[11]
    h22, h23, h33 = T[12], T[13], T[14]
    a0 = h00 * W00 + h01 * W10 + h02 * W20 + h03 * W30
    a1 = h01 * W00 + h11 * W10 + h12 * W20 + h13 * W30
    a2 = h02 * W00 + h12 * W10 + h22 * W20 + h23 * W30
    a3 = h03 * W00 + h13 * W10 + h23 * W20 + h33 * W30
    b0 = h00 * W01 + h01 * W11 + h02 * W21 + h03 * W31
    b1 = h01 * W01 + h11 * W11 + h12 * W21 + h13 * W31
    b2 = h02 * W01 + h12 * W11 + h22 * W21 + h23 * W31
    b3 = h03 * W01 + h13 * W11 + h23 * W21 + h33 * W31
    c0 = h00 * W02 + h01 * W12 + h02 * W22 + h03 * W32
    c1 = h01 * W02 + h11 * W12 + h12 * W22 + h13 * W32
    c2 = h02 * W02 + h12 * W12 + h22 * W22 + h23 * W32
    c3 = h03 * W02 + h13 * W12 + h23 * W22 + h33 * W32
    qn = 0.25 * n * (n - 1)
    shift = 0.25 * n * f  # (L/2) p with n = 2L
    H[0, 0] = qn * (W00 * a0 + W10 * a1 + W20 * a2 + W30 * a3) - shift
    H[1, 1] = qn * (W01 * b0 + W11 * b1 + W21 * b2 + W31 * b3) - shift
    H[2, 2] = qn * (W02 * c0 + W12 * c1 + W22 * c2 + W32 * c3) - shift
    H[0, 1] = H[1, 0] = qn * (W00 * b0 + W10 * b1 + W20 * b2 + W30 * b3)
    H[0, 2] = H[2, 0] = qn * (W00 * c0 + W10 * c1 + W20 * c2 + W30 * c3)
    H[1, 2] = H[2, 1] = qn * (W01 * c0 + W11 * c1 + W21 * c2 + W31 * c3)


@njit(cache=True, nogil=True)
def tangent_third_norm(T, off, mult, n):  # pragma: no cover - compiled
    """``‖T_3|W‖_F`` rounded up (so ``>= |T_3[v, v, v]|`` for every unit tangent v), from the
    chain left by :func:`tensor_eval` at a unit quaternion (n >= 3).

    ``‖T_3|W‖² = ‖T_3‖² − 3‖T_2‖² + 3‖T_1‖² − T_0²`` (see the module doc; levels 0..3 sit at
    entries 0, 1-4, 5-14, 15-34 for every n), rounded up by ``1e-13`` times the sum of the
    magnitudes (cancellation and ``|q| = 1`` to rounding).
    ``T0 = ⅛ ∇³p[W, W, W] = n (n−1) (n−2) / 8 · T_3|W`` (the tensor of :mod:`._so3_kernels`).
    """
    t0 = T[0] * T[0]
    t1 = 0.0
    for e in range(1, 5):
        t1 += T[e] * T[e]  # level 1: multiplicities 1
    t2 = 0.0
    for e in range(5, 15):
        t2 += mult[e] * T[e] * T[e]
    t3 = 0.0
    for e in range(15, 35):
        t3 += mult[e] * T[e] * T[e]
    tan = t3 - 3.0 * t2 + 3.0 * t1 - t0 + 1e-13 * (t3 + 3.0 * t2 + 3.0 * t1 + t0)
    return math.sqrt(max(tan, 0.0))


def poly_tuple(a: np.ndarray, n: int) -> tuple:
    """The bundle the compiled search takes: ``(a, A, child, off, pair, mult)`` for monomial
    coefficients ``a`` of degree n (``A`` its symmetric-tensor entries, the rest
    :func:`tensor_tables`)."""
    child, off, mult, pair, _ = tensor_tables(n)
    a = np.ascontiguousarray(a, dtype=float)
    return (a, to_tensor(a, n), child, off, pair, mult)


@njit(cache=True, nogil=True)
def tangent_third_tensor_ws(T, child, n, q, out, W, M):  # pragma: no cover - compiled
    """``out[a, b, c] = T0_abc = n (n−1) (n−2) / 8 · T_3[W_a, W_b, W_c]`` (the third-derivative
    tensor of :func:`._so3_monomial._third_norms`) from the chain of :func:`tensor_eval`: the
    symmetric level 3 contracted with one frame vector at a time (levels 2 and 1 of the
    index tables), 10 + 4 + 1 entries per step instead of the full 4 × 4 × 4.  ``W (3, 4)``
    and ``M (3, 10)`` are scratch (no allocation in the search)."""
    w, x, y, z = q[0], q[1], q[2], q[3]
    # W[a] = q ⊗ (0, e_a)
    W[0, 0], W[0, 1], W[0, 2], W[0, 3] = -x, w, z, -y
    W[1, 0], W[1, 1], W[1, 2], W[1, 3] = -y, -z, w, x
    W[2, 0], W[2, 1], W[2, 2], W[2, 3] = -z, y, -x, w
    # M[a] = T_3[W_a, ·, ·], level 2 (entries 5..14)
    for a in range(3):
        for e in range(10):
            s = 0.0
            for i in range(4):
                s += W[a, i] * T[child[5 + e, i]]
            M[a, e] = s
    c3 = n * (n - 1) * (n - 2) / 8.0
    for a in range(3):
        for b in range(a, 3):
            v0 = v1 = v2 = v3 = 0.0  # T_3[W_a, W_b, ·], level 1 (entries 1..4)
            for i in range(4):
                wb = W[b, i]
                v0 += wb * M[a, child[1, i] - 5]
                v1 += wb * M[a, child[2, i] - 5]
                v2 += wb * M[a, child[3, i] - 5]
                v3 += wb * M[a, child[4, i] - 5]
            for c in range(b, 3):
                t = c3 * (W[c, 0] * v0 + W[c, 1] * v1 + W[c, 2] * v2 + W[c, 3] * v3)
                out[a, b, c] = out[a, c, b] = out[b, a, c] = t
                out[b, c, a] = out[c, a, b] = out[c, b, a] = t
