"""How far a map is from invariant: ``‖f(ρ(g) X) − f(X)‖`` over sampled group elements."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from orbitspace._array import like, to_numpy
from orbitspace._validation import check_positive_int, check_random_state
from orbitspace.diagnostics._common import as_feature_matrix
from orbitspace.groups import Action, parse_action

__all__ = ["InvarianceError", "invariance_error"]

#: relative errors divide by ``max(‖f(X)‖, REL_FLOOR * median ‖f(X)‖, tiny)``
REL_FLOOR = 1e-3


@dataclass(frozen=True)
class InvarianceError:
    """Summary of ``e_i = ‖f(ρ(g) x_i) − f(x_i)‖`` over samples and group draws.

    Attributes
    ----------
    max_abs, mean_abs : float
        Largest and mean absolute error ``e_i``.
    max_rel, mean_rel : float
        Largest and mean of ``e_i / ‖f(x_i)‖`` (the denominator is floored at
        ``1e-3 × median ‖f(x)‖`` so that near-zero features do not blow the ratio up).
    """

    max_abs: float
    mean_abs: float
    max_rel: float
    mean_rel: float

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def _call(fn: Callable, X: Any, mask: Any) -> Any:
    return fn(X) if mask is None else fn(X, mask=mask)


def invariance_error(
    fn: Callable[..., Any],
    X: Any,
    action: Action | str,
    *,
    n_group_samples: int = 8,
    random_state: Any = None,
    mask: Any = None,
) -> InvarianceError:
    """Measure how much ``fn(ρ(g) X)`` differs from ``fn(X)``.

    For each of ``n_group_samples`` rounds, an independent Haar-random element ``g_i`` is drawn
    for every sample and ``‖fn(ρ(g_i) x_i) − fn(x_i)‖`` is recorded.  A truly invariant map
    gives errors at rounding level; the identity map on raw codes (``fn = lambda X:
    X.reshape(len(X), -1)``) gives the raw-code ambiguity: how far apart the same object's codes
    lie in different poses.

    Parameters
    ----------
    fn : callable
        Maps latents ``(n_samples, ...)`` to features ``(n_samples, m)`` (trailing axes of the
        output are flattened).  When ``mask`` is given it is called as ``fn(X, mask=mask)``.
    X : array of shape (n_samples, dim), or (n_samples, n_nodes, d) for node actions
    action : Action or its repr string
    n_group_samples : int
        Number of rounds of random group elements.
    random_state : None, int or numpy Generator
    mask : array of shape (n_samples, n_nodes), bool, optional
        Node mask for padded graphs (node actions only); it moves with the nodes
        (``action.permute_mask``).

    Returns
    -------
    InvarianceError

    Examples
    --------
    >>> import numpy as np
    >>> from orbitspace import Permutation
    >>> X = np.random.default_rng(0).normal(size=(20, 5, 1))
    >>> sort = lambda Z: np.sort(Z[..., 0], axis=-1)
    >>> invariance_error(sort, X, Permutation(5), random_state=0).max_abs
    0.0
    >>> raw = lambda Z: Z.reshape(len(Z), -1)
    >>> invariance_error(raw, X, Permutation(5), random_state=0).max_abs > 0.1
    True
    """
    if not callable(fn):
        raise TypeError(f"fn must be a callable mapping latents to features; received {fn!r}")
    action = parse_action(action)
    n_group_samples = check_positive_int(n_group_samples, "n_group_samples")
    Xn = action.check_latents(X)
    if Xn.ndim != action.event_ndim + 1:
        raise ValueError(
            f"X must be a flat batch of shape (n_samples, ...event) with {action.event_ndim + 1} "
            f"axes for {action!r}; received shape {Xn.shape}"
        )
    n = Xn.shape[0]
    mask_n = None
    if mask is not None:
        if action.node_axis is None:
            raise ValueError(
                f"mask applies to actions on node sets only; received action {action!r}"
            )
        mask_n = to_numpy(mask).astype(bool)
        if mask_n.shape != Xn.shape[:-1]:
            raise ValueError(
                f"mask must have shape {Xn.shape[:-1]} (= X.shape[:-1]); received {mask_n.shape}"
            )
    rng = check_random_state(random_state)
    if n == 0:
        raise ValueError(f"X must hold at least one sample; received shape {Xn.shape}")
    F0 = as_feature_matrix(_call(fn, X, mask), "fn(X)", n_samples=n)
    norms = np.linalg.norm(F0, axis=1)
    floor = max(REL_FLOOR * float(np.median(norms)) if n else 0.0, np.finfo(float).tiny)
    denom = np.maximum(norms, floor)
    abs_err = np.empty((n_group_samples, n))
    for r in range(n_group_samples):
        g = action.sample(n, random_state=rng)
        Xg = action.act(g, X)  # the caller's array kind, so fn sees what it expects
        mask_g = None
        if mask_n is not None:
            mask_g = like(action.permute_mask(g, mask_n), mask, keep_dtype=True)
        Fg = as_feature_matrix(_call(fn, Xg, mask_g), "fn(rho(g) X)", n_samples=n)
        if Fg.shape != F0.shape:
            raise ValueError(
                f"fn returned features of shape {Fg.shape} on transformed X but {F0.shape} on X"
            )
        abs_err[r] = np.linalg.norm(Fg - F0, axis=1)
    rel_err = abs_err / denom
    return InvarianceError(
        max_abs=float(abs_err.max()),
        mean_abs=float(abs_err.mean()),
        max_rel=float(rel_err.max()),
        mean_rel=float(rel_err.mean()),
    )
