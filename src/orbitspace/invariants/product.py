"""Invariants of node-wise products S_n × G on node latents ``X`` of shape ``(..., n_nodes, d)``.

The product permutes the nodes (within each node type, when the node factor carries
``node_types``) and acts on every node's features by the same ``g`` of the feature action G
(``action.feature_action``, given by its components).  Every map here first takes a *per-node
invariant* ``φ`` of G on each row — the norm of every copy (``"norms"``, as
:func:`orbitspace.invariants.norms`) or the power spectrum (``"power_spectrum"``, as
:func:`orbitspace.invariants.power_spectrum`) — which removes ``g`` node by node, then removes
the node order: by sorting each feature over the nodes of each type (in place, so the sorted
values of a type fill that type's slots), by sorting random projections of ``φ``, or by pooling.

Every function accepts numpy or torch, zeroes padded rows when given a node mask
``(..., n_nodes)`` (True = real node; as :func:`orbitspace.apply_node_mask`), and returns features
``(..., m)`` of the caller's kind.

Why sorting ``φ`` is 1-Lipschitz for the product's quotient metric (``φ = "norms"``): for any
element ``(p, g)`` (``p`` keeping types),
``‖x − (p, g)·y‖² = Σ_i ‖x_i − ρ(g) y_p(i)‖² >= Σ_i ‖φ(x_i) − φ(y_p(i))‖²``, since block norms
are 1-Lipschitz (reverse triangle inequality per copy) and G-invariant.  The right side is
``Σ_f Σ_c Σ_{i∈c} (φ_f(x_i) − φ_f(y_p(i)))²`` over features ``f`` and type classes ``c``; ``p``
maps each class onto itself, and for one feature of one class sorting both sides minimises the
matched sum of squares over all matchings (rearrangement inequality).  So
``‖x − (p, g)·y‖ >= ‖π(x) − π(y)‖`` for every ``(p, g)``, hence ``d([x], [y]) >= ‖π(x) − π(y)‖``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from orbitspace._array import ArrayLike, like
from orbitspace._validation import check_array
from orbitspace.groups import Action
from orbitspace.invariants import blocks, fourier
from orbitspace.invariants._common import latents, node_mask

__all__ = [
    "NODE_INVARIANTS",
    "REDUCTIONS",
    "acts_on_node_features",
    "type_classes",
    "node_invariant_dim",
    "node_invariants",
    "node_sorted_invariants",
    "node_sorted_projections",
    "node_pooled_invariants",
]

#: the per-node invariants of the feature action
NODE_INVARIANTS = ("norms", "power_spectrum")
REDUCTIONS = ("sum", "mean", "max")


def acts_on_node_features(action: Action) -> bool:
    """The action permutes nodes and acts on each node's features by a feature action given
    by its components (a node-wise product S_n × G)."""
    fa = action.feature_action
    return action.node_axis is not None and fa is not None and fa.has_components()


def _need_product(action: Action, what: str) -> Action:
    if not acts_on_node_features(action):
        raise TypeError(
            f"{what} needs a node-wise product S_n × G (node latents with a feature action "
            f"given by its components, e.g. Product(Permutation(5), SO2('1x1'))); received "
            f"{action!r}"
        )
    return action


def _check_invariant(invariant: Any) -> str:
    if invariant not in NODE_INVARIANTS:
        raise ValueError(f"invariant must be one of {NODE_INVARIANTS}; received {invariant!r}")
    return invariant


def type_classes(action: Action) -> list[np.ndarray]:
    """The node slots of each node type, in order of type (one class when untyped).

    Examples
    --------
    >>> from orbitspace.groups import SO2, Permutation, Product
    >>> a = Product(Permutation(4, node_types=(8, 6, 8, 6)), SO2("1x1"))
    >>> [c.tolist() for c in type_classes(a)]
    [[1, 3], [0, 2]]
    """
    types = getattr(action, "node_types", None)
    if types is None:
        return [np.arange(int(action.n_nodes))]
    t = np.asarray(types)
    return [np.nonzero(t == v)[0] for v in np.unique(t)]


def node_invariant_dim(action: Action, invariant: str = "norms") -> int:
    """Number ``F`` of per-node invariant features, from the feature action's components."""
    _need_product(action, "node_invariant_dim")
    factor = action.feature_action
    if _check_invariant(invariant) == "norms":
        return blocks.n_copies(factor)
    return fourier.power_spectrum_dim(factor)


