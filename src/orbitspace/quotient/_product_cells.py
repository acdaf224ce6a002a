"""Cells of continuous groups for the branch and bound of :mod:`.product`, per factor type.

A cell family covers the group and splits cells; each cell has a centre element and an angular
radius r such that every element g of the cell satisfies ``g = c·h`` (or ``h·c``) with h a
rotation by an angle at most r — then ``‖ρ_l(g) − ρ_l(c)‖ <= 2 sin(min(l r, π)/2)`` on every
block of degree (frequency) l.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from orbitspace.groups import SO2, Action

__all__ = ["register_cells", "find_cells", "AngleCells"]

_CELLS: dict[type, Callable[[Action], object]] = {}


def register_cells(action_type: type):
    """Decorator: ``factory(action)`` returns the cell family of a continuous factor."""

    def deco(factory):
        _CELLS[action_type] = factory
        return factory

    return deco


def find_cells(action: Action):
    for cls in type(action).__mro__:
        if cls in _CELLS:
            return _CELLS[cls](action)
    raise ValueError(
        f"no branch-and-bound cells are registered for {action!r}: Product alignment over a "
        "continuous factor needs them (orbitspace.quotient._product_cells.register_cells)"
    )


@dataclass(frozen=True)
class _Intervals:
    centre: np.ndarray  # (m,)
    half: np.ndarray  # (m,)


class AngleCells:
    """Intervals of the angle θ ∈ [0, 2π): centre and half-width h (the radius is h)."""

    def __init__(self, n_initial: int = 16) -> None:
        self.n_initial = n_initial

    def initial(self) -> _Intervals:
        h = np.pi / self.n_initial
        return _Intervals(h + 2 * h * np.arange(self.n_initial), np.full(self.n_initial, h))

    def centres(self, s: _Intervals) -> np.ndarray:
        return s.centre

    def radius(self, s: _Intervals) -> np.ndarray:
        return s.half

    def select(self, s: _Intervals, keep: np.ndarray) -> _Intervals:
        return _Intervals(s.centre[keep], s.half[keep])

    def split(self, s: _Intervals) -> _Intervals:
        h = s.half / 2
        return _Intervals(np.concatenate([s.centre - h, s.centre + h]), np.concatenate([h, h]))


@register_cells(SO2)
def _so2_cells(action: SO2) -> AngleCells:
    return AngleCells(max(16, 4 * action.max_frequency))
