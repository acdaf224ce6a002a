"""The registered maps of node-wise products S_n × G (``node_axis is not None`` and a
``feature_action`` given by its components, e.g. ``Product(Permutation(9), SO3("4x0e + 2x1o"))``):
per-node invariants of G sorted over the nodes of each type, sorted projections of them, and
node pooling of them (the baseline).  ``align_to_reference`` and ``max_filter``
(:mod:`.maps_templates`) cover the products through their registered certified solver.

The declarations are derived from the traits: the type classes (``node_types``), the per-node
output size ``F`` from the feature action's components, and — for one node, or a feature
action that acts trivially — the declaration of the registered vector map (``"norms"`` or
``"power_spectrum"``) on the feature action itself.
"""

from __future__ import annotations

import numpy as np

from orbitspace._validation import check_positive_int
from orbitspace.groups import Action
from orbitspace.invariants import (
    _torch,
    maps_spectral,  # noqa: F401  (registers norms, power_spectrum)
    product,
)
from orbitspace.invariants._common import need_param, unit_rows
from orbitspace.invariants._map import REGISTRY, InvariantMap, register_map
from orbitspace.invariants._properties import AE, Properties, isometric

__all__ = [
    "NodeSortedInvariants",
    "NodeSortedProjections",
    "NodePooledInvariants",
    "default_n_node_projections",
]


def _sizes(action: Action) -> list[int]:
    return [len(c) for c in product.type_classes(action)]


def default_n_node_projections(action: Action, invariant: str = "norms") -> int:
    """``s (F − 1) + 1`` with ``s`` the largest number of nodes of one type and ``F`` the
    per-node invariant size: the generic directions that separate the per-node invariant
    matrices up to permutations within types (Balan, Tsoukanis et al. 2025, per type)."""
    F = product.node_invariant_dim(action, invariant)
    return max(_sizes(action)) * (F - 1) + 1


def _vector(action: Action, invariant: str) -> Properties:
    """The registered vector map's declaration on the feature action (one node)."""
    return REGISTRY[invariant].properties(action.feature_action)


def _identity_per_node(action: Action, invariant: str) -> bool:
    """G acts trivially and the per-node invariant is an isometry: φ loses nothing and the
    product is a permutation group (within types) of the per-node features."""
    return action.feature_action.is_trivial and _vector(action, invariant).isometric


def _lipschitz(action: Action, invariant: str) -> float | None:
    """The Lipschitz constant of the per-node map φ (1 for norms, none for the quadratic power
    spectrum unless it is an isometry)."""
    if invariant == "norms" or _identity_per_node(action, invariant):
        return 1.0
    return None


def _in_slot_order(action: Action) -> bool:
    return np.array_equal(np.concatenate(product.type_classes(action)), np.arange(action.n_nodes))


def _sorted_properties(action: Action, invariant: str) -> Properties:
    """Declarations of ``φ`` sorted over the nodes of each type (``node_sorted_invariants``)."""
    n, F = action.n_nodes, product.node_invariant_dim(action, invariant)
    out = n * F
    if n == 1:
        vec = _vector(action, invariant)
        notes = f"one node: the {invariant} of {action.feature_action!r} ({vec.notes})"
        return Properties(**{**vec.to_dict(), "output_dim": out, "notes": notes})
    if _identity_per_node(action, invariant):
        if F == 1 or max(_sizes(action)) == 1:
            notes = (
                "G trivial: sorting one channel within types (rearrangement inequality), an "
                "isometric cross-section"
            )
            return isometric(out, notes, cross=F == action.feature_action.dim)
        sep_notes = "G trivial: each channel sorted within types, lossy for d >= 2"
    else:
        sep_notes = "forgets the relative orientation of the nodes (turn one node alone)"
    lip = _lipschitz(action, invariant)
    lip_notes = "1-Lipschitz (module docstring)" if lip else "quadratic: not Lipschitz"
    return Properties(
        invariant=True,
        separating="no",
        isometric=False,
        lipschitz=lip,
        lower_lipschitz=None,
        continuous=True,
        differentiable=AE,
        cross_section=False,
        output_dim=out,
        notes=f"{invariant} per node, each feature sorted over the nodes of each type; "
        f"{sep_notes}; {lip_notes}",
    )


def _lossless_per_node(action: Action, invariant: str) -> bool:
    """φ(X) determines the orbit up to permutations within types."""
    if action.n_nodes == 1:
        return _vector(action, invariant).separating == "yes"
    return _identity_per_node(action, invariant)


class _ProductMap(InvariantMap):
    def _supports(self, action: Action, d: int | None) -> bool:
        return product.acts_on_node_features(action) and d in (None, action.feature_dim)


@register_map
class NodeSortedInvariants(_ProductMap):
    name = "node_sorted_invariants"
    summary = "per-node norms / power spectrum of G, each sorted over the nodes of each type"
    transform_options = {"invariant": "norms"}

    def _transform(self, X, action, params, *, mask=None, invariant="norms"):
        return product.node_sorted_invariants(X, action, invariant=invariant, mask=mask)

    def _torch_transform(self, Xt, action, params, *, mask=None, invariant="norms"):
        return _torch.node_sorted_invariants(Xt, action, invariant=invariant)

    def _properties(self, action, d, invariant="norms"):
        product.node_invariant_dim(action, invariant)  # checks the option
        return _sorted_properties(action, invariant)


