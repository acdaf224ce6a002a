"""torch implementations of the invariant maps: tensors in, tensors out, on the tensor's device
and in its dtype, with gradients where the maps are differentiable.

Each function mirrors the numpy function of the same name (:mod:`.blocks`, :mod:`.fourier`,
:mod:`.so3`, :mod:`.permutation`, :mod:`.product`, :mod:`.templates`) and is tested equal to it
(``tests/test_torch_native.py``).  The alignment-based maps are in :mod:`._torch_templates`.  Sorting uses ``torch.sort`` (gradient through the
sorting permutation); lexicographic sorting takes its order from numpy and gathers in torch.
Reductions of float32 inputs accumulate in float64.  torch is imported inside functions only.

The maps reach these functions through :meth:`InvariantMap.transform`, which validates the
tensor (shape from the action's traits, finiteness on its device) with :func:`torch_latents`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from orbitspace._array import to_numpy
from orbitspace.groups import Action
from orbitspace.invariants import product as _product
from orbitspace.invariants import so3 as _so3
from orbitspace.invariants._common import node_mask
from orbitspace.invariants._traits import is_planar, passes_through
from orbitspace.invariants.fourier import _irrep_groups
from orbitspace.quotient._torch import acc_dtype

__all__ = [
    "torch_latents",
    "torch_mask",
    "norms",
    "group_pool",
    "power_spectrum",
    "sort",
    "lexsort",
    "channel_sort",
    "sorted_projections",
    "node_pool",
    "node_sorted_invariants",
    "node_sorted_projections",
    "node_pooled_invariants",
]


def torch_latents(X: Any, action: Action, mask: Any = None) -> Any:
    """``X`` checked against ``action`` as a floating tensor (float64 for integer tensors) with
    padded rows zeroed; the autograd graph is kept.  The shape is checked by the action's own
    ``check_latents`` on a zero-stride stand-in (no copy of the data), finiteness on the device.
    """
    import torch

    stand_in = np.broadcast_to(np.zeros(()), tuple(X.shape))
    action.check_latents(stand_in)
    if action.node_axis is None and mask is not None:
        raise ValueError(
            f"node masks apply to actions on node sets only; received action {action!r}"
        )
    Xt = X if X.is_floating_point() else X.to(torch.float64)
    if Xt.numel() and not bool(torch.isfinite(Xt.detach()).all()):
        bad = int((~torch.isfinite(Xt.detach())).sum())
        raise ValueError(f"X must be finite; received {bad} NaN or inf value(s)")
    m = torch_mask(mask, Xt)
    if m is None:
        return Xt
    return torch.where(m.unsqueeze(-1), Xt, torch.zeros((), dtype=Xt.dtype, device=Xt.device))


def torch_mask(mask: Any, Xt: Any) -> Any:
    """The node mask ``(..., n_nodes)`` checked as in numpy, as a bool tensor on ``Xt``'s device
    (None when no mask is given)."""
    import torch

    if mask is None:
        return None
    m = node_mask(mask, np.broadcast_to(np.zeros(()), tuple(Xt.shape)))
    return torch.as_tensor(m, device=Xt.device)


def _param(value: Any, Xt: Any, name: str) -> Any:
    """A fitted parameter as a constant tensor on ``Xt``'s device and dtype."""
    import torch

    if getattr(value, "requires_grad", False):
        raise TypeError(
            f"{name} requires grad, but fitted parameters are constants (gradients flow to X "
            f"only); pass {name}.detach()"
        )
    return torch.as_tensor(to_numpy(value, float), dtype=Xt.dtype, device=Xt.device)


def _sum(t: Any, dim: Any) -> Any:
    return t.to(acc_dtype(t)).sum(dim).to(t.dtype)


def _norm(t: Any, dim: int = -1) -> Any:
    import torch

    return torch.linalg.vector_norm(t, dim=dim, dtype=acc_dtype(t)).to(t.dtype)


def _triu(G: Any, m: int, k: int = 0) -> Any:
    iu = np.triu_indices(m, k=k)
    return G[..., iu[0], iu[1]]


def _cat(cols: list, Xt: Any) -> Any:
    import torch

    if not cols:
        return Xt.new_zeros(tuple(Xt.shape[:-1]) + (0,))
    return torch.cat(cols, dim=-1)


# -- block invariants (blocks.py, so3.norms) ------------------------------------------------
def _copy_features(Xt: Any, action: Action, pool: str | None) -> Any:
    cols = []
    for c in action.components():
        k, m = c.irrep.dim, c.multiplicity
        block = Xt[..., c.start : c.start + m * k].reshape(tuple(Xt.shape[:-1]) + (m, k))
        if passes_through(c.irrep):
            cols.append(block[..., 0])
        elif c.irrep.kind == "regular" and pool == "max":
            cols.append(block.amax(dim=-1))
        elif c.irrep.kind == "regular" and pool == "mean":
            cols.append(_sum(block, -1) / k)
        else:
            cols.append(_norm(block))
    return _cat(cols, Xt)


