"""The measuring stages of the standard analysis, shared by ``orbitspace analyze`` and the
case studies: invariance error, distortion against the exact quotient distance, probes.

Each takes the feature matrices (or maps) keyed by representation label and returns typed
results keyed the same way.

>>> import numpy as np
>>> F = {"a": np.random.default_rng(0).normal(size=(12, 2))}
>>> y = np.arange(12) % 2
>>> block = measure_probes(F, y, task="classification", probes=("knn",), cv=2, random_state=0)
>>> block.headline("a")[0], block.results["a"].cv
('knn', 2)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from orbitspace._progress import progress_bar
from orbitspace.diagnostics import Distortion, InvarianceError
from orbitspace.groups import Action
from orbitspace.report.results import ProbeBlock

__all__ = ["measure_invariance", "measure_distortion", "measure_probes"]


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
