"""The registered node maps: actions that permute nodes ``(..., n_nodes, d)`` and leave each
node's channels alone (``node_axis is not None and feature_action is None``), e.g. S_n."""

from __future__ import annotations

import numpy as np

from orbitspace._validation import check_positive_int
from orbitspace.groups import Action
from orbitspace.invariants import _torch, permutation
from orbitspace.invariants._common import acts_on_nodes, need_d, need_param, unit_rows
from orbitspace.invariants._map import InvariantMap, register_map
from orbitspace.invariants._properties import AE, Properties, isometric, lipschitz_one

__all__ = [
    "Sort",
    "Lexsort",
    "ChannelSort",
    "SortedProjections",
    "NodePool",
    "default_n_projections",
]


def default_n_projections(n_nodes: int, d: int) -> int:
    """``n (d − 1) + 1``: the number of generic directions proved to separate orbits."""
    return n_nodes * (d - 1) + 1


class _NodeMap(InvariantMap):
    """A node map of a data-free pure function ``fn(X, mask=None, **options)`` and its torch
    twin ``torch_fn(Xt, **options)`` (on masked tensors)."""

    def _supports(self, action: Action, d: int | None) -> bool:
        return acts_on_nodes(action)

    def _transform(self, X, action, params, *, mask=None, **options):
        return self._function(X, mask=mask, **options)

    def _torch_transform(self, Xt, action, params, *, mask=None, **options):
        return self._torch_function(Xt, **options)

    @staticmethod
    def _function(X, *, mask=None, **options):
        raise NotImplementedError


@register_map
class Sort(_NodeMap):
    name = "sort"
    summary = "sort node values (d = 1): isometric cross-section"
    _function = staticmethod(permutation.sort)
    _torch_function = staticmethod(_torch.sort)

    def _supports(self, action, d):
        return acts_on_nodes(action) and d in (None, 1)

    def _properties(self, action, d):
        if d is not None and d != 1:
            raise ValueError(
                f"sort needs d = 1 (one channel per node); received d={d}; use 'lexsort', "
                "'sorted_projections' or 'channel_sort' for d > 1"
            )
        notes = "rearrangement inequality: an isometric, convex cross-section"
        return isometric(action.n_nodes, notes, cross=True)


@register_map
class Lexsort(_NodeMap):
    name = "lexsort"
    summary = "rows sorted lexicographically: discontinuous cross-section"
    _function = staticmethod(permutation.lexsort)
    _torch_function = staticmethod(_torch.lexsort)

    def _properties(self, action, d):
        d = need_d(action, d)
        if d == 1:
            return isometric(action.n_nodes, "d = 1: lexsort is sort", cross=True)
        notes = "rows sorted lexicographically: a cross-section, discontinuous where channel 0 ties"
        return Properties(
            invariant=True,
            separating="yes",
            isometric=False,
            lipschitz=None,
            lower_lipschitz=1.0,
            continuous=False,
            differentiable=AE,
            cross_section=True,
            output_dim=action.n_nodes * d,
            notes=notes,
        )


@register_map
class ChannelSort(_NodeMap):
    name = "channel_sort"
    summary = "each channel sorted separately: 1-Lipschitz, lossy for d >= 2"
    _function = staticmethod(permutation.channel_sort)
    _torch_function = staticmethod(_torch.channel_sort)

    def _properties(self, action, d):
        d = need_d(action, d)
        if d == 1:
            return isometric(action.n_nodes, "d = 1: channel sort is sort", cross=True)
        notes = "each channel sorted separately: 1-Lipschitz lower bound on d, not injective"
        return lipschitz_one(separating="no", output_dim=action.n_nodes * d, notes=notes)


@register_map
class SortedProjections(InvariantMap):
    name = "sorted_projections"
    summary = "sort(X a_j) for m random unit directions / sqrt(m)"
    data_free = False
    fit_options = {"n_projections": None}

    def _supports(self, action, d):
        return acts_on_nodes(action)

    def _fit(self, Xn, action, rng, n_projections=None):
        d = Xn.shape[-1]
        m = default_n_projections(action.n_nodes, d) if n_projections is None else n_projections
        m = check_positive_int(m, "n_projections", limit="references")
        return {"directions": unit_rows(rng, (m, d)).T.copy()}

    def _transform(self, X, action, params, *, mask=None):
        dirs = need_param(params, "directions", self.name)
        return permutation.sorted_projections(X, dirs, mask=mask)

    def _torch_transform(self, Xt, action, params, *, mask=None):
        return _torch.sorted_projections(Xt, need_param(params, "directions", self.name))

    def _properties(self, action, d, n_projections=None):
        d = need_d(action, d)
        n = action.n_nodes
        m = default_n_projections(n, d) if n_projections is None else int(n_projections)
        out = n * m
        if d == 1:
            return isometric(
                out, "d = 1: each direction is ±1, each block an isometry", cross=False
            )
        need = default_n_projections(n, d)
        if m >= need:
            sep, notes = "generic", f"m = {m} >= n(d-1)+1 = {need} generic directions separate"
            notes += " orbits"
        else:
            sep, notes = "no", f"m = {m} < n(d-1)+1 = {need}: no separation guarantee"
        notes += " (Balan, Tsoukanis et al. 2025); 1-Lipschitz after the 1/sqrt(m) scaling"
        return lipschitz_one(separating=sep, output_dim=out, notes=notes)


@register_map
class NodePool(_NodeMap):
    name = "node_pool"
    summary = "sum / mean / max over nodes"
    transform_options = {"reduction": "sum"}
    _function = staticmethod(permutation.node_pool)

    def _torch_transform(self, Xt, action, params, *, mask=None, reduction="sum"):
        self._properties(action, Xt.shape[-1], reduction)  # checks the option
        return _torch.node_pool(Xt, reduction=reduction, mask=mask)

    def _properties(self, action, d, reduction="sum"):
        d = need_d(action, d)
        n = action.n_nodes
        lip = {"sum": float(np.sqrt(n)), "mean": float(1 / np.sqrt(n)), "max": 1.0}
        if reduction not in lip:
            raise ValueError(f"reduction must be one of {tuple(lip)}; received {reduction!r}")
        if n == 1:
            notes = "one node: pooling is the identity"
            return isometric(d, notes, cross=True, differentiable="yes")
        notes = (
            f"{reduction} over nodes; Lipschitz bound for unmasked inputs (masked mean/max pool "
            "over the real nodes only)"
        )
        return Properties(
            invariant=True,
            separating="no",
            isometric=False,
            lipschitz=lip[reduction],
            lower_lipschitz=None,
            continuous=True,
            differentiable="yes" if reduction != "max" else AE,
            cross_section=False,
            output_dim=d,
            notes=notes,
        )
