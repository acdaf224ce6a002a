"""Invariant maps of node-wise products S_n × G: per-node invariants sorted / projected and
sorted / pooled over the nodes of each type, and the solver-based maps (alignment to references,
max filtering) on products; every declaration checked against the exact quotient distance."""

from __future__ import annotations

import functools
import itertools

import numpy as np
import pytest

from orbitspace.groups import SO2, SO3, Cyclic, Permutation, Product
from orbitspace.invariants import (
    get_map,
    maps_product,  # noqa: F401  (registers the product maps)
)
from orbitspace.invariants import product as pm
from orbitspace.quotient import quotient_distance
from orbitspace.quotient.pruning import lower_bound_features

# (id, action); kept small: the exact distances enumerate S_n
ACTIONS = {
    "so2": Product(Permutation(4), SO2("1x0 + 1x1")),
    "so2-typed": Product(Permutation(5, node_types=(3, 1, 3, 1, 3)), SO2("1x1 + 1x2")),
    "so3": Product(Permutation(4), SO3("1x1o")),
    "so3-typed": Product(Permutation(4, node_types=(6, 1, 1, 6)), SO3("1x0e + 1x1o")),
    "cyclic": Product(Permutation(4), Cyclic(4, "1x1 + 1x2")),
    "trivial-d2": Product(Permutation(3), SO2("2x0")),
    "trivial-d1": Product(Permutation(3, node_types=(0, 0, 1)), SO2("1x0")),
    "one-node": Product(Permutation(1), SO2("1x0 + 1x1")),
}
MAPS = ["node_sorted_invariants", "node_sorted_projections", "node_pooled_invariants"]
INVARIANTS = ["norms", "power_spectrum"]
# option variants per map, each run with both per-node invariants
VARIANTS = {
    "node_sorted_invariants": [{}],
    "node_sorted_projections": [{}, {"n_projections": 1}, {"n_projections": 9}],
    "node_pooled_invariants": [{}, {"reduction": "mean"}, {"reduction": "max"}],
}
COMBOS = [
    pytest.param(name, cid, {"invariant": inv, **opts}, id=f"{name}-{cid}-{inv}-{opts}")
    for name in MAPS
    for cid in ACTIONS
    for inv in INVARIANTS
    for opts in VARIANTS[name]
]


def fitted(name, cid, opts, seed=0):
    action = ACTIONS[cid]
    imap = get_map(name)
    fit_opts, tr_opts = imap.split_options(opts)
    X = np.random.default_rng(2).normal(size=(8,) + action.event_shape)
    params = imap.fit(X, action, random_state=seed, **fit_opts)
    return imap, action, params, tr_opts, imap.properties(action, **opts)


def feats(imap, action, params, tr_opts, X, mask=None):
    return np.asarray(imap.transform(X, action, params, mask=mask, **tr_opts))


# -- the exact quotient distance ------------------------------------------------------------------
def _so3_twin(A, B, action):
    """All type-keeping permutations × the closed-form best rotation of the l = 1 copies
    (Kabsch with the determinant correction); scalars are invariant. Exact for l <= 1."""
    comps = action.feature_action.components()
    assert all(c.irrep.degree in (0, 1) for c in comps)
    vec = [s for c in comps if c.irrep.degree == 1 for s in c.copy_slices()]
    sca = [s for c in comps if c.irrep.degree == 0 for s in c.copy_slices()]
    out = np.empty(A.shape[0])
    for k, (x, y) in enumerate(zip(A, B)):
        best = np.inf
        for p in action.permutation.elements():
            yp = y[p]
            d2 = sum(((x[:, s] - yp[:, s]) ** 2).sum() for s in sca)
            U = np.concatenate([x[:, s] for s in vec])  # (n k, 3)
            V = np.concatenate([yp[:, s] for s in vec])
            sv = np.linalg.svd(U.T @ V, compute_uv=False)
            top = sv[0] + sv[1] + np.sign(np.linalg.det(U.T @ V)) * sv[2]
            best = min(best, d2 + (U**2).sum() + (V**2).sum() - 2 * top)
        out[k] = np.sqrt(max(best, 0.0))
    return out


