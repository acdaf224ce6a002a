"""The common interface of every group action (value types, no arrays held)."""

from __future__ import annotations

import abc
from typing import Any

import numpy as np

from orbitspace._array import ArrayLike, like
from orbitspace._validation import check_array
from orbitspace.groups._components import Component, Irrep
from orbitspace.groups._repstring import format_terms

__all__ = ["Action", "VectorAction", "BlockAction", "Component", "Irrep"]


class Action(abc.ABC):
    """A compact group acting orthogonally on latent codes.

    Subclasses are immutable value types: equal when they describe the same action, hashable,
    and their ``repr`` parses back with :func:`orbitspace.parse_action`.

    Group elements are arrays whose leading (batch) shape broadcasts against the batch shape of
    the latents (``X.shape[:-event_ndim]``).
    """

    #: number of trailing axes of a latent the group acts on (1 for vectors, 2 for node sets)
    event_ndim: int = 1
    #: number of nodes for actions on node sets ``(..., n_nodes, channels)``, else None
    n_nodes: int | None = None
    #: the type of each node slot when only nodes of one type may be matched, else None
    node_types: Any = None
    #: shape of one group element (``()`` for angles and indices, ``(n_nodes,)`` for
    #: permutations, ``(3, 3)`` for rotation matrices)
    element_shape: tuple[int, ...] = ()

    @property
    @abc.abstractmethod
    def dim(self) -> int:
        """Size of the acted-on axis (the vector dimension, or ``n_nodes``).

        Prefer :attr:`event_shape`, :attr:`n_nodes` and :attr:`feature_dim`, which say which.
        """

    # -- traits the rest of the library asks for (never the class) -------------------------
    @property
    def event_shape(self) -> tuple[int | None, ...]:
        """Shape of one latent: ``(dim,)`` for vectors, ``(n_nodes, channels)`` for node sets,
        with ``None`` where the size is free (the channels of a plain permutation)."""
        return (self.dim,)

    @property
    def node_axis(self) -> int | None:
        """The axis that carries nodes (``-2``), or None for vector latents."""
        return -2 if self.n_nodes is not None else None

    @property
    def feature_dim(self) -> int | None:
        """Size of the last axis if the action fixes it (None: any number of channels)."""
        return self.event_shape[-1]

    @property
    def feature_action(self) -> Action | None:
        """For node actions: the action on each node's features (None: channels untouched)."""
        return None

    @property
    def group_name(self) -> str:
        """The group as printed in reports, e.g. ``"SO(2)"``, ``"C_8"``, ``"S_9"``."""
        return type(self).__name__

    @property
    def is_trivial(self) -> bool:
        """Whether every element acts as the identity on the latents."""
        try:
            return all(c.irrep.trivial for c in self.components())
        except ValueError:
            return self.order == 1

    def components(self) -> tuple[Component, ...]:
        """The isotypic structure: the blocks in order, each a typed :class:`Component`.

        Raises ValueError for actions not given as a sum of irreps (permutations, arbitrary
        finite matrix groups).
        """
        raise ValueError(f"{self!r} is not given as a direct sum of irreps")

    def has_components(self) -> bool:
        """Whether :meth:`components` describes this action."""
        try:
            self.components()
        except ValueError:
            return False
        return True

    def describe(self) -> str:
        """A plain-language sentence saying what the group does to the codes."""
        return f"{self!r}, a group of orthogonal transformations of the codes"

    def repeated(self, n: int) -> Action:
        """The same group acting on ``n`` stacked copies of the codes (the direct sum), the
        codes concatenated: solvers of products align a whole node set with it."""
        raise ValueError(f"{self!r} has no stacked form (needed by product solvers)")

    def permute_mask(self, g: Any, mask: Any) -> np.ndarray:
        """The node mask after acting with ``g``: ``mask`` of the nodes of ``act(g, X)``."""
        raise ValueError(f"{self!r} acts on vectors, not node sets: it has no node mask")

    @property
    def is_finite(self) -> bool:
        return self.order is not None

    @property
    def order(self) -> int | None:
        """Number of group elements, or ``None`` for an infinite group."""
        return None

    # -- group structure -------------------------------------------------------------------
    @abc.abstractmethod
    def identity(self) -> np.ndarray:
        """The identity element."""

    @abc.abstractmethod
    def compose(self, g: Any, h: Any) -> np.ndarray:
        """The product ``g h``: ``act(compose(g, h), X) == act(g, act(h, X))``."""

    @abc.abstractmethod
    def inverse(self, g: Any) -> np.ndarray:
        """The inverse element(s)."""

    @abc.abstractmethod
    def sample(self, n: int | None = None, random_state: Any = None) -> np.ndarray:
        """``n`` elements drawn from the Haar measure (one element when ``n`` is None)."""

    def elements(self) -> np.ndarray:
        """All elements of a finite group, stacked along axis 0."""
        raise ValueError(f"{self!r} is an infinite group: it has no finite list of elements")

    # -- the representation ----------------------------------------------------------------
    @abc.abstractmethod
    def matrix(self, g: Any) -> np.ndarray:
        """The orthogonal matrix (or matrices, batched) of ``g``, shape ``(..., dim, dim)``."""

    def act(self, g: Any, X: ArrayLike) -> ArrayLike:
        """Apply ``g`` to latents ``X`` (batched; returns the caller's array kind)."""
        Xn = self.check_latents(X)
        M = self.matrix(g)
        if self.event_ndim == 1:
            out = np.einsum("...ij,...j->...i", M, Xn)
        else:
            out = np.einsum("...ij,...jk->...ik", M, Xn)
        return like(out, X)

    # -- validation ------------------------------------------------------------------------
    def check_latents(self, X: Any, name: str = "X", *, allow_nan: bool = False) -> np.ndarray:
        """Return ``X`` as float64 numpy with its acted-on axis checked against ``dim``."""
        arr = check_array(X, name, min_ndim=self.event_ndim, allow_nan=allow_nan)
        axis = -self.event_ndim
        if arr.shape[axis] != self.dim:
            what = "n_nodes" if self.event_ndim == 2 else "dim"
            raise ValueError(
                f"{self!r} has {what} {self.dim} but {name}.shape[{axis}] is {arr.shape[axis]}"
                f" ({name} has shape {arr.shape})"
            )
        return arr

    # -- value semantics -------------------------------------------------------------------
    @abc.abstractmethod
    def _key(self) -> tuple:
        """A hashable description that identifies the action."""

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._key() == self._key()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._key()))

    def __setattr__(self, name: str, value: Any) -> None:
        if getattr(self, "_frozen", False):
            raise AttributeError(f"{type(self).__name__} is immutable")
        object.__setattr__(self, name, value)

    def _freeze(self) -> None:
        object.__setattr__(self, "_frozen", True)


