"""The solver-based maps on node-wise products S_n × G: alignment to references and max
filtering run through the product's certified solver; invariance (with node masks), their
declarations against the exact (brute-force) quotient distance, cross-sections."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from orbitspace.groups import SO2, SO3, Cyclic, Permutation, Product
from orbitspace.invariants import available_methods, get_map
from orbitspace.quotient import max_inner_product, quotient_distance

ACTIONS = {
    "so2": Product(Permutation(3), SO2("1x1")),
    "so2-typed": Product(Permutation(4, node_types=(0, 0, 1, 1)), SO2("1x0 + 1x2")),
    "cyclic": Product(Permutation(3), Cyclic(4, "1x1 + 1x2")),
    "trivial-d1": Product(Permutation(3, node_types=(0, 0, 1)), SO2("1x0")),
    "one-node": Product(Permutation(1), SO2("1x0 + 1x1")),
}
VARIANTS = {
    "align_to_reference": [{}, {"n_references": 3}, {"reference": "data"}],
    "max_filter": [{}, {"n_templates": 1}],
}
SLOW = {("max_filter", "so2-typed")}  # 2 dim = 16 templates x the branch and bound: too slow
COMBOS = [
    pytest.param(name, cid, opts, id=f"{name}-{cid}-{opts}")
    for name, variants in VARIANTS.items()
    for cid in ACTIONS
    for opts in variants
    if (name, cid) not in SLOW
]


def exact(A, B, action):
    return np.asarray(quotient_distance(A, B, action, method="exhaustive"))


@functools.cache
def fitted(name, cid, items, seed=0):
    action, imap, opts = ACTIONS[cid], get_map(name), dict(items)
    X = np.random.default_rng(2).normal(size=(8,) + action.event_shape)
    params = imap.fit(X, action, random_state=seed, **opts)
    return imap, action, params, imap.properties(action, **opts)


@functools.cache
def pair_bank(cid):
    """A node turned alone, a repeated node against a near code, random, near and same-orbit
    pairs, with exact distances."""
    action = ACTIONS[cid]
    rng = np.random.default_rng(1)
    n, d = action.event_shape
    X = rng.normal(size=(8, n, d))
    Y = rng.normal(size=X.shape)
    near = np.asarray(action.act(action.sample(8, rng), X + 0.05 * rng.normal(size=X.shape)))
    same = np.asarray(action.act(action.sample(3, rng), X[:3]))
    A, B = [X, X, X[:3]], [Y, near, same]
    if n >= 2:
        turned = X[:1].copy()
        turned[0, 0] = np.asarray(
            action.feature_action.act(action.feature_action.sample(1, 3)[0], X[0, 0])
        )
        rep = X[:1].copy()
        rep[0, 1] = rep[0, 0]
        A += [X[:1], rep]
        B += [turned, rep + 0.01 * rng.normal(size=rep.shape)]
    A, B = np.concatenate(A), np.concatenate(B)
    return A, B, exact(A, B, action)


@functools.cache
def bank_features(name, cid, items):
    imap, action, params, _ = fitted(name, cid, items)
    A, B, D = pair_bank(cid)
    FA, FB = (np.asarray(imap.transform(Z, action, params)) for Z in (A, B))
    return np.linalg.norm(FA - FB, axis=-1), D


def test_products_get_the_solver_maps_and_the_product_maps():
    for action in ACTIONS.values():
        names = available_methods(action)
        assert {"align_to_reference", "max_filter"} <= set(names)
        assert "norms" not in names and "sort" not in names


@pytest.mark.parametrize("name,cid,opts", COMBOS)
def test_shape_and_invariance_with_and_without_masks(name, cid, opts):
    imap, action, params, props = fitted(name, cid, tuple(opts.items()))
    rng = np.random.default_rng(4)
    X = rng.normal(size=(6,) + action.event_shape)
    g = action.sample(6, rng)
    moved = np.asarray(action.act(g, X))
    F = np.asarray(imap.transform(X, action, params))
    assert F.shape == (6, props.output_dim) and props.invariant
    np.testing.assert_allclose(imap.transform(moved, action, params), F, atol=1e-7)
    mask = rng.random(X.shape[:-1]) < 0.7
    Fm = np.asarray(imap.transform(X, action, params, mask=mask))
    Gm = imap.transform(moved, action, params, mask=action.permute_mask(g, mask))
    np.testing.assert_allclose(Gm, Fm, atol=1e-7)
    Z = np.where(mask[..., None], X, 0.0)  # padded rows are zeroed, then aligned like any row
    np.testing.assert_allclose(Fm, imap.transform(Z, action, params), atol=1e-12)


@pytest.mark.parametrize("name,cid,opts", COMBOS)
def test_metric_declarations_against_brute_force(name, cid, opts):
    _, _, _, props = fitted(name, cid, tuple(opts.items()))
    fd, D = bank_features(name, cid, tuple(opts.items()))
    tol = 1e-7 * (1 + D)
    if props.isometric:
        np.testing.assert_allclose(fd, D, atol=1e-6)
    else:
        assert np.max(np.abs(fd - D)) > 1e-3
    if props.lipschitz is not None:
        assert np.all(fd <= props.lipschitz * D + tol)
    if props.lower_lipschitz is not None:
        assert np.all(fd >= props.lower_lipschitz * D - tol)
    if props.continuous is False:
        assert name == "align_to_reference"


@pytest.mark.parametrize("name,cid,opts", COMBOS)
def test_separation_claims(name, cid, opts):
    imap, action, params, props = fitted(name, cid, tuple(opts.items()))
    fd, D = bank_features(name, cid, tuple(opts.items()))
    if props.separating in ("yes", "generic"):
        assert np.all(fd[D > 1e-2] > 1e-8)
        return
    # one template: scale a second code until its max-filter value is the first one's
    assert name == "max_filter" and params["templates"].shape[0] == 1
    t = params["templates"][0]
    rng = np.random.default_rng(6)
    x, w = (t + 0.3 * rng.normal(size=t.shape) for _ in range(2))
    fx, fw = (float(np.asarray(max_inner_product(t, z, action)[0])) for z in (x, w))
    y = w * (fx / fw)
    assert float(exact(x, y, action)) > 1e-2
    np.testing.assert_allclose(imap.transform(y, action, params), imap.transform(x, action, params))


@pytest.mark.parametrize("name,cid,opts", COMBOS)
def test_cross_section_claims(name, cid, opts):
    imap, action, params, props = fitted(name, cid, tuple(opts.items()))
    X = np.random.default_rng(7).normal(size=(5,) + action.event_shape)
    F = np.asarray(imap.transform(X, action, params))
    assert props.cross_section == (
        name == "align_to_reference" and opts.get("n_references", 1) == 1
    )
    if props.cross_section:
        np.testing.assert_allclose(exact(F.reshape(X.shape), X, action), 0.0, atol=1e-7)


def test_isometric_alignment_cases_are_declared_from_traits():
    align = get_map("align_to_reference")
    assert align.properties(ACTIONS["trivial-d1"]).isometric  # one channel: sorting within types
    assert align.properties(ACTIONS["one-node"]).isometric  # one node, one free block
    assert not align.properties(ACTIONS["so2"]).isometric
    assert not align.properties(Product(Permutation(2), SO2("2x0"))).isometric  # d = 2


@pytest.mark.parametrize("name", ["align_to_reference", "max_filter"])
def test_so3_products_once_their_solver_has_cells(name):
    action = Product(Permutation(2), SO3("1x1o"))
    assert name in available_methods(action)
    rng = np.random.default_rng(8)
    X = rng.normal(size=(2,) + action.event_shape)
    imap = get_map(name)
    opts = {"n_templates": 2} if name == "max_filter" else {}
    params = imap.fit(X, action, random_state=0, **opts)
    try:
        F = np.asarray(imap.transform(X, action, params))
    except ValueError as err:  # no branch-and-bound cells for SO(3) on this build
        pytest.skip(str(err))
    moved = np.asarray(action.act(action.sample(2, rng), X))
    np.testing.assert_allclose(imap.transform(moved, action, params), F, atol=1e-6)
