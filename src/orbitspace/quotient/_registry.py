"""Solvers, exhaustive oracles and lower bounds, registered per action type.

Every action type (and its subclasses, through the MRO) may register

- a **solver** ``fn(X, Y, rows, cols, action) -> (value, g)`` or ``(value, g, gap)`` for
  ``max_g <X[rows[q]], ρ(g) Y[cols[q]]>`` on an explicit list of pairs (the pair-index
  contract: one compiled loop serves broadcasting, all-pairs and k-NN), declaring whether it
  is certified exact; ``gap`` is its per-pair certificate (upper bound − value, >= 0);
- an **exhaustive oracle** ``fn(X, Y, action, **kw) -> (value, g)`` over broadcast batches,
  slow and obviously correct, the twin the solver is tested against;
- a **lower bound** ``fn(action, Z) -> (n, p)`` features, an invariant 1-Lipschitz map
  (``‖φ(x) − φ(y)‖ <= d([x], [y])``) used to prune exact nearest-neighbour searches.

An action with no solver of its own is solved by its exhaustive oracle when it is finite;
otherwise the error names the action and what can be registered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from orbitspace.groups import Action

__all__ = [
    "Solver",
    "PairSolution",
    "register_solver",
    "register_exhaustive",
    "register_lower_bound",
    "find_solver",
    "find_exhaustive",
    "find_lower_bound",
    "register_grid",
    "find_grid",
]


@dataclass(frozen=True)
class PairSolution:
    """``max_g <x, ρ(g) y>`` for a list of pairs.

    Attributes
    ----------
    value : array of shape (n_pairs,)
    g : group elements, shape (n_pairs,) + action.element_shape
    gap : array of shape (n_pairs,): certified upper bound minus value (0 for exact solvers)
    certified : bool, whether ``value`` is proved to be the global maximum within ``gap``
    """

    value: np.ndarray
    g: Any
    gap: np.ndarray
    certified: bool


@dataclass(frozen=True)
class Solver:
    """A registered solver: its name, whether it is certified, and the pair function."""

    name: str
    certified: bool
    pairs: Callable[..., tuple]

    def solve(self, X, Y, rows, cols, action, **options) -> PairSolution:
        out = self.pairs(X, Y, rows, cols, action, **options)
        value, g = out[0], out[1]
        gap = out[2] if len(out) > 2 else np.zeros(np.shape(value))
        return PairSolution(np.asarray(value), g, np.asarray(gap, dtype=float), self.certified)


_SOLVERS: dict[type, Solver] = {}
_EXHAUSTIVE: dict[type, Callable[..., tuple]] = {}
_LOWER_BOUNDS: dict[type, Callable[..., np.ndarray]] = {}
_GRIDS: dict[type, Callable[..., Any]] = {}


def register_solver(action_type: type, *, name: str, certified: bool):
    """Decorator: ``fn(X, Y, rows, cols, action)`` is the fast solver for ``action_type``."""

    def deco(fn):
        _SOLVERS[action_type] = Solver(name, bool(certified), fn)
        return fn

    return deco


def register_exhaustive(action_type: type):
    """Decorator: ``fn(X, Y, action, **kw) -> (value, g)`` is the oracle for ``action_type``."""

    def deco(fn):
        _EXHAUSTIVE[action_type] = fn
        return fn

    return deco


def register_lower_bound(action_type: type):
    """Decorator: ``fn(action, Z) -> features``, 1-Lipschitz for the quotient metric."""

    def deco(fn):
        _LOWER_BOUNDS[action_type] = fn
        return fn

    return deco


def register_grid(action_type: type):
    """Decorator: ``fn(Y, action)`` gives the all-pairs grid of ``action_type`` against ``Y``
    (or None where it does not apply); see :mod:`orbitspace.quotient.solvers`."""

    def deco(fn):
        _GRIDS[action_type] = fn
        return fn

    return deco


def _lookup(table: dict, action: Action):
    for cls in type(action).__mro__:
        if cls in table:
            return table[cls]
    return None


def find_grid(action: Action, Y: np.ndarray) -> Any:
    """The registered all-pairs grid of ``action`` against ``Y``, or None when no grid is
    registered for its type or the grid does not apply to it."""
    fn = _lookup(_GRIDS, action)
    return None if fn is None else fn(Y, action)


def find_exhaustive(action: Action) -> Callable[..., tuple]:
    """The exhaustive oracle of ``action`` (ValueError naming the options if there is none)."""
    fn = _lookup(_EXHAUSTIVE, action)
    if fn is None:
        raise ValueError(
            f"no exhaustive oracle is registered for {action!r} ({type(action).__name__}); "
            "register one with orbitspace.quotient.register_exhaustive"
        )
    return fn


def find_solver(action: Action) -> Solver:
    """The fast solver of ``action``; finite actions without one fall back to enumeration."""
    solver = _lookup(_SOLVERS, action)
    if solver is not None:
        return solver
    if action.is_finite:
        oracle = find_exhaustive(action)

        def enumerate_pairs(X, Y, rows, cols, action):
            return oracle(X[rows], Y[cols], action)

        return Solver("enumeration", True, enumerate_pairs)
    raise ValueError(
        f"no exact solver is registered for {action!r}, an infinite group; register one with "
        "orbitspace.quotient.register_solver, or pass method='exhaustive' if an exhaustive "
        "oracle is registered for it"
    )


def find_lower_bound(action: Action) -> Callable[..., np.ndarray]:
    """The registered lower-bound features of ``action``; the norm ``‖x‖`` if none is."""
    fn = _lookup(_LOWER_BOUNDS, action)
    return fn if fn is not None else _norm_bound


def _norm_bound(action: Action, Z: np.ndarray) -> np.ndarray:
    """``‖x‖``: 1-Lipschitz for every orthogonal action (``| ‖x‖ − ‖y‖ | <= ‖x − ρ(g) y‖``)."""
    return np.sqrt((Z.reshape(Z.shape[0], -1) ** 2).sum(1, keepdims=True))
