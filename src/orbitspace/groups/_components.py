"""Typed isotypic structure: the irreps (and regular blocks) an action is made of."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["Irrep", "Component"]


@dataclass(frozen=True)
class Irrep:
    """One kind of block of a representation.

    Attributes
    ----------
    group : str
        The group it belongs to, as printed (``"SO(2)"``, ``"C_8"``, ``"SO(3)"``, ``"O(3)"``).
    label : str
        Its name in representation strings: ``"0"``, ``"3"``, ``"regular"``, ``"1o"``, ``"2e"``.
    dim : int
        Dimension of one copy.
    degree : int or None
        The frequency (planar groups) or degree l (SO(3), O(3)); None for a regular block.
    trivial : bool
        The group acts on it as the identity.
    kind : {"irrep", "regular"}
        ``"regular"``: the regular representation of a finite group (a sum of irreps).
    parity : {1, -1} or None
        O(3) parity (``e`` = 1, ``o`` = -1); reflections of O(2) / D_N: the sign of the
        reflection on a 1-dimensional irrep; None where there is none.

    Examples
    --------
    >>> Irrep("SO(2)", "1", dim=2, degree=1, trivial=False)
    Irrep(group='SO(2)', label='1', dim=2, degree=1, trivial=False, kind='irrep', parity=None)
    """

    group: str
    label: str
    dim: int
    degree: int | None
    trivial: bool
    kind: Literal["irrep", "regular"] = "irrep"
    parity: int | None = None

    def describe(self, multiplicity: int = 1) -> str:
        """A short phrase such as ``"8 2-D blocks rotating at frequency 1"``."""
        s = "" if multiplicity == 1 else "s"
        if self.kind == "regular":
            return f"{multiplicity} regular field{s} of size {self.dim} (cyclic shifts)"
        if self.trivial:
            return f"{multiplicity} invariant scalar{s}"
        return f"{multiplicity} {self.dim}-D block{s} of irrep {self.label} of {self.group}"


@dataclass(frozen=True)
class Component:
    """``multiplicity`` contiguous copies of ``irrep`` starting at offset ``start``.

    Examples
    --------
    >>> c = Component(Irrep("SO(2)", "1", 2, 1, False), start=4, multiplicity=3)
    >>> c.size, c.stop, c.copy_slices()[1]
    (6, 10, slice(6, 8, None))
    """

    irrep: Irrep
    start: int
    multiplicity: int

    @property
    def size(self) -> int:
        """Number of coordinates of all copies."""
        return self.irrep.dim * self.multiplicity

    @property
    def stop(self) -> int:
        return self.start + self.size

    @property
    def slice(self) -> slice:
        return slice(self.start, self.stop)

    def copy_slices(self) -> list[slice]:
        """The slice of each copy, in order."""
        d = self.irrep.dim
        return [
            slice(self.start + i * d, self.start + (i + 1) * d) for i in range(self.multiplicity)
        ]
