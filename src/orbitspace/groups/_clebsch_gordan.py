"""Real Clebsch-Gordan (Wigner 3j) tensors consistent with our Wigner matrices.

``clebsch_gordan(l1, l2, l3)`` is the invariant tensor ``C`` of ``D^l1 ⊗ D^l2 ⊗ D^l3`` in e3nn's
real basis (our :func:`~orbitspace.groups._wigner.wigner_D`), unit Frobenius norm:
``einsum("ia,jb,kc,abc->ijk", D1, D2, D3, C) == C`` for every rotation.

How it is computed: in e3nn's complex basis (``change_basis_real_to_complex``) the generator of
y-rotations is ``diag(i m)``, so an invariant tensor lives on ``m1 + m2 + m3 = 0``; the generator
of x-rotations ``(J+ + J-)/2`` is real and maps that support to ``m1 + m2 + m3 = ±1``.  Its
null space on the support (a dense system of at most ``2 d1 d2 x d1 d2``) is one-dimensional
when the triangle rule ``|l1 - l2| <= l3 <= l1 + l2`` holds; the null vector is carried back to
the real basis.  Agreement with ``e3nn.o3.wigner_3j`` (up to sign) is tested.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from orbitspace.groups._wigner import _real_to_complex, _su2_generators

__all__ = ["clebsch_gordan", "triangle"]


def triangle(l1: int, l2: int, l3: int) -> bool:
    """Whether ``|l1 - l2| <= l3 <= l1 + l2`` (a nonzero invariant exists)."""
    return abs(l1 - l2) <= l3 <= l1 + l2


@cache
def clebsch_gordan(l1: int, l2: int, l3: int) -> np.ndarray:
    """The real invariant tensor of degrees ``(l1, l2, l3)``, shape ``(2l1+1, 2l2+1, 2l3+1)``.

    Unit Frobenius norm; the sign is fixed by making the largest-magnitude entry (first in
    C order among ties) positive.  Read-only (cached).

    Examples
    --------
    >>> C = clebsch_gordan(1, 1, 0)  # the inner product of two vectors
    >>> bool(np.allclose(C[:, :, 0], np.eye(3) / np.sqrt(3)))
    True
    """
    ls = tuple(int(v) for v in (l1, l2, l3))
    if min(ls) < 0 or not triangle(*ls):
        raise ValueError(
            f"clebsch_gordan expects degrees with |l1 - l2| <= l3 <= l1 + l2; received {ls}"
        )
    dims = [2 * v + 1 for v in ls]
    X = [_su2_generators(v)[0].real for v in ls]  # (J+ + J-)/2, real in the complex basis
    # the support m1 + m2 + m3 = 0, as index triples
    i1, i2 = np.meshgrid(np.arange(dims[0]), np.arange(dims[1]), indexing="ij")
    i3 = ls[2] - (i1 - ls[0]) - (i2 - ls[1])
    ok = (i3 >= 0) & (i3 < dims[2])
    cols = np.stack([i1[ok], i2[ok], i3[ok]], axis=1)  # (n_support, 3)
    # rows: the images, m1 + m2 + m3 = +1 or -1; each is (axis, shift)
    row_of: dict[tuple[int, int, int], int] = {}
    entries: list[tuple[int, int, float]] = []
    for c, idx in enumerate(cols):
        for axis in range(3):
            column = X[axis][:, idx[axis]]
            for target in np.flatnonzero(column):
                key = list(idx)
                key[axis] = int(target)
                r = row_of.setdefault(tuple(key), len(row_of))
                entries.append((r, c, float(column[target])))
    A = np.zeros((max(len(row_of), 1), len(cols)))
    for r, c, v in entries:
        A[r, c] += v
    _, s, Vt = np.linalg.svd(A, full_matrices=A.shape[0] < A.shape[1])
    s_full = np.concatenate([s, np.zeros(len(cols) - len(s))])
    if s_full[-1] > 1e-9 or (len(cols) > 1 and s_full[-2] < 1e-6):  # pragma: no cover
        raise RuntimeError(f"no unique invariant of degrees {ls}: singular values {s_full[-2:]}")
    Tc = np.zeros(dims)
    Tc[cols[:, 0], cols[:, 1], cols[:, 2]] = Vt[-1]
    Q = [_real_to_complex(v) for v in ls]
    Tr = np.einsum("ma,nb,pc,mnp->abc", Q[0].conj(), Q[1].conj(), Q[2].conj(), Tc, optimize=True)
    flat = Tr.reshape(-1)
    Tr = Tr / (flat[np.argmax(np.abs(flat))] / np.abs(flat).max())  # global phase off
    if np.abs(Tr.imag).max() > 1e-9:  # pragma: no cover - a construction invariant
        raise RuntimeError(f"the invariant of degrees {ls} is not real in e3nn's basis")
    out = Tr.real / np.linalg.norm(Tr.real)
    flat = out.reshape(-1)
    big = np.abs(flat) >= np.abs(flat).max() - 1e-12
    if flat[np.argmax(big)] < 0:
        out = -out
    out = np.ascontiguousarray(out)
    out.setflags(write=False)
    return out
