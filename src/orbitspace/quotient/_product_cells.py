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

from orbitspace.groups import O3, SO2, SO3, Action

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


@dataclass(frozen=True)
class _Cubes:
    centre: np.ndarray  # (m, 3) rotation vectors
    half: np.ndarray  # (m,) half-sides σ
    sign: np.ndarray  # (m,) +1 rotations, -1 their negatives (the det -1 part of O(3))


def rotation_vectors_to_matrices(w: np.ndarray) -> np.ndarray:
    """Rodrigues: ``exp([w]_×)`` for rotation vectors ``w`` of shape (m, 3) -> (m, 3, 3)."""
    theta = np.linalg.norm(w, axis=-1)
    safe = np.where(theta > 0, theta, 1.0)
    k = w / safe[:, None]
    K = np.zeros(w.shape[:-1] + (3, 3))
    K[:, 0, 1], K[:, 0, 2], K[:, 1, 2] = -k[:, 2], k[:, 1], -k[:, 0]
    K[:, 1, 0], K[:, 2, 0], K[:, 2, 1] = k[:, 2], -k[:, 1], k[:, 0]
    s, c = np.sin(theta)[:, None, None], np.cos(theta)[:, None, None]
    return np.eye(3) + s * K + (1 - c) * (K @ K)


class RotationCubes:
    """Cubes in rotation-vector space covering the ball of radius π (Hartley & Kahl 2009):
    a rotation in a cube of half-side σ is within angle √3·σ of the cube centre's rotation
    (the angle between ``exp(a)`` and ``exp(b)`` is at most ``‖a − b‖``).  ``reflections``
    adds the same cubes for ``−R`` (the det −1 component of O(3))."""

    def __init__(self, n_per_axis: int = 4, reflections: bool = False) -> None:
        self.n = n_per_axis
        self.reflections = reflections

    def initial(self) -> _Cubes:
        sigma = np.pi / self.n
        ticks = -np.pi + sigma * (1 + 2 * np.arange(self.n))
        c = np.stack(np.meshgrid(ticks, ticks, ticks, indexing="ij"), -1).reshape(-1, 3)
        # keep cubes that meet the ball: the nearest point of the cube to 0 lies inside
        nearest = np.clip(0.0, c - sigma, c + sigma)
        c = c[np.linalg.norm(nearest, axis=1) <= np.pi]
        signs = [1.0, -1.0] if self.reflections else [1.0]
        m = len(c)
        return _Cubes(
            np.tile(c, (len(signs), 1)),
            np.full(m * len(signs), sigma),
            np.repeat(np.asarray(signs), m),
        )

    def centres(self, s: _Cubes) -> np.ndarray:
        return s.sign[:, None, None] * rotation_vectors_to_matrices(s.centre)

    def radius(self, s: _Cubes) -> np.ndarray:
        return np.sqrt(3.0) * s.half

    def select(self, s: _Cubes, keep: np.ndarray) -> _Cubes:
        return _Cubes(s.centre[keep], s.half[keep], s.sign[keep])

    def split(self, s: _Cubes) -> _Cubes:
        h = s.half / 2
        offsets = np.array([[i, j, k] for i in (-1, 1) for j in (-1, 1) for k in (-1, 1)], float)
        centre = (s.centre[:, None, :] + h[:, None, None] * offsets[None]).reshape(-1, 3)
        keep = (
            np.linalg.norm(
                np.clip(0.0, centre - np.repeat(h, 8)[:, None], centre + np.repeat(h, 8)[:, None]),
                axis=1,
            )
            <= np.pi
        )
        return _Cubes(centre[keep], np.repeat(h, 8)[keep], np.repeat(s.sign, 8)[keep])


@register_cells(SO3)
def _so3_cells(action: SO3) -> RotationCubes:
    return RotationCubes(4, reflections=False)


@register_cells(O3)
def _o3_cells(action: O3) -> RotationCubes:
    return RotationCubes(4, reflections=True)
