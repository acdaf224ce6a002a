"""The symmetric group S_n permuting the nodes of node latents ``(..., n_nodes, d)``."""

from __future__ import annotations

from typing import Any

import numpy as np

from orbitspace._array import ArrayLike, like, to_numpy
from orbitspace._validation import check_positive_int, check_random_state, describe
from orbitspace.groups._base import Action
from orbitspace.groups._registry import register_action

__all__ = ["Permutation", "apply_node_mask", "check_node_mask", "sort_nodes_by_type"]


@register_action("Permutation(9)")
class Permutation(Action):
    """S_n acting on node latents ``X`` of shape ``(..., n_nodes, d)`` by permuting axis -2.

    Group elements are index arrays ``p`` of shape ``(..., n_nodes)``; the convention is
    ``act(p, X)[..., i, :] == X[..., p[i], :]`` (the matrix ``P[i, p[i]] = 1``), so
    ``compose(g, h) == h[g]``.  The same permutation acts on every channel.

    Padded graphs: pass a node mask to the quotient and invariant functions, or zero the padded
    rows with :func:`apply_node_mask`; all slots then permute, as in graph space.

    Node types: ``node_types`` (one integer per node slot, e.g. the element of each atom)
    restricts the group to the permutations that keep every type (a Young subgroup), so only
    nodes of one type are matched.  The type of each slot is part of the action, the same for
    every code: order each graph's nodes by type first (:func:`sort_nodes_by_type`), so that
    graphs of one composition share one type vector.

    Examples
    --------
    >>> Permutation(9)
    Permutation(9)
    >>> Permutation(3).act([2, 0, 1], [[1.0], [2.0], [3.0]]).ravel().tolist()
    [3.0, 1.0, 2.0]
    >>> Permutation(4, node_types=(6, 6, 8, 8)).order
    4
    """

    event_ndim = 2

    def __init__(self, n_nodes: int, node_types: Any = None) -> None:
        n = check_positive_int(n_nodes, "n_nodes")
        object.__setattr__(self, "n_nodes", n)
        types = None
        if node_types is not None:
            t = np.asarray(node_types)
            if t.shape != (n,) or t.dtype.kind not in "iu":
                raise ValueError(
                    f"Permutation({n}): node_types must be {n} integers, one per node; "
                    f"received {describe(node_types)}"
                )
            types = tuple(int(v) for v in t)
        object.__setattr__(self, "_types", types)
        self._freeze()

    n_nodes: int

    @property
    def node_types(self) -> np.ndarray | None:
        """The type of each node slot, or None (all nodes interchangeable)."""
        return None if self._types is None else np.asarray(self._types, dtype=np.int64)

    def type_classes(self) -> list[np.ndarray]:
        """The node indices of each type, in order of type (one class if untyped)."""
        if self._types is None:
            return [np.arange(self.n_nodes)]
        t = self.node_types
        return [np.nonzero(t == v)[0] for v in np.unique(t)]

    @property
    def dim(self) -> int:
        return self.n_nodes

    @property
    def order(self) -> int:
        out = 1
        for c in self.type_classes():
            out *= int(np.prod(np.arange(1, len(c) + 1), dtype=object))
        return out

    def _key(self) -> tuple:
        return (self.n_nodes, self._types)

    def __repr__(self) -> str:
        if self._types is None:
            return f"Permutation({self.n_nodes})"
        return f"Permutation({self.n_nodes}, node_types={self._types!r})"

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
        if self._types is not None:
            t = self.node_types
            if not np.all(t[p] == t):
                raise ValueError(f"{self!r}: the permutation does not keep node types: {p!r}"[:300])
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
        if self._types is None:
            return np.argsort(rng.random(size + (self.n_nodes,)), axis=-1)
        t = self.node_types
        # a random order within each type: slots of type t (in index order) take the nodes of
        # type t in random order
        key = (t - t.min()) + rng.random(size + (self.n_nodes,))
        out = np.empty(size + (self.n_nodes,), dtype=np.int64)
        out[..., np.argsort(t, kind="stable")] = np.argsort(key, axis=-1)
        return out

    def elements(self) -> np.ndarray:
        if self.n_nodes > 8:
            raise ValueError(f"{self!r} has {self.order} elements; enumeration is for n_nodes <= 8")
        from itertools import permutations, product

        classes = self.type_classes()
        out = []
        for parts in product(*[list(permutations(c)) for c in classes]):
            p = np.empty(self.n_nodes, dtype=np.int64)
            for c, perm in zip(classes, parts):
                p[c] = perm
            out.append(p)
        out.sort(key=tuple)
        return np.array(out, dtype=np.int64)

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


def sort_nodes_by_type(X: Any, types: Any) -> tuple[np.ndarray, np.ndarray]:
    """Reorder each graph's nodes by type (stable), so that graphs of one composition share
    one type vector; returns ``(X_sorted, types_sorted)``.

    Parameters
    ----------
    X : array of shape (N, n_nodes, d)
    types : int array of shape (N, n_nodes) (or (n_nodes,) for all graphs)

    Returns
    -------
    X_sorted : array of shape (N, n_nodes, d)
    node_types : int array of shape (n_nodes,), the common sorted type vector

    Raises ValueError when the graphs do not all have the same composition (then no typed
    permutation relates them).

    Examples
    --------
    >>> X = np.arange(6.0).reshape(1, 3, 2)
    >>> Xs, t = sort_nodes_by_type(X, [[8, 6, 6]])
    >>> Xs[0, :, 0].tolist(), t.tolist()
    ([2.0, 4.0, 0.0], [6, 6, 8])
    """
    Xn = to_numpy(X, float)
    if Xn.ndim != 3:
        raise ValueError(f"X must have shape (N, n_nodes, d); received shape {Xn.shape}")
    t = np.asarray(types)
    if t.dtype.kind not in "iu":
        raise TypeError(f"types must be integers; received dtype {t.dtype}")
    t = np.broadcast_to(t, Xn.shape[:2]) if t.ndim == 1 else t
    if t.shape != Xn.shape[:2]:
        raise ValueError(f"types must have shape {Xn.shape[:2]}; received shape {t.shape}")
    order = np.argsort(t, axis=1, kind="stable")
    ts = np.take_along_axis(t, order, 1)
    if ts.shape[0] and not np.all(ts == ts[:1]):
        bad = int(np.nonzero(~np.all(ts == ts[:1], axis=1))[0][0])
        raise ValueError(
            f"graph {bad} has composition {ts[bad].tolist()} but graph 0 has {ts[0].tolist()}; "
            "typed matching needs one composition for all graphs"
        )
    return np.take_along_axis(Xn, order[:, :, None], 1), np.array(ts[0] if ts.shape[0] else [])
