"""Quotient geodesics: align, then walk the straight line."""

from __future__ import annotations

from typing import Any

import numpy as np

from orbitspace._array import like, to_numpy
from orbitspace.groups import Action, parse_action
from orbitspace.quotient import align

__all__ = ["geodesic_interpolation"]


def geodesic_interpolation(
    x: Any,
    y: Any,
    t: Any,
    action: Action | str,
    *,
    x_mask: Any = None,
    y_mask: Any = None,
) -> Any:
    """Points along a shortest path from ``[x]`` to ``[y]`` in the quotient.

    ``y`` is aligned to ``x`` (``y* = ρ(g*) y`` with ``‖x − y*‖ = d([x], [y])``) and the path is
    the straight line ``(1 − t) x + t y*``.  Along it ``d([x], [γ(t)]) = t · d([x], [y])`` and
    ``d([γ(t)], [y]) = (1 − t) · d([x], [y])``: the segment is a quotient geodesic, unlike the
    straight line between the raw codes.

    Parameters
    ----------
    x, y : arrays of the event shape (``(dim,)``, or ``(n_nodes, d)`` for node actions)
    t : float or array of shape (n_points,)
        Path parameters; 0 gives ``x`` and 1 the aligned ``y`` (a point of ``[y]``).  Values
        outside [0, 1] extrapolate.
    action : Action or its repr string
    x_mask, y_mask : arrays of shape (n_nodes,), optional
        Node masks (node actions only), passed to the alignment.

    Returns
    -------
    array of shape (n_points, ...event), the caller's array kind (of ``x``)

    Examples
    --------
    >>> import numpy as np
    >>> from orbitspace import Permutation
    >>> x = np.array([[0.0], [1.0]]); y = np.array([[3.0], [2.0]])
    >>> geodesic_interpolation(x, y, [0.0, 0.5, 1.0], Permutation(2))[..., 0].tolist()
    [[0.0, 1.0], [1.0, 2.0], [2.0, 3.0]]
    """
    action = parse_action(action)
    xn = action.check_latents(x, "x")
    yn = action.check_latents(y, "y")
    if xn.ndim != action.event_ndim or yn.shape != xn.shape:
        raise ValueError(
            f"x and y must be single latents of the same event shape for {action!r}; "
            f"received x.shape {xn.shape} and y.shape {yn.shape}"
        )
    tn = np.atleast_1d(to_numpy(t, float))
    if tn.ndim != 1:
        raise ValueError(f"t must be a float or a 1-D array; received shape {tn.shape}")
    if not np.all(np.isfinite(tn)):
        raise ValueError("t must be finite")
    res = align(xn, yn, action, x_mask=x_mask, y_mask=y_mask)
    y_star = np.asarray(res.Y_aligned)
    shape = (-1,) + (1,) * xn.ndim
    path = (1.0 - tn.reshape(shape)) * xn + tn.reshape(shape) * y_star
    return like(path, x)
