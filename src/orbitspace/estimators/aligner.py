"""``QuotientAligner``: align every sample to one fitted template (a cross-section)."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from orbitspace.estimators._common import resolve_action, validate_latents
from orbitspace.quotient import align
from orbitspace.stats import frechet_mean

__all__ = ["QuotientAligner"]

TEMPLATES = ("frechet_mean", "medoid", "first")


class QuotientAligner(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Align every sample to a template fitted on the training data.

    ``transform(X)[i] = ρ(g_i) X[i]`` with ``g_i`` minimising ``‖template_ − ρ(g) X[i]‖``: each
    output lies in the orbit of its input and the map is invariant (away from ties); it is the
    Dirichlet cross-section of the template.  The output keeps the input's layout (flat 2-D in,
    flat 2-D out; node latents in, node latents out).

    Parameters
    ----------
    action : Action or its repr string
        See :mod:`orbitspace.estimators._common` for how flat 2-D input is read.
    template : "frechet_mean", "medoid", "first" or array of the latent shape
        ``"frechet_mean"`` (default): the Fréchet mean of the training orbits;
        ``"medoid"``: its starting point, the training sample closest to all others in the
        quotient; ``"first"``: the first training sample; an array: that template (flat or in
        the latent layout; its width is checked against ``X``).
    max_iter, tol : int, float
        Passed to :func:`orbitspace.stats.frechet_mean`.
    random_state : None, int or numpy Generator
        Medoid candidates when there are more than 200 training samples.

    Attributes
    ----------
    template_ : array of shape (dim,) or (n_nodes, d)
    action_ : Action
    n_features_in_ : int
    frechet_history_ : array or None
        The Fréchet function along the iterations (``template="frechet_mean"`` only).
    n_iter_ : int
        Alignment passes over the training data during fit: one per Fréchet-mean iterate
        (``len(frechet_history_)``), or 1 for a fixed template.
    inertia_ : float
        Mean squared quotient distance of the training samples to ``template_`` (the
        Fréchet function at the template).

    Examples
    --------
    >>> import numpy as np
    >>> from orbitspace import Permutation
    >>> X = np.array([[[0.0], [1.0]], [[1.0], [0.0]], [[0.1], [0.9]]])
    >>> QuotientAligner(Permutation(2), template="first").fit_transform(X)[..., 0].tolist()
    [[0.0, 1.0], [0.0, 1.0], [0.1, 0.9]]
    """

    def __init__(
        self,
        action: Any,
        template: Any = "frechet_mean",
        *,
        max_iter: int = 50,
        tol: float = 1e-8,
        random_state: Any = None,
    ) -> None:
        self.action = action
        self.template = template
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state

    def fit(self, X: Any, y: Any = None) -> QuotientAligner:
        """Fit the template.

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
        self.frechet_history_ = None
        template = self.template
        if isinstance(template, str):
            if template not in TEMPLATES:
                raise ValueError(
                    f"template must be one of {TEMPLATES} or an array; received {template!r}"
                )
            if template == "first":
                self.template_ = Z[0].copy()
            else:
                res = frechet_mean(
                    Z,
                    action,
                    max_iter=self.max_iter if template == "frechet_mean" else 0,
                    tol=self.tol,
                    random_state=self.random_state,
                )
                self.template_ = np.asarray(res.mean, dtype=float)
                if template == "frechet_mean":
                    self.frechet_history_ = res.history
        else:
            T = np.asarray(template, dtype=float)
            if T.size != Z[0].size:
                raise ValueError(
                    f"template must have {Z[0].size} entries (the latent shape {Z.shape[1:]}); "
                    f"received shape {T.shape}"
                )
            self.template_ = T.reshape(Z.shape[1:])
        self.action_ = action
        if self.frechet_history_ is not None:
            self.n_iter_ = len(self.frechet_history_)  # one alignment pass per history entry
            self.inertia_ = float(self.frechet_history_[-1])
        else:
            dist = np.asarray(align(self.template_[None], Z, action).distance)
            self.n_iter_ = 1
            self.inertia_ = float(np.mean(dist**2))
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Align every sample to ``template_``.

        Parameters
        ----------
        X : array of shape (n_samples, ...latent) or (n_samples, n_features)

        Returns
        -------
        numpy array shaped like ``X``
        """
        check_is_fitted(self, "template_")
        Z, was_flat, _ = validate_latents(self, X, self.action_, reset=False)
        aligned = np.asarray(align(self.template_[None], Z, self.action_).Y_aligned)
        return aligned.reshape(len(Z), -1) if was_flat else aligned

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64"]
        return tags
