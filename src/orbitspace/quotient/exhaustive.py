"""Slow, obviously correct oracles for the group maximisation behind every quotient distance.

``max_inner_product_exhaustive(X, Y, action)`` returns ``max_g <X, ρ(g) Y>`` and a maximiser,
through the oracle registered for the action's type:
- any finite group (the default): every element is tried;
- Permutation: every permutation is tried (n_nodes <= 8);
- SO2: a dense angle grid, then Newton refinement of the best grid points.
"""

from __future__ import annotations

import numpy as np

from orbitspace.groups import SO2, Action, Permutation
from orbitspace.quotient._registry import find_exhaustive, register_exhaustive

__all__ = ["max_inner_product_exhaustive"]


def max_inner_product_exhaustive(
    X: np.ndarray, Y: np.ndarray, action: Action, **options
) -> tuple[np.ndarray, np.ndarray]:
    """Brute-force ``max_g <X, ρ(g)Y>`` over broadcast leading dimensions (numpy in, numpy out).

    The oracle is the one registered for the action's type (:func:`register_exhaustive`).
    """
    return find_exhaustive(action)(X, Y, action, **options)


@register_exhaustive(Action)
def _enumerate(X, Y, action: Action):
    """Every element of a finite group, through its matrices."""
    if not action.is_finite:
        raise ValueError(
            f"{action!r} is an infinite group with no exhaustive oracle registered; register "
            "one with orbitspace.quotient.register_exhaustive"
        )
    elems = action.elements()
    if action.event_ndim == 1:
        vals = np.einsum("...i,gij,...j->...g", X, action.matrix(elems), Y)
    else:
        axes = tuple(range(-action.event_ndim, 0))
        vals = np.stack([(X * np.asarray(action.act(g, Y))).sum(axes) for g in elems], axis=-1)
    best = vals.argmax(-1)
    return vals.max(-1), elems[best]


@register_exhaustive(SO2)
def _so2(X, Y, action: SO2, *, n_grid: int | None = None):
    return _so2_grid(X, Y, action, n_grid)


@register_exhaustive(Permutation)
def _permutation(X, Y, action: Permutation):
    if action.n_nodes > 8:
        raise ValueError(
            f"exhaustive search over {action!r} is limited to n_nodes <= 8; "
            f"received n_nodes={action.n_nodes}"
        )
    elems = action.elements()  # (G, n)
    # <X, P_g Y> = sum_i <x_i, y_{g(i)}>
    G = elems.shape[0]
    gram = np.einsum("...id,...jd->...ij", X, Y)  # (..., n, n)
    vals = gram[..., np.arange(action.n_nodes)[None, :], elems].sum(-1)  # (..., G)
    best = vals.argmax(-1)
    return vals.max(-1), elems[best] if G else elems


def _so2_grid(X, Y, action: SO2, n_grid):
    """Dense grid (>= 64 points per period of the top frequency), then 30 Newton steps."""
    lay = action.layout
    kmax = max(action.max_frequency, 1)
    n = n_grid or max(720, 64 * kmax)
    batch = np.broadcast_shapes(X.shape[:-1], Y.shape[:-1])
    X = np.broadcast_to(X, batch + X.shape[-1:])
    Y = np.broadcast_to(Y, batch + Y.shape[-1:])
    const = np.einsum("...i,...i->...", X[..., lay.scalar_idx], Y[..., lay.scalar_idx])
    xa, xb = X[..., lay.pair_a], X[..., lay.pair_b]
    ya, yb = Y[..., lay.pair_a], Y[..., lay.pair_b]
    # f(θ) = const + Σ_pairs cos(kθ)(xa ya + xb yb) + sin(kθ)(xb ya − xa yb)
    A = xa * ya + xb * yb
    B = xb * ya - xa * yb
    k = lay.pair_freq.astype(float)

    def f(theta):
        ang = theta[..., None] * k
        return const + (A * np.cos(ang) + B * np.sin(ang)).sum(-1)

    def df(theta):
        ang = theta[..., None] * k
        return (k * (-A * np.sin(ang) + B * np.cos(ang))).sum(-1)

    def d2f(theta):
        ang = theta[..., None] * k
        return (k * k * (-A * np.cos(ang) - B * np.sin(ang))).sum(-1)

    grid = np.linspace(0, 2 * np.pi, n, endpoint=False)
    ang = grid[:, None] * k  # (n, P)
    vals = (
        const[..., None]
        + np.einsum("...p,np->...n", A, np.cos(ang))
        + np.einsum("...p,np->...n", B, np.sin(ang))
    )
    # refine the best few grid points; keep the best refined value
    top = np.argsort(vals, axis=-1)[..., -4:]
    best_val = np.full(batch, -np.inf)
    best_theta = np.zeros(batch)
    h = 2 * np.pi / n
    for j in range(top.shape[-1]):
        t0 = grid[top[..., j]]
        t = t0.copy()
        for _ in range(30):
            step = df(t) / np.where(d2f(t) < -1e-300, d2f(t), -1.0)
            t = np.clip(t - step, t0 - h, t0 + h)
        cand = np.stack([t, t0], -1)
        cv = np.stack([f(t), f(t0)], -1)
        pick = cv.argmax(-1)
        tv = np.take_along_axis(cand, pick[..., None], -1)[..., 0]
        v = np.take_along_axis(cv, pick[..., None], -1)[..., 0]
        better = v > best_val
        best_val = np.where(better, v, best_val)
        best_theta = np.where(better, tv, best_theta)
    return best_val, np.mod(best_theta, 2 * np.pi)
