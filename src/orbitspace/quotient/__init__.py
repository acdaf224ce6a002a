"""Exact quotient distances and alignments."""

from orbitspace.quotient import _builtin  # noqa: F401  (registers the built-in solvers)
from orbitspace.quotient import dihedral as _dihedral  # noqa: F401  (registers D_N)
from orbitspace.quotient import o2 as _o2  # noqa: F401  (registers O(2))
from orbitspace.quotient import product as _product  # noqa: F401  (S_n × G)
from orbitspace.quotient import so3 as _so3  # noqa: F401  (SO(3) / O(3) solvers)
from orbitspace.quotient._api import (
    AlignResult,
    SolverInfo,
    align,
    max_inner_product,
    quotient_distance,
    solver_info,
)
from orbitspace.quotient._registry import (
    PairSolution,
    Solver,
    find_solver,
    register_exhaustive,
    register_grid,
    register_lower_bound,
    register_solver,
)
from orbitspace.quotient.exhaustive import max_inner_product_exhaustive
from orbitspace.quotient.knn import exact_knn, knn_graph, precomputed_knn, radius_neighbors
from orbitspace.quotient.pairwise import pairwise_quotient_distances, quotient_knn

__all__ = [
    "exact_knn",
    "knn_graph",
    "precomputed_knn",
    "radius_neighbors",
    "PairSolution",
    "Solver",
    "find_solver",
    "register_exhaustive",
    "register_grid",
    "register_lower_bound",
    "register_solver",
    "AlignResult",
    "SolverInfo",
    "solver_info",
    "align",
    "max_inner_product",
    "max_inner_product_exhaustive",
    "pairwise_quotient_distances",
    "quotient_distance",
    "quotient_knn",
]
