"""k-nearest-neighbour classification and regression under the exact quotient distance."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from orbitspace.estimators._common import resolve_action, validate_latents
from orbitspace.quotient import pairwise_quotient_distances

__all__ = ["QuotientKNeighborsClassifier", "QuotientKNeighborsRegressor"]

WEIGHTS = ("uniform", "distance")


class _QuotientKNeighborsBase(BaseEstimator):
    """Shared fitting and neighbour search (stores the training latents)."""

    def __init__(
        self,
        action: Any,
        n_neighbors: int = 5,
        *,
        weights: str = "uniform",
        method: str = "auto",
    ) -> None:
        self.action = action
        self.n_neighbors = n_neighbors
        self.weights = weights
        self.method = method

    def _check_params(self) -> None:
        k = self.n_neighbors
        if isinstance(k, bool) or not isinstance(k, (numbers.Integral, np.integer)) or k < 1:
            raise ValueError(f"n_neighbors must be a positive int; received {k!r}")
        if self.weights not in WEIGHTS:
            raise ValueError(f"weights must be one of {WEIGHTS}; received {self.weights!r}")

    def _fit_latents(self, X: Any, y: Any, **kw: Any) -> Any:
        self._check_params()
        action = resolve_action(self.action)
        Z, _, y = validate_latents(self, X, action, reset=True, y=y, **kw)
        self.action_ = action
        self.X_fit_ = Z
        self.n_samples_fit_ = Z.shape[0]
        return y

    def kneighbors(
        self, X: Any = None, n_neighbors: int | None = None, return_distance: bool = True
    ) -> Any:
        """The nearest training samples under the quotient distance.

        Parameters
        ----------
        X : array of shape (n_queries, ...latent) or (n_queries, n_features), optional
            Queries; when omitted, the training samples, each excluded from its own neighbours.
        n_neighbors : int, optional
            Defaults to ``self.n_neighbors``.
        return_distance : bool

        Returns
        -------
        distances : array of shape (n_queries, n_neighbors), ascending (if return_distance)
        indices : int array of shape (n_queries, n_neighbors)
        """
        check_is_fitted(self, "X_fit_")
        k = self.n_neighbors if n_neighbors is None else n_neighbors
        query_is_train = X is None
        if query_is_train:
            D = np.asarray(
                pairwise_quotient_distances(self.X_fit_, action=self.action_, method=self.method)
            )
            np.fill_diagonal(D, np.inf)
            available = self.n_samples_fit_ - 1
        else:
            Z, _, _ = validate_latents(self, X, self.action_, reset=False)
            D = np.asarray(
                pairwise_quotient_distances(Z, self.X_fit_, action=self.action_, method=self.method)
            )
            available = self.n_samples_fit_
        if not 1 <= k <= available:
            raise ValueError(
                f"Expected n_neighbors <= n_samples_fit, but n_neighbors = {k}, "
                f"n_samples_fit = {self.n_samples_fit_}"
                + (
                    " (each training sample is excluded from its own neighbours)"
                    if query_is_train
                    else ""
                )
            )
        idx = np.argsort(D, axis=1, kind="stable")[:, :k]
        if not return_distance:
            return idx
        return np.take_along_axis(D, idx, axis=1), idx

    def _neighbour_weights(self, dist: np.ndarray) -> np.ndarray:
        """Uniform weights, or inverse distances (exact matches take all the weight)."""
        if self.weights == "uniform":
            return np.ones_like(dist)
        with np.errstate(divide="ignore"):
            w = 1.0 / dist
        exact = np.isinf(w)
        rows = exact.any(axis=1)
        w[rows] = exact[rows].astype(float)
        return w


class QuotientKNeighborsClassifier(ClassifierMixin, _QuotientKNeighborsBase):
    """k-nearest-neighbour classifier under ``d([x], [y]) = min_g ‖x − ρ(g) y‖``.

    Predictions are invariant: ``predict(ρ(g) X) == predict(X)`` for every ``g``, with no
    augmentation.  Each prediction costs one exact quotient distance per training sample
    (:func:`orbitspace.quotient.pairwise_quotient_distances`).

    Parameters
    ----------
    action : Action or its repr string
        Flat 2-D input is read as described in :mod:`orbitspace.estimators._common`.
    n_neighbors : int
    weights : "uniform" or "distance"
    method : "auto" (fast exact solver) or "exhaustive" (oracle)

    Attributes
    ----------
    classes_ : array of shape (n_classes,)
    X_fit_ : array of shape (n_samples, ...latent)
    n_samples_fit_, n_features_in_ : int
    action_ : Action

    Examples
    --------
    >>> import numpy as np
    >>> from orbitspace import Permutation
    >>> X = np.array([[[0.0], [1.0]], [[5.0], [6.0]]])
    >>> clf = QuotientKNeighborsClassifier(Permutation(2), n_neighbors=1).fit(X, ["a", "b"])
    >>> clf.predict(np.array([[[1.0], [0.0]], [[6.0], [5.0]]])).tolist()
    ['a', 'b']
    """

    def fit(self, X: Any, y: Any) -> QuotientKNeighborsClassifier:
        """Store the training latents and labels.

        Parameters
        ----------
        X : array of shape (n_samples, ...latent) or (n_samples, n_features)
        y : array of shape (n_samples,)

        Returns
        -------
        self
        """
        y = self._fit_latents(X, y)
        check_classification_targets(y)
        self.classes_, self._y_encoded = np.unique(y, return_inverse=True)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Weighted class frequencies among the neighbours, shape (n_queries, n_classes)."""
        check_is_fitted(self, "classes_")
        dist, idx = self.kneighbors(X)
        w = self._neighbour_weights(dist)
        labels = self._y_encoded[idx]
        proba = np.zeros((len(idx), len(self.classes_)))
        rows = np.repeat(np.arange(len(idx)), idx.shape[1])
        np.add.at(proba, (rows, labels.ravel()), w.ravel())
        return proba / proba.sum(axis=1, keepdims=True)

    def predict(self, X: Any) -> np.ndarray:
        """The class with the largest weighted vote (ties: the first class), shape (n_queries,)."""
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]


