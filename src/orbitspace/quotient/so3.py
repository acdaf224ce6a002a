"""Certified exact SO(3) / O(3) alignment: ``max_R <x, ρ(R) y>`` for e3nn-irreps latents.

With ``X_l``, ``Y_l`` the ``(mult_l, 2l+1)`` blocks of degree l (every term of that degree,
stacked) and ``C_l = X_lᵀ Y_l``,

    f(R) = <x, ρ(R) y> = c_0 + Σ_{l>=1} <C_l, D^l(R)>,     c_0 = <x_0, y_0> (the scalars).

**Closed forms** (gap 0): scalars only (``R = I``); only degree-1 blocks besides scalars:
``f = c_0 + <B ᵀC_1 B, R>`` (``D^1(R) = B R Bᵀ`` in e3nn's basis), maximised by Kabsch / Horn:
``M = U S Vᵀ``, ``R = U diag(1, 1, det(U Vᵀ)) Vᵀ``, value ``c_0 + s_1 + s_2 + det·s_3``.

**General case: branch and bound** (:mod:`._so3_bnb`, compiled), ``f`` evaluated as a quaternion
polynomial (:mod:`._so3_poly`):

1. *Bounds along geodesics.*  Along a unit-speed geodesic ``t -> R exp(t[u]×)``,
   ``f^{(k)}(t) = Σ_l <C_l, D^l(R exp(t[u]×)) J_u^k>`` with ``J_u`` the generator of ``D^l``
   about ``u``; ``J_u`` is skew with eigenvalues ``i m``, ``|m| <= l``, so
   ``|f^{(k)}| <= L_k = Σ_l Σ_i σ_i(C_l) w_i^k`` with ``w = (l, l, l−1, l−1, ..., 1, 1, 0)``
   (von Neumann's trace inequality; ``<= Σ_l l^k ‖C_l‖_*``, :func:`_derivative_bound`).
   With ``g`` and ``H`` the Lie gradient and Hessian at ``R`` (``f'(0) = gᵀu <= |g|``,
   ``f''(0) = uᵀHu <= λ_max(H)``), every rotation within angle ``r`` of ``R`` satisfies
   ``f <= f(R) + min(L1 r, |g| r + L2 r²/2, max_{s<=r} |g| s + λ_max s²/2 + L3 s³/6)``.
2. *Cells.*  Cubes in rotation-vector space ``w`` (``R = exp([w]×)``).  The root cells are
   the Voronoi cells of a body-centred cubic lattice of spacing ``a`` (truncated octahedra,
   each inside the cube of half-side ``a/2`` around its point, every point within ``√5 a/4``
   of it; :func:`._so3_poly.root_cells`), those whose cube misses the ball ``|w| <= π`` dropped
   (the ball covers SO(3)); ~0.54 times as many cells as cubes of the same covering radius.
   A root cell is refined by cutting its cube into 8, and so on.  A cube of half-side σ with
   centre c lies within angle ``r = √3 σ`` of ``exp([c]×)``.  Proof (Hartley & Kahl 2009): the differential of ``exp`` at ``w`` (angle
   θ = |w|), after left translation to the identity, is ``I − (1−cos θ)/θ² K + (θ − sin θ)/θ³ K²``
   (``K = [w]×``); it is 1 on ``w`` and a rotation-scaling by ``sin(θ/2)/(θ/2) <= 1`` on
   ``w``'s orthogonal plane, so ``exp`` does not lengthen curves.  The image of the segment
   ``[c, w]`` joins ``exp(c)`` to ``exp(w)`` with length ``<= |w − c| <= √3 σ``; the geodesic
   distance (the rotation angle of ``exp(c)ᵀ exp(w)``) is at most that.  This holds for
   every w in R³, so cubes poking out of the π-ball are covered too.  (Tested numerically.)
3. *Critical points only.*  The maximum is a critical point, and every partition of SO(3)
   into cells has it in some cell, so a cell may be bounded by the values of the critical
   points it can hold (:func:`._so3_kernels._crit_increment`): none if ``|g| > L2 r``, else
   ``f(c) + min(L2 r²/2, |g| r/2 + 5 L3 r³/12, ...)``; several times tighter than the bound
   over the whole cell, and ``f(c) + L2 r²/2`` needs the value alone.
4. *Coarse level for many pairs at once:* f at every root cell centre is linear in the
   polynomial coefficients: one matrix product ``(pairs, n_mono) @ (n_mono, cells)`` in
   single precision (its rounding bound ``1e-5 Σ_α |a_α|`` added to every bound from it); the
   gradient, Hessian and third-derivative tensor (whose Frobenius norm τ bounds ``|f'''|`` at
   the centre) only for the cells the value bound keeps, all of them by contracting the
   symmetric tensor of p with q (:mod:`._so3_tensor`, ~140 multiply-adds for top degree 2);
   the remainder after the quadratic Taylor model is then
   ``min(L3 r³/6, τ r³/6 + L4 r⁴/24)`` (a child uses the smaller of its own τ and its
   parent's plus ``L4 r``, ``L4 = Σ l⁴ ‖C_l‖_*`` bounding how fast ``|f'''|`` moves).  For
   top degree 2 the exact expansion of step 5 bounds every cell too
   (:func:`._so3_kernels._exact_increment`: ``2|g|S + 2λS² + 4 b3 S³ + (L0 − p − 2λ) S⁴``,
   ``S = sin(r/2)``); the smaller bound is used.  The ``L_k`` come from singular values by
   compiled one-sided Jacobi (rounded up).
5. *Per pair:* Newton polish (Lie algebra) of the best cell gives the incumbent; cubes
   whose bound is ``<= best + tol`` are pruned, the others split into 8 (a cube beating the
   incumbent is polished first).  Around every polished strict local maximum ``R*``
   (``λ* = λ_max(H(R*)) < 0``), a rotation at angle t has
   ``f <= f(R*) + |g*| t + min(λ* t²/2 + L3 t³/6, λ* t²/2 + τ* t³/6 + L4 t⁴/24)``
   (Taylor at R*, τ* from the exact third-derivative tensor there); this bounds every cube
   by its distance from R*, so the basin of each maximum is certified in a few large cubes.
   For top degree 2 an exact expansion needs no global constant but ``L0 = Σ_l ‖C_l‖_*``:
   p is a homogeneous quartic in the quaternion, so along ``x = cos(t/2) q* + sin(t/2) v``
   (``v = q* ⊗ (0, u)``) ``p(x) = Σ_k binom(4, k) cos^(4−k) sin^k (t/2) B_k(u)`` with
   ``B_0..B_3`` from f, g, H and the third-derivative tensor at R* and ``|B_4| = |p(v)| <=
   L0``; the angle up to which this stays below f(R*) (typically ~1 rad, against 0.2-0.5
   from the constants) certifies every cube inside it at once.
   The certificate ``gap = max(pruned bounds) − value`` (rounding of the polynomial
   evaluation added to every bound) is ``<= tol·Σ_l ‖C_l‖_*`` unless the evaluation budget
   runs out (then it is whatever the remaining cells allow: still an honest bound, just
   larger; this happens for continuous families of maximisers, e.g. latents fixed by every
   rotation about an axis).  Degrees up to l = 4.

**O(3)**: an element with det −1 is ``−R'`` and acts on parity-p irreps by ``p D^l(R')``; the
maximum is the better of two SO(3) problems, the second with every copy multiplied by its
parity (the second is pruned against the first's value), element ``−R'``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from orbitspace.groups import O3, SO3
from orbitspace.groups._wigner import wigner_D
from orbitspace.quotient._registry import register_lower_bound, register_solver

__all__ = ["TOL", "so3_pairs", "so3_coefficients", "so3_lower_bound"]

#: default certified accuracy of the maximum, relative to Σ_l ‖C_l‖_* (l >= 1)
TOL = 1e-9
#: polynomial evaluations per pair before the branch and bound stops and reports its gap
MAX_EVALS = 200_000
#: root lattice: spacing 2π / n, by top degree (finer for higher degree; covering radii
#: 0.23, 0.39, 0.44 rad; 20, 14, 12 cubes per axis, used before, covered within 0.27, 0.39, 0.45)
_GRID = {2: 15, 3: 9, 4: 8}
#: coarse values (float32 entries) per block of pairs
_BLOCK = 2**20


@dataclass(frozen=True)
class _Layout:
    """Index arrays of an irreps action: scalars and the copies of every degree l >= 1."""

    scalar_idx: np.ndarray  # (n_scalars,)
    scalar_parity: np.ndarray  # (n_scalars,) ±1
    degrees: tuple[int, ...]  # ascending, deg >= 1
    copy_idx: tuple[np.ndarray, ...]  # per degree (mult_l, 2l+1)
    copy_parity: tuple[np.ndarray, ...]  # per degree (mult_l,)
    reflections: bool


@lru_cache(maxsize=64)
def _layout(action) -> _Layout:
    scalars, spar = [], []
    copies: dict[int, list] = {}
    for comp in action.components():
        deg = int(comp.irrep.degree)
        p = int(comp.irrep.parity or 1)
        for sl in comp.copy_slices():
            if deg == 0:
                scalars.append(sl.start)
                spar.append(p)
            else:
                copies.setdefault(deg, []).append((np.arange(sl.start, sl.stop), p))
    degrees = tuple(sorted(copies))
    return _Layout(
        np.array(scalars, dtype=np.int64),
        np.array(spar, dtype=float),
        degrees,
        tuple(np.stack([c[0] for c in copies[deg]]) for deg in degrees),
        tuple(np.array([c[1] for c in copies[deg]], dtype=float) for deg in degrees),
        bool(action.includes_reflections),
    )


def so3_coefficients(
    X: np.ndarray, Y: np.ndarray, action, *, signed: bool = False
) -> tuple[np.ndarray, list[np.ndarray]]:
    """``c_0`` and the ``C_l = Σ_copies x_c y_cᵀ`` of row-aligned batches (numpy).

    Parameters
    ----------
    X, Y : arrays of shape (P, dim)
    action : SO3 or O3
    signed : multiply every copy by its parity (the det −1 half of O(3))

    Returns
    -------
    c0 : array (P,)
    C : list over the degrees l >= 1 present (ascending) of arrays (P, 2l+1, 2l+1)

    Examples
    --------
    >>> rho = SO3("1x0e + 1x1o")
    >>> c0, C = so3_coefficients(np.array([[2.0, 1, 0, 0]]), np.array([[3.0, 0, 1, 0]]), rho)
    >>> float(c0[0]), C[0][0].tolist()
    (6.0, [[0.0, 1.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    """
    lay = _layout(action)
    xs, ys = X[:, lay.scalar_idx], Y[:, lay.scalar_idx]
    if signed:
        xs = xs * lay.scalar_parity
    c0 = (xs * ys).sum(1)
    C = []
    for idx, par in zip(lay.copy_idx, lay.copy_parity, strict=True):
        xl = X[:, idx]
        if signed:
            xl = xl * par[:, None]
        C.append(np.einsum("pca,pcb->pab", xl, Y[:, idx]))
    return c0, C


def _pair_coefficients(X, Y, rows, cols, action, signed: bool = False):
    """:func:`so3_coefficients` of ``X[rows]`` and ``Y[cols]`` (compiled, no gathered copies)."""
    from orbitspace.quotient._so3_coef import pair_products

    lay = _layout(action)
    P = rows.shape[0]
    c0 = np.empty((P, 1, 1))
    ones = np.ones(len(lay.scalar_idx))
    pair_products(
        X, Y, rows, cols, lay.scalar_idx[:, None], lay.scalar_parity if signed else ones, c0
    )
    C = []
    for idx, par in zip(lay.copy_idx, lay.copy_parity, strict=True):
        out = np.empty((P, idx.shape[1], idx.shape[1]))
        pair_products(X, Y, rows, cols, idx, par if signed else np.ones(len(par)), out)
        C.append(out)
    return c0[:, 0, 0], C


@lru_cache(maxsize=1)
def _d1_basis() -> np.ndarray:
    """Orthogonal B with ``D^1(R) = B R Bᵀ`` (the intertwiner, from two generic rotations)."""
    rng = np.random.default_rng(7)
    rows = []
    for _ in range(2):
        q = rng.standard_normal(4)
        from orbitspace.quotient._so3_poly import quat_to_matrix

        R = quat_to_matrix(q / np.linalg.norm(q))
        D = wigner_D(1, R)
        # D B − B R = 0, row-major vec: (D ⊗ I − I ⊗ Rᵀ) vec(B) = 0
        rows.append(np.kron(D, np.eye(3)) - np.kron(np.eye(3), R.T))
    _, _, vt = np.linalg.svd(np.concatenate(rows))
    B = vt[-1].reshape(3, 3) * np.sqrt(3.0)
    return B


def _kabsch(c0, C1):
    """Closed-form ``max_R c0 + <C1, D^1(R)>``: value (P,), R (P, 3, 3)."""
    B = _d1_basis()
    M = np.einsum("ai,pab,bj->pij", B, C1, B)
    U, s, Vt = np.linalg.svd(M)
    d = np.sign(np.linalg.det(U @ Vt))
    d = np.where(d == 0, 1.0, d)
    U = U.copy()
    U[:, :, 2] *= d[:, None]
    R = U @ Vt
    return c0 + s[:, 0] + s[:, 1] + d * s[:, 2], R


@lru_cache(maxsize=8)
def _value_table(L: int, n_per_axis: int) -> np.ndarray:
    """The value rows ``(n_cells, n_mono)`` of the root cells in single precision, for the
    batched product over all pairs (the search adds its rounding bound; the derivatives of
    the cells it keeps are evaluated from the coefficients, :mod:`._so3_tensor`)."""
    from orbitspace.quotient._so3_poly import root_cells

    _, table, _, _ = root_cells(L, n_per_axis)
    values = np.ascontiguousarray(table.reshape(-1, 20, table.shape[1])[:, 0], dtype=np.float32)
    values.setflags(write=False)
    return values


@lru_cache(maxsize=8)
def _root_quats(L: int, n_per_axis: int) -> np.ndarray:
    """Unit quaternions of the root cell centres (cached with the cells)."""
    from orbitspace.quotient._so3_poly import root_cells, rotvec_to_quat

    q = np.ascontiguousarray(rotvec_to_quat(root_cells(L, n_per_axis)[0]))
    q.setflags(write=False)
    return q


@lru_cache(maxsize=32)
def _bound_weights(degrees: tuple[int, ...]) -> np.ndarray:
    """``(Σ_l (2l+1), 5)``: column k holds the weights ``w^k`` of :func:`_derivative_bound`
    for the singular values of every ``C_l`` concatenated, so ``L_k = sv @ W[:, k]``."""
    w = np.concatenate([np.append(np.repeat(np.arange(d, 0, -1.0), 2), 0.0) for d in degrees])
    W = np.stack([w**k for k in range(5)], 1)
    W.setflags(write=False)
    return W


def _singular_values(C: np.ndarray) -> np.ndarray:
    """Upper bounds of the singular values of every ``C[p]`` (``(P, k, k)``), descending.

    Compiled one-sided Jacobi (:func:`._so3_coef.singular_values`, accurate to a few units of
    rounding times ``σ_1``), each raised by ``4 k ε σ_1`` so that the derivative constants
    built from them stay upper bounds.
    """
    from orbitspace.quotient._so3_coef import singular_values

    out = np.empty(C.shape[:2])
    singular_values(np.ascontiguousarray(C, dtype=float), out)
    return out + (4 * C.shape[1] * np.finfo(float).eps) * out[:, :1]


def _derivative_bound(sv, degrees, k: int) -> np.ndarray:
    """``L_k >= |f^(k)|`` along every unit geodesic, from the singular values of the ``C_l``.

    ``f^(k)(t) = Σ_l <C_l, D^l(R(t)) J_u^k>`` with ``J_u`` the generator about the unit axis
    u: skew with eigenvalues ``i m``, ``|m| <= l``, so ``D^l(R) J_u^k`` has the singular
    values ``|m|^k`` (``l, l, l−1, l−1, ..., 1, 1, 0``).  Von Neumann's trace inequality
    ``|<A, B>| <= Σ_i σ_i(A) σ_i(B)`` gives ``L_k = Σ_l Σ_i σ_i(C_l) w_i^k``; it is at most
    ``Σ_l l^k ‖C_l‖_*`` and smaller when the ``C_l`` have several comparable singular
    values.

    Examples
    --------
    >>> float(_derivative_bound([np.array([[3.0, 2.0, 1.0]])], (1,), 2)[0])
    5.0
    """
    out = 0.0
    for s, deg in zip(sv, degrees, strict=True):
        w = np.repeat(np.arange(deg, 0, -1, dtype=float), 2)
        w = np.append(w, 0.0) ** k  # (2l+1,), descending like s
        out = out + s @ w
    return np.asarray(out)


def _solve_problem(c0, C, degrees, tol, max_evals, floor, info=None):
    """``max_R c0 + Σ_l <C_l, D^l(R)>`` for P row-aligned pairs: value, R, certified upper."""
    P = c0.shape[0]
    value = c0.copy()
    R = np.broadcast_to(np.eye(3), (P, 3, 3)).copy()
    if not degrees:
        return value, R, value.copy()
    if degrees == (1,):
        value, R = _kabsch(c0, C[0])
        return value, R, value.copy()
    from orbitspace.quotient._so3_poly import (
        poly_structure,
        quat_to_matrix,
        root_cells,
    )

    ps = poly_structure(degrees)
    sv = [_singular_values(c) for c in C]  # descending, (P, 2l+1) each, rounded up
    S = sum(s.sum(-1) for s in sv)
    live = S > 0
    upper = value.copy()
    if not live.any():
        return value, R, upper
    vecC = np.concatenate([c[live].reshape(int(live.sum()), -1) for c in C], 1)
    A = np.ascontiguousarray(vecC @ ps.M.T)
    centres, _, half, radius = root_cells(ps.L, _GRID[ps.L])
    table1 = _value_table(ps.L, _GRID[ps.L])
    quats = _root_quats(ps.L, _GRID[ps.L])
    from orbitspace.quotient._so3_bnb import bnb_pairs
    from orbitspace.quotient._so3_tensor import tensor_tables, to_tensor

    child, off, mult, pair, _ = tensor_tables(2 * ps.L)
    Asym = to_tensor(A, 2 * ps.L)
    n = A.shape[0]
    v, up, q = np.empty(n), np.empty(n), np.empty((n, 4))
    evals = np.zeros(n, dtype=np.int64)
    c0l, fl = np.ascontiguousarray(c0[live]), np.ascontiguousarray(floor[live])
    Lk = np.concatenate(sv, 1)[live] @ _bound_weights(degrees)  # (n, 5): L_0 .. L_4
    Lk = [np.ascontiguousarray(Lk[:, k]) for k in range(5)]
    tol_abs = np.ascontiguousarray(tol * S[live])
    block = max(1, _BLOCK // table1.shape[0])  # <= 4 MiB of coarse values: in cache for the scan
    A32 = A.astype(np.float32)
    # one buffer for the coarse values of every block (a fresh 4 MiB array per block costs
    # page faults)
    F0buf = np.empty((min(n, block), table1.shape[0]), dtype=np.float32)
    for s in range(0, n, block):
        e = min(n, s + block)
        F0 = np.matmul(A32[s:e], table1.T, out=F0buf[: e - s])
        bnb_pairs(
            A[s:e], Asym[s:e], c0l[s:e], F0, F0.argmax(1), child, off, pair, mult, centres,
            quats, half, radius, ps.L, Lk[0][s:e], Lk[1][s:e], Lk[2][s:e], Lk[3][s:e],
            Lk[4][s:e], tol_abs[s:e], fl[s:e], int(max_evals), v[s:e], up[s:e], q[s:e],
            evals[s:e],
        )  # fmt: skip
    if info is not None:
        info.setdefault("evals", []).append(evals)
    value[live], upper[live], R[live] = v, up, quat_to_matrix(q)
    return value, R, upper


def so3_pairs(
    X: np.ndarray,
    Y: np.ndarray,
    rows: np.ndarray,
    cols: np.ndarray,
    action,
    *,
    tol: float = TOL,
    max_evals: int = MAX_EVALS,
    chunk: int = 2048,
    info: dict | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Certified ``max_R <X[rows[q]], ρ(R) Y[cols[q]]>`` for every pair ``q``.

    Parameters
    ----------
    X : array of shape (n_x, dim)
    Y : array of shape (n_y, dim)
    rows, cols : int arrays of shape (n_pairs,)
    action : SO3 or O3
    tol : certified accuracy relative to ``Σ_l ‖C_l‖_*`` (``<= ‖x‖ ‖y‖``)
    max_evals : evaluation budget per pair (reached only for continuous families of maxima;
        the gap then says how far from certified the value is)
    chunk : pairs per batched matrix product
    info : if a dict, ``info["evals"]`` collects the polynomial evaluations of every
        branch-and-bound solve (arrays, for benchmarks)

    Returns
    -------
    value : array (n_pairs,)
    g : array (n_pairs, 3, 3), maximisers (det −1 for the reflection half of O(3))
    gap : array (n_pairs,), certified: ``value <= max <= value + gap``

    Degrees up to l = 4 (ValueError beyond it: use ``method="exhaustive"``).  Options pass
    through :func:`orbitspace.quotient.solvers.solve_pairs` (``tol=``, ``max_evals=``).

    Examples
    --------
    >>> rho = SO3("2x0e + 1x1o + 1x2e")
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(1, rho.dim))
    >>> R0 = rho.sample(random_state=1)
    >>> value, g, gap = so3_pairs(x, rho.act(R0, x), [0], [0], rho)
    >>> bool(np.isclose(value[0], (x**2).sum())), bool(gap[0] < 1e-9 * (x**2).sum())
    (True, True)
    """
    if not (isinstance(tol, (int, float)) and tol > 0):
        raise ValueError(f"tol must be a positive number; received {tol!r}")
    X = np.asarray(X, dtype=float)
    Y = np.asarray(Y, dtype=float)
    dim = int(action.dim)
    if X.ndim != 2 or Y.ndim != 2 or X.shape[1] != dim or Y.shape[1] != dim:
        raise ValueError(f"X and Y must have shape (n, {dim}); received {X.shape} and {Y.shape}")
    X, Y = np.ascontiguousarray(X), np.ascontiguousarray(Y)
    # validated, non-negative indices (IndexError as numpy's) for the compiled reads
    rows = np.arange(X.shape[0])[np.asarray(rows, dtype=np.int64)]
    cols = np.arange(Y.shape[0])[np.asarray(cols, dtype=np.int64)]
    lay = _layout(action)
    P = rows.shape[0]
    value = np.empty(P)
    g = np.empty((P, 3, 3))
    gap = np.empty(P)
    for s in range(0, P, chunk):
        r, c = rows[s : s + chunk], cols[s : s + chunk]
        c0, C = _pair_coefficients(X, Y, r, c, action)
        v, R, up = _solve_problem(
            c0, C, lay.degrees, tol, max_evals, np.full(len(c0), -np.inf), info
        )
        if lay.reflections:
            c0m, Cm = _pair_coefficients(X, Y, r, c, action, signed=True)
            v2, R2, up2 = _solve_problem(c0m, Cm, lay.degrees, tol, max_evals, v, info)
            second = v2 > v
            v = np.where(second, v2, v)
            R = np.where(second[:, None, None], -R2, R)
            up = np.maximum(up, up2)
        value[s : s + chunk], g[s : s + chunk] = v, R
        gap[s : s + chunk] = np.maximum(up - v, 0.0)
    return value, g, gap


@register_solver(SO3, name="certified branch and bound on SO(3)", certified=True)
def _so3_pairs(X, Y, rows, cols, action, **options):
    return so3_pairs(X, Y, rows, cols, action, **options)


@register_solver(O3, name="certified branch and bound on O(3)", certified=True)
def _o3_pairs(X, Y, rows, cols, action, **options):
    return so3_pairs(X, Y, rows, cols, action, **options)


def so3_lower_bound(action, Z: np.ndarray) -> np.ndarray:
    """Invariant 1-Lipschitz features: the scalars and the singular values of every block.

    For each degree l (and, for O3, each parity p), ``Z_l`` is the ``(mult, 2l+1)`` matrix of
    its copies; a rotation maps it to ``Z_l D^l(R)ᵀ`` (O3: ``± Z_l D^l(R')ᵀ``), which has the
    same singular values.  Mirsky's inequality ``‖σ(A) − σ(B)‖ <= ‖A − B‖_F`` (singular values
    sorted) gives, for every group element g,
    ``‖φ(x) − φ(y)‖² = Σ_blocks ‖σ(X_l) − σ(Y_l D_gᵀ)‖² <= Σ_blocks ‖X_l − Y_l D_gᵀ‖²
    = ‖x − ρ(g) y‖²`` (invariant scalars enter as themselves; O3 pseudoscalars, flipped by
    reflections, as ``|z|`` since ``||a| − |b|| <= |a − ± b|``); the minimum over g is
    ``d([x], [y])²``.

    Parameters
    ----------
    Z : array of shape (n, dim)

    Returns
    -------
    array of shape (n, n_features)

    Examples
    --------
    >>> rho = SO3("1x0e + 2x1o")
    >>> Z = np.array([[1.0, 3.0, 0, 0, 0, 4.0, 0]])
    >>> so3_lower_bound(rho, Z).round(6).tolist()
    [[1.0, 4.0, 3.0]]
    """
    Z = np.asarray(Z, dtype=float)
    n = Z.shape[0]
    parts = []
    groups: dict[tuple[int, int], list[np.ndarray]] = {}
    refl = bool(action.includes_reflections)
    for comp in action.components():
        deg, p = int(comp.irrep.degree), int(comp.irrep.parity or 1)
        for sl in comp.copy_slices():
            if deg == 0:
                parts.append(np.abs(Z[:, sl]) if (refl and p == -1) else Z[:, sl])
            else:
                groups.setdefault((deg, p if refl else 1), []).append(np.arange(sl.start, sl.stop))
    for key in sorted(groups):
        idx = np.stack(groups[key])  # (mult, 2l+1)
        parts.append(np.linalg.svd(Z[:, idx], compute_uv=False))
    return np.concatenate(parts, axis=1) if parts else np.zeros((n, 0))


register_lower_bound(SO3)(so3_lower_bound)
register_lower_bound(O3)(so3_lower_bound)

from orbitspace.quotient import _so3_grid  # noqa: E402,F401  (registers the exhaustive twin)
