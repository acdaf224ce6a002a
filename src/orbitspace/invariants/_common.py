"""Input handling shared by the invariant maps: batch flattening, node masks, chunking."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from orbitspace._validation import check_array
from orbitspace.groups import Action, Permutation, VectorAction, apply_node_mask, check_node_mask

__all__ = [
    "node_latents",
    "node_mask",
    "vector_latents",
    "flat_batch",
    "chunked",
    "event_size",
]


def node_mask(mask: Any, X: np.ndarray, name: str = "X") -> np.ndarray | None:
    """A boolean node mask of shape ``X.shape[:-1]`` (True = real node), or None."""
    return check_node_mask(mask, X.shape, name=name)


def node_latents(X: Any, mask: Any = None, n_nodes: int | None = None) -> np.ndarray:
    """Node latents ``(..., n_nodes, d)`` as float64 numpy with padded rows set to zero."""
    if n_nodes is not None:
        Xn = Permutation(n_nodes).check_latents(X)
    else:
        Xn = check_array(X, "X", min_ndim=2)
    node_mask(mask, Xn)
    return apply_node_mask(Xn, mask)


def vector_latents(X: Any, action: Action, mask: Any = None) -> np.ndarray:
    """Vector latents ``(..., dim)`` checked against ``action`` (which takes no node mask)."""
    if not isinstance(action, VectorAction):
        raise TypeError(f"expected a vector action (SO2, Cyclic, FiniteGroup); received {action!r}")
    if mask is not None:
        raise ValueError(
            f"node masks apply to actions on node sets only; received action {action!r}"
        )
    return action.check_latents(X)


def flat_batch(Xn: np.ndarray, event_ndim: int) -> tuple[np.ndarray, tuple[int, ...]]:
    """Reshape ``(..., *event)`` to ``(N, *event)``; also return the batch shape."""
    batch = Xn.shape[: Xn.ndim - event_ndim]
    return Xn.reshape((-1,) + Xn.shape[Xn.ndim - event_ndim :]), batch


def event_size(action: Action, d: int | None = None) -> int:
    """Number of real coordinates of one latent (``dim``, or ``n_nodes * d``)."""
    if isinstance(action, Permutation):
        if d is None:
            raise ValueError(f"{action!r} acts on node latents: pass d (channels per node)")
        return action.n_nodes * int(d)
    return action.dim


def chunked(n: int, size: int) -> Iterator[slice]:
    """Slices covering ``range(n)`` in pieces of at most ``size``."""
    size = max(1, int(size))
    for start in range(0, n, size):
        yield slice(start, min(n, start + size))


def map_chunks(fn: Callable[[np.ndarray], np.ndarray], Z: np.ndarray, size: int) -> np.ndarray:
    """Apply ``fn`` to row chunks of ``Z`` and stack the results along axis 0."""
    parts = [fn(Z[s]) for s in chunked(Z.shape[0], size)]
    if not parts:
        return fn(Z[:0])
    return np.concatenate(parts, axis=0)
