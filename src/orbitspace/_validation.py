"""Input checks shared by every layer: clear errors naming expected vs received."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from orbitspace._array import to_numpy

__all__ = [
    "OrbitspaceWarning",
    "check_array",
    "check_random_state",
    "check_positive_int",
    "describe",
]


class OrbitspaceWarning(UserWarning):
    """Base class of every warning orbitspace emits."""


def describe(x: Any) -> str:
    """A short description of a value for error messages."""
    shape = getattr(x, "shape", None)
    if shape is not None:
        return f"{type(x).__name__} of shape {tuple(shape)} and dtype {getattr(x, 'dtype', '?')}"
    return f"{type(x).__name__} {x!r}"[:200]


def check_array(
    X: Any,
    name: str = "X",
    *,
    min_ndim: int = 1,
    last_dims: tuple[int | None, ...] = (),
    allow_nan: bool = False,
    dtype: Any = np.float64,
) -> np.ndarray:
    """Convert ``X`` to a numpy float array and check its shape and values.

    ``last_dims`` gives required sizes of the trailing axes (``None`` for any size).
    """
    if isinstance(X, (str, bytes, dict, set)) or X is None:
        raise TypeError(f"{name} must be an array (numpy or torch); received {describe(X)}")
    try:
        arr = to_numpy(X)
    except Exception as exc:  # noqa: BLE001 - we re-raise with context
        raise TypeError(
            f"{name} must be an array (numpy or torch); received {describe(X)}"
        ) from exc
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.bool_)
    ):
        raise TypeError(f"{name} must hold real numbers; received dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        raise TypeError(f"{name} must be real; received complex dtype {arr.dtype}")
    if arr.ndim < max(min_ndim, len(last_dims)):
        need = max(min_ndim, len(last_dims))
        raise ValueError(
            f"{name} must have at least {need} dimension(s); received shape {arr.shape}"
        )
    for offset, size in enumerate(reversed(last_dims), start=1):
        if size is not None and arr.shape[-offset] != size:
            raise ValueError(f"{name}.shape[-{offset}] must be {size}; received shape {arr.shape}")
    if dtype is not None:
        arr = arr.astype(dtype, copy=False)
    if not allow_nan and arr.size and not np.all(np.isfinite(arr)):
        bad = int(np.count_nonzero(~np.isfinite(arr)))
        raise ValueError(f"{name} must be finite; received {bad} NaN or inf value(s)")
    return arr


def check_random_state(random_state: Any) -> np.random.Generator:
    """Turn ``None`` / int / ``Generator`` into a ``numpy.random.Generator``."""
    if random_state is None or isinstance(random_state, (numbers.Integral, np.integer)):
        return np.random.default_rng(random_state)
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(0, 2**31 - 1))
    raise TypeError(
        f"random_state must be None, an int or a numpy Generator; received {describe(random_state)}"
    )


def check_positive_int(value: Any, name: str, *, minimum: int = 1) -> int:
    """Check that ``value`` is an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)):
        raise TypeError(f"{name} must be an int; received {describe(value)}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}; received {value}")
    return int(value)