def _phi(Xn: np.ndarray, action: Action, invariant: str) -> np.ndarray:
    factor = action.feature_action
    if _check_invariant(invariant) == "norms":
        return np.asarray(blocks.norms(Xn, factor))
    return np.asarray(fourier.power_spectrum(Xn, factor))


def node_invariants(
    X: ArrayLike, action: Action, *, invariant: str = "norms", mask: Any = None
) -> ArrayLike:
    """The per-node invariant ``φ`` of the feature action G on every node (no sorting).

    Equivariant for the node permutations and invariant for G: ``φ`` of ``(p, g)·X`` is ``φ(X)``
    with its rows permuted by ``p``.

    Parameters
    ----------
    X : array of shape (..., n_nodes, G.dim)
    action : a node-wise product (``Product(Permutation(n), G)``)
    invariant : {"norms", "power_spectrum"}
    mask : array of shape (..., n_nodes), optional (padded rows give φ(0) = 0)

    Returns
    -------
    array of shape (..., n_nodes, F), ``F = node_invariant_dim(action, invariant)``

    Examples
    --------
    >>> from orbitspace.groups import SO2, Permutation, Product
    >>> a = Product(Permutation(2), SO2("1x0 + 1x1"))
    >>> node_invariants(np.array([[1.0, 3.0, 4.0], [-2.0, 0.0, 1.0]]), a).tolist()
    [[1.0, 5.0], [-2.0, 1.0]]
    """
    _need_product(action, "node_invariants")
    Xn = latents(X, action, mask)
    return like(_phi(Xn, action, invariant), X)


def _sort_within_types(P: np.ndarray, action: Action) -> np.ndarray:
    """Sort ``P`` of shape (..., n_nodes, k) along the nodes of each type, in place of them."""
    out = np.empty_like(P)
    for c in type_classes(action):
        out[..., c, :] = np.sort(P[..., c, :], axis=-2)
    return out


def _flat(Z: np.ndarray) -> np.ndarray:
    return Z.reshape(Z.shape[:-2] + (-1,))


def node_sorted_invariants(
    X: ArrayLike, action: Action, *, invariant: str = "norms", mask: Any = None
) -> ArrayLike:
    """Per-node invariants, each feature sorted over the nodes of each type.

    Invariant under the product; with ``invariant="norms"`` 1-Lipschitz in its quotient
    distance (proof in the module docstring), which makes it the pruning bound of exact
    nearest neighbours.  Lossy for two or more nodes unless G acts trivially: it forgets the
    relative orientation of the nodes (turn one node alone by some ``h``: same image).

    Parameters
    ----------
    X : array of shape (..., n_nodes, G.dim)
    action : a node-wise product (``Product(Permutation(n, node_types), G)``)
    invariant : {"norms", "power_spectrum"}
    mask : array of shape (..., n_nodes), optional

    Returns
    -------
    array of shape (..., n_nodes * F): row ``i`` of the sorted ``(n_nodes, F)`` matrix holds,
    for the type of slot ``i``, the values of that type in ascending order; flattened row by row

    Examples
    --------
    >>> from orbitspace.groups import SO2, Permutation, Product
    >>> a = Product(Permutation(3), SO2("1x1"))
    >>> node_sorted_invariants(np.array([[3.0, 4.0], [0.0, 1.0], [0.0, -2.0]]), a).tolist()
    [1.0, 2.0, 5.0]
    """
    _need_product(action, "node_sorted_invariants")
    Phi = _phi(latents(X, action, mask), action, invariant)
    return like(_flat(_sort_within_types(Phi, action)), X)


