"""Declared :class:`Properties` of the SO(3) / O(3) invariants, for the invariant-map registry.

Each function takes the action (and the map's options) and returns what the map guarantees;
they read the action's traits only (:meth:`components`, via :func:`copy_groups`).

Separation, case by case (``m`` = number of copies in a group that transform alike):

- norms: "yes" (and isometric) when at most one copy is non-trivial and it has degree
  ``l <= 1`` (rotations are transitive on the spheres of degree 1; a pseudoscalar's orbit is
  ``{s, -s}``); otherwise "no" (two copies lose their angle, one copy of ``l >= 2`` keeps only
  its norm).
- power spectrum: "yes" when there is at most one non-trivial group and it is of degree 0, or of
  degree 1 with O(3) acting on it as all of O(3) (parity ``o`` under O3), or of degree 1 with
  ``m <= 2`` (two vectors and their mirror image are related by a rotation); otherwise "no"
  (relative orientation between groups, chirality of three vectors, a single ``l >= 2`` copy).
- bispectrum: "yes" exactly where the power spectrum is; otherwise "no" declared (it is not
  complete in general, see :func:`orbitspace.invariants.so3.so3_hard_pairs`).
"""

from __future__ import annotations

import numpy as np

from orbitspace.groups import O3, SO3
from orbitspace.invariants._properties import Properties
from orbitspace.invariants.so3 import bispectrum, copy_groups, norms, power_spectrum

__all__ = ["so3_norms_properties", "so3_power_spectrum_properties", "so3_bispectrum_properties"]

AE = "almost everywhere"


def _out_dim(fn, action, **kw) -> int:
    return int(np.asarray(fn(np.zeros((1, action.dim)), action, **kw)).shape[-1])


def _is_o3(action) -> bool:
    return action.components()[0].irrep.group == "O(3)"


def _trivial(action) -> bool:
    return not copy_groups(action)


def _identity(out: int) -> Properties:
    return Properties(True, "yes", True, 1.0, 1.0, True, "yes", True, out, "trivial action")


def so3_norms_properties(action: SO3 | O3, d: int | None = None) -> Properties:
    out = _out_dim(norms, action)
    if _trivial(action):
        return _identity(out)
    groups = copy_groups(action)
    n_free = sum(len(starts) for _, starts in groups)
    if n_free == 1 and groups[0][0][0] <= 1:
        notes = "one non-trivial copy of degree <= 1: its norm is an isometry"
        return Properties(True, "yes", True, 1.0, 1.0, True, AE, False, out, notes)
    notes = "norm per copy; 1-Lipschitz; invariant scalars pass through; loses every angle"
    return Properties(True, "no", False, 1.0, None, True, AE, False, out, notes)


def _gram_complete(action) -> bool:
    groups = copy_groups(action)
    if len(groups) > 1:
        return False
    if not groups:
        return True
    (ell, parity), starts = groups[0]
    if ell == 0:
        return True
    if ell != 1:
        return False
    full_o3 = _is_o3(action) and parity == -1  # a det -1 element acts on 1o as itself
    return full_o3 or len(starts) <= 2


def so3_power_spectrum_properties(action: SO3 | O3, d: int | None = None) -> Properties:
    out = _out_dim(power_spectrum, action)
    if _trivial(action):
        return _identity(out)
    sep = "yes" if _gram_complete(action) else "no"
    notes = (
        "Gram of the copies of each degree (and parity, under O(3)); loses the orientation "
        "between degrees and the chirality of three or more vectors; quadratic"
    )
    return Properties(True, sep, False, None, None, True, "yes", False, out, notes)


def so3_bispectrum_properties(
    action: SO3 | O3, d: int | None = None, copies: str = "first"
) -> Properties:
    out = _out_dim(bispectrum, action, copies=copies)
    if _trivial(action):
        return _identity(out)
    sep = "yes" if _gram_complete(action) else "no"
    notes = (
        "power spectrum plus Clebsch-Gordan triple products; ties degrees together and, with "
        "copies='all', fixes chirality; not complete in general (so3_hard_pairs); cubic"
    )
    return Properties(True, sep, False, None, None, True, "yes", False, out, notes)
