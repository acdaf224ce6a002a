"""Input checks shared by every layer: clear errors naming expected vs received."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from orbitspace._array import to_numpy

__all__ = [
    "OrbitspaceWarning",
    "LIMITS",
    "check_array",
    "check_random_state",
    "check_positive_int",
    "check_limit",
    "check_mask_has_nodes",
    "check_representation_size",
    "check_spec_length",
    "describe",
    "digits_to_int",
    "shorten",
]

#: The stated maxima, checked before anything is allocated (see :func:`check_limit`).
#: ``dimension``: a representation's size D; ``multiplicity``: copies of one term;
#: ``frequency``: an SO(2) frequency (the certified solver's cost grows with its square);
#: ``group order``: N of C_N and the order of a FiniteGroup (the Cyclic solver is O(N^2));
#: ``spec length``: characters of a representation / action / method string;
#: ``references`` / ``templates``: of align_to_reference / max_filter.
LIMITS: dict[str, int] = {
    "dimension": 1_000_000,
    "multiplicity": 1_000_000,
    "frequency": 1024,
    "group order": 4096,
    "spec length": 10_000,
    "references": 100_000,
    "templates": 100_000,
}


class OrbitspaceWarning(UserWarning):
    """Base class of every warning orbitspace emits."""


def shorten(text: Any, width: int = 80) -> str:
    """``text`` (``str(text)``) cut to about ``width`` characters for an error message.

    The middle is replaced by ``...`` and the full length is stated.

    Examples
    --------
    >>> shorten("4x0 + 8x1")
    '4x0 + 8x1'
    >>> shorten("1x0 + " * 20000, width=30)
    '1x0 + 1x0 + 1 ... 1x0 +  (120000 characters)'
    """
    text = str(text)
    if len(text) <= width:
        return text
    head = max(1, (width - 10) * 2 // 3)
    tail = max(1, width - 10 - head)
    return f"{text[:head].rstrip()} ... {text[-tail:].strip()}  ({len(text)} characters)"


def check_limit(value: Any, what: str, limit: str, *, owner: str = "") -> int:
    """Refuse ``value`` above ``LIMITS[limit]`` with a one-line error naming the limit.

    Examples
    --------
    >>> check_limit(8, "N", "group order")
    8
    >>> check_limit(10**6, "N", "group order", owner="Cyclic")
    Traceback (most recent call last):
    ...
    ValueError: Cyclic: N = 1000000 exceeds the group order limit 4096 (orbitspace._validation.LIMITS)
    """
    maximum = LIMITS[limit]
    if value > maximum:
        prefix = f"{owner}: " if owner else ""
        raise ValueError(
            f"{prefix}{what} = {value} exceeds the {limit} limit {maximum} "
            "(orbitspace._validation.LIMITS)"
        )
    return int(value)


def check_spec_length(text: str, what: str) -> str:
    """Refuse a spec string longer than ``LIMITS["spec length"]``, quoting it shortened."""
    if len(text) > LIMITS["spec length"]:
        raise ValueError(
            f"{what} {shorten(text)!r} exceeds the spec length limit {LIMITS['spec length']} "
            "(orbitspace._validation.LIMITS)"
        )
    return text


def check_representation_size(
    terms: Any, *, owner: str, order: int | None = None, max_frequency: bool = True
) -> int:
    """The dimension of ``((multiplicity, kind), ...)`` terms, checked against :data:`LIMITS`.

    ``order`` is N for C_N (a ``'regular'`` term has size N; frequency N/2 size 1), None for
    SO(2).  Computed arithmetically, before any layout is built.

    Examples
    --------
    >>> check_representation_size(((4, 0), (8, 1)), owner="SO2")
    20
    >>> check_representation_size(((10**8, 1),), owner="SO2")
    Traceback (most recent call last):
    ...
    ValueError: SO2: multiplicity = 100000000 exceeds the multiplicity limit 1000000 (orbitspace._validation.LIMITS)
    """
    dim = 0
    for mult, kind in terms:
        check_limit(mult, "multiplicity", "multiplicity", owner=owner)
        if kind == "regular":
            size = int(order or 0)
        else:
            k = int(kind)
            if max_frequency and order is None:
                check_limit(k, "frequency", "frequency", owner=owner)
            size = 1 if k == 0 or (order is not None and 2 * k == order) else 2
        dim += mult * size
    check_limit(dim, "dimension", "dimension", owner=owner)
    return dim


def digits_to_int(digits: str) -> int:
    """``int(digits)`` for a string of decimal digits; absurdly long ones map to 10**19.

    (Python refuses to convert strings of over 4300 digits; every limit is far below 10**19.)
    """
    return int(digits) if len(digits) < 19 else 10**19


def check_mask_has_nodes(mask: np.ndarray) -> np.ndarray:
    """Refuse a boolean node mask ``(..., n_nodes)`` with a graph whose nodes are all False.

    Examples
    --------
    >>> check_mask_has_nodes(np.array([[True, False], [False, False]]))
    Traceback (most recent call last):
    ...
    ValueError: node mask: graph 1 has no real node (its mask is all False; 1 such graph); drop empty graphs or fix the mask
    """
    empty = ~np.asarray(mask, dtype=bool).any(axis=-1)
    if np.any(empty):
        first = np.argwhere(np.atleast_1d(empty))[0]
        where = ", ".join(str(int(i)) for i in first) if np.ndim(empty) else "0"
        raise ValueError(
            f"node mask: graph {where} has no real node (its mask is all False; "
            f"{int(np.count_nonzero(empty))} such graph{'s' if np.count_nonzero(empty) > 1 else ''}"
            "); drop empty graphs or fix the mask"
        )
    return mask


def describe(x: Any) -> str:
    """A short description of a value for error messages."""
    shape = getattr(x, "shape", None)
    if shape is not None:
        return f"{type(x).__name__} of shape {tuple(shape)} and dtype {getattr(x, 'dtype', '?')}"
    return shorten(f"{type(x).__name__} {x!r}", 200)


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
    if getattr(X, "requires_grad", False) and type(X).__module__.startswith("torch"):
        raise TypeError(
            f"{name} requires grad, but this function computes in numpy and cannot carry the "
            f"gradient; pass {name}.detach(), or use a torch-native function (quotient_distance, "
            "align, pairwise_quotient_distances and the torch-native invariant maps)"
        )
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


def check_positive_int(value: Any, name: str, *, minimum: int = 1, limit: str | None = None) -> int:
    """Check that ``value`` is an integer >= ``minimum`` (and within ``LIMITS[limit]``)."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)):
        raise TypeError(f"{name} must be an int; received {describe(value)}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}; received {value}")
    if limit is not None:
        check_limit(value, name, limit)
    return int(value)
