"""Input handling shared by the invariant maps: latents checked against the action's traits,
node masks, batch flattening, chunking and the output sizes the declarations need."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from orbitspace._validation import check_array
from orbitspace.groups import Action, apply_node_mask, check_node_mask

__all__ = [
    "latents",
    "node_latents",
    "node_mask",
    "vector_latents",
    "flat_batch",
    "chunked",
    "map_chunks",
    "event_size",
    "need_d",
    "acts_on_nodes",
    "unit_rows",
    "need_param",
]


def acts_on_nodes(action: Action) -> bool:
    """The action permutes nodes ``(..., n_nodes, d)`` and leaves each node's channels alone.

    Typed permutations (``node_types``, a Young subgroup) are left out: these maps and their
    declarations are for the whole symmetric group (sorting over all nodes is invariant under
    the subgroup too, but no longer isometric for it).
    """
    return (
        action.node_axis is not None and action.feature_action is None and action.node_types is None
    )


def node_mask(mask: Any, X: np.ndarray, name: str = "X") -> np.ndarray | None:
    """A boolean node mask of shape ``X.shape[:-1]`` (True = real node), or None."""
    return check_node_mask(mask, X.shape, name=name)


def node_latents(X: Any, mask: Any = None, action: Action | None = None) -> np.ndarray:
    """Node latents ``(..., n_nodes, d)`` as float64 numpy with padded rows set to zero
    (checked against ``action``'s number of nodes when it is given)."""
    Xn = action.check_latents(X) if action is not None else check_array(X, "X", min_ndim=2)
    node_mask(mask, Xn)
    return apply_node_mask(Xn, mask)


def vector_latents(X: Any, action: Action, mask: Any = None) -> np.ndarray:
    """Vector latents ``(..., dim)`` checked against ``action`` (which takes no node mask)."""
    if action.node_axis is not None:
        raise TypeError(
            f"expected an action on vectors (..., dim); received {action!r}, which acts on "
            "node sets (..., n_nodes, d)"
        )
    if mask is not None:
        raise ValueError(
            f"node masks apply to actions on node sets only; received action {action!r}"
        )
    return action.check_latents(X)


def latents(X: Any, action: Action, mask: Any = None) -> np.ndarray:
    """``X`` as float64 numpy checked against ``action`` (node masks zero padded rows)."""
    if action.node_axis is not None:
        return node_latents(X, mask, action)
    return vector_latents(X, action, mask)


def need_d(action: Action, d: int | None) -> int:
    """The channel count of node latents: ``d``, or the one the action fixes."""
    if d is None:
        d = action.feature_dim
    if d is None:
        raise ValueError(f"properties on {action!r} need d (channels per node); received d=None")
    if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 1:
        raise ValueError(f"d must be a positive int; received {d!r}")
    return int(d)


def event_size(action: Action, d: int | None = None) -> int:
    """Number of real coordinates of one latent (``dim``, or ``n_nodes * d``)."""
    if action.node_axis is not None:
        return int(action.n_nodes) * need_d(action, d)
    return int(np.prod(action.event_shape))


def flat_batch(Xn: np.ndarray, event_ndim: int) -> tuple[np.ndarray, tuple[int, ...]]:
    """Reshape ``(..., *event)`` to ``(N, *event)``; also return the batch shape."""
    batch = Xn.shape[: Xn.ndim - event_ndim]
    return Xn.reshape((-1,) + Xn.shape[Xn.ndim - event_ndim :]), batch


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


def unit_rows(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Gaussian draws of ``shape`` with each row (axis 0 entry) scaled to unit norm."""
    G = rng.standard_normal(shape)
    axes = tuple(range(1, len(shape)))
    return G / np.sqrt((G**2).sum(axis=axes, keepdims=True))


def need_param(params: dict, key: str, name: str) -> Any:
    """``params[key]``, or a ValueError saying that map ``name`` needs its fitted ``key``."""
    if key not in params:
        raise ValueError(
            f"params for {name!r} must hold {key!r} (call fit first); received keys "
            f"{sorted(params)}"
        )
    return params[key]
