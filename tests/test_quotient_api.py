"""Public quotient API: align, quotient_distance, pairwise matrices, k-NN; inputs and outputs."""

from __future__ import annotations

import numpy as np
import pytest

from orbitspace.groups import SO2, Cyclic, FiniteGroup, Permutation
from orbitspace.quotient import (
    align,
    max_inner_product,
    pairwise_quotient_distances,
    quotient_distance,
    quotient_knn,
)
from orbitspace.quotient._api import SolverInfo, solver_info
from orbitspace.quotient._registry import find_solver

ACTIONS = [
    SO2("2x0 + 3x1 + 2x2 + 1x3"),
    SO2("1x7 + 1x2"),
    Cyclic(8, "2xregular + 1x1 + 1x4"),
    Cyclic(3, "1xregular + 1x1 + 1x0"),
    FiniteGroup.from_action(Cyclic(4, "1x1 + 1x2 + 1xregular")),
    Permutation(5),
]


def _random(action, shape, rng, d=3):
    event = tuple(d if size is None else size for size in action.event_shape)
    return rng.normal(size=shape + event)


@pytest.mark.parametrize("action", ACTIONS, ids=repr)
def test_pairwise_matches_exhaustive_is_symmetric_with_zero_diagonal(action):
    rng = np.random.default_rng(0)
    X, Y = _random(action, (12,), rng), _random(action, (9,), rng)
    D = pairwise_quotient_distances(X, Y, action=action, batch_size=20)
    D_slow = pairwise_quotient_distances(X, Y, action=action, method="exhaustive")
    np.testing.assert_allclose(D, D_slow, atol=1e-10)
    S = pairwise_quotient_distances(X, action=action, batch_size=7)
    np.testing.assert_array_equal(S, S.T)
    np.testing.assert_array_equal(np.diag(S), 0.0)
    np.testing.assert_allclose(S, pairwise_quotient_distances(X, X, action=action), atol=1e-10)
    # each entry is the elementwise quotient distance
    np.testing.assert_allclose(D, quotient_distance(X[:, None], Y[None], action), atol=1e-10)


@pytest.mark.parametrize("action", ACTIONS, ids=repr)
def test_identical_orbits_have_distance_zero_to_full_precision(action):
    rng = np.random.default_rng(1)
    Y = _random(action, (10,), rng) * 1e3  # large norms: the expanded formula would lose digits
    X = np.asarray(action.act(action.sample(10, rng), Y))
    assert np.abs(quotient_distance(X, Y, action)).max() < 1e-9
    res = align(X, Y, action)
    np.testing.assert_allclose(res.Y_aligned, X, atol=1e-9)
    np.testing.assert_allclose(np.asarray(action.act(res.g, Y)), X, atol=1e-9)
    D = pairwise_quotient_distances(X, Y, action=action)
    assert np.abs(np.diag(D)).max() < 1e-9
    # tiny but nonzero distances stay accurate (relative), not swamped by rounding
    eps = 1e-7
    Xe = X + eps * _random(action, (10,), rng)
    exact = np.asarray(quotient_distance(Xe, Y, action))
    np.testing.assert_allclose(
        np.diag(pairwise_quotient_distances(Xe, Y, action=action)), exact, rtol=1e-6
    )
    assert np.all(exact <= eps * 10)


@pytest.mark.parametrize("action", ACTIONS, ids=repr)
def test_distance_is_invariant_under_the_group(action):
    rng = np.random.default_rng(2)
    X, Y = _random(action, (15,), rng), _random(action, (15,), rng)
    d = np.asarray(quotient_distance(X, Y, action))
    gX = np.asarray(action.act(action.sample(15, rng), X))
    gY = np.asarray(action.act(action.sample(15, rng), Y))
    np.testing.assert_allclose(quotient_distance(X, gY, action), d, atol=1e-10)
    np.testing.assert_allclose(quotient_distance(gX, Y, action), d, atol=1e-10)
    np.testing.assert_allclose(quotient_distance(Y, X, action), d, atol=1e-10)
    # never more than the plain distance
    axes = tuple(range(-action.event_ndim, 0))
    assert np.all(d <= np.sqrt(((X - Y) ** 2).sum(axes)) + 1e-12)


