"""``InvariantProjection``: any map of :mod:`orbitspace.invariants` as a scikit-learn transformer."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.exceptions import NotFittedError

from orbitspace.estimators._common import resolve_action, validate_latents
from orbitspace.invariants import InvariantMap, data_free_methods, get_map

__all__ = ["InvariantProjection", "DATA_FREE_METHODS"]

#: names of the registered maps with no fitted parameters (``InvariantMap.data_free``):
#: transform works before fit (fit still works and only records shapes).  Kept for
#: back-compatibility; the estimator asks the map itself.
DATA_FREE_METHODS: frozenset[str] = data_free_methods()


class InvariantProjection(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """An invariant map ``π`` (``π(ρ(g) z) == π(z)``) as a transformer ``(n, ...) -> (n, m)``.

    Parameters
    ----------
    action : Action or its repr string
        Node latents ``(n_samples, n_nodes, d)`` are accepted as they are; flat 2-D input
        ``(n_samples, n_features)`` is reshaped to ``(n_samples, n_nodes, n_features / n_nodes)``
        for ``Permutation(n_nodes)`` (see :mod:`orbitspace.estimators._common`).
    method : str
        A name of :func:`orbitspace.invariants.available_methods`: ``"align_to_reference"``
        (default; the random invariant projection), ``"sort"``, ``"lexsort"``,
        ``"channel_sort"``, ``"sorted_projections"``, ``"node_pool"``, ``"max_filter"``,
        ``"norms"``, ``"power_spectrum"``, ``"bispectrum"``, ``"group_pool"``.
    random_state : None, int or numpy Generator
        Seeds the method's random references, templates or directions.
    **options
        Method options (e.g. ``n_templates=64``), passed to the map's ``fit`` and
        ``transform``.  They are ordinary hyper-parameters: ``get_params`` lists them next to
        ``action``, ``method`` and ``random_state``, ``set_params`` sets them (any name that is
        not one of those three is taken as a method option and checked by the method at fit),
        and ``clone`` / grid search keep them.  They are stored in the private dict
        ``_options``.

    Attributes
    ----------
    params_ : dict
        The fitted parameters of the map (references, templates, directions).
    action_ : Action
    properties_ : Properties
        The map's declared guarantees for this action (invariance, separation, isometry, ...).
    n_features_in_ : int
        Width of the flat input.

    Data-free methods (``get_map(method).data_free``: sort, lexsort, channel_sort, node_pool,
    norms, power_spectrum, bispectrum, group_pool) need no fit: ``transform`` works on an
    unfitted instance.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.decomposition import PCA
    >>> from sklearn.pipeline import make_pipeline
    >>> X = np.random.default_rng(0).normal(size=(20, 5, 1))
    >>> pipe = make_pipeline(InvariantProjection("Permutation(5)", method="sort"), PCA(2))
    >>> pipe.fit_transform(X).shape
    (20, 2)
    """

    def __init__(
        self,
        action: Any,
        method: str = "align_to_reference",
        random_state: Any = None,
        **options: Any,
    ) -> None:
        self.action = action
        self.method = method
        self.random_state = random_state
        self._options = dict(options)

    # -- hyper-parameters: the three named ones plus the method options ---------------------------
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        params = super().get_params(deep=deep)
        params.update(self._options)
        return params

    def set_params(self, **params: Any) -> InvariantProjection:
        named = set(self._get_param_names())
        for key in [k for k in params if k not in named]:
            self._options[key] = params.pop(key)
        return super().set_params(**params)

    # -- fitting ---------------------------------------------------------------------------------
    def _map(self) -> InvariantMap:
        return get_map(self.method)

    def _data_free(self) -> bool:
        try:
            return self._map().data_free
        except ValueError:  # an unknown method: fit reports it
            return False

    def _split_options(self, invariant_map: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        """Options for ``fit`` and for ``transform``; unknown names go to ``fit``, which
        rejects them with the list of valid ones."""
        fit_opts = {
            k: v for k, v in self._options.items() if k not in invariant_map.transform_options
        }
        transform_opts = {
            k: v for k, v in self._options.items() if k in invariant_map.transform_options
        }
        return fit_opts, transform_opts

    def _fit_params(self, Z: np.ndarray, action: Any) -> dict[str, Any]:
        invariant_map = self._map()
        fit_opts, _ = self._split_options(invariant_map)
        return invariant_map.fit(Z, action, random_state=self.random_state, **fit_opts)

    def _features(self, Z: np.ndarray, action: Any, params: dict[str, Any]) -> np.ndarray:
        invariant_map = self._map()
        _, transform_opts = self._split_options(invariant_map)
        F = invariant_map.transform(Z, action, params, **transform_opts)
        return np.asarray(F, dtype=float).reshape(len(Z), -1)

    def fit(self, X: Any, y: Any = None) -> InvariantProjection:
        """Fit the map's references / templates / directions (a no-op for data-free maps).

        Parameters
        ----------
        X : array of shape (n_samples, ...latent) or (n_samples, n_features)
        y : ignored

        Returns
        -------
        self
        """
        action = resolve_action(self.action)
        Z, _, _ = validate_latents(self, X, action, reset=True)
        self.params_ = self._fit_params(Z, action)
        d = Z.shape[-1] if Z.ndim == 3 else None
        self.properties_ = self._map().properties(action, d=d, **self._options)
        self.action_ = action
        self._n_features_out = self.properties_.output_dim
        return self

    def transform(self, X: Any) -> np.ndarray:
        """The invariant features.

        Parameters
        ----------
        X : array of shape (n_samples, ...latent) or (n_samples, n_features)

        Returns
        -------
        numpy array of shape (n_samples, m)
        """
        if not hasattr(self, "params_"):
            if not self._data_free():
                raise NotFittedError(
                    f"This InvariantProjection with method={self.method!r} is not fitted yet; "
                    "call fit first (only the data-free methods "
                    f"{sorted(data_free_methods())} transform without fit)"
                )
            # data-free: the parameters are computed on the fly and nothing is stored
            action = resolve_action(self.action)
            Z, _, _ = validate_latents(None, X, action, reset=False)
            return self._features(Z, action, self._fit_params(Z, action))
        Z, _, _ = validate_latents(self, X, self.action_, reset=False)
        return self._features(Z, self.action_, self.params_)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = not self._data_free()
        tags.transformer_tags.preserves_dtype = ["float64"]
        return tags
