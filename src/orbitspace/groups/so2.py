"""SO(2) acting through a direct sum of its real irreps (frequencies)."""

from __future__ import annotations

from typing import Any

import numpy as np

from orbitspace._array import ArrayLike, like, to_numpy
from orbitspace._validation import check_random_state
from orbitspace.groups._base import BlockAction, Irrep
from orbitspace.groups._layout import build_layout
from orbitspace.groups._registry import register_action
from orbitspace.groups._repstring import parse_terms

__all__ = ["SO2"]


@register_action("SO2('4x0 + 8x1')")
class SO2(BlockAction):
    """The rotation group SO(2) acting on ``(..., dim)`` latents through frequency blocks.

    Parameters
    ----------
    rep : str
        Terms ``"<multiplicity>x<frequency>"`` joined by ``+``.  Frequency 0 is one invariant
        scalar; frequency k >= 1 is a 2-dimensional block acted on by
        ``[[cos kθ, -sin kθ], [sin kθ, cos kθ]]`` (escnn's basis).  Copies of a term are
        contiguous, terms in the order written.

    Notes
    -----
    Group elements are angles θ in radians (float arrays).

    Examples
    --------
    >>> rho = SO2("4x0 + 8x1 + 2x3")
    >>> rho.dim
    24
    >>> rho
    SO2('4x0 + 8x1 + 2x3')
    """

    def __init__(self, rep: str) -> None:
        terms = parse_terms(rep, allow_regular=False, owner="SO2")
        object.__setattr__(self, "terms", terms)
        object.__setattr__(self, "layout", build_layout(terms, None))
        self._freeze()

    terms: tuple[tuple[int, int], ...]

    @property
    def max_frequency(self) -> int:
        return max((int(k) for _, k in self.terms), default=0)

    def _key(self) -> tuple:
        return self.terms

    def __repr__(self) -> str:
        return f"SO2({self.rep!r})"

    def _with_rep(self, rep: str) -> SO2:
        return SO2(rep)

    group_name = "SO(2)"
    group_description = "the rotation group SO(2) (every angle)"

    def _irrep(self, kind: int | str) -> Irrep:
        k = int(kind)
        if k == 0:
            return Irrep("SO(2)", "0", 1, 0, True)
        return Irrep("SO(2)", str(k), 2, k, False)

    # -- group structure -------------------------------------------------------------------
    def identity(self) -> np.ndarray:
        return np.zeros(())

    def compose(self, g: Any, h: Any) -> np.ndarray:
        return np.mod(to_numpy(g, float) + to_numpy(h, float), 2 * np.pi)

    def inverse(self, g: Any) -> np.ndarray:
        return np.mod(-to_numpy(g, float), 2 * np.pi)

    def sample(self, n: int | None = None, random_state: Any = None) -> np.ndarray:
        rng = check_random_state(random_state)
        return rng.uniform(0.0, 2 * np.pi, size=n)

    # -- the representation ----------------------------------------------------------------
    def matrix(self, g: Any) -> np.ndarray:
        theta = to_numpy(g, float)
        lay = self.layout
        M = np.zeros(theta.shape + (lay.dim, lay.dim))
        M[..., lay.scalar_idx, lay.scalar_idx] = 1.0
        angle = theta[..., None] * lay.pair_freq
        c, s = np.cos(angle), np.sin(angle)
        M[..., lay.pair_a, lay.pair_a] = c
        M[..., lay.pair_a, lay.pair_b] = -s
        M[..., lay.pair_b, lay.pair_a] = s
        M[..., lay.pair_b, lay.pair_b] = c
        return M

    def act(self, g: Any, X: ArrayLike) -> ArrayLike:
        Xn = self.check_latents(X)
        theta = to_numpy(g, float)
        lay = self.layout
        batch = np.broadcast_shapes(theta.shape, Xn.shape[:-1])
        out = np.array(np.broadcast_to(Xn, batch + (lay.dim,)))
        angle = theta[..., None] * lay.pair_freq
        c, s = np.cos(angle), np.sin(angle)
        a, b = Xn[..., lay.pair_a], Xn[..., lay.pair_b]
        out[..., lay.pair_a] = c * a - s * b
        out[..., lay.pair_b] = s * a + c * b
        return like(out, X)
