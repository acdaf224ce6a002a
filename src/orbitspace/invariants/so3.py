"""Classical invariants of SO(3) and O(3) on e3nn irreps: norms, power spectrum, bispectrum.

A latent of :class:`~orbitspace.SO3` / :class:`~orbitspace.O3` is read copy by copy (from the
action's :meth:`components`): copy ``a`` of degree ``l`` is a vector ``x_a`` of ``2l + 1``
coordinates moved by ``D^l(R)`` (times its parity ``p_a`` for a reflection in O(3)).  Copies
*transform alike* when they have the same degree (SO(3)) or the same degree and parity (O(3));
only those have invariant inner products.  Invariant scalars (``0e``, and ``0o`` under SO(3))
pass through every map unchanged.

What they separate (tested in ``tests/test_so3_invariants.py``; hard pairs in
:func:`so3_hard_pairs`):

- :func:`norms` (e3nn's ``o3.Norm``): one number per copy; blind to every angle.
- :func:`power_spectrum`: the Gram matrix of each group of copies that transform alike; it
  fixes each group up to its own rotation (its own O(2l+1) even), so it loses the relative
  orientation *between* degrees, and under O(3) the relation between parities.
- :func:`bispectrum`: adds the Clebsch-Gordan triple products ``Σ C x_a ⊗ x_b ⊗ x_c``; these
  tie degrees together (e.g. ``(1, 1, 2)``: ``vᵀ W v`` for a vector v and the symmetric matrix
  W of a degree-2 copy) and, with ``copies="all"``, fix chirality (``(1, 1, 1)`` is
  ``a · (b × c)``).  It is not complete: a triple of one copy with an odd degree sum vanishes
  identically, so a single ``1x3e`` copy keeps only its norm, and ``O3("1x1o + 1x1e")`` loses
  ``(a · b)²``; for atomic densities Pozdnyakov et al. (PRL 2020) give degenerate pairs.
  Cubic, hence not Lipschitz.
"""

from __future__ import annotations

from functools import lru_cache
from itertools import combinations_with_replacement

import numpy as np

from orbitspace._array import ArrayLike, like
from orbitspace.groups import O3, SO3, Action
from orbitspace.groups._clebsch_gordan import clebsch_gordan, triangle
from orbitspace.invariants._common import vector_latents
from orbitspace.invariants.so3_hard_pairs import HardPair, so3_hard_pairs

__all__ = [
    "is_3d",
    "norms",
    "norms_dim",
    "power_spectrum_dim",
    "bispectrum_dim",
    "power_spectrum",
    "bispectrum",
    "bispectrum_terms",
    "copy_groups",
    "HardPair",
    "so3_hard_pairs",
]

COPIES = ("first", "all")
GROUPS = ("SO(3)", "O(3)")


def is_3d(action: Action) -> bool:
    """Every component is an irrep of ``SO(3)`` or ``O(3)`` (an :class:`~orbitspace.SO3` /
    :class:`~orbitspace.O3` action, read through its traits only).

    Examples
    --------
    >>> from orbitspace import SO2, SO3
    >>> is_3d(SO3("1x0e + 2x1o")), is_3d(SO2("1x1"))
    (True, False)
    """
    return action.has_components() and all(c.irrep.group in GROUPS for c in action.components())


def _copies(action: Action, what: str) -> list[tuple[int, int, int, bool]]:
    """``(start, l, parity, trivial)`` of every copy, in layout order; TypeError if not 3-D."""
    comps = action.components() if action.has_components() else ()
    if not comps or any(c.irrep.group not in GROUPS for c in comps):
        raise TypeError(f"{what} needs an SO3 or O3 action (e3nn irreps); received {action!r}")
    out = []
    for c in comps:
        for sl in c.copy_slices():
            out.append((sl.start, int(c.irrep.degree), int(c.irrep.parity), c.irrep.trivial))
    return out


def copy_groups(action: Action) -> list[tuple[tuple[int, int], list[int]]]:
    """The non-trivial copies grouped by how they transform, in order of first appearance.

    Returns ``[((l, p), [start, ...]), ...]``: under SO(3) the key is ``(l, 0)`` (parity does
    not act), under O(3) ``(l, p)``.

    Examples
    --------
    >>> from orbitspace import SO3, O3
    >>> copy_groups(SO3("1x0e + 1x1o + 1x1e"))
    [((1, 0), [1, 4])]
    >>> copy_groups(O3("1x0e + 1x1o + 1x1e"))
    [((1, -1), [1]), ((1, 1), [4])]
    """
    copies = _copies(action, "copy_groups")
    o3 = _is_o3(action)
    groups: dict[tuple[int, int], list[int]] = {}
    for start, ell, p, trivial in copies:
        if not trivial:
            groups.setdefault((ell, p if o3 else 0), []).append(start)
    return list(groups.items())


