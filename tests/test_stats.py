"""Quotient statistics: Fréchet mean, geodesic interpolation, quotient PCA, neighbours."""

from __future__ import annotations

import numpy as np
import pytest

from orbitspace import SO2, Cyclic, Permutation
from orbitspace.quotient import pairwise_quotient_distances, quotient_distance, quotient_knn
from orbitspace.stats import (
    FrechetMeanResult,
    QuotientPCAResult,
    frechet_mean,
    geodesic_interpolation,
    quotient_nearest_neighbors,
    quotient_pca,
)

ACTIONS = [SO2("1x0 + 2x1 + 1x2"), Cyclic(4, "1xregular + 1x1"), Permutation(4)]


def sample(action, n, rng, d=2):
    shape = (n, action.n_nodes, d) if isinstance(action, Permutation) else (n, action.dim)
    return rng.normal(size=shape)


def frechet_function(m, X, action):
    return float(np.mean(np.asarray(quotient_distance(m[None], X, action)) ** 2))


# -- Fréchet mean ------------------------------------------------------------------------------


@pytest.mark.parametrize("action", ACTIONS, ids=repr)
def test_frechet_function_never_increases(action):
    X = sample(action, 15, np.random.default_rng(0))
    res = frechet_mean(X, action, max_iter=30, tol=0.0, init=0)
    assert isinstance(res, FrechetMeanResult)
    h = res.history
    assert len(h) == res.n_iter + 1
    assert np.all(np.diff(h) <= 1e-12 * h[0])
    assert h[-1] < h[0]  # it actually moves from the starting sample
    # history is the true Fréchet function at the reported mean
    assert h[-1] == pytest.approx(frechet_function(np.asarray(res.mean), X, action), rel=1e-9)


@pytest.mark.parametrize("action", ACTIONS, ids=repr)
def test_frechet_mean_is_the_average_of_aligned_samples(action):
    X = sample(action, 12, np.random.default_rng(1))
    res = frechet_mean(X, action)
    assert res.converged
    aligned = np.asarray(res.aligned)
    np.testing.assert_allclose(aligned.mean(0), res.mean, atol=1e-6)
    # aligned[i] lies in the orbit of X[i]: acting with g_i reproduces it
    np.testing.assert_allclose(action.act(res.group_elements, X), aligned, atol=1e-9)


def test_frechet_mean_beats_the_medoid_and_random_starts():
    action = SO2("2x1")
    rng = np.random.default_rng(2)
    X = sample(action, 20, rng)
    res = frechet_mean(X, action)
    F = res.history[-1]
    for i in range(len(X)):
        assert F <= frechet_function(X[i], X, action) + 1e-12


def test_frechet_mean_of_one_orbit_is_on_the_orbit():
    action = SO2("1x0 + 1x1 + 1x3")
    x = np.array([0.5, 1.0, -2.0, 0.3, 0.7])
    X = action.act(action.sample(9, random_state=0), x)
    res = frechet_mean(X, action)
    assert res.history[-1] == pytest.approx(0.0, abs=1e-18)
    assert float(quotient_distance(res.mean, x, action)) < 1e-9


def test_frechet_mean_undoes_random_poses():
    # noisy copies of one template in random poses: the mean recovers the template's orbit,
    # while the raw Euclidean mean collapses towards the invariant part
    action = SO2("1x0 + 3x1")
    rng = np.random.default_rng(3)
    template = rng.normal(size=7)
    X = action.act(action.sample(40, rng), template + 0.05 * rng.normal(size=(40, 7)))
    res = frechet_mean(X, action)
    assert float(quotient_distance(res.mean, template, action)) < 0.05
    assert float(quotient_distance(X.mean(0), template, action)) > 0.5


def test_frechet_mean_init_options_and_errors():
    action = Permutation(3)
    X = sample(action, 8, np.random.default_rng(4))
    a = frechet_mean(X, action, init=X[2])
    b = frechet_mean(X, action, init=2)
    np.testing.assert_allclose(a.mean, b.mean)
    assert frechet_mean(X, action, max_iter=0).n_iter == 0
    with pytest.raises(ValueError, match="init"):
        frechet_mean(X, action, init="random")
    with pytest.raises(ValueError, match=r"init array must have shape \(3, 2\)"):
        frechet_mean(X, action, init=np.zeros((3, 1)))
    with pytest.raises(ValueError, match="init index"):
        frechet_mean(X, action, init=8)


def test_frechet_mean_with_mask_zeros_padded_nodes():
    action = Permutation(3)
    X = sample(action, 6, np.random.default_rng(5))
    mask = np.ones((6, 3), bool)
    mask[:, 2] = False
    X_garbage = X.copy()
    X_garbage[:, 2] = 99.0
    res = frechet_mean(X_garbage, action, mask=mask)
    X_zero = X.copy()
    X_zero[:, 2] = 0.0
    ref = frechet_mean(X_zero, action)
    np.testing.assert_allclose(res.mean, ref.mean)


def test_frechet_mean_torch_in_torch_out():
    torch = pytest.importorskip("torch")
    X = torch.randn(6, 4, dtype=torch.float64)
    res = frechet_mean(X, SO2("2x1"))
    assert isinstance(res.mean, torch.Tensor) and isinstance(res.aligned, torch.Tensor)


# -- geodesic interpolation --------------------------------------------------------------------


