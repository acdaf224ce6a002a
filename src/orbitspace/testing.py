"""Public test kit: check group actions, quotient metrics, invariance and equivariance.

Each check raises ``AssertionError`` with the measured error when a property fails, and returns
the dict of errors it measured when all pass, so it serves both in a test suite and in a
notebook.

>>> from orbitspace import SO2
>>> errors = check_group_action(SO2("1x0 + 2x1"), random_state=0)
>>> errors["composition"] < 1e-12
True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from orbitspace._array import to_numpy
from orbitspace._validation import check_random_state
from orbitspace.groups import Action, parse_action
from orbitspace.quotient import quotient_distance

__all__ = [
    "check_group_action",
    "check_quotient_metric",
    "assert_invariant",
    "assert_equivariant",
    "random_latents",
]


def random_latents(action: Action, n: int, *, d: int = 2, random_state: Any = None) -> np.ndarray:
    """Standard normal latents shaped for ``action``: ``(n,) + action.event_shape``.

    ``d`` fills the axes the action leaves free (the channels of a plain permutation).

    Examples
    --------
    >>> from orbitspace import Permutation, SO2
    >>> random_latents(SO2("1x0 + 1x1"), 4).shape, random_latents(Permutation(5), 4, d=3).shape
    ((4, 3), (4, 5, 3))
    """
    rng = check_random_state(random_state)
    event = tuple(d if size is None else int(size) for size in action.event_shape)
    return rng.standard_normal((n,) + event)


def _fail_if(errors: dict[str, float], atol: float, what: str) -> dict[str, float]:
    bad = {k: v for k, v in errors.items() if not v <= atol}
    if bad:
        details = ", ".join(f"{k} = {v:.3g}" for k, v in bad.items())
        raise AssertionError(f"{what} failed (tolerance {atol:g}): {details}")
    return errors


def _max_abs(a: Any, b: Any) -> float:
    return float(np.max(np.abs(to_numpy(a, float) - to_numpy(b, float)), initial=0.0))


def check_group_action(
    action: Action | str,
    *,
    n_samples: int = 8,
    d: int = 2,
    random_state: Any = None,
    atol: float = 1e-8,
) -> dict[str, float]:
    """Check that ``action`` is an orthogonal group action, batched consistently.

    Measures, on ``n_samples`` sampled elements and latents: identity (``act(e, x) == x``),
    composition (``act(gh, x) == act(g, act(h, x))``), inverse, orthogonality of ``matrix(g)``,
    ``matrix(g) x == act(g, x)``, and batched ``act`` equal to a loop over samples.

    Returns
    -------
    dict mapping each property to its maximum absolute error.
    """
    action = parse_action(action)
    rng = check_random_state(random_state)
    X = random_latents(action, n_samples, d=d, random_state=rng)
    g = action.sample(n_samples, random_state=rng)
    h = action.sample(n_samples, random_state=rng)
    gX = action.act(g, X)
    errors = {
        "identity": _max_abs(action.act(action.identity(), X), X),
        "composition": _max_abs(
            action.act(action.compose(g, h), X), action.act(g, action.act(h, X))
        ),
        "inverse": _max_abs(action.act(action.inverse(g), gX), X),
        "norm_preserved": float(
            np.max(
                np.abs(
                    np.linalg.norm(gX.reshape(n_samples, -1), axis=1)
                    - np.linalg.norm(X.reshape(n_samples, -1), axis=1)
                )
            )
        ),
    }
    M = action.matrix(g)
    eye = np.eye(M.shape[-1])
    errors["orthogonality"] = _max_abs(
        np.einsum("...ji,...jk->...ik", M, M), np.broadcast_to(eye, M.shape)
    )
    if action.event_ndim == 1 or M.shape[-1] == X[0].size:  # on the flattened code
        via_matrix = np.einsum("nij,nj->ni", M, X.reshape(n_samples, -1)).reshape(X.shape)
    else:  # on the rows (permutations: the channels are free)
        via_matrix = np.einsum("nij,njk->nik", M, X)
    errors["matrix_vs_act"] = _max_abs(via_matrix, gX)
    looped = np.stack([np.asarray(action.act(g[i], X[i])) for i in range(n_samples)])
    errors["batched_vs_looped"] = _max_abs(looped, gX)
    return _fail_if(errors, atol, f"check_group_action({action!r})")


def check_quotient_metric(
    action: Action | str,
    X: Any = None,
    *,
    distance: Callable[[Any, Any, Action], Any] | None = None,
    n_samples: int = 16,
    d: int = 2,
    random_state: Any = None,
    atol: float = 1e-7,
) -> dict[str, float]:
    """Check the quotient-metric axioms of ``distance`` (default: the exact quotient distance).

    Measured on triples of latents (``X`` or random): invariance ``d(g·x, h·y) = d(x, y)``,
    ``d(x, g·x) = 0``, symmetry, the triangle inequality, and ``d(x, y) <= ‖x − y‖``.

    Returns
    -------
    dict mapping each property to its worst violation (0 when it holds exactly).
    """
    action = parse_action(action)
    dist = distance if distance is not None else quotient_distance
    rng = check_random_state(random_state)
    if X is None:
        X = random_latents(action, 3 * n_samples, d=d, random_state=rng)
    X = action.check_latents(X)
    n = X.shape[0] // 3
    if n < 1:
        raise ValueError(f"check_quotient_metric needs at least 3 latents; received {X.shape[0]}")
    x, y, z = X[:n], X[n : 2 * n], X[2 * n : 3 * n]
    g, h = action.sample(n, random_state=rng), action.sample(n, random_state=rng)

    def dd(a, b):
        return to_numpy(dist(a, b, action), float)

    dxy, dyx, dxz, dyz = dd(x, y), dd(y, x), dd(x, z), dd(y, z)
    axes = tuple(range(1, X.ndim))
    euclid = np.sqrt(((x - y) ** 2).sum(axes))
    scale = 1.0 + float(np.max(euclid))
    errors = {
        "invariance": _max_abs(dd(action.act(g, x), action.act(h, y)), dxy) / scale,
        "orbit_zero": float(np.max(np.abs(dd(x, action.act(g, x))))) / scale,
        "symmetry": _max_abs(dxy, dyx) / scale,
        "triangle": float(np.max(np.maximum(dxz - dxy - dyz, 0.0))) / scale,
        "below_euclidean": float(np.max(np.maximum(dxy - euclid, 0.0))) / scale,
        "non_negative": float(np.max(np.maximum(-dxy, 0.0))),
    }
    return _fail_if(errors, atol, f"check_quotient_metric({action!r})")


def assert_invariant(
    fn: Callable[[Any], Any],
    X: Any,
    action: Action | str,
    *,
    n_group_samples: int = 4,
    random_state: Any = None,
    atol: float = 1e-8,
    rtol: float = 1e-8,
) -> float:
    """Assert ``fn(ρ(g) X) == fn(X)`` for sampled ``g``; return the largest error measured.

    ``fn`` maps a batch of latents ``(n, ...)`` to features ``(n, ...)``.  The tolerance is
    ``atol + rtol * max|fn(X)|``.
    """
    action = parse_action(action)
    rng = check_random_state(random_state)
    Xn = action.check_latents(X)
    n = Xn.shape[0] if Xn.ndim > action.event_ndim else None
    base = to_numpy(fn(Xn), float)
    worst = 0.0
    for _ in range(n_group_samples):
        g = action.sample(n, random_state=rng)
        worst = max(worst, _max_abs(fn(action.act(g, Xn)), base))
    tol = atol + rtol * float(np.max(np.abs(base), initial=0.0))
    if not worst <= tol:
        raise AssertionError(f"not invariant under {action!r}: max error {worst:.3g} > {tol:.3g}")
    return worst


def assert_equivariant(
    fn: Callable[[Any], Any],
    X: Any,
    action_in: Action | str,
    action_out: Action | str,
    *,
    n_group_samples: int = 4,
    random_state: Any = None,
    atol: float = 1e-8,
    rtol: float = 1e-8,
) -> float:
    """Assert ``fn(ρ_in(g) X) == ρ_out(g) fn(X)`` for sampled ``g``; return the largest error.

    Both actions must be of the same group (same ``group_name`` and ``element_shape``, so one
    group element acts on both), e.g. two ``SO2`` reps, two ``Cyclic`` reps of one order, or
    two ``Permutation`` actions on the same nodes.
    """
    action_in, action_out = parse_action(action_in), parse_action(action_out)
    if (
        action_in.group_name != action_out.group_name
        or action_in.element_shape != action_out.element_shape
    ):
        raise ValueError(
            f"assert_equivariant needs two actions of one group; received {action_in!r} and "
            f"{action_out!r}"
        )
    rng = check_random_state(random_state)
    Xn = action_in.check_latents(X)
    n = Xn.shape[0] if Xn.ndim > action_in.event_ndim else None
    base = to_numpy(fn(Xn), float)
    worst = 0.0
    for _ in range(n_group_samples):
        g = action_in.sample(n, random_state=rng)
        worst = max(worst, _max_abs(fn(action_in.act(g, Xn)), action_out.act(g, base)))
    tol = atol + rtol * float(np.max(np.abs(base), initial=0.0))
    if not worst <= tol:
        raise AssertionError(
            f"not equivariant from {action_in!r} to {action_out!r}: max error {worst:.3g} > {tol:.3g}"
        )
    return worst
