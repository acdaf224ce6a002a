"""Exact quotient k-NN by filter and refine (orbitspace.quotient.knn) against brute force."""

from __future__ import annotations

import numpy as np
import pytest

from orbitspace.groups import SO2, Cyclic, FiniteGroup, Permutation
from orbitspace.quotient import pairwise_quotient_distances
from orbitspace.quotient._knn_bounds import _reflection_inner, pair_bound
from orbitspace.quotient.knn import exact_knn, knn_graph, precomputed_knn, radius_neighbors

ACTIONS = [
    SO2("2x0 + 3x1 + 2x2 + 1x3"),
    Cyclic(8, "2xregular + 1x1 + 1x4 + 1x0"),
    Cyclic(5, "2xregular + 1x2"),
    Permutation(9),
    FiniteGroup.from_action(Cyclic(4, "1x1 + 1xregular")),
]


def _codes(action, n, rng, clustered):
    shape = (action.n_nodes, 4) if action.event_ndim == 2 else (action.dim,)
    if clustered:
        centers = rng.normal(size=(12,) + shape)
        X = centers[rng.integers(0, 12, n)] + 0.1 * rng.normal(size=(n,) + shape)
    else:
        X = rng.uniform(-1, 1, size=(n,) + shape)
    return np.asarray(action.act(action.sample(n, rng), X))