@pytest.mark.parametrize("action", ACTIONS, ids=repr)
def test_geodesic_endpoints_and_linear_distance(action):
    rng = np.random.default_rng(6)
    x, y = sample(action, 2, rng)
    t = np.linspace(0, 1, 6)
    path = geodesic_interpolation(x, y, t, action)
    assert path.shape == (6, *x.shape)
    np.testing.assert_allclose(path[0], x)
    d = float(quotient_distance(x, y, action))
    assert float(quotient_distance(path[-1], y, action)) < 1e-9  # endpoint lies in [y]
    assert np.linalg.norm(path[-1] - x) == pytest.approx(d)
    from_x = np.asarray(quotient_distance(x[None], path, action))
    to_y = np.asarray(quotient_distance(path, y[None], action))
    np.testing.assert_allclose(from_x, t * d, atol=1e-9)
    np.testing.assert_allclose(to_y, (1 - t) * d, atol=1e-9)


def test_raw_straight_line_is_not_a_quotient_geodesic():
    action = Permutation(3)
    x = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]])
    y = x[[2, 0, 1]] + 0.1  # same shape, other node order
    raw_mid = 0.5 * (x + y)
    geo_mid = geodesic_interpolation(x, y, 0.5, action)[0]
    d = float(quotient_distance(x, y, action))
    assert float(quotient_distance(x, geo_mid, action)) == pytest.approx(d / 2)
    assert float(quotient_distance(x, raw_mid, action)) > d  # the raw midpoint leaves the path


def test_geodesic_rejects_bad_input():
    with pytest.raises(ValueError, match="same event shape"):
        geodesic_interpolation(np.zeros(4), np.zeros((2, 4)), 0.5, SO2("2x1"))
    with pytest.raises(ValueError, match="1-D"):
        geodesic_interpolation(np.zeros(4), np.zeros(4), np.zeros((2, 2)), SO2("2x1"))


# -- quotient PCA ------------------------------------------------------------------------------


@pytest.mark.parametrize("action", ACTIONS, ids=repr)
def test_quotient_pca_scores_are_invariant(action):
    rng = np.random.default_rng(7)
    X = sample(action, 20, rng)
    res = quotient_pca(X, action, n_components=3)
    assert isinstance(res, QuotientPCAResult)
    Xg = action.act(action.sample(20, rng), X)
    res_g = quotient_pca(Xg, action, n_components=3)
    np.testing.assert_allclose(res_g.scores, res.scores, atol=1e-7)
    np.testing.assert_allclose(res_g.explained_variance, res.explained_variance, rtol=1e-8)


def test_quotient_pca_shapes_orthonormality_and_variance():
    action = Permutation(4)
    X = sample(action, 25, np.random.default_rng(8), d=3)
    res = quotient_pca(X, action, n_components=4)
    C = np.asarray(res.components).reshape(4, -1)
    np.testing.assert_allclose(C @ C.T, np.eye(4), atol=1e-10)
    assert res.scores.shape == (25, 4) and res.components.shape == (4, 4, 3)
    np.testing.assert_allclose(res.scores.var(0, ddof=1), res.explained_variance)
    assert np.all(np.diff(res.explained_variance) <= 1e-12)
    assert 0 < res.explained_variance_ratio.sum() <= 1 + 1e-12
    # scores reconstruct the aligned data when all components are kept
    full = quotient_pca(X, action, n_components=12)
    rec = full.mean + np.einsum("nc,cij->nij", full.scores, full.components)
    np.testing.assert_allclose(rec, full.aligned, atol=1e-9)
    assert full.explained_variance_ratio.sum() == pytest.approx(1.0)
    # transform of the training data reproduces the scores
    np.testing.assert_allclose(res.transform(X, action), res.scores, atol=1e-8)
    with pytest.raises(ValueError, match="n_components"):
        quotient_pca(X, action, n_components=13)


def test_quotient_pca_finds_the_pose_free_direction():
    # shape varies along one direction; poses are random. Raw PCA mixes pose into the top
    # component; quotient PCA finds a component explaining nearly all variance.
    action = SO2("3x1")
    rng = np.random.default_rng(9)
    base = rng.normal(size=6)
    direction = rng.normal(size=6)
    direction /= np.linalg.norm(direction)
    shapes = base + np.outer(rng.normal(size=60), direction)
    X = action.act(action.sample(60, rng), shapes)
    res = quotient_pca(X, action, n_components=2)
    assert res.explained_variance_ratio[0] > 0.9
    raw_var = np.linalg.svd(X - X.mean(0), compute_uv=False) ** 2
    assert raw_var[0] / raw_var.sum() < 0.7


# -- neighbours --------------------------------------------------------------------------------


def test_quotient_nearest_neighbors_matches_quotient_knn():
    action = Permutation(3)
    X = sample(action, 15, np.random.default_rng(10))
    d, i = quotient_nearest_neighbors(X, 3, action=action)
    d2, i2 = quotient_knn(X, 3, action=action)
    np.testing.assert_array_equal(i, i2)
    np.testing.assert_allclose(d, d2)
    D = np.asarray(pairwise_quotient_distances(X, action=action))
    np.fill_diagonal(D, np.inf)
    np.testing.assert_allclose(d[:, 0], D.min(1))


def test_geodesic_and_pca_return_torch_for_torch():
    torch = pytest.importorskip("torch")
    action = Permutation(3)
    X = torch.randn(8, 3, 2, dtype=torch.float64)
    path = geodesic_interpolation(X[0], X[1], torch.linspace(0, 1, 4), action)
    assert isinstance(path, torch.Tensor) and tuple(path.shape) == (4, 3, 2)
    res = quotient_pca(X, action, n_components=2)
    assert isinstance(res.scores, torch.Tensor)
    np.testing.assert_allclose(res.scores.numpy(), quotient_pca(X.numpy(), action).scores)
