"""Declared :class:`Properties` of the SO(3) / O(3) invariants (norms, power spectrum,
bispectrum), for the registered maps of :mod:`orbitspace.invariants.maps_spectral`.

Everything is read from the action's components (through :func:`copy_groups`); output sizes
are counted, never measured by running a map.  A copy is *free* when it is not an invariant
scalar.  Under O(3) an element of det −1 is ``−R'`` (``R'`` a rotation) and acts on a copy of
degree l and parity p by ``p D^l(R')``: a ``0o`` copy by the sign ``det``, a ``1o`` copy as the
matrix itself (all of O(3)), a ``1e`` copy by the rotation ``R'``.

Separation, case by case (``m`` = copies in one group of :func:`copy_groups`):

- **norms** are isometric (hence separating) exactly when the group moves the free copies over
  the product of their spheres: no free copy of degree ``>= 2`` (a rotation orbit has
  dimension <= 3 < 2l), at most one of degree 1 (else their angle is lost) and, under O(3), at
  most one pseudoscalar (two lose their relative sign).  A pseudoscalar and a vector together
  are fine: a reflection or a rotation moves the vector the same way.  Otherwise "no".
- **power spectrum**: it fixes each group up to an orthogonal map of its own.  Complete
  ("yes") for SO(3) when there is at most one free group, of degree 1 with ``m <= 2`` (a
  rotation realises the orthogonal map of <= 2 vectors); for O(3) when every free group is
  ``0o``, ``1o`` or ``1e``, not both ``1o`` and ``1e`` (their angle), ``m <= 2`` for ``1e``
  (chirality), and ``m <= 2`` for ``1o`` if pseudoscalars are present (three vectors fix the
  element and with it the sign of the pseudoscalars).  Otherwise "no" (collisions: rotate
  one group alone; mirror three vectors).
- **bispectrum**: "yes" where the power spectrum is complete; "yes" for a single free copy
  of degree 2 (with its triple ``(2, 2, 2)``: ``tr W²`` and ``tr W³`` fix the eigenvalues of
  the symmetric matrix W); "yes" with ``copies="all"`` for one free group of degree 1 (the Gram
  matrix plus every ``a · (b × c)``); "generic" with ``copies="all"`` for free degrees
  {1, 2} with >= 3 vectors (``1o`` or ``1e``, one kind, with ``2e`` under O(3)): generic
  vectors form a frame fixed by the Gram matrix and the triples, and ``v_aᵀ W v_b`` fixes
  every degree-2 copy in it.  Otherwise "no": no separation guarantee (lossy when no triple
  survives, or when the features are fewer than the ``dim − 3`` the quotient needs).
"""

from __future__ import annotations

from orbitspace.groups import O3, SO3
from orbitspace.invariants._properties import AE, Properties, isometric
from orbitspace.invariants.so3 import (
    bispectrum_dim,
    bispectrum_terms,
    copy_groups,
    norms_dim,
    power_spectrum_dim,
)

__all__ = [
    "so3_norms_properties",
    "so3_power_spectrum_properties",
    "so3_bispectrum_properties",
    "norms_lossless",
    "power_spectrum_complete",
]


def _is_o3(action) -> bool:
    return action.components()[0].irrep.group == "O(3)"


def _group_sizes(action) -> dict[tuple[int, int], int]:
    """Free copies per group key ``(l, p)`` (``p = 0`` under SO(3))."""
    return {key: len(starts) for key, starts in copy_groups(action)}


def _identity(out: int) -> Properties:
    return isometric(out, "trivial action: the identity", cross=True, differentiable="yes")


def norms_lossless(action: SO3 | O3) -> bool:
    """Whether the copy norms separate orbits (and are then an isometry); see the module doc.

    Examples
    --------
    >>> from orbitspace import O3, SO3
    >>> norms_lossless(SO3("2x0e + 1x1o")), norms_lossless(O3("1x0o + 1x1e"))
    (True, True)
    >>> norms_lossless(SO3("1x2e")), norms_lossless(O3("2x0o"))
    (False, False)
    """
    sizes = _group_sizes(action)
    if any(ell >= 2 for ell, _ in sizes):
        return False
    n_vectors = sum(m for (ell, _), m in sizes.items() if ell == 1)
    n_pseudo = sum(m for (ell, _), m in sizes.items() if ell == 0)
    return n_vectors <= 1 and n_pseudo <= 1