def _brute(X, Y, k, action):
    same = Y is None
    D = np.asarray(pairwise_quotient_distances(X, Y, action=action))
    if same:
        np.fill_diagonal(D, np.inf)
    idx = np.argsort(D, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(D, idx, 1), idx, D


@pytest.mark.parametrize("action", ACTIONS, ids=repr)
@pytest.mark.parametrize("clustered", [True, False], ids=["clustered", "uniform"])
def test_exact_knn_equals_brute_force(action, clustered):
    rng = np.random.default_rng(0)
    n = 200 if isinstance(action, Permutation) or not clustered else 500
    X = _codes(action, n, rng, clustered)
    Y = _codes(action, 150, rng, clustered)
    for k in (1, 37):
        for other in (None, Y):
            ref_d, ref_i, _ = _brute(X, other, k, action)
            d, i = exact_knn(X, k, action=action, Y=other)
            np.testing.assert_array_equal(i, ref_i)
            np.testing.assert_allclose(d, ref_d, rtol=1e-10, atol=1e-10)


def test_small_blocks_threads_and_progress_give_the_same_neighbours():
    rng = np.random.default_rng(1)
    action = SO2("1x0 + 4x1 + 2x2")
    X = _codes(action, 600, rng, True)
    ref_d, ref_i, _ = _brute(X, None, 5, action)
    for options in ({"block_size": 500}, {"n_jobs": 2}, {"progress": True}):
        d, i = exact_knn(X, 5, action=action, **options)
        np.testing.assert_array_equal(i, ref_i)
        np.testing.assert_allclose(d, ref_d, atol=1e-10)


def test_k_equal_to_every_other_point():
    rng = np.random.default_rng(2)
    action = Cyclic(6, "1xregular + 1x1")
    X = _codes(action, 40, rng, False)
    ref_d, ref_i, _ = _brute(X, None, 39, action)
    d, i = exact_knn(X, 39, action=action)
    np.testing.assert_array_equal(i, ref_i)
    np.testing.assert_allclose(d, ref_d, atol=1e-10)


@pytest.mark.parametrize("action", ACTIONS, ids=repr)
def test_radius_neighbors_equal_brute_force(action):
    rng = np.random.default_rng(3)
    X = _codes(action, 250, rng, True)
    _, _, D = _brute(X, None, 1, action)
    radius = float(np.quantile(D[np.isfinite(D)], 0.05))
    found = radius_neighbors(X, radius, action=action)
    for row, (idx, dist) in zip(D, found):
        ref = np.nonzero(row <= radius)[0]
        ref = ref[np.argsort(row[ref], kind="stable")]
        np.testing.assert_array_equal(idx, ref)
        np.testing.assert_allclose(dist, row[ref], atol=1e-10)
    Y = np.asarray(action.act(action.sample(30, rng), X[:30])) + 0.01 * rng.normal(
        size=X[:30].shape
    )
    D = np.asarray(pairwise_quotient_distances(X, Y, action=action))
    found = radius_neighbors(X, radius, action=action, Y=Y)
    assert sum(i.size for i, _ in found) == int((D <= radius).sum()) > 0


@pytest.mark.parametrize("action", [*ACTIONS, SO2("3x1"), Cyclic(7, "3xregular")], ids=repr)
def test_block_lower_bound_never_exceeds_the_quotient_distance(action):
    rng = np.random.default_rng(4)
    X = np.concatenate([_codes(action, 40, rng, True), _codes(action, 40, rng, False)])
    bound = pair_bound(action)
    P = bound.prepare(X)
    L = bound.lower(P, P)
    D = np.asarray(pairwise_quotient_distances(X, action=action))  # certified, oracle-tested
    assert np.all(L <= D + 1e-9)
    assert L.mean() > 0.25 * D.mean()  # informative
    cap = np.full(X.shape[0], np.median(L))
    capped = bound.lower(P, P, cap)
    np.testing.assert_array_equal(np.isinf(capped), L > cap[:, None])


def test_relaxation_is_the_distance_for_one_frequency():
    rng = np.random.default_rng(5)
    action = SO2("4x2")
    X = rng.normal(size=(20, action.dim))
    bound = pair_bound(action)
    P = bound.prepare(X)
    D = np.asarray(pairwise_quotient_distances(X, action=action))
    np.testing.assert_allclose(bound.lower(P, P), D, atol=1e-6)


def test_reflection_relaxation_is_the_orthogonal_group_maximum():
    rng = np.random.default_rng(6)
    A, B = rng.normal(size=(5, 6)), rng.normal(size=(7, 6))  # 3 copies of a 2-D block
    theta = np.linspace(0, 2 * np.pi, 20000, endpoint=False)
    c, s = np.cos(theta), np.sin(theta)
    best = np.full((5, 7), -np.inf)
    for flip in (1.0, -1.0):
        br, bi = B[:, :3], flip * B[:, 3:]  # the reflection conjugates
        for i in range(5):
            ar, ai = A[i, :3], A[i, 3:]
            # <a, R(θ) b> for every angle and every b
            val = (ar @ br.T)[None] * c[:, None] - (ar @ bi.T)[None] * s[:, None]
            val += (ai @ br.T)[None] * s[:, None] + (ai @ bi.T)[None] * c[:, None]
            best[i] = np.maximum(best[i], val.max(0))
    np.testing.assert_allclose(_reflection_inner(A, B), best, rtol=1e-6)


def test_knn_graph_and_precomputed_neighbours():
    rng = np.random.default_rng(7)
    action = Permutation(9)
    X = _codes(action, 120, rng, True)
    d, i = exact_knn(X, 6, action=action)
    G = knn_graph(X, 6, action=action)
    assert G.shape == (120, 120) and G.nnz == 120 * 6
    np.testing.assert_array_equal(G.indices.reshape(120, 6), i)
    np.testing.assert_allclose(G.data.reshape(120, 6), d)
    idx, dist = precomputed_knn(X, 7, action=action)
    np.testing.assert_array_equal(idx[:, 0], np.arange(120))
    np.testing.assert_array_equal(idx[:, 1:], i)
    np.testing.assert_allclose(dist[:, 1:], d)
    assert np.all(dist[:, 0] == 0)


def test_opentsne_accepts_the_precomputed_neighbours():
    nn = pytest.importorskip("openTSNE.nearest_neighbors")
    affinity = pytest.importorskip("openTSNE.affinity")
    from openTSNE import TSNEEmbedding

    rng = np.random.default_rng(8)
    action = SO2("2x0 + 4x1 + 2x2")
    labels = rng.integers(0, 5, 500)
    X = rng.normal(size=(5, action.dim))[labels] + 0.1 * rng.normal(size=(500, action.dim))
    X = np.asarray(action.act(action.sample(500, rng), X))
    idx, dist = precomputed_knn(X, 31, action=action)
    knn_index = nn.PrecomputedNeighbors(idx[:, 1:], dist[:, 1:])
    aff = affinity.PerplexityBasedNN(perplexity=10, knn_index=knn_index)
    init = rng.normal(scale=1e-4, size=(500, 2))
    emb = TSNEEmbedding(init, aff, random_state=0).optimize(n_iter=100)
    Z = np.asarray(emb)
    # the orbit-blind coordinates are mixed by the rotations; the quotient neighbours are not
    centers = np.stack([Z[labels == c].mean(0) for c in range(5)])
    within = np.mean([np.linalg.norm(Z[labels == c] - centers[c], axis=1).mean() for c in range(5)])
    between = np.linalg.norm(centers[:, None] - centers[None], axis=-1)[np.triu_indices(5, 1)]
    assert between.min() > 2 * within


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda X, a: exact_knn(X, 0, action=a), "k must be an int in 1..29"),
        (lambda X, a: exact_knn(X, 2.0, action=a), "k must be an int"),
        (lambda X, a: exact_knn(X, 2, action=a, block_size=0), "block_size must be"),
        (lambda X, a: exact_knn(X, 2, action=a, n_jobs=0), "n_jobs must be"),
        (lambda X, a: exact_knn(X[None], 2, action=a), "flat batches"),
        (lambda X, a: radius_neighbors(X, -1.0, action=a), "radius must be"),
        (lambda X, a: precomputed_knn(X, 1, action=a), "n_neighbors must be"),
    ],
)
def test_bad_input_is_refused_with_a_message(call, message):
    action = SO2("1x1")
    X = np.random.default_rng(9).normal(size=(30, 2))
    with pytest.raises(ValueError, match=message):
        call(X, action)


@pytest.mark.slow
def test_umap_accepts_the_precomputed_neighbours():
    umap = pytest.importorskip("umap")
    rng = np.random.default_rng(10)
    action = SO2("2x0 + 4x1 + 2x2")
    X = rng.normal(size=(500, action.dim))
    idx, dist = precomputed_knn(X, 15, action=action)
    Z = umap.UMAP(n_neighbors=15, precomputed_knn=(idx, dist), random_state=0).fit_transform(X)
    assert Z.shape == (500, 2) and np.isfinite(Z).all()
