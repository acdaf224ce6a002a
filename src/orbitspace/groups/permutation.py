"""The symmetric group S_n permuting the nodes of node latents ``(..., n_nodes, d)``."""

from __future__ import annotations

from typing import Any

import numpy as np

from orbitspace._array import ArrayLike, like, to_numpy
from orbitspace._validation import check_positive_int, check_random_state, describe
from orbitspace.groups._base import Action
from orbitspace.groups._registry import register_action

__all__ = ["Permutation", "apply_node_mask", "check_node_mask"]


@register_action("Permutation(9)")
class Permutation(Action):
    """S_n acting on node latents ``X`` of shape ``(..., n_nodes, d)`` by permuting axis -2.

    Group elements are index arrays ``p`` of shape ``(..., n_nodes)``; the convention is
    ``act(p, X)[..., i, :] == X[..., p[i], :]`` (the matrix ``P[i, p[i]] = 1``), so
    ``compose(g, h) == h[g]``.  The same permutation acts on every channel.

    Padded graphs: pass a node mask to the quotient and invariant functions, or zero the padded
    rows with :func:`apply_node_mask`; all slots then permute, as in graph space.

    Examples
    --------
    >>> Permutation(9)
    Permutation(9)
    >>> Permutation(3).act([2, 0, 1], [[1.0], [2.0], [3.0]]).ravel().tolist()
    [3.0, 1.0, 2.0]
    """

    event_ndim = 2

    def __init__(self, n_nodes: int) -> None:
        object.__setattr__(self, "n_nodes", check_positive_int(n_nodes, "n_nodes"))
        self._freeze()

    n_nodes: int

    @property
    def dim(self) -> int:
        return self.n_nodes

    @property
    def order(self) -> int:
        return int(np.prod(np.arange(1, self.n_nodes + 1), dtype=object))

    def _key(self) -> tuple:
        return (self.n_nodes,)

    def __repr__(self) -> str:
        return f"Permutation({self.n_nodes})"

    @property
    def element_shape(self) -> tuple[int, ...]:
        return (self.n_nodes,)

    @property
    def event_shape(self) -> tuple[int | None, ...]:
        return (self.n_nodes, None)

    @property
    def group_name(self) -> str:
        return f"S_{self.n_nodes}"

    @property
    def is_trivial(self) -> bool:
        return self.n_nodes == 1

    def describe(self) -> str:
        return (
            f"the symmetric group S_{self.n_nodes} permuting the {self.n_nodes} nodes of "
            "each graph (rows of a code of shape (n_nodes, d)); the same permutation acts on "
            "every channel"
        )

    def permute_mask(self, g: Any, mask: Any) -> np.ndarray:
        """``mask[..., p[i]]`` at node i: the mask of ``act(p, X)`` (batched)."""
        p = self._elem(g)
        m = np.asarray(mask, dtype=bool)
        batch = np.broadcast_shapes(p.shape[:-1], m.shape[:-1])
        shape = batch + (self.n_nodes,)
        return np.take_along_axis(np.broadcast_to(m, shape), np.broadcast_to(p, shape), axis=-1)

    def _elem(self, g: Any) -> np.ndarray:
        p = to_numpy(g)
        if p.dtype.kind not in "iu":
            if p.dtype.kind == "f" and np.all(p == np.rint(p)):
                p = p.astype(np.int64)
            else:
                raise TypeError(
                    f"{self!r}: a permutation is an integer index array; received {describe(g)}"
                )
        if p.ndim < 1 or p.shape[-1] != self.n_nodes:
            raise ValueError(
                f"{self!r}: a permutation has shape (..., {self.n_nodes}); received shape {p.shape}"
            )
        if not np.all(np.sort(p, axis=-1) == np.arange(self.n_nodes)):
            raise ValueError(f"{self!r}: not a permutation of 0..{self.n_nodes - 1}: {p!r}"[:300])
        return p.astype(np.int64)

    def identity(self) -> np.ndarray:
        return np.arange(self.n_nodes)

    def compose(self, g: Any, h: Any) -> np.ndarray:
        g, h = self._elem(g), self._elem(h)
        batch = np.broadcast_shapes(g.shape[:-1], h.shape[:-1])
        shape = batch + (self.n_nodes,)
        return np.take_along_axis(np.broadcast_to(h, shape), np.broadcast_to(g, shape), axis=-1)

    def inverse(self, g: Any) -> np.ndarray:
        return np.argsort(self._elem(g), axis=-1)

    def sample(self, n: int | None = None, random_state: Any = None) -> np.ndarray:
        rng = check_random_state(random_state)
        size = () if n is None else (n,)
        return np.argsort(rng.random(size + (self.n_nodes,)), axis=-1)

    def elements(self) -> np.ndarray:
        if self.n_nodes > 8:
            raise ValueError(f"{self!r} has {self.order} elements; enumeration is for n_nodes <= 8")
        from itertools import permutations

        return np.array(list(permutations(range(self.n_nodes))), dtype=np.int64)

    def matrix(self, g: Any) -> np.ndarray:
        p = self._elem(g)
        return (p[..., :, None] == np.arange(self.n_nodes)).astype(float)

    def act(self, g: Any, X: ArrayLike) -> ArrayLike:
        Xn = self.check_latents(X)
        p = self._elem(g)
        batch = np.broadcast_shapes(p.shape[:-1], Xn.shape[:-2])
        Xb = np.broadcast_to(Xn, batch + Xn.shape[-2:])
        idx = np.broadcast_to(p, batch + (self.n_nodes,))[..., None]
        return like(np.take_along_axis(Xb, idx, axis=-2), X)


def apply_node_mask(X: Any, mask: Any, *, name: str = "X") -> np.ndarray:
    """Return node latents with padded rows (``mask == False``) set to zero.

    Parameters
    ----------
    X : array of shape (..., n_nodes, d)
    mask : array of shape (..., n_nodes), bool (True marks real nodes), or None

    Returns
    -------
    numpy array of shape (..., n_nodes, d)
    """
    Xn = to_numpy(X, float)
    m = check_node_mask(mask, Xn.shape, name=name)
    return Xn if m is None else np.where(m[..., None], Xn, 0.0)


def check_node_mask(mask: Any, shape: tuple[int, ...], *, name: str = "X") -> np.ndarray | None:
    """Return ``mask`` as a boolean array of shape ``shape[:-1]`` (True = real node), or None.

    ``shape`` is the shape of the node latents ``(..., n_nodes, d)``; 0/1 integer or float masks
    are accepted.
    """
    if mask is None:
        return None
    m = to_numpy(mask)
    if m.dtype != bool:
        if m.dtype.kind in "iuf" and np.all((m == 0) | (m == 1)):
            m = m.astype(bool)
        else:
            raise TypeError(
                f"node mask must be boolean (True = real node); received dtype {m.dtype}"
            )
    if len(shape) < 2 or m.shape != tuple(shape[:-1]):
        raise ValueError(
            f"node mask must have shape {tuple(shape[:-1])} (= {name}.shape[:-1]); "
            f"received shape {m.shape}"
        )
    return m
