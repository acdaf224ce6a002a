"""The standard analysis of latent codes: raw codes vs every invariant projection.

:func:`analyze_latents` computes the numbers (invariance error, distortion against the exact
quotient distance, probe scores, 2-D maps) and :func:`add_analysis_to_report` lays them out in
a :class:`~orbitspace.report.Report`.  ``orbitspace analyze`` is these two calls plus file I/O;
the case studies reuse them for their own latents.

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
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from orbitspace._array import to_numpy
from orbitspace._progress import progress_bar
from orbitspace._validation import check_random_state
from orbitspace.groups import Action, Permutation, parse_action
from orbitspace.report.layout import add_analysis_to_report
from orbitspace.report.methods import (
    MethodSpec,
    declared_properties,
    fit_projection,
    resolve_methods,
)
from orbitspace.report.verdict import make_verdict

__all__ = ["AnalysisResult", "analyze_latents", "add_analysis_to_report", "SETTINGS"]

#: sample sizes and probe settings of a full and of a ``quick`` run
SETTINGS: dict[str, dict[str, Any]] = {
    "full": {
        "n_invariance": 2000,
        "n_group_samples": 8,
        "n_distortion": 1000,
        "n_probe": 5000,
        "cv": 5,
        "probes": ("linear", "knn", "mlp"),
        "n_map": 3000,
        "map_columns": 3,
    },
    "quick": {
        "n_invariance": 500,
        "n_group_samples": 4,
        "n_distortion": 300,
        "n_probe": 2000,
        "cv": 3,
        "probes": ("linear", "knn"),
        "n_map": 600,
        "map_columns": 2,
    },
}

#: a projection counts as exactly invariant when its largest relative error is below this
INVARIANCE_TOL = 1e-6


@dataclass
class AnalysisResult:
    """What :func:`analyze_latents` found.

    Attributes
    ----------
    metrics : dict
        Every number, JSON-ready (``write_json_atomic``): ``action``, ``data``, ``settings``,
        ``methods``, ``invariance``, ``distortion``, ``probes``, ``maps``, ``recommendation``.
    features : dict of str -> array of shape (n_samples, m)
        The projected features of all samples, keyed by method label (``"raw"`` excluded).
    figures : list of (matplotlib Figure, caption)
        The 2-D maps, one figure per embedding method.
    verdict : str
        The recommendation in plain language (markdown subset), derived from ``metrics``.
    """

    metrics: dict[str, Any]
    features: dict[str, np.ndarray]
    figures: list = field(default_factory=list)
    verdict: str = ""


def _check_flat(X: Any, action: Action, mask: Any) -> tuple[np.ndarray, np.ndarray | None]:
    Xn = action.check_latents(X, "latents", allow_nan=True)
    if Xn.ndim != action.event_ndim + 1:
        want = "(n_samples, n_nodes, d)" if action.event_ndim == 2 else "(n_samples, dim)"
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
        if not isinstance(action, Permutation):
            raise ValueError(
                f"a node mask applies to Permutation actions only; received {action!r}"
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
    X : array of shape (n_samples, dim), or (n_samples, n_nodes, d) for Permutation
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
        Smaller subsamples (see :data:`SETTINGS`) and fewer probes, for a run within a minute.
    mask : array of shape (n_samples, n_nodes), bool, optional
        Node mask for padded graphs (Permutation only).
    maps : sequence of {"pca", "tsne", "umap"}
        2-D maps to draw (empty: none).
    progress : bool
        Show progress bars on stderr.

    Returns
    -------
    AnalysisResult
    """
    from orbitspace.diagnostics import distortion, invariance_error, probe
    from orbitspace.quotient import pairwise_quotient_distances

    t_start = time.perf_counter()
    action = parse_action(action)
    Xn, mask_n = _check_flat(X, action, mask)
    n = len(Xn)
    y = _check_labels(labels, n)
    T, t_names = (None, []) if targets is None else _check_targets(targets, n, target_names)
    d = Xn.shape[-1] if isinstance(action, Permutation) else None
    specs = resolve_methods(methods, action, d=d, quick=quick)
    seed = (
        int(check_random_state(random_state).integers(0, 2**31 - 1))
        if not isinstance(random_state, (int, np.integer))
        else int(random_state)
    )
    cfg = dict(SETTINGS["quick" if quick else "full"])
    unknown = [m for m in maps if m not in ("pca", "tsne", "umap")]
    if unknown:
        raise ValueError(f"maps must be among 'pca', 'tsne', 'umap'; received {unknown}")

    metrics: dict[str, Any] = {
        "action": {"spec": repr(action), "event_ndim": action.event_ndim, "order": action.order},
        "data": {
            "n_samples": n,
            "shape": list(Xn.shape),
            "labels": None if y is None else _label_summary(y),
            "targets": None if T is None else {"names": t_names, "n_targets": len(t_names)},
            "masked": mask_n is not None,
        },
        "settings": {"seed": seed, "quick": bool(quick), **cfg, "maps": list(maps)},
        "methods": {},
        "skipped": {},
    }

    def raw_fn(Z: Any, mask: Any = None) -> np.ndarray:
        Z = np.asarray(to_numpy(Z), dtype=float)
        return Z.reshape(len(Z), -1)

    # -- projections --------------------------------------------------------------------------
    features: dict[str, np.ndarray] = {}
    transforms = {"raw": raw_fn}
    for spec in progress_bar(specs, desc="projections", disable=not progress):
        t0 = time.perf_counter()
        fn = fit_projection(spec, Xn, action, random_state=seed, mask=mask_n)
        F = fn(Xn) if mask_n is None else fn(Xn, mask=mask_n)
        elapsed = time.perf_counter() - t0
        if F.shape[0] != n or not np.all(np.isfinite(F)):
            metrics["skipped"][spec.label] = "produced non-finite or mis-shaped features"
            continue
        features[spec.label] = F
        transforms[spec.label] = fn
        metrics["methods"][spec.label] = {
            "name": spec.name,
            "options": dict(spec.options),
            "dim": int(F.shape[1]),
            "time_s": elapsed,
            "file": f"features_{spec.file_stem}.npy",
            "properties": declared_properties(spec, action, d),
            "random_parameters": bool(getattr(fn, "random_parameters", True)),
        }
    all_feats = {"raw": raw_fn(Xn), **features}
    labels_order = list(all_feats)

    timings: dict[str, float] = {"projections": time.perf_counter() - t_start}
    metrics["timings_s"] = timings

    # -- invariance ---------------------------------------------------------------------------
    t_phase = time.perf_counter()
    idx_inv = _subsample(n, cfg["n_invariance"], seed + 1)
    metrics["settings"]["n_invariance"] = len(idx_inv)
    inv: dict[str, Any] = {}
    for label in progress_bar(labels_order, desc="invariance", disable=not progress):
        kw = {"mask": mask_n[idx_inv]} if mask_n is not None else {}
        res = invariance_error(
            transforms[label],
            Xn[idx_inv],
            action,
            n_group_samples=cfg["n_group_samples"],
            random_state=seed + 2,
            **kw,
        )
        inv[label] = res.to_dict()
    metrics["invariance"] = inv
    timings["invariance"] = time.perf_counter() - t_phase
    t_phase = time.perf_counter()

    # -- distortion against the exact quotient distance ----------------------------------------
    idx_d = _subsample(n, cfg["n_distortion"], seed + 3)
    metrics["settings"]["n_distortion"] = len(idx_d)
    qkw = {"x_mask": mask_n[idx_d]} if mask_n is not None else {}
    D = pairwise_quotient_distances(Xn[idx_d], action=action, progress=progress, **qkw)
    dist: dict[str, Any] = {}
    for label in progress_bar(labels_order, desc="distortion", disable=not progress):
        res = distortion(
            all_feats[label][idx_d],
            Xn[idx_d],
            action,
            quotient_distances=D,
            n_pairs=20000,
            k=10,
            random_state=seed + 4,
            max_queries=len(idx_d),
        )
        dist[label] = res.to_dict()
    metrics["distortion"] = dist
    timings["distortion"] = time.perf_counter() - t_phase
    t_phase = time.perf_counter()

    # -- probes -------------------------------------------------------------------------------
    idx_p = _subsample(n, cfg["n_probe"], seed + 5)
    metrics["settings"]["n_probe"] = len(idx_p)
    probes: dict[str, Any] = {}
    jobs: list[tuple[str, str, np.ndarray]] = []
    if y is not None:
        jobs.append(("labels", "classification", y[idx_p]))
    for j, name in enumerate(t_names):
        jobs.append((name, "regression", T[idx_p, j]))
    for target_name, task, yy in jobs:
        cv = cfg["cv"]
        if task == "classification":
            cv = int(max(2, min(cv, np.unique(yy, return_counts=True)[1].min())))
        block: dict[str, Any] = {"task": task, "results": {}}
        for label in progress_bar(
            labels_order, desc=f"probes ({target_name})", disable=not progress
        ):
            try:
                res = probe(
                    all_feats[label][idx_p],
                    yy,
                    task=task,
                    probes=cfg["probes"],
                    cv=cv,
                    random_state=seed + 6,
                )
            except ValueError as exc:  # e.g. a class too small in the subsample
                block.setdefault("errors", {})[label] = str(exc)
                continue
            block["results"][label] = res.to_dict()
        probes[target_name] = block
    metrics["probes"] = probes
    timings["probes"] = time.perf_counter() - t_phase
    t_phase = time.perf_counter()

    # -- the recommendation -------------------------------------------------------------------
    verdict_text, recommendation = make_verdict(metrics, invariance_tol=INVARIANCE_TOL)
    metrics["recommendation"] = recommendation

    # -- maps ---------------------------------------------------------------------------------
    figures = []
    if maps:
        figures = _maps(
            all_feats, Xn, y, T, t_names, recommendation, maps, cfg, seed, progress, metrics
        )
        timings["maps"] = time.perf_counter() - t_phase
    metrics["total_time_s"] = time.perf_counter() - t_start
    return AnalysisResult(metrics=metrics, features=features, figures=figures, verdict=verdict_text)