class VectorAction(Action):
    """An action on vectors ``(..., dim)``."""

    event_ndim = 1

    def blocks(self) -> list[tuple[str, int, int, int]]:
        """The blocks in order, as ``(kind, frequency, start, size)``; see :class:`BlockAction`."""
        raise ValueError(f"{self!r} is not given as a sum of irreps and regular blocks")


class BlockAction(VectorAction):
    """A vector action given as a direct sum of planar irreps and regular blocks.

    Subclasses set ``terms`` (the parsed representation string) and ``layout`` (its
    :class:`~orbitspace.groups._layout.BlockLayout`) in ``__init__``.
    """

    terms: tuple[tuple[int, int | str], ...]

    @property
    def rep(self) -> str:
        """The representation string, e.g. ``'4x0 + 8x1'``."""
        return format_terms(self.terms)

    @property
    def dim(self) -> int:
        return self.layout.dim  # type: ignore[attr-defined]

    def blocks(self) -> list[tuple[str, int, int, int]]:
        """The blocks in order, as ``(kind, frequency, start, size)``.

        ``kind`` is ``"irrep"`` or ``"regular"``; ``frequency`` is the irrep's frequency
        (``-1`` for regular blocks); ``start`` is the offset in the vector.
        """
        return list(self.layout.blocks)  # type: ignore[attr-defined]

    def _irrep(self, kind: int | str) -> Irrep:
        """The :class:`Irrep` of one term's kind (a frequency or ``"regular"``)."""
        raise NotImplementedError

    def components(self) -> tuple[Component, ...]:
        """One :class:`Component` per term of the representation string, in order.

        Examples
        --------
        >>> from orbitspace import Cyclic
        >>> [(c.irrep.label, c.irrep.dim, c.start, c.multiplicity)
        ...  for c in Cyclic(4, "1x2 + 2x1 + 1xregular").components()]
        [('2', 1, 0, 1), ('1', 2, 1, 2), ('regular', 4, 5, 1)]
        """
        out, pos = [], 0
        for mult, kind in self.terms:
            comp = Component(self._irrep(kind), pos, int(mult))
            out.append(comp)
            pos = comp.stop
        return tuple(out)

    def repeated(self, n: int) -> Action:
        return self._with_rep(format_terms(tuple(self.terms) * int(n)))

    def _with_rep(self, rep: str) -> Action:
        """The same group with another representation string."""
        raise NotImplementedError

    def describe(self) -> str:
        what = "; ".join(c.irrep.describe(c.multiplicity) for c in self.components())
        return f"{self.group_description} acting on {self.dim}-dimensional codes made of {what}"

    @property
    def group_description(self) -> str:
        """The group in words, e.g. ``"the rotation group SO(2) (every angle)"``."""
        return self.group_name
