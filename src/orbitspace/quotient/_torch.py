"""Group elements applied to torch tensors, with gradients: ``ρ(g) Y`` for a fixed ``g``.

The optimal element of an alignment is found by the numpy solvers (no gradient); by the
envelope theorem the gradient of ``min_g ‖x − ρ(g) y‖`` is the gradient of ``‖x − ρ(g*) y‖``
with ``g*`` held constant, so only ``ρ(g*) Y`` has to be evaluated in torch.  Vector actions
use ``action.matrix(g)`` (one diagonal block per isotypic component when the action is given
by its components: every copy of a component moves by the same block); node actions gather
rows by the permutation and move every node's features by the factor's element.  torch is
imported inside the functions only.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from orbitspace._array import is_torch, like, to_numpy
from orbitspace.groups import Action, parse_action

__all__ = [
    "act_torch",
    "element_like",
    "event_norm",
    "as_tensor_like",
    "acc_dtype",
    "pairwise_distances_torch",
]

#: matrix entries formed per numpy call when building ρ(g) for a batch of elements
MATRIX_ENTRIES = 2**22


def acc_dtype(t: Any) -> Any:
    """The dtype reductions of ``t`` accumulate in: float64 for float16 / bfloat16 / float32
    (float32 stays float32 on devices without float64, e.g. Apple ``mps``)."""
    import torch

    if t.dtype == torch.float64 or t.device.type == "mps":
        return t.dtype
    return torch.float64


def event_norm(diff: Any, event_ndim: int) -> Any:
    """``‖diff‖`` over the last ``event_ndim`` axes, accumulated in :func:`acc_dtype`, returned
    in ``diff``'s dtype (differentiable; gradient 0 where the norm is 0)."""
    import torch

    dims = tuple(range(-event_ndim, 0))
    out = torch.linalg.vector_norm(diff, dim=dims, dtype=acc_dtype(diff))
    return out.to(diff.dtype)


def as_tensor_like(x: Any, ref: Any) -> Any:
    """``x`` as a floating tensor on ``ref``'s device in ``ref``'s floating dtype (float64 for
    integer references); tensors keep their autograd graph."""
    import torch

    dtype = ref.dtype if ref.is_floating_point() else torch.float64
    if is_torch(x):
        return x.to(device=ref.device, dtype=dtype)
    return torch.as_tensor(np.asarray(x), dtype=dtype, device=ref.device)


def element_like(g: Any, ref: Any) -> Any:
    """Group element(s) ``g`` (numpy, or a product element of numpy arrays) as tensors on
    ``ref``'s device: integer elements stay int64, angles / matrices take ``ref``'s dtype."""
    if hasattr(g, "perm") and hasattr(g, "g_ndim"):  # a product element: its arrays as tensors
        out = type(g)(g.perm, g.g, g.g_ndim)
        object.__setattr__(out, "perm", like(g.perm, ref))
        object.__setattr__(out, "g", like(g.g, ref))
        return out
    return like(np.asarray(g), ref)


def _batch_of(g: Any, action: Action) -> tuple[int, ...]:
    k = len(action.element_shape)
    shape = tuple(g.shape)
    return shape[: len(shape) - k]


def _flat_matrices(action: Action, g: Any, rows: int) -> list[np.ndarray]:
    """``action.matrix`` of the flattened elements ``g``, in chunks of at most ``rows``."""
    k = len(action.element_shape)
    G = np.asarray(g)
    flat = G.reshape((-1,) + G.shape[G.ndim - k :])
    return [action.matrix(flat[s : s + rows]) for s in range(0, flat.shape[0], rows)]


