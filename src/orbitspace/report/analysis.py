"""The standard analysis of latent codes: raw codes vs every invariant projection.

:func:`analyze_latents` computes the numbers (invariance error, distortion against the exact
quotient distance, probe scores, 2-D maps) as a typed :class:`AnalysisResult`, and
:func:`add_analysis_to_report` lays it out in a :class:`~orbitspace.report.Report`.
``orbitspace analyze`` is these two calls plus file I/O.  The stages are public so that the
case studies measure their own latents with the same code (:mod:`orbitspace.report.stages`,
re-exported here): :func:`measure_invariance`, :func:`measure_distortion`, :func:`measure_probes`.

>>> import numpy as np
>>> from orbitspace import Permutation
>>> from orbitspace.report import Report
>>> X = np.random.default_rng(0).normal(size=(60, 5, 1))
>>> res = analyze_latents(X, Permutation(5), methods=["sort"], quick=True, maps=(),
...                       progress=False)  # doctest: +SKIP
>>> add_analysis_to_report(Report("demo"), res)  # doctest: +SKIP
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from orbitspace._array import to_numpy
from orbitspace._progress import progress_bar
from orbitspace._validation import check_random_state
from orbitspace.groups import Action, parse_action
from orbitspace.report._inputs import check_labels, check_latents, check_targets, subsample
from orbitspace.report.layout import add_analysis_to_report
from orbitspace.report.methods import (
    MethodSpec,
    declared_properties,
    fit_projection,
    resolve_methods,
)
from orbitspace.report.results import (
    AnalysisResult,
    AnalysisSettings,
    DataSummary,
    MapsInfo,
    Measurements,
    MethodResult,
)
from orbitspace.report.stages import measure_distortion, measure_invariance, measure_probes
from orbitspace.report.verdict import make_verdict

__all__ = [
    "AnalysisResult",
    "AnalysisSettings",
    "analyze_latents",
    "add_analysis_to_report",
    "measure_invariance",
    "measure_distortion",
    "measure_probes",
    "SETTINGS",
    "FULL",
    "QUICK",
]

#: sample sizes and probe settings of a full run
FULL = AnalysisSettings(
    n_invariance=2000,
    n_group_samples=8,
    n_distortion=1000,
    n_probe=5000,
    cv=5,
    probes=("linear", "knn", "mlp"),
    n_map=3000,
    map_columns=3,
)
#: ... and of a ``quick`` run
QUICK = AnalysisSettings(
    n_invariance=500,
    n_group_samples=4,
    n_distortion=300,
    n_probe=2000,
    cv=3,
    probes=("linear", "knn"),
    n_map=600,
    map_columns=2,
)
#: the same settings as plain dicts (kept for code that reads them by key)
SETTINGS: dict[str, dict[str, Any]] = {"full": FULL.to_dict(), "quick": QUICK.to_dict()}

#: a projection counts as exactly invariant when its largest relative error is below this
INVARIANCE_TOL = 1e-6

#: the representation of the raw codes (flattened) in every result table
RAW = "raw"


def _flat(Z: Any, mask: Any = None) -> np.ndarray:
    """The raw codes as a feature matrix (the identity map, flattened)."""
    Z = np.asarray(to_numpy(Z), dtype=float)
    return Z.reshape(len(Z), -1)


def _seed(random_state: Any) -> int:
    if isinstance(random_state, (int, np.integer)):
        return int(random_state)
    return int(check_random_state(random_state).integers(0, 2**31 - 1))


# -- the analysis ------------------------------------------------------------------------------
def analyze_latents(
    X: Any,
    action: Action | str,
    *,
    labels: Any = None,
    targets: Any = None,
    target_names: Sequence[str] | None = None,
    methods: Sequence[str | MethodSpec] | None = None,
    random_state: int = 0,
    quick: bool = False,
    mask: Any = None,
    maps: Sequence[str] = ("pca", "tsne", "umap"),
    progress: bool = True,
) -> AnalysisResult:
    """Compare raw latent codes with invariant projections of them.

    Parameters
    ----------
    X : array of shape (n_samples, dim), or (n_samples, n_nodes, d) for node actions
    action : Action or its repr string
    labels : array of shape (n_samples,), optional
        Class labels: classification probes, categorical colouring of the maps.
    targets : array of shape (n_samples,) or (n_samples, n_targets), optional
        Real targets: regression probes (one per column), continuous colouring.
    target_names : sequence of str, optional
        Names of the target columns.
    methods : sequence of method specs, optional
        ``"sort"``, ``"align_to_reference(n_references=4)"``, ... (default: every method
        available for the action, ``align_to_reference`` with 1 and 4 references).
    random_state : int
        Seed of every random choice (references, subsamples, group draws, folds, maps).
    quick : bool
        Smaller subsamples (:data:`QUICK` instead of :data:`FULL`) and fewer probes, for a run
        within a minute.
    mask : array of shape (n_samples, n_nodes), bool, optional
        Node mask for padded graphs (node actions only).
    maps : sequence of {"pca", "tsne", "umap"}
        2-D maps to draw (empty: none).
    progress : bool
        Show progress bars on stderr.

    Returns
    -------
    AnalysisResult
        Typed; :meth:`AnalysisResult.to_metrics` gives the JSON of ``metrics.json``.
    """
    from orbitspace.quotient import pairwise_quotient_distances

    t_start = time.perf_counter()
    action = parse_action(action)
    Xn, mask_n = check_latents(X, action, mask)
    n = len(Xn)
    y = check_labels(labels, n)
    T, t_names = (None, []) if targets is None else check_targets(targets, n, target_names)
    d = Xn.shape[-1] if action.node_axis is not None else None
    specs = resolve_methods(methods, action, d=d, quick=quick)
    seed = _seed(random_state)
    cfg = QUICK if quick else FULL
    unknown = [m for m in maps if m not in ("pca", "tsne", "umap")]
    if unknown:
        raise ValueError(f"maps must be among 'pca', 'tsne', 'umap'; received {unknown}")
    data = DataSummary(
        n_samples=n,
        shape=tuple(int(s) for s in Xn.shape),
        labels=None if y is None else _label_summary(y),
        target_names=None if T is None else tuple(t_names),
        masked=mask_n is not None,
    )

    # -- projections --------------------------------------------------------------------------
    features: dict[str, np.ndarray] = {}
    transforms: dict[str, Callable[..., Any]] = {RAW: _flat}
    methods_run: dict[str, MethodResult] = {}
    skipped: dict[str, str] = {}
    for spec in progress_bar(specs, desc="projections", disable=not progress):
        t0 = time.perf_counter()
        fn = fit_projection(spec, Xn, action, random_state=seed, mask=mask_n)
        F = fn(Xn) if mask_n is None else fn(Xn, mask=mask_n)
        elapsed = time.perf_counter() - t0
        if F.shape[0] != n or not np.all(np.isfinite(F)):
            skipped[spec.label] = "produced non-finite or mis-shaped features"
            continue
        features[spec.label] = F
        transforms[spec.label] = fn
        methods_run[spec.label] = MethodResult(
            label=spec.label,
            name=spec.name,
            options=dict(spec.options),
            dim=int(F.shape[1]),
            time_s=elapsed,
            file=f"features_{spec.file_stem}.npy",
            properties=declared_properties(spec, action, d),
            random_parameters=bool(getattr(fn, "random_parameters", True)),
        )
    all_feats = {RAW: _flat(Xn), **features}
    timings: dict[str, float] = {"projections": time.perf_counter() - t_start}

    # -- invariance ---------------------------------------------------------------------------
    t_phase = time.perf_counter()
    idx_inv = subsample(n, cfg.n_invariance, seed + 1)
    invariance = measure_invariance(
        transforms,
        Xn[idx_inv],
        action,
        n_group_samples=cfg.n_group_samples,
        random_state=seed + 2,
        mask=None if mask_n is None else mask_n[idx_inv],
        progress=progress,
    )
    timings["invariance"] = time.perf_counter() - t_phase

    # -- distortion against the exact quotient distance ----------------------------------------
    t_phase = time.perf_counter()
    idx_d = subsample(n, cfg.n_distortion, seed + 3)
    qkw = {"x_mask": mask_n[idx_d]} if mask_n is not None else {}
    D = pairwise_quotient_distances(Xn[idx_d], action=action, progress=progress, **qkw)
    distortion = measure_distortion(
        {label: F[idx_d] for label, F in all_feats.items()},
        Xn[idx_d],
        action,
        quotient_distances=D,
        n_pairs=20000,
        k=10,
        random_state=seed + 4,
        max_queries=len(idx_d),
        progress=progress,
    )
    timings["distortion"] = time.perf_counter() - t_phase

    # -- probes -------------------------------------------------------------------------------
    t_phase = time.perf_counter()
    idx_p = subsample(n, cfg.n_probe, seed + 5)
    jobs: list[tuple[str, str, np.ndarray]] = []
    if y is not None:
        jobs.append(("labels", "classification", y[idx_p]))
    for j, name in enumerate(t_names):
        jobs.append((name, "regression", T[idx_p, j]))
    probes = {
        target_name: measure_probes(
            {label: F[idx_p] for label, F in all_feats.items()},
            yy,
            task=task,
            probes=cfg.probes,
            cv=cfg.cv,
            random_state=seed + 6,
            progress=progress,
            desc=f"probes ({target_name})",
        )
        for target_name, task, yy in jobs
    }
    timings["probes"] = time.perf_counter() - t_phase

    # -- the recommendation -------------------------------------------------------------------
    t_phase = time.perf_counter()
    settings = replace(cfg, n_invariance=len(idx_inv), n_distortion=len(idx_d), n_probe=len(idx_p))
    measured = Measurements(
        methods=methods_run, invariance=invariance, distortion=distortion, probes=probes
    )
    verdict, recommendation = make_verdict(measured, invariance_tol=INVARIANCE_TOL)
    result = AnalysisResult(
        action=action,
        data=data,
        settings=settings,
        seed=seed,
        quick=bool(quick),
        maps_requested=tuple(maps),
        methods=methods_run,
        skipped=skipped,
        invariance=invariance,
        distortion=distortion,
        probes=probes,
        recommendation=recommendation,
        timings_s=timings,
        features=features,
        verdict=verdict,
    )

    # -- maps ---------------------------------------------------------------------------------
    if maps:
        result.maps, result.figures = _maps(all_feats, y, T, t_names, result, cfg, seed, progress)
        timings["maps"] = time.perf_counter() - t_phase
    result.total_time_s = time.perf_counter() - t_start
    return result


def _label_summary(y: np.ndarray) -> dict[str, Any]:
    classes, counts = np.unique(y, return_counts=True)
    return {
        "n_classes": len(classes),
        "counts": {str(c): int(k) for c, k in zip(classes, counts)},
        "chance_accuracy": float(counts.max() / counts.sum()),
    }


def _maps(all_feats, y, T, t_names, result: AnalysisResult, cfg, seed, progress):
    from orbitspace.plot import embed_2d, embedding_grid

    maps = result.maps_requested
    columns = [RAW] + [m for m in result.recommendation.ranking if m in all_feats]
    columns = columns[: 1 + cfg.map_columns]
    n = len(all_feats[RAW])
    idx = subsample(n, cfg.n_map, seed + 7)
    colors: dict[str, np.ndarray] = {}
    if y is not None:
        colors["label"] = y[idx]
    for j, name in enumerate(t_names[:2]):
        colors[name] = T[idx, j]
    if not colors:
        colors["code norm ‖z‖"] = np.linalg.norm(all_feats[RAW][idx], axis=1)
    info = MapsInfo(columns=tuple(columns), n_points=len(idx), colours=tuple(colors))
    names = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}
    jobs = [(m, c) for m in maps for c in columns]
    coords: dict[tuple[str, str], np.ndarray] = {}
    for m, c in progress_bar(jobs, desc="2-D maps", disable=not progress):
        coords[(m, c)] = embed_2d(all_feats[c][idx], m, random_state=seed + 8)
    figures = []
    for m in maps:
        fig = embedding_grid(
            {("raw codes" if c == RAW else c): coords[(m, c)] for c in columns},
            colors,
            title=f"{names[m]} of raw codes vs invariant projections",
        )
        sub = "" if len(idx) == n else f" ({len(idx)} of {n} codes, chosen at random)"
        caption = (
            f"{names[m]} maps of the same codes{sub}, one column per representation, one row "
            "per colouring. Raw codes of the same object in different poses land in different "
            "places; an invariant projection puts them in one place."
        )
        figures.append((fig, caption))
    return info, figures
