"""The one boundary between the caller's arrays and the numpy used inside.

Core functions accept numpy arrays, torch tensors (CPU or other device) and anything
array-like.  They convert to numpy on the way in and back to the caller's kind, dtype family
and device on the way out.  torch is never imported here: a tensor is recognised by its
module name, so ``import orbitspace`` stays torch-free.

The quotient distances and the torch-native invariant maps do not go through numpy for the
values they return: they compute in torch and keep the autograd graph
(:mod:`orbitspace.quotient._torch`, :mod:`orbitspace.invariants._torch`); :func:`requires_grad`
is how the other paths recognise a tensor they must refuse rather than detach.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["is_torch", "requires_grad", "to_numpy", "like", "ArrayLike"]

ArrayLike = Any


def is_torch(x: object) -> bool:
    """True when ``x`` is a ``torch.Tensor`` (checked without importing torch)."""
    return type(x).__module__.startswith("torch") and hasattr(x, "detach")


def requires_grad(x: object) -> bool:
    """True when ``x`` is a torch tensor that requires grad (checked without importing torch).

    Examples
    --------
    >>> import numpy as np
    >>> requires_grad(np.zeros(3))
    False
    """
    return is_torch(x) and bool(getattr(x, "requires_grad", False))


def to_numpy(x: ArrayLike, dtype: Any = None) -> np.ndarray:
    """Return ``x`` as a numpy array (a copy only when needed)."""
    if is_torch(x):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=dtype)


def like(result: np.ndarray, reference: ArrayLike, *, keep_dtype: bool = False) -> ArrayLike:
    """Return ``result`` as the same kind of array as ``reference``.

    Floating results follow the reference's floating dtype (float32 in, float32 out);
    integer results (group elements, indices) keep their dtype unless ``keep_dtype`` is
    False and the reference is floating too.
    """
    result = np.asarray(result)
    ref_dtype = getattr(reference, "dtype", None)
    if not is_torch(reference):
        if (
            not keep_dtype
            and np.issubdtype(result.dtype, np.floating)
            and ref_dtype is not None
            and np.issubdtype(np.dtype(ref_dtype), np.floating)
        ):
            result = result.astype(ref_dtype, copy=False)
        return result
    import torch  # only reached when the caller already uses torch

    out = torch.from_numpy(np.ascontiguousarray(result))
    if not keep_dtype and out.is_floating_point() and reference.is_floating_point():
        out = out.to(reference.dtype)
    return out.to(reference.device)