def norms(Xt: Any, action: Action) -> Any:
    """The norm of every copy (1-D trivial copies pass through): ``(..., dim) -> (..., n)``."""
    return _copy_features(Xt, action, None)


def group_pool(Xt: Any, action: Action, *, reduction: str = "max") -> Any:
    """Max / mean over every regular field, norms of the other copies."""
    return _copy_features(Xt, action, reduction)


# -- power spectrum (fourier.py, so3.py) ----------------------------------------------------
def _fourier_parts(Xt: Any, action: Action) -> tuple[list, list, dict]:
    import torch

    scalars: list = []
    signs: list = []
    freqs: dict[int, list] = {}
    lead = tuple(Xt.shape[:-1])
    for c in action.components():
        k, m, irrep = c.irrep.dim, c.multiplicity, c.irrep
        block = Xt[..., c.start : c.start + m * k].reshape(lead + (m, k))
        if irrep.kind == "regular":
            V = torch.fft.fft(block, dim=-1)
            scalars.append(V[..., 0].real / np.sqrt(k))
            for j in range(1, (k - 1) // 2 + 1):
                freqs.setdefault(j, []).append(torch.conj(V[..., j]) * np.sqrt(2.0 / k))
            if k % 2 == 0 and k > 1:
                signs.append(V[..., k // 2].real / np.sqrt(k))
        elif k == 1:
            (scalars if irrep.trivial else signs).append(block[..., 0])
        else:
            freqs.setdefault(int(irrep.degree), []).append(
                torch.complex(block[..., 0], block[..., 1])
            )
    return scalars, signs, {j: torch.cat(v, dim=-1) for j, v in sorted(freqs.items())}


def _planar_power_spectrum(Xt: Any, action: Action) -> Any:
    import torch

    scalars, signs, freqs = _fourier_parts(Xt, action)
    cols = list(scalars)
    if signs:
        s = torch.cat(signs, dim=-1)
        cols.append(_triu(s.unsqueeze(-1) * s.unsqueeze(-2), s.shape[-1]))
    for c in freqs.values():
        cols.append(c.real**2 + c.imag**2)
        m = c.shape[-1]
        if m > 1:
            off = _triu(c.unsqueeze(-1) * torch.conj(c).unsqueeze(-2), m, k=1)
            cols.extend([off.real, off.imag])
    return _cat(cols, Xt)


def _gram(V: Any) -> Any:
    return _triu(V @ V.transpose(-1, -2), V.shape[-2])


def power_spectrum(Xt: Any, action: Action) -> Any:
    """The Gram of the copies within each irrep type (planar: Hermitian, in the Fourier view;
    SO(3) / O(3): per degree (and parity)), as :func:`orbitspace.invariants.power_spectrum`."""
    import torch

    if _so3.is_3d(action):
        cps = _so3._copies(action, "power_spectrum")
        cols = [Xt[..., [s for s, _, _, t in cps if t]]]
        for (ell, _), starts in _so3.copy_groups(action):
            n = 2 * ell + 1
            cols.append(_gram(torch.stack([Xt[..., s : s + n] for s in starts], dim=-2)))
        return _cat(cols, Xt)
    if is_planar(action):
        return _planar_power_spectrum(Xt, action)
    scalars, groups = _irrep_groups(action)
    cols = [Xt[..., sl] for sl in scalars]
    for parts in groups.values():
        cols.append(_gram(torch.stack([Xt[..., sl] for sl in parts], dim=-2)))
    return _cat(cols, Xt)


# -- node maps (permutation.py) -------------------------------------------------------------
def _flat(Z: Any) -> Any:
    return Z.reshape(tuple(Z.shape[:-2]) + (-1,))


def sort(Xt: Any) -> Any:
    """Node values sorted (d = 1): ``(..., n, 1) -> (..., n)``."""
    import torch

    if Xt.shape[-1] != 1:
        raise ValueError(
            f"sort needs one channel per node (d = 1); received X of shape {tuple(Xt.shape)}"
        )
    return torch.sort(Xt[..., 0], dim=-1).values


def lexsort(Xt: Any) -> Any:
    """Rows sorted lexicographically (order from numpy, rows gathered in torch)."""
    import torch

    Xn = to_numpy(Xt, float)
    keys = [Xn[..., c] for c in range(Xn.shape[-1] - 1, -1, -1)]
    order = torch.as_tensor(np.lexsort(keys, axis=-1), device=Xt.device)
    idx = order.unsqueeze(-1).expand(tuple(Xt.shape))
    return _flat(torch.gather(Xt, -2, idx))


def channel_sort(Xt: Any) -> Any:
    """Each channel sorted along the nodes, flattened row by row."""
    import torch

    return _flat(torch.sort(Xt, dim=-2).values)


def sorted_projections(Xt: Any, directions: Any) -> Any:
    """``sort(X A, nodes) / sqrt(m)`` flattened, ``A`` of shape (d, m)."""
    import torch

    A = _param(directions, Xt, "directions")
    if A.ndim != 2 or A.shape[0] != Xt.shape[-1]:
        raise ValueError(
            f"directions must have shape (d, m) = ({Xt.shape[-1]}, m) for X of shape "
            f"{tuple(Xt.shape)}; received shape {tuple(A.shape)}"
        )
    proj = torch.sort(Xt @ A, dim=-2).values / np.sqrt(max(A.shape[1], 1))
    return _flat(proj)


def _pool(P: Any, real: Any, reduction: str) -> Any:
    """Pool ``P`` (..., n, k) over its nodes; ``real`` (..., n) bool or None."""
    import torch

    if reduction == "sum":
        return _sum(P, -2)
    if reduction == "mean":
        if real is None:
            return _sum(P, -2) / P.shape[-2]
        count = real.sum(dim=-1).clamp(min=1).unsqueeze(-1).to(P.dtype)
        return _sum(P, -2) / count
    if real is None:
        return P.amax(dim=-2)
    low = torch.finfo(P.dtype).min
    top = torch.where(real.unsqueeze(-1), P, torch.full((), low, dtype=P.dtype, device=P.device))
    top = top.amax(dim=-2)
    anyreal = real.any(dim=-1, keepdim=True)
    return torch.where(anyreal, top, torch.zeros((), dtype=P.dtype, device=P.device))


def node_pool(Xt: Any, *, reduction: str = "sum", mask: Any = None) -> Any:
    """Sum / mean / max over the (real) nodes: ``(..., n, d) -> (..., d)``."""
    return _pool(Xt, torch_mask(mask, Xt), reduction)


# -- node-wise products (product.py) --------------------------------------------------------
def _phi(Xt: Any, action: Action, invariant: str) -> Any:
    fa = action.feature_action
    _product._check_invariant(invariant)
    return norms(Xt, fa) if invariant == "norms" else power_spectrum(Xt, fa)


def _sort_within_types(P: Any, action: Action) -> Any:
    import torch

    classes = _product.type_classes(action)
    order = np.concatenate(classes)
    parts = [torch.sort(P[..., c, :], dim=-2).values for c in classes]
    inv = torch.as_tensor(np.argsort(order), device=P.device)
    return torch.cat(parts, dim=-2)[..., inv, :]


def node_sorted_invariants(Xt: Any, action: Action, *, invariant: str = "norms") -> Any:
    """Per-node invariants, each feature sorted over the nodes of each type, flattened."""
    return _flat(_sort_within_types(_phi(Xt, action, invariant), action))


def node_sorted_projections(
    Xt: Any, action: Action, directions: Any, *, invariant: str = "norms"
) -> Any:
    """``sort(φ(X) a_j)`` within each type, ``/ sqrt(m)``, flattened."""
    F = _product.node_invariant_dim(action, invariant)
    A = _param(directions, Xt, "directions")
    if A.ndim != 2 or A.shape[0] != F:
        raise ValueError(
            f"directions must have shape (F, m) = ({F}, m) for the {invariant} of "
            f"{action.feature_action!r} per node; received shape {tuple(A.shape)}"
        )
    P = _phi(Xt, action, invariant) @ A
    return _flat(_sort_within_types(P, action) / np.sqrt(max(A.shape[1], 1)))


def node_pooled_invariants(
    Xt: Any, action: Action, *, invariant: str = "norms", reduction: str = "sum", mask: Any = None
) -> Any:
    """Per-node invariants pooled over the nodes of each type, types in order."""
    import torch

    if reduction not in _product.REDUCTIONS:
        raise ValueError(f"reduction must be one of {_product.REDUCTIONS}; received {reduction!r}")
    Phi = _phi(Xt, action, invariant)
    real = torch_mask(mask, Xt)
    parts = []
    for c in _product.type_classes(action):
        ci = torch.as_tensor(c, device=Xt.device)
        parts.append(_pool(Phi[..., ci, :], None if real is None else real[..., ci], reduction))
    return torch.cat(parts, dim=-1)
