"""Registrations of the planar and permutation solvers (their compiled kernels load lazily)."""

from __future__ import annotations

import numpy as np

from orbitspace.groups import SO2, Cyclic, FiniteGroup, Permutation
from orbitspace.quotient._registry import register_grid, register_solver


@register_solver(Permutation, name="linear assignment", certified=True)
def _permutation_pairs(X, Y, rows, cols, action):
    from orbitspace.quotient.assignment import assign_pairs

    if action.node_types is None:
        return assign_pairs(X, Y, rows, cols)
    # a Young subgroup: the nodes of each type are matched among themselves
    values = np.zeros(rows.shape[0])
    perms = np.empty((rows.shape[0], action.n_nodes), dtype=np.int64)
    for c in action.type_classes():
        v, p = assign_pairs(X[:, c], Y[:, c], rows, cols)
        values += v
        perms[:, c] = c[p]
    return values, perms


@register_solver(SO2, name="certified trigonometric maximisation", certified=True)
def _so2_pairs(X, Y, rows, cols, action):
    from orbitspace.quotient.so2 import so2_pairs

    return so2_pairs(X, Y, rows, cols, action.layout, action.max_frequency)


@register_solver(Cyclic, name="Fourier enumeration", certified=True)
def _cyclic_pairs(X, Y, rows, cols, action):
    from orbitspace.quotient.finite import cyclic_pairs

    return cyclic_pairs(X, Y, rows, cols, action)


@register_grid(Cyclic)
def _cyclic_grid(Y, action):
    from orbitspace.quotient._cyclic_grid import CyclicGrid, grid_plan

    return CyclicGrid(Y, action) if grid_plan(action) is not None else None


@register_solver(FiniteGroup, name="enumeration", certified=True)
def _finite_pairs(X, Y, rows, cols, action):
    from orbitspace.quotient.finite import finite_pairs

    return finite_pairs(X, Y, rows, cols, action)
