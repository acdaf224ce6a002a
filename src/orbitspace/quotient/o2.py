"""Exact O(2) alignment: the better of the rotation problem and the reflected problem.

Every element of O(2) is ``(j, θ)`` with ``ρ(j, θ) = R(θ) F^j`` (:mod:`orbitspace.groups.o2`),
so

    max_g <x, ρ(g) y> = max( max_θ <x, R(θ) y>,  max_θ <x, R(θ) F y> ),

two SO(2) problems on the same coordinates (the rotation part is an ``SO2`` action in which
the sign irrep is one more invariant scalar).  Each is solved by the registered, certified
SO(2) solver (:mod:`orbitspace.quotient.so2`); the exhaustive twin runs the SO(2) dense-grid
oracle on both.  The lower bound (for pruned nearest neighbours) keeps the trivial scalars,
``|x|`` of the sign scalars and the norm of every 2-dimensional block.
"""

from __future__ import annotations

import numpy as np

from orbitspace.groups import O2, Action
from orbitspace.quotient._registry import (
    find_exhaustive,
    find_solver,
    register_exhaustive,
    register_lower_bound,
    register_solver,
)

__all__ = ["o2_pairs", "o2_exhaustive", "irrep_block_bound", "better_of_two"]


def better_of_two(v0, t0, v1, t1, gap0=None, gap1=None, *, dtype=float):
    """Per pair the better of the rotation (0) and reflected (1) solutions: value, g, gap.

    ``g`` stacks ``(j, t)`` along a last axis of size 2 (the rotation wins ties).
    """
    flip = np.asarray(v1) > np.asarray(v0)
    value = np.where(flip, v1, v0)
    t = np.where(flip, t1, t0)
    g = np.stack([flip.astype(dtype), np.asarray(t, dtype=dtype)], axis=-1)
    if gap0 is None:
        return value, g
    # a certificate for the max of two maxima: the larger of the two gaps bounds both
    return value, g, np.maximum(gap0, gap1)


@register_solver(
    O2, name="certified trigonometric maximisation (rotations and reflections)", certified=True
)
def o2_pairs(X, Y, rows, cols, action: O2):
    """``max_g <X[rows[q]], ρ(g) Y[cols[q]]>`` over O(2) and a maximiser ``(j, θ)`` per pair.

    Parameters
    ----------
    X : array of shape (n_x, dim)
    Y : array of shape (n_y, dim)
    rows, cols : int arrays of shape (n_pairs,)

    Returns
    -------
    value : array of shape (n_pairs,)
    g : float array of shape (n_pairs, 2)
    gap : array of shape (n_pairs,), the SO(2) solver's certificate (0 when exact)
    """
    rot = action.rotation_part
    solver = find_solver(rot)
    plain = solver.solve(X, Y, rows, cols, rot)
    flipped = solver.solve(X, action.reflect(Y), rows, cols, rot)
    return better_of_two(plain.value, plain.g, flipped.value, flipped.g, plain.gap, flipped.gap)


@register_exhaustive(O2)
def o2_exhaustive(X, Y, action: O2, *, n_grid: int | None = None):
    """Dense angle grid (plus Newton polish) over both components of O(2), broadcasting."""
    rot = action.rotation_part
    oracle = find_exhaustive(rot)
    v0, t0 = oracle(X, Y, rot, n_grid=n_grid)
    v1, t1 = oracle(X, action.reflect(Y), rot, n_grid=n_grid)
    return better_of_two(v0, t0, v1, t1)


def irrep_block_bound(action: Action, Z: np.ndarray) -> list[np.ndarray]:
    """Invariant, 1-Lipschitz features of the irreps blocks, from ``components()``.

    Trivial scalars as they are, ``|x|`` for other 1-dimensional irreps (every element acts by
    ±1), the norm of each copy of a 2-dimensional irrep (orthogonal on its block).  Regular
    blocks are skipped (the caller handles them).  Returns a list of ``(n, p_i)`` arrays.
    """
    parts = []
    for comp in action.components():
        ir = comp.irrep
        block = Z[:, comp.slice]
        if ir.kind == "regular":
            continue
        if ir.dim == 1:
            parts.append(block if ir.trivial else np.abs(block))
        else:
            copies = block.reshape(Z.shape[0], comp.multiplicity, ir.dim)
            parts.append(np.sqrt((copies**2).sum(-1)))
    return parts


@register_lower_bound(O2)
def _o2_bound(action: O2, Z: np.ndarray) -> np.ndarray:
    parts = irrep_block_bound(action, Z)
    return np.concatenate(parts, axis=1) if parts else np.zeros((Z.shape[0], 0))
