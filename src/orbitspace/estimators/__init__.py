"""scikit-learn estimators on the quotient: invariant projections, alignment, k-NN.

``__init__`` only stores parameters, ``fit`` returns ``self`` and fitted state ends in ``_``;
every estimator passes ``sklearn.utils.estimator_checks.check_estimator``.  Inputs may be
latents in their natural layout or flat 2-D matrices (see :mod:`orbitspace.estimators._common`).

>>> import numpy as np
>>> from orbitspace.estimators import QuotientKNeighborsClassifier
>>> X = np.array([[[0.0], [1.0]], [[5.0], [6.0]]])
>>> clf = QuotientKNeighborsClassifier("Permutation(2)", n_neighbors=1).fit(X, [0, 1])
>>> clf.predict(X[:, ::-1]).tolist()
[0, 1]
"""

from orbitspace.estimators.aligner import QuotientAligner
from orbitspace.estimators.neighbors import (
    QuotientKNeighborsClassifier,
    QuotientKNeighborsRegressor,
)
from orbitspace.estimators.projection import DATA_FREE_METHODS, InvariantProjection

__all__ = [
    "InvariantProjection",
    "QuotientAligner",
    "QuotientKNeighborsClassifier",
    "QuotientKNeighborsRegressor",
    "DATA_FREE_METHODS",
]