@pytest.mark.parametrize("action", ACTIONS, ids=repr)
def test_knn_matches_brute_force(action):
    rng = np.random.default_rng(3)
    X, Y = _random(action, (40,), rng), _random(action, (25,), rng)
    X[5] = X[6]  # a duplicate: distance 0 to a neighbour
    for YY in [None, Y]:
        dist, idx = quotient_knn(X, 4, action=action, Y=YY)
        D = np.asarray(pairwise_quotient_distances(X, YY, action=action, method="exhaustive"))
        if YY is None:
            np.fill_diagonal(D, np.inf)
        ref = np.sort(D, axis=1)[:, :4]
        np.testing.assert_allclose(dist, ref, atol=1e-10)
        np.testing.assert_allclose(np.take_along_axis(D, idx, 1), ref, atol=1e-10)
        assert np.all(np.diff(dist, axis=1) >= 0)
        if YY is None:
            assert not np.any(idx == np.arange(40)[:, None])
    dist, idx = quotient_knn(X, 1, action=action)
    assert dist[5, 0] == pytest.approx(0.0, abs=1e-9) and idx[5, 0] == 6


def test_knn_pruned_path_with_clustered_data_is_exact():
    rng = np.random.default_rng(4)
    action = Permutation(9)
    centers = rng.normal(size=(5, 9, 4))
    X = centers[rng.integers(0, 5, 200)] + 0.05 * rng.normal(size=(200, 9, 4))
    X = np.asarray(action.act(action.sample(200, rng), X))
    dist, idx = quotient_knn(X, 3, action=action)
    D = np.asarray(pairwise_quotient_distances(X, action=action))
    np.fill_diagonal(D, np.inf)
    np.testing.assert_allclose(dist, np.sort(D, 1)[:, :3], atol=1e-10)
    np.testing.assert_allclose(np.take_along_axis(D, idx, 1), dist, atol=1e-10)


def test_masks_zero_padded_nodes():
    rng = np.random.default_rng(5)
    action = Permutation(6)
    X, Y = rng.normal(size=(8, 6, 2)), rng.normal(size=(8, 6, 2))
    xm = np.ones((8, 6), bool)
    xm[:, 4:] = False
    ym = np.ones((8, 6), bool)
    ym[:, 5:] = False
    d = quotient_distance(X, Y, action, x_mask=xm, y_mask=ym)
    Xz, Yz = np.where(xm[..., None], X, 0.0), np.where(ym[..., None], Y, 0.0)
    np.testing.assert_allclose(d, quotient_distance(Xz, Yz, action), atol=1e-12)
    np.testing.assert_allclose(
        d, quotient_distance(Xz, Yz, action, method="exhaustive"), atol=1e-10
    )
    D = pairwise_quotient_distances(X, Y, action=action, x_mask=xm, y_mask=ym)
    np.testing.assert_allclose(np.diag(D), d, atol=1e-10)
    # garbage in padded rows does not matter
    X2 = X.copy()
    X2[:, 4:] = 1e6
    np.testing.assert_allclose(quotient_distance(X2, Y, action, x_mask=xm, y_mask=ym), d, atol=1e-9)


@pytest.mark.parametrize(
    "action", [SO2("1x0 + 2x1 + 1x2"), Cyclic(4, "1xregular"), Permutation(4)], ids=repr
)
def test_float32_in_float32_out(action):
    rng = np.random.default_rng(6)
    X, Y = _random(action, (6,), rng), _random(action, (6,), rng)
    X32, Y32 = X.astype(np.float32), Y.astype(np.float32)
    d32 = quotient_distance(X32, Y32, action)
    assert d32.dtype == np.float32
    np.testing.assert_allclose(
        d32, quotient_distance(X32.astype(float), Y32.astype(float), action), rtol=1e-5
    )
    D32 = pairwise_quotient_distances(X32, action=action)
    assert D32.dtype == np.float32
    res = align(X32, Y32, action)
    assert res.Y_aligned.dtype == np.float32 and res.distance.dtype == np.float32


@pytest.mark.parametrize(
    "action", [SO2("1x0 + 2x1 + 1x3"), Cyclic(6, "1xregular + 1x3"), Permutation(4)], ids=repr
)
def test_torch_in_torch_out_agrees_with_numpy(action):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    X, Y = _random(action, (5,), rng), _random(action, (5,), rng)
    Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)
    d_t = quotient_distance(Xt, Yt, action)
    assert isinstance(d_t, torch.Tensor)
    np.testing.assert_allclose(d_t.numpy(), quotient_distance(X, Y, action), atol=1e-12)
    D_t = pairwise_quotient_distances(Xt, action=action)
    assert isinstance(D_t, torch.Tensor)
    np.testing.assert_allclose(
        D_t.numpy(), pairwise_quotient_distances(X, action=action), atol=1e-12
    )
    res = align(Xt.float(), Yt.float(), action)
    assert isinstance(res.Y_aligned, torch.Tensor) and res.Y_aligned.dtype == torch.float32
    dist, idx = quotient_knn(Xt, 2, action=action)
    assert isinstance(dist, torch.Tensor)
    np.testing.assert_allclose(dist.numpy(), quotient_knn(X, 2, action=action)[0], atol=1e-12)
    value, _ = max_inner_product(Xt, Yt, action)
    assert isinstance(value, torch.Tensor)


