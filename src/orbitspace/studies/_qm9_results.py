"""Typed results of the QM9 study (:mod:`orbitspace.studies.qm9`).

Each section returns one of these; the study writes their ``to_dict()`` to ``metrics.json``
and the verdict reads their fields.

>>> PathStats(1.0, 0.5, 0.0, 3.0, 2.0, 2.5, 4.2).to_dict()["valid_interior_steps"]
0.5
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from orbitspace.diagnostics import Distortion
from orbitspace.report.results import ProbeBlock

__all__ = ["OrbitSummary", "IsometrySummary", "PathStats", "InterpolationSummary", "Qm9Findings"]


@dataclass(frozen=True)
class OrbitSummary:
    """One molecule under 20 random atom orders: raw vs sorted codes."""

    molecule: str
    raw_mean_pairwise_distance: float
    raw_max_pairwise_distance: float
    sorted_max_deviation: float
    equivariance_max_error: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class IsometrySummary:
    """Sorting against the assignment quotient distance, and the distortion of raw / sorted
    codes (``distortion`` keyed ``"raw"``, ``"sort"``)."""

    n_pairs: int
    max_abs_sort_minus_assignment: float
    max_abs_sort_minus_library: float
    raw_over_quotient_median: float
    raw_over_quotient_max: float
    decode_sorted_same_molecule: float
    distortion: dict[str, Distortion]

    def scalars(self) -> dict[str, Any]:
        """The numbers of the isometry table, in order."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "distortion"}

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.scalars(),
            "distortion": {k: d.to_dict() for k, d in self.distortion.items()},
        }


@dataclass(frozen=True)
class PathStats:
    """Decoded interpolation paths of one kind (raw line or quotient geodesic)."""

    valid_all_steps: float
    valid_interior_steps: float
    paths_all_valid: float
    slot_edits_per_path: float
    molecule_changes_per_path: float
    distinct_molecules_per_path: float
    path_length_mean: float

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass(frozen=True)
class InterpolationSummary:
    """Interpolation between test molecules for one model (``paths`` keyed by path kind)."""

    n_pairs: int
    n_steps: int
    endpoint_pool: int
    paths: dict[str, PathStats]

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_pairs": self.n_pairs,
            "n_steps": self.n_steps,
            "endpoint_pool": self.endpoint_pool,
            **{k: p.to_dict() for k, p in self.paths.items()},
        }


@dataclass(frozen=True)
class Qm9Findings:
    """What the verdict is written from.

    Attributes
    ----------
    encoder_equivariance_error : float
        Of the d = 1 model on real molecules.
    orbit : OrbitSummary
    isometry : IsometrySummary
    probes : dict of target -> ProbeBlock
        Keyed by feature set (``"d=1 raw"``, ``"d=1 sort"``, ``"d=4 lexsort"``, ...).
    interpolation : dict of int -> InterpolationSummary
        Keyed by the number of latent channels per atom.
    """

    encoder_equivariance_error: float
    orbit: OrbitSummary
    isometry: IsometrySummary
    probes: dict[str, ProbeBlock]
    interpolation: dict[int, InterpolationSummary]