def _label_summary(y: np.ndarray) -> dict[str, Any]:
    classes, counts = np.unique(y, return_counts=True)
    return {
        "n_classes": len(classes),
        "counts": {str(c): int(k) for c, k in zip(classes, counts)},
        "chance_accuracy": float(counts.max() / counts.sum()),
    }


def _maps(all_feats, Xn, y, T, t_names, recommendation, maps, cfg, seed, progress, metrics):
    from orbitspace.plot import embed_2d, embedding_grid

    columns = ["raw"] + [m for m in recommendation.get("ranking", []) if m in all_feats]
    columns = columns[: 1 + cfg["map_columns"]]
    idx = _subsample(len(Xn), cfg["n_map"], seed + 7)
    colors: dict[str, np.ndarray] = {}
    if y is not None:
        colors["label"] = y[idx]
    for j, name in enumerate(t_names[:2]):
        colors[name] = T[idx, j]
    if not colors:
        colors["code norm ‖z‖"] = np.linalg.norm(all_feats["raw"][idx], axis=1)
    metrics["maps"] = {"columns": columns, "n_points": len(idx), "colours": list(colors)}
    names = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}
    jobs = [(m, c) for m in maps for c in columns]
    coords: dict[tuple[str, str], np.ndarray] = {}
    for m, c in progress_bar(jobs, desc="2-D maps", disable=not progress):
        coords[(m, c)] = embed_2d(all_feats[c][idx], m, random_state=seed + 8)
    figures = []
    for m in maps:
        fig = embedding_grid(
            {("raw codes" if c == "raw" else c): coords[(m, c)] for c in columns},
            colors,
            title=f"{names[m]} of raw codes vs invariant projections",
        )
        sub = "" if len(idx) == len(Xn) else f" ({len(idx)} of {len(Xn)} codes, chosen at random)"
        caption = (
            f"{names[m]} maps of the same codes{sub}, one column per representation, one row "
            "per colouring. Raw codes of the same object in different poses land in different "
            "places; an invariant projection puts them in one place."
        )
        figures.append((fig, caption))
    return figures
