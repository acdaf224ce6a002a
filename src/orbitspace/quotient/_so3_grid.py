"""The exhaustive twin of the SO(3) / O(3) solver: a dense rotation grid plus multistart Newton.

Independent of the branch and bound: ``f(R) = c_0 + Σ_l <C_l, D^l(R)>`` is evaluated from the
Wigner matrices themselves (no quaternion polynomial), on a super-Fibonacci grid of unit
quaternions (Alexa 2022; near-uniform on SO(3)), and the ``n_starts`` best grid rotations
are refined by Newton steps on the Lie algebra (gradient ``<C_l, D^l(R) G_a>``, Hessian
``<C_l, D^l(R) sym(G_a G_b)>``, ``G_a`` the generators of ``D^l``), keeping the best point
seen.  Slow, not certified, obviously correct when the grid is dense.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from orbitspace.groups import O3, SO3
from orbitspace.groups._wigner import so3_generators, wigner_D
from orbitspace.quotient._registry import register_exhaustive

__all__ = ["so3_exhaustive", "super_fibonacci_rotations"]


def super_fibonacci_rotations(n: int) -> np.ndarray:
    """``n`` near-uniform rotation matrices ``(n, 3, 3)`` (super-Fibonacci spiral on S³).

    Examples
    --------
    >>> R = super_fibonacci_rotations(100)
    >>> R.shape, bool(np.allclose(R[7] @ R[7].T, np.eye(3)))
    ((100, 3, 3), True)
    """
    from orbitspace.quotient._so3_poly import quat_to_matrix

    phi, psi = np.sqrt(2.0), 1.533751168755204288118041
    i = np.arange(n) + 0.5
    s = i / n
    r, rr = np.sqrt(s), np.sqrt(1.0 - s)
    alpha, beta = 2 * np.pi * i / phi, 2 * np.pi * i / psi
    q = np.stack([r * np.sin(alpha), r * np.cos(alpha), rr * np.sin(beta), rr * np.cos(beta)], -1)
    return quat_to_matrix(q)


@lru_cache(maxsize=8)
def _grid_tables(n_grid: int, degrees: tuple[int, ...]):
    R = super_fibonacci_rotations(n_grid)
    return R, tuple(wigner_D(deg, R).reshape(n_grid, -1) for deg in degrees)


def _hat(v: np.ndarray) -> np.ndarray:
    z = np.zeros(v.shape[:-1])
    return np.stack(
        [
            np.stack([z, -v[..., 2], v[..., 1]], -1),
            np.stack([v[..., 2], z, -v[..., 0]], -1),
            np.stack([-v[..., 1], v[..., 0], z], -1),
        ],
        -2,
    )


def _expm_so3(v: np.ndarray) -> np.ndarray:
    """Rodrigues: ``exp([v]×)`` for rotation vectors ``(..., 3)``."""
    th = np.linalg.norm(v, axis=-1)[..., None, None]
    K = _hat(v)
    safe = np.where(th > 1e-12, th, 1.0)
    a = np.where(th > 1e-12, np.sin(safe) / safe, 1.0)
    b = np.where(th > 1e-12, (1 - np.cos(safe)) / safe**2, 0.5)
    return np.eye(3) + a * K + b * (K @ K)


def _objective(c0, C, degrees, R, derivatives):
    """f (and g, H) at rotations R (B, k, 3, 3) for coefficients C (B, ...)."""
    f = np.broadcast_to(c0[:, None], R.shape[:2]).copy()
    g = np.zeros(R.shape[:2] + (3,))
    H = np.zeros(R.shape[:2] + (3, 3))
    for deg, Cl in zip(degrees, C, strict=True):
        D = wigner_D(deg, R)  # (B, k, n, n)
        f += np.einsum("bij,bkij->bk", Cl, D)
        if derivatives:
            G = so3_generators(deg)
            DG = np.einsum("bkij,ajm->bkaim", D, G)
            g += np.einsum("bij,bkaij->bka", Cl, DG)
            DGG = np.einsum("bkaij,cjm->bkacim", DG, G)
            Hl = np.einsum("bij,bkacij->bkac", Cl, DGG)
            H += 0.5 * (Hl + np.swapaxes(Hl, -1, -2))
    return f, g, H


def _damped_step(H, g, L2):
    """Ascent step ``(μI − H)⁺ g`` per start, never singular.

    ``μ = 0`` (Newton) where H is safely negative definite, else ``λ_max(H) + 0.05 L2``
    (Levenberg-Marquardt); directions whose damped curvature vanishes (flat directions, e.g.
    the stabiliser of a single degree-1 copy, or an all-zero pair) get no step: a
    pseudo-inverse from the eigen-decomposition instead of ``solve``, which raised
    ``LinAlgError`` on such singular systems.
    """
    w, V = np.linalg.eigh(H)  # ascending eigenvalues
    scale = np.maximum(L2, 1e-300)
    lam = w[..., -1]
    mu = np.where(lam < -1e-9 * scale, 0.0, np.maximum(lam, 0.0) + 0.05 * scale)
    d = mu[..., None] - w  # > 0 up to rounding
    coef = np.einsum("...ia,...i->...a", V, g)
    safe = d > 1e-12 * scale[..., None]
    coef = np.where(safe, coef / np.where(safe, d, 1.0), 0.0)
    return np.einsum("...ia,...a->...i", V, coef)


def _maximise(c0, C, degrees, n_grid, n_starts, n_iter):
    """max over SO(3) for B row-aligned coefficient sets: value (B,), R (B, 3, 3)."""
    B = c0.shape[0]
    if not degrees:
        return c0.copy(), np.broadcast_to(np.eye(3), (B, 3, 3)).copy()
    grid, tables = _grid_tables(n_grid, degrees)
    vals = c0[:, None] + sum(
        Cl.reshape(B, -1) @ T.T for Cl, T in zip(C, tables, strict=True)
    )  # (B, G)
    k = min(n_starts, n_grid)
    top = np.argpartition(-vals, k - 1, axis=1)[:, :k]
    R = grid[top]  # (B, k, 3, 3)
    f, g, H = _objective(c0, C, degrees, R, True)
    L2 = sum(deg * deg * np.linalg.svd(Cl, compute_uv=False).sum(-1) for deg, Cl in zip(degrees, C))
    L2 = np.maximum(L2, 1e-300)[:, None, None]
    for _ in range(n_iter):
        v = _damped_step(H, g, L2[..., 0])
        n = np.linalg.norm(v, axis=-1, keepdims=True)
        v = np.where(n > 0.3, v * 0.3 / np.maximum(n, 1e-300), v)
        Rn = R @ _expm_so3(v)
        fn, gn, Hn = _objective(c0, C, degrees, Rn, True)
        better = fn > f
        R = np.where(better[..., None, None], Rn, R)
        f = np.where(better, fn, f)
        g = np.where(better[..., None], gn, g)
        H = np.where(better[..., None, None], Hn, H)
    pick = f.argmax(1)
    idx = np.arange(B)
    return f[idx, pick], R[idx, pick]


def so3_exhaustive(
    X: np.ndarray,
    Y: np.ndarray,
    action,
    *,
    n_grid: int = 20_000,
    n_starts: int = 8,
    n_iter: int = 25,
    chunk: int = 256,
) -> tuple[np.ndarray, np.ndarray]:
    """``max_g <X, ρ(g) Y>`` over broadcast batches by grid + multistart Newton (numpy).

    Parameters
    ----------
    X, Y : arrays of shape (..., dim), batch dims broadcast
    action : SO3 or O3
    n_grid : grid rotations (super-Fibonacci)
    n_starts : best grid points refined per pair (and per half of O(3))
    n_iter : Newton iterations per start

    Returns
    -------
    value : array of the broadcast batch shape
    g : array batch + (3, 3), maximisers
    """
    from orbitspace.quotient.so3 import _layout, so3_coefficients

    X = np.asarray(X, dtype=float)
    Y = np.asarray(Y, dtype=float)
    batch = np.broadcast_shapes(X.shape[:-1], Y.shape[:-1])
    Xf = np.broadcast_to(X, batch + X.shape[-1:]).reshape(-1, X.shape[-1])
    Yf = np.broadcast_to(Y, batch + Y.shape[-1:]).reshape(-1, Y.shape[-1])
    lay = _layout(action)
    P = Xf.shape[0]
    value, g = np.empty(P), np.empty((P, 3, 3))
    for s in range(0, P, chunk):
        x, y = Xf[s : s + chunk], Yf[s : s + chunk]
        c0, C = so3_coefficients(x, y, action)
        v, R = _maximise(c0, C, lay.degrees, n_grid, n_starts, n_iter)
        if lay.reflections:
            c0m, Cm = so3_coefficients(x, y, action, signed=True)
            v2, R2 = _maximise(c0m, Cm, lay.degrees, n_grid, n_starts, n_iter)
            second = v2 > v
            v = np.where(second, v2, v)
            R = np.where(second[:, None, None], -R2, R)
        value[s : s + chunk], g[s : s + chunk] = v, R
    return value.reshape(batch), g.reshape(batch + (3, 3))


register_exhaustive(SO3)(so3_exhaustive)
register_exhaustive(O3)(so3_exhaustive)
