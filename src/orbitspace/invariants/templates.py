"""Invariants for every action, built on the exact group optimisation of :mod:`orbitspace.quotient`:
alignment to references (the paper's random invariant projection) and max filtering."""

from __future__ import annotations

from typing import Any

import numpy as np

from orbitspace._array import ArrayLike, like
from orbitspace._validation import check_array
from orbitspace.groups import Action, parse_action
from orbitspace.invariants._common import flat_batch, latents, map_chunks
from orbitspace.quotient import align, max_inner_product

__all__ = ["align_to_reference", "max_filter", "latents", "check_bank"]

#: pairs (sample, template) solved per call of the quotient solver: bounds the memory used
PAIRS_PER_CALL = 2048
#: finite vector groups up to this order are max-filtered by enumerating the template orbits
ORBIT_LIMIT = 1024


def check_bank(bank: Any, name: str, event_shape: tuple[int, ...]) -> np.ndarray:
    """A stack of references / templates of shape ``(K, *event_shape)``."""
    B = check_array(bank, name, min_ndim=1)
    if B.shape[1:] != event_shape:
        raise ValueError(
            f"{name} must have shape (K, {', '.join(map(str, event_shape))}) to match the "
            f"latents; received shape {B.shape}"
        )
    if B.shape[0] < 1:
        raise ValueError(f"{name} must hold at least one entry; received shape {B.shape}")
    return B


def align_to_reference(
    X: ArrayLike, action: Action | str, references: Any, *, mask: Any = None
) -> ArrayLike:
    """Align every latent to each reference and concatenate: the random invariant projection.

    For references ``r_1..r_K``: ``π(z) = concat_k ρ(g*_k) z / sqrt(K)`` with
    ``g*_k = argmin_g ‖ρ(g) z − r_k‖`` (exact, :func:`orbitspace.quotient.align`).  Each block is
    a point of the orbit ``[z]``, so ``‖π(x) − π(y)‖ >= d([x], [y])`` (lower Lipschitz 1) and
    the map separates every pair of orbits; with ``K = 1`` it is a cross-section (the
    Dirichlet cross-section of ``r``).  It is discontinuous where the optimal ``g`` jumps (ties).

    Parameters
    ----------
    X : array of shape (..., dim), or (..., n_nodes, d) for actions on node sets
    action : Action (with a registered solver) or its repr string
    references : array of shape (K, dim) or (K, n_nodes, d)
    mask : array of shape (..., n_nodes), optional (actions on node sets only)

    Returns
    -------
    array of shape (..., K * dim) or (..., K * n_nodes * d)

    Examples
    --------
    >>> from orbitspace import SO2
    >>> z = align_to_reference(np.array([0.0, 2.0]), SO2("1x1"), np.array([[1.0, 0.0]]))
    >>> z.round(6) + 0.0
    array([2., 0.])
    """
    action = parse_action(action)
    Xn = latents(X, action, mask)
    event = Xn.shape[Xn.ndim - action.event_ndim :]
    R = check_bank(references, "references", event)
    Z, batch = flat_batch(Xn, action.event_ndim)
    K = R.shape[0]

    def solve(Zc: np.ndarray) -> np.ndarray:
        blocks = [np.asarray(align(R[k], Zc, action).Y_aligned) for k in range(K)]
        out = np.stack(blocks, axis=1) / np.sqrt(K)
        return out.reshape(Zc.shape[0], -1)

    out = map_chunks(solve, Z, PAIRS_PER_CALL)
    return like(out.reshape(batch + (-1,)), X)


def max_filter(
    X: ArrayLike, action: Action | str, templates: Any, *, mask: Any = None
) -> ArrayLike:
    """Max filtering: ``Φ_i(z) = max_g <ρ(g) z, t_i> / sqrt(m)`` for ``m`` unit templates.

    Each raw coordinate ``max_g <ρ(g) z, t_i>`` is 1-Lipschitz in the quotient distance
    (``‖t_i‖ = 1``); the ``1/sqrt(m)`` scaling makes the whole map 1-Lipschitz.  ``2 * dim``
    generic templates separate the orbits of any group with closed orbits (Mixon & Qaddura,
    *Injectivity, stability, and positive definiteness of max filtering*, 2022); for finite
    groups an injective max filter bank is bi-Lipschitz (Cahill, Iverson, Mixon & Packer,
    *Group-invariant max filtering*, 2022).  Finite vector groups of order <= 1024 enumerate the
    orbit of each template (one matrix product); other actions call
    :func:`orbitspace.quotient.max_inner_product`.

    Parameters
    ----------
    X : array of shape (..., dim), or (..., n_nodes, d) for actions on node sets
    action : Action (with a registered solver) or its repr string
    templates : array of shape (m, dim) or (m, n_nodes, d)
    mask : array of shape (..., n_nodes), optional (actions on node sets only)

    Returns
    -------
    array of shape (..., m)

    Examples
    --------
    >>> from orbitspace import SO2
    >>> max_filter(np.array([0.0, 2.0]), SO2("1x1"), np.array([[1.0, 0.0]])).round(6)
    array([2.])
    """
    action = parse_action(action)
    Xn = latents(X, action, mask)
    event = Xn.shape[Xn.ndim - action.event_ndim :]
    T = check_bank(templates, "templates", event)
    Z, batch = flat_batch(Xn, action.event_ndim)
    m = T.shape[0]

    if action.node_axis is None and action.is_finite and action.order <= ORBIT_LIMIT:
        # small finite group: <ρ(g) z, t> = <z, ρ(g)ᵀ t>, so one matmul against the orbits of
        # the templates enumerates every (template, g) pair exactly
        G = action.order
        M = action.matrix(action.elements())  # (G, D, D)
        W = np.ascontiguousarray(np.einsum("gji,mj->igm", M, T).reshape(-1, G * m))  # (D, G m)

        def solve(Zc: np.ndarray) -> np.ndarray:
            return (Zc @ W).reshape(Zc.shape[0], G, m).max(axis=1)

        size = max(1, 2**21 // (m * G))
    else:

        def solve(Zc: np.ndarray) -> np.ndarray:
            value, _ = max_inner_product(T[None], Zc[:, None], action)
            return np.asarray(value)

        size = max(1, PAIRS_PER_CALL // m)
    out = map_chunks(solve, Z, size) / np.sqrt(m)
    return like(out.reshape(batch + (m,)), X)
