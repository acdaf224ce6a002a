"""S_n × G: permute the nodes of node latents and act on every node's features by G."""

from __future__ import annotations

from typing import Any

import numpy as np

from orbitspace._array import ArrayLike, like, to_numpy
from orbitspace.groups._base import Action
from orbitspace.groups._elements import ProductElement
from orbitspace.groups._registry import register_action
from orbitspace.groups.permutation import Permutation

__all__ = ["Product"]


@register_action("Product(Permutation(9), SO3('1x1o'))")
class Product(Action):
    """The direct product S_n × G on node latents ``(..., n_nodes, G.dim)``.

    A group element ``(p, g)`` permutes the rows (``X[..., p[i], :]`` goes to row ``i``, as
    :class:`Permutation`) and acts on every row by the same ``g`` of the feature action G:
    ``act((p, g), X)[..., i, :] == G.act(g, X[..., p[i], :])``.  This is the symmetry of 3-D
    per-atom features (S_n × SO(3)), of planar point clouds (S_n × SO(2)), of node features
    with a finite symmetry (S_n × C_N).

    Parameters
    ----------
    permutation : Permutation or int
        The node factor; a ``Permutation`` with ``node_types`` restricts matching to nodes of
        the same type (atoms of one element).
    feature_action : Action
        G, a vector action (``event_ndim == 1``) on each node's features.

    Notes
    -----
    Group elements are :class:`~orbitspace.groups.ProductElement` ``(perm, g)``, batched.

    Examples
    --------
    >>> from orbitspace.groups import SO2
    >>> rho = Product(Permutation(3), SO2("1x1"))
    >>> rho
    Product(Permutation(3), SO2('1x1'))
    >>> rho.event_shape
    (3, 2)
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 0.0]])
    >>> rho.act(ProductElement(np.array([2, 0, 1]), np.array(np.pi / 2)), X).round(6).tolist()
    [[0.0, 2.0], [0.0, 1.0], [-1.0, 0.0]]
    """

    event_ndim = 2

    def __init__(self, permutation: Permutation | int, feature_action: Action) -> None:
        if not isinstance(permutation, Permutation):
            permutation = Permutation(permutation)
        if not isinstance(feature_action, Action) or feature_action.event_ndim != 1:
            raise TypeError(
                "Product(permutation, feature_action): feature_action must be a vector action "
                f"(event_ndim 1) such as SO3('1x1o'); received {feature_action!r}"
            )
        object.__setattr__(self, "permutation", permutation)
        object.__setattr__(self, "factor", feature_action)
        object.__setattr__(self, "n_nodes", permutation.n_nodes)
        self._freeze()

    permutation: Permutation
    factor: Action

    # -- traits ----------------------------------------------------------------------------
    @property
    def dim(self) -> int:
        return self.n_nodes  # type: ignore[return-value]

    @property
    def event_shape(self) -> tuple[int | None, ...]:
        return (self.n_nodes, self.factor.dim)

    @property
    def feature_action(self) -> Action:
        return self.factor

    @property
    def node_types(self) -> np.ndarray | None:
        return self.permutation.node_types

    @property
    def element_shape(self) -> tuple[int, ...]:
        return (self.n_nodes,)  # the permutation part; g carries G.element_shape

    @property
    def order(self) -> int | None:
        if self.factor.order is None:
            return None
        return self.permutation.order * self.factor.order

    @property
    def group_name(self) -> str:
        return f"{self.permutation.group_name} × {self.factor.group_name}"

    @property
    def is_trivial(self) -> bool:
        return self.permutation.is_trivial and self.factor.is_trivial

    def describe(self) -> str:
        return (
            f"the product {self.group_name}: {self.permutation.describe()}, and every node's "
            f"features transformed by the same element of {self.factor.describe()}"
        )

    def _key(self) -> tuple:
        return (self.permutation, self.factor)

    def __repr__(self) -> str:
        return f"Product({self.permutation!r}, {self.factor!r})"

    # -- elements --------------------------------------------------------------------------
    @property
    def _g_ndim(self) -> int:
        return len(self.factor.element_shape)

    def element(self, perm: Any, g: Any) -> ProductElement:
        """The element ``(perm, g)`` (batched), checked."""
        p = self.permutation._elem(perm)
        gg = to_numpy(g)
        if gg.dtype == object:
            raise TypeError(f"{self!r}: g must be an array of {self.factor!r} elements")
        k = self._g_ndim
        batch = np.broadcast_shapes(p.shape[:-1], gg.shape[: gg.ndim - k])
        p = np.broadcast_to(p, batch + p.shape[-1:])
        gg = np.broadcast_to(gg, batch + gg.shape[gg.ndim - k :])
        return ProductElement(np.array(p), np.array(gg), k)

    def _split(self, e: Any) -> ProductElement:
        if isinstance(e, ProductElement):
            return self.element(e.perm, e.g)
        if isinstance(e, (tuple, list)) and len(e) == 2:
            return self.element(e[0], e[1])
        raise TypeError(
            f"{self!r}: a group element is a ProductElement(perm, g) or a pair (perm, g); "
            f"received {type(e).__name__}"
        )

    def identity(self) -> ProductElement:
        return self.element(self.permutation.identity(), self.factor.identity())

    def compose(self, a: Any, b: Any) -> ProductElement:
        a, b = self._split(a), self._split(b)
        return self.element(self.permutation.compose(a.perm, b.perm), self.factor.compose(a.g, b.g))

    def inverse(self, a: Any) -> ProductElement:
        a = self._split(a)
        return self.element(self.permutation.inverse(a.perm), self.factor.inverse(a.g))

    def sample(self, n: int | None = None, random_state: Any = None) -> ProductElement:
        from orbitspace._validation import check_random_state

        rng = check_random_state(random_state)
        return self.element(self.permutation.sample(n, rng), self.factor.sample(n, rng))

    def elements(self) -> ProductElement:
        if self.order is None:
            raise ValueError(f"{self!r} is an infinite group: it has no finite list of elements")
        P = self.permutation.elements()
        G = self.factor.elements()
        k = self._g_ndim
        ip, ig = np.meshgrid(np.arange(len(P)), np.arange(G.shape[0]), indexing="ij")
        return self.element(P[ip.ravel()], G[ig.ravel()].reshape((-1,) + G.shape[G.ndim - k :]))

    # -- the representation ----------------------------------------------------------------
    def matrix(self, e: Any) -> np.ndarray:
        """``kron(P, ρ(g))``, shape ``batch + (n·dim, n·dim)``, acting on row-major flattened
        latents ``X.reshape(..., n_nodes * dim)``."""
        e = self._split(e)
        P = self.permutation.matrix(e.perm)
        M = self.factor.matrix(e.g)
        n, d = self.n_nodes, self.factor.dim
        out = np.einsum("...ij,...ab->...iajb", P, M)
        return out.reshape(out.shape[:-4] + (n * d, n * d))

    def act(self, e: Any, X: ArrayLike) -> ArrayLike:
        Xn = self.check_latents(X)
        e = self._split(e)
        moved = np.asarray(self.permutation.act(e.perm, Xn))
        k = self._g_ndim
        g = np.expand_dims(e.g, axis=e.g.ndim - k)  # one node axis: the same g on every node
        return like(np.asarray(self.factor.act(g, moved)), X)

    def permute_mask(self, e: Any, mask: Any) -> np.ndarray:
        return self.permutation.permute_mask(self._split(e).perm, mask)

    def check_latents(self, X: Any, name: str = "X", *, allow_nan: bool = False) -> np.ndarray:
        arr = self.permutation.check_latents(X, name, allow_nan=allow_nan)
        if arr.shape[-1] != self.factor.dim:
            raise ValueError(
                f"{self!r} acts on node features of dim {self.factor.dim} but "
                f"{name}.shape[-1] is {arr.shape[-1]} ({name} has shape {arr.shape})"
            )
        return arr
