"""Typed results of the rotated-MNIST study (:mod:`orbitspace.studies.mnist`).

The measurements stay dataclasses until the study writes them to ``metrics.json``
(``to_dict``); the verdict, the tables and the plots read their fields.

>>> s = MeanStd.of([0.5, 0.7])
>>> round(s.mean, 6), round(s.std, 6)
(0.6, 0.1)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np

__all__ = ["MeanStd", "SeedScores", "RetainedRow", "RobustnessRow", "ModelSummary"]


@dataclass(frozen=True)
class MeanStd:
    """Mean and standard deviation of one score over seeds."""

    mean: float
    std: float

    @classmethod
    def of(cls, values: list[float]) -> MeanStd:
        return cls(float(np.mean(values)), float(np.std(values)))

    def to_dict(self) -> dict[str, float]:
        return {"mean": self.mean, "std": self.std}


@dataclass(frozen=True)
class SeedScores:
    """Probe and distortion scores of one projection with one seed."""

    knn_accuracy: float
    linear_accuracy: float
    knn_recall: float
    spearman: float
    ratio_q05: float
    ratio_q95: float
    collision_rate: float

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


#: the scores of :class:`SeedScores`, in order
SCORES = tuple(f.name for f in fields(SeedScores))


@dataclass(frozen=True)
class RetainedRow:
    """One row of the retained-information table: a projection's scores over seeds.

    Attributes
    ----------
    method : str
        ``"raw"`` or the invariant method name.
    options : dict
    dim : int
        Feature dimension.
    random : bool
        Whether the projection has random parameters (references, templates).
    per_seed : tuple of SeedScores
    """

    method: str
    options: dict[str, Any]
    dim: int
    random: bool
    per_seed: tuple[SeedScores, ...]

    def score(self, name: str) -> MeanStd:
        """Mean ± std over seeds of one of :data:`SCORES`."""
        if name not in SCORES:
            raise ValueError(f"score must be one of {SCORES}; received {name!r}")
        return MeanStd.of([getattr(s, name) for s in self.per_seed])

    @property
    def knn_accuracy(self) -> MeanStd:
        return self.score("knn_accuracy")

    @property
    def linear_accuracy(self) -> MeanStd:
        return self.score("linear_accuracy")

    @property
    def knn_recall(self) -> MeanStd:
        return self.score("knn_recall")

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "options": self.options,
            "dim": self.dim,
            "random": self.random,
            **{k: self.score(k).to_dict() for k in SCORES},
            "per_seed": [s.to_dict() for s in self.per_seed],
        }


@dataclass(frozen=True)
class RobustnessRow:
    """One digit at 16 angles: distance of each copy to the upright copy, over the median
    distance between different digits, in one representation."""

    mean_relative_spread: float
    quarter_turns: float
    digit0_curve: tuple[float, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "mean_relative_spread": self.mean_relative_spread,
            "quarter_turns": self.quarter_turns,
            "digit0_curve": list(self.digit0_curve),
        }


@dataclass(frozen=True)
class ModelSummary:
    """What the verdict needs from one model's part of the study."""

    accuracy: float
    table: dict[str, RetainedRow]
    equivariance: dict[str, float]
    robustness: dict[str, RobustnessRow]
