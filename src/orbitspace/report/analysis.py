"""The standard analysis of latent codes: raw codes vs every invariant projection.

:func:`analyze_latents` computes the numbers (invariance error, distortion against the exact
quotient distance, probe scores, 2-D maps) as a typed :class:`AnalysisResult`, and
:func:`add_analysis_to_report` lays it out in a :class:`~orbitspace.report.Report`.
``orbitspace analyze`` is these two calls plus file I/O.  The stages are public so that the
case studies measure their own latents with the same code: :func:`measure_invariance`,
:func:`measure_distortion` and :func:`measure_probes`.

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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from orbitspace._array import to_numpy
from orbitspace._progress import progress_bar
from orbitspace._validation import check_random_state
from orbitspace.diagnostics import Distortion, InvarianceError
from orbitspace.groups import Action, parse_action
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
    ProbeBlock,
)
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


def _check_flat(X: Any, action: Action, mask: Any) -> tuple[np.ndarray, np.ndarray | None]:
    Xn = action.check_latents(X, "latents", allow_nan=True)
    if Xn.ndim != action.event_ndim + 1:
        want = "(n_samples, n_nodes, d)" if action.node_axis is not None else "(n_samples, dim)"
        raise ValueError(f"latents must have shape {want} for {action!r}; received {Xn.shape}")
    if len(Xn) < 10:
        raise ValueError(f"the analysis needs at least 10 codes; received {len(Xn)}")
    bad = ~np.isfinite(Xn.reshape(len(Xn), -1)).all(axis=1)
    if bad.any():
        rows = np.flatnonzero(bad)
        raise ValueError(
            f"latents have {len(rows)} row(s) with NaN or inf values (first: row {rows[0]}); "
            "remove or impute them first"
        )
    mask_n = None
    if mask is not None:
        if action.node_axis is None:
            raise ValueError(
                f"a node mask applies to actions on node sets only; received {action!r}"
            )
        mask_n = to_numpy(mask).astype(bool)
        if mask_n.shape != Xn.shape[:-1]:
            raise ValueError(f"mask must have shape {Xn.shape[:-1]}; received {mask_n.shape}")
    return Xn, mask_n


def _check_labels(labels: Any, n: int) -> np.ndarray | None:
    if labels is None:
        return None
    y = np.asarray(to_numpy(labels))
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 or len(y) != n:
        raise ValueError(f"labels must have shape ({n},) (one per code); received {y.shape}")
    if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
        raise ValueError("labels contain NaN or inf values")
    classes, counts = np.unique(y, return_counts=True)
    if len(classes) < 2:
        raise ValueError(f"labels must hold at least 2 classes; received {len(classes)}")
    if len(classes) > max(2, min(100, n // 2)):
        raise ValueError(
            f"labels have {len(classes)} distinct values for {n} codes: that looks continuous; "
            "pass it as targets (regression) instead"
        )
    if counts.min() < 2:
        raise ValueError(
            f"label {classes[counts.argmin()]!r} has only 1 sample; probes need 2 or more per class"
        )
    return y


def _check_targets(targets: Any, n: int, names: Sequence[str] | None) -> tuple[np.ndarray, list]:
    t = np.asarray(to_numpy(targets))
    if t.dtype.kind not in "iuf" and t.dtype.kind != "b":
        raise TypeError(f"targets must be numeric; received dtype {t.dtype}")
    t = t.astype(float)
    if t.ndim == 1:
        t = t[:, None]
    if t.ndim != 2 or len(t) != n:
        raise ValueError(
            f"targets must have shape ({n},) or ({n}, n_targets); received {np.shape(targets)}"
        )
    if not np.all(np.isfinite(t)):
        rows = np.flatnonzero(~np.isfinite(t).all(axis=1))
        raise ValueError(f"targets have {len(rows)} row(s) with NaN or inf (first: row {rows[0]})")
    if names is None:
        names = ["target"] if t.shape[1] == 1 else [f"target[{i}]" for i in range(t.shape[1])]
    names = [str(s) for s in names]
    if len(names) != t.shape[1]:
        raise ValueError(f"{len(names)} target names for {t.shape[1]} target columns")
    return t, names


def _subsample(n: int, size: int, seed: int) -> np.ndarray:
    if size >= n:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).permutation(n)[:size])


# -- the stages, shared with the case studies --------------------------------------------------
def measure_invariance(
    transforms: Mapping[str, Callable[..., Any]],
    X: np.ndarray,
    action: Action,
    *,
    n_group_samples: int,
    random_state: Any,
    mask: np.ndarray | None = None,
    progress: bool = False,
) -> dict[str, InvarianceError]:
    """The invariance error of every feature map on the codes ``X``.

    Parameters
    ----------
    transforms : mapping of label -> callable
        Feature maps ``fn(Z)`` (or ``fn(Z, mask=...)`` when ``mask`` is given).
    X : array of shape (n, *event_shape)
    action : Action
    n_group_samples : int
        Random group elements per code.
    random_state : int or Generator
        The same for every map (they see the same group elements).
    mask : bool array of shape (n, n_nodes), optional
    progress : bool

    Returns
    -------
    dict of label -> InvarianceError
    """
    from orbitspace.diagnostics import invariance_error

    kw = {"mask": mask} if mask is not None else {}
    return {
        label: invariance_error(
            fn, X, action, n_group_samples=n_group_samples, random_state=random_state, **kw
        )
        for label, fn in progress_bar(
            list(transforms.items()), desc="invariance", disable=not progress
        )
    }


def measure_distortion(
    features: Mapping[str, np.ndarray],
    X: np.ndarray,
    action: Action,
    *,
    quotient_distances: Any = None,
    mask: np.ndarray | None = None,
    n_pairs: int = 2000,
    k: int = 10,
    random_state: Any = None,
    max_queries: int = 300,
    progress: bool = False,
) -> dict[str, Distortion]:
    """The distortion of every feature matrix against the exact quotient distance on ``X``.

    Parameters
    ----------
    features : mapping of label -> array of shape (n, m)
        Features of the codes ``X`` (row ``i`` of each is the image of ``X[i]``).
    X : array of shape (n, *event_shape)
    action : Action
    quotient_distances : array of shape (n, n), optional
        Precomputed pairwise quotient distances of ``X`` (computed per pair otherwise).
    mask : bool array of shape (n, n_nodes), optional
    n_pairs, k, random_state, max_queries
        As in :func:`orbitspace.diagnostics.distortion`, the same for every label.
    progress : bool

    Returns
    -------
    dict of label -> Distortion
    """
    from orbitspace.diagnostics import distortion

    kw = {"mask": mask} if mask is not None else {}
    return {
        label: distortion(
            F,
            X,
            action,
            quotient_distances=quotient_distances,
            n_pairs=n_pairs,
            k=k,
            random_state=random_state,
            max_queries=max_queries,
            **kw,
        )
        for label, F in progress_bar(
            list(features.items()), desc="distortion", disable=not progress
        )
    }


def measure_probes(
    features: Mapping[str, np.ndarray],
    y: np.ndarray,
    *,
    task: str,
    probes: Sequence[str],
    cv: int,
    random_state: Any,
    catch_errors: bool = True,
    progress: bool = False,
    desc: str = "probes",
) -> ProbeBlock:
    """Cross-validated probes of one target from every feature matrix.

    Parameters
    ----------
    features : mapping of label -> array of shape (n, m)
    y : array of shape (n,)
        Class labels (``task="classification"``) or real values (``"regression"``).
    task : {"classification", "regression"}
    probes : sequence of {"linear", "knn", "mlp"}
    cv : int
        Folds; for classification at most the smallest class count (and at least 2).
    random_state : int
        The same for every label (same folds).
    catch_errors : bool
        Record a probe's ValueError in :attr:`ProbeBlock.errors` and go on (True), or raise.
    progress : bool
    desc : str
        Progress bar label.

    Returns
    -------
    ProbeBlock
    """
    from orbitspace.diagnostics import probe

    if task == "classification":
        cv = int(max(2, min(cv, np.unique(y, return_counts=True)[1].min())))
    block = ProbeBlock(task)
    for label, F in progress_bar(list(features.items()), desc=desc, disable=not progress):
        try:
            res = probe(F, y, task=task, probes=tuple(probes), cv=cv, random_state=random_state)
        except ValueError as exc:  # e.g. a class too small in the subsample
            if not catch_errors:
                raise
            block.errors[label] = str(exc)
            continue
        block.results[label] = res
    return block


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
    Xn, mask_n = _check_flat(X, action, mask)
    n = len(Xn)
    y = _check_labels(labels, n)
    T, t_names = (None, []) if targets is None else _check_targets(targets, n, target_names)
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
    idx_inv = _subsample(n, cfg.n_invariance, seed + 1)
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
    idx_d = _subsample(n, cfg.n_distortion, seed + 3)
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
    idx_p = _subsample(n, cfg.n_probe, seed + 5)
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
    idx = _subsample(n, cfg.n_map, seed + 7)
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