def exact_distance(A, B, action):
    if isinstance(action.feature_action, SO3):
        return _so3_twin(A, B, action)
    return np.asarray(quotient_distance(A, B, action, method="exhaustive"))


def test_so3_twin_is_exact_on_orbits_and_below_every_element():
    for cid in ("so3", "so3-typed"):
        action = ACTIONS[cid]
        rng = np.random.default_rng(0)
        X = rng.normal(size=(6,) + action.event_shape)
        Y = rng.normal(size=X.shape)
        moved = np.asarray(action.act(action.sample(6, rng), X))
        np.testing.assert_allclose(_so3_twin(X, moved, action), 0.0, atol=1e-6)
        D = _so3_twin(X, Y, action)
        for _ in range(50):  # no element does better than the twin's minimum
            trial = np.asarray(action.act(action.sample(6, rng), Y))
            assert np.all(D <= np.linalg.norm(X - trial, axis=(1, 2)) + 1e-9)


@pytest.mark.parametrize(
    "action",
    [
        Product(Permutation(2), SO3("1x1o")),
        Product(Permutation(3, node_types=(1, 1, 6)), SO3("1x0e + 1x1o")),
    ],
    ids=repr,
)
def test_so3_twin_agrees_with_the_certified_product_solver(action):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(2,) + action.event_shape)
    Y = rng.normal(size=X.shape)
    try:
        fast = np.asarray(quotient_distance(X, Y, action))
    except ValueError as err:  # no branch-and-bound cells for SO(3) on this build
        pytest.skip(str(err))
    np.testing.assert_allclose(fast, _so3_twin(X, Y, action), atol=1e-6)


# -- hard pairs -----------------------------------------------------------------------------------
def hard_pairs(action, rng):
    """Pairs of different orbits that the lossy maps cannot tell apart."""
    n, d = action.event_shape
    G = action.feature_action
    X = rng.normal(size=(n, d))
    pairs = []
    if not G.is_trivial and n >= 2:  # one node turned alone: every per-node invariant is blind
        for h in G.sample(16, rng):
            y0 = np.asarray(G.act(h, X[0]))
            if np.linalg.norm(y0 - X[0]) > 0.5:
                Y = X.copy()
                Y[0] = y0
                pairs.append((X, Y))
                break
    big = max(pm.type_classes(action), key=len)
    if len(big) >= 2:
        i, j = big[:2]
        if G.is_trivial and d >= 2:  # the channel-sort collision
            A, B = X.copy(), X.copy()
            A[[i, j], :2] = [[0.0, 0.0], [1.0, 1.0]]
            B[[i, j], :2] = [[0.0, 1.0], [1.0, 0.0]]
            pairs.append((A, B))
        if G.is_trivial:
            Y = X.copy()
            Y[i] += 0.4
            Y[j] -= 0.4  # same sum and mean over the type
            pairs.append((X, Y))
            Y = X.copy()
            low = big[np.argmin(X[big], axis=0)]
            Y[low, np.arange(d)] -= 0.7  # same maxima over the type
            pairs.append((X, Y))
        T = X.copy()
        T[j] = T[i]  # a repeated node against a nearby code
        pairs.append((T, T + 0.01 * rng.normal(size=T.shape)))
    return pairs


def _with_invariants(x, action, invariant, target):
    """A node with per-node invariants ``target``: scalars set, each copy rescaled (every
    non-trivial irrep with one copy, so the power spectrum is its squared norm)."""
    y = x.copy()
    for k, (irrep, sl) in enumerate(
        (c.irrep, s) for c in action.feature_action.components() for s in c.copy_slices()
    ):
        if irrep.trivial and irrep.dim == 1:
            y[sl] = target[k]
        else:
            norm = target[k] if invariant == "norms" else np.sqrt(target[k])
            y[sl] *= norm / np.linalg.norm(x[sl])
    return y