class QuotientKNeighborsRegressor(RegressorMixin, _QuotientKNeighborsBase):
    """k-nearest-neighbour regressor under ``d([x], [y]) = min_g ‖x − ρ(g) y‖``.

    Parameters, attributes and input layouts as :class:`QuotientKNeighborsClassifier`; ``y``
    may have several outputs ``(n_samples, n_outputs)``.

    Examples
    --------
    >>> import numpy as np
    >>> from orbitspace import SO2
    >>> X = np.array([[1.0, 0.0], [3.0, 0.0]])
    >>> reg = QuotientKNeighborsRegressor(SO2("1x1"), n_neighbors=1).fit(X, [1.0, 3.0])
    >>> reg.predict(np.array([[0.0, 1.1], [0.0, -2.9]])).tolist()
    [1.0, 3.0]
    """

    def fit(self, X: Any, y: Any) -> QuotientKNeighborsRegressor:
        """Store the training latents and targets.

        Parameters
        ----------
        X : array of shape (n_samples, ...latent) or (n_samples, n_features)
        y : array of shape (n_samples,) or (n_samples, n_outputs)

        Returns
        -------
        self
        """
        y = self._fit_latents(X, y, multi_output=True, y_numeric=True)
        self._y = np.asarray(y, dtype=float)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Weighted mean of the neighbours' targets, shape (n_queries,) or (n_queries, n_outputs)."""
        check_is_fitted(self, "_y")
        dist, idx = self.kneighbors(X)
        w = self._neighbour_weights(dist)
        w = w / w.sum(axis=1, keepdims=True)
        Y = self._y[idx]  # (n_queries, k) or (n_queries, k, n_outputs)
        if Y.ndim == 2:
            return (w * Y).sum(axis=1)
        return np.einsum("qk,qko->qo", w, Y)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
