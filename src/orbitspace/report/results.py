"""Typed results of the standard analysis (:mod:`orbitspace.report.analysis`).

Every stage returns a dataclass; the numbers become JSON only at the edge, in
:meth:`AnalysisResult.to_metrics` (what ``metrics.json`` holds).  The per-sample diagnostics
are the diagnostics layer's own results (:class:`~orbitspace.diagnostics.InvarianceError`,
:class:`~orbitspace.diagnostics.Distortion`, :class:`~orbitspace.diagnostics.ProbeResult`).

>>> block = ProbeBlock("classification")
>>> block.headline("raw") is None
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from orbitspace.diagnostics import Distortion, InvarianceError, ProbeResult
from orbitspace.groups import Action

__all__ = [
    "AnalysisSettings",
    "MethodResult",
    "ProbeBlock",
    "DataSummary",
    "MapsInfo",
    "Criteria",
    "Recommendation",
    "Measurements",
    "AnalysisResult",
    "MAIN_SCORE",
]

#: main score per probe task (higher is better)
MAIN_SCORE = {"classification": "accuracy", "regression": "r2"}


def _finite_or_minus_inf(x: Any) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return -math.inf
    return v if math.isfinite(v) else -math.inf


@dataclass(frozen=True)
class AnalysisSettings:
    """Sample sizes and probe settings of one analysis run.

    Attributes
    ----------
    n_invariance, n_distortion, n_probe, n_map : int
        Codes used for each measurement (the actual subsample sizes once a run is done).
    n_group_samples : int
        Random group elements per code for the invariance error.
    cv : int
        Cross-validation folds of the probes.
    probes : tuple of str
        Probe kinds (``"linear"``, ``"knn"``, ``"mlp"``).
    map_columns : int
        Invariant projections drawn beside the raw codes in the 2-D maps.
    """

    n_invariance: int
    n_group_samples: int
    n_distortion: int
    n_probe: int
    cv: int
    probes: tuple[str, ...]
    n_map: int
    map_columns: int

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class MethodResult:
    """One invariant projection that ran: what it is and what it produced.

    Attributes
    ----------
    label : str
        The method label (``"align_to_reference(n_references=4)"``).
    name : str
        The registered method name.
    options : dict
        Its options.
    dim : int
        Output dimension.
    time_s : float
        Wall time of fitting and projecting all codes.
    file : str
        File name of the projected features (``features_<stem>.npy``).
    properties : dict
        The declared properties (``isometric``, ``cross_section``, ``continuous``, ...).
    random_parameters : bool
        Whether the output depends on the seed.
    """

    label: str
    name: str
    options: dict[str, Any]
    dim: int
    time_s: float
    file: str
    properties: dict[str, Any]
    random_parameters: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "options": dict(self.options),
            "dim": self.dim,
            "time_s": self.time_s,
            "file": self.file,
            "properties": self.properties,
            "random_parameters": self.random_parameters,
        }


@dataclass
class ProbeBlock:
    """The probes of one target (the labels, or one regression target).

    Attributes
    ----------
    task : {"classification", "regression"}
    results : dict of str -> ProbeResult
        One result per representation label (``"raw"`` and the methods), in order.
    errors : dict of str -> str
        Representations whose probes could not run, with the reason.
    """

    task: str
    results: dict[str, ProbeResult] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def headline(self, label: str) -> tuple[str, float] | None:
        """The best probe of representation ``label``: ``(probe kind, mean main score)``."""
        res = self.results.get(label)
        if res is None:
            return None
        metric = MAIN_SCORE[self.task]
        best = max(res.scores.items(), key=lambda kv: _finite_or_minus_inf(kv[1][metric][0]))
        return best[0], float(best[1][metric][0])

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "task": self.task,
            "results": {k: r.to_dict() for k, r in self.results.items()},
        }
        if self.errors:
            out["errors"] = dict(self.errors)
        return out


@dataclass(frozen=True)
class DataSummary:
    """What was analysed: sample count, array shape, labels and targets."""

    n_samples: int
    shape: tuple[int, ...]
    labels: dict[str, Any] | None
    target_names: tuple[str, ...] | None
    masked: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_samples": self.n_samples,
            "shape": list(self.shape),
            "labels": self.labels,
            "targets": None
            if self.target_names is None
            else {"names": list(self.target_names), "n_targets": len(self.target_names)},
            "masked": self.masked,
        }


@dataclass(frozen=True)
class MapsInfo:
    """The 2-D maps drawn: representation columns, points and colourings."""

    columns: tuple[str, ...]
    n_points: int
    colours: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "columns": list(self.columns),
            "n_points": self.n_points,
            "colours": list(self.colours),
        }


@dataclass
class Criteria:
    """The numbers the verdict ranks one representation on."""

    invariant: bool
    max_rel_invariance_error: float
    knn_recall: float
    spearman: float
    collision_rate: float
    probe_score: float | None
    dim: int | None
    mean_rank: float | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        if self.mean_rank is None:
            del out["mean_rank"]
        return out


@dataclass
class Recommendation:
    """Which projection the verdict recommends, the ranking and the criteria it used."""

    recommended: str | None
    ranking: list[str]
    criteria: dict[str, Criteria]
    invariance_tol: float
    rule: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "recommended": self.recommended,
            "ranking": list(self.ranking),
            "criteria": {k: c.to_dict() for k, c in self.criteria.items()},
            "invariance_tol": self.invariance_tol,
            "rule": self.rule,
        }


@dataclass(frozen=True)
class Measurements:
    """The per-representation measurements a verdict is made from (``"raw"`` included in all
    but ``methods``); :class:`AnalysisResult` has the same fields."""

    methods: dict[str, MethodResult]
    invariance: dict[str, InvarianceError]
    distortion: dict[str, Distortion]
    probes: dict[str, ProbeBlock]


@dataclass
class AnalysisResult:
    """What :func:`~orbitspace.report.analysis.analyze_latents` found.

    Attributes
    ----------
    action : Action
    data : DataSummary
    settings : AnalysisSettings
        With the actual subsample sizes.
    seed : int
    quick : bool
    maps_requested : tuple of str
        The 2-D map methods asked for (``"pca"``, ``"tsne"``, ``"umap"``).
    methods : dict of str -> MethodResult
        The projections that ran, in the registry's order.
    skipped : dict of str -> str
        Projections left out, with the reason.
    invariance : dict of str -> InvarianceError
        Per representation (``"raw"`` first).
    distortion : dict of str -> Distortion
    probes : dict of str -> ProbeBlock
        Per target (``"labels"`` and the target names).
    recommendation : Recommendation
    maps : MapsInfo or None
    timings_s : dict of str -> float
    total_time_s : float
    features : dict of str -> array of shape (n_samples, m)
        The projected features of all samples, keyed by method label (``"raw"`` excluded).
    figures : list of (matplotlib Figure, caption)
        The 2-D maps, one figure per embedding method.
    verdict : str
        The recommendation in plain language (markdown subset).
    """

    action: Action
    data: DataSummary
    settings: AnalysisSettings
    seed: int
    quick: bool
    maps_requested: tuple[str, ...]
    methods: dict[str, MethodResult]
    skipped: dict[str, str]
    invariance: dict[str, InvarianceError]
    distortion: dict[str, Distortion]
    probes: dict[str, ProbeBlock]
    recommendation: Recommendation
    maps: MapsInfo | None = None
    timings_s: dict[str, float] = field(default_factory=dict)
    total_time_s: float = 0.0
    features: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    figures: list = field(default_factory=list, repr=False)
    verdict: str = ""

    def to_metrics(self) -> dict[str, Any]:
        """Every number, JSON-ready: what ``metrics.json`` holds.

        Keys: ``action``, ``data``, ``settings``, ``methods``, ``skipped``, ``timings_s``,
        ``invariance``, ``distortion``, ``probes``, ``recommendation``, ``maps`` (when drawn),
        ``total_time_s``.
        """
        a = self.action
        out: dict[str, Any] = {
            "action": {"spec": repr(a), "event_ndim": a.event_ndim, "order": a.order},
            "data": self.data.to_dict(),
            "settings": {
                "seed": self.seed,
                "quick": self.quick,
                **self.settings.to_dict(),
                "maps": list(self.maps_requested),
            },
            "methods": {k: m.to_dict() for k, m in self.methods.items()},
            "skipped": dict(self.skipped),
            "timings_s": dict(self.timings_s),
            "invariance": {k: r.to_dict() for k, r in self.invariance.items()},
            "distortion": {k: r.to_dict() for k, r in self.distortion.items()},
            "probes": {k: b.to_dict() for k, b in self.probes.items()},
            "recommendation": self.recommendation.to_dict(),
        }
        if self.maps is not None:
            out["maps"] = self.maps.to_dict()
        out["total_time_s"] = self.total_time_s
        return out

    @property
    def metrics(self) -> dict[str, Any]:
        """:meth:`to_metrics` (kept for code written against the dict result)."""
        return self.to_metrics()
