"""Nearest neighbours under the exact quotient distance (a thin wrapper of the quotient API)."""

from __future__ import annotations

from typing import Any

import numpy as np

from orbitspace.groups import Action
from orbitspace.quotient import quotient_knn

__all__ = ["quotient_nearest_neighbors"]


def quotient_nearest_neighbors(
    X: Any,
    k: int,
    *,
    action: Action | str,
    Y: Any = None,
    method: str = "auto",
) -> tuple[Any, np.ndarray]:
    """The ``k`` nearest orbits of each row of ``X`` among the rows of ``Y`` (default ``X``).

    Same as :func:`orbitspace.quotient.quotient_knn`: with ``Y`` omitted each point is excluded
    from its own neighbours.

    Parameters
    ----------
    X : array of shape (n_samples, ...event)
    k : int
    action : Action or its repr string
    Y : array of shape (n_reference, ...event), optional
    method : "auto" or "exhaustive"

    Returns
    -------
    distances : array of shape (n_samples, k), ascending (caller's array kind)
    indices : int array of shape (n_samples, k)

    Examples
    --------
    >>> import numpy as np
    >>> from orbitspace import Permutation
    >>> X = np.array([[[0.0], [1.0]], [[1.0], [0.0]], [[5.0], [5.0]]])
    >>> d, i = quotient_nearest_neighbors(X, 1, action=Permutation(2))
    >>> i[:, 0].tolist(), d[:, 0].round(6).tolist()
    ([1, 0, 0], [0.0, 0.0, 6.403124])
    """
    return quotient_knn(X, k, action=action, Y=Y, method=method)
