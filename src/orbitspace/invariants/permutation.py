"""Invariants of S_n acting on node latents ``X`` of shape ``(..., n_nodes, d)``.

Every function accepts numpy or torch, zeroes padded rows when given a node mask
``(..., n_nodes)`` (True = real node; as :func:`orbitspace.apply_node_mask`), and returns features
``(..., m)`` of the caller's kind: the batch dims are kept, the node and channel axes flattened.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from orbitspace._array import ArrayLike, like
from orbitspace._validation import check_array
from orbitspace.invariants._common import node_latents, node_mask

__all__ = ["sort", "lexsort", "channel_sort", "sorted_projections", "node_pool"]

REDUCTIONS = ("sum", "mean", "max")


def _flat(Z: np.ndarray) -> np.ndarray:
    return Z.reshape(Z.shape[:-2] + (-1,))


def sort(X: ArrayLike, *, mask: Any = None) -> ArrayLike:
    """Sort the node values of one-channel node latents: the isometric cross-section of S_n.

    By the rearrangement inequality ``min_σ ‖x − σy‖ = ‖sort(x) − sort(y)‖``.

    Parameters
    ----------
    X : array of shape (..., n_nodes, 1)
        Node latents with a single channel (for ``d > 1`` use :func:`lexsort`,
        :func:`sorted_projections` or :func:`channel_sort`).
    mask : array of shape (..., n_nodes), optional

    Returns
    -------
    array of shape (..., n_nodes), ascending

    Examples
    --------
    >>> sort(np.array([[3.0], [1.0], [2.0]])).tolist()
    [1.0, 2.0, 3.0]
    """
    Xn = node_latents(X, mask)
    if Xn.shape[-1] != 1:
        raise ValueError(
            f"sort needs one channel per node (d = 1); received X of shape {Xn.shape} "
            f"(d = {Xn.shape[-1]}); use 'lexsort' (a cross-section), 'sorted_projections' "
            "or 'channel_sort' for d > 1"
        )
    return like(np.sort(Xn[..., 0], axis=-1), X)


def lexsort(X: ArrayLike, *, mask: Any = None) -> ArrayLike:
    """Sort the rows (nodes) lexicographically: channel 0 first, ties broken by channel 1, ...

    A cross-section (the output is a reordering of the rows, hence in the orbit), so it is
    injective on orbits, but discontinuous for ``d >= 2`` where channel-0 values tie.

    Parameters
    ----------
    X : array of shape (..., n_nodes, d)
    mask : array of shape (..., n_nodes), optional

    Returns
    -------
    array of shape (..., n_nodes * d): the sorted rows, flattened row by row

    Examples
    --------
    >>> lexsort(np.array([[1.0, 0.0], [0.0, 5.0], [0.0, 2.0]])).tolist()
    [0.0, 2.0, 0.0, 5.0, 1.0, 0.0]
    """
    Xn = node_latents(X, mask)
    keys = [Xn[..., c] for c in range(Xn.shape[-1] - 1, -1, -1)]  # last key is primary
    order = np.lexsort(keys, axis=-1)
    out = np.take_along_axis(Xn, order[..., None], axis=-2)
    return like(_flat(out), X)


def channel_sort(X: ArrayLike, *, mask: Any = None) -> ArrayLike:
    """Sort each channel separately along the nodes (a 1-Lipschitz baseline).

    Invariant and 1-Lipschitz in the quotient distance, but NOT injective for ``d >= 2``:
    ``[[0, 0], [1, 1]]`` and ``[[0, 1], [1, 0]]`` are different orbits with the same image.

    Parameters
    ----------
    X : array of shape (..., n_nodes, d)
    mask : array of shape (..., n_nodes), optional

    Returns
    -------
    array of shape (..., n_nodes * d): the column-sorted matrix, flattened row by row

    Examples
    --------
    >>> channel_sort(np.array([[0.0, 1.0], [1.0, 0.0]])).tolist()
    [0.0, 0.0, 1.0, 1.0]
    """
    Xn = node_latents(X, mask)
    return like(_flat(np.sort(Xn, axis=-2)), X)


def sorted_projections(X: ArrayLike, directions: Any, *, mask: Any = None) -> ArrayLike:
    """Sort the projections of the nodes on ``m`` directions: ``sort(X a_j)`` along the nodes.

    Features are scaled by ``1/sqrt(m)`` so the map is 1-Lipschitz in the quotient distance
    (each ``sort(X a)`` with ``‖a‖ = 1`` is).  With ``m >= n_nodes (d − 1) + 1`` generic
    directions the map separates orbits (Balan, Tsoukanis et al., *Quantitative bounds for
    sorting-based permutation-invariant embeddings*, 2025), and an injective sorting embedding
    is bi-Lipschitz (Balan & Tsoukanis, *Stability of sorting based embeddings*, 2024); the
    lower constant is not known in closed form.

    Parameters
    ----------
    X : array of shape (..., n_nodes, d)
    directions : array of shape (d, m)
        Unit directions as columns (see ``REGISTRY["sorted_projections"].fit``).
    mask : array of shape (..., n_nodes), optional

    Returns
    -------
    array of shape (..., n_nodes * m): ``sort(X A, axis=nodes) / sqrt(m)`` flattened row by row

    Examples
    --------
    >>> X = np.array([[1.0, 0.0], [0.0, 2.0]])
    >>> sorted_projections(X, np.eye(2)).round(3).tolist()
    [0.0, 0.0, 0.707, 1.414]
    """
    Xn = node_latents(X, mask)
    A = check_array(directions, "directions", min_ndim=2)
    if A.ndim != 2 or A.shape[0] != Xn.shape[-1]:
        raise ValueError(
            f"directions must have shape (d, m) = ({Xn.shape[-1]}, m) for X of shape "
            f"{Xn.shape}; received shape {A.shape}"
        )
    proj = np.sort(Xn @ A, axis=-2) / np.sqrt(max(A.shape[1], 1))
    return like(_flat(proj), X)


def node_pool(X: ArrayLike, *, reduction: str = "sum", mask: Any = None) -> ArrayLike:
    """Pool the nodes: sum, mean or max of each channel over the (real) nodes.

    With a mask, padded nodes are left out: ``mean`` divides by the number of real nodes and
    ``max`` ignores padded rows (a graph with no real node pools to 0).

    Parameters
    ----------
    X : array of shape (..., n_nodes, d)
    reduction : {"sum", "mean", "max"}
    mask : array of shape (..., n_nodes), optional

    Returns
    -------
    array of shape (..., d)

    Examples
    --------
    >>> node_pool(np.array([[1.0, 2.0], [3.0, 0.0]]), reduction="mean").tolist()
    [2.0, 1.0]
    """
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}; received {reduction!r}")
    Xn = node_latents(X, mask)
    m = node_mask(mask, Xn)
    if m is None:
        m = np.ones(Xn.shape[:-1], dtype=bool)
    if reduction == "sum":
        out = Xn.sum(axis=-2)
    elif reduction == "mean":
        count = m.sum(axis=-1)[..., None]
        out = Xn.sum(axis=-2) / np.maximum(count, 1)
    else:
        out = np.where(m[..., None], Xn, -np.inf).max(axis=-2)
        out = np.where(np.isfinite(out), out, 0.0)
    return like(out, X)
