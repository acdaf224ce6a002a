"""Compiled building blocks of the SO(3) branch and bound (numba; loaded on the first solve).

The cell bounds of the search (``p``, its Lie gradient and Hessian evaluated by
:mod:`._so3_tensor`), Newton polishing on the Lie algebra, and the certified basins
around polished local maxima.  Notation: ``Lk = Σ_l l^k ‖C_l‖_*`` bounds the k-th derivative of
f along every unit-speed geodesic; ``g``, ``H``: Lie gradient and Hessian (right
perturbations ``R exp([v]×)``); ``λ``: the largest eigenvalue of ``H``.

Cell bound (:func:`_increment`), for every rotation within angle ``r`` of the centre:

    f <= f(c) + min(L1 r,  |g| r + L2 r²/2,  max_{s<=r} |g| s + λ s²/2 + L3 s³/6,
                    q + min(L3 r³/6, τ r³/6 + L4 r⁴/24))

with ``q`` the maximum of the quadratic model (``½ gᵀ(−H)⁻¹g`` if ``H < 0``, else
``max_{s<=r} |g| s + λ s²/2``) and ``τ`` a bound on ``|f'''|`` at the centre.

Critical-point bounds (:func:`_crit_cheap`, :func:`_crit_increment`): the maximum is a critical
point, so a cell may instead be bounded by the values of the critical points it can hold.

Basin bound (:func:`_add_ball`, :func:`_ball_bound`): around a polished point ``R*`` with
``λ* < 0``, a rotation at angle t has ``f <= f(R*) + |g*| t + min(ψ3(t), ψ4(t))``,
``ψ3 = λ* t²/2 + L3 t³/6``, ``ψ4 = λ* t²/2 + τ* t³/6 + L4 t⁴/24`` (τ* from the exact
third-derivative tensor at R*); both fall then rise, so on a cube whose rotations lie at
angles ``[d − r, d + r]`` from R* the maximum is at an end.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from orbitspace.quotient._so3_tensor import (
    tangent_third_norm,
    tangent_third_tensor_ws,
    tensor_eval,
)

#: balls (certified basins) remembered per pair
MAX_BALLS = 32
#: sub-intervals of [0, π] on which :func:`_exact_radius` bounds ψ, and their half-angle
#: cosines and sines at the ends (precomputed: the trigonometry dominated its cost)
_N_INT = 128
_HALF = 0.5 * np.pi * np.arange(_N_INT + 1) / _N_INT
_COS_HALF = np.cos(_HALF)
_SIN_HALF = np.sin(_HALF)


@njit(cache=True, nogil=True)
def _workspace():  # pragma: no cover - compiled
    """Scratch of :func:`_polish_ws`, :func:`_tangent_norms_ws` and :func:`_add_ball_ws`
    (allocated once per batch by the search: an allocation costs as much as an evaluation):
    vectors ``(10, 4)``, 3 × 3 matrices ``(6, 3, 3)``, the third-derivative tensor ``(3, 3, 3)``,
    the tangent frame ``(3, 4)`` and a level-2 contraction ``(3, 10)``."""
    return (
        np.empty((10, 4)),
        np.empty((6, 3, 3)),
        np.empty((3, 3, 3)),
        np.empty((3, 4)),
        np.empty((3, 10)),
    )


@njit(cache=True, nogil=True)
def _eig_slack(r, p, scale):  # pragma: no cover - compiled
    """A bound of the rounding error of the closed-form roots ``qm + 2p cos(φ + 2πk/3)``,
    ``3φ = acos(r)``.  The computed r is off by at most ``er = 1e-13 (1 + scale/p)`` (r is
    half the determinant of ``(H − qm I)/p``, whose entries have absolute errors
    ``<= 2ε scale/p``, with ``|b| <= √6``), so 3φ is off by at most
    ``2 er / sqrt(1 − r²)`` where that is small, else ``2 sqrt(er)`` (acos is ½-Hölder at
    ±1: repeated roots), and a root by ``2p`` times a third of that; plus ``1e-12 scale``
    for the rest of the rounding."""
    er = 1e-13 * (1.0 + scale / p)
    s2 = 1.0 - r * r
    if s2 > 16.0 * er:
        d3 = 2.0 * er / math.sqrt(s2)
    else:
        d3 = 2.0 * math.sqrt(er)
    return 2.0 * p * d3 / 3.0 + 1e-12 * scale


@njit(cache=True, nogil=True)
def _lambda_max(H00, H11, H22, H01, H02, H12):  # pragma: no cover - compiled
    """Largest eigenvalue of a symmetric 3 × 3 matrix (closed form), rounded up by a bound of
    its rounding error (:func:`_eig_slack`; near repeated roots ~1e-6 p, else ~1e-12)."""
    p1 = H01 * H01 + H02 * H02 + H12 * H12
    qm = (H00 + H11 + H22) / 3.0
    p2 = (H00 - qm) ** 2 + (H11 - qm) ** 2 + (H22 - qm) ** 2 + 2.0 * p1
    scale = abs(H00) + abs(H11) + abs(H22) + abs(H01) + abs(H02) + abs(H12)
    if p2 <= 0.0:
        return qm + 1e-14 * scale
    p = math.sqrt(p2 / 6.0)
    b00, b11, b22 = (H00 - qm) / p, (H11 - qm) / p, (H22 - qm) / p
    b01, b02, b12 = H01 / p, H02 / p, H12 / p
    det = (
        b00 * (b11 * b22 - b12 * b12)
        - b01 * (b01 * b22 - b12 * b02)
        + b02 * (b01 * b12 - b11 * b02)
    )
    r = min(1.0, max(-1.0, 0.5 * det))
    return qm + 2.0 * p * math.cos(math.acos(r) / 3.0) + _eig_slack(r, p, scale)


@njit(cache=True, nogil=True)
def _lambda_range(H00, H11, H22, H01, H02, H12):  # pragma: no cover - compiled
    """(λ_max rounded up, λ_min rounded down) of a symmetric 3 × 3 matrix from one closed-form
    solve (the roots ``qm + 2p cos(φ + 2πk/3)``, k = 0 the largest, k = 1 the smallest;
    rounded by :func:`_eig_slack`), as :func:`_lambda_max` and :func:`_lambda_min`."""
    p1 = H01 * H01 + H02 * H02 + H12 * H12
    qm = (H00 + H11 + H22) / 3.0
    p2 = (H00 - qm) ** 2 + (H11 - qm) ** 2 + (H22 - qm) ** 2 + 2.0 * p1
    scale = abs(H00) + abs(H11) + abs(H22) + abs(H01) + abs(H02) + abs(H12)
    if p2 <= 0.0:
        return qm + 1e-14 * scale, qm - 1e-14 * scale
    p = math.sqrt(p2 / 6.0)
    b00, b11, b22 = (H00 - qm) / p, (H11 - qm) / p, (H22 - qm) / p
    b01, b02, b12 = H01 / p, H02 / p, H12 / p
    det = (
        b00 * (b11 * b22 - b12 * b12)
        - b01 * (b01 * b22 - b12 * b02)
        + b02 * (b01 * b12 - b11 * b02)
    )
    r = min(1.0, max(-1.0, 0.5 * det))
    phi = math.acos(r) / 3.0
    slack = _eig_slack(r, p, scale)
    top = qm + 2.0 * p * math.cos(phi) + slack
    low = qm + 2.0 * p * math.cos(phi + 2.0 * math.pi / 3.0) - slack
    return top, low


@njit(cache=True, nogil=True)
def _increment(gn, lam, r, L1, L2, L3, quad, tau, L4):  # pragma: no cover - compiled
    """Upper bound of f − f(c) over the geodesic ball of radius r (see the module doc).

    ``quad``: ``½ gᵀ(−H)⁻¹g`` when H < 0 (the maximum of the quadratic model over all steps),
    else inf.  ``tau`` bounds ``|f'''|`` at the centre (any direction), so the Taylor remainder
    after the quadratic term is at most ``min(L3 r³/6, τ r³/6 + L4 r⁴/24)``."""
    rem = min(L3 * r * r * r / 6.0, tau * r * r * r / 6.0 + L4 * r**4 / 24.0)
    # the quadratic part's maximum over s in [0, r], plus the remainder
    if lam < 0.0 and gn / -lam < r:
        q2 = 0.5 * gn * gn / -lam
    else:
        q2 = gn * r + 0.5 * lam * r * r
    b5 = q2 + rem
    b1 = L1 * r
    b2 = gn * r + 0.5 * L2 * r * r
    b3 = gn * r + 0.5 * lam * r * r + L3 * r * r * r / 6.0
    if lam < 0.0 and L3 > 0.0:
        disc = lam * lam - 2.0 * L3 * gn
        if disc > 0.0:
            s = (-lam - math.sqrt(disc)) / L3  # the first zero of h' (a local max of h)
            if s < r:
                b3 = max(b3, gn * s + 0.5 * lam * s * s + L3 * s * s * s / 6.0)
    elif lam < 0.0:
        s = gn / -lam
        if s < r:
            b3 = max(b3, gn * s + 0.5 * lam * s * s)
    b4 = quad + rem
    return min(min(b1, b2), min(min(b3, b4), b5))


@njit(cache=True, nogil=True)
def _crit_cheap(gn, r, L2, L3):  # pragma: no cover - compiled
    """Bound of ``f(R*) − f(c)`` over critical points ``R*`` within angle r of c, from f and g.

    -inf when the cell holds no critical point (``|g| > L2 r``).  See :func:`_crit_increment`.
    """
    if gn > L2 * r * (1.0 + 1e-9):
        return -np.inf
    return min(0.5 * L2 * r * r, 0.5 * gn * r + 5.0 / 12.0 * L3 * r * r * r)


@njit(cache=True, nogil=True)
def _crit_increment(gn, lmin, r, L2, L3, tau, L4):  # pragma: no cover - compiled
    """Bound of ``f(R*) − f(c)`` over the critical points ``R*`` within angle r of the centre c.

    The maximum of f is a critical point, so a cell can hold it only if it holds a critical
    point; the search may bound each cell by the values of its critical points alone.  Let R*
    (``∇f(R*) = 0``) lie at angle ``d <= r`` along the unit geodesic ``h(t) = f(c exp(t[u]×))``
    (``h(d) = f(R*)``, ``h'(d) = 0``, ``h'(0) = gᵀu <= |g|``, ``h''(0) >= λ_min(H)``,
    ``|h'''(0)| <= τ``, ``|h^(k)| <= L_k``).  Then

    - ``|g| <= L2 d`` (the Riemannian gradient is L2-Lipschitz): no critical point if
      ``|g| > L2 r`` (returns -inf);
    - ``f(R*) − f(c) <= L2 d²/2`` (``|h'(t)| <= L2 (d − t)``);
    - ``<= −λ_min d²/2 + L3 d³/3`` (``h'(t) = −∫_t^d h'' <= ∫_t^d (L3 s − λ_min) ds``);
    - ``<= |g| d/2 + 5 L3 d³/12`` and ``<= |g| d/2 + τ d³/12 + L4 d⁴/8`` (the Taylor
      expansions of ``h(d)`` and of ``h'(d) = 0`` at 0, the second times ``d/2`` subtracted
      from the first: the ``h''(0)`` terms cancel).

    Each is maximised over ``d`` in ``[0, r]`` (all increase with d, except the second, whose
    maximum is at an end).
    """
    if gn > L2 * r * (1.0 + 1e-9):
        return -np.inf
    r2 = r * r
    r3 = r2 * r
    b1 = 0.5 * L2 * r2
    b2 = max(0.0, -0.5 * lmin * r2 + L3 * r3 / 3.0)
    b3 = 0.5 * gn * r + 5.0 / 12.0 * L3 * r3
    b4 = 0.5 * gn * r + tau * r3 / 12.0 + L4 * r3 * r / 8.0
    return min(min(b1, b2), min(b3, b4))


@njit(cache=True, nogil=True)
def _lambda_min(H00, H11, H22, H01, H02, H12):  # pragma: no cover - compiled
    """Smallest eigenvalue of a symmetric 3 × 3 matrix, rounded down slightly."""
    return -_lambda_max(-H00, -H11, -H22, -H01, -H02, -H12)


@njit(cache=True, nogil=True)
def _angle(p, q):  # pragma: no cover - compiled
    """Rotation angle between the rotations of unit quaternions p and q (robust near 0)."""
    dot = p[0] * q[0] + p[1] * q[1] + p[2] * q[2] + p[3] * q[3]
    s = 1.0 if dot >= 0.0 else -1.0
    d = 0.0
    for i in range(4):
        d += (p[i] - s * q[i]) ** 2
    return 4.0 * math.asin(min(1.0, 0.5 * math.sqrt(d)))


@njit(cache=True, nogil=True)
def _rotvec_quat(w0, w1, w2, q):  # pragma: no cover - compiled
    th = math.sqrt(w0 * w0 + w1 * w1 + w2 * w2)
    if th < 1e-12:
        sc = 0.5
    else:
        sc = math.sin(0.5 * th) / th
    q[0] = math.cos(0.5 * th)
    q[1] = w0 * sc
    q[2] = w1 * sc
    q[3] = w2 * sc


@njit(cache=True, nogil=True)
def _step(q, v, out):  # pragma: no cover - compiled
    """out = q ⊗ exp(v / 2) (right perturbation by the rotation vector v), normalised."""
    th = math.sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2])
    sc = 0.5 if th < 1e-12 else math.sin(0.5 * th) / th
    e0, e1, e2, e3 = math.cos(0.5 * th), v[0] * sc, v[1] * sc, v[2] * sc
    out[0] = q[0] * e0 - q[1] * e1 - q[2] * e2 - q[3] * e3
    out[1] = q[0] * e1 + q[1] * e0 + q[2] * e3 - q[3] * e2
    out[2] = q[0] * e2 - q[1] * e3 + q[2] * e0 + q[3] * e1
    out[3] = q[0] * e3 + q[1] * e2 - q[2] * e1 + q[3] * e0
    n = math.sqrt(out[0] ** 2 + out[1] ** 2 + out[2] ** 2 + out[3] ** 2)
    for i in range(4):
        out[i] /= n


@njit(cache=True, nogil=True)
def _solve_neg_def(H, g, v):  # pragma: no cover - compiled
    """v = −H⁻¹ g by Cholesky of −H; False if −H is not (safely) positive definite."""
    a00, a01, a02 = -H[0, 0], -H[0, 1], -H[0, 2]
    a11, a12, a22 = -H[1, 1], -H[1, 2], -H[2, 2]
    scale = abs(a00) + abs(a11) + abs(a22) + 1e-300
    if a00 <= 1e-10 * scale:
        return False
    l00 = math.sqrt(a00)
    l10 = a01 / l00
    l20 = a02 / l00
    d1 = a11 - l10 * l10
    if d1 <= 1e-10 * scale:
        return False
    l11 = math.sqrt(d1)
    l21 = (a12 - l20 * l10) / l11
    d2 = a22 - l20 * l20 - l21 * l21
    if d2 <= 1e-10 * scale:
        return False
    l22 = math.sqrt(d2)
    y0 = g[0] / l00
    y1 = (g[1] - l10 * y0) / l11
    y2 = (g[2] - l20 * y0 - l21 * y1) / l22
    v[2] = y2 / l22
    v[1] = (y1 - l21 * v[2]) / l11
    v[0] = (y0 - l10 * v[1] - l20 * v[2]) / l00
    return True


@njit(cache=True, nogil=True)
def _quad(H, g, v):  # pragma: no cover - compiled
    """½ gᵀ(−H)⁻¹g if H is negative definite, else inf (v is scratch)."""
    if _solve_neg_def(H, g, v):
        return 0.5 * (g[0] * v[0] + g[1] * v[1] + g[2] * v[2]) * (1.0 + 1e-12)
    return np.inf


@njit(cache=True, nogil=True)
def _polish(poly, n, q0, L2, q, g, H, T):  # pragma: no cover - compiled
    """Newton ascent on the Lie algebra from q0 (gradient steps 1/L2 where H is not < 0).

    ``poly``: the bundle of :func:`._so3_tensor.poly_tuple` (degree n = 2L), ``T`` scratch
    for its contraction chain.  Writes the final point into q (and g, H there); returns
    (f, evaluations).  (:func:`_polish_ws` with its own scratch.)"""
    return _polish_ws(poly, n, q0, L2, q, g, H, T, _workspace())


@njit(cache=True, nogil=True)
def _polish_ws(poly, n, q0, L2, q, g, H, T, ws):  # pragma: no cover - compiled
    """:func:`_polish` with the scratch ``ws`` of :func:`_workspace` (vectors 0-2, matrices
    0-1)."""
    a, A, child, off, pair = poly[0], poly[1], poly[2], poly[3], poly[4]
    for i in range(4):
        q[i] = q0[i]
    v = ws[0][0]
    qn = ws[0][1]
    gn_ = ws[0][2]
    Hn = ws[1][0]
    Hs = ws[1][1]
    f = tensor_eval(A, child, off, pair, n, q, True, g, H, T)
    evals = 1
    noise = 0.0
    for al in range(a.shape[0]):
        noise += abs(a[al])
    noise *= 1e-14  # rounding level of one evaluation
    for _ in range(100):
        newton = _solve_neg_def(H, g, v)
        if not newton:
            # shifted (Levenberg-Marquardt) step: H − μI is negative definite
            lam = _lambda_max(H[0, 0], H[1, 1], H[2, 2], H[0, 1], H[0, 2], H[1, 2])
            mu = max(lam, 0.0) + 0.05 * L2
            for k in range(3):
                Hs[k, k] = H[k, k] - mu
                for m in range(k + 1, 3):
                    Hs[k, m] = H[k, m]
                    Hs[m, k] = H[m, k]
            if not _solve_neg_def(Hs, g, v):
                for k in range(3):
                    v[k] = g[k] / L2
        nv = math.sqrt(v[0] ** 2 + v[1] ** 2 + v[2] ** 2)
        if nv > 0.5:
            for k in range(3):
                v[k] *= 0.5 / nv
            nv = 0.5
        if nv < 1e-14:
            break
        _step(q, v, qn)
        fn = tensor_eval(A, child, off, pair, n, qn, True, gn_, Hn, T)
        evals += 1
        g2 = g[0] ** 2 + g[1] ** 2 + g[2] ** 2
        g2n = gn_[0] ** 2 + gn_[1] ** 2 + gn_[2] ** 2
        if newton and fn < f and fn >= f - noise and g2n < g2:
            fn = f  # a Newton step at rounding level that reduces the gradient: keep it
        if fn < f:
            # the step overshot (far from the maximum): take the safe gradient step instead
            for k in range(3):
                v[k] = g[k] / L2
            nv = math.sqrt(v[0] ** 2 + v[1] ** 2 + v[2] ** 2)
            _step(q, v, qn)
            fn = tensor_eval(A, child, off, pair, n, qn, True, gn_, Hn, T)
            evals += 1
        if fn < f:
            break  # no ascent at rounding level: converged
        for i in range(4):
            q[i] = qn[i]
        for k in range(3):
            g[k] = gn_[k]
            for m in range(3):
                H[k, m] = Hn[k, m]
        f = fn
        if nv < 1e-5:
            # converged: Newton's error is quadratic in the step, so the point is now within
            # ~C 1e-10 rad of the maximum (value error ~|λ| C² 1e-20); another step costs an
            # evaluation for nothing
            break
    return f, evals


@njit(cache=True, nogil=True)
def _exact_increment(gn, lam, p, b3, L0, r):  # pragma: no cover - compiled
    """Top degree 2: a bound of ``f − f(c)`` within rotation angle ``r`` of c with no global
    constant but ``L0 = Σ_l ‖C_l‖_*``.

    With the expansion of :func:`_exact_radius` at c (``x = C q + S v``, ``S = sin h``, h half
    the rotation angle): ``B_1 <= |g|/2``, ``B_2 <= (λ + p)/3`` (λ = λ_max(H)),
    ``|B_3| <= b3`` (``b3 >= ‖T_3|W‖_F``, :func:`._so3_tensor.tangent_third_norm`),
    ``B_4 <= L0``, and ``C <= 1`` on the terms that are not negative,
    ``p(x) − p(q) <= 2|g| S + 2λ S² + 4 b3 S³ + k S⁴``, ``k = L0 − p − 2λ`` (the ``C⁴ p`` and
    ``6 C²S² B_2`` terms exactly: ``p + 2λS² − (p + 2λ)S⁴``).  With ``S <= s = sin(r/2)`` the
    last two terms are at most ``(4 b3 s + max(k, 0) s²) S²``, so the bound is the maximum of
    the quadratic ``2|g| S + μ S²``, ``μ = 2λ + 4 b3 s + max(k, 0) s²``, over ``[0, s]``.

    Examples
    --------
    >>> float(_exact_increment(0.0, -1.0, 1.0, 0.0, 1.0, 1.0))  # a strict maximum
    0.0
    """
    sm = math.sin(0.5 * min(r, math.pi))
    mu = 2.0 * lam + 4.0 * b3 * sm + max(L0 - p - 2.0 * lam, 0.0) * sm * sm
    s = sm
    if mu < 0.0:
        s = min(sm, gn / (-mu))
    return 2.0 * gn * s + mu * s * s


@njit(cache=True, nogil=True)
def _tangent_norms(poly, n, q, T):  # pragma: no cover - compiled
    """:func:`._so3_monomial._third_norms` from the symmetric-tensor chain (:mod:`._so3_tensor`): the
    Frobenius norm of T0 (by the frame-free identity, rounded up) and the largest singular
    value of its 3 × 9 unfolding (from the tensor itself), both at the unit quaternion q.
    (:func:`_tangent_norms_ws` with its own scratch.)"""
    return _tangent_norms_ws(poly, n, q, T, _workspace())


@njit(cache=True, nogil=True)
def _tangent_norms_ws(poly, n, q, T, ws):  # pragma: no cover - compiled
    """:func:`_tangent_norms` with the scratch ``ws`` of :func:`_workspace` (vector 3,
    matrices 2-3, the tensor, frame and contraction)."""
    A, child, off, pair, mult = poly[1], poly[2], poly[3], poly[4], poly[5]
    g = ws[0][3]
    H = ws[1][2]
    tensor_eval(A, child, off, pair, n, q, False, g, H, T)
    frob = n * (n - 1) * (n - 2) / 8.0 * tangent_third_norm(T, off, mult, n)
    T0 = ws[2]
    tangent_third_tensor_ws(T, child, n, q, T0, ws[3], ws[4])
    G = ws[1][3]
    for aa in range(3):
        for bb in range(aa, 3):
            s = 0.0
            for cc in range(3):
                for dd in range(3):
                    s += T0[aa, cc, dd] * T0[bb, cc, dd]
            G[aa, bb] = s
    lam = _lambda_max(G[0, 0], G[1, 1], G[2, 2], G[0, 1], G[0, 2], G[1, 2])
    spec = math.sqrt(max(lam, 0.0)) * (1.0 + 1e-12)
    return frob, min(frob, spec)


@njit(cache=True, nogil=True)
def _exact_radius(p, b2, b3, L0):  # pragma: no cover - compiled
    """Angle ρ up to which the exact expansion (top degree 2) keeps ``p <= p(q)`` (see below).

    For ``n = 2L = 4`` and a unit quaternion ``x = C q + S v`` (``v = q ⊗ (0, u)``, rotation
    angle ``t = 2h`` from q, ``C = cos h``, ``S = sin h``), homogeneity gives exactly
    ``p(x) = Σ_k binom(4, k) C^(4−k) S^k B_k(u)`` with ``B_k(u) = M(q^(4−k), v^k)`` (M the
    symmetric 4-linear form of p): ``B_0 = p(q)``, ``B_1 = gᵀu / 2``,
    ``B_2 = uᵀ(H + p I)u / 3``, ``B_3 = T0(u, u, u) / 3`` (bounded by σ_max of T0's
    unfolding), ``B_4 = p(v)``, ``|p(v)| <= L0 = Σ_l ‖C_l‖_*``.  Without the ``B_1`` term
    (added by the caller as ``2 C³S |g| <= |g|``) and with ``1 − C⁴ = S²(1 + C²)``,
    ``p(x) − p(q) <= S² ψ``, ``ψ = C²(6 b2 − p) − p + 4 C S b3 + S² L0``
    (``b2 >= max B_2``, ``b3 >= max |B_3|``).  ψ is bounded on 128 sub-intervals of
    ``t ∈ [0, π]`` by the monotonicity of C and S; ρ is the end of the first run of
    intervals with ``ψ < 0``.

    Examples
    --------
    >>> round(float(_exact_radius(1.0, 0.0, 0.0, 0.5)), 6)  # ψ = −C² − 1 + S²/2 < 0 up to π
    3.141593
    """
    k2 = 6.0 * b2 - p
    # the tables' rounding (~1e-16) is far below this slack
    slack = 1e-12 * (abs(6.0 * b2) + 2.0 * abs(p) + 4.0 * b3 + L0)
    for j in range(_N_INT):
        c_hi, c_lo = _COS_HALF[j], _COS_HALF[j + 1]
        s_hi = _SIN_HALF[j + 1]
        c2 = c_hi * c_hi if k2 >= 0.0 else c_lo * c_lo
        psi = k2 * c2 - p + 4.0 * c_hi * s_hi * b3 + s_hi * s_hi * L0
        if psi + slack >= 0.0:
            return 2.0 * _HALF[j]
    return math.pi


@njit(cache=True, nogil=True)
def _add_ball(
    poly, n, q, g, H, fp, fmax, L0, L3, L4, bq, bf, brho, bpar, nb, T
):  # pragma: no cover
    """:func:`_add_ball_ws` with its own scratch."""
    return _add_ball_ws(
        poly, n, q, g, H, fp, fmax, L0, L3, L4, bq, bf, brho, bpar, nb, T, _workspace()
    )


@njit(cache=True, nogil=True)
def _add_ball_ws(
    poly, n, q, g, H, fp, fmax, L0, L3, L4, bq, bf, brho, bpar, nb, T, ws
):  # pragma: no cover
    """Remember a polished point q as the centre of a certified basin, if H(q) < 0.

    Along unit geodesics from q (n = 2L; derivatives of ``p(q ⊗ e(t))``) the third
    derivative at 0 is ``T0(u, u, u) − (3n − 2)/4 gᵀu``; with ``τ = ‖T0‖_F + (3n − 2)/4 |g|``
    and ``|f''''| <= L4``, every rotation at angle t from q has
    ``f <= f(q) + |g| t + min(ψ3(t), ψ4(t))``, ``ψ3 = λt²/2 + L3 t³/6``,
    ``ψ4 = λt²/2 + τ t³/6 + L4 t⁴/24`` (λ = λ_max(H) < 0); both ψ fall then rise, so their
    maximum over an interval of angles is at an end (:func:`_ball_bound`).  ``poly`` and ``T``
    as in :func:`_polish` (n = 2L).  For top degree 2
    the exact expansion (:func:`_exact_radius`) gives a radius ``bpar[nb, 3]`` within which
    ``f <= bpar[nb, 4] = fmax + |g|`` (no global constant but L0).  ``fp``: p(q) (without
    c0); ``fmax``: f(q) rounded up.  ``brho``: an angle within which f <= f(q) + |g| t.
    Returns the new number of balls.
    """
    lam = _lambda_max(H[0, 0], H[1, 1], H[2, 2], H[0, 1], H[0, 2], H[1, 2])
    if not (lam < 0.0) or nb >= MAX_BALLS or L3 <= 0.0:
        return nb
    for b in range(nb):
        if _angle(q, bq[b]) < 1e-6:
            return nb  # the same maximum again
    gn = math.sqrt(g[0] ** 2 + g[1] ** 2 + g[2] ** 2)
    t0n, t0s = _tangent_norms_ws(poly, n, q, T, ws)
    L = n // 2
    tau = t0n + (6.0 * L - 2.0) / 4.0 * gn
    t3 = -3.0 * lam / L3
    A2, B1 = L4 / 24.0, tau / 6.0  # λ/2 + τ t/6 + L4 t²/24 = 0
    t4 = (-B1 + math.sqrt(B1 * B1 - 2.0 * A2 * lam)) / (2.0 * A2)
    rho_x = -1.0
    if L == 2:
        b2 = (lam + fp) / 3.0 + 1e-12 * (abs(lam) + abs(fp))
        rho_x = _exact_radius(fp, b2, t0s / 3.0 * (1.0 + 1e-12), L0)
    for i in range(4):
        bq[nb, i] = q[i]
    bf[nb] = fmax
    brho[nb] = max(max(t3, t4), rho_x)
    bpar[nb, 0] = gn
    bpar[nb, 1] = lam
    bpar[nb, 2] = tau
    bpar[nb, 3] = rho_x
    bpar[nb, 4] = fmax + gn
    return nb + 1


@njit(cache=True, nogil=True)
def _ball_bound(d, r, fmax, par, L3, L4):  # pragma: no cover - compiled
    """Bound of f on a cube whose rotations lie at angles [d − r, d + r] from a ball centre.

    ``par``: the ball's row of ``bpar`` (|g|, λ, τ, exact radius, its bound)."""
    gn, lam, tau = par[0], par[1], par[2]
    if d + r <= par[3]:
        return par[4]
    lo = max(d - r, 0.0)
    hi = d + r
    p3 = max(0.5 * lam * lo * lo + L3 * lo**3 / 6.0, 0.5 * lam * hi * hi + L3 * hi**3 / 6.0)
    p4lo = 0.5 * lam * lo * lo + tau * lo**3 / 6.0 + L4 * lo**4 / 24.0
    p4hi = 0.5 * lam * hi * hi + tau * hi**3 / 6.0 + L4 * hi**4 / 24.0
    return fmax + gn * hi + min(p3, max(p4lo, p4hi))
