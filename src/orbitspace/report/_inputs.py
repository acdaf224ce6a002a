"""Input checks of the standard analysis (:mod:`orbitspace.report.analysis`): latents, node
mask, labels and targets, each a one-line error naming what was expected and received."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from orbitspace._array import to_numpy
from orbitspace.groups import Action

__all__ = ["check_latents", "check_labels", "check_targets", "subsample"]


def check_latents(X: Any, action: Action, mask: Any) -> tuple[np.ndarray, np.ndarray | None]:
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


def check_labels(labels: Any, n: int) -> np.ndarray | None:
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


def check_targets(targets: Any, n: int, names: Sequence[str] | None) -> tuple[np.ndarray, list]:
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


def subsample(n: int, size: int, seed: int) -> np.ndarray:
    if size >= n:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).permutation(n)[:size])