def test_align_docstring_example():
    res = align(np.array([1.0, 0.0]), np.array([0.0, 1.0]), SO2("1x1"))
    assert float(res.distance) == pytest.approx(0.0, abs=1e-12)
    assert float(res.g) == pytest.approx(3 * np.pi / 2, abs=1e-9)


# -- bad inputs -------------------------------------------------------------------------------


def test_shape_mismatch_names_expected_and_received():
    rho = SO2("1x0 + 1x1")
    with pytest.raises(ValueError, match="dim 3 but Y.shape"):
        quotient_distance(np.zeros(3), np.zeros(4), rho)
    with pytest.raises(ValueError, match="do not broadcast"):
        quotient_distance(np.zeros((2, 3)), np.zeros((3, 3)), rho)
    with pytest.raises(ValueError, match="n_nodes 4"):
        quotient_distance(np.zeros((4, 2)), np.zeros((5, 2)), Permutation(4))
    with pytest.raises(ValueError, match="same number of channels"):
        quotient_distance(np.zeros((4, 2)), np.zeros((4, 3)), Permutation(4))
    with pytest.raises(ValueError, match="flat batch"):
        pairwise_quotient_distances(np.zeros((2, 2, 3)), action=rho)
    with pytest.raises(ValueError, match="same number of channels"):
        pairwise_quotient_distances(np.zeros((2, 4, 2)), np.zeros((2, 4, 3)), action=Permutation(4))


def test_nan_and_inf_are_rejected():
    rho = SO2("1x1")
    X = np.array([[np.nan, 0.0]])
    with pytest.raises(ValueError, match="finite"):
        quotient_distance(X, np.zeros((1, 2)), rho)
    with pytest.raises(ValueError, match="finite"):
        pairwise_quotient_distances(np.array([[np.inf, 0.0], [0.0, 1.0]]), action=rho)
    with pytest.raises(ValueError, match="finite"):
        quotient_knn(np.array([[0.0, 1.0], [np.nan, 1.0]]), 1, action=rho)


def test_bad_masks_methods_and_parameters():
    X = np.zeros((3, 4, 2))
    with pytest.raises(ValueError, match=r"node mask must have shape \(3, 4\)"):
        quotient_distance(X, X, Permutation(4), x_mask=np.ones((3, 5), bool))
    with pytest.raises(TypeError, match="boolean"):
        quotient_distance(X, X, Permutation(4), x_mask=np.full((3, 4), 0.5))
    with pytest.raises(ValueError, match="node sets only"):
        quotient_distance(np.zeros(2), np.zeros(2), SO2("1x1"), x_mask=np.ones(2, bool))
    with pytest.raises(ValueError, match="method must be one of"):
        quotient_distance(np.zeros(2), np.zeros(2), SO2("1x1"), method="fast")
    with pytest.raises(ValueError, match="method must be one of"):
        pairwise_quotient_distances(np.zeros((2, 2)), action=SO2("1x1"), method="grid")
    with pytest.raises(ValueError, match="batch_size"):
        pairwise_quotient_distances(np.zeros((2, 2)), action=SO2("1x1"), batch_size=0)
    with pytest.raises(ValueError, match=r"k must be an int in 1\.\.2"):
        quotient_knn(np.zeros((3, 2)), 3, action=SO2("1x1"))
    with pytest.raises(ValueError, match="k must be"):
        quotient_knn(np.zeros((3, 2)), 0, action=SO2("1x1"))
    with pytest.raises(ValueError, match="y_mask is given but Y is None"):
        pairwise_quotient_distances(X, action=Permutation(4), y_mask=np.ones((3, 4), bool))


def test_action_given_as_string():
    rng = np.random.default_rng(8)
    X, Y = rng.normal(size=(3, 6)), rng.normal(size=(3, 6))
    np.testing.assert_allclose(
        quotient_distance(X, Y, "SO2('2x0 + 2x1')"), quotient_distance(X, Y, SO2("2x0 + 2x1"))
    )


