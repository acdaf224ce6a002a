"""Lower bounds on the quotient distance, for exact nearest-neighbour search with pruning.

Each ``lower_bound_features(action, Z)`` is an invariant map φ with
``‖φ(x) − φ(y)‖ <= d([x], [y])`` (1-Lipschitz for the quotient metric):

- SO2: the invariant scalars and the norm of every 2-dimensional block (each block's rotation
  preserves its norm, and ``‖a − b‖ >= |‖a‖ − ‖b‖|`` block by block);
- Cyclic: trivial scalars, ``|x|`` for sign-irrep scalars, block norms, and for each regular
  block the moduli of its Fourier coefficients (Parseval; a shift multiplies them by phases);
- Permutation: every channel sorted over the nodes (``min_P`` over all channels jointly is at
  least the sum of the per-channel minima, each reached by sorting);
- any other action (no structure assumed): the norm ``‖x‖``.

Exact k-nearest neighbours then need the expensive alignment only for candidates whose lower
bound does not exceed the current k-th distance.
"""

from __future__ import annotations

import numpy as np

from orbitspace.groups import SO2, Action, Cyclic, Permutation
from orbitspace.quotient._registry import find_lower_bound, register_lower_bound

__all__ = ["lower_bound_features", "lower_bound_distances"]


def lower_bound_features(action: Action, Z: np.ndarray) -> np.ndarray:
    """An invariant, 1-Lipschitz feature map: ``‖φ(x) − φ(y)‖ <= d([x], [y])``.

    The map registered for the action's type (:func:`register_lower_bound`); ``‖x‖`` if none.

    Parameters
    ----------
    Z : array of shape (n, dim) or (n, n_nodes, d) for node actions

    Returns
    -------
    array of shape (n, n_features)
    """
    return find_lower_bound(action)(action, Z)


@register_lower_bound(Permutation)
def _channel_sort(action: Permutation, Z: np.ndarray) -> np.ndarray:
    return np.sort(Z, axis=-2).reshape(Z.shape[0], -1)


@register_lower_bound(SO2)
def _block_norms(action: SO2, Z: np.ndarray) -> np.ndarray:
    lay = action.layout
    parts = []
    if lay.scalar_idx.size:
        scalars = Z[:, lay.scalar_idx]
        parts.append(np.where(lay.scalar_freq > 0, np.abs(scalars), scalars))
    if lay.pair_a.size:
        parts.append(np.hypot(Z[:, lay.pair_a], Z[:, lay.pair_b]))
    return np.concatenate(parts, axis=1) if parts else np.zeros((Z.shape[0], 0))


@register_lower_bound(Cyclic)
def _cyclic_bound(action: Cyclic, Z: np.ndarray) -> np.ndarray:
    lay = action.layout
    parts = [_block_norms(action, Z)]  # type: ignore[arg-type]
    if lay.regular_start.size:
        N = action.N
        idx = lay.regular_start[:, None] + np.arange(N)
        spectrum = np.abs(np.fft.rfft(Z[:, idx], axis=-1))  # (n, R, N//2 + 1)
        weight = np.full(N // 2 + 1, 2.0 / N)
        weight[0] = 1.0 / N
        if N % 2 == 0:
            weight[-1] = 1.0 / N
        parts.append((spectrum * np.sqrt(weight)).reshape(Z.shape[0], -1))
    return np.concatenate(parts, axis=1)


def lower_bound_distances(Fx: np.ndarray, Fy: np.ndarray) -> np.ndarray:
    """Euclidean distances between feature rows, rounded *down* to stay valid lower bounds.

    Parameters
    ----------
    Fx : array of shape (n, p)
    Fy : array of shape (m, p)

    Returns
    -------
    array of shape (n, m)
    """
    sx = (Fx**2).sum(1)
    sy = (Fy**2).sum(1)
    sq = sx[:, None] + sy[None, :] - 2 * (Fx @ Fy.T)
    # the expansion's rounding error is a few eps·(‖a‖² + ‖b‖²); subtract a generous margin
    slack = 1e-12 * (sx[:, None] + sy[None, :]) + 1e-300
    return np.sqrt(np.maximum(sq - slack, 0.0))
