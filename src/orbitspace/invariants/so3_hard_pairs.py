"""A bank of SO(3) / O(3) pairs in different orbits that classical invariants cannot tell apart."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from orbitspace._validation import check_random_state
from orbitspace.groups import O3, SO3, Action
from orbitspace.groups._clebsch_gordan import clebsch_gordan
from orbitspace.groups._wigner import wigner_D

__all__ = ["HardPair", "so3_hard_pairs"]


@dataclass(frozen=True)
class HardPair:
    """Two latents ``x``, ``y`` of ``action`` in different orbits.

    Attributes
    ----------
    name : str
    action : SO3 or O3
    x, y : arrays of shape (action.dim,)
    blind : tuple of str
        The invariants of :mod:`orbitspace.invariants.so3` that give ``x`` and ``y`` the same
        value (``"bispectrum"`` means with ``copies="all"``, hence also ``"first"``).
    separated_by : str
        What tells them apart (and so proves the orbits differ).
    """

    name: str
    action: Action
    x: np.ndarray
    y: np.ndarray
    blind: tuple[str, ...]
    separated_by: str


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.standard_normal(n)
    return v / np.linalg.norm(v)


def so3_hard_pairs(random_state: Any = 0) -> list[HardPair]:
    """Pairs of different orbits on which norms and the power spectrum agree.

    - ``relative_orientation`` (SO3 and O3 ``"1x1o + 1x2e"``): ``(v, w)`` against
      ``(v, D^2(Q) w)``: each degree alone is the same, their relative orientation is not;
      the bispectrum term ``(1, 1, 2)`` (``vᵀ W v``) separates them.
    - ``chirality`` (SO3 ``"3x1o"``): ``(a, b, c)`` against its mirror image ``(-a, -b, -c)``
      (the same orbit under O(3)); every first-copy triple vanishes, the ``copies="all"``
      bispectrum term ``a · (b × c)`` changes sign.
    - ``single_degree`` (SO3 ``"1x3e"``): two generic degree-3 vectors of equal norm; every
      invariant here is blind (each triple of one odd-degree copy vanishes); a quartic
      invariant, the norm of the degree-2 part of ``x ⊗ x``, separates them.
    - ``parity_mix`` (O3 ``"1x1o + 1x1e"``): ``(a, b)`` against ``(a, b')`` with
      ``|b'| = |b|`` and ``(a · b')² != (a · b)²``: the vector and the pseudovector are never
      compared by the O(3) power spectrum and meet in no non-vanishing triple.

    Returns
    -------
    list of :class:`HardPair`

    Examples
    --------
    >>> [p.name for p in so3_hard_pairs()]
    ['relative_orientation', 'relative_orientation_o3', 'chirality', 'single_degree', 'parity_mix']
    """
    rng = check_random_state(random_state)
    pairs = []
    ps_blind = ("norms", "power_spectrum")
    for name, cls in [("relative_orientation", SO3), ("relative_orientation_o3", O3)]:
        action = cls("1x1o + 1x2e")
        x = rng.standard_normal(action.dim)
        # rotate the degree-2 part only, by the candidate rotation that moves v^T W v most
        Qs = SO3("1x0e").sample(8, random_state=rng)
        w2 = np.einsum("nij,j->ni", wigner_D(2, Qs), x[3:])
        C = clebsch_gordan(1, 1, 2)
        b112 = np.einsum("ijk,i,j,nk->n", C, x[:3], x[:3], w2)
        y = x.copy()
        y[3:] = w2[np.argmax(np.abs(b112 - np.einsum("ijk,i,j,k->", C, x[:3], x[:3], x[3:])))]
        pairs.append(HardPair(name, action, x, y, ps_blind, "bispectrum term (1, 1, 2)"))
    action = SO3("3x1o")
    x = rng.standard_normal(9)
    if abs(np.linalg.det(x.reshape(3, 3))) < 0.3:  # keep it clearly chiral
        x[6:] += 2 * np.cross(x[:3], x[3:6])
    pairs.append(
        HardPair(
            "chirality",
            action,
            x,
            -x,
            ps_blind + ("bispectrum(copies='first')",),
            "bispectrum(copies='all'): a · (b × c)",
        )
    )
    action = SO3("1x3e")
    x = rng.standard_normal(7)
    cand = rng.standard_normal((8, 7))
    cand *= np.linalg.norm(x) / np.linalg.norm(cand, axis=1, keepdims=True)
    C = clebsch_gordan(3, 3, 2)
    quartic = np.linalg.norm(np.einsum("ijk,ni,nj->nk", C, cand, cand), axis=1)
    y = cand[np.argmax(np.abs(quartic - np.linalg.norm(np.einsum("ijk,i,j->k", C, x, x))))]
    pairs.append(
        HardPair(
            "single_degree",
            action,
            x,
            y,
            ps_blind + ("bispectrum",),
            "a quartic invariant: the norm of the degree-2 part of x ⊗ x",
        )
    )
    action = O3("1x1o + 1x1e")
    a, b = rng.standard_normal(3), rng.standard_normal(3)
    # b' : same norm as b, at another angle to a (half-way towards a's orthogonal plane)
    perp = np.cross(a, _unit(rng, 3))
    b2 = np.linalg.norm(b) * _unit_mix(a / np.linalg.norm(a), perp / np.linalg.norm(perp), b)
    pairs.append(
        HardPair(
            "parity_mix",
            action,
            np.concatenate([a, b]),
            np.concatenate([a, b2]),
            ps_blind + ("bispectrum",),
            "(a · b)², the squared pairing of the vector and the pseudovector",
        )
    )
    return pairs


def _unit_mix(u: np.ndarray, v: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A unit vector in span(u, v) whose angle to ``u`` differs clearly from that of ``b``."""
    cos_b = abs(b @ u) / np.linalg.norm(b)
    cos_new = 0.9 if cos_b < 0.5 else 0.1
    return cos_new * u + np.sqrt(1 - cos_new**2) * v
