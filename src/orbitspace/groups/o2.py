"""O(2), rotations and reflections of the plane, acting through escnn's irreps.

Representation strings name irreps by **escnn's ids** ``(j, k)`` (j: how the reflection acts,
k: the rotation frequency), so a field type written for ``escnn.gspaces.flipRot2dOnR2`` reads
the same here: ``O2("2x(0,0) + 1x(1,0) + 4x(1,1)")`` is 2 invariant scalars, 1 sign scalar and
4 copies of the frequency-1 block.  An element ``(j, θ)`` is escnn's ``r_θ f^j``: first the
reflection ``f`` (if j = 1), then the rotation by θ.  Its matrix on the irreps is escnn's:

- ``(0,0)``: 1 (trivial);
- ``(1,0)``: ``(-1)^j`` (the sign, i.e. determinant, irrep);
- ``(1,k)``, k >= 1: ``[[cos kθ, -s sin kθ], [sin kθ, s cos kθ]]`` with ``s = (-1)^j``, i.e. the
  rotation by kθ after ``diag(1, s)``.

The rotation subgroup acts on the same coordinates as ``SO2`` (:attr:`rotation_part`), the
reflection as a signed permutation (:meth:`reflect`); :class:`~orbitspace.groups.Dihedral`
shares this structure through :class:`FlipRotationAction`.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from orbitspace._array import ArrayLike, like, to_numpy
from orbitspace._validation import check_random_state
from orbitspace.groups._base import Component, Irrep, VectorAction
from orbitspace.groups._registry import register_action
from orbitspace.groups.so2 import SO2

__all__ = ["O2", "FlipRotationAction", "parse_flip_terms", "format_flip_terms"]

Kind = tuple[int, int] | str  # an escnn irrep id (j, k), or "regular"

_TERM = re.compile(
    r"^\s*(?:(\d+)\s*x\s*)?(?:\(\s*(\d+)\s*,\s*(\d+)\s*\)|([A-Za-z]+))\s*$", re.IGNORECASE
)


def parse_flip_terms(text: Any, *, allow_regular: bool, owner: str) -> tuple[tuple[int, Kind], ...]:
    """Parse ``"2x(0,0) + 4x(1,1) + 1xregular"`` into ``((2, (0, 0)), (4, (1, 1)), (1, 'regular'))``.

    Examples
    --------
    >>> parse_flip_terms("2x(0,0) + (1, 3)", allow_regular=False, owner="O2")
    ((2, (0, 0)), (1, (1, 3)))
    """
    example = "'2x(0,0) + 1x(1,0) + 4x(1,1)'"
    if not isinstance(text, str):
        raise TypeError(
            f"{owner} expects a representation string like {example}; received {text!r}"
        )
    if not text.strip():
        raise ValueError(f"{owner}: empty representation string; expected e.g. {example}")
    terms: list[tuple[int, Kind]] = []
    for token in text.split("+"):
        match = _TERM.match(token)
        if match is None or (match.group(4) and match.group(4).lower() != "regular"):
            regular = " or '<m>xregular'" if allow_regular else ""
            raise ValueError(
                f"{owner}: cannot parse term {token.strip()!r} of {text!r}; expected "
                f"'<multiplicity>x(j,k)' with escnn's irrep id (j, k){regular}"
            )
        mult = int(match.group(1)) if match.group(1) is not None else 1
        if mult == 0:
            raise ValueError(f"{owner}: multiplicity 0 in term {token.strip()!r} of {text!r}")
        if match.group(4):
            if not allow_regular:
                raise ValueError(
                    f"{owner}: {owner} is infinite and has no regular representation; received "
                    f"{token.strip()!r} in {text!r}"
                )
            terms.append((mult, "regular"))
        else:
            terms.append((mult, (int(match.group(2)), int(match.group(3)))))
    return tuple(terms)


def format_flip_terms(terms: tuple[tuple[int, Kind], ...]) -> str:
    """The canonical string of parsed terms (``"2x(0,0) + 1xregular"``)."""
    return " + ".join(
        f"{m}xregular" if kind == "regular" else f"{m}x({kind[0]},{kind[1]})" for m, kind in terms
    )


class FlipRotationAction(VectorAction):
    """Shared machinery of O(2) and D_N: ``ρ(j, t) = R(t) F^j`` on a direct sum of blocks.

    Subclasses set, in ``__init__``: ``terms`` (parsed with :func:`parse_flip_terms`),
    ``rotation_part`` (the action of the rotation subgroup on the same coordinates, an
    ``SO2`` or ``Cyclic``) and ``_flip_perm`` / ``_flip_sign`` (the reflection ``f`` as the
    signed permutation ``(F v)_i = sign_i · v[perm_i]``), then call ``_freeze``.

    Group elements are arrays of shape ``(..., 2)``: ``[..., 0]`` the flip j in {0, 1},
    ``[..., 1]`` the rotation (an angle for O(2), an integer k for D_N).
    """

    element_shape = (2,)
    terms: tuple[tuple[int, Kind], ...]
    rotation_part: VectorAction
    _flip_perm: np.ndarray
    _flip_sign: np.ndarray

    @property
    def rep(self) -> str:
        """The representation string, e.g. ``'2x(0,0) + 4x(1,1)'``."""
        return format_flip_terms(self.terms)

    @property
    def dim(self) -> int:
        return self.rotation_part.dim

    def _irrep(self, kind: Kind) -> Irrep:
        raise NotImplementedError

    def components(self) -> tuple[Component, ...]:
        """One :class:`Component` per term, in order; ``parity`` is the reflection's sign on
        1-dimensional irreps (None on 2-dimensional ones and regular blocks)."""
        out, pos = [], 0
        for mult, kind in self.terms:
            comp = Component(self._irrep(kind), pos, int(mult))
            out.append(comp)
            pos = comp.stop
        return tuple(out)

    def describe(self) -> str:
        parts = []
        for c in self.components():
            ir, m = c.irrep, c.multiplicity
            s = "" if m == 1 else "s"
            if ir.kind == "regular":
                parts.append(
                    f"{m} regular field{s} of size {ir.dim} (rotations shift each half "
                    "cyclically, the reflection swaps the halves and reverses them)"
                )
            elif ir.trivial:
                parts.append(f"{m} invariant scalar{s}")
            elif ir.dim == 1:
                parts.append(f"{m} scalar{s} of irrep {ir.label} (sign {ir.parity} under f)")
            else:
                parts.append(
                    f"{m} 2-D block{s} of irrep {ir.label} (rotating at frequency {ir.degree}, "
                    "flipped by f)"
                )
        return f"{self.group_description} acting on {self.dim}-dimensional codes made of " + (
            "; ".join(parts)
        )

    @property
    def group_description(self) -> str:
        return self.group_name

    # -- elements --------------------------------------------------------------------------
    def _split(self, g: Any) -> tuple[np.ndarray, np.ndarray]:
        """(flip j as int, rotation part) of elements ``g`` of shape ``(..., 2)``."""
        arr = to_numpy(g, float)
        if arr.ndim < 1 or arr.shape[-1] != 2:
            raise ValueError(
                f"{self!r}: group elements are arrays of shape (..., 2) = (flip, rotation); "
                f"received shape {arr.shape}"
            )
        flip = arr[..., 0]
        if not np.all((flip == 0) | (flip == 1)):
            raise ValueError(
                f"{self!r}: the flip entry g[..., 0] must be 0 or 1; received {np.unique(flip)}"
            )
        return flip.astype(np.int64), arr[..., 1]

    # -- the representation ----------------------------------------------------------------
    def reflect(self, X: ArrayLike) -> np.ndarray:
        """``F X``: the reflection ``f`` (element ``(1, 0)``) applied to latents ``(..., dim)``."""
        Xn = self.check_latents(X)
        return self._flip_sign * Xn[..., self._flip_perm]

    def flip_matrix(self) -> np.ndarray:
        """The matrix of the reflection ``f``, shape ``(dim, dim)``."""
        F = np.zeros((self.dim, self.dim))
        F[np.arange(self.dim), self._flip_perm] = self._flip_sign
        return F

    def matrix(self, g: Any) -> np.ndarray:
        flip, t = self._split(g)
        R = np.asarray(self.rotation_part.matrix(self._rotation_element(t)))
        F = np.where(flip[..., None, None] == 1, self.flip_matrix(), np.eye(self.dim))
        return R @ F

    def act(self, g: Any, X: ArrayLike) -> ArrayLike:
        Xn = self.check_latents(X)
        flip, t = self._split(g)
        Z = np.where(flip[..., None] == 1, self._flip_sign * Xn[..., self._flip_perm], Xn)
        return like(np.asarray(self.rotation_part.act(self._rotation_element(t), Z)), X)

    def _rotation_element(self, t: np.ndarray) -> np.ndarray:
        return t


@register_action("O2('2x(0,0) + 1x(1,0) + 4x(1,1)')")
class O2(FlipRotationAction):
    """The orthogonal group O(2) acting on ``(..., dim)`` latents through escnn's irreps.

    Parameters
    ----------
    rep : str
        Terms ``"<multiplicity>x(j,k)"`` joined by ``+``, with escnn's irrep ids
        (``escnn.group.o2_group().irrep(j, k)``): ``(0,0)`` the trivial irrep, ``(1,0)`` the
        sign (determinant) irrep, ``(1,k)`` for k >= 1 the 2-dimensional frequency-k irrep.
        Copies of a term are contiguous, terms in the order written.

    Notes
    -----
    Group elements are float arrays of shape ``(..., 2)``: ``(j, θ)`` is escnn's
    ``r_θ f^j`` (reflect if j = 1, then rotate by θ radians).  ``compose((a, α), (b, β)) =
    (a + b mod 2, α + (-1)^a β)``.

    Examples
    --------
    >>> rho = O2("2x(0,0) + 1x(1,0) + 4x(1,1)")
    >>> rho.dim, rho.group_name
    (11, 'O(2)')
    >>> rho.act([1.0, 0.0], [1.0, 1.0, 1.0, 1.0, 1.0] + 6 * [0.0])[:5].tolist()
    [1.0, 1.0, -1.0, 1.0, -1.0]
    """

    group_name = "O(2)"
    group_description = "the orthogonal group O(2) (every rotation and reflection of the plane)"

    def __init__(self, rep: str) -> None:
        terms = parse_flip_terms(rep, allow_regular=False, owner="O2")
        so2_terms, perm, sign, pos = [], [], [], 0
        for mult, (j, k) in terms:  # type: ignore[misc]
            if j not in (0, 1) or (j == 0 and k != 0):
                raise ValueError(
                    f"O2: ({j},{k}) in {rep!r} is not an irrep id of O(2); expected (0,0), "
                    "(1,0) or (1,k) with k >= 1"
                )
            so2_terms.append(f"{mult}x{k}")
            size = 1 if k == 0 else 2
            for _ in range(mult):
                perm.extend(range(pos, pos + size))
                sign.extend([1.0 if j == 0 else -1.0] if k == 0 else [1.0, -1.0])
                pos += size
        object.__setattr__(self, "terms", terms)
        object.__setattr__(self, "rotation_part", SO2(" + ".join(so2_terms)))
        object.__setattr__(self, "_flip_perm", np.asarray(perm, dtype=np.int64))
        object.__setattr__(self, "_flip_sign", np.asarray(sign, dtype=float))
        self._freeze()

    def _key(self) -> tuple:
        return self.terms

    def __repr__(self) -> str:
        return f"O2({self.rep!r})"

    @property
    def max_frequency(self) -> int:
        return max((int(kind[1]) for _, kind in self.terms), default=0)  # type: ignore[index]

    def _irrep(self, kind: Kind) -> Irrep:
        j, k = kind  # type: ignore[misc]
        if k == 0:
            return Irrep("O(2)", f"({j},0)", 1, 0, j == 0, parity=1 if j == 0 else -1)
        return Irrep("O(2)", f"(1,{k})", 2, k, False)

    # -- group structure -------------------------------------------------------------------
    def identity(self) -> np.ndarray:
        return np.zeros(2)

    def compose(self, g: Any, h: Any) -> np.ndarray:
        a, alpha = self._split(g)
        b, beta = self._split(h)
        theta = np.mod(alpha + np.where(a == 1, -1.0, 1.0) * beta, 2 * np.pi)
        flip = np.mod(a + b, 2).astype(float)
        flip, theta = np.broadcast_arrays(flip, theta)
        return np.stack([flip, theta], axis=-1)

    def inverse(self, g: Any) -> np.ndarray:
        j, theta = self._split(g)  # reflections are involutions; (0, θ)^-1 = (0, -θ)
        return np.stack([j.astype(float), np.mod(np.where(j == 1, theta, -theta), 2 * np.pi)], -1)

    def sample(self, n: int | None = None, random_state: Any = None) -> np.ndarray:
        rng = check_random_state(random_state)
        flip = rng.integers(0, 2, size=n).astype(float)
        theta = rng.uniform(0.0, 2 * np.pi, size=n)
        return np.stack([flip, theta], axis=-1)
