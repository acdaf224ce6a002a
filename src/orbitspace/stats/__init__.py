"""Statistics on the quotient: Fréchet mean, geodesic interpolation, PCA, nearest neighbours.

>>> import numpy as np
>>> from orbitspace import Permutation
>>> from orbitspace.stats import frechet_mean
>>> X = np.random.default_rng(0).normal(size=(10, 3, 2))
>>> res = frechet_mean(X, Permutation(3))
>>> bool(np.all(np.diff(res.history) <= 1e-12))
True
"""

from orbitspace.stats.frechet import FrechetMeanResult, frechet_mean
from orbitspace.stats.geodesic import geodesic_interpolation
from orbitspace.stats.neighbors import quotient_nearest_neighbors
from orbitspace.stats.pca import QuotientPCAResult, quotient_pca

__all__ = [
    "FrechetMeanResult",
    "frechet_mean",
    "geodesic_interpolation",
    "QuotientPCAResult",
    "quotient_pca",
    "quotient_nearest_neighbors",
]
