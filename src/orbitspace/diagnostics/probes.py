"""What a representation keeps: cross-validated linear, k-NN and MLP probes.

scikit-learn is imported inside :func:`probe` only (the core layers import no sklearn at
module level).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from orbitspace._array import to_numpy
from orbitspace._validation import check_positive_int, check_random_state
from orbitspace.diagnostics._common import as_feature_matrix

__all__ = ["ProbeResult", "probe", "PROBES", "TASKS"]

PROBES = ("linear", "knn", "mlp")
TASKS = ("classification", "regression")
#: metrics reported per task (MAE is reported positive, lower is better)
METRICS = {"classification": ("accuracy",), "regression": ("r2", "mae")}


@dataclass(frozen=True)
class ProbeResult:
    """Cross-validated probe scores.

    Attributes
    ----------
    task : "classification" or "regression"
    scores : dict
        ``scores[probe][metric] == (mean, std)`` over the folds.
    fold_scores : dict
        ``fold_scores[probe][metric]`` is the list of per-fold scores.
    cv : int
        Number of folds.
    n_samples, n_features : int
    """

    task: str
    scores: dict[str, dict[str, tuple[float, float]]]
    fold_scores: dict[str, dict[str, list[float]]] = field(repr=False)
    cv: int
    n_samples: int
    n_features: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "cv": self.cv,
            "n_samples": self.n_samples,
            "n_features": self.n_features,
            "scores": {
                p: {m: {"mean": mu, "std": sd} for m, (mu, sd) in ms.items()}
                for p, ms in self.scores.items()
            },
            "fold_scores": {
                p: {m: list(v) for m, v in ms.items()} for p, ms in self.fold_scores.items()
            },
        }

    def table(self) -> str:
        """A plain-text table: one row per probe, ``mean ± std`` per metric."""
        metrics = METRICS[self.task]
        head = ["probe", *metrics]
        rows = [
            [p, *(f"{self.scores[p][m][0]:.4f} ± {self.scores[p][m][1]:.4f}" for m in metrics)]
            for p in self.scores
        ]
        widths = [max(len(r[c]) for r in [head, *rows]) for c in range(len(head))]

        def fmt(r: list[str]) -> str:
            return "  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip()

        lines = [fmt(head), fmt(["-" * w for w in widths]), *(fmt(r) for r in rows)]
        return "\n".join(lines)


def _make_probe(name: str, task: str, seed: int, n_train: int):
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    n_neighbors = max(1, min(5, n_train - 1))
    if task == "classification":
        models = {
            "linear": lambda: LogisticRegression(max_iter=2000),
            "knn": lambda: KNeighborsClassifier(n_neighbors=n_neighbors),
            "mlp": lambda: MLPClassifier(
                hidden_layer_sizes=(64,), max_iter=500, alpha=1e-3, random_state=seed
            ),
        }
    else:
        models = {
            "linear": lambda: Ridge(alpha=1.0),
            "knn": lambda: KNeighborsRegressor(n_neighbors=n_neighbors),
            "mlp": lambda: MLPRegressor(
                hidden_layer_sizes=(64,), max_iter=500, alpha=1e-3, random_state=seed
            ),
        }
    return make_pipeline(StandardScaler(), models[name]())


def probe(
    features: Any,
    y: Any,
    *,
    task: str = "classification",
    probes: tuple[str, ...] | list[str] = PROBES,
    cv: int = 5,
    random_state: Any = None,
) -> ProbeResult:
    """Cross-validate simple predictors of ``y`` from ``features``.

    Each probe is a scikit-learn pipeline ``StandardScaler -> model`` (the scaler is fitted
    inside each training fold): ``"linear"`` (logistic regression / ridge), ``"knn"``
    (5 neighbours) and ``"mlp"`` (one hidden layer of 64 units).  Folds are shuffled
    (stratified for classification) with a seed drawn from ``random_state``.

    Parameters
    ----------
    features : array of shape (n_samples, m)
        Trailing axes are flattened.
    y : array of shape (n_samples,)
        Class labels (classification) or real targets (regression).
    task : "classification" or "regression"
        Classification reports accuracy; regression reports R² and mean absolute error.
    probes : sequence of "linear", "knn", "mlp"
    cv : int
        Number of folds (>= 2).
    random_state : None, int or numpy Generator

    Returns
    -------
    ProbeResult

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 30)
    >>> F = rng.normal(size=(60, 3)) + 4 * y[:, None]
    >>> res = probe(F, y, probes=("linear",), cv=3, random_state=0)
    >>> res.scores["linear"]["accuracy"][0]
    1.0
    """
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}; received {task!r}")
    if isinstance(probes, str):
        probes = (probes,)
    probes = tuple(probes)
    unknown = [p for p in probes if p not in PROBES]
    if unknown or not probes:
        raise ValueError(f"probes must be a non-empty subset of {PROBES}; received {probes!r}")
    cv = check_positive_int(cv, "cv", minimum=2)
    F = as_feature_matrix(features, "features")
    y_n = to_numpy(y)
    if y_n.ndim != 1 or y_n.shape[0] != F.shape[0]:
        raise ValueError(
            f"y must have shape ({F.shape[0]},) to match features {F.shape}; received {y_n.shape}"
        )
    if task == "regression":
        y_n = y_n.astype(float)
        if not np.all(np.isfinite(y_n)):
            raise ValueError("y must be finite for regression")
    else:
        _, counts = np.unique(y_n, return_counts=True)
        if len(counts) < 2:
            raise ValueError(f"classification needs at least 2 classes; received {len(counts)}")
        if counts.min() < cv:
            raise ValueError(
                f"the smallest class has {counts.min()} samples but cv={cv} folds need at least "
                f"{cv} per class"
            )
    if F.shape[0] < cv:
        raise ValueError(f"cv={cv} folds need at least {cv} samples; received {F.shape[0]}")
    seed = int(check_random_state(random_state).integers(0, 2**31 - 1))

    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import KFold, StratifiedKFold, cross_validate

    if task == "classification":
        splitter = StratifiedKFold(n_splits=cv, shuffle=True, random_state=seed)
        scoring = {"accuracy": "accuracy"}
    else:
        splitter = KFold(n_splits=cv, shuffle=True, random_state=seed)
        scoring = {"r2": "r2", "mae": "neg_mean_absolute_error"}
    n_train = F.shape[0] - int(np.ceil(F.shape[0] / cv))
    scores: dict[str, dict[str, tuple[float, float]]] = {}
    folds: dict[str, dict[str, list[float]]] = {}
    for name in probes:
        model = _make_probe(name, task, seed, n_train)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=ConvergenceWarning)
            out = cross_validate(model, F, y_n, cv=splitter, scoring=scoring, error_score="raise")
        scores[name], folds[name] = {}, {}
        for metric in METRICS[task]:
            vals = np.asarray(out[f"test_{metric}"], dtype=float)
            if metric == "mae":
                vals = -vals
            folds[name][metric] = vals.tolist()
            scores[name][metric] = (float(vals.mean()), float(vals.std()))
    return ProbeResult(
        task=task,
        scores=scores,
        fold_scores=folds,
        cv=cv,
        n_samples=int(F.shape[0]),
        n_features=int(F.shape[1]),
    )
