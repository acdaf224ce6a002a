"""Input handling shared by the scikit-learn shells: actions, latent layouts, validation.

Every estimator accepts latents in their natural layout, ``(n_samples, dim)`` for vector
actions and ``(n_samples, n_nodes, d)`` for actions on node sets (``Permutation``), and also
flat 2-D arrays ``(n_samples, n_features)`` as scikit-learn passes them: for an action on
``n_nodes`` nodes a flat row is read as ``n_nodes`` consecutive blocks of
``d = n_features / n_nodes`` channels (``X.reshape(n_samples, n_nodes, d)``, C order), so
``n_features`` must be a multiple of ``n_nodes`` (and equal ``n_nodes * feature_dim`` when the
action fixes the channels).  ``n_features_in_`` is always the flat width.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import sparse

from orbitspace._array import is_torch, to_numpy
from orbitspace.groups import Action, parse_action

__all__ = ["resolve_action", "validate_latents", "to_event_layout"]


def resolve_action(action: Any) -> Action:
    """An ``Action`` from an action or its repr string (``"Permutation(9)"``)."""
    if isinstance(action, (Action, str)):
        return parse_action(action)
    raise TypeError(
        f"action must be an orbitspace Action or its repr string such as \"SO2('2x0 + 3x1')\"; "
        f"received {type(action).__name__} {action!r}"[:300]
    )


def to_event_layout(X2: np.ndarray, action: Action) -> np.ndarray:
    """Reshape a flat ``(n_samples, n_features)`` matrix to the action's latent layout."""
    n, width = X2.shape
    if action.node_axis is not None:
        nodes, channels = action.n_nodes, action.feature_dim
        if channels is not None and width != nodes * channels:
            raise ValueError(
                f"{action!r} reads a flat row as {nodes} nodes of {channels} channels, so "
                f"n_features must be {nodes * channels}; received X with {width} features"
            )
        if width % nodes:
            raise ValueError(
                f"{action!r} reads a flat row as {nodes} nodes of d channels, so "
                f"n_features must be a multiple of {nodes}; received X with {width} "
                f"features"
            )
        return X2.reshape(n, nodes, width // nodes)
    if width != action.dim:
        raise ValueError(
            f"{action!r} has dim {action.dim} but X has {width} features (X.shape[1] is {width})"
        )
    return X2


def validate_latents(
    estimator: Any, X: Any, action: Action, *, reset: bool, y: Any = "no_validation", **kw: Any
) -> tuple[np.ndarray, bool, Any]:
    """Validate ``X`` (and ``y``) with scikit-learn's ``validate_data`` on the flat view.

    With ``estimator=None`` only ``check_array`` runs (nothing is recorded on an estimator).

    Returns
    -------
    latents : array of shape (n_samples, ...event), float64
    was_flat : bool
        Whether ``X`` came as a 2-D matrix (outputs then keep that layout).
    y : the validated target (``"no_validation"`` when not given; ``y=None`` is passed on to
        scikit-learn, which reports that a target is required)
    """
    from sklearn.utils.validation import validate_data

    if is_torch(X):
        X = to_numpy(X)
    was_flat = True
    ndim = getattr(X, "ndim", None)
    if ndim is None and isinstance(X, (list, tuple)):
        try:
            ndim = np.asarray(X).ndim
        except ValueError:  # ragged: let scikit-learn report it
            ndim = None
    if not sparse.issparse(X) and not hasattr(X, "iloc") and ndim is not None and ndim > 2:
        arr = np.asarray(X)
        expected = action.event_ndim + 1
        if arr.ndim != expected:
            raise ValueError(
                f"{action!r} takes latents of shape (n_samples, ...) with {expected} axes or flat "
                f"(n_samples, n_features); received X of shape {arr.shape}"
            )
        action.check_latents(arr)  # n_nodes must match before the flat view hides it
        X = arr.reshape(arr.shape[0], -1)
        was_flat = False
    if estimator is None:
        from sklearn.utils import check_array

        X2 = check_array(X, dtype=np.float64)
    elif isinstance(y, str) and y == "no_validation":
        X2 = validate_data(estimator, X, reset=reset, dtype=np.float64, **kw)
    else:
        X2, y = validate_data(estimator, X, y, reset=reset, dtype=np.float64, **kw)
    return to_event_layout(np.asarray(X2), action), was_flat, y
