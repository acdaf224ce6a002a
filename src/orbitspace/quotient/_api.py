"""Public quotient functions: alignment, quotient distances and the group maximisation.

For a compact group acting orthogonally,
``d([x], [y])² = ‖x‖² + ‖y‖² − 2 max_g <x, ρ(g) y>``; everything here reduces to that
maximisation, solved exactly by :mod:`orbitspace.quotient` solvers.

Given torch tensors, the optimal element ``g*`` is still found by the numpy solvers (on a
detached float64 copy), and ``‖X − ρ(g*) Y‖`` (``<X, ρ(g*) Y>``, ``ρ(g*) Y``) is then evaluated
in torch on the tensor's device and in its dtype (:mod:`orbitspace.quotient._torch`), so
gradients flow to ``X`` and ``Y``: by the envelope theorem the gradient of ``min_g`` is the
gradient at ``g*`` held constant (wherever ``g*`` is unique).  Elements come back as tensors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from orbitspace._array import ArrayLike, is_torch, like, to_numpy
from orbitspace.groups import Action, apply_node_mask, check_node_mask, parse_action
from orbitspace.quotient.exhaustive import max_inner_product_exhaustive

__all__ = [
    "AlignResult",
    "SolverInfo",
    "max_inner_product",
    "align",
    "quotient_distance",
    "solver_info",
]

METHODS = ("auto", "exhaustive")
#: squared distances below SMALL·(‖x‖² + ‖y‖²) are recomputed directly
SMALL = 1e-4


@dataclass(frozen=True)
class AlignResult:
    """The optimal alignment of ``Y`` to ``X``.

    Attributes
    ----------
    g : group element(s) with ``action.act(g, Y) == Y_aligned``
    Y_aligned : array shaped like ``Y`` broadcast against ``X``
    distance : array of shape batch, the quotient distance ``‖X − ρ(g) Y‖``
    certificate : array of shape batch (the caller's array kind of ``X``)
        Certified upper bound minus attained value of ``max_g <X, ρ(g) Y>``: the true maximum
        lies in ``[value, value + certificate]``, so the true squared distance is at least
        ``distance² − 2·certificate``.  0 for exact combinatorial solvers (enumeration,
        assignment); ``inf`` where nothing is proved (an exhaustive oracle that samples an
        infinite group).
    certified : bool
        Whether the maximisation is proved global within ``certificate`` (the registered
        solver's flag; for ``method="exhaustive"`` True only for finite groups, whose oracles
        enumerate every element).

    For tensor input ``g`` holds tensors (a product element: its arrays), ``Y_aligned`` and
    ``distance`` are differentiable with ``g`` held constant: exact for ``distance`` (the
    envelope theorem), and for ``Y_aligned`` the derivative at fixed ``g`` (it leaves out
    how ``g*`` moves with continuous groups; ``align_to_reference`` includes it for SO(2)).
    """

    g: Any
    Y_aligned: Any
    distance: Any
    certificate: Any = None
    certified: bool = True


@dataclass(frozen=True)
class SolverInfo:
    """The solver :func:`align` and the distance functions use for an action.

    Attributes
    ----------
    name : str, e.g. ``"linear assignment"``, ``"enumeration"``
    certified : bool, whether its maximum is proved global (within its certificate)
    """

    name: str
    certified: bool


def solver_info(action: Action | str) -> SolverInfo:
    """The registered fast solver of ``action``: its name and whether it is certified.

    Finite actions without a solver of their own are solved by enumerating the group
    (``"enumeration"``); an infinite action without one raises ValueError naming it.

    Examples
    --------
    >>> from orbitspace.groups import SO2, Permutation
    >>> solver_info(Permutation(5))
    SolverInfo(name='linear assignment', certified=True)
    >>> solver_info("SO2('1x1')").certified
    True
    """
    from orbitspace.quotient._registry import find_solver

    solver = find_solver(parse_action(action))
    return SolverInfo(solver.name, solver.certified)


def _apply_node_masks(Xn, Yn, action, x_mask, y_mask, *, same=False):
    """Zero padded nodes (node actions only) and check X and Y have the same channels.

    ``same``: Y is X (pairwise within one set), so X's mask serves both.
    """
    if action.node_axis is not None:
        Xn = apply_node_mask(Xn, x_mask, name="X")
        Yn = Xn if same else apply_node_mask(Yn, y_mask, name="Y")
        if Xn.shape[-1] != Yn.shape[-1]:
            raise ValueError(
                f"X and Y must have the same number of channels d; received X.shape {Xn.shape} "
                f"and Y.shape {Yn.shape}"
            )
    elif x_mask is not None or y_mask is not None:
        raise ValueError(
            f"node masks apply to actions on node sets only; received action {action!r}"
        )
    return Xn, Yn


def _prepare(X, Y, action, x_mask=None, y_mask=None):
    action = parse_action(action)
    Xn = action.check_latents(X, "X")
    Yn = action.check_latents(Y, "Y")
    Xn, Yn = _apply_node_masks(Xn, Yn, action, x_mask, y_mask)
    try:
        np.broadcast_shapes(Xn.shape[: -action.event_ndim], Yn.shape[: -action.event_ndim])
    except ValueError:
        raise ValueError(
            f"batch shapes of X {Xn.shape} and Y {Yn.shape} do not broadcast"
        ) from None
    return action, Xn, Yn


def check_method(method: Any) -> str:
    """``method`` if it is one of :data:`METHODS`, else a ValueError naming them."""
    if not isinstance(method, str) or method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}; received {method!r}")
    return method


def _solve(Xn, Yn, action, method):
    """``(value, g, gap, certified)`` of ``max_g <X, ρ(g) Y>`` over the broadcast batch."""
    check_method(method)
    if method == "exhaustive":
        value, g = max_inner_product_exhaustive(Xn, Yn, action)
        value = np.asarray(value, dtype=float)
        # oracles of finite groups enumerate every element; others (dense grids) prove nothing
        certified = bool(action.is_finite)
        gap = np.zeros(value.shape) if certified else np.full(value.shape, np.inf)
        return value, g, gap, certified
    return _solve_fast(Xn, Yn, action)


def _solve_fast(Xn, Yn, action):
    """The registered solver over broadcast batches, through the pair-index contract."""
    from orbitspace.quotient import solvers  # fast solvers, chosen per action

    e = action.event_ndim
    bx, by = Xn.shape[:-e], Yn.shape[:-e]
    batch = np.broadcast_shapes(bx, by)
    nx, ny = int(np.prod(bx, dtype=np.int64)), int(np.prod(by, dtype=np.int64))
    rows = np.broadcast_to(np.arange(nx).reshape(bx), batch).ravel()
    cols = np.broadcast_to(np.arange(ny).reshape(by), batch).ravel()
    Xf = Xn.reshape((nx,) + Xn.shape[-e:])
    Yf = Yn.reshape((ny,) + Yn.shape[-e:])
    sol = solvers.solve_pairs(Xf, Yf, rows, cols, action)
    g = sol.g if hasattr(sol.g, "reshape") else np.asarray(sol.g)  # arrays or ProductElement
    return (
        np.asarray(sol.value).reshape(batch),
        g.reshape(batch + g.shape[1:]),
        np.asarray(sol.gap, dtype=float).reshape(batch),
        bool(sol.certified),
    )


def max_inner_product(
    X: ArrayLike, Y: ArrayLike, action: Action | str, *, method: str = "auto"
) -> tuple[ArrayLike, Any]:
    """``max_g <X, ρ(g) Y>`` and a maximiser ``g``, elementwise over broadcast batch dims.

    Examples
    --------
    >>> import numpy as np
    >>> from orbitspace.groups import Permutation
    >>> X = np.array([[1.0], [2.0], [3.0]])
    >>> value, g = max_inner_product(X, X[::-1], Permutation(3))
    >>> float(value), g.tolist()
    (14.0, [2, 1, 0])

    Parameters
    ----------
    X, Y : arrays of shape (..., dim), or (..., n_nodes, d) for Permutation; batch dims broadcast
    action : Action or its repr string
    method : "auto" (exact fast solver) or "exhaustive" (slow oracle)

    Returns
    -------
    value : array of the broadcast batch shape (the caller's array kind; for tensors
        ``<X, ρ(g*) Y>`` in torch, differentiable in X and Y)
    g : group elements of that shape (Permutation: shape batch + (n_nodes,)); numpy, or
        tensors on the device of the tensor input

    Notes
    -----
    Exact: SO2 by a certified maximisation of a trigonometric polynomial (within
    1e-12·‖x‖‖y‖ of the global maximum), Cyclic/FiniteGroup by enumeration, Permutation by
    linear assignment (sorting when d = 1).
    """
    ref = _torch_ref(X, Y)
    if ref is not None:
        g, Ya, Xt, _, _, action = _torch_align(X, Y, action, method, None, None, ref)
        from orbitspace.quotient._torch import acc_dtype, element_like

        dims = tuple(range(-action.event_ndim, 0))
        value = (Xt.to(acc_dtype(Xt)) * Ya.to(acc_dtype(Xt))).sum(dims).to(Xt.dtype)
        return value, element_like(g, ref)
    action, Xn, Yn = _prepare(X, Y, action)
    value, g, _, _ = _solve(Xn, Yn, action, method)
    return like(value, X), g


def _act(action, g, Yn, Xn):
    """``ρ(g) Y`` broadcast against X (an empty batch needs no group action)."""
    e = action.event_ndim
    batch = np.broadcast_shapes(Xn.shape[:-e], Yn.shape[:-e])
    if 0 in batch:
        return np.zeros(batch + Yn.shape[-e:])
    out = np.asarray(action.act(g, Yn))
    shape = batch + Yn.shape[-e:]
    return out if out.shape == shape else np.broadcast_to(out, shape).copy()


def _norm(diff, action):
    return np.sqrt((diff**2).sum(tuple(range(-action.event_ndim, 0))))


def _torch_ref(X, Y):
    """The tensor that sets the device and dtype of a torch computation (X first), or None."""
    return X if is_torch(X) else (Y if is_torch(Y) else None)


def _mask_torch(T, mask, name):
    m = check_node_mask(mask, tuple(T.shape), name=name)
    if m is None:
        return T
    import torch

    keep = torch.as_tensor(m, device=T.device).unsqueeze(-1)
    return torch.where(keep, T, torch.zeros((), dtype=T.dtype, device=T.device))


def _torch_align(X, Y, action, method, x_mask, y_mask, ref):
    """``(g, ρ(g) Y, X, gap, certified, action)`` with ``g`` from the numpy solvers and the
    tensors in torch on ``ref``'s device and dtype (masked rows zeroed), differentiable."""
    from orbitspace.quotient._torch import act_torch, as_tensor_like

    action, Xn, Yn = _prepare(to_numpy(X), to_numpy(Y), action, x_mask, y_mask)
    _, g, gap, certified = _solve(Xn, Yn, action, method)
    Xt, Yt = as_tensor_like(X, ref), as_tensor_like(Y, ref)
    if action.node_axis is not None:
        Xt, Yt = _mask_torch(Xt, x_mask, "X"), _mask_torch(Yt, y_mask, "Y")
    e = action.event_ndim
    batch = np.broadcast_shapes(Xn.shape[:-e], Yn.shape[:-e])
    shape = batch + tuple(Yt.shape[-e:])
    Ya = Yt.new_zeros(shape) if 0 in batch else act_torch(action, g, Yt).expand(shape)
    return g, Ya, Xt, gap, certified, action


def _align_arrays(X, Y, action, method, x_mask, y_mask):
    """(g, ρ(g) Y, ‖X − ρ(g) Y‖, gap, certified), numpy arrays, g the minimiser: shared by
    align and quotient_distance."""
    action, Xn, Yn = _prepare(X, Y, action, x_mask, y_mask)
    _, g, gap, certified = _solve(Xn, Yn, action, method)
    Y_aligned = _act(action, g, Yn, Xn)
    # ‖X − ρ(g)Y‖ directly: the ‖x‖² + ‖y‖² − 2<·,·> form loses digits near zero
    return g, Y_aligned, _norm(Xn - Y_aligned, action), gap, certified


def align(
    X: ArrayLike,
    Y: ArrayLike,
    action: Action | str,
    *,
    method: str = "auto",
    x_mask: Any = None,
    y_mask: Any = None,
) -> AlignResult:
    """Align ``Y`` to ``X``: the group element minimising ``‖X − ρ(g) Y‖``.

    Parameters
    ----------
    X, Y : arrays of shape (..., dim) or (..., n_nodes, d) for Permutation; batch dims broadcast
    action : Action or its repr string
    method : "auto" (exact fast solver) or "exhaustive" (slow oracle)
    x_mask, y_mask : node masks of shape (..., n_nodes) for Permutation actions

    Returns
    -------
    AlignResult with ``g``, ``Y_aligned``, ``distance``, and the solver's ``certificate``
    (per-batch gap on the maximised inner product) and ``certified`` flag.

    Examples
    --------
    >>> import numpy as np
    >>> from orbitspace.groups import SO2
    >>> rho = SO2("1x1")
    >>> res = align(np.array([1.0, 0.0]), np.array([0.0, 1.0]), rho)
    >>> round(float(res.distance), 12), round(float(res.g), 6)
    (0.0, 4.712389)
    >>> res.certified, float(res.certificate) <= 1e-12
    (True, True)
    """
    ref = _torch_ref(X, Y)
    if ref is not None:
        from orbitspace.quotient._torch import element_like, event_norm

        g, Ya, Xt, gap, certified, action = _torch_align(X, Y, action, method, x_mask, y_mask, ref)
        return AlignResult(
            g=element_like(g, ref),
            Y_aligned=Ya,
            distance=event_norm(Xt - Ya, action.event_ndim),
            certificate=like(gap, ref),
            certified=certified,
        )
    g, Y_aligned, distance, gap, certified = _align_arrays(X, Y, action, method, x_mask, y_mask)
    return AlignResult(
        g=g,
        Y_aligned=like(Y_aligned, Y),
        distance=like(distance, X),
        certificate=like(gap, X),
        certified=certified,
    )


def quotient_distance(
    X: ArrayLike,
    Y: ArrayLike,
    action: Action | str,
    *,
    method: str = "auto",
    x_mask: Any = None,
    y_mask: Any = None,
) -> ArrayLike:
    """The quotient distance ``min_g ‖X − ρ(g) Y‖``, elementwise over broadcast batch dims.

    Examples
    --------
    >>> import numpy as np
    >>> from orbitspace.groups import SO2
    >>> d = quotient_distance(np.array([3.0, 4.0, 1.0]), np.array([0.0, 5.0, 2.0]), SO2("1x1 + 1x0"))
    >>> round(float(d), 12)
    1.0

    Parameters
    ----------
    X, Y : arrays of shape (..., dim), or (..., n_nodes, d) for Permutation; batch dims broadcast
    action : Action or its repr string
    method : "auto" (exact fast solver) or "exhaustive" (slow oracle)
    x_mask, y_mask : node masks of shape (..., n_nodes) for Permutation (True = real node)

    Returns
    -------
    array of the broadcast batch shape, computed directly as ``‖X − ρ(g*) Y‖`` (accurate near 0);
    for tensors a tensor on their device and in their dtype, differentiable in X and Y (the
    gradient at ``g*`` held constant: the envelope theorem; 0 where the distance is 0)
    """
    ref = _torch_ref(X, Y)
    if ref is not None:
        from orbitspace.quotient._torch import event_norm

        _, Ya, Xt, _, _, action = _torch_align(X, Y, action, method, x_mask, y_mask, ref)
        return event_norm(Xt - Ya, action.event_ndim)
    distance = _align_arrays(X, Y, action, method, x_mask, y_mask)[2]
    return like(distance, X)
