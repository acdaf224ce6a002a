"""Compiled branch and bound for ``max_R c_0 + p(q(R))`` (numba; imported on the first solve).

``p`` is the quaternion polynomial of :mod:`._so3_poly` (coefficients ``a``, degree ``2L``).
Cells are cubes in rotation-vector space.  The bound of a cube (derivation in
:mod:`orbitspace.quotient.so3`): with centre ``c``, half-side ``σ`` and ``r = √3 σ``, every
rotation of the cube is ``R_c exp([v]×)`` with ``|v| <= r``, and along each such geodesic

    f <= f(c) + min(L1 r,  |g| r + L2 r²/2,  max_{s<=r} |g| s + λ s²/2 + L3 s³/6),

``g`` the Lie gradient, ``λ`` the largest eigenvalue of the Lie Hessian at ``c``, ``Lk =
Σ_l l^k ‖C_l‖_*``.  Around a polished strict local maximum ``R*`` (Hessian eigenvalues ``<= λ* <
0``) the ball of radius ``ρ = −λ*/(2 L3)`` has ``f <= f(R*) + |g*|²/(−λ*)`` (``f'' <= λ*/2``
there); cubes inside such a ball are pruned at once.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["bnb_pairs"]

#: polishes (Newton runs) started inside the branch and bound per pair, at most
MAX_POLISH = 24
#: balls (certified basins) remembered per pair
MAX_BALLS = 32


@njit(cache=True, nogil=True)
def _eval(a, expo, L, q, want_hess, g, H):  # pragma: no cover - compiled
    """p(q); fills the Lie gradient ``g`` (3,) and (if asked) Hessian ``H`` (3, 3)."""
    deg = 2 * L
    pw = np.empty((4, deg + 1))
    for i in range(4):
        pw[i, 0] = 1.0
        for k in range(1, deg + 1):
            pw[i, k] = pw[i, k - 1] * q[i]
    f = 0.0
    gr = np.zeros(4)
    he = np.zeros((4, 4))
    t = np.empty(4)
    tm = np.empty(4)
    tmm = np.empty(4)
    for al in range(expo.shape[0]):
        c = a[al]
        if c == 0.0:
            continue
        for i in range(4):
            e = expo[al, i]
            t[i] = pw[i, e]
            tm[i] = e * pw[i, e - 1] if e >= 1 else 0.0
            tmm[i] = e * (e - 1) * pw[i, e - 2] if e >= 2 else 0.0
        f += c * t[0] * t[1] * t[2] * t[3]
        for i in range(4):
            rest = 1.0
            for j in range(4):
                if j != i:
                    rest *= t[j]
            gr[i] += c * tm[i] * rest
            if want_hess:
                he[i, i] += c * tmm[i] * rest
                for j in range(i + 1, 4):
                    rest2 = 1.0
                    for k in range(4):
                        if k != i and k != j:
                            rest2 *= t[k]
                    v = c * tm[i] * tm[j] * rest2
                    he[i, j] += v
                    he[j, i] += v
    # tangent frame W: columns q ⊗ (0, e_k)
    W = np.empty((4, 3))
    w, x, y, z = q[0], q[1], q[2], q[3]
    W[0, 0], W[1, 0], W[2, 0], W[3, 0] = -x, w, z, -y
    W[0, 1], W[1, 1], W[2, 1], W[3, 1] = -y, -z, w, x
    W[0, 2], W[1, 2], W[2, 2], W[3, 2] = -z, y, -x, w
    for k in range(3):
        s = 0.0
        for i in range(4):
            s += W[i, k] * gr[i]
        g[k] = 0.5 * s
    if want_hess:
        HW = np.zeros((4, 3))
        for i in range(4):
            for m in range(3):
                s = 0.0
                for j in range(4):
                    s += he[i, j] * W[j, m]
                HW[i, m] = s
        for k in range(3):
            for m in range(3):
                s = 0.0
                for i in range(4):
                    s += W[i, k] * HW[i, m]
                H[k, m] = 0.25 * s
            H[k, k] -= 0.5 * L * f
    return f


@njit(cache=True, nogil=True)
def _lambda_max(H00, H11, H22, H01, H02, H12):  # pragma: no cover - compiled
    """Largest eigenvalue of a symmetric 3 × 3 matrix (closed form), rounded up slightly."""
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
    return qm + 2.0 * p * math.cos(math.acos(r) / 3.0) + 1e-12 * scale


@njit(cache=True, nogil=True)
def _increment(gn, lam, r, L1, L2, L3, quad):  # pragma: no cover - compiled
    """Upper bound of f − f(c) over the geodesic ball of radius r (see the module doc).

    ``quad``: ``½ gᵀ(−H)⁻¹g`` when H < 0 (the maximum of the quadratic model over all steps),
    else inf."""
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
    b4 = quad + L3 * r * r * r / 6.0
    return min(min(b1, b2), min(b3, b4))


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
    e = np.empty(4)
    _rotvec_quat(v[0], v[1], v[2], e)
    out[0] = q[0] * e[0] - q[1] * e[1] - q[2] * e[2] - q[3] * e[3]
    out[1] = q[0] * e[1] + q[1] * e[0] + q[2] * e[3] - q[3] * e[2]
    out[2] = q[0] * e[2] - q[1] * e[3] + q[2] * e[0] + q[3] * e[1]
    out[3] = q[0] * e[3] + q[1] * e[2] - q[2] * e[1] + q[3] * e[0]
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
def _polish(a, expo, L, q0, L2, q, g, H):  # pragma: no cover - compiled
    """Newton ascent on the Lie algebra from q0 (gradient steps 1/L2 where H is not < 0).

    Writes the final point into q (and g, H there); returns (f, evaluations)."""
    for i in range(4):
        q[i] = q0[i]
    v = np.empty(3)
    qn = np.empty(4)
    gn_ = np.empty(3)
    Hn = np.empty((3, 3))
    Hs = np.empty((3, 3))
    f = _eval(a, expo, L, q, True, g, H)
    evals = 1
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
        fn = _eval(a, expo, L, qn, True, gn_, Hn)
        evals += 1
        if fn < f:
            # the step overshot (far from the maximum): take the safe gradient step instead
            for k in range(3):
                v[k] = g[k] / L2
            nv = math.sqrt(v[0] ** 2 + v[1] ** 2 + v[2] ** 2)
            _step(q, v, qn)
            fn = _eval(a, expo, L, qn, True, gn_, Hn)
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
        if nv < 1e-11:
            break
    return f, evals


@njit(cache=True, nogil=True)
def _solve_one(
    a,
    c0,
    F0,
    centres,
    quats,
    sigma0,
    expo,
    L,
    L1,
    L2,
    L3,
    tol,
    floor,
    max_evals,
    stack_w,
    stack_s,
    stack_u,
    out_q,
):  # pragma: no cover - compiled
    """Certified max of one pair: (value, upper bound, evaluations); the maximiser into out_q."""
    n0 = centres.shape[0]
    cap = stack_s.shape[0]
    A1 = 0.0
    for al in range(a.shape[0]):
        A1 += abs(a[al])
    margin = 1e-13 * (A1 + abs(c0))  # rounding of one evaluation of p, generously
    g = np.empty(3)
    H = np.empty((3, 3))
    np.empty(4)
    qp = np.empty(4)
    scratch = np.empty(3)
    bq = np.empty((MAX_BALLS, 4))
    bf = np.empty(MAX_BALLS)
    brho = np.empty(MAX_BALLS)
    nb = 0
    # -- incumbents: polish from the two best initial cells
    best = -np.inf
    first = -1
    second = -1
    for c in range(n0):
        v = F0[c * 10]
        if first < 0 or v > F0[first * 10]:
            second = first
            first = c
        elif second < 0 or v > F0[second * 10]:
            second = c
    evals = 0
    for start in (first, second):
        if start < 0:
            continue
        fp, ne = _polish(a, expo, L, quats[start], L2, qp, g, H)
        evals += ne
        if fp + c0 > best:
            best = fp + c0
            for i in range(4):
                out_q[i] = qp[i]
        lam = _lambda_max(H[0, 0], H[1, 1], H[2, 2], H[0, 1], H[0, 2], H[1, 2])
        if lam < 0.0 and nb < MAX_BALLS and L3 > 0.0:
            gn2 = g[0] ** 2 + g[1] ** 2 + g[2] ** 2
            for i in range(4):
                bq[nb, i] = qp[i]
            bf[nb] = fp + c0 + 1.5 * gn2 / -lam + margin
            brho[nb] = -2.0 * lam / L3 * (1.0 - 1e-9)
            nb += 1
    upper = best  # the certified upper bound: max over pruned cells' bounds and best
    top = 0
    r0 = math.sqrt(3.0) * sigma0 * (1.0 + 1e-12)
    for c in range(n0):
        row = c * 10
        f = F0[row] + c0
        if f > best:
            best = f
            for i in range(4):
                out_q[i] = quats[c, i]
        gn = math.sqrt(F0[row + 1] ** 2 + F0[row + 2] ** 2 + F0[row + 3] ** 2)
        lam = _lambda_max(
            F0[row + 4], F0[row + 5], F0[row + 6], F0[row + 7], F0[row + 8], F0[row + 9]
        )
        g[0], g[1], g[2] = F0[row + 1], F0[row + 2], F0[row + 3]
        H[0, 0], H[1, 1], H[2, 2] = F0[row + 4], F0[row + 5], F0[row + 6]
        H[0, 1] = H[1, 0] = F0[row + 7]
        H[0, 2] = H[2, 0] = F0[row + 8]
        H[1, 2] = H[2, 1] = F0[row + 9]
        ub = f + _increment(gn, lam, r0, L1, L2, L3, _quad(H, g, scratch)) + margin
        for b in range(nb):
            if _angle(quats[c], bq[b]) + r0 <= brho[b]:
                ub = min(ub, bf[b])
        if ub <= max(best, floor) + tol:
            upper = max(upper, ub)
        else:
            stack_w[top, 0] = centres[c, 0]
            stack_w[top, 1] = centres[c, 1]
            stack_w[top, 2] = centres[c, 2]
            stack_s[top] = sigma0
            stack_u[top] = ub
            top += 1
    n_polish = 0
    n_deep = 0
    qc = np.empty(4)
    gp = np.empty(3)
    Hp = np.empty((3, 3))
    while top > 0:
        top -= 1
        ub = stack_u[top]
        if ub <= max(best, floor) + tol:
            upper = max(upper, ub)
            continue
        if evals >= max_evals or top + 8 > cap:
            # out of budget: the remaining cells' bounds enter the certificate
            upper = max(upper, ub)
            for k in range(top):
                upper = max(upper, stack_u[k])
            break
        s = stack_s[top]
        w0, w1, w2 = stack_w[top, 0], stack_w[top, 1], stack_w[top, 2]
        if s < 0.26 * sigma0 and n_deep < MAX_POLISH:
            # a deep cell outside every known basin: look for a new local maximum from it
            _rotvec_quat(w0, w1, w2, qc)
            inside = False
            for b in range(nb):
                if _angle(qc, bq[b]) <= brho[b]:
                    inside = True
                    break
            if not inside:
                n_deep += 1
                fp, ne = _polish(a, expo, L, qc, L2, qp, g, H)
                evals += ne
                if fp + c0 > best:
                    best = fp + c0
                    for i in range(4):
                        out_q[i] = qp[i]
                lam = _lambda_max(H[0, 0], H[1, 1], H[2, 2], H[0, 1], H[0, 2], H[1, 2])
                if lam < 0.0 and nb < MAX_BALLS and L3 > 0.0:
                    gn2 = g[0] ** 2 + g[1] ** 2 + g[2] ** 2
                    for i in range(4):
                        bq[nb, i] = qp[i]
                    bf[nb] = fp + c0 + 1.5 * gn2 / -lam + margin
                    brho[nb] = -2.0 * lam / L3 * (1.0 - 1e-9)
                    nb += 1
        h = 0.5 * s
        r = math.sqrt(3.0) * h * (1.0 + 1e-12)
        for child in range(8):
            c0x = w0 + (h if child & 1 else -h)
            c1x = w1 + (h if child & 2 else -h)
            c2x = w2 + (h if child & 4 else -h)
            n1 = max(abs(c0x) - h, 0.0)
            n2 = max(abs(c1x) - h, 0.0)
            n3 = max(abs(c2x) - h, 0.0)
            if n1 * n1 + n2 * n2 + n3 * n3 > math.pi * math.pi:
                continue  # the cube misses the ball |w| <= π that covers SO(3)
            _rotvec_quat(c0x, c1x, c2x, qc)
            fc = _eval(a, expo, L, qc, True, g, H) + c0
            evals += 1
            if fc > best:
                best = fc
                for i in range(4):
                    out_q[i] = qc[i]
                if n_polish < MAX_POLISH:
                    # a better point than any known: polish it (a new basin, most likely)
                    n_polish += 1
                    fp, ne = _polish(a, expo, L, qc, L2, qp, gp, Hp)
                    evals += ne
                    if fp + c0 > best:
                        best = fp + c0
                        for i in range(4):
                            out_q[i] = qp[i]
                    lamp = _lambda_max(Hp[0, 0], Hp[1, 1], Hp[2, 2], Hp[0, 1], Hp[0, 2], Hp[1, 2])
                    if lamp < 0.0 and nb < MAX_BALLS and L3 > 0.0:
                        gn2 = gp[0] ** 2 + gp[1] ** 2 + gp[2] ** 2
                        for i in range(4):
                            bq[nb, i] = qp[i]
                        bf[nb] = fp + c0 + 1.5 * gn2 / -lamp + margin
                        brho[nb] = -2.0 * lamp / L3 * (1.0 - 1e-9)
                        nb += 1
            gn = math.sqrt(g[0] ** 2 + g[1] ** 2 + g[2] ** 2)
            lam = _lambda_max(H[0, 0], H[1, 1], H[2, 2], H[0, 1], H[0, 2], H[1, 2])
            cub = fc + _increment(gn, lam, r, L1, L2, L3, _quad(H, g, scratch)) + margin
            for b in range(nb):
                if _angle(qc, bq[b]) + r <= brho[b]:
                    cub = min(cub, bf[b])
            if cub <= max(best, floor) + tol:
                upper = max(upper, cub)
            else:
                stack_w[top, 0] = c0x
                stack_w[top, 1] = c1x
                stack_w[top, 2] = c2x
                stack_s[top] = h
                stack_u[top] = cub
                top += 1
    return best, max(upper, best), evals


@njit(cache=True, nogil=True)
def bnb_pairs(
    A,
    c0,
    F0,
    centres,
    quats,
    sigma0,
    expo,
    L,
    L1,
    L2,
    L3,
    tol,
    floor,
    max_evals,
    out_value,
    out_upper,
    out_q,
    out_evals,
):  # pragma: no cover - compiled
    """Solve every pair: ``A (P, n_mono)``, ``F0 (P, n_cells * 10)``; results into out_*."""
    cap = 1 << 16
    stack_w = np.empty((cap, 3))
    stack_s = np.empty(cap)
    stack_u = np.empty(cap)
    for p in range(A.shape[0]):
        out_value[p], out_upper[p], out_evals[p] = _solve_one(
            A[p],
            c0[p],
            F0[p],
            centres,
            quats,
            sigma0,
            expo,
            L,
            L1[p],
            L2[p],
            L3[p],
            tol[p],
            floor[p],
            max_evals,
            stack_w,
            stack_s,
            stack_u,
            out_q[p],
        )
