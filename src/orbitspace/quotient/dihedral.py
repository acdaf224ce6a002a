"""Exact D_N alignment: all 2N elements, as two cyclic problems.

``ρ(j, k) = R(k) F^j`` (:mod:`orbitspace.groups.dihedral`), so the maximum over D_N is the
better of ``max_k <x, R(k) y>`` and ``max_k <x, R(k) F y>``: the registered C_N solver
(:mod:`orbitspace.quotient.finite`, every rotation at once through Fourier coefficients) on the
plain and on the reflected ``y``.  Both are exact enumerations, so the result is exact.  The
exhaustive twin enumerates the 2N matrices.

Lower bound (pruned nearest neighbours): the irreps blocks as for O(2) (trivial scalars, ``|x|``
of the sign-like scalars, 2-D block norms) and, for each regular block, the weighted moduli of
the Fourier coefficients of its two halves, sorted per frequency: a rotation keeps each
modulus, the reflection swaps the halves and reverses them (which conjugates the coefficients),
so the sorted pair is invariant; the map is 1-Lipschitz (Parseval, ``||a| − |b|| <= |a − b|``,
and sorting pairs is 1-Lipschitz).
"""

from __future__ import annotations

import numpy as np

from orbitspace.groups import Dihedral
from orbitspace.quotient._registry import (
    find_solver,
    register_exhaustive,
    register_lower_bound,
    register_solver,
)
from orbitspace.quotient.o2 import better_of_two, irrep_block_bound

__all__ = ["dihedral_pairs", "dihedral_exhaustive"]


@register_solver(Dihedral, name="Fourier enumeration (rotations and reflections)", certified=True)
def dihedral_pairs(X, Y, rows, cols, action: Dihedral):
    """``max_g <X[rows[q]], ρ(g) Y[cols[q]]>`` over D_N and a maximiser ``(j, k)`` per pair.

    Parameters
    ----------
    X : array of shape (n_x, dim)
    Y : array of shape (n_y, dim)
    rows, cols : int arrays of shape (n_pairs,)

    Returns
    -------
    value : array of shape (n_pairs,)
    g : int array of shape (n_pairs, 2)
    """
    rot = action.rotation_part
    solver = find_solver(rot)
    plain = solver.solve(X, Y, rows, cols, rot)
    flipped = solver.solve(X, action.reflect(Y), rows, cols, rot)
    return better_of_two(
        plain.value, plain.g, flipped.value, flipped.g, plain.gap, flipped.gap, dtype=np.int64
    )


@register_exhaustive(Dihedral)
def dihedral_exhaustive(X, Y, action: Dihedral):
    """Every one of the 2N elements through its matrix, broadcasting over batch dims."""
    elems = action.elements()
    vals = np.einsum("...i,gij,...j->...g", X, action.matrix(elems), Y)
    best = vals.argmax(-1)
    return vals.max(-1), elems[best]


def _regular_weights(N: int) -> np.ndarray:
    w = np.full(N // 2 + 1, 2.0 / N)
    w[0] = 1.0 / N
    if N % 2 == 0:
        w[-1] = 1.0 / N
    return w


@register_lower_bound(Dihedral)
def _dihedral_bound(action: Dihedral, Z: np.ndarray) -> np.ndarray:
    parts = irrep_block_bound(action, Z)
    N = action.N
    root_w = np.sqrt(_regular_weights(N))
    for comp in action.components():
        if comp.irrep.kind != "regular":
            continue
        block = Z[:, comp.slice].reshape(Z.shape[0], comp.multiplicity, 2, N)
        moduli = np.abs(np.fft.rfft(block, axis=-1)) * root_w  # (n, m, 2, N//2 + 1)
        parts.append(np.sort(moduli, axis=2).reshape(Z.shape[0], -1))
    return np.concatenate(parts, axis=1) if parts else np.zeros((Z.shape[0], 0))
