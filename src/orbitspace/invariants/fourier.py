"""Classical invariants of SO(2) and C_N: block norms, power spectrum, bispectrum, group pooling.

Every latent of ``SO2`` / ``Cyclic`` is read in its *Fourier view*: the invariant scalars
(frequency 0, and the mean of each regular block), the sign copies (the 1-dimensional sign irrep
of C_N for even N, and the Nyquist coefficient of each regular block) and, for each frequency
``k``, its copies as complex numbers ``c`` on which ``g`` acts by ``c -> e^{ikθ} c``.  A 2-D block
``(a, b)`` is ``c = a + ib``; a regular block ``v`` contributes ``conj(FFT(v)_k)``, scaled so the
view is an orthogonal change of coordinates (``Σ|c|² = ‖v‖²``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from orbitspace._array import ArrayLike, like
from orbitspace.groups import SO2, Action, Cyclic
from orbitspace.invariants._common import vector_latents

__all__ = [
    "FourierView",
    "fourier_view",
    "norms",
    "power_spectrum",
    "bispectrum",
    "group_pool",
    "bispectrum_triples",
    "bispectrum_is_complete",
]

POOL_REDUCTIONS = ("max", "mean")
COPIES = ("first", "all")


def _planar(action: Action, what: str) -> SO2 | Cyclic:
    if not isinstance(action, (SO2, Cyclic)):
        raise TypeError(f"{what} needs an SO2 or Cyclic action; received {action!r}")
    return action


@dataclass(frozen=True)
class FourierView:
    """A latent in frequency coordinates (see the module docstring); batch dims lead."""

    scalars: np.ndarray  # (..., s) real, invariant
    signs: np.ndarray  # (..., t) real, multiplied by (-1)^g
    freqs: dict[int, np.ndarray]  # k -> complex (..., m_k), multiplied by e^{ikθ}


def fourier_view(X: Any, action: SO2 | Cyclic) -> FourierView:
    """The Fourier view of latents ``X`` of shape ``(..., dim)`` (numpy in, numpy out)."""
    action = _planar(action, "fourier_view")
    Xn = vector_latents(X, action)
    scalars: list[np.ndarray] = []
    signs: list[np.ndarray] = []
    freqs: dict[int, list[np.ndarray]] = {}
    for kind, k, start, size in action.blocks():
        block = Xn[..., start : start + size]
        if kind == "irrep" and size == 1:
            (scalars if k == 0 else signs).append(block[..., 0])
        elif kind == "irrep":
            freqs.setdefault(int(k), []).append(block[..., 0] + 1j * block[..., 1])
        else:
            N = size
            V = np.fft.fft(block, axis=-1)
            scalars.append(V[..., 0].real / np.sqrt(N))
            for j in range(1, (N - 1) // 2 + 1):
                freqs.setdefault(j, []).append(np.conj(V[..., j]) * np.sqrt(2.0 / N))
            if N % 2 == 0 and N > 1:
                signs.append(V[..., N // 2].real / np.sqrt(N))
    batch = Xn.shape[:-1]

    def stack(parts: list[np.ndarray], dtype: Any) -> np.ndarray:
        return np.stack(parts, axis=-1) if parts else np.zeros(batch + (0,), dtype=dtype)

    return FourierView(
        scalars=stack(scalars, float),
        signs=stack(signs, float),
        freqs={k: np.stack(v, axis=-1) for k, v in sorted(freqs.items())},
    )


def _block_norm_features(Xn: np.ndarray, action: SO2 | Cyclic, pool: str | None) -> np.ndarray:
    cols = []
    for kind, k, start, size in action.blocks():
        block = Xn[..., start : start + size]
        if kind == "irrep" and k == 0:
            cols.append(block[..., 0])  # invariant already: passed through, sign kept
        elif kind == "regular" and pool == "max":
            cols.append(block.max(axis=-1))
        elif kind == "regular" and pool == "mean":
            cols.append(block.mean(axis=-1))
        else:
            cols.append(np.sqrt((block**2).sum(axis=-1)))
    return np.stack(cols, axis=-1) if cols else np.zeros(Xn.shape[:-1] + (0,))


def norms(X: ArrayLike, action: SO2 | Cyclic) -> ArrayLike:
    """The norm of every block (irrep or regular), as escnn's ``NormPool`` / e3nn's ``Norm``.

    Frequency-0 scalars are invariant already and pass through unchanged (their norm would
    lose the sign).  1-Lipschitz in the quotient distance; lossy whenever two blocks can turn
    independently (e.g. two SO(2) blocks: the relative phase is lost).

    Parameters
    ----------
    X : array of shape (..., dim)
    action : SO2 or Cyclic

    Returns
    -------
    array of shape (..., n_blocks), blocks in the order of ``action.blocks()``

    Examples
    --------
    >>> norms(np.array([2.0, 3.0, 4.0]), SO2("1x0 + 1x1")).tolist()
    [2.0, 5.0]
    """
    action = _planar(action, "norms")
    return like(_block_norm_features(vector_latents(X, action), action, None), X)


def group_pool(X: ArrayLike, action: Cyclic, *, reduction: str = "max") -> ArrayLike:
    """Max (or mean) over each regular block of C_N, as escnn's ``GroupPooling``.

    Irrep blocks, which have no group axis to pool over, are treated as in :func:`norms`
    (frequency-0 scalars pass through, other blocks give their norm).  SO(2) is not supported:
    its finite-dimensional latents have no regular field (use :func:`norms`).

    Parameters
    ----------
    X : array of shape (..., dim)
    action : Cyclic
    reduction : {"max", "mean"}

    Returns
    -------
    array of shape (..., n_blocks)

    Examples
    --------
    >>> group_pool(np.array([1.0, 5.0, 2.0, 0.0]), Cyclic(4)).tolist()
    [5.0]
    """
    if not isinstance(action, Cyclic):
        raise TypeError(
            f"group_pool needs a Cyclic action (regular fields); received {action!r}; "
            "for SO2 use 'norms'"
        )
    if reduction not in POOL_REDUCTIONS:
        raise ValueError(f"reduction must be one of {POOL_REDUCTIONS}; received {reduction!r}")
    return like(_block_norm_features(vector_latents(X, action), action, reduction), X)


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


def power_spectrum(X: ArrayLike, action: SO2 | Cyclic) -> ArrayLike:
    """Inner products within each frequency: the Hermitian Gram ``c_i conj(c_j)`` of its copies.

    Output, in order: the invariant scalars (passed through), the upper triangle of the Gram of
    the sign copies, then per frequency (ascending) ``|c_i|²`` for each copy and the real and
    imaginary parts of ``c_i conj(c_j)`` for ``i < j``.  Regular blocks of C_N enter through
    their DFT.  It determines each frequency up to a phase of its own, so it loses the relative
    phase between frequencies; quadratic, hence not Lipschitz.

    Parameters
    ----------
    X : array of shape (..., dim)
    action : SO2 or Cyclic

    Returns
    -------
    array of shape (..., s + t(t+1)/2 + Σ_k m_k²)

    Examples
    --------
    >>> power_spectrum(np.array([1.0, 0.0, 0.0, 2.0]), SO2("2x1")).tolist()
    [1.0, 4.0, 0.0, -2.0]
    """
    action = _planar(action, "power_spectrum")
    view = fourier_view(X, action)
    return like(np.concatenate(_gram_features(view), axis=-1), X)


def bispectrum_triples(action: SO2) -> list[tuple[int, int, int]]:
    """The frequency triples ``(k1, k2, k1 + k2)`` with ``k1 <= k2`` present in ``action``."""
    present = sorted({int(k) for _, k in action.terms if int(k) > 0})
    have = set(present)
    return [(a, b, a + b) for i, a in enumerate(present) for b in present[i:] if a + b in have]


def bispectrum(X: ArrayLike, action: SO2, *, copies: str = "first") -> ArrayLike:
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
    action : SO2
    copies : {"first", "all"}

    Returns
    -------
    array of shape (..., power_spectrum_dim + 2 * n_triple_products)

    Examples
    --------
    >>> bispectrum(np.array([1.0, 0.0, 1.0, 0.0]), SO2("1x1 + 1x2")).tolist()
    [1.0, 1.0, 1.0, 0.0]
    """
    if not isinstance(action, SO2):
        raise TypeError(f"bispectrum is implemented for SO2 actions; received {action!r}")
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


def bispectrum_is_complete(action: SO2) -> bool:
    """Whether the bispectrum (with the power spectrum) separates generic SO(2) orbits.

    With ``ψ_k`` the phase of frequency ``k`` (the power spectrum gives the moduli and the
    phases within a frequency), the bispectrum gives ``ψ_k1 + ψ_k2 − ψ_k3`` mod 2π for each
    triple.  The solutions form the torus subgroup ``{ψ : Aψ ∈ 2πZ}``, which equals the orbit
    ``{kθ}`` exactly when ``rank A = F − 1`` and ``Z^F / A^T Z^T`` is torsion-free (all Smith
    invariant factors of ``A`` equal 1); ``F`` is the number of distinct nonzero frequencies.
    """
    present = sorted({int(k) for _, k in action.terms if int(k) > 0})
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
