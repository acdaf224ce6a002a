"""Small helpers shared by the diagnostics: feature matrices and batched pair distances."""

from __future__ import annotations

from typing import Any

import numpy as np

from orbitspace._validation import check_array
from orbitspace.groups import Action
from orbitspace.quotient import quotient_distance

__all__ = ["as_feature_matrix", "pair_quotient_distances"]


def as_feature_matrix(
    F: Any, name: str = "features", *, n_samples: int | None = None
) -> np.ndarray:
    """Return features as a float64 matrix ``(n_samples, m)`` (trailing axes flattened)."""
    arr = check_array(F, name, min_ndim=1)
    if arr.ndim == 1:
        arr = arr[:, None]
    arr = arr.reshape(arr.shape[0], -1)
    if n_samples is not None and arr.shape[0] != n_samples:
        raise ValueError(
            f"{name} must have one row per sample: expected {n_samples} rows, "
            f"received shape {arr.shape}"
        )
    return arr


def pair_quotient_distances(
    X: np.ndarray,
    i: np.ndarray,
    j: np.ndarray,
    action: Action,
    *,
    mask: np.ndarray | None = None,
    chunk: int = 512,
) -> np.ndarray:
    """``d([X[i]], [X[j]])`` for index arrays ``i``, ``j`` (processed ``chunk`` pairs at a time)."""
    out = np.empty(len(i))
    for s in range(0, len(i), chunk):
        a, b = i[s : s + chunk], j[s : s + chunk]
        kw = {}
        if mask is not None and action.node_axis is not None:
            kw = {"x_mask": mask[a], "y_mask": mask[b]}
        out[s : s + chunk] = np.asarray(quotient_distance(X[a], X[b], action, **kw))
    return out
