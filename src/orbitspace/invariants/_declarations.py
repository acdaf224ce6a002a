"""The Properties each map declares, per action (every declaration is checked in the tests)."""

from __future__ import annotations

import numpy as np

from orbitspace.groups import SO2, Action, Cyclic, FiniteGroup, Permutation
from orbitspace.invariants._properties import Properties
from orbitspace.invariants.fourier import (
    bispectrum,
    bispectrum_is_complete,
    group_pool,
    norms,
    power_spectrum,
)

__all__ = ["DECLARE", "default_n_projections", "default_n_templates", "event_size"]

AE = "almost everywhere"


def event_size(action: Action, d: int | None) -> int:
    if isinstance(action, Permutation):
        return action.n_nodes * _need_d(action, d)
    return action.dim


def _need_d(action: Action, d: int | None) -> int:
    if d is None:
        raise ValueError(f"properties on {action!r} need d (channels per node); received d=None")
    if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 1:
        raise ValueError(f"d must be a positive int; received {d!r}")
    return int(d)


def default_n_projections(n_nodes: int, d: int) -> int:
    """``n (d − 1) + 1``: the number of generic directions proved to separate orbits."""
    return n_nodes * (d - 1) + 1


def default_n_templates(size: int) -> int:
    """``2 * dim``: the number of generic max-filter templates proved to separate orbits."""
    return 2 * size


def _isometric(out: int, notes: str, *, cross: bool, differentiable: str = AE) -> Properties:
    return Properties(True, "yes", True, 1.0, 1.0, True, differentiable, cross, out, notes)


def _is_trivial(action: Action) -> bool:
    """The group acts as the identity on the latents."""
    if isinstance(action, FiniteGroup):
        return action.order == 1
    if isinstance(action, (SO2, Cyclic)):
        if isinstance(action, Cyclic) and action.N == 1:
            return True
        return all(kind == "irrep" and k == 0 for kind, k, _, _ in action.blocks())
    return isinstance(action, Permutation) and action.n_nodes == 1


def _one_free_block(action: Action) -> bool:
    """At most one non-trivial block, an SO(2) 2-D block or a sign irrep: the quotient is
    (scalars) x [0, inf) isometrically."""
    return isinstance(action, (SO2, Cyclic)) and _block_pool_lossless(action, None)


# -- permutation maps ------------------------------------------------------------------------
def sort_properties(action: Permutation, d: int | None = None) -> Properties:
    if d is not None and d != 1:
        raise ValueError(
            f"sort needs d = 1 (one channel per node); received d={d}; use 'lexsort', "
            "'sorted_projections' or 'channel_sort' for d > 1"
        )
    return _isometric(
        action.n_nodes, "rearrangement inequality: an isometric, convex cross-section", cross=True
    )


def lexsort_properties(action: Permutation, d: int | None = None) -> Properties:
    d = _need_d(action, d)
    if d == 1:
        return _isometric(action.n_nodes, "d = 1: lexsort is sort", cross=True)
    notes = "rows sorted lexicographically: a cross-section, discontinuous where channel 0 ties"
    return Properties(True, "yes", False, None, 1.0, False, AE, True, action.n_nodes * d, notes)


def channel_sort_properties(action: Permutation, d: int | None = None) -> Properties:
    d = _need_d(action, d)
    if d == 1:
        return _isometric(action.n_nodes, "d = 1: channel sort is sort", cross=True)
    notes = "each channel sorted separately: 1-Lipschitz lower bound on d, not injective"
    return Properties(True, "no", False, 1.0, None, True, AE, False, action.n_nodes * d, notes)


def sorted_projections_properties(
    action: Permutation, d: int | None = None, n_projections: int | None = None
) -> Properties:
    d = _need_d(action, d)
    n = action.n_nodes
    m = default_n_projections(n, d) if n_projections is None else int(n_projections)
    out = n * m
    if d == 1:
        return _isometric(out, "d = 1: each direction is ±1, each block an isometry", cross=False)
    need = default_n_projections(n, d)
    if m >= need:
        sep, notes = "generic", f"m = {m} >= n(d-1)+1 = {need} generic directions separate orbits"
    else:
        sep, notes = "no", f"m = {m} < n(d-1)+1 = {need}: no separation guarantee"
    notes += " (Balan, Tsoukanis et al. 2025); 1-Lipschitz after the 1/sqrt(m) scaling"
    return Properties(True, sep, False, 1.0, None, True, AE, False, out, notes)


def node_pool_properties(
    action: Permutation, d: int | None = None, reduction: str = "sum"
) -> Properties:
    d = _need_d(action, d)
    n = action.n_nodes
    lip = {"sum": float(np.sqrt(n)), "mean": float(1 / np.sqrt(n)), "max": 1.0}
    if reduction not in lip:
        raise ValueError(f"reduction must be one of {tuple(lip)}; received {reduction!r}")
    if n == 1:
        return _isometric(d, "one node: pooling is the identity", cross=True, differentiable="yes")
    diff = "yes" if reduction != "max" else AE
    notes = (
        f"{reduction} over nodes; Lipschitz bound for unmasked inputs (masked mean/max pool "
        "over the real nodes only)"
    )
    return Properties(True, "no", False, lip[reduction], None, True, diff, False, d, notes)


