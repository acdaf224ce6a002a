"""PCA on the quotient: align every sample to the Fréchet mean, then ordinary PCA."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from orbitspace._array import like
from orbitspace._validation import check_positive_int
from orbitspace.groups import Action, parse_action
from orbitspace.stats.frechet import FrechetMeanResult, _check_batch, align_to, frechet_mean

__all__ = ["QuotientPCAResult", "quotient_pca"]


@dataclass(frozen=True)
class QuotientPCAResult:
    """The result of :func:`quotient_pca`.

    Attributes
    ----------
    mean : array of the event shape
        The average of the aligned samples (the Fréchet mean representative at convergence).
    components : array of shape (n_components, ...event), orthonormal directions
    explained_variance : array of shape (n_components,)
        Variance of the scores along each component (divided by ``n_samples − 1``).
    explained_variance_ratio : array of shape (n_components,)
        The same divided by the total variance of the aligned samples.
    scores : array of shape (n_samples, n_components)
        Coordinates of the aligned, centred samples; invariant under ``ρ(g)`` on the inputs.
    aligned : array of shape (n_samples, ...event), every sample aligned to ``mean``
    frechet : FrechetMeanResult
    """

    mean: Any
    components: Any
    explained_variance: np.ndarray
    explained_variance_ratio: np.ndarray
    scores: Any
    aligned: Any
    frechet: FrechetMeanResult

    def transform(self, X: Any, action: Action | str) -> Any:
        """Scores of new samples: align each to ``mean``, centre, project.

        Parameters
        ----------
        X : array of shape (n_samples, ...event)
        action : the action used to fit

        Returns
        -------
        array of shape (n_samples, n_components)
        """
        action = parse_action(action)
        Xn, _ = _check_batch(X, action, None)
        mean = np.asarray(like(self.mean, np.zeros(0)))
        comps = np.asarray(like(self.components, np.zeros(0)))
        aligned, _, _ = align_to(mean, Xn, action)
        centred = (aligned - mean).reshape(len(Xn), -1)
        return like(centred @ comps.reshape(len(comps), -1).T, X)


def quotient_pca(
    X: Any,
    action: Action | str,
    n_components: int = 2,
    *,
    max_iter: int = 50,
    tol: float = 1e-8,
    init: Any = "medoid",
    random_state: Any = None,
    mask: Any = None,
) -> QuotientPCAResult:
    """Principal components of orbits, in the tangent space at the Fréchet mean.

    The samples are aligned to their Fréchet mean (:func:`frechet_mean`), centred and
    decomposed by SVD.  Signs are fixed so that the largest-magnitude score of each component
    is positive, a rule on the (invariant) scores; the scores therefore do not change when any
    ``ρ(g_i)`` is applied to the inputs (as long as the alignments are unique).

    Parameters
    ----------
    X : array of shape (n_samples, dim), or (n_samples, n_nodes, d) for node actions
    action : Action or its repr string
    n_components : int
        At most ``min(n_samples, prod(event shape))``.
    max_iter, tol, init, random_state, mask
        Passed to :func:`frechet_mean`.

    Returns
    -------
    QuotientPCAResult

    Examples
    --------
    >>> import numpy as np
    >>> from orbitspace import Permutation
    >>> X = np.random.default_rng(0).normal(size=(30, 4, 1))
    >>> res = quotient_pca(X, Permutation(4), n_components=2)
    >>> res.scores.shape, res.components.shape
    ((30, 2), (2, 4, 1))
    """
    action = parse_action(action)
    Xn, _ = _check_batch(X, action, mask)
    n = Xn.shape[0]
    width = int(np.prod(Xn.shape[1:]))
    n_components = check_positive_int(n_components, "n_components")
    if n_components > min(n, width):
        raise ValueError(
            f"n_components must be <= min(n_samples, n_features) = {min(n, width)}; "
            f"received {n_components}"
        )
    fm = frechet_mean(
        Xn, action, max_iter=max_iter, tol=tol, init=init, random_state=random_state, mask=mask
    )
    aligned = np.asarray(fm.aligned)
    # centre on the average of the aligned samples (the Fréchet mean at convergence)
    mean = aligned.mean(axis=0)
    centred = (aligned - mean).reshape(n, width)
    U, S, Vt = np.linalg.svd(centred, full_matrices=False)
    scores = U[:, :n_components] * S[:n_components]
    comps = Vt[:n_components]
    flip = np.sign(scores[np.abs(scores).argmax(axis=0), np.arange(n_components)])
    flip[flip == 0] = 1.0
    scores, comps = scores * flip, comps * flip[:, None]
    denom = max(n - 1, 1)
    var = S**2 / denom
    total = var.sum()
    ratio = var[:n_components] / total if total > 0 else np.zeros(n_components)
    return QuotientPCAResult(
        mean=like(mean, X),
        components=like(comps.reshape((n_components,) + Xn.shape[1:]), X),
        explained_variance=var[:n_components],
        explained_variance_ratio=ratio,
        scores=like(scores, X),
        aligned=like(aligned, X),
        frechet=fm,
    )
