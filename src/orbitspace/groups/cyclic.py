"""The cyclic group C_N acting through irreps and regular blocks."""

from __future__ import annotations

from typing import Any

import numpy as np

from orbitspace._array import ArrayLike, like, to_numpy
from orbitspace._validation import (
    check_positive_int,
    check_random_state,
    check_representation_size,
)
from orbitspace.groups._base import BlockAction, Irrep
from orbitspace.groups._layout import build_layout
from orbitspace.groups._registry import register_action
from orbitspace.groups._repstring import parse_terms

__all__ = ["Cyclic"]


@register_action("Cyclic(8, '16xregular')")
class Cyclic(BlockAction):
    """The cyclic group C_N (rotations by multiples of 2π/N) acting on ``(..., dim)`` latents.

    Parameters
    ----------
    N : int
        The order of the group.
    rep : str
        Terms joined by ``+``: ``"<m>xregular"`` is m copies of the N-dimensional regular block
        (the generator shifts its entries cyclically by one, ``np.roll(v, 1)``, as escnn's
        regular representation); ``"<m>x<k>"`` with ``0 <= k <= N // 2`` is m copies of the
        frequency-k irrep (1-dimensional for k = 0 and, N even, for the sign irrep k = N/2;
        otherwise the 2-dimensional rotation by ``2πk g / N``).

    Notes
    -----
    Group elements are integers ``g`` in ``0..N-1`` (rotation by ``2πg/N``).

    Examples
    --------
    >>> Cyclic(8, "16xregular + 2x1").dim
    132
    """

    def __init__(self, N: int, rep: str = "1xregular") -> None:
        N = check_positive_int(N, "Cyclic order N", limit="group order")
        terms = parse_terms(rep, allow_regular=True, owner=f"Cyclic({N})")
        for _mult, kind in terms:
            if kind != "regular" and int(kind) > N // 2:
                raise ValueError(
                    f"Cyclic({N}): frequency {kind} in {rep!r} is not an irrep of C_{N}; "
                    f"expected a frequency in 0..{N // 2} or 'regular'"
                )
        check_representation_size(terms, owner=f"Cyclic({N})", order=N)
        object.__setattr__(self, "N", N)
        object.__setattr__(self, "terms", terms)
        object.__setattr__(self, "layout", build_layout(terms, N))
        self._freeze()

    N: int
    terms: tuple[tuple[int, int | str], ...]

    @property
    def order(self) -> int:
        return self.N

    def _key(self) -> tuple:
        return (self.N, self.terms)

    def __repr__(self) -> str:
        return f"Cyclic({self.N}, {self.rep!r})"

    def _with_rep(self, rep: str) -> Cyclic:
        return Cyclic(self.N, rep)

    @property
    def group_name(self) -> str:
        return f"C_{self.N}"

    @property
    def group_description(self) -> str:
        return f"the cyclic group C_{self.N} (rotations by multiples of 360°/{self.N})"

    def _irrep(self, kind: int | str) -> Irrep:
        g = f"C_{self.N}"
        if kind == "regular":
            return Irrep(g, "regular", self.N, None, self.N == 1, kind="regular")
        k = int(kind)
        if k == 0:
            return Irrep(g, "0", 1, 0, True)
        if 2 * k == self.N:
            return Irrep(g, str(k), 1, k, False)  # the sign irrep: g acts by (-1)^g
        return Irrep(g, str(k), 2, k, False)

    # -- group structure -------------------------------------------------------------------
    def _elem(self, g: Any) -> np.ndarray:
        arr = to_numpy(g)
        if arr.dtype.kind not in "iub":
            rounded = np.rint(arr)
            if not np.allclose(arr, rounded):
                raise TypeError(f"{self!r}: group elements are integers; received {arr!r}")
            arr = rounded
        return np.mod(arr.astype(np.int64), self.N)

    def identity(self) -> np.ndarray:
        return np.zeros((), dtype=np.int64)

    def compose(self, g: Any, h: Any) -> np.ndarray:
        return np.mod(self._elem(g) + self._elem(h), self.N)

    def inverse(self, g: Any) -> np.ndarray:
        return np.mod(-self._elem(g), self.N)

    def sample(self, n: int | None = None, random_state: Any = None) -> np.ndarray:
        rng = check_random_state(random_state)
        return rng.integers(0, self.N, size=n)

    def elements(self) -> np.ndarray:
        return np.arange(self.N)

    # -- the representation ----------------------------------------------------------------
    def matrix(self, g: Any) -> np.ndarray:
        g = self._elem(g)
        eye = np.eye(self.dim)
        return np.moveaxis(self.act(g[..., None], eye), -1, -2)

    def act(self, g: Any, X: ArrayLike) -> ArrayLike:
        Xn = self.check_latents(X)
        gi = self._elem(g)
        lay = self.layout
        batch = np.broadcast_shapes(gi.shape, Xn.shape[:-1])
        out = np.array(np.broadcast_to(Xn, batch + (lay.dim,)))
        if lay.scalar_idx.size:
            sign = np.where((lay.scalar_freq > 0) & (gi[..., None] % 2 == 1), -1.0, 1.0)
            out[..., lay.scalar_idx] = sign * Xn[..., lay.scalar_idx]
        if lay.pair_a.size:
            angle = (2 * np.pi / self.N) * (gi[..., None] * lay.pair_freq % self.N)
            c, s = np.cos(angle), np.sin(angle)
            a, b = Xn[..., lay.pair_a], Xn[..., lay.pair_b]
            out[..., lay.pair_a] = c * a - s * b
            out[..., lay.pair_b] = s * a + c * b
        if lay.regular_start.size:
            # (ρ(g) v)_i = v_{i-g}: entry i of the output reads entry (i - g) mod N.
            src = (np.arange(self.N) - gi[..., None]) % self.N  # (..., N)
            idx = lay.regular_start[:, None] + src[..., None, :]  # (..., R, N)
            flat = idx.reshape(idx.shape[:-2] + (idx.shape[-2] * idx.shape[-1],))
            dst = (lay.regular_start[:, None] + np.arange(self.N)).reshape(-1)
            gathered = np.take_along_axis(
                np.broadcast_to(Xn, batch + (lay.dim,)),
                np.broadcast_to(flat, batch + flat.shape[-1:]),
                axis=-1,
            )
            out[..., dst] = gathered
        return like(out, X)