def power_spectrum_complete(action: SO3 | O3) -> bool:
    """Whether the power spectrum separates every pair of orbits; see the module doc.

    Examples
    --------
    >>> from orbitspace import O3, SO3
    >>> power_spectrum_complete(SO3("1x1o + 1x1e")), power_spectrum_complete(SO3("3x1o"))
    (True, False)
    >>> power_spectrum_complete(O3("3x1o")), power_spectrum_complete(O3("1x0o + 3x1o"))
    (True, False)
    """
    sizes = _group_sizes(action)
    if not sizes:
        return True
    if not _is_o3(action):
        return len(sizes) == 1 and next(iter(sizes)) == (1, 0) and sizes[(1, 0)] <= 2
    if not set(sizes) <= {(0, -1), (1, -1), (1, 1)}:
        return False
    if (1, -1) in sizes and (1, 1) in sizes:
        return False
    if sizes.get((1, 1), 0) > 2:
        return False
    return not ((0, -1) in sizes and sizes.get((1, -1), 0) > 2)


def _lossy(out: int, sep: str, lipschitz: float | None, diff: str, notes: str) -> Properties:
    return Properties(
        invariant=True,
        separating=sep,
        isometric=False,
        lipschitz=lipschitz,
        lower_lipschitz=None,
        continuous=True,
        differentiable=diff,
        cross_section=False,
        output_dim=out,
        notes=notes,
    )


def so3_norms_properties(action: SO3 | O3, d: int | None = None) -> Properties:
    """The declaration of ``norms`` on an SO3 / O3 action (see the module docstring)."""
    out = norms_dim(action)
    if not copy_groups(action):
        return _identity(out)
    if norms_lossless(action):
        notes = (
            "free copies of degree <= 1, at most one vector and one pseudoscalar: the group "
            "moves them over their spheres independently, so the norms are an isometry"
        )
        return isometric(out, notes, cross=out == action.dim, differentiable=AE)
    notes = "norm per copy (e3nn's o3.Norm); invariant scalars pass through; loses every angle"
    return _lossy(out, "no", 1.0, AE, notes + "; 1-Lipschitz")


def so3_power_spectrum_properties(action: SO3 | O3, d: int | None = None) -> Properties:
    """The declaration of ``power_spectrum`` on an SO3 / O3 action (see the module docstring)."""
    out = power_spectrum_dim(action)
    if not copy_groups(action):
        return _identity(out)
    sep = "yes" if power_spectrum_complete(action) else "no"
    notes = (
        "Gram of the copies of each degree (and parity, under O(3)); loses the orientation "
        "between degrees and the chirality of three or more vectors; quadratic"
    )
    return _lossy(out, sep, None, "yes", notes)


def _bispectrum_separating(action: SO3 | O3, copies: str) -> str:
    if power_spectrum_complete(action):
        return "yes"
    if not bispectrum_terms(action, copies=copies):
        return "no"  # no triple survives: the power spectrum, which is not complete
    sizes = _group_sizes(action)
    o3 = _is_o3(action)
    if len(sizes) == 1:
        ((ell, p), m) = next(iter(sizes.items()))
        if ell == 2 and m == 1:
            return "yes"  # the (2, 2, 2) triple survived: tr W^2 and tr W^3
        if ell == 1 and copies == "all":
            return "yes"  # Gram + every a . (b x c) (kept under O(3): 1e has parity +1)
    if copies == "all":
        vectors = [key for key in sizes if key[0] == 1]
        allowed_w = {(2, 0)} if not o3 else {(2, 1)}
        if len(vectors) == 1 and sizes[vectors[0]] >= 3 and set(sizes) - set(vectors) <= allowed_w:
            return "generic"
    return "no"


def so3_bispectrum_properties(
    action: SO3 | O3, d: int | None = None, copies: str = "first"
) -> Properties:
    """The declaration of ``bispectrum`` on an SO3 / O3 action (see the module docstring)."""
    out = bispectrum_dim(action, copies)
    if not copy_groups(action):
        return _identity(out)
    sep = _bispectrum_separating(action, copies)
    notes = (
        f"power spectrum plus the Clebsch-Gordan triple products of {copies} copies; ties "
        "degrees together and, with copies='all', fixes chirality; "
    )
    if sep == "no":
        if out == power_spectrum_dim(action):
            notes += "no triple survives here, so it is the (incomplete) power spectrum; "
        elif out < action.dim - 3:
            notes += f"{out} polynomial features < dim - 3 = {action.dim - 3}: lossy; "
        else:
            notes += "not known to be complete here (no separation guarantee); "
    return _lossy(out, sep, None, "yes", notes + "cubic")
