"""Spectral invariants: the Fourier view of SO(2) / C_N latents, power spectrum, bispectrum.

Every latent of a *planar* action (all components irreps or regular fields of ``SO(2)`` or a
cyclic ``C_N``, see :func:`orbitspace.invariants._traits.is_planar`) is read in its *Fourier
view*: the invariant scalars (trivial irreps, and the mean of each regular field), the sign
copies (the 1-dimensional sign irrep of C_N for even N, and the Nyquist coefficient of each
regular field) and, for each frequency ``k``, its copies as complex numbers ``c`` on which ``g``
acts by ``c -> e^{ikθ} c``.  A 2-D irrep copy ``(a, b)`` is ``c = a + ib``; a regular field
``v`` contributes ``conj(FFT(v)_k)``, scaled so the view is an orthogonal change of coordinates
(``Σ|c|² = ‖v‖²``).  The power spectrum of any other action given by its components is the
real Gram matrix of the copies of each irrep.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from orbitspace._array import ArrayLike, like
from orbitspace.groups import Action, Irrep
from orbitspace.invariants import so3
from orbitspace.invariants._common import vector_latents
from orbitspace.invariants._traits import copies, is_planar, passes_through, planar_sizes
from orbitspace.invariants.blocks import group_pool, norms

__all__ = [
    "FourierView",
    "fourier_view",
    "norms",
    "power_spectrum",
    "power_spectrum_dim",
    "bispectrum",
    "bispectrum_dim",
    "group_pool",
    "bispectrum_triples",
    "bispectrum_is_complete",
    "is_so2",
]

COPIES = ("first", "all")


def is_so2(action: Action) -> bool:
    """Every component is an irrep of ``SO(2)`` (what the bispectrum is implemented for)."""
    return action.has_components() and all(c.irrep.group == "SO(2)" for c in action.components())


def _planar(action: Action, what: str) -> Action:
    if not is_planar(action):
        raise TypeError(
            f"{what} needs an action made of SO(2) or C_N irreps / regular fields; "
            f"received {action!r}"
        )
    return action


@dataclass(frozen=True)
class FourierView:
    """A latent in frequency coordinates (see the module docstring); batch dims lead."""

    scalars: np.ndarray  # (..., s) real, invariant
    signs: np.ndarray  # (..., t) real, multiplied by (-1)^g
    freqs: dict[int, np.ndarray]  # k -> complex (..., m_k), multiplied by e^{ikθ}


def fourier_view(X: Any, action: Action) -> FourierView:
    """The Fourier view of latents ``X`` of shape ``(..., dim)`` (numpy in, numpy out)."""
    action = _planar(action, "fourier_view")
    Xn = vector_latents(X, action)
    scalars: list[np.ndarray] = []
    signs: list[np.ndarray] = []
    freqs: dict[int, list[np.ndarray]] = {}
    for irrep, sl in copies(action):
        block = Xn[..., sl]
        if irrep.kind == "regular":
            N = irrep.dim
            V = np.fft.fft(block, axis=-1)
            scalars.append(V[..., 0].real / np.sqrt(N))
            for j in range(1, (N - 1) // 2 + 1):
                freqs.setdefault(j, []).append(np.conj(V[..., j]) * np.sqrt(2.0 / N))
            if N % 2 == 0 and N > 1:
                signs.append(V[..., N // 2].real / np.sqrt(N))
        elif irrep.dim == 1:
            (scalars if irrep.trivial else signs).append(block[..., 0])
        else:
            freqs.setdefault(int(irrep.degree), []).append(block[..., 0] + 1j * block[..., 1])
    batch = Xn.shape[:-1]

    def stack(parts: list[np.ndarray], dtype: Any) -> np.ndarray:
        return np.stack(parts, axis=-1) if parts else np.zeros(batch + (0,), dtype=dtype)

    return FourierView(
        scalars=stack(scalars, float),
        signs=stack(signs, float),
        freqs={k: np.stack(v, axis=-1) for k, v in sorted(freqs.items())},
    )


def _gram_features(view: FourierView) -> list[np.ndarray]:
    cols = [view.scalars]
    s = view.signs
    if s.shape[-1]:
        iu = np.triu_indices(s.shape[-1])
        cols.append((s[..., :, None] * s[..., None, :])[..., iu[0], iu[1]])
    for c in view.freqs.values():
        gram = c[..., :, None] * np.conj(c[..., None, :])  # c_i conj(c_j)
        m = c.shape[-1]
        cols.append(np.abs(c) ** 2)
        if m > 1:
            iu = np.triu_indices(m, k=1)
            off = gram[..., iu[0], iu[1]]
            cols.extend([off.real, off.imag])
    return cols


def _irrep_groups(action: Action) -> tuple[list[slice], dict[Irrep, list[slice]]]:
    """Pass-through scalars, and the copies of every other irrep (first-appearance order)."""
    scalars: list[slice] = []
    groups: dict[Irrep, list[slice]] = {}
    for irrep, sl in copies(action):
        if passes_through(irrep):
            scalars.append(sl)
        else:
            groups.setdefault(irrep, []).append(sl)
    return scalars, groups


def _real_gram_features(Xn: np.ndarray, action: Action) -> np.ndarray:
    scalars, groups = _irrep_groups(action)
    cols = [Xn[..., sl] for sl in scalars]
    for parts in groups.values():
        C = np.stack([Xn[..., sl] for sl in parts], axis=-2)  # (..., m, dim)
        gram = C @ np.swapaxes(C, -1, -2)
        iu = np.triu_indices(len(parts))
        cols.append(gram[..., iu[0], iu[1]])
    return np.concatenate(cols, axis=-1) if cols else np.zeros(Xn.shape[:-1] + (0,))


def power_spectrum_dim(action: Action) -> int:
    """Output size of :func:`power_spectrum` on ``action``, from its components."""
    if so3.is_3d(action):  # SO(3) / O(3): grouped by degree, Clebsch–Gordan triples
        return so3.power_spectrum_dim(action)
    if is_planar(action):
        s, t, freqs = planar_sizes(action)
        return s + t * (t + 1) // 2 + sum(m * m for m in freqs.values())
    scalars, groups = _irrep_groups(action)
    return len(scalars) + sum(len(p) * (len(p) + 1) // 2 for p in groups.values())


def power_spectrum(X: ArrayLike, action: Action) -> ArrayLike:
    """Inner products within each irrep type: the Gram matrix of its copies.

    For SO(2) and C_N (whose 2-D irreps are of complex type) the Gram is Hermitian, in the
    Fourier view.  Output, in order: the invariant scalars (passed through), the upper triangle
    of the Gram of the sign copies, then per frequency (ascending) ``|c_i|²`` for each copy and
    the real and imaginary parts of ``c_i conj(c_j)`` for ``i < j``.  Regular blocks of C_N
    enter through their DFT.  It determines each frequency up to a phase of its own, so it
    loses the relative phase between frequencies; quadratic, hence not Lipschitz.

    For any other action given by its components: the trivial 1-D copies pass through, then
    for every other irrep (in order of first appearance) the upper triangle (with diagonal) of
    the real Gram ``<x_i, x_j>`` of its copies, invariant because ``g`` acts on every copy by
    the same orthogonal matrix.

    Parameters
    ----------
    X : array of shape (..., dim)
    action : Action with components (``action.has_components()``)

    Returns
    -------
    array of shape (..., power_spectrum_dim(action)); planar: ``s + t(t+1)/2 + Σ_k m_k²``

    Examples
    --------
    >>> from orbitspace import SO2
    >>> power_spectrum(np.array([1.0, 0.0, 0.0, 2.0]), SO2("2x1")).tolist()
    [1.0, 4.0, 0.0, -2.0]
    """
    if so3.is_3d(action):  # SO(3) / O(3): grouped by degree, Clebsch–Gordan triples
        return so3.power_spectrum(X, action)
    if not action.has_components():
        raise TypeError(
            f"power_spectrum needs an action given as a sum of irreps (components()); "
            f"received {action!r}"
        )
    if not is_planar(action):
        return like(_real_gram_features(vector_latents(X, action), action), X)
    view = fourier_view(X, action)
    return like(np.concatenate(_gram_features(view), axis=-1), X)


def _frequencies(action: Action) -> list[int]:
    """The distinct nonzero frequencies (degrees) of the components, ascending."""
    return sorted({int(c.irrep.degree) for c in action.components() if c.irrep.degree})


def bispectrum_triples(action: Action) -> list[tuple[int, int, int]]:
    """The frequency triples ``(k1, k2, k1 + k2)`` with ``k1 <= k2`` present in ``action``.

    Examples
    --------
    >>> from orbitspace import SO2
    >>> bispectrum_triples(SO2("1x0 + 1x1 + 2x2 + 1x3"))
    [(1, 1, 2), (1, 2, 3)]
    """
    present = _frequencies(action)
    have = set(present)
    return [(a, b, a + b) for i, a in enumerate(present) for b in present[i:] if a + b in have]


def bispectrum_dim(action: Action, copies: str = "first") -> int:
    """Output size of :func:`bispectrum` on ``action``, from its components."""
    if so3.is_3d(action):  # SO(3) / O(3): grouped by degree, Clebsch–Gordan triples
        return so3.bispectrum_dim(action, copies=copies)
    if copies not in COPIES:
        raise ValueError(f"copies must be one of {COPIES}; received {copies!r}")
    m = {}
    for c in action.components():
        if c.irrep.degree:
            m[int(c.irrep.degree)] = m.get(int(c.irrep.degree), 0) + c.multiplicity
    n = 0
    for k1, k2, k3 in bispectrum_triples(action):
        if copies == "first":
            n += 1
        else:
            pairs = m[k1] * (m[k1] + 1) // 2 if k1 == k2 else m[k1] * m[k2]
            n += pairs * m[k3]
    return power_spectrum_dim(action) + 2 * n


def bispectrum(X: ArrayLike, action: Action, *, copies: str = "first") -> ArrayLike:
    """The SO(2) bispectrum ``c_k1 c_k2 conj(c_{k1+k2})`` plus the power spectrum.

    For every available triple ``(k1, k2, k1 + k2)`` (see :func:`bispectrum_triples`) the real
    and imaginary parts of the triple product are appended to :func:`power_spectrum`.
    ``copies="first"`` uses the first copy of each frequency (the power spectrum already fixes
    the other copies relative to it); ``copies="all"`` uses every copy triple (``i <= j`` when
    ``k1 == k2``).  Generically complete exactly when :func:`bispectrum_is_complete`; cubic,
    so neither Lipschitz nor bi-Lipschitz.

    Parameters
    ----------
    X : array of shape (..., dim)
    action : Action made of SO(2) irreps (``SO2``)
    copies : {"first", "all"}

    Returns
    -------
    array of shape (..., bispectrum_dim(action, copies))

    Examples
    --------
    >>> from orbitspace import SO2
    >>> bispectrum(np.array([1.0, 0.0, 1.0, 0.0]), SO2("1x1 + 1x2")).tolist()
    [1.0, 1.0, 1.0, 0.0]
    """
    if so3.is_3d(action):  # SO(3) / O(3): grouped by degree, Clebsch–Gordan triples
        return so3.bispectrum(X, action, copies=copies)
    if not is_so2(action):
        raise TypeError(
            f"bispectrum is implemented for actions made of SO(2) irreps; received {action!r}"
        )
    if copies not in COPIES:
        raise ValueError(f"copies must be one of {COPIES}; received {copies!r}")
    view = fourier_view(X, action)
    cols = _gram_features(view)
    for k1, k2, k3 in bispectrum_triples(action):
        a, b, c = view.freqs[k1], view.freqs[k2], view.freqs[k3]
        if copies == "first":
            prod = (a[..., 0] * b[..., 0] * np.conj(c[..., 0]))[..., None]
        else:
            ab = a[..., :, None] * b[..., None, :]
            if k1 == k2:
                iu = np.triu_indices(a.shape[-1])
                ab = ab[..., iu[0], iu[1]]
            else:
                ab = ab.reshape(ab.shape[:-2] + (-1,))
            prod = (ab[..., :, None] * np.conj(c[..., None, :])).reshape(ab.shape[:-1] + (-1,))
        cols.extend([prod.real, prod.imag])
    return like(np.concatenate(cols, axis=-1), X)


def _smith_diagonal(rows: list[list[int]]) -> list[int]:
    """The diagonal of a Smith-like form of an integer matrix (exact, Python ints)."""
    A = [list(map(int, r)) for r in rows]
    m, n = len(A), (len(A[0]) if A else 0)
    diag: list[int] = []
    for t in range(min(m, n)):
        nonzero = [(abs(A[i][j]), i, j) for i in range(t, m) for j in range(t, n) if A[i][j]]
        if not nonzero:
            break
        _, i, j = min(nonzero)
        A[t], A[i] = A[i], A[t]
        for r in A:
            r[t], r[j] = r[j], r[t]
        clean = False
        while not clean:
            clean = True
            p = A[t][t]
            for i in range(t + 1, m):
                q = A[i][t] // p
                A[i] = [a - q * b for a, b in zip(A[i], A[t])]
                if A[i][t]:
                    A[t], A[i] = A[i], A[t]
                    clean = False
                    break
            if not clean:
                continue
            for j in range(t + 1, n):
                q = A[t][j] // p
                for r in A:
                    r[j] -= q * r[t]
                if A[t][j]:
                    for r in A:
                        r[t], r[j] = r[j], r[t]
                    clean = False
                    break
        diag.append(abs(A[t][t]))
    return diag


def bispectrum_is_complete(action: Action) -> bool:
    """Whether the bispectrum (with the power spectrum) separates generic SO(2) orbits.

    With ``ψ_k`` the phase of frequency ``k`` (the power spectrum gives the moduli and the
    phases within a frequency), the bispectrum gives ``ψ_k1 + ψ_k2 − ψ_k3`` mod 2π for each
    triple.  The solutions form the torus subgroup ``{ψ : Aψ ∈ 2πZ}``, which equals the orbit
    ``{kθ}`` exactly when ``rank A = F − 1`` and ``Z^F / A^T Z^T`` is torsion-free (all Smith
    invariant factors of ``A`` equal 1); ``F`` is the number of distinct nonzero frequencies.
    """
    present = _frequencies(action)
    F = len(present)
    if F <= 1:
        return True
    col = {k: i for i, k in enumerate(present)}
    rows = []
    for k1, k2, k3 in bispectrum_triples(action):
        row = [0] * F
        row[col[k1]] += 1
        row[col[k2]] += 1
        row[col[k3]] -= 1
        rows.append(row)
    if not rows:
        return False
    diag = _smith_diagonal(rows)
    return len(diag) == F - 1 and all(d == 1 for d in diag)