def parametric_collisions(name, action, params, rng):
    """Sorted projections below s(F-1)+1 directions where φ loses nothing (G trivial, or one
    node): a step in φ orthogonal to every direction."""
    if name != "node_sorted_projections":
        return []
    A = params["directions"]  # (F, m)
    F, m = A.shape
    if m >= F or not (action.feature_action.is_trivial or action.n_nodes == 1):
        return []
    Q, _ = np.linalg.qr(np.concatenate([A, rng.normal(size=(F, F))], 1))
    b = Q[:, m]  # orthogonal to every direction
    X = rng.normal(size=action.event_shape)
    if action.feature_action.is_trivial:  # φ is the identity
        return [(X, X + np.outer(rng.normal(size=action.n_nodes), b))]
    X = 3 * X / np.linalg.norm(X)  # one node: move φ by 0.5 b, keeping norms positive
    invariant = str(params["invariant"])
    phi = np.asarray(pm.node_invariants(X, action, invariant=invariant))[0]
    return [(X, _with_invariants(X[0], action, invariant, phi + 0.5 * b)[None])]


@functools.cache
def pair_bank(cid):
    """Hard, random, near and same-orbit pairs, with exact distances."""
    action = ACTIONS[cid]
    rng = np.random.default_rng(1)
    pairs = hard_pairs(action, rng)
    X = rng.normal(size=(10,) + action.event_shape)
    Y = rng.normal(size=X.shape)
    near = np.asarray(action.act(action.sample(10, rng), X + 0.05 * rng.normal(size=X.shape)))
    same = np.asarray(action.act(action.sample(3, rng), X[:3]))
    event = X.shape[1:]
    A = np.concatenate([np.array([p[0] for p in pairs]).reshape((-1,) + event), X, X, X[:3]])
    B = np.concatenate([np.array([p[1] for p in pairs]).reshape((-1,) + event), Y, near, same])
    return A, B, exact_distance(A, B, action)


# -- the declarations -----------------------------------------------------------------------------
@pytest.mark.parametrize("name,cid,opts", COMBOS)
def test_shape_batch_and_declared_dim(name, cid, opts):
    imap, action, params, tr_opts, props = fitted(name, cid, opts)
    X = np.random.default_rng(3).normal(size=(3, 4) + action.event_shape)
    F = feats(imap, action, params, tr_opts, X)
    assert F.shape == (3, 4, props.output_dim)
    np.testing.assert_allclose(feats(imap, action, params, tr_opts, X[1, 2]), F[1, 2], atol=1e-12)


@pytest.mark.parametrize("name,cid,opts", COMBOS)
def test_invariant_with_and_without_node_masks(name, cid, opts):
    imap, action, params, tr_opts, props = fitted(name, cid, opts)
    assert props.invariant
    rng = np.random.default_rng(4)
    X = rng.normal(size=(12,) + action.event_shape)
    g = action.sample(12, rng)
    moved = np.asarray(action.act(g, X))
    F = feats(imap, action, params, tr_opts, X)
    np.testing.assert_allclose(feats(imap, action, params, tr_opts, moved), F, atol=1e-9)
    mask = rng.random(X.shape[:-1]) < 0.7
    Fm = feats(imap, action, params, tr_opts, X, mask)
    Gm = feats(imap, action, params, tr_opts, moved, action.permute_mask(g, mask))
    np.testing.assert_allclose(Gm, Fm, atol=1e-9)
    if name != "node_pooled_invariants":  # padded rows are zeroed, then mapped like any row
        Z = np.where(mask[..., None], X, 0.0)
        np.testing.assert_allclose(Fm, feats(imap, action, params, tr_opts, Z), atol=1e-12)


