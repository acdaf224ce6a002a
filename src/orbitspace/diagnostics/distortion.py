"""How faithfully features reproduce the quotient geometry: Lipschitz ratios, rank agreement,
neighbour recall and collisions, all measured against the exact quotient distance."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from orbitspace._array import to_numpy
from orbitspace._validation import check_array, check_positive_int, check_random_state
from orbitspace.diagnostics._common import as_feature_matrix, pair_quotient_distances
from orbitspace.groups import Action, parse_action
from orbitspace.quotient import pairwise_quotient_distances

__all__ = ["Distortion", "distortion"]

QUANTILES = (0.05, 0.5, 0.95)


@dataclass(frozen=True)
class Distortion:
    """Empirical distortion of a feature map against the quotient distance.

    Attributes
    ----------
    lower, upper : float
        Smallest and largest ratio ``‖f(x) − f(y)‖ / d([x], [y])`` over the sampled pairs with
        ``d > 0`` (an isometry gives 1 and 1; a bi-Lipschitz map stays within its bounds).
    ratio_quantiles : dict
        The 5%, 50% and 95% quantiles of that ratio, keyed ``"q05"``, ``"q50"``, ``"q95"``.
    spearman : float
        Spearman rank correlation between feature distances and quotient distances.
    knn_recall : float
        Mean fraction of each query's ``k`` quotient neighbours found among its ``k``
        feature-space neighbours (1 = same neighbourhoods).
    collision_rate : float
        Fraction of sampled pairs that the features merge (feature distance
        ``<= collision_rtol × median feature distance``) although their orbits are apart
        (quotient distance ``> separation_rtol × median quotient distance``).
    n_pairs : int
        Number of pairs the ratios, Spearman and collisions were computed on.
    k : int
        Neighbourhood size of the recall.
    n_queries : int
        Number of query points of the recall.
    """

    lower: float
    upper: float
    ratio_quantiles: dict[str, float]
    spearman: float
    knn_recall: float
    collision_rate: float
    n_pairs: int
    k: int
    n_queries: int = 0
    extra: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _sample_pairs(n: int, n_pairs: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """All pairs i < j when there are at most ``n_pairs`` of them, else ``n_pairs`` random ones."""
    total = n * (n - 1) // 2
    if total <= n_pairs:
        i, j = np.triu_indices(n, k=1)
        return i, j
    i = rng.integers(0, n, size=n_pairs)
    j = (i + rng.integers(1, n, size=n_pairs)) % n  # j != i, uniform over the others
    return i, j


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    from scipy.stats import spearmanr

    return float(spearmanr(a, b).statistic)


def _knn_sets(D: np.ndarray, k: int) -> np.ndarray:
    return np.argsort(D, axis=1, kind="stable")[:, :k]


def distortion(
    features: Any,
    X: Any,
    action: Action | str,
    *,
    n_pairs: int = 2000,
    k: int = 10,
    random_state: Any = None,
    mask: Any = None,
    quotient_distances: Any = None,
    max_queries: int = 300,
    collision_rtol: float = 1e-6,
    separation_rtol: float = 1e-3,
) -> Distortion:
    """Compare feature-space distances with exact quotient distances.

    Parameters
    ----------
    features : array of shape (n_samples, m)
        Features of the samples (trailing axes are flattened).
    X : array of shape (n_samples, dim), or (n_samples, n_nodes, d) for node actions
        The latents the features were computed from.
    action : Action or its repr string
    n_pairs : int
        Random pairs for the ratios, Spearman and collisions (all pairs when there are fewer).
    k : int
        Neighbourhood size for the recall (clipped to ``n_samples - 1``).
    random_state : None, int or numpy Generator
    mask : array of shape (n_samples, n_nodes), bool, optional
        Node mask (node actions only), passed to the quotient distance.
    quotient_distances : array of shape (n_samples, n_samples), optional
        Precomputed ``pairwise_quotient_distances(X, action=action)``; nothing is recomputed.
    max_queries : int
        At most this many random query points for the recall (each costs ``n_samples``
        quotient distances when ``quotient_distances`` is not given).
    collision_rtol, separation_rtol : float
        Relative tolerances of a collision: feature distance ``<= collision_rtol`` times the
        median sampled feature distance, while the quotient distance is ``> separation_rtol``
        times the median sampled quotient distance.

    Returns
    -------
    Distortion

    Examples
    --------
    >>> import numpy as np
    >>> from orbitspace import Permutation
    >>> X = np.random.default_rng(0).normal(size=(40, 4, 1))
    >>> F = np.sort(X[..., 0], axis=1)  # sorting: an isometric cross-section for d = 1
    >>> res = distortion(F, X, Permutation(4), k=5, random_state=0)
    >>> round(res.lower, 6), round(res.upper, 6), res.knn_recall
    (1.0, 1.0, 1.0)
    """
    action = parse_action(action)
    Xn = action.check_latents(X)
    if Xn.ndim != action.event_ndim + 1:
        raise ValueError(
            f"X must be a flat batch of shape (n_samples, ...event) for {action!r}; "
            f"received shape {Xn.shape}"
        )
    n = Xn.shape[0]
    if n < 2:
        raise ValueError(f"distortion needs at least 2 samples; received {n}")
    F = as_feature_matrix(features, "features", n_samples=n)
    n_pairs = check_positive_int(n_pairs, "n_pairs")
    k = min(check_positive_int(k, "k"), n - 1)
    max_queries = check_positive_int(max_queries, "max_queries")
    mask_n = None
    if mask is not None:
        if action.node_axis is None:
            raise ValueError(
                f"mask applies to actions on node sets only; received action {action!r}"
            )
        mask_n = to_numpy(mask).astype(bool)
    D = None
    if quotient_distances is not None:
        D = check_array(quotient_distances, "quotient_distances", min_ndim=2)
        if D.shape != (n, n):
            raise ValueError(
                f"quotient_distances must have shape ({n}, {n}); received shape {D.shape}"
            )
    rng = check_random_state(random_state)

    # -- pairs: ratios, rank agreement, collisions ---------------------------------------------
    i, j = _sample_pairs(n, n_pairs, rng)
    dq = D[i, j] if D is not None else pair_quotient_distances(Xn, i, j, action, mask=mask_n)
    df = np.linalg.norm(F[i] - F[j], axis=1)
    q_scale = float(np.median(dq)) if dq.size else 0.0
    f_scale = float(np.median(df)) if df.size else 0.0
    apart = dq > separation_rtol * q_scale
    ratios = df[apart] / dq[apart]
    if ratios.size:
        lower, upper = float(ratios.min()), float(ratios.max())
        qs = np.quantile(ratios, QUANTILES)
    else:
        lower = upper = float("nan")
        qs = np.full(len(QUANTILES), np.nan)
    quantiles = {f"q{round(q * 100):02d}": float(v) for q, v in zip(QUANTILES, qs)}
    merged = df <= collision_rtol * f_scale
    collision_rate = float(np.mean(merged & apart)) if dq.size else 0.0

    # -- neighbourhoods: recall of quotient neighbours among feature neighbours ---------------
    n_queries = min(n, max_queries)
    queries = (
        np.sort(rng.choice(n, size=n_queries, replace=False)) if n_queries < n else np.arange(n)
    )
    if D is not None:
        Dq = np.array(D[queries], dtype=float)
    else:
        kw = {}
        if mask_n is not None:
            kw = {"x_mask": mask_n[queries], "y_mask": mask_n}
        Dq = np.asarray(pairwise_quotient_distances(Xn[queries], Xn, action=action, **kw))
    from scipy.spatial.distance import cdist

    Df = cdist(F[queries], F)
    rows = np.arange(n_queries)
    Dq[rows, queries] = np.inf
    Df[rows, queries] = np.inf
    nq, nf = _knn_sets(Dq, k), _knn_sets(Df, k)
    hits = [len(np.intersect1d(a, b, assume_unique=True)) for a, b in zip(nq, nf)]
    knn_recall = float(np.mean(hits) / k)

    return Distortion(
        lower=lower,
        upper=upper,
        ratio_quantiles=quantiles,
        spearman=_spearman(df, dq),
        knn_recall=knn_recall,
        collision_rate=collision_rate,
        n_pairs=int(len(i)),
        k=int(k),
        n_queries=int(n_queries),
        extra={"median_quotient_distance": q_scale, "median_feature_distance": f_scale},
    )
