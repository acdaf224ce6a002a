"""The Fréchet mean on the quotient, by align-all-and-average."""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from orbitspace._array import like, to_numpy
from orbitspace._validation import check_positive_int, check_random_state
from orbitspace.groups import Action, apply_node_mask, parse_action
from orbitspace.quotient import align, pairwise_quotient_distances

__all__ = ["FrechetMeanResult", "frechet_mean", "MEDOID_CANDIDATES"]

#: the medoid is searched among at most this many random samples (each costs n distances)
MEDOID_CANDIDATES = 200


@dataclass(frozen=True)
class FrechetMeanResult:
    """The result of :func:`frechet_mean`.

    Attributes
    ----------
    mean : array of shape event (``(dim,)`` or ``(n_nodes, d)``)
        A representative of the Fréchet mean orbit.
    aligned : array of shape (n_samples, ...event)
        Every sample aligned to ``mean`` (``aligned[i] = ρ(g_i) X[i]``).
    group_elements : group elements ``g_i`` of the final alignment
    n_iter : int
        Number of align-and-average steps taken.
    converged : bool
        Whether the relative step of the mean fell below ``tol`` (or the Fréchet function
        stopped decreasing) within ``max_iter`` steps.
    history : array of shape (n_iter + 1,)
        The Fréchet function ``F(m) = mean_i d([m], [x_i])²`` at the initial point and after
        every step; it never increases (up to rounding).
    """

    mean: Any
    aligned: Any
    group_elements: Any
    n_iter: int
    converged: bool
    history: np.ndarray


def _check_batch(X: Any, action: Action, mask: Any) -> tuple[np.ndarray, np.ndarray | None]:
    Xn = action.check_latents(X)
    if Xn.ndim != action.event_ndim + 1 or Xn.shape[0] == 0:
        raise ValueError(
            f"X must be a non-empty flat batch of shape (n_samples, ...event) for {action!r}; "
            f"received shape {Xn.shape}"
        )
    mask_n = None
    if mask is not None:
        if action.node_axis is None:
            raise ValueError(
                f"mask applies to actions on node sets only; received action {action!r}"
            )
        mask_n = to_numpy(mask).astype(bool)
        Xn = apply_node_mask(Xn, mask_n)  # padded rows become zero nodes
    return Xn, mask_n


def _medoid(Xn: np.ndarray, action: Action, rng: np.random.Generator) -> int:
    n = Xn.shape[0]
    cand = (
        np.arange(n) if n <= MEDOID_CANDIDATES else rng.choice(n, MEDOID_CANDIDATES, replace=False)
    )
    D = np.asarray(pairwise_quotient_distances(Xn[cand], Xn, action=action))
    return int(cand[np.argmin((D**2).sum(axis=1))])


def _initial_mean(
    init: Any, Xn: np.ndarray, action: Action, rng: np.random.Generator
) -> np.ndarray:
    event = Xn.shape[1:]
    if isinstance(init, str):
        if init != "medoid":
            raise ValueError(
                f"init must be 'medoid', a sample index or an array; received {init!r}"
            )
        return Xn[_medoid(Xn, action, rng)].copy()
    if isinstance(init, (numbers.Integral, np.integer)) and not isinstance(init, bool):
        if not -Xn.shape[0] <= init < Xn.shape[0]:
            raise ValueError(f"init index must be in 0..{Xn.shape[0] - 1}; received {init}")
        return Xn[int(init)].copy()
    m = action.check_latents(init, "init")
    if m.shape != event:
        raise ValueError(f"init array must have shape {event}; received shape {m.shape}")
    return m.copy()


def align_to(
    mean: np.ndarray, Xn: np.ndarray, action: Action
) -> tuple[np.ndarray, Any, np.ndarray]:
    """Align every row of ``Xn`` to ``mean``: (aligned, group elements, distances)."""
    res = align(mean[None], Xn, action)
    return np.asarray(res.Y_aligned), res.g, np.asarray(res.distance)


def frechet_mean(
    X: Any,
    action: Action | str,
    *,
    max_iter: int = 50,
    tol: float = 1e-8,
    init: Any = "medoid",
    random_state: Any = None,
    mask: Any = None,
) -> FrechetMeanResult:
    """The Fréchet mean of orbits: ``argmin_m Σ_i d([m], [x_i])²``.

    Iterates: align every sample to the current mean (exact alignment), then average the
    aligned samples.  Each step cannot increase the Fréchet function, since the average
    minimises ``Σ_i ‖m − ρ(g_i) x_i‖²`` for fixed ``g_i`` and re-aligning can only lower each
    term.  The iteration stops when the relative decrease is below ``tol``; like any local
    method it finds a local minimum, which depends on ``init``.

    Parameters
    ----------
    X : array of shape (n_samples, dim), or (n_samples, n_nodes, d) for node actions
    action : Action or its repr string
    max_iter : int
    tol : float
        Stop when the mean moves by at most ``tol × ‖mean‖`` in one step (or the Fréchet
        function stops decreasing beyond rounding).
    init : "medoid", int or array of the event shape
        ``"medoid"``: the sample with the least summed squared quotient distance to all
        samples (searched among at most 200 random samples); an int: that sample; an array:
        that starting point.
    random_state : None, int or numpy Generator
        Only used to pick medoid candidates when ``n_samples > 200``.
    mask : array of shape (n_samples, n_nodes), bool, optional
        Node mask (node actions only): padded rows are set to zero before averaging, so they
        act as zero nodes.

    Returns
    -------
    FrechetMeanResult

    Examples
    --------
    >>> import numpy as np
    >>> from orbitspace import SO2
    >>> rho = SO2("1x1")
    >>> X = rho.act(rho.sample(5, random_state=0), np.array([1.0, 0.0]))  # one orbit
    >>> res = frechet_mean(X, rho)
    >>> round(float(np.linalg.norm(res.mean)), 6), round(float(res.history[-1]), 12)
    (1.0, 0.0)
    """
    action = parse_action(action)
    max_iter = check_positive_int(max_iter, "max_iter", minimum=0)
    if not tol >= 0:
        raise ValueError(f"tol must be >= 0; received {tol!r}")
    Xn, _ = _check_batch(X, action, mask)
    rng = check_random_state(random_state)
    mean = _initial_mean(init, Xn, action, rng)
    aligned, g, dist = align_to(mean, Xn, action)
    history = [float(np.mean(dist**2))]
    converged = False
    n_iter = 0
    for n_iter in range(1, max_iter + 1):  # noqa: B007 - n_iter is reported
        # the mean of the aligned samples minimises Σ‖m − ρ(g_i) x_i‖² for fixed g_i
        new_mean = aligned.mean(axis=0)
        new_aligned, new_g, new_dist = align_to(new_mean, Xn, action)
        value = float(np.mean(new_dist**2))
        moved = float(np.linalg.norm(new_mean - mean))
        scale = max(float(np.linalg.norm(new_mean)), np.finfo(float).tiny)
        mean, aligned, g = new_mean, new_aligned, new_g
        decrease = history[-1] - value
        history.append(value)
        # F is quadratic near its minimum, so a test on F alone would stop with the mean
        # only sqrt(tol)-accurate: the test is on the step of the mean; F at rounding level too
        if moved <= tol * scale or decrease <= 4 * np.finfo(float).eps * history[-2]:
            converged = True
            break
    ref = X
    return FrechetMeanResult(
        mean=like(mean, ref),
        aligned=like(aligned, ref),
        group_elements=g,
        n_iter=n_iter,
        converged=converged,
        history=np.asarray(history),
    )
