"""Any finite group of orthogonal matrices."""

from __future__ import annotations

from typing import Any

import numpy as np

from orbitspace._array import to_numpy
from orbitspace._validation import check_array, check_random_state
from orbitspace.groups._base import VectorAction
from orbitspace.groups._registry import register_action

__all__ = ["FiniteGroup"]


@register_action("FiniteGroup([[[1.0, 0.0], [0.0, 1.0]], [[-1.0, 0.0], [0.0, -1.0]]])")
class FiniteGroup(VectorAction):
    """A finite group given by its orthogonal matrices, acting on ``(..., dim)`` latents.

    Parameters
    ----------
    matrices : array of shape (order, dim, dim)
        The group's matrices.  They are checked to be orthogonal, to contain the identity and
        to be closed under products and inverses (tolerance ``atol``).
    atol : float
        Tolerance for the orthogonality and closure checks.

    Notes
    -----
    Group elements are indices into ``matrices``.

    Examples
    --------
    >>> flip = FiniteGroup([[[1.0, 0.0], [0.0, 1.0]], [[-1.0, 0.0], [0.0, -1.0]]])
    >>> flip.order, flip.dim
    (2, 2)
    """

    def __init__(self, matrices: Any, atol: float = 1e-6) -> None:
        M = check_array(matrices, "matrices", min_ndim=3)
        if M.ndim != 3 or M.shape[1] != M.shape[2]:
            raise ValueError(
                f"matrices must have shape (order, dim, dim); received shape {M.shape}"
            )
        order, dim, _ = M.shape
        eye = np.eye(dim)
        ortho_err = np.abs(np.einsum("gji,gjk->gik", M, M) - eye).max(axis=(1, 2))
        if ortho_err.max() > atol:
            bad = int(ortho_err.argmax())
            raise ValueError(
                f"matrices[{bad}] is not orthogonal: max |M^T M - I| = {ortho_err[bad]:.3g} > atol={atol}"
            )
        flat = M.reshape(order, -1)
        ident = np.abs(flat - eye.reshape(-1)).max(axis=1)
        if ident.min() > atol:
            raise ValueError("matrices do not contain the identity; a group must")
        products = np.einsum("gij,hjk->ghik", M, M).reshape(order * order, -1)
        # index of each product in the list (nearest match), then check the match is exact
        dist = np.abs(products[:, None, :] - flat[None, :, :]).max(axis=2)
        table = dist.argmin(axis=1)
        if dist[np.arange(order * order), table].max() > atol:
            k = int(dist.min(axis=1).argmax())
            raise ValueError(
                f"matrices are not closed under products: matrices[{k // order}] @ "
                f"matrices[{k % order}] is not in the list (tolerance {atol})"
            )
        table = table.reshape(order, order)
        if np.unique(flat.round(8), axis=0).shape[0] != order:
            raise ValueError("matrices contain duplicates; give each group element once")
        identity = int(ident.argmin())
        inverse = np.argmax(table == identity, axis=1)
        object.__setattr__(self, "matrices", M)
        object.__setattr__(self, "_table", table)
        object.__setattr__(self, "_inverse", inverse)
        object.__setattr__(self, "_identity", identity)
        object.__setattr__(self, "atol", float(atol))
        M.setflags(write=False)
        self._freeze()

    matrices: np.ndarray

    @property
    def dim(self) -> int:
        return int(self.matrices.shape[1])

    @property
    def order(self) -> int:
        return int(self.matrices.shape[0])

    def _key(self) -> tuple:
        return (self.matrices.shape, self.matrices.tobytes())

    def __repr__(self) -> str:
        return f"FiniteGroup({self.matrices.tolist()!r})"

    @property
    def group_name(self) -> str:
        return f"a finite group of order {self.order}"

    @property
    def is_trivial(self) -> bool:
        return self.order == 1

    def describe(self) -> str:
        return (
            f"a finite group of {self.order} orthogonal {self.dim}×{self.dim} matrices "
            "acting on the codes"
        )

    def _elem(self, g: Any) -> np.ndarray:
        arr = to_numpy(g)
        if arr.dtype.kind not in "iu":
            raise TypeError(f"FiniteGroup elements are integer indices; received dtype {arr.dtype}")
        if arr.size and (arr.min() < 0 or arr.max() >= self.order):
            raise ValueError(f"FiniteGroup element index out of range 0..{self.order - 1}")
        return arr.astype(np.int64)

    def identity(self) -> np.ndarray:
        return np.asarray(self._identity)

    def compose(self, g: Any, h: Any) -> np.ndarray:
        return self._table[self._elem(g), self._elem(h)]

    def inverse(self, g: Any) -> np.ndarray:
        return self._inverse[self._elem(g)]

    def sample(self, n: int | None = None, random_state: Any = None) -> np.ndarray:
        return check_random_state(random_state).integers(0, self.order, size=n)

    def elements(self) -> np.ndarray:
        return np.arange(self.order)

    def matrix(self, g: Any) -> np.ndarray:
        return np.array(self.matrices[self._elem(g)])

    @classmethod
    def from_action(cls, action: VectorAction) -> FiniteGroup:
        """The matrices of a finite vector action (e.g. ``Cyclic``) as a ``FiniteGroup``."""
        return cls(action.matrix(action.elements()))