@pytest.mark.parametrize("name,cid,opts", COMBOS)
def test_metric_declarations_against_exact_quotient_distance(name, cid, opts):
    imap, action, params, tr_opts, props = fitted(name, cid, opts)
    A, B, D = pair_bank(cid)
    fd = np.linalg.norm(
        feats(imap, action, params, tr_opts, A) - feats(imap, action, params, tr_opts, B), axis=-1
    )
    tol = 1e-7 * (1 + D)
    if props.isometric:
        np.testing.assert_allclose(fd, D, atol=1e-6)
    else:  # the declaration is tight: some pair is distorted
        assert np.max(np.abs(fd - D)) > 1e-3
    if props.lipschitz is not None:
        assert np.all(fd <= props.lipschitz * D + tol), np.max(fd / np.maximum(D, 1e-12))
    if props.lower_lipschitz is not None:
        assert np.all(fd >= props.lower_lipschitz * D - tol)


@pytest.mark.parametrize("name,cid,opts", COMBOS)
def test_separation_claims_and_collisions_of_lossy_maps(name, cid, opts):
    imap, action, params, tr_opts, props = fitted(name, cid, opts)
    A, B, D = pair_bank(cid)
    extra = parametric_collisions(name, action, params, np.random.default_rng(6))
    if extra:
        A2, B2 = np.stack([p[0] for p in extra]), np.stack([p[1] for p in extra])
        A, B = np.concatenate([A, A2]), np.concatenate([B, B2])
        D = np.concatenate([D, exact_distance(A2, B2, action)])
    fd = np.linalg.norm(
        feats(imap, action, params, tr_opts, A) - feats(imap, action, params, tr_opts, B), axis=-1
    )
    different = D > 1e-2
    if props.separating in ("yes", "generic"):
        assert np.all(fd[different] > 1e-8)
    else:
        assert np.any(different & (fd < 1e-9 * (1 + D))), "no collision shown for a lossy map"


@pytest.mark.parametrize("name,cid,opts", COMBOS)
def test_cross_section_claims(name, cid, opts):
    imap, action, params, tr_opts, props = fitted(name, cid, opts)
    X = np.random.default_rng(7).normal(size=(6,) + action.event_shape)
    F = feats(imap, action, params, tr_opts, X)
    if props.cross_section:
        np.testing.assert_allclose(exact_distance(F.reshape(X.shape), X, action), 0, atol=1e-8)
    elif not params and F.shape[-1] == X[0].size:  # the declaration is tight
        assert np.max(exact_distance(F.reshape(X.shape), X, action)) > 1e-6


@pytest.mark.parametrize("name,cid,opts", COMBOS)
def test_continuity_and_determinism(name, cid, opts):
    imap, action, params, tr_opts, props = fitted(name, cid, opts, seed=11)
    rng = np.random.default_rng(8)
    X = rng.normal(size=(6,) + action.event_shape)
    F = feats(imap, action, params, tr_opts, X)
    assert props.continuous
    G = feats(imap, action, params, tr_opts, X + 1e-7 * rng.normal(size=X.shape))
    assert np.max(np.abs(F - G)) < 1e-4
    again = fitted(name, cid, opts, seed=11)[2]
    assert params.keys() == again.keys()
    np.testing.assert_array_equal(F, feats(imap, action, again, tr_opts, X))
    if params:
        other = fitted(name, cid, opts, seed=12)[2]
        assert not np.array_equal(params["directions"], other["directions"])


