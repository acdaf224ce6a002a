"""Compiled branch and bound for ``max_R c_0 + p(q(R))`` (numba; imported on the first solve).

Per pair: Newton polish of the best coarse cell (incumbent and certified basin), then a
depth-first search over cubes in rotation-vector space, each pruned when its bound
(:mod:`._so3_kernels`) is at most ``best + tol``, else split into 8; a cell that beats the
incumbent is polished (a new basin).  The certified upper bound returned is the largest bound
of any pruned cell (or of the cells left when the evaluation budget runs out).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from orbitspace.quotient._so3_kernels import (
    MAX_BALLS,
    _add_ball_ws,
    _angle,
    _ball_bound,
    _crit_cheap,
    _crit_increment,
    _exact_increment,
    _increment,
    _lambda_range,
    _polish_ws,
    _quad,
    _rotvec_quat,
    _workspace,
)
from orbitspace.quotient._so3_tensor import chain_hessian, tangent_third_norm, tensor_eval

__all__ = ["bnb_pairs"]

#: polishes (Newton runs) started inside the branch and bound per pair, at most
MAX_POLISH = 24


@njit(cache=True, nogil=True)
def _far_cosines(r, bpar, nb, cosd):  # pragma: no cover - compiled
    """``cosd[b] = cos(D/2)``, ``D = max(1 + r, ρ_b − r)``: a cell of radius r at angle
    ``d >= D`` from ball b can use neither of its bounds (they apply when ``d − r < 1`` or
    ``d + r <= ρ_b``), and ``d >= D`` holds when ``|<q, q_b>| <= cos(D/2)`` (d = 2 acos|<q, q_b>|);
    a cell skipped by this test only loses a bound, so rounding cannot make it unsafe."""
    for b in range(nb):
        cosd[b] = math.cos(0.5 * min(max(1.0 + r, bpar[b, 3] - r), math.pi))


@njit(cache=True, nogil=True)
def _far(q, qb, cosd_b):  # pragma: no cover - compiled
    """Whether the rotations of unit quaternions q and qb are at least D apart (see
    :func:`_far_cosines`)."""
    return abs(q[0] * qb[0] + q[1] * qb[1] + q[2] * qb[2] + q[3] * qb[3]) <= cosd_b


@njit(cache=True, nogil=True)
def _ball_store():  # pragma: no cover - compiled
    """The certified basins of one pair (centres, bounds, radii, parameters, far cosines;
    :func:`._so3_kernels._add_ball_ws`), allocated once per batch."""
    return (
        np.empty((MAX_BALLS, 4)),
        np.empty(MAX_BALLS),
        np.empty(MAX_BALLS),
        np.empty((MAX_BALLS, 5)),
        np.empty(MAX_BALLS),
    )


@njit(cache=True, nogil=True)
def _scan(F0, lo, cand):  # pragma: no cover - compiled
    """The root cells with ``F0 > t32`` into ``cand`` (returns their number), ``t32 <= lo``
    a single-precision threshold: ``lo`` lowered by ``1.2e-7 |lo|`` before rounding (which
    moves it by at most ``6e-8`` relative), so every cell left out has ``F0 <= lo``."""
    t32 = np.float32(lo - 1.2e-7 * abs(lo) - 1e-30)
    k = 0
    m = F0.shape[0]
    # blocks of 64: a branch-free count of the cells above t32 (an integer sum, vectorised)
    # first, the indices only from the few blocks that hold any (~20 of 4,000 cells do)
    for s in range(0, m - m % 64, 64):
        hits = 0
        for c in range(s, s + 64):
            hits += F0[c] > t32
        if hits:
            for c in range(s, s + 64):
                if F0[c] > t32:
                    cand[k] = c
                    k += 1
    for c in range(m - m % 64, m):
        if F0[c] > t32:
            cand[k] = c
            k += 1
    return k


@njit(cache=True, nogil=True)
def _solve_one(
    poly,
    n,
    c0,
    F0,
    first,
    centres,
    quats,
    sigma0,
    radius0,
    L,
    L0,
    L1,
    L2,
    L3,
    L4,
    tol,
    floor,
    max_evals,
    stack_w,
    stack_s,
    stack_u,
    stack_t,
    out_q,
    T,
    cand,
    ws,
    balls,
):  # pragma: no cover - compiled
    """Certified max of one pair: (value, upper bound, evaluations); the maximiser into out_q.

    ``poly``: :func:`._so3_tensor.poly_tuple` of the pair (degree n = 2L); ``T``, ``ws``
    (:func:`._so3_kernels._workspace`) and ``balls`` (:func:`_ball_store`) scratch, reused
    from pair to pair."""
    a, A, child, off, pair, mult = poly[0], poly[1], poly[2], poly[3], poly[4], poly[5]
    t3c = n * (n - 1) * (n - 2) / 8.0  # T0 = t3c · T_3 on the tangent space
    cap = stack_s.shape[0]
    A1 = 0.0
    for al in range(a.shape[0]):
        A1 += abs(a[al])
    margin = 1e-13 * (A1 + abs(c0))  # rounding of one evaluation of p, generously
    bq, bf, brho, bpar, cosd = balls
    g = ws[0][4]
    qp = ws[0][5]
    scratch = ws[0][6]
    qc = ws[0][7]
    H = ws[1][4]
    gp = ws[0][8]
    Hp = ws[1][5]
    nb = 0
    # -- the incumbent: polish from the best initial cell (the search polishes any cell that
    # beats it, and deep cells outside every basin)
    best = -np.inf
    fp, evals = _polish_ws(poly, n, quats[first], L2, qp, g, H, T, ws)
    best = fp + c0
    for i in range(4):
        out_q[i] = qp[i]
    nb = _add_ball_ws(
        poly, n, qp, g, H, fp, fp + c0 + margin, L0, L3, L4, bq, bf, brho, bpar, nb, T, ws
    )
    upper = best  # the certified upper bound: max over pruned cells' bounds and best
    top = 0
    r0 = radius0 * (1.0 + 1e-12)  # every rotation of a root cell is this close to its centre
    # a bound from the value alone: the Lipschitz bound, and (for the critical points the
    # maximum must be one of) L2 r²/2, see _crit_increment
    inc0 = min(L1 * r0, 0.5 * L2 * r0 * r0) + margin
    # F0 is single precision: |F0 − p| <= (n_mono + 2) u32 Σ|a_α| (|q^α| <= 1), u32 = 6e-8
    err32 = 1e-5 * A1
    shift = c0 + err32 + inc0
    thr = max(best, floor) + tol - shift  # a cell with F0 <= thr is pruned by its value
    # one pass: the cells whose value bound F0 + shift exceeds the incumbent (few; best only
    # grows).  The others are pruned and, their bounds being <= best <= upper, leave no trace
    # in the certificate; the candidates at most thr are pruned too, the largest of them kept
    n_cand = _scan(F0, best - shift, cand)
    _far_cosines(r0, bpar, nb, cosd)
    top_pruned = -np.inf
    for k in range(n_cand):
        c = cand[k]
        v0 = F0[c]
        if v0 <= thr:
            top_pruned = max(top_pruned, v0)
            continue
        ub = v0 + shift
        if ub > max(best, floor) + tol:
            # the certified basins of the polished maxima need only the distance
            for b in range(nb):
                if _far(quats[c], bq[b], cosd[b]):
                    continue
                d = _angle(quats[c], bq[b])
                if d - r0 < 1.0 or d + r0 <= bpar[b, 3]:
                    bb = _ball_bound(d, r0, bf[b], bpar[b], L3, L4)
                    ub = min(ub, bb)
        if ub <= max(best, floor) + tol:
            upper = max(upper, ub)
            continue
        ball = ub
        # the exact value and gradient of this cell, only now (the Hessian if they keep it)
        f = tensor_eval(A, child, off, pair, n, quats[c], False, g, H, T) + c0
        evals += 1
        if f > best:
            best = f
            thr = max(best, floor) + tol - shift
            for i in range(4):
                out_q[i] = quats[c, i]
        gn = math.sqrt(g[0] ** 2 + g[1] ** 2 + g[2] ** 2)
        cheap = f + min(L1 * r0, gn * r0 + 0.5 * L2 * r0 * r0, _crit_cheap(gn, r0, L2, L3))
        cheap = min(cheap + margin, ball)
        if cheap <= max(best, floor) + tol:
            upper = max(upper, cheap)
            continue
        chain_hessian(T, n, quats[c], H)
        lam, lmin = _lambda_range(H[0, 0], H[1, 1], H[2, 2], H[0, 1], H[0, 2], H[1, 2])
        # bound of the third derivative along unit geodesics at the centre:
        # |T0(u, u, u) − (3n − 2)/4 gᵀu| <= ‖T0‖_F + (3n − 2)/4 |g|
        b3 = tangent_third_norm(T, off, mult, n)
        tau = t3c * b3 + (3.0 * n - 2.0) / 4.0 * gn
        inc = np.inf
        if n == 4:
            inc = _exact_increment(gn, lam, f - c0, b3, L0, r0)
            if f + inc + margin <= best:
                continue  # pruned below the incumbent: no trace in the certificate either
        inc = min(inc, _increment(gn, lam, r0, L1, L2, L3, _quad(H, g, scratch), tau, L4))
        ub = f + min(inc, _crit_increment(gn, lmin, r0, L2, L3, tau, L4)) + margin
        ub = min(ub, ball)
        if ub <= max(best, floor) + tol:
            upper = max(upper, ub)
        else:
            stack_w[top, 0] = centres[c, 0]
            stack_w[top, 1] = centres[c, 1]
            stack_w[top, 2] = centres[c, 2]
            stack_s[top] = sigma0
            stack_t[top] = tau
            stack_u[top] = ub
            top += 1
    upper = max(upper, top_pruned + shift)
    n_polish = 0
    n_deep = 0
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
        tau_parent = stack_t[top]
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
                fp, ne = _polish_ws(poly, n, qc, L2, qp, g, H, T, ws)
                evals += ne
                if fp + c0 > best:
                    best = fp + c0
                    for i in range(4):
                        out_q[i] = qp[i]
                nb = _add_ball_ws(
                    poly,
                    n,
                    qp,
                    g,
                    H,
                    fp,
                    fp + c0 + margin,
                    L0,
                    L3,
                    L4,
                    bq,
                    bf,
                    brho,
                    bpar,
                    nb,
                    T,
                    ws,
                )
        h = 0.5 * s
        r = math.sqrt(3.0) * h * (1.0 + 1e-12)
        _far_cosines(r, bpar, nb, cosd)
        for octant in range(8):
            c0x = w0 + (h if octant & 1 else -h)
            c1x = w1 + (h if octant & 2 else -h)
            c2x = w2 + (h if octant & 4 else -h)
            n1 = max(abs(c0x) - h, 0.0)
            n2 = max(abs(c1x) - h, 0.0)
            n3 = max(abs(c2x) - h, 0.0)
            if n1 * n1 + n2 * n2 + n3 * n3 > math.pi * math.pi:
                continue  # the cube misses the ball |w| <= π that covers SO(3)
            _rotvec_quat(c0x, c1x, c2x, qc)
            fc = tensor_eval(A, child, off, pair, n, qc, False, g, H, T) + c0
            evals += 1
            chain = True  # T holds the chain at qc (a polish below overwrites it)
            if fc > best:
                best = fc
                for i in range(4):
                    out_q[i] = qc[i]
                if n_polish < MAX_POLISH:
                    # a better point than any known: polish it (a new basin, most likely)
                    n_polish += 1
                    chain = False
                    fp, ne = _polish_ws(poly, n, qc, L2, qp, gp, Hp, T, ws)
                    evals += ne
                    if fp + c0 > best:
                        best = fp + c0
                        for i in range(4):
                            out_q[i] = qp[i]
                    nb = _add_ball_ws(
                        poly,
                        n,
                        qp,
                        gp,
                        Hp,
                        fp,
                        fp + c0 + margin,
                        L0,
                        L3,
                        L4,
                        bq,
                        bf,
                        brho,
                        bpar,
                        nb,
                        T,
                        ws,
                    )
                    _far_cosines(r, bpar, nb, cosd)
            gn = math.sqrt(g[0] ** 2 + g[1] ** 2 + g[2] ** 2)
            cheap = fc + min(L1 * r, gn * r + 0.5 * L2 * r * r, _crit_cheap(gn, r, L2, L3))
            cheap += margin
            if cheap > max(best, floor) + tol:
                for b in range(nb):
                    if _far(qc, bq[b], cosd[b]):
                        continue
                    d = _angle(qc, bq[b])
                    if d - r < 1.0 or d + r <= bpar[b, 3]:
                        bb = _ball_bound(d, r, bf[b], bpar[b], L3, L4)
                        cheap = min(cheap, bb)
            if cheap <= max(best, floor) + tol:
                upper = max(upper, cheap)
                continue
            if not chain:  # a polish overwrote the chain: at qc again
                tensor_eval(A, child, off, pair, n, qc, False, gp, Hp, T)
            chain_hessian(T, n, qc, H)  # the Hessian, only for the cells kept
            lam, lmin = _lambda_range(H[0, 0], H[1, 1], H[2, 2], H[0, 1], H[0, 2], H[1, 2])
            # the third derivative at the child's centre: the parent's bound plus L4 times
            # their distance, or its own (the chain at qc)
            b3 = tangent_third_norm(T, off, mult, n)
            tau_c = min(tau_parent + L4 * r, t3c * b3 + (3.0 * n - 2.0) / 4.0 * gn)
            inc = np.inf
            if n == 4:
                inc = _exact_increment(gn, lam, fc - c0, b3, L0, r)
                if fc + inc + margin <= best:
                    continue  # pruned below the incumbent: no trace in the certificate
            inc = min(inc, _increment(gn, lam, r, L1, L2, L3, _quad(H, g, scratch), tau_c, L4))
            inc = min(inc, _crit_increment(gn, lmin, r, L2, L3, tau_c, L4))
            cub = min(fc + inc + margin, cheap)
            if cub <= max(best, floor) + tol:
                upper = max(upper, cub)
            else:
                stack_w[top, 0] = c0x
                stack_w[top, 1] = c1x
                stack_w[top, 2] = c2x
                stack_s[top] = h
                stack_t[top] = tau_c
                stack_u[top] = cub
                top += 1
    return best, max(upper, best), evals


@njit(cache=True, nogil=True)
def bnb_pairs(
    A,
    Asym,
    c0,
    F0,
    first,
    child,
    off,
    pair,
    mult,
    centres,
    quats,
    sigma0,
    radius0,
    L,
    L0,
    L1,
    L2,
    L3,
    L4,
    tol,
    floor,
    max_evals,
    out_value,
    out_upper,
    out_q,
    out_evals,
):  # pragma: no cover - compiled
    """Solve every pair: ``A (P, n_mono)`` the monomial coefficients, ``Asym`` their
    symmetric-tensor entries (with ``child, off, pair, mult`` of
    :func:`._so3_tensor.tensor_tables`), ``F0 (P, n_cells)`` (float32: p at the root cells,
    to within ``1e-5 Σ|a|``), ``first (P,)`` (the argmax of each row of F0, polished first);
    results into out_*."""
    cap = 1 << 16
    stack_w = np.empty((cap, 3))
    stack_s = np.empty(cap)
    stack_u = np.empty(cap)
    stack_t = np.empty(cap)
    n = 2 * L
    T = np.empty(off[n + 1])
    cand = np.empty(centres.shape[0], dtype=np.int64)
    ws = _workspace()
    balls = _ball_store()
    for p in range(A.shape[0]):
        poly = (A[p], Asym[p], child, off, pair, mult)
        out_value[p], out_upper[p], out_evals[p] = _solve_one(
            poly,
            n,
            c0[p],
            F0[p],
            first[p],
            centres,
            quats,
            sigma0,
            radius0,
            L,
            L0[p],
            L1[p],
            L2[p],
            L3[p],
            L4[p],
            tol[p],
            floor[p],
            max_evals,
            stack_w,
            stack_s,
            stack_u,
            stack_t,
            out_q[p],
            T,
            cand,
            ws,
            balls,
        )
