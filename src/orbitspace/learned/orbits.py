"""How much of a code's variation is rotation: orbit spread against class separation.

For codes ``z[i, j] = f(R_{θ_j} x_i)`` of each input at several rotations, the total variance
splits exactly into a within-orbit part (what rotating the input changes) and a between-orbit
part; the latter holds the between-class part.  An invariant layer has within-orbit fraction 0.
Sums are accumulated one rotation at a time (:class:`OrbitAccumulator`), so wide layers
(conv feature maps) need memory for ``n × D`` numbers, not ``n × n_angles × D``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from orbitspace._array import to_numpy

__all__ = ["OrbitStatistics", "OrbitAccumulator", "orbit_statistics"]


@dataclass(frozen=True)
class OrbitStatistics:
    """Orbit spread against class separation for one layer.

    Attributes
    ----------
    orbit_spread : float
        RMS distance of a code to its orbit's centroid, ``sqrt(mean_ij ‖z_ij − z̄_i‖²)``.
    class_distance : float
        RMS distance between class centroids (over all images and rotations), over class pairs.
    spread_to_class_distance : float
        ``orbit_spread / class_distance``: below 1, orbits are tighter than classes are apart.
    within_orbit_fraction : float
        Fraction of the total variance that is within orbits (0 for an invariant layer).
    between_class_fraction : float
        Fraction of the total variance that is between class centroids.
    dim : int
    """

    orbit_spread: float
    class_distance: float
    spread_to_class_distance: float
    within_orbit_fraction: float
    between_class_fraction: float
    dim: int

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class OrbitAccumulator:
    """Accumulate codes one rotation at a time, then :meth:`result`.

    Examples
    --------
    >>> import numpy as np
    >>> acc = OrbitAccumulator(np.array([0, 0, 1, 1]))
    >>> for j in range(3):
    ...     acc.add(np.array([[1.0, 0], [1, 0], [5, 0], [5, 0]]))  # invariant codes
    >>> acc.result().within_orbit_fraction
    0.0
    """

    def __init__(self, labels: Any) -> None:
        self.labels = np.asarray(to_numpy(labels))
        if self.labels.ndim != 1:
            raise ValueError(f"labels must have shape (n,); received {self.labels.shape}")
        self.sum: np.ndarray | None = None
        self.sumsq = np.zeros(len(self.labels))
        self.count = 0

    def add(self, codes: Any) -> None:
        """Codes ``(n, ...)`` of every input at one more rotation (trailing axes flattened)."""
        Z = np.asarray(to_numpy(codes), dtype=np.float64).reshape(len(self.labels), -1)
        if self.sum is None:
            self.sum = np.zeros_like(Z)
        elif Z.shape != self.sum.shape:
            raise ValueError(f"codes must have shape {self.sum.shape}; received {Z.shape}")
        self.sum += Z
        self.sumsq += np.einsum("ij,ij->i", Z, Z)
        self.count += 1

    def result(self) -> OrbitStatistics:
        if self.sum is None or self.count < 1:
            raise ValueError("no codes were added")
        m = self.count
        centroids = self.sum / m  # (n, D)
        within = self.sumsq / m - np.einsum("ij,ij->i", centroids, centroids)  # per image
        within = np.maximum(within, 0.0)
        grand = centroids.mean(axis=0)
        total = float(np.mean(self.sumsq / m) - grand @ grand)
        classes = np.unique(self.labels)
        means = np.stack([centroids[self.labels == c].mean(axis=0) for c in classes])
        weights = np.array([np.mean(self.labels == c) for c in classes])
        between_class = float(np.sum(weights * np.sum((means - grand) ** 2, axis=1)))
        if len(classes) > 1:
            diff = means[:, None] - means[None]
            iu = np.triu_indices(len(classes), k=1)
            class_distance = float(np.sqrt(np.mean(np.sum(diff**2, axis=-1)[iu])))
        else:
            class_distance = float("nan")
        spread = float(np.sqrt(np.mean(within)))
        safe_total = total if total > 0 else float("nan")
        return OrbitStatistics(
            orbit_spread=spread,
            class_distance=class_distance,
            spread_to_class_distance=spread / class_distance
            if class_distance > 0
            else float("nan"),
            within_orbit_fraction=float(np.mean(within)) / safe_total if total > 0 else 0.0,
            between_class_fraction=between_class / safe_total,
            dim=int(self.sum.shape[1]),
        )


def orbit_statistics(codes: Any, labels: Any) -> OrbitStatistics:
    """Orbit spread vs class separation of codes ``(n, n_angles, D)``.

    Examples
    --------
    >>> import numpy as np
    >>> Z = np.random.default_rng(0).normal(size=(20, 4, 3))
    >>> s = orbit_statistics(Z, np.arange(20) % 2)
    >>> 0 < s.within_orbit_fraction < 1
    True
    """
    Z = np.asarray(to_numpy(codes), dtype=np.float64)
    if Z.ndim != 3:
        raise ValueError(f"codes must have shape (n, n_angles, D); received {Z.shape}")
    acc = OrbitAccumulator(labels)
    for j in range(Z.shape[1]):
        acc.add(Z[:, j])
    return acc.result()