def norms_dim(action: Action) -> int:
    """Output size of :func:`norms`: the number of copies (from the components).

    Examples
    --------
    >>> from orbitspace import SO3
    >>> norms_dim(SO3("2x0e + 3x1o"))
    5
    """
    return len(_copies(action, "norms_dim"))


def power_spectrum_dim(action: Action) -> int:
    """Output size of :func:`power_spectrum`: invariant scalars plus ``m (m + 1) / 2`` per group
    of :func:`copy_groups` (from the components).

    Examples
    --------
    >>> from orbitspace import SO3
    >>> power_spectrum_dim(SO3("2x0e + 3x1o + 1x1e + 2x2e"))
    15
    """
    n_scalars = sum(1 for *_, trivial in _copies(action, "power_spectrum_dim") if trivial)
    return n_scalars + sum(len(s) * (len(s) + 1) // 2 for _, s in copy_groups(action))


def bispectrum_dim(action: Action, copies: str = "first") -> int:
    """Output size of :func:`bispectrum`: :func:`power_spectrum_dim` plus the number of
    :func:`bispectrum_terms` (from the components and the Clebsch-Gordan tensors).

    Examples
    --------
    >>> from orbitspace import SO3
    >>> bispectrum_dim(SO3("1x1o + 1x2e"))
    4
    """
    return power_spectrum_dim(action) + len(bispectrum_terms(action, copies=copies))


def _is_o3(action: Action) -> bool:
    return action.components()[0].irrep.group == "O(3)"


def _scalars(Xn: np.ndarray, copies: list[tuple[int, int, int, bool]]) -> np.ndarray:
    idx = [s for s, _, _, t in copies if t]
    return Xn[..., idx]


def norms(X: ArrayLike, action: SO3 | O3) -> ArrayLike:
    """The norm of every copy, as e3nn's ``o3.Norm``; invariant scalars pass through.

    1-Lipschitz in the quotient distance; blind to every relative angle.

    Parameters
    ----------
    X : array of shape (..., dim)
    action : SO3 or O3

    Returns
    -------
    array of shape (..., n_copies), copies in layout order

    Examples
    --------
    >>> from orbitspace import SO3
    >>> norms(np.array([-2.0, 3.0, 0.0, 4.0]), SO3("1x0e + 1x1o")).tolist()
    [-2.0, 5.0]
    """
    copies = _copies(action, "norms")
    Xn = vector_latents(X, action)
    cols = [
        Xn[..., s] if t else np.linalg.norm(Xn[..., s : s + 2 * ell + 1], axis=-1)
        for s, ell, _, t in copies
    ]
    return like(np.stack(cols, axis=-1), X)


def _gram_columns(Xn: np.ndarray, action: Action) -> list[np.ndarray]:
    copies = _copies(action, "power_spectrum")
    cols = [_scalars(Xn, copies)]
    for (ell, _), starts in copy_groups(action):
        n = 2 * ell + 1
        V = np.stack([Xn[..., s : s + n] for s in starts], axis=-2)  # (..., m, 2l+1)
        G = V @ np.swapaxes(V, -1, -2)
        iu = np.triu_indices(len(starts))
        cols.append(G[..., iu[0], iu[1]])
    return cols


def power_spectrum(X: ArrayLike, action: SO3 | O3) -> ArrayLike:
    """The Gram matrix of each group of copies that transform alike (upper triangle).

    Output, in order: the invariant scalars (passed through), then for each group of
    :func:`copy_groups` the entries ``<x_a, x_b>``, ``a <= b``, of its Gram matrix (row-major
    upper triangle).  It determines each group up to a rotation of its own, so it loses the
    orientation of one degree relative to another; quadratic, hence not Lipschitz.

    Parameters
    ----------
    X : array of shape (..., dim)
    action : SO3 or O3

    Returns
    -------
    array of shape (..., n_scalars + Σ_groups m (m + 1) / 2)

    Examples
    --------
    >>> from orbitspace import SO3
    >>> power_spectrum(np.array([1.0, 0.0, 0.0, 0.0, 2.0, 0.0]), SO3("2x1o")).tolist()
    [1.0, 0.0, 4.0]
    """
    Xn = vector_latents(X, action)
    return like(np.concatenate(_gram_columns(Xn, action), axis=-1), X)


def _vanishes(C: np.ndarray, same: tuple[bool, bool, bool]) -> bool:
    """Whether ``Σ C x ⊗ y ⊗ z`` is identically zero when copies repeat (``same``: 01, 12, 02)."""
    if same[0] and same[1]:
        S = sum(np.transpose(C, p) for p in [(0, 1, 2), (1, 0, 2), (0, 2, 1), (2, 1, 0)])
        S = S + np.transpose(C, (1, 2, 0)) + np.transpose(C, (2, 0, 1))
    elif same[0]:
        S = C + np.transpose(C, (1, 0, 2))
    elif same[1]:
        S = C + np.transpose(C, (0, 2, 1))
    elif same[2]:
        S = C + np.transpose(C, (2, 1, 0))
    else:
        return False
    return bool(np.abs(S).max() < 1e-10)


def bispectrum_terms(
    action: Action, *, copies: str = "first"
) -> list[tuple[tuple[int, int, int], tuple[int, int, int]]]:
    """The triple products :func:`bispectrum` appends: ``((start_a, start_b, start_c), (la, lb, lc))``.

    Triples ``a <= b <= c`` (in layout order) of non-trivial copies with
    ``|la - lb| <= lc <= la + lb``, with parity product +1 under O(3), leaving out those that
    vanish identically (a repeated copy in an antisymmetric slot of the Clebsch-Gordan tensor,
    e.g. any triple of one copy with an odd degree sum).  ``copies="first"`` uses the first
    copy of each :func:`copy_groups` group only; ``"all"`` every copy (cubic in their number).

    Examples
    --------
    >>> from orbitspace import SO3
    >>> bispectrum_terms(SO3("1x1o + 1x2e"))
    [((0, 0, 3), (1, 1, 2)), ((3, 3, 3), (2, 2, 2))]
    """
    if copies not in COPIES:
        raise ValueError(f"copies must be one of {COPIES}; received {copies!r}")
    return list(_terms(action, copies))


@lru_cache(maxsize=256)
def _terms(action: Action, copies: str) -> tuple:
    groups = copy_groups(action)
    o3 = _is_o3(action)
    pool = []  # (start, l, parity)
    for (ell, p), starts in groups:
        for s in starts[:1] if copies == "first" else starts:
            pool.append((s, ell, p))
    pool.sort()
    out = []
    for a, b, c in combinations_with_replacement(range(len(pool)), 3):
        (sa, la, pa), (sb, lb, pb), (sc, lc, pc) = pool[a], pool[b], pool[c]
        if not triangle(la, lb, lc) or (o3 and pa * pb * pc != 1):
            continue
        if _vanishes(clebsch_gordan(la, lb, lc), (a == b, b == c, a == c)):
            continue
        out.append(((sa, sb, sc), (la, lb, lc)))
    return tuple(out)


def bispectrum(X: ArrayLike, action: SO3 | O3, *, copies: str = "first") -> ArrayLike:
    """The power spectrum followed by the Clebsch-Gordan triple products of the copies.

    For each term ``((a, b, c), (la, lb, lc))`` of :func:`bispectrum_terms` the invariant
    ``Σ_ijk C^{la lb lc}_ijk x_a[i] x_b[j] x_c[k]`` (``C`` real and unit-norm, our
    :func:`~orbitspace.groups._clebsch_gordan.clebsch_gordan`, e3nn's ``wigner_3j`` up to
    sign).  Exactly invariant under SO(3), and under O(3) since kept triples have parity
    product +1.  It ties degrees together and (``copies="all"``) fixes chirality, but it is
    not complete (see the module docstring); cubic, hence not Lipschitz.

    Parameters
    ----------
    X : array of shape (..., dim)
    action : SO3 or O3
    copies : {"first", "all"}

    Returns
    -------
    array of shape (..., power_spectrum_dim + len(bispectrum_terms(action, copies=copies)))

    Examples
    --------
    >>> from orbitspace import SO3
    >>> a, b, c = np.eye(3)
    >>> float(bispectrum(np.concatenate([a, b, c]), SO3("3x1o"), copies="all")[-1] ** 2 * 6)
    1.0
    """
    Xn = vector_latents(X, action)
    terms = bispectrum_terms(action, copies=copies)
    cols = _gram_columns(Xn, action)
    if terms:
        trip = []
        for (sa, sb, sc), (la, lb, lc) in terms:
            C = clebsch_gordan(la, lb, lc)
            xa = Xn[..., sa : sa + 2 * la + 1]
            xb = Xn[..., sb : sb + 2 * lb + 1]
            xc = Xn[..., sc : sc + 2 * lc + 1]
            trip.append(np.einsum("...i,...j,...k,ijk->...", xa, xb, xc, C, optimize=True))
        cols.append(np.stack(trip, axis=-1))
    return like(np.concatenate(cols, axis=-1), X)
