"""Block invariants of actions given by their components: norms and group pooling.

A *copy* is one copy of one isotypic component (``action.components()``); every map here gives
one feature per copy, in the order of the latent.
"""

from __future__ import annotations

import numpy as np

from orbitspace._array import ArrayLike, like
from orbitspace.groups import Action
from orbitspace.invariants._common import vector_latents
from orbitspace.invariants._traits import copies, passes_through

__all__ = ["norms", "group_pool", "n_copies", "has_regular", "POOL_REDUCTIONS"]

POOL_REDUCTIONS = ("max", "mean")


def n_copies(action: Action) -> int:
    """Number of copies of all components (the output size of :func:`norms`)."""
    return sum(c.multiplicity for c in action.components())


def has_regular(action: Action) -> bool:
    """The action has a component of kind ``"regular"`` (a field group pooling reduces)."""
    return action.has_components() and any(c.irrep.kind == "regular" for c in action.components())


def _need_components(action: Action, what: str) -> None:
    if not action.has_components():
        raise TypeError(
            f"{what} needs an action given as a sum of irreps (components()); received {action!r}"
        )


def _copy_features(Xn: np.ndarray, action: Action, pool: str | None) -> np.ndarray:
    cols = []
    for irrep, sl in copies(action):
        block = Xn[..., sl]
        if passes_through(irrep):
            cols.append(block[..., 0])  # invariant already: passed through, sign kept
        elif irrep.kind == "regular" and pool == "max":
            cols.append(block.max(axis=-1))
        elif irrep.kind == "regular" and pool == "mean":
            cols.append(block.mean(axis=-1))
        else:
            cols.append(np.sqrt((block**2).sum(axis=-1)))
    return np.stack(cols, axis=-1) if cols else np.zeros(Xn.shape[:-1] + (0,))


def norms(X: ArrayLike, action: Action) -> ArrayLike:
    """The norm of every copy of every component, as escnn's ``NormPool`` / e3nn's ``Norm``.

    1-D trivial irreps (invariant scalars) pass through unchanged (their norm would lose the
    sign).  1-Lipschitz in the quotient distance; lossy whenever two copies can turn
    independently (e.g. two SO(2) blocks: the relative phase is lost).

    Parameters
    ----------
    X : array of shape (..., dim)
    action : Action with components (``action.has_components()``)

    Returns
    -------
    array of shape (..., n_copies), copies in the order of ``action.components()``

    Examples
    --------
    >>> from orbitspace import SO2
    >>> norms(np.array([2.0, 3.0, 4.0]), SO2("1x0 + 1x1")).tolist()
    [2.0, 5.0]
    """
    _need_components(action, "norms")
    return like(_copy_features(vector_latents(X, action), action, None), X)


def group_pool(X: ArrayLike, action: Action, *, reduction: str = "max") -> ArrayLike:
    """Max (or mean) over each regular field, as escnn's ``GroupPooling``.

    Copies of the other irreps, which have no group axis to pool over, are treated as in
    :func:`norms` (1-D trivial irreps pass through, other copies give their norm).  Actions
    without a regular component are refused (use :func:`norms`).

    Parameters
    ----------
    X : array of shape (..., dim)
    action : Action with a component of kind ``"regular"`` (e.g. ``Cyclic(N, "kxregular")``)
    reduction : {"max", "mean"}

    Returns
    -------
    array of shape (..., n_copies)

    Examples
    --------
    >>> from orbitspace import Cyclic
    >>> group_pool(np.array([1.0, 5.0, 2.0, 0.0]), Cyclic(4)).tolist()
    [5.0]
    """
    if not has_regular(action):
        raise TypeError(
            f"group_pool needs an action with a regular field (e.g. Cyclic(N, '1xregular')); "
            f"received {action!r}; use 'norms' instead"
        )
    if reduction not in POOL_REDUCTIONS:
        raise ValueError(f"reduction must be one of {POOL_REDUCTIONS}; received {reduction!r}")
    return like(_copy_features(vector_latents(X, action), action, reduction), X)
