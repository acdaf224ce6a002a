"""Exact alignment for finite groups: every element at once.

- ``Cyclic(N, ...)``: the inner product of ``x`` with ``ρ(g) y`` is a trigonometric polynomial
  in ``g``, ``Re Σ_{m=0..N//2} F_m ω^{mg}`` with ``ω = e^{2πi/N}``.  Regular blocks contribute
  their circular cross-correlation (``F_m`` from ``rfft(x) · conj(rfft(y))``), 2-dimensional
  irreps of frequency k add ``conj(x̃) ỹ`` to ``F_k``, the trivial irrep adds ``x·y`` to ``F_0``
  and the sign irrep (N even) adds ``x·y`` to ``F_{N/2}``.  All N values then come from one
  product with a cosine/sine table, and the best is exact (enumeration, nothing skipped).
- ``FiniteGroup``: ``<x, M_g y>`` for every matrix ``M_g`` by one matrix product per chunk.
"""

from __future__ import annotations

import numpy as np

from orbitspace.groups import Cyclic, FiniteGroup

__all__ = [
    "cyclic_coefficients",
    "cyclic_pairwise_coefficients",
    "cyclic_values",
    "finite_values_pairs",
    "finite_values_pairwise",
]


def _regular_spectrum(Z: np.ndarray, action: Cyclic) -> np.ndarray:
    """rfft of every regular block: (..., R, N//2 + 1)."""
    N = action.N
    starts = action.layout.regular_start
    idx = starts[:, None] + np.arange(N)  # (R, N)
    return np.fft.rfft(Z[..., idx], axis=-1)


def _weights(N: int) -> np.ndarray:
    w = np.full(N // 2 + 1, 2.0 / N)
    w[0] = 1.0 / N
    if N % 2 == 0:
        w[-1] = 1.0 / N
    return w


def _add_irreps(F: np.ndarray, prod_pairs, dot_scalars, action: Cyclic) -> None:
    lay = action.layout
    if lay.pair_a.size:
        for k in np.unique(lay.pair_freq):
            F[..., k] += prod_pairs(lay.pair_freq == k)
    if lay.scalar_idx.size:
        for k in np.unique(lay.scalar_freq):
            F[..., k] += dot_scalars(lay.scalar_freq == k)


def cyclic_coefficients(X: np.ndarray, Y: np.ndarray, action: Cyclic) -> np.ndarray:
    """``F[..., m]`` with ``<X, ρ(g) Y> = Re Σ_m F_m e^{2πimg/N}``, broadcasting batch dims.

    Parameters
    ----------
    X, Y : arrays of shape (..., dim)

    Returns
    -------
    complex array of shape (batch, N // 2 + 1)
    """
    lay = action.layout
    batch = np.broadcast_shapes(X.shape[:-1], Y.shape[:-1])
    F = np.zeros(batch + (action.N // 2 + 1,), dtype=np.complex128)
    if lay.regular_start.size:
        Xs, Ys = _regular_spectrum(X, action), _regular_spectrum(Y, action)
        F += (Xs * np.conj(Ys)).sum(-2) * _weights(action.N)
    xc = X[..., lay.pair_a] - 1j * X[..., lay.pair_b]
    yc = Y[..., lay.pair_a] + 1j * Y[..., lay.pair_b]
    xs, ys = X[..., lay.scalar_idx], Y[..., lay.scalar_idx]
    _add_irreps(
        F,
        lambda sel: (xc[..., sel] * yc[..., sel]).sum(-1),
        lambda sel: (xs[..., sel] * ys[..., sel]).sum(-1),
        action,
    )
    return F


def cyclic_pairwise_coefficients(X: np.ndarray, Y: np.ndarray, action: Cyclic) -> np.ndarray:
    """All-pairs ``F[i, j, m]`` for rows of X (n, dim) and Y (m, dim), by matrix products."""
    lay = action.layout
    F = np.zeros((X.shape[0], Y.shape[0], action.N // 2 + 1), dtype=np.complex128)
    if lay.regular_start.size:
        Xs, Ys = _regular_spectrum(X, action), np.conj(_regular_spectrum(Y, action))
        w = _weights(action.N)
        for m in range(action.N // 2 + 1):
            F[..., m] += w[m] * (Xs[:, :, m] @ Ys[:, :, m].T)
    xc = X[:, lay.pair_a] - 1j * X[:, lay.pair_b]
    yc = Y[:, lay.pair_a] + 1j * Y[:, lay.pair_b]
    xs, ys = X[:, lay.scalar_idx], Y[:, lay.scalar_idx]
    _add_irreps(
        F,
        lambda sel: xc[:, sel] @ yc[:, sel].T,
        lambda sel: xs[:, sel] @ ys[:, sel].T,
        action,
    )
    return F


def cyclic_values(F: np.ndarray, N: int) -> tuple[np.ndarray, np.ndarray]:
    """Best value and element from coefficients ``F`` (..., N//2 + 1): all N values at once."""
    g = np.arange(N)
    angles = np.outer(np.arange(N // 2 + 1), 2 * np.pi * g / N)
    values = F.real @ np.cos(angles) - F.imag @ np.sin(angles)  # (..., N)
    best = values.argmax(-1)
    return np.take_along_axis(values, best[..., None], -1)[..., 0], best.astype(np.int64)


def _transformed(Y: np.ndarray, action: FiniteGroup) -> np.ndarray:
    """``M_g y`` for every element: (n_y, G, dim)."""
    return np.einsum("gij,nj->ngi", action.matrices, Y)


def finite_values_pairs(
    X: np.ndarray, Y: np.ndarray, rows: np.ndarray, cols: np.ndarray, action: FiniteGroup
) -> tuple[np.ndarray, np.ndarray]:
    """``max_g <X[rows[q]], M_g Y[cols[q]]>`` for each pair q (X: (n_x, dim), Y: (n_y, dim))."""
    Yg = _transformed(Y, action)
    G = action.order
    values = np.empty(rows.shape[0])
    best = np.empty(rows.shape[0], dtype=np.int64)
    step = max(1, 2**22 // max(1, G * action.dim))
    for s in range(0, rows.shape[0], step):
        vals = np.einsum("pi,pgi->pg", X[rows[s : s + step]], Yg[cols[s : s + step]])
        b = vals.argmax(-1)
        best[s : s + step] = b
        values[s : s + step] = vals[np.arange(b.shape[0]), b]
    return values, best


def finite_values_pairwise(
    X: np.ndarray, Y: np.ndarray, action: FiniteGroup
) -> tuple[np.ndarray, np.ndarray]:
    """All pairs: (n, m) best values and elements, one matrix product."""
    G = action.order
    Yg = _transformed(Y, action).reshape(Y.shape[0] * G, action.dim)
    vals = (X @ Yg.T).reshape(X.shape[0], Y.shape[0], G)
    best = vals.argmax(-1)
    return np.take_along_axis(vals, best[..., None], -1)[..., 0], best.astype(np.int64)