def _act_vector(action: Action, g: Any, Y: Any) -> Any:
    """``ρ(g) Y`` for a vector action, ``Y`` of shape (..., dim), batches broadcast."""
    import torch

    gb = _batch_of(g, action)
    batch = torch.broadcast_shapes(gb, Y.shape[:-1])
    D = Y.shape[-1]
    n_el = int(np.prod(gb, dtype=np.int64))
    if action.has_components():
        comps = action.components()
        moving = [c for c in comps if not c.irrep.trivial]
        rows = max(1, MATRIX_ENTRIES // (D * D))
        blocks: dict[int, list[np.ndarray]] = {c.start: [] for c in moving}
        if moving and n_el:
            for M in _flat_matrices(action, g, rows):
                for c in moving:
                    k = c.irrep.dim
                    blocks[c.start].append(M[:, c.start : c.start + k, c.start : c.start + k])
        parts = []
        for c in comps:
            k, m = c.irrep.dim, c.multiplicity
            part = Y[..., c.start : c.start + m * k]
            if c.irrep.trivial:
                parts.append(part.expand(batch + (m * k,)))
                continue
            B = np.concatenate(blocks[c.start]) if blocks[c.start] else np.zeros((0, k, k))
            Bt = torch.as_tensor(B.reshape(gb + (k, k)), dtype=Y.dtype, device=Y.device)
            y = part.reshape(part.shape[:-1] + (m, k, 1))
            rot = (Bt.unsqueeze(-3) @ y).squeeze(-1)  # batch + (m, k)
            parts.append(rot.reshape(batch + (m * k,)))
        return torch.cat(parts, dim=-1) if parts else Y.expand(batch + (D,))
    rows = max(1, MATRIX_ENTRIES // (D * D))
    mats = _flat_matrices(action, g, rows) if n_el else [np.zeros((0, D, D))]
    Mt = torch.as_tensor(np.concatenate(mats).reshape(gb + (D, D)), dtype=Y.dtype, device=Y.device)
    return (Mt @ Y.unsqueeze(-1)).squeeze(-1).expand(batch + (D,))


def _gather_nodes(Y: Any, perm: np.ndarray) -> Any:
    """Rows of ``Y`` (..., n, d) reordered: ``out[..., i, :] = Y[..., perm[..., i], :]``."""
    import torch

    batch = torch.broadcast_shapes(tuple(perm.shape[:-1]), Y.shape[:-2])
    n, d = Y.shape[-2:]
    idx = torch.as_tensor(np.asarray(perm, dtype=np.int64), device=Y.device)
    idx = idx.expand(batch + (n,)).unsqueeze(-1).expand(batch + (n, d))
    return torch.gather(Y.expand(batch + (n, d)), -2, idx)


def _is_index_perm(action: Action, g: Any) -> bool:
    return (
        action.feature_action is None
        and tuple(action.element_shape) == (action.n_nodes,)
        and np.asarray(g).dtype.kind in "iu"
    )


def act_torch(action: Action, g: Any, Y: Any) -> Any:
    """``ρ(g) Y`` in torch for group elements ``g`` held constant (numpy, or a product
    element of numpy arrays), on ``Y``'s device and in its dtype, differentiable in ``Y``.

    Parameters
    ----------
    action : Action
    g : elements of batch shape ``gb`` (``gb + action.element_shape``)
    Y : tensor of shape ``(..., *event)``; ``gb`` and ``Y``'s batch broadcast

    Returns
    -------
    tensor of shape ``broadcast(gb, batch) + event``, equal to ``action.act(g, Y)``

    """
    import torch

    if action.node_axis is None:
        return _act_vector(action, g, Y)
    fa = action.feature_action
    if hasattr(g, "perm") and fa is not None:  # a product element (perm, g of the factor)
        moved = _gather_nodes(Y, np.asarray(g.perm))
        gf = np.asarray(g.g)
        gf = np.expand_dims(gf, axis=gf.ndim - len(fa.element_shape))  # the same g every node
        return _act_vector(fa, gf, moved)
    if _is_index_perm(action, g):
        return _gather_nodes(Y, np.asarray(g))
    # any other node action: its matrix, on the node axis or on the flattened latent
    gb = _batch_of(g, action)
    batch = torch.broadcast_shapes(gb, Y.shape[:-2])
    mats = _flat_matrices(action, g, max(1, MATRIX_ENTRIES // int(np.prod(Y.shape[-2:])) ** 2))
    M = np.concatenate(mats)
    Mt = torch.as_tensor(M.reshape(gb + M.shape[-2:]), dtype=Y.dtype, device=Y.device)
    if M.shape[-1] == Y.shape[-2]:
        return (Mt @ Y).expand(batch + tuple(Y.shape[-2:]))
    flat = Y.reshape(Y.shape[:-2] + (-1,))
    out = (Mt @ flat.unsqueeze(-1)).squeeze(-1)
    return out.reshape(out.shape[:-1] + tuple(Y.shape[-2:])).expand(batch + tuple(Y.shape[-2:]))


def pairwise_distances_torch(
    X: Any,
    Y: Any = None,
    *,
    action: Action | str,
    x_mask: Any = None,
    y_mask: Any = None,
    batch_size: int = 16384,
) -> Any:
    """The (N, M) quotient distances of tensors, differentiable in ``X`` and ``Y``.

    ``g*_ij`` comes from the registered numpy solver (blocks of ``batch_size`` pairs) and
    ``‖x_i − ρ(g*_ij) y_j‖`` is evaluated in torch on the tensors' device and dtype (the
    envelope theorem: the gradient at ``g*`` held constant).  Equal to
    :func:`orbitspace.quotient.pairwise_quotient_distances`; it forms ``ρ(g*) y`` for every
    pair of a block (``batch_size · dim`` numbers), so it is for the sets one backpropagates
    through, not for the largest ones.

    Parameters
    ----------
    X : tensor of shape (N, ...event)
    Y : tensor of shape (M, ...event), or None for ``Y = X``
    action : Action or its repr string
    x_mask, y_mask : node masks of shape (N, n_nodes) / (M, n_nodes) for node actions
    batch_size : pairs per block

    Returns
    -------
    tensor of shape (N, M)
    """
    import torch

    from orbitspace.quotient import solvers
    from orbitspace.quotient._api import _mask_torch
    from orbitspace.quotient.pairwise import _flat_batches

    action = parse_action(action)
    ref = X if is_torch(X) else Y
    same = Y is None
    Xn, Yn, _ = _flat_batches(
        to_numpy(X), None if same else to_numpy(Y), action, "pairwise distances", x_mask, y_mask
    )
    if same and y_mask is not None:
        raise ValueError("y_mask is given but Y is None; pass the mask of X as x_mask")
    Xt = as_tensor_like(X, ref)
    Yt = Xt if same else as_tensor_like(Y, ref)
    if action.node_axis is not None:
        Xt = _mask_torch(Xt, x_mask, "X")
        Yt = Xt if same else _mask_torch(Yt, y_mask, "Y")
    e = action.event_ndim
    N, M = Xn.shape[0], Yn.shape[0]
    rows = max(1, int(batch_size) // max(M, 1))
    out = []
    for s in range(0, N, rows):
        if M == 0:
            break
        _, g = solvers.max_inner_product_pairwise(Xn[s : s + rows], Yn, action)
        moved = act_torch(action, g, Yt.unsqueeze(0))  # (rows, M, *event)
        out.append(event_norm(Xt[s : s + rows].unsqueeze(1) - moved, e))
    return torch.cat(out, dim=0) if out else Xt.new_zeros((N, M))
