"""The declared guarantees of an invariant map (each declaration is checked by the tests)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

__all__ = ["Properties", "isometric", "AE"]

AE = "almost everywhere"


@dataclass(frozen=True, kw_only=True)
class Properties:
    """What an invariant map guarantees for one action (and channel count ``d``).

    Every field is given by keyword (``Properties(invariant=True, separating="yes", ...)``).

    Attributes
    ----------
    invariant : bool
        ``π(ρ(g) z) == π(z)`` for every ``g`` (alignment-based maps: up to floating point, and
        away from the measure-zero set of ties where the optimal ``g`` is not unique).
    separating : {"yes", "generic", "no"}
        ``"yes"``: ``π(x) == π(y)`` implies ``[x] == [y]`` for every pair.  ``"generic"``: the
        same for generic (random) templates / directions and generic inputs, as proved in the
        cited literature.  ``"no"``: no separation guarantee; for the structurally lossy maps
        (channel sort with ``d >= 2``, node pooling, norms, power spectrum, group pooling, an
        incomplete bispectrum) colliding pairs of different orbits exist and are exhibited by
        the tests.
    isometric : bool
        ``‖π(x) − π(y)‖ == d([x], [y])`` for every pair.
    lipschitz : float or None
        An upper bound on ``‖π(x) − π(y)‖ / d([x], [y])``; None when unbounded or unknown.
    lower_lipschitz : float or None
        A lower bound on the same ratio (bi-Lipschitz constant) when one is known, else None.
    continuous : bool
    differentiable : {"yes", "almost everywhere", "no"}
    cross_section : bool
        ``π(z)`` (reshaped to the latent's shape) lies in the orbit ``[z]``.
    output_dim : int
        Number of output features ``m``: outputs have shape ``(..., m)``.
    notes : str
        Conditions and references behind the declarations.

    Examples
    --------
    >>> p = Properties(invariant=True, separating="no", isometric=False, lipschitz=1.0,
    ...                lower_lipschitz=None, continuous=True, differentiable="yes",
    ...                cross_section=False, output_dim=3)
    >>> p.to_dict()["output_dim"]
    3
    """

    invariant: bool
    separating: Literal["yes", "generic", "no"]
    isometric: bool
    lipschitz: float | None
    lower_lipschitz: float | None
    continuous: bool
    differentiable: Literal["yes", "almost everywhere", "no"]
    cross_section: bool
    output_dim: int
    notes: str = ""

    def __post_init__(self) -> None:
        if self.separating not in ("yes", "generic", "no"):
            raise ValueError(
                f"separating must be 'yes', 'generic' or 'no'; received {self.separating!r}"
            )
        if self.differentiable not in ("yes", "almost everywhere", "no"):
            raise ValueError(
                "differentiable must be 'yes', 'almost everywhere' or 'no'; "
                f"received {self.differentiable!r}"
            )

        if isinstance(self.output_dim, bool) or not isinstance(self.output_dim, int):
            raise TypeError(f"output_dim must be an int; received {self.output_dim!r}")
        if self.output_dim < 0:
            raise ValueError(f"output_dim must be >= 0; received {self.output_dim}")

    def to_dict(self) -> dict[str, Any]:
        """The record as a plain dict (JSON-serialisable)."""
        return asdict(self)


def isometric(out: int, notes: str, *, cross: bool, differentiable: str = AE) -> Properties:
    """The declaration of an isometric (hence orbit-separating) map with ``out`` features."""
    return Properties(
        invariant=True,
        separating="yes",
        isometric=True,
        lipschitz=1.0,
        lower_lipschitz=1.0,
        continuous=True,
        differentiable=differentiable,
        cross_section=cross,
        output_dim=out,
        notes=notes,
    )


def lipschitz_one(*, separating: str, output_dim: int, notes: str) -> Properties:
    """The record of an invariant, continuous, 1-Lipschitz embedding that is neither isometric
    nor a cross-section (channel sort, sorted projections, max filtering, ...)."""
    return Properties(
        invariant=True,
        separating=separating,
        isometric=False,
        lipschitz=1.0,
        lower_lipschitz=None,
        continuous=True,
        differentiable=AE,
        cross_section=False,
        output_dim=output_dim,
        notes=notes,
    )