def node_sorted_projections(
    X: ArrayLike,
    action: Action,
    directions: Any,
    *,
    invariant: str = "norms",
    mask: Any = None,
) -> ArrayLike:
    """Sorted projections of the per-node invariants: ``sort(φ(X) a_j)`` within each type.

    ``φ(X)`` is the ``(n_nodes, F)`` matrix of per-node invariants; each of the ``m`` unit
    directions ``a_j`` gives one value per node, sorted over the nodes of each type (in their
    slots); features are scaled by ``1/sqrt(m)``.  With ``"norms"`` 1-Lipschitz in the product's
    quotient distance: ``‖x − (p, g)·y‖ >= ‖φ(x) − P φ(y)‖_F`` node by node, and sorted
    projections with unit directions are 1-Lipschitz for permutations (within types).

    Parameters
    ----------
    X : array of shape (..., n_nodes, G.dim)
    action : a node-wise product
    directions : array of shape (F, m)
        Unit directions in per-node invariant space as columns
        (``F = node_invariant_dim(action, invariant)``).
    invariant : {"norms", "power_spectrum"}
    mask : array of shape (..., n_nodes), optional

    Returns
    -------
    array of shape (..., n_nodes * m), flattened row by row

    Examples
    --------
    >>> from orbitspace.groups import SO2, Permutation, Product
    >>> a = Product(Permutation(2), SO2("1x0 + 1x1"))
    >>> X = np.array([[1.0, 3.0, 4.0], [-2.0, 0.0, 1.0]])
    >>> node_sorted_projections(X, a, np.eye(2)).round(3).tolist()
    [-1.414, 0.707, 0.707, 3.536]
    """
    _need_product(action, "node_sorted_projections")
    Xn = latents(X, action, mask)
    F = node_invariant_dim(action, invariant)
    A = check_array(directions, "directions", min_ndim=2)
    if A.ndim != 2 or A.shape[0] != F:
        raise ValueError(
            f"directions must have shape (F, m) = ({F}, m) for the {invariant} of "
            f"{action.feature_action!r} per node; received shape {A.shape}"
        )
    P = _phi(Xn, action, invariant) @ A
    out = _sort_within_types(P, action) / np.sqrt(max(A.shape[1], 1))
    return like(_flat(out), X)


def node_pooled_invariants(
    X: ArrayLike,
    action: Action,
    *,
    invariant: str = "norms",
    reduction: str = "sum",
    mask: Any = None,
) -> ArrayLike:
    """Per-node invariants pooled (sum, mean or max) over the nodes of each type: the baseline.

    With a mask, padded nodes are left out: ``mean`` divides by the number of real nodes of the
    type and ``max`` ignores padded rows (a type with no real node pools to 0).

    Parameters
    ----------
    X : array of shape (..., n_nodes, G.dim)
    action : a node-wise product
    invariant : {"norms", "power_spectrum"}
    reduction : {"sum", "mean", "max"}
    mask : array of shape (..., n_nodes), optional

    Returns
    -------
    array of shape (..., n_types * F): the pooled features of each type, in order of type

    Examples
    --------
    >>> from orbitspace.groups import SO2, Permutation, Product
    >>> a = Product(Permutation(2), SO2("1x0 + 1x1"))
    >>> X = np.array([[1.0, 3.0, 4.0], [-2.0, 0.0, 1.0]])
    >>> node_pooled_invariants(X, a, reduction="mean").tolist()
    [-0.5, 3.0]
    """
    _need_product(action, "node_pooled_invariants")
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}; received {reduction!r}")
    Xn = latents(X, action, mask)
    Phi = _phi(Xn, action, invariant)
    m = node_mask(mask, Xn)
    if m is None:
        m = np.ones(Xn.shape[:-1], dtype=bool)
    parts = []
    for c in type_classes(action):
        P, real = Phi[..., c, :], m[..., c]
        if reduction == "sum":
            parts.append(P.sum(axis=-2))
        elif reduction == "mean":
            parts.append(P.sum(axis=-2) / np.maximum(real.sum(axis=-1), 1)[..., None])
        else:
            top = np.where(real[..., None], P, -np.inf).max(axis=-2)
            parts.append(np.where(np.isfinite(top), top, 0.0))
    return like(np.concatenate(parts, axis=-1), X)