@register_map
class NodeSortedProjections(_ProductMap):
    name = "node_sorted_projections"
    summary = "sort(phi(X) a_j) over the nodes of each type, m random unit directions / sqrt(m)"
    data_free = False
    fit_options = {"invariant": "norms", "n_projections": None}

    def _n(self, action, invariant, n_projections):
        if n_projections is None:
            return default_n_node_projections(action, invariant)
        return check_positive_int(n_projections, "n_projections")

    def _fit(self, Xn, action, rng, invariant="norms", n_projections=None):
        F = product.node_invariant_dim(action, invariant)
        m = self._n(action, invariant, n_projections)
        return {"directions": unit_rows(rng, (m, F)).T.copy(), "invariant": np.asarray(invariant)}

    def _transform(self, X, action, params, *, mask=None):
        dirs = need_param(params, "directions", self.name)
        invariant = str(need_param(params, "invariant", self.name))
        return product.node_sorted_projections(X, action, dirs, invariant=invariant, mask=mask)

    def _torch_transform(self, Xt, action, params, *, mask=None):
        dirs = need_param(params, "directions", self.name)
        invariant = str(need_param(params, "invariant", self.name))
        return _torch.node_sorted_projections(Xt, action, dirs, invariant=invariant)

    def _properties(self, action, d, invariant="norms", n_projections=None):
        F = product.node_invariant_dim(action, invariant)
        m = self._n(action, invariant, n_projections)
        out = action.n_nodes * m
        if F == 1 and _sorted_properties(action, invariant).isometric:
            notes = "one invariant per node, sorted isometrically: each direction is ±1"
            return isometric(out, notes, cross=False)
        need = default_n_node_projections(action, invariant)
        if not _lossless_per_node(action, invariant):
            sep, notes = "no", f"the {invariant} per node already loses the orbit"
        elif m >= need:
            sep, notes = "generic", f"m = {m} >= s(F-1)+1 = {need} generic directions separate"
            notes += " orbits (Balan, Tsoukanis et al. 2025, per type)"
        else:
            sep, notes = "no", f"m = {m} < s(F-1)+1 = {need}: no separation guarantee"
        lip = _lipschitz(action, invariant)
        notes += "; 1-Lipschitz after the 1/sqrt(m) scaling" if lip else "; not Lipschitz"
        return Properties(
            invariant=True,
            separating=sep,
            isometric=False,
            lipschitz=lip,
            lower_lipschitz=None,
            continuous=True,
            differentiable=AE,
            cross_section=False,
            output_dim=out,
            notes=notes,
        )


@register_map
class NodePooledInvariants(_ProductMap):
    name = "node_pooled_invariants"
    summary = "per-node norms / power spectrum of G, summed / averaged / maxed over each type"
    transform_options = {"invariant": "norms", "reduction": "sum"}

    def _transform(self, X, action, params, *, mask=None, invariant="norms", reduction="sum"):
        return product.node_pooled_invariants(
            X, action, invariant=invariant, reduction=reduction, mask=mask
        )

    def _torch_transform(
        self, Xt, action, params, *, mask=None, invariant="norms", reduction="sum"
    ):
        return _torch.node_pooled_invariants(
            Xt, action, invariant=invariant, reduction=reduction, mask=mask
        )

    def _properties(self, action, d, invariant="norms", reduction="sum"):
        F = product.node_invariant_dim(action, invariant)
        if reduction not in product.REDUCTIONS:
            raise ValueError(
                f"reduction must be one of {product.REDUCTIONS}; received {reduction!r}"
            )
        sizes = _sizes(action)
        out = len(sizes) * F
        if max(sizes) == 1:  # nothing is pooled: the per-node invariants, in order of type
            base = _sorted_properties(action, invariant)
            cross = base.cross_section and _in_slot_order(action)
            notes = f"one node per type: nothing pooled; {base.notes}"
            return Properties(
                **{**base.to_dict(), "cross_section": cross, "output_dim": out, "notes": notes}
            )
        lip = _lipschitz(action, invariant)
        if lip is not None:
            lip = {
                "sum": float(np.sqrt(max(sizes))),
                "mean": float(1 / np.sqrt(min(sizes))),
                "max": 1.0,
            }[reduction]
        smooth = reduction != "max" and (
            invariant == "power_spectrum" or _identity_per_node(action, invariant)
        )
        notes = (
            f"{invariant} per node, {reduction} over the nodes of each type; Lipschitz bound "
            "(sum: sqrt(largest type), mean: 1/sqrt(smallest type), max: 1, for norms) for "
            "unmasked inputs (masked mean / max pool over the real nodes only)"
        )
        return Properties(
            invariant=True,
            separating="no",
            isometric=False,
            lipschitz=lip,
            lower_lipschitz=None,
            continuous=True,
            differentiable="yes" if smooth else AE,
            cross_section=False,
            output_dim=out,
            notes=notes,
        )
