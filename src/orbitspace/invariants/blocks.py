"""Block invariants of actions given by their components: norms and group pooling.

A *copy* is one copy of one isotypic component (``action.components()``); every map here gives
one feature per copy, in the order of the latent.

The work is one compiled pass over the latents (numba): the copies are grouped into *runs* of
consecutive copies of equal size and equal treatment, and each run is reduced inside the loop
over rows, with no temporary array and no Python loop over blocks.  float32 input stays
float32 (each block is accumulated in float64, then rounded once); other real input is
computed in float64.  Non-finite input is detected from the reductions themselves (a NaN or
an infinity reaches every sum it enters), so the latents are read once.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numba import njit

from orbitspace._array import ArrayLike, like
from orbitspace._validation import check_array
from orbitspace.groups import Action
from orbitspace.invariants._traits import copies, passes_through

__all__ = ["norms", "group_pool", "n_copies", "has_regular", "POOL_REDUCTIONS"]

POOL_REDUCTIONS = ("max", "mean")

# the treatment of one run of copies, as the compiled kernel reads it
_PASS, _NORM, _MAX, _MEAN = 0, 1, 2, 3


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


@lru_cache(maxsize=256)
def _runs(action: Action, pool: str | None) -> np.ndarray:
    """``(start, n_copies, size, op)`` of every run of consecutive copies of equal size and
    treatment, shape (n_runs, 4), in the order of the latent."""
    runs: list[list[int]] = []
    for irrep, sl in copies(action):
        if passes_through(irrep):
            op = _PASS  # invariant already: passed through, sign kept
        elif irrep.kind == "regular" and pool == "max":
            op = _MAX
        elif irrep.kind == "regular" and pool == "mean":
            op = _MEAN
        else:
            op = _NORM
        size = sl.stop - sl.start
        last = runs[-1] if runs else None
        if last and last[2] == size and last[3] == op and last[0] + last[1] * size == sl.start:
            last[1] += 1
        else:
            runs.append([sl.start, 1, size, op])
    out = np.array(runs, dtype=np.int64).reshape(-1, 4)
    out.setflags(write=False)
    return out


@njit(cache=True, nogil=True)
def _reduce_kernel(X, runs, out):  # pragma: no cover - compiled
    """One feature per copy for every row of ``X`` (n, dim) into ``out`` (n, n_copies);
    returns False when a reduction met a NaN or an infinity (the sums of a row, taken
    together, are finite exactly when every sum is)."""
    finite = True
    for i in range(X.shape[0]):
        o = 0
        check = 0.0
        for r in range(runs.shape[0]):
            start, mult, size, op = runs[r, 0], runs[r, 1], runs[r, 2], runs[r, 3]
            if op == _NORM:
                for c in range(mult):
                    s0 = start + c * size
                    acc = 0.0
                    for t in range(size):
                        v = np.float64(X[i, s0 + t])
                        acc += v * v
                    check += acc
                    out[i, o] = np.sqrt(acc)
                    o += 1
            elif op == _PASS:
                for c in range(mult):
                    v = np.float64(X[i, start + c])
                    check += v * 0.0
                    out[i, o] = v
                    o += 1
            else:
                for c in range(mult):
                    s0 = start + c * size
                    top = np.float64(X[i, s0])
                    acc = top
                    for t in range(1, size):
                        v = np.float64(X[i, s0 + t])
                        acc += v
                        top = v if v > top else top
                    check += acc * 0.0
                    out[i, o] = top if op == _MAX else acc / size
                    o += 1
        finite &= np.isfinite(check)
    return finite


def _vector_input(X: ArrayLike, action: Action) -> np.ndarray:
    """``X`` as numpy (float32 kept, other real dtypes as float64), checked against ``action``;
    finiteness is checked later, from the reductions."""
    if action.node_axis is not None:
        raise TypeError(
            f"expected an action on vectors (..., dim); received {action!r}, which acts on "
            "node sets (..., n_nodes, d)"
        )
    arr = check_array(X, "X", min_ndim=1, allow_nan=True, dtype=None)
    if arr.shape[-1] != action.dim:
        raise ValueError(
            f"{action!r} has dim {action.dim} but X.shape[-1] is {arr.shape[-1]}"
            f" (X has shape {arr.shape})"
        )
    if arr.dtype not in (np.float32, np.float64):
        arr = arr.astype(np.float64)
    return arr


def _copy_features(X: ArrayLike, action: Action, pool: str | None) -> ArrayLike:
    arr = _vector_input(X, action)
    runs = _runs(action, pool)
    flat = arr.reshape(-1, arr.shape[-1])
    out = np.empty((flat.shape[0], int(runs[:, 1].sum())), dtype=arr.dtype)
    if not _reduce_kernel(flat, runs, out) and not np.all(np.isfinite(arr)):
        bad = int(np.count_nonzero(~np.isfinite(arr)))
        raise ValueError(f"X must be finite; received {bad} NaN or inf value(s)")
    return like(out.reshape(arr.shape[:-1] + out.shape[-1:]), X)


def norms(X: ArrayLike, action: Action) -> ArrayLike:
    """The norm of every copy of every component, as escnn's ``NormPool`` / e3nn's ``Norm``.

    1-D trivial irreps (invariant scalars) pass through unchanged (their norm would lose the
    sign).  1-Lipschitz in the quotient distance; lossy whenever two copies can turn
    independently (e.g. two SO(2) blocks: the relative phase is lost).  Works from the
    components alone, so SO(3) / O(3) actions (e3nn irreps) are served too.

    Parameters
    ----------
    X : array of shape (..., dim); float32 stays float32 (each block summed in float64)
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
    return _copy_features(X, action, None)


def group_pool(X: ArrayLike, action: Action, *, reduction: str = "max") -> ArrayLike:
    """Max (or mean) over each regular field, as escnn's ``GroupPooling``.

    Copies of the other irreps, which have no group axis to pool over, are treated as in
    :func:`norms` (1-D trivial irreps pass through, other copies give their norm).  Actions
    without a regular component are refused (use :func:`norms`).

    Parameters
    ----------
    X : array of shape (..., dim); float32 stays float32
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
    return _copy_features(X, action, reduction)
