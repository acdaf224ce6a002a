"""torch implementations of the alignment-based maps (:mod:`.templates`): alignment to
references and max filtering, on the tensor's device and in its dtype, with gradients.

The optimal elements come from the numpy solvers on a detached float64 copy and are applied
in torch (:func:`orbitspace.quotient._torch.act_torch`).  Max filtering is a maximum over g, so
by the envelope theorem its gradient is that at ``g*`` held constant.  Alignment to a reference
returns the point ``ρ(g*(z)) z`` itself: for finite groups ``g*`` is locally constant (a.e.),
for SO(2), SO(3), O(3) and products with them its motion enters by the implicit function
theorem (:func:`_aligned_moving`).  Tested equal to numpy and by ``gradcheck`` in
``tests/test_torch_native.py``.  torch is imported inside functions only.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from orbitspace._array import to_numpy
from orbitspace.groups import Action
from orbitspace.invariants._common import flat_batch
from orbitspace.invariants._torch import _sum
from orbitspace.invariants.templates import ORBIT_LIMIT, PAIRS_PER_CALL, check_bank
from orbitspace.quotient._torch import _gather_nodes, act_torch

__all__ = ["align_to_reference", "max_filter"]


def _chunks(n: int, size: int):
    size = max(1, int(size))
    return [slice(s, min(n, s + size)) for s in range(0, n, size)] or [slice(0, 0)]


LIE_GROUPS = ("SO(2)", "SO(3)", "O(3)")


def _lie_factor(action: Action) -> Action | None:
    """The action whose optimal element moves continuously with z (the action itself, or the
    feature action of a node-wise product) when its components are irreps of SO(2), SO(3) or
    O(3) (whose generators :func:`_generators` knows), else None."""
    G = action if action.node_axis is None else action.feature_action
    if G is not None and G.has_components():
        groups = {c.irrep.group for c in G.components()}
        if len(groups) == 1 and groups <= set(LIE_GROUPS):
            return G
    return None


def _generators(G: Action) -> np.ndarray:
    """Generators ``J`` of shape (a, dim, dim) of the representation, read from the components:
    ``ρ(g exp(t L_a)) = ρ(g) exp(t J_a)`` (SO(2): ``a = 1``, ``k [[0, −1], [1, 0]]`` on each
    frequency-k copy; SO(3) / O(3): ``a = 3``, the generators of ``D^l`` on each degree-l copy;
    trivial copies: 0)."""
    from orbitspace.groups._wigner import so3_generators

    comps = G.components()
    planar = comps[0].irrep.group == "SO(2)"
    J = np.zeros((1 if planar else 3, G.dim, G.dim))
    for c in comps:
        if c.irrep.trivial:
            continue
        if planar:
            w = float(c.irrep.degree)
            block = np.array([[[0.0, -w], [w, 0.0]]])
        else:
            block = so3_generators(int(c.irrep.degree))
        for sl in c.copy_slices():
            J[:, sl, sl] = block
    return J


def _aligned_moving(action: Action, G: Action, g: Any, Z: Any, r: Any) -> Any:
    """``ρ(g*(z)) z`` with the optimal element a differentiable function of ``z``.

    The value is ``ρ(g*) z`` with the solver's ``g*``.  Its derivative adds how ``g*`` moves:
    writing ``g = g* exp(ξ·L)`` and ``f(ξ) = <ρ(g) y, r>`` (``y = z``, or the nodes of ``z``
    permuted by the locally constant permutation of a product), the implicit function theorem
    gives ``dξ = −H⁻¹ d∇f`` with ``∇f_a = <J_a y, ρ(g*)ᵀ r>`` and the Hessian
    ``H_ab = <(J_a J_b + J_b J_a) y, ρ(g*)ᵀ r> / 2`` (held constant: ``∇f = 0`` at ``g*``;
    pseudo-inverted, so directions that fix ``y`` do not move).  So
    ``π(z) = ρ(g*) (y + Σ_a (ξ_a − ξ_a.detach()) J_a y)``: the value of ``ρ(g*) y``, the
    Jacobian ``ρ(g*) (I + Σ_a J_a y ⊗ dξ_a)``.
    """
    import torch

    vector = action.node_axis is None
    if vector:
        gF, Y = np.asarray(g), Z
        gF_inv = G.inverse(gF)
    else:
        Y = _gather_nodes(Z, np.asarray(g.perm))
        k = len(G.element_shape)
        gF = np.expand_dims(np.asarray(g.g), axis=np.asarray(g.g).ndim - k)  # every node
        gF_inv = G.inverse(gF)
    J = torch.as_tensor(_generators(G), dtype=Z.dtype, device=Z.device)  # (a, D, D)
    r_back = act_torch(G, gF_inv, r.expand(tuple(Y.shape)))  # ρ(g*)ᵀ r, constant
    JY = torch.einsum("aij,...j->...ai", J, Y)  # (..., a, D)
    grad = _sum(JY * r_back.unsqueeze(-2), (-1,) if vector else (-3, -1))  # (..., a)
    with torch.no_grad():
        JJ = torch.einsum("aij,bjk->abik", J, J)
        JJ = (JJ + JJ.transpose(0, 1)) / 2
        JJY = torch.einsum("abij,...j->...abi", JJ, Y)
        H = (JJY * r_back.unsqueeze(-2).unsqueeze(-2)).sum(-1)
        if not vector:
            H = H.sum(-3)  # over the nodes
        Hp = torch.linalg.pinv(H.to(torch.float64), hermitian=True, rtol=1e-9).to(Z.dtype)
    xi = -(Hp @ grad.unsqueeze(-1)).squeeze(-1)  # (..., a)
    dxi = xi - xi.detach()
    if not vector:
        dxi = dxi.unsqueeze(-2)  # one element for every node
    W = Y + (dxi.unsqueeze(-1) * JY).sum(-2)
    return act_torch(G, gF, W)


def align_to_reference(Xt: Any, action: Action, references: Any) -> Any:
    """``concat_k ρ(g*_k(z)) z / sqrt(K)`` with ``g*_k`` from the numpy solver, in torch.

    Finite groups: ``g*`` is locally constant, so the gradient is that of ``ρ(g*) z`` (a.e.).
    SO(2), SO(3), O(3) and node-wise products with them: ``g*(z)`` moves with ``z`` and enters
    the gradient by the implicit function theorem (:func:`_aligned_moving`).  Other infinite
    groups (O(2), ...) compute without gradients: a tensor that requires grad is refused.
    """
    import torch

    from orbitspace.quotient import align

    e = action.event_ndim
    event = tuple(Xt.shape[Xt.ndim - e :])
    R = check_bank(references, "references", event)
    G = None if action.is_finite else _lie_factor(action)
    if Xt.requires_grad and not action.is_finite and G is None:
        raise TypeError(
            f"align_to_reference carries gradients for finite groups, SO(2), SO(3) and O(3) "
            f"(and products with them) only; the optimal element of {action!r} moves with z "
            "and its derivative is not implemented; pass X.detach()"
        )
    Rt = torch.as_tensor(R, dtype=Xt.dtype, device=Xt.device)
    Z, batch = flat_batch(Xt, e)
    Zn = to_numpy(Z, float)
    K = R.shape[0]
    out = []
    for sl in _chunks(Z.shape[0], PAIRS_PER_CALL):
        blocks = []
        for k in range(K):
            g = align(R[k], Zn[sl], action).g
            if G is None:
                blocks.append(act_torch(action, g, Z[sl]))
            else:
                blocks.append(_aligned_moving(action, G, g, Z[sl], Rt[k]))
        out.append(torch.stack(blocks, dim=1).reshape(sl.stop - sl.start, -1) / np.sqrt(K))
    return torch.cat(out, dim=0).reshape(tuple(batch) + (-1,))


def max_filter(Xt: Any, action: Action, templates: Any) -> Any:
    """``<t_i, ρ(g*_i) z> / sqrt(m)``: ``g*`` from numpy, the inner product in torch."""
    import torch

    from orbitspace.quotient import max_inner_product

    e = action.event_ndim
    event = tuple(Xt.shape[Xt.ndim - e :])
    T = check_bank(templates, "templates", event)
    Z, batch = flat_batch(Xt, e)
    m = T.shape[0]
    Tt = torch.as_tensor(T, dtype=Xt.dtype, device=Xt.device)
    dims = tuple(range(-e, 0))
    out = []
    if action.node_axis is None and action.is_finite and action.order <= ORBIT_LIMIT:
        G = action.order
        M = action.matrix(action.elements())
        W = np.einsum("gji,mj->igm", M, T).reshape(-1, G * m)
        Wt = torch.as_tensor(W, dtype=Xt.dtype, device=Xt.device)
        for sl in _chunks(Z.shape[0], 2**21 // (m * G)):
            out.append((Z[sl] @ Wt).reshape(-1, G, m).amax(dim=1))
    else:
        Zn = to_numpy(Z, float)
        for sl in _chunks(Z.shape[0], PAIRS_PER_CALL // m):
            _, g = max_inner_product(T[None], Zn[sl][:, None], action)
            moved = act_torch(action, g, Z[sl].unsqueeze(1))  # (c, m, *event)
            out.append(_sum(moved * Tt, dims))
    return (torch.cat(out, dim=0) / np.sqrt(m)).reshape(tuple(batch) + (m,))