def test_declared_output_dims_do_not_run_the_maps(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a declaration ran the map")

    monkeypatch.setattr(pm, "_phi", refuse)
    a = Product(Permutation(5, node_types=(3, 1, 3, 1, 3)), SO2("2x0 + 2x1 + 1x3"))
    s = Product(Permutation(4), SO3("1x0e + 2x1o + 1x2e"))
    for action, name, opts, out in [
        (a, "node_sorted_invariants", {}, 5 * 5),
        (a, "node_sorted_invariants", {"invariant": "power_spectrum"}, 5 * (2 + 4 + 1)),
        (a, "node_sorted_projections", {"n_projections": 3}, 5 * 3),
        (a, "node_sorted_projections", {}, 5 * (3 * 4 + 1)),
        (a, "node_pooled_invariants", {}, 2 * 5),
        (s, "node_sorted_invariants", {"invariant": "power_spectrum"}, 4 * (1 + 3 + 1)),
        (s, "node_pooled_invariants", {"reduction": "max"}, 4),
    ]:
        assert get_map(name).output_dim(action, **opts) == out, (name, opts)


# -- slow twins -----------------------------------------------------------------------------------
def _slow_phi(x, action, invariant):
    """The per-node invariant, one copy at a time with Python loops."""
    rows = []
    for node in x:
        row = []
        groups: dict = {}
        for comp in action.feature_action.components():
            for s in comp.copy_slices():
                block = node[s]
                if comp.irrep.trivial and comp.irrep.dim == 1:
                    row.append(float(block[0]))
                elif invariant == "norms":
                    row.append(float(np.sqrt(sum(v * v for v in block))))
                else:
                    groups.setdefault(comp.irrep, []).append(block)
        for parts in groups.values():  # the real Gram of the copies of each irrep
            for i, j in itertools.combinations_with_replacement(range(len(parts)), 2):
                row.append(float(parts[i] @ parts[j]))
        rows.append(row)
    return np.array(rows)


@pytest.mark.parametrize("cid", ["so2-typed", "so3-typed", "trivial-d1"])
def test_sorted_and_pooled_match_slow_twins(cid):
    action = ACTIONS[cid]
    X = np.random.default_rng(9).normal(size=(5,) + action.event_shape)
    types = action.node_types if action.node_types is not None else np.zeros(action.n_nodes)
    for inv in ("norms",) if cid == "so2-typed" else INVARIANTS:  # planar PS is complex-typed
        for x, got, pooled in zip(
            X,
            pm.node_sorted_invariants(X, action, invariant=inv),
            pm.node_pooled_invariants(X, action, invariant=inv, reduction="max"),
        ):
            phi = _slow_phi(x, action, inv)
            want = phi.copy()
            for t in sorted(set(types.tolist())):
                slots = [i for i in range(action.n_nodes) if types[i] == t]
                for f in range(phi.shape[1]):
                    want[slots, f] = sorted(phi[slots, f])
            np.testing.assert_allclose(got, want.ravel(), atol=1e-12)
            tops = [phi[types == t].max(axis=0) for t in sorted(set(types.tolist()))]
            np.testing.assert_allclose(pooled, np.concatenate(tops), atol=1e-12)


@pytest.mark.parametrize("cid", ["so2", "so2-typed", "cyclic", "so3-typed"])
def test_sorted_norms_are_the_registered_pruning_bound(cid):
    action = ACTIONS[cid]
    rng = np.random.default_rng(10)
    X, Y = rng.normal(size=(2, 8) + action.event_shape)
    ours = np.linalg.norm(
        pm.node_sorted_invariants(X, action) - pm.node_sorted_invariants(Y, action), axis=1
    )
    theirs = np.linalg.norm(
        lower_bound_features(action, X) - lower_bound_features(action, Y), axis=1
    )
    np.testing.assert_allclose(ours, theirs, atol=1e-12)


def test_masked_pooling_counts_real_nodes_of_each_type():
    action = ACTIONS["so2-typed"]  # types 3, 1, 3, 1, 3: classes [1, 3] and [0, 2, 4]
    X = np.random.default_rng(11).normal(size=action.event_shape)
    mask = np.array([True, False, False, True, True])
    phi = _slow_phi(X, action, "norms")
    mean = pm.node_pooled_invariants(X, action, reduction="mean", mask=mask)
    np.testing.assert_allclose(mean, np.concatenate([phi[3], phi[[0, 4]].mean(0)]), atol=1e-12)
    none = np.array([True, False, True, False, True])  # no real node of type 1: pools to 0
    top = pm.node_pooled_invariants(X, action, reduction="max", mask=none)
    np.testing.assert_allclose(top, np.concatenate([0 * phi[1], phi[[0, 2, 4]].max(0)]))


def test_pooling_constants_are_reached():
    """sum pooling needs sqrt(s): the same step on every node of one type."""
    action = ACTIONS["trivial-d1"]  # one type of 2 nodes and one of 1, G trivial: φ = x
    props = get_map("node_pooled_invariants").properties(action)
    assert props.lipschitz == pytest.approx(np.sqrt(2))
    x = np.array([[0.0], [1.0], [5.0]])
    y = x + np.array([[0.3], [0.3], [0.0]])
    fd = np.linalg.norm(pm.node_pooled_invariants(x, action) - pm.node_pooled_invariants(y, action))
    assert fd == pytest.approx(np.sqrt(2) * float(exact_distance(x[None], y[None], action)[0]))


def test_lipschitz_on_so2_and_so3_products_with_random_pairs():
    """The headline claim: sorted per-node norms never exceed the quotient distance."""
    for cid in ("so2", "so3", "cyclic"):
        action = ACTIONS[cid]
        rng = np.random.default_rng(12)
        X = rng.normal(size=(25,) + action.event_shape)
        Y = X + 0.3 * rng.normal(size=X.shape)
        D = exact_distance(X, Y, action)
        fd = np.linalg.norm(
            pm.node_sorted_invariants(X, action) - pm.node_sorted_invariants(Y, action), axis=1
        )
        assert np.all(fd <= D + 1e-9)
        assert np.median(fd / D) > 0.3  # and it is not the trivial bound 0


# -- bad input ------------------------------------------------------------------------------------
def test_bad_input_is_refused_with_one_line_messages():
    action = ACTIONS["so2"]
    X = np.zeros((2,) + action.event_shape)
    with pytest.raises(ValueError, match="does not support Permutation"):
        get_map("node_sorted_invariants").properties(Permutation(4), d=3)
    with pytest.raises(ValueError, match="does not support SO2"):
        get_map("node_pooled_invariants").properties(SO2("1x1"))
    with pytest.raises(TypeError, match="node-wise product"):
        pm.node_sorted_invariants(np.zeros((4, 3)), Permutation(4))
    with pytest.raises(ValueError, match="invariant must be one of"):
        pm.node_sorted_invariants(X, action, invariant="bispectrum")
    with pytest.raises(ValueError, match="invariant must be one of"):
        get_map("node_sorted_invariants").properties(action, invariant="gram")
    with pytest.raises(ValueError, match=r"directions must have shape \(F, m\) = \(2, m\)"):
        pm.node_sorted_projections(X, action, np.ones((3, 4)))
    with pytest.raises(ValueError, match="reduction must be one of"):
        get_map("node_pooled_invariants").properties(action, reduction="median")
    with pytest.raises(ValueError, match="dim 3 but X.shape"):
        pm.node_pooled_invariants(np.zeros((4, 2)), action)
    with pytest.raises(ValueError, match="must hold 'invariant'"):
        get_map("node_sorted_projections").transform(X, action, {"directions": np.ones((2, 1))})
    with pytest.raises(ValueError, match="n_projections"):
        get_map("node_sorted_projections").fit(X, action, n_projections=0)


def test_torch_in_torch_out():
    torch = pytest.importorskip("torch")
    action = ACTIONS["so2-typed"]
    X = np.random.default_rng(13).normal(size=(4,) + action.event_shape)
    for name in MAPS:
        imap = get_map(name)
        params = imap.fit(X, action, random_state=0)
        F = np.asarray(imap.transform(X, action, params))
        T = imap.transform(torch.from_numpy(X), action, params)
        assert isinstance(T, torch.Tensor) and T.dtype == torch.float64
        np.testing.assert_allclose(T.numpy(), F, atol=1e-12)
        assert imap.transform(torch.from_numpy(X).float(), action, params).dtype == torch.float32
