"""Typed results of the augmentation study (:mod:`orbitspace.studies.augmentation`).

The rows stay dataclasses until the study writes them to ``metrics.json`` (``to_dict``); the
verdict reads their fields.

>>> row = CompareRow("raw latent", 4, 0.5, 0.4, 8, 0.9, 0.8)
>>> sorted(row.to_dict())[:3]
['dim', 'invariance_error_C8_angles', 'invariance_error_any_angle']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from orbitspace.learned import LearnedAction

__all__ = ["LearnedActionRow", "CompareRow"]


@dataclass(frozen=True)
class LearnedActionRow:
    """One fit of ``estimate_action`` on one model's orbits.

    Attributes
    ----------
    model : str
        The model's key (``"plain_none"``, ``"plain_rotation"``, ``"escnn_cn"``).
    N : int
        The cyclic group fitted.
    subspace : {"all", "95% var"}
        Every direction, or the principal subspace keeping 95% of the variance.
    learned : LearnedAction
    warning : str or None
        The warnings the fit raised, joined.
    frequencies_of_known_action : dict or None
        For a network with a known latent action: its frequency content restricted to C_N.
    equivariance_error_known_action : float or None
        That action's relative error on the same pairs.
    """

    model: str
    N: int
    subspace: str
    learned: LearnedAction
    warning: str | None = None
    frequencies_of_known_action: dict[str, int] | None = None
    equivariance_error_known_action: float | None = None

    def to_dict(self) -> dict[str, Any]:
        row: dict[str, Any] = {"model": self.model, "N": self.N, "subspace": self.subspace}
        row.update(self.learned.to_dict())
        row["warning"] = self.warning
        if self.frequencies_of_known_action is not None:
            row["frequencies_of_known_action"] = self.frequencies_of_known_action
            row["equivariance_error_known_action"] = self.equivariance_error_known_action
        return row


@dataclass(frozen=True)
class CompareRow:
    """One representation of one model: invariance under input rotations and probe accuracy.

    Attributes
    ----------
    representation : str
    dim : int
    invariance_error_any_angle : float
        Normalised feature change under a random rotation of the input.
    invariance_error_grid : float
        The same for rotations by multiples of 2π/N.
    N : int
    linear_probe_accuracy, knn_probe_accuracy : float
    """

    representation: str
    dim: int
    invariance_error_any_angle: float
    invariance_error_grid: float
    N: int
    linear_probe_accuracy: float
    knn_probe_accuracy: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "dim": self.dim,
            "invariance_error_any_angle": self.invariance_error_any_angle,
            f"invariance_error_C{self.N}_angles": self.invariance_error_grid,
            "linear_probe_accuracy": self.linear_probe_accuracy,
            "knn_probe_accuracy": self.knn_probe_accuracy,
        }
