"""Orthogonal Procrustes and principal subspaces for learned latent actions."""

from __future__ import annotations

import numpy as np

__all__ = ["orthogonal_procrustes", "principal_subspace"]


def orthogonal_procrustes(U: np.ndarray, V: np.ndarray) -> np.ndarray:
    """The orthogonal ``R`` minimising ``sum_i ||R u_i - v_i||²``.

    Parameters
    ----------
    U, V : arrays of shape (n_pairs, r)
        Source and target codes, one pair per row.

    Returns
    -------
    R : array of shape (r, r), orthogonal (``det`` may be -1).

    Examples
    --------
    >>> import numpy as np
    >>> R = np.array([[0.0, -1.0], [1.0, 0.0]])
    >>> U = np.random.default_rng(0).normal(size=(10, 2))
    >>> np.allclose(orthogonal_procrustes(U, U @ R.T), R)
    True
    """
    M = V.T @ U  # sum_i v_i u_i^T
    A, _, Bt = np.linalg.svd(M)
    return A @ Bt


def principal_subspace(
    Z: np.ndarray, n_components: int | float | None
) -> tuple[np.ndarray, np.ndarray]:
    """Top principal directions of centred codes ``Z``.

    Parameters
    ----------
    Z : array of shape (n, D), already centred.
    n_components : int, float in (0, 1], or None
        An int keeps that many directions; a float keeps the fewest directions explaining that
        fraction of the variance; None keeps every direction of non-negligible variance.

    Returns
    -------
    P : array of shape (r, D) with orthonormal rows.
    explained : array of shape (r,), the fraction of the total variance along each row.
    """
    n, D = Z.shape
    _, s, Vt = np.linalg.svd(Z, full_matrices=False)
    var = s**2
    total = float(var.sum())
    if total == 0.0:
        raise ValueError("the codes have zero variance: no action can be estimated")
    frac = var / total
    if n_components is None:
        r = int(np.count_nonzero(s > s[0] * max(n, D) * np.finfo(float).eps * 10))
    elif isinstance(n_components, float):
        if not 0.0 < n_components <= 1.0:
            raise ValueError(f"n_components as a float must be in (0, 1]; received {n_components}")
        r = int(np.searchsorted(np.cumsum(frac), n_components - 1e-12) + 1)
        r = min(r, len(s))
    else:
        r = int(n_components)
        if not 1 <= r <= min(n, D):
            raise ValueError(
                f"n_components must be between 1 and min(n_samples, dim) = {min(n, D)}; "
                f"received {r}"
            )
    return Vt[:r], frac[:r]
