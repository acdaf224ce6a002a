"""Decompose an orthogonal matrix into rotation frequencies of C_N (real Schur form).

An orthogonal matrix R is normal, so its real Schur form ``R = V T V^T`` is block diagonal:
1x1 blocks ``±1`` and 2x2 rotation blocks.  Each block's angle is snapped to the nearest
frequency ``2πk/N`` of C_N, and the Schur vectors, reordered and oriented, give a basis in which
the snapped matrix is exactly the generator of ``Cyclic(N, "m0x0 + m1x1 + ...")``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg

__all__ = ["FrequencyDecomposition", "decompose_orthogonal"]


@dataclass(frozen=True)
class FrequencyDecomposition:
    """The result of :func:`decompose_orthogonal`.

    Attributes
    ----------
    rep : str
        Representation string of the snapped action, terms in increasing frequency
        (``"3x0 + 2x1 + 1x4"``).
    basis : array of shape (r, r)
        Orthogonal ``Q``: rows are the new coordinates, ``Q R Q^T`` is close to the generator
        matrix of ``Cyclic(N, rep)``.
    angles : array of shape (n_blocks,)
        Estimated rotation angle of each block in ``[0, π]``, in the order of the new basis
        (1x1 blocks count once).
    frequencies : array of shape (n_blocks,)
        The frequency each block was snapped to.
    snapping_errors : array of shape (n_blocks,)
        ``|angle - 2π k / N|`` per block (radians).
    """

    rep: str
    basis: np.ndarray
    angles: np.ndarray
    frequencies: np.ndarray
    snapping_errors: np.ndarray


def _schur_blocks(T: np.ndarray, tol: float = 1e-9) -> list[tuple[int, int]]:
    """``(start, size)`` of the diagonal blocks of a real quasi-triangular matrix."""
    blocks, i, r = [], 0, T.shape[0]
    while i < r:
        if i + 1 < r and abs(T[i + 1, i]) > tol:
            blocks.append((i, 2))
            i += 2
        else:
            blocks.append((i, 1))
            i += 1
    return blocks


def decompose_orthogonal(R: np.ndarray, N: int) -> FrequencyDecomposition:
    """Snap the orthogonal matrix ``R`` to a representation of C_N's generator.

    Parameters
    ----------
    R : array of shape (r, r)
        An orthogonal matrix (an estimate of the generator's action).
    N : int
        The group order.

    Returns
    -------
    FrequencyDecomposition
        With ``Q = result.basis``, ``Q R Q^T`` is block diagonal and close to
        ``Cyclic(N, result.rep).matrix(1)``.

    Examples
    --------
    >>> import numpy as np
    >>> c, s = np.cos(np.pi / 2), np.sin(np.pi / 2)
    >>> decompose_orthogonal(np.array([[1.0, 0, 0], [0, c, -s], [0, s, c]]), 4).rep
    '1x0 + 1x1'
    """
    R = np.asarray(R, dtype=np.float64)
    T, V = scipy.linalg.schur(R, output="real")
    step = 2 * np.pi / N
    # entries: (frequency, angle, snap error, list of basis vectors) — one per irrep copy
    pieces: list[tuple[int, float, float, list[np.ndarray]]] = []
    minus_ones: list[np.ndarray] = []
    for start, size in _schur_blocks(T):
        if size == 1:
            value = T[start, start]
            vec = V[:, start]
            if value >= 0:
                pieces.append((0, 0.0, float(np.arccos(np.clip(value, -1, 1))), [vec]))
            else:
                minus_ones.append(vec)
            continue
        B = T[start : start + 2, start : start + 2]
        # a 2x2 block of a normal matrix in standard form is a scaled rotation
        cos = 0.5 * (B[0, 0] + B[1, 1])
        sin = 0.5 * (B[1, 0] - B[0, 1])
        theta = float(np.arctan2(sin, cos))
        a, b = V[:, start], V[:, start + 1]
        if theta < 0:  # flipping the second vector turns rotation by theta into -theta
            theta, b = -theta, -b
        k = int(np.rint(theta / step))
        k = min(k, N // 2)
        err = abs(theta - k * step)
        if k == 0 or 2 * k == N:
            pieces.append((k, theta, err, [a]))
            pieces.append((k, theta, err, [b]))
        else:
            pieces.append((k, theta, err, [a, b]))
    if minus_ones:
        if N % 2 == 0:
            for vec in minus_ones:
                pieces.append((N // 2, np.pi, 0.0, [vec]))
        else:
            # C_N with N odd has no sign irrep: pair the -1 directions as rotations by π
            k = (N - 1) // 2
            err = abs(np.pi - k * step)
            for j in range(0, len(minus_ones) - 1, 2):
                pieces.append((k, np.pi, err, [minus_ones[j], minus_ones[j + 1]]))
            if len(minus_ones) % 2:
                pieces.append((0, np.pi, np.pi, [minus_ones[-1]]))
    pieces.sort(key=lambda p: p[0])  # stable: Schur order within a frequency
    rows = [v for p in pieces for v in p[3]]
    Q = np.stack(rows, axis=0) if rows else np.zeros((0, R.shape[0]))
    counts: dict[int, int] = {}
    for k, *_ in pieces:
        counts[k] = counts.get(k, 0) + 1
    rep = " + ".join(f"{m}x{k}" for k, m in sorted(counts.items()))
    return FrequencyDecomposition(
        rep=rep,
        basis=Q,
        angles=np.array([p[1] for p in pieces]),
        frequencies=np.array([p[0] for p in pieces], dtype=np.int64),
        snapping_errors=np.array([p[2] for p in pieces]),
    )
