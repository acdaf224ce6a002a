"""Group elements of product actions: a small batched container of the factors' elements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["ProductElement"]


@dataclass(frozen=True)
class ProductElement:
    """Elements ``(p, g)`` of S_n × G, batched: ``perm`` of shape ``batch + (n_nodes,)`` and
    ``g`` of shape ``batch + G.element_shape``.

    It indexes and reshapes over the batch like an array of elements, so code written for
    arrays of elements (``g[i]``, ``g.reshape(shape)``, ``g.shape``) works unchanged.

    Examples
    --------
    >>> e = ProductElement(np.array([[1, 0], [0, 1]]), np.array([0.5, 1.0]), 0)
    >>> e.shape, e[1].perm.tolist(), float(e[1].g)
    ((2,), [0, 1], 1.0)
    """

    perm: np.ndarray
    g: np.ndarray
    #: number of trailing axes of ``g`` that make one element of G (0 for angles, 2 for
    #: rotation matrices)
    g_ndim: int = 0

    def __post_init__(self) -> None:
        perm = np.asarray(self.perm)
        g = np.asarray(self.g)
        batch = perm.shape[:-1]
        gb = g.shape[: g.ndim - self.g_ndim]
        if batch != gb:
            raise ValueError(
                f"ProductElement: perm has batch shape {batch} but g has batch shape {gb}"
            )
        object.__setattr__(self, "perm", perm)
        object.__setattr__(self, "g", g)

    @property
    def shape(self) -> tuple[int, ...]:
        """The batch shape."""
        return self.perm.shape[:-1]

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, idx: Any) -> ProductElement:
        if not isinstance(idx, tuple):
            idx = (idx,)
        return ProductElement(self.perm[idx], self.g[idx], self.g_ndim)

    def reshape(self, *shape: Any) -> ProductElement:
        if len(shape) == 1 and isinstance(shape[0], tuple):
            shape = shape[0]
        shape = tuple(shape)
        gtail = self.g.shape[self.g.ndim - self.g_ndim :]
        return ProductElement(
            self.perm.reshape(shape + self.perm.shape[-1:]),
            self.g.reshape(shape + gtail),
            self.g_ndim,
        )

    def tolist(self) -> list:
        return [self.perm.tolist(), self.g.tolist()]
