"""Certified minimum RMSD between point sets, over rotations and type-preserving atom orders.

``min_rmsd(A, B, types)`` is ``min_{R, P} sqrt(mean_i ‖a_i − R b_P(i)‖²)`` after centring, the
global minimum over every rotation and every matching of atoms of one element — the problem
RDKit's ``GetBestRMS`` and spyrmsd solve over graph automorphisms only (a subset of these
matchings), so the value here is never larger than theirs.  It is the quotient distance of
``Product(Permutation(n, node_types), SO3("1x1o"))`` divided by ``sqrt(n)``, certified by the
branch and bound of :mod:`orbitspace.quotient.product`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from orbitspace.groups import SO3, Permutation, Product, sort_nodes_by_type

__all__ = ["min_rmsd", "RMSDResult"]


@dataclass(frozen=True)
class RMSDResult:
    """``rmsd``: the certified minimum; ``gap``: its certificate as an RMSD (the true minimum
    lies in ``[sqrt(max(rmsd² − gap_sq, 0)), rmsd]``); ``rotation`` (3, 3) and ``matching``
    (n,) with ``B[matching] @ rotation.T`` aligned to A (both in A's and B's input order)."""

    rmsd: float
    gap: float
    rotation: np.ndarray
    matching: np.ndarray


def min_rmsd(A, B, types=None, *, reflections: bool = False, tol: float = 1e-9) -> RMSDResult:
    """Certified minimum RMSD of two point sets of one composition.

    Parameters
    ----------
    A, B : arrays of shape (n, 3)
    types : int array of shape (n,) for A and B alike, or a pair ``(types_A, types_B)``;
        None: every atom may match every atom
    reflections : allow improper rotations too (O(3))
    tol : relative certificate of the branch and bound

    Returns
    -------
    RMSDResult

    Examples
    --------
    >>> A = np.array([[0.0, 0, 0], [1, 0, 0], [0, 2, 0]])
    >>> R = np.array([[0.0, -1, 0], [1, 0, 0], [0, 0, 1]])
    >>> B = (A @ R.T)[[2, 0, 1]]
    >>> round(min_rmsd(A, B).rmsd, 9)
    0.0
    """
    from orbitspace.quotient.product import product_pairs

    A = np.asarray(A, float)
    B = np.asarray(B, float)
    if A.ndim != 2 or A.shape[1] != 3 or B.shape != A.shape:
        raise ValueError(f"A and B must both have shape (n, 3); received {A.shape} and {B.shape}")
    n = A.shape[0]
    ta, tb = types if isinstance(types, tuple) else (types, types)
    ta = np.zeros(n, np.int64) if ta is None else np.asarray(ta)
    tb = np.zeros(n, np.int64) if tb is None else np.asarray(tb)
    oa, ob = np.argsort(ta, kind="stable"), np.argsort(tb, kind="stable")
    both, t = sort_nodes_by_type(np.stack([A[oa], B[ob]]), np.stack([ta[oa], tb[ob]]))
    both = both - both.mean(axis=1, keepdims=True)
    from orbitspace.groups import O3

    G = O3("1x1o") if reflections else SO3("1x1o")
    action = Product(Permutation(n, node_types=tuple(int(v) for v in t)), G)
    z = np.zeros(1, np.int64)
    value, g, gap = product_pairs(both[:1], both[1:], z, z, action, tol=tol)
    p = g.perm[0]
    R = np.asarray(g.g[0])
    # directly, not as ‖x‖² + ‖y‖² − 2 value: that form loses digits near 0
    sq = float(((both[0] - both[1][p] @ R.T) ** 2).sum())
    # row i of sorted A takes row p[i] of sorted B: back to input orders
    matching = np.empty(n, np.int64)
    matching[oa] = ob[p]
    rmsd = float(np.sqrt(sq / n))
    lower = float(np.sqrt(max(sq - 2 * float(gap[0]), 0.0) / n))
    return RMSDResult(rmsd, rmsd - lower, R, matching)