# -- every action ------------------------------------------------------------------------------
def align_properties(
    action: Action, d: int | None = None, reference: str = "gaussian", n_references: int = 1
) -> Properties:
    K = int(n_references)
    out = K * event_size(action, d)
    cross = K == 1
    if (
        (isinstance(action, Permutation) and d == 1)
        or _is_trivial(action)
        or _one_free_block(action)
    ):
        notes = (
            "isometric here: each block sorts (d = 1) or rotates the single block onto the "
            "reference (given references with distinct entries / a nonzero block, a.s.)"
        )
        return _isometric(out, notes, cross=cross)
    notes = (
        f"{K} reference(s) ({reference}), blocks scaled by 1/sqrt(K): each block lies in the "
        "orbit, so lower Lipschitz 1; discontinuous on the tie set"
    )
    return Properties(True, "yes", False, None, 1.0, False, AE, cross, out, notes)


def max_filter_properties(
    action: Action, d: int | None = None, n_templates: int | None = None
) -> Properties:
    size = event_size(action, d)
    m = default_n_templates(size) if n_templates is None else int(n_templates)
    if m >= 2 * size:
        sep, notes = "generic", f"m = {m} >= 2 dim = {2 * size} generic templates separate orbits"
    else:
        sep, notes = "no", f"m = {m} < 2 dim = {2 * size}: no separation guarantee"
    notes += " (Mixon & Qaddura 2022); 1-Lipschitz after the 1/sqrt(m) scaling"
    return Properties(True, sep, False, 1.0, None, True, AE, False, m, notes)


# -- SO(2) and C_N ------------------------------------------------------------------------------
def _out_dim(fn, action, **kw) -> int:
    return int(np.asarray(fn(np.zeros((1, action.dim)), action, **kw)).shape[-1])


def _block_pool_lossless(action: SO2 | Cyclic, pool: str | None) -> bool:
    """Block norms / group pooling keep everything: at most one sign or SO(2) block, nothing
    else non-trivial (then the map is an isometry)."""
    free = 0
    for kind, k, _, size in action.blocks():
        if kind == "irrep" and k == 0:
            continue
        if kind == "regular":
            if pool is not None and size == 1:
                continue
            return False
        if size == 2 and isinstance(action, Cyclic):
            return False
        free += 1
    return free <= 1


def norms_properties(action: SO2 | Cyclic, d: int | None = None) -> Properties:
    return _block_properties(action, _out_dim(norms, action), None)


def group_pool_properties(
    action: Cyclic, d: int | None = None, reduction: str = "max"
) -> Properties:
    if reduction not in ("max", "mean"):
        raise ValueError(f"reduction must be one of ('max', 'mean'); received {reduction!r}")
    return _block_properties(action, _out_dim(group_pool, action, reduction=reduction), reduction)


def _block_properties(action, out: int, pool: str | None) -> Properties:
    smooth = all(
        (kind == "irrep" and k == 0) or (kind == "regular" and pool == "mean")
        for kind, k, _, _ in action.blocks()
    )
    diff = "yes" if smooth else AE
    if _block_pool_lossless(action, pool):
        # each block gives one feature: with 1-D blocks only, the output is a point of the orbit
        notes = "at most one non-trivial block: an isometry"
        return _isometric(out, notes, cross=out == action.dim, differentiable=diff)
    what = "norm per block" if pool is None else f"{pool} over regular blocks, norms of irreps"
    notes = f"{what}; 1-Lipschitz; frequency-0 scalars pass through; loses relative phases"
    return Properties(True, "no", False, 1.0, None, True, diff, False, out, notes)


def _spectral(action, out: int, sep: str, notes: str) -> Properties:
    if _is_trivial(action):
        notes = "trivial action: the identity"
        return _isometric(out, notes, cross=out == action.dim, differentiable="yes")
    return Properties(True, sep, False, None, None, True, "yes", False, out, notes)


def power_spectrum_properties(action: SO2 | Cyclic, d: int | None = None) -> Properties:
    from orbitspace.invariants.fourier import fourier_view

    view = fourier_view(np.zeros((1, action.dim)), action)
    if isinstance(action, SO2):
        sep = "yes" if len(view.freqs) <= 1 else "no"
    else:
        sep = "yes" if not view.freqs else "no"
    notes = "Gram of the copies within each frequency: loses the phases between frequencies"
    if isinstance(action, Cyclic):
        notes += " and, for C_N, the residual phase of each frequency"
    return _spectral(action, _out_dim(power_spectrum, action), sep, notes + "; quadratic")


def bispectrum_properties(action: SO2, d: int | None = None, copies: str = "first") -> Properties:
    n_freq = len({k for _, k in action.terms if k > 0})
    if n_freq <= 1:
        sep = "yes"
    else:
        sep = "generic" if bispectrum_is_complete(action) else "no"
    notes = (
        "triple products c_k1 c_k2 conj(c_k1+k2) plus the power spectrum; generically complete "
        "iff the frequency triples tie all phases to the rotation (Smith form test); cubic"
    )
    return _spectral(action, _out_dim(bispectrum, action, copies=copies), sep, notes)


DECLARE = {
    "sort": sort_properties,
    "lexsort": lexsort_properties,
    "channel_sort": channel_sort_properties,
    "sorted_projections": sorted_projections_properties,
    "node_pool": node_pool_properties,
    "align_to_reference": align_properties,
    "max_filter": max_filter_properties,
    "norms": norms_properties,
    "power_spectrum": power_spectrum_properties,
    "bispectrum": bispectrum_properties,
    "group_pool": group_pool_properties,
}