@pytest.mark.parametrize("action", [SO2("1x0 + 2x1 + 1x2"), Permutation(4)], ids=repr)
def test_threads_give_the_same_matrix(action):
    rng = np.random.default_rng(9)
    X, Y = _random(action, (30,), rng), _random(action, (20,), rng)
    D1 = pairwise_quotient_distances(X, Y, action=action, batch_size=50)
    D2 = pairwise_quotient_distances(X, Y, action=action, batch_size=50, n_jobs=2)
    np.testing.assert_array_equal(D1, D2)
    S = pairwise_quotient_distances(X, action=action, batch_size=40, n_jobs=-1)
    np.testing.assert_array_equal(S, pairwise_quotient_distances(X, action=action, batch_size=40))
    with pytest.raises(ValueError, match="n_jobs"):
        pairwise_quotient_distances(X, action=action, n_jobs=0)


@pytest.mark.parametrize("action", ACTIONS, ids=repr)
def test_align_reports_the_solvers_certificate(action):
    """The certificate is the solver's per-pair gap in the batch shape; exact solvers give 0."""
    rng = np.random.default_rng(3)
    X, Y = _random(action, (4, 1), rng), _random(action, (3,), rng)
    res = align(X, Y, action)
    cert = np.asarray(res.certificate)
    assert cert.shape == (4, 3) == np.shape(res.distance)
    assert res.certified is find_solver(action).certified is True
    assert np.all(cert >= 0)
    if solver_info(action).name != "certified trigonometric maximisation":
        assert np.all(cert == 0)  # combinatorial solvers: enumeration, assignment
    # the certificate bounds the gap to the exhaustive oracle's value
    value = np.asarray(max_inner_product(X, Y, action)[0])
    slow = np.asarray(max_inner_product(X, Y, action, method="exhaustive")[0])
    assert np.all(slow <= value + cert + 1e-9 * (1 + np.abs(slow)))


def test_align_certificate_is_unchanged_output_for_old_fields():
    """Adding the certificate keeps g, Y_aligned and distance exactly as quotient_distance."""
    rng = np.random.default_rng(4)
    rho = SO2("1x0 + 2x1 + 1x3")
    X, Y = rng.normal(size=(6, rho.dim)), rng.normal(size=(6, rho.dim))
    res = align(X, Y, rho)
    np.testing.assert_array_equal(res.distance, quotient_distance(X, Y, rho))
    np.testing.assert_array_equal(res.Y_aligned, rho.act(res.g, Y))


@pytest.mark.parametrize("action", ACTIONS, ids=repr)
def test_exhaustive_is_certified_only_for_enumerated_finite_groups(action):
    rng = np.random.default_rng(5)
    X, Y = _random(action, (3,), rng), _random(action, (3,), rng)
    res = align(X, Y, action, method="exhaustive")
    cert = np.asarray(res.certificate)
    assert res.certified is action.is_finite
    assert cert.shape == (3,)
    assert np.all(cert == 0) if action.is_finite else np.all(np.isinf(cert))


def test_solver_info_names_the_registered_solver():
    assert solver_info(Permutation(4)) == SolverInfo("linear assignment", True)
    assert solver_info("Cyclic(8, '1xregular')") == SolverInfo("Fourier enumeration", True)
    assert solver_info(SO2("1x1")).name == "certified trigonometric maximisation"
    assert solver_info(FiniteGroup.from_action(Cyclic(2, "1x1"))).certified


@pytest.mark.parametrize("action", ACTIONS, ids=repr)
def test_knn_is_exact_with_the_registered_lower_bound(action):
    """Every action takes the pruned path (its registered bound, or the norm) and agrees with
    the full matrix, ties included."""
    rng = np.random.default_rng(6)
    base = _random(action, (6,), rng)
    g = action.sample(30, random_state=1)
    X = np.asarray(action.act(g, np.repeat(base, 5, axis=0))) + 0.01 * _random(action, (30,), rng)
    D = np.asarray(pairwise_quotient_distances(X, action=action, method="exhaustive"))
    np.fill_diagonal(D, np.inf)
    dist, idx = quotient_knn(X, 4, action=action)
    np.testing.assert_allclose(dist, np.sort(D, axis=1)[:, :4], atol=1e-9)
    np.testing.assert_allclose(np.take_along_axis(D, idx, 1), dist, atol=1e-9)
