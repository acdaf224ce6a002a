"""The registered maps for every action with a registered solver: alignment to references (the
paper's random invariant projection) and max filtering."""

from __future__ import annotations

import numpy as np

from orbitspace._validation import check_positive_int
from orbitspace.invariants import _torch_templates, templates
from orbitspace.invariants._common import event_size, need_d, need_param, unit_rows
from orbitspace.invariants._map import InvariantMap, register_map
from orbitspace.invariants._properties import AE, Properties, isometric, lipschitz_one
from orbitspace.invariants._traits import one_free_block, solvable

__all__ = [
    "AlignToReference",
    "MaxFilter",
    "REFERENCES",
    "default_n_templates",
    "align_is_isometric",
]

REFERENCES = ("gaussian", "data", "mean")


def align_is_isometric(action, d) -> bool:
    """Alignment to one generic reference is an isometry: a trivial action, one channel
    permuted (each block sorts like the reference, within node types for a product whose
    feature action is trivial), or one free block (of the only node, for a product)."""
    if action.is_trivial:
        return True
    if action.node_axis is None:
        return one_free_block(action)
    G = action.feature_action
    if G is None or G.is_trivial:
        return need_d(action, d) == 1
    return action.n_nodes == 1 and G.has_components() and one_free_block(G)


def default_n_templates(size: int) -> int:
    """``2 * dim``: the number of generic max-filter templates proved to separate orbits."""
    return 2 * size


@register_map
class AlignToReference(InvariantMap):
    name = "align_to_reference"
    summary = "align to K references and concatenate (random projection)"
    data_free = False
    variants = ({"n_references": 1}, {"n_references": 4})
    fit_options = {"reference": "gaussian", "n_references": 1}

    def _supports(self, action, d):
        return solvable(action)

    def fit_reads_data(self, **options) -> bool:
        return options.get("reference", self.fit_options["reference"]) in ("data", "mean")

    def alignments_per_code(self, action, *, d=None, **options) -> int:
        return int(options.get("n_references", self.fit_options["n_references"]))

    def _fit(self, Xn, action, rng, reference="gaussian", n_references=1):
        K = check_positive_int(n_references, "n_references", limit="references")
        event = Xn.shape[Xn.ndim - action.event_ndim :]
        Z = Xn.reshape((-1,) + event)
        if reference == "gaussian":
            R = rng.standard_normal((K,) + event)
        elif reference == "data":
            if Z.shape[0] < K:
                raise ValueError(
                    f"reference='data' needs at least n_references={K} latents; received "
                    f"{Z.shape[0]}"
                )
            R = Z[rng.choice(Z.shape[0], size=K, replace=False)].copy()
        elif reference == "mean":
            if K != 1:
                raise ValueError(f"reference='mean' gives one reference; received n_references={K}")
            if Z.shape[0] == 0:
                raise ValueError("reference='mean' needs at least one latent; received none")
            R = Z.mean(axis=0, keepdims=True)
        else:
            raise ValueError(f"reference must be one of {REFERENCES}; received {reference!r}")
        return {"references": R}

    def _transform(self, X, action, params, *, mask=None):
        refs = need_param(params, "references", self.name)
        return templates.align_to_reference(X, action, refs, mask=mask)

    def _torch_transform(self, Xt, action, params, *, mask=None):
        refs = need_param(params, "references", self.name)
        return _torch_templates.align_to_reference(Xt, action, refs)

    def _properties(self, action, d, reference="gaussian", n_references=1):
        K = int(n_references)
        out = K * event_size(action, d)
        cross = K == 1
        if align_is_isometric(action, d):
            notes = (
                "isometric here: each block sorts (d = 1) or rotates the single block onto the "
                "reference (given references with distinct entries / a nonzero block, a.s.)"
            )
            return isometric(out, notes, cross=cross)
        notes = (
            f"{K} reference(s) ({reference}), blocks scaled by 1/sqrt(K): each block lies in the "
            "orbit, so lower Lipschitz 1; discontinuous on the tie set"
        )
        return Properties(
            invariant=True,
            separating="yes",
            isometric=False,
            lipschitz=None,
            lower_lipschitz=1.0,
            continuous=False,
            differentiable=AE,
            cross_section=cross,
            output_dim=out,
            notes=notes,
        )


@register_map
class MaxFilter(InvariantMap):
    name = "max_filter"
    summary = "max_g <rho(g) z, t_i> / sqrt(m) for m unit templates"
    data_free = False
    fit_options = {"n_templates": None}

    def alignments_per_code(self, action, *, d=None, **options) -> int:
        return self.output_dim(action, d=d, **options)  # one per template

    def _supports(self, action, d):
        return solvable(action)

    def _fit(self, Xn, action, rng, n_templates=None):
        event = Xn.shape[Xn.ndim - action.event_ndim :]
        m = default_n_templates(int(np.prod(event))) if n_templates is None else n_templates
        m = check_positive_int(m, "n_templates", limit="templates")
        return {"templates": unit_rows(rng, (m,) + event)}

    def _transform(self, X, action, params, *, mask=None):
        return templates.max_filter(
            X, action, need_param(params, "templates", self.name), mask=mask
        )

    def _torch_transform(self, Xt, action, params, *, mask=None):
        return _torch_templates.max_filter(Xt, action, need_param(params, "templates", self.name))

    def _properties(self, action, d, n_templates=None):
        size = event_size(action, d)
        m = default_n_templates(size) if n_templates is None else int(n_templates)
        if m >= 2 * size:
            sep, notes = "generic", f"m = {m} >= 2 dim = {2 * size} generic templates separate"
            notes += " orbits"
        else:
            sep, notes = "no", f"m = {m} < 2 dim = {2 * size}: no separation guarantee"
        notes += " (Mixon & Qaddura 2022); 1-Lipschitz after the 1/sqrt(m) scaling"
        return lipschitz_one(separating=sep, output_dim=m, notes=notes)
