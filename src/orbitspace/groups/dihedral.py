"""The dihedral group D_N (N rotations and N reflections) acting through escnn's irreps.

Irreps are named by escnn's ids ``(j, k)`` of ``escnn.group.dihedral_group(N).irrep(j, k)``,
with ``θ = 2πk'/N`` for the element ``(j, k')`` = escnn's ``r^{k'} f^j``:

- ``(0,0)``: 1 (trivial); ``(1,0)``: ``(-1)^j`` (the reflection's sign);
- N even: ``(0,N/2)``: ``(-1)^{k'}``; ``(1,N/2)``: ``(-1)^{k'} (-1)^j``;
- ``(1,k)``, ``1 <= k < N/2``: ``[[cos kθ, -s sin kθ], [sin kθ, s cos kθ]]``, ``s = (-1)^j``;
- ``regular``: the 2N-dimensional regular representation, axes indexed by the elements in
  escnn's order ``(0,0), (0,1), …, (0,N-1), (1,0), …, (1,N-1)``, ``ρ(h) e_g = e_{hg}``.  A
  rotation shifts each half cyclically by one (``np.roll``), the reflection maps
  ``e_{(j,i)}`` to ``e_{(1-j,-i)}``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from orbitspace._validation import check_positive_int, check_random_state
from orbitspace.groups._base import Irrep
from orbitspace.groups._registry import register_action
from orbitspace.groups.cyclic import Cyclic
from orbitspace.groups.o2 import FlipRotationAction, Kind, parse_flip_terms

__all__ = ["Dihedral"]


@register_action("Dihedral(4, '1xregular + 2x(1,1)')")
class Dihedral(FlipRotationAction):
    """The dihedral group D_N acting on ``(..., dim)`` latents (escnn's ``flipRot2dOnR2(N)``).

    Parameters
    ----------
    N : int
        The number of rotations (the group has order 2N).
    rep : str
        Terms ``"<m>x(j,k)"`` (escnn's irrep ids, see the module docstring: ``(0,0)``,
        ``(1,0)``, ``(1,k)`` for ``1 <= k <= N//2`` and, N even, ``(0,N/2)``) or
        ``"<m>xregular"`` (2N-dimensional), joined by ``+``.

    Notes
    -----
    Group elements are int arrays of shape ``(..., 2)``: ``(j, k)`` is escnn's ``r^k f^j``
    (reflect if j = 1, then rotate by ``2πk/N``); ``compose((a, p), (b, q)) =
    (a + b mod 2, p + (-1)^a q mod N)``.

    Examples
    --------
    >>> rho = Dihedral(4, "1xregular + 2x(1,1) + 1x(0,2)")
    >>> rho.dim, rho.order, rho.group_name
    (13, 8, 'D_4')
    >>> rho.elements()[:3].tolist()
    [[0, 0], [0, 1], [0, 2]]
    """

    def __init__(self, N: int, rep: str = "1xregular") -> None:
        N = check_positive_int(N, "Dihedral order N")
        terms = parse_flip_terms(rep, allow_regular=True, owner=f"Dihedral({N})")
        cyc_terms, perm, sign, pos = [], [], [], 0
        for mult, kind in terms:
            if kind == "regular":
                cyc_terms.append(f"{2 * mult}xregular")
                i = np.arange(N)
                for _ in range(mult):  # (F v)_{(j, i)} = v_{(1 - j, -i)}
                    perm.extend(pos + N + (-i) % N)
                    perm.extend(pos + (-i) % N)
                    sign.extend([1.0] * (2 * N))
                    pos += 2 * N
                continue
            j, k = kind  # type: ignore[misc]
            one_dim = k == 0 or 2 * k == N
            if j not in (0, 1) or k > N // 2 or (j == 0 and not one_dim):
                raise ValueError(
                    f"Dihedral({N}): ({j},{k}) in {rep!r} is not an irrep id of D_{N}; expected "
                    f"(0,0), (1,k) with 0 <= k <= {N // 2}"
                    + (f", (0,{N // 2})" if N % 2 == 0 else "")
                    + " or 'regular'"
                )
            cyc_terms.append(f"{mult}x{k}")
            for _ in range(mult):
                if one_dim:
                    perm.append(pos)
                    sign.append(1.0 if j == 0 else -1.0)
                    pos += 1
                else:
                    perm.extend([pos, pos + 1])
                    sign.extend([1.0, -1.0])
                    pos += 2
        object.__setattr__(self, "N", N)
        object.__setattr__(self, "terms", terms)
        object.__setattr__(self, "rotation_part", Cyclic(N, " + ".join(cyc_terms)))
        object.__setattr__(self, "_flip_perm", np.asarray(perm, dtype=np.int64))
        object.__setattr__(self, "_flip_sign", np.asarray(sign, dtype=float))
        self._freeze()

    N: int

    @property
    def order(self) -> int:
        return 2 * self.N

    def _key(self) -> tuple:
        return (self.N, self.terms)

    def __repr__(self) -> str:
        return f"Dihedral({self.N}, {self.rep!r})"

    @property
    def group_name(self) -> str:
        return f"D_{self.N}"

    @property
    def group_description(self) -> str:
        return (
            f"the dihedral group D_{self.N} ({self.N} rotations by multiples of 360°/{self.N} "
            f"and {self.N} reflections)"
        )

    def _irrep(self, kind: Kind) -> Irrep:
        g = f"D_{self.N}"
        if kind == "regular":
            return Irrep(g, "regular", 2 * self.N, None, False, kind="regular")
        j, k = kind  # type: ignore[misc]
        label = f"({j},{k})"
        if k == 0 or 2 * k == self.N:
            return Irrep(g, label, 1, k, j == 0 and k == 0, parity=1 if j == 0 else -1)
        return Irrep(g, label, 2, k, False)

    # -- group structure -------------------------------------------------------------------
    def _split(self, g: Any) -> tuple[np.ndarray, np.ndarray]:
        flip, k = super()._split(g)
        rounded = np.rint(k)
        if not np.allclose(k, rounded):
            raise TypeError(f"{self!r}: group elements are integer pairs (j, k); received {g!r}")
        return flip, np.mod(rounded.astype(np.int64), self.N)

    def identity(self) -> np.ndarray:
        return np.zeros(2, dtype=np.int64)

    def compose(self, g: Any, h: Any) -> np.ndarray:
        a, p = self._split(g)
        b, q = self._split(h)
        k = np.mod(p + np.where(a == 1, -q, q), self.N)
        flip, k = np.broadcast_arrays(np.mod(a + b, 2), k)
        return np.stack([flip, k], axis=-1).astype(np.int64)

    def inverse(self, g: Any) -> np.ndarray:
        j, k = self._split(g)  # reflections are involutions; (0, k)^-1 = (0, -k)
        return np.stack([j, np.mod(np.where(j == 1, k, -k), self.N)], -1).astype(np.int64)

    def sample(self, n: int | None = None, random_state: Any = None) -> np.ndarray:
        rng = check_random_state(random_state)
        flip = rng.integers(0, 2, size=n)
        k = rng.integers(0, self.N, size=n)
        return np.stack([flip, k], axis=-1).astype(np.int64)

    def elements(self) -> np.ndarray:
        """All 2N elements in escnn's order: the rotations ``(0, k)``, then ``(1, k)``."""
        flips = np.repeat([0, 1], self.N)
        return np.stack([flips, np.tile(np.arange(self.N), 2)], axis=-1).astype(np.int64)
