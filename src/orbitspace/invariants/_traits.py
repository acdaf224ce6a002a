"""What the maps ask an action, through its traits only (never its class).

``copies(action)`` lists every copy of every isotypic component; the planar helpers read an
action whose components are irreps of the rotation groups of the plane (``SO(2)``, ``C_N``),
whose 2-D irreps are of complex type (``g`` acts on ``a + ib`` by ``e^{ikθ}``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from orbitspace.groups import Action, Irrep
from orbitspace.quotient import find_solver

__all__ = [
    "copies",
    "is_planar",
    "passes_through",
    "sphere_transitive",
    "norm_lossless",
    "one_free_block",
    "planar_sizes",
    "solvable",
]

_PLANAR = re.compile(r"SO\(2\)|C_\d+")


def copies(action: Action) -> Iterator[tuple[Irrep, slice]]:
    """``(irrep, slice)`` for every copy of every component, in the order of the latent."""
    for comp in action.components():
        for sl in comp.copy_slices():
            yield comp.irrep, sl


def is_planar(action: Action) -> bool:
    """Every component is an irrep (or the regular field) of ``SO(2)`` or a cyclic ``C_N``."""
    return action.has_components() and all(
        _PLANAR.fullmatch(c.irrep.group) for c in action.components()
    )


def passes_through(irrep: Irrep) -> bool:
    """A 1-D trivial irrep: its coordinate is invariant and passes through unchanged."""
    return irrep.kind == "irrep" and irrep.trivial and irrep.dim == 1


def sphere_transitive(irrep: Irrep, action: Action) -> bool:
    """The group moves one copy of ``irrep`` over its whole sphere (so its norm loses nothing):
    a non-trivial 1-D irrep (``±1``), a 2-D irrep of an infinite group (all rotations), or a
    vector (degree 1) of SO(3) / O(3) (rotations are transitive on the 2-sphere)."""
    if irrep.kind != "irrep" or irrep.trivial:
        return False
    if irrep.group in ("SO(3)", "O(3)"):
        return irrep.degree == 1
    return irrep.dim == 1 or (irrep.dim == 2 and not action.is_finite)


def norm_lossless(action: Action, pool: str | None) -> bool:
    """Block norms (``pool=None``) or group pooling keep everything: besides pass-through
    scalars (and, when pooling, 1-D regular fields) at most one copy, moved over its sphere."""
    if not action.has_components():
        return False
    free = 0
    for irrep, _ in copies(action):
        if passes_through(irrep):
            continue
        if irrep.kind == "regular":
            if pool is not None and irrep.dim == 1:
                continue
            return False
        if not sphere_transitive(irrep, action):
            return False
        free += 1
    return free <= 1


def one_free_block(action: Action) -> bool:
    """At most one non-trivial copy, moved over its sphere: the quotient is
    ``(scalars) x [0, inf)`` isometrically."""
    return norm_lossless(action, None)


def planar_sizes(action: Action) -> tuple[int, int, dict[int, int]]:
    """Sizes of the Fourier view of a planar action: ``(n_scalars, n_signs, {k: m_k})``.

    Scalars: trivial irreps and the mean of each regular field; signs: the 1-D non-trivial
    irreps and the Nyquist coefficient of each even regular field; ``m_k``: the copies of
    frequency ``k`` (2-D irreps and the DFT coefficients ``1..(N-1)//2`` of regular fields).
    """
    scalars, signs, freqs = 0, 0, {}
    for irrep, _ in copies(action):
        if irrep.kind == "regular":
            N = irrep.dim
            scalars += 1
            for j in range(1, (N - 1) // 2 + 1):
                freqs[j] = freqs.get(j, 0) + 1
            signs += int(N % 2 == 0 and N > 1)
        elif irrep.dim == 1:
            if irrep.trivial:
                scalars += 1
            else:
                signs += 1
        else:
            k = int(irrep.degree)
            freqs[k] = freqs.get(k, 0) + 1
    return scalars, signs, dict(sorted(freqs.items()))


def solvable(action: Action) -> bool:
    """A solver for ``max_g <x, ρ(g) y>`` is registered for the action (or it is finite)."""
    try:
        find_solver(action)
    except ValueError:
        return False
    return True
