"""Rotating images about their centre (torch ``affine_grid`` / ``grid_sample``, no torchvision).

Convention: ``rotate_images(x, θ)`` turns the picture counterclockwise by θ radians as displayed
with ``imshow`` (row 0 at the top), the convention of escnn's ``GeometricTensor.transform`` on
``rot2dOnR2``: for θ = π/2 the result equals ``np.rot90(x, 1, axes=(-2, -1))`` exactly (angles
that are multiples of π/2 are done without interpolation, by ``rot90``).  Other angles use
bilinear interpolation with zero padding outside the image.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from orbitspace._array import is_torch, to_numpy

__all__ = ["rotate_images", "quarter_turns"]


def quarter_turns(angles: np.ndarray, atol: float = 1e-6) -> np.ndarray:
    """For each angle, the number of quarter turns k in 0..3 if it is k·π/2 (within ``atol``
    quarter turns: float32 π counts), else -1."""
    k = np.asarray(angles, dtype=float) / (np.pi / 2)
    rounded = np.rint(k)
    exact = np.abs(k - rounded) <= atol
    return np.where(exact, np.mod(rounded, 4), -1).astype(np.int64)


def rotate_images(images: Any, angles: Any) -> Any:
    """Rotate each image counterclockwise by its angle about the image centre.

    Parameters
    ----------
    images : array or tensor of shape (n, H, W) or (n, C, H, W)
        numpy or torch; the result has the same kind, dtype and device.
    angles : float or array of shape (n,)
        Radians, counterclockwise as displayed (row 0 at the top).

    Returns
    -------
    rotated : same kind and shape as ``images``

    Examples
    --------
    >>> x = np.zeros((1, 4, 4), np.float32); x[0, 0, 3] = 1  # top-right pixel
    >>> np.argwhere(rotate_images(x, np.pi / 2)[0]).tolist()  # -> top-left
    [[0, 0]]
    """
    import torch

    was_torch = is_torch(images)
    x = images if was_torch else torch.from_numpy(np.array(to_numpy(images), copy=True))
    if x.ndim not in (3, 4):
        raise ValueError(
            f"images must have shape (n, H, W) or (n, C, H, W); received shape {tuple(x.shape)}"
        )
    squeeze = x.ndim == 3
    x4 = x[:, None] if squeeze else x
    n = x4.shape[0]
    theta = np.broadcast_to(np.asarray(to_numpy(angles), dtype=np.float64), (n,))
    out_dtype = x4.dtype if x4.is_floating_point() else torch.float32
    x4 = x4.to(out_dtype)
    out = torch.empty_like(x4)
    turns = quarter_turns(theta)
    for k in range(4):
        idx = np.flatnonzero(turns == k)
        if idx.size:
            sel = torch.as_tensor(idx, device=x4.device)
            out[sel] = torch.rot90(x4[sel], k, dims=(-2, -1))
    generic = np.flatnonzero(turns < 0)
    if generic.size:
        sel = torch.as_tensor(generic, device=x4.device)
        out[sel] = _rotate_bilinear(x4[sel], theta[generic])
    out = out[:, 0] if squeeze else out
    return out if was_torch else out.numpy()


def _rotate_bilinear(x: Any, theta: np.ndarray) -> Any:
    """(n, C, H, W) tensor rotated counterclockwise (as displayed) by ``theta``."""
    import torch
    import torch.nn.functional as F

    c, s = np.cos(theta), np.sin(theta)
    # affine_grid maps output (x=column, y=row, y pointing down) to the sampled input point.
    # A counterclockwise turn on screen (y down) samples the input at [[c, -s], [s, c]] p.
    H, W = x.shape[-2:]
    mats = np.zeros((len(theta), 2, 3))
    mats[:, 0, 0] = c
    mats[:, 0, 1] = -s * H / W
    mats[:, 1, 0] = s * W / H
    mats[:, 1, 1] = c
    grid_theta = torch.as_tensor(mats, dtype=x.dtype, device=x.device)
    grid = F.affine_grid(grid_theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
