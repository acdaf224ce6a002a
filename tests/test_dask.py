"""The Dask path (orbitspace.interop.dask) equals the in-memory one, on a real LocalCluster with
two worker processes started here; zarr stores round-trip."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("dask")
pytest.importorskip("distributed")
pytest.importorskip("zarr")

import dask  # noqa: E402
import dask.array as da  # noqa: E402

import orbitspace as osp  # noqa: E402
from orbitspace.interop import dask as odask  # noqa: E402

RHO = osp.SO2("2x0 + 3x1 + 1x2")
PERM = osp.Permutation(5)


@pytest.fixture(scope="module")
def client():
    """A real LocalCluster(n_workers=2, processes=True, threads_per_worker=1), from
    ``odask.local_cluster`` (which leaves out distributed's MALLOC_TRIM_THRESHOLD_)."""
    from distributed import Client

    cluster = odask.local_cluster(2)
    client = Client(cluster)
    try:
        here = osp.__file__
        there = set(client.run(lambda: __import__("orbitspace").__file__).values())
        if there != {here}:
            pytest.fail(f"workers import orbitspace from {there}, the test from {here}")
        env = client.run(lambda: __import__("os").environ.get("MALLOC_TRIM_THRESHOLD_"))
        assert list(env.values()) == [None, None], env
        info = client.scheduler_info()["workers"].values()
        assert len(info) == 2 and all(w["nthreads"] == 1 for w in info)
        assert len(set(client.run(__import__("os").getpid).values())) == 2  # two processes
        yield client
    finally:
        client.close()
        cluster.close()


def clustered(n, action, seed, n_centres=6):
    """Codes around a few centres, each moved by a random group element, plus exact duplicates
    (ties in the k-NN)."""
    rng = np.random.default_rng(seed)
    shape = (action.dim,) if action.event_ndim == 1 else (action.dim, 2)
    centres = rng.standard_normal((n_centres,) + shape) * 3
    Z = centres[rng.integers(n_centres, size=n)] + 0.3 * rng.standard_normal((n,) + shape)
    Z = np.asarray(action.act(action.sample(n, random_state=seed + 1), Z))
    Z[-5:] = Z[:5]  # duplicates
    return Z


VECTOR_CASES = [
    ("norms", {}),
    ("power_spectrum", {}),
    ("max_filter", {"n_templates": 7}),
    ("align_to_reference", {"n_references": 2}),
    ("align_to_reference", {"reference": "data", "n_references": 3}),
    ("align_to_reference", {"reference": "mean"}),
]


@pytest.mark.parametrize("method,options", VECTOR_CASES)
def test_invariant_features_equal_in_memory(client, method, options):
    X = clustered(700, RHO, 0)
    F = odask.invariant_features(
        da.from_array(X, chunks=160), RHO, method, random_state=3, client=client, **options
    )
    assert F.chunks[0] == (160, 160, 160, 160, 60)
    expected = osp.invariant_features(X, RHO, method, random_state=3, **options)
    np.testing.assert_array_equal(F.compute(), expected)


@pytest.mark.parametrize(
    "method,options",
    [
        ("sorted_projections", {}),
        ("channel_sort", {}),
        ("align_to_reference", {"reference": "data", "n_references": 2}),
        ("align_to_reference", {"reference": "mean"}),
    ],
)
def test_node_latents_with_masks_equal_in_memory(client, method, options):
    X = clustered(300, PERM, 1)
    mask = np.random.default_rng(2).random((300, 5)) > 0.2
    F = odask.invariant_features(
        da.from_array(X, chunks=(70, 5, 2)),
        PERM,
        method,
        mask=da.from_array(mask, chunks=(70, 5)),
        random_state=5,
        **options,  # no client given: the running one is found
    )
    expected = osp.invariant_features(X, PERM, method, random_state=5, mask=mask, **options)
    np.testing.assert_array_equal(F.compute(), expected)


def _held(client):
    return {w: set(keys) for w, keys in client.has_what().items()}


def test_parameters_are_broadcast_once_to_every_worker(client):
    X = da.from_array(clustered(300, RHO, 16), chunks=50)
    before = _held(client)
    F = odask.invariant_features(X, RHO, "max_filter", random_state=0, client=client)
    new = [keys - before.get(w, set()) for w, keys in _held(client).items()]
    assert len(new) == 2 and len(new[0]) == 1 and new[0] == new[1], new  # one object, on both
    F.compute()
    dist, idx = odask.quotient_knn(X, 3, action=RHO, client=client)
    held = _held(client)
    new = [keys - before.get(w, set()) for w, keys in held.items()]
    assert all(len(n) == 2 for n in new) and new[0] == new[1], new  # + the reference set
    del F, dist, idx


def test_cyclic_group_pool_and_sync_scheduler():
    """With client=False the parameters travel as a delayed key: any scheduler computes it."""
    act = osp.Cyclic(4, "3xregular + 1x1")
    X = clustered(90, act, 4)
    for method in ("group_pool", "align_to_reference"):
        F = odask.invariant_features(
            da.from_array(X, chunks=25), act, method, random_state=0, client=False
        )
        expected = osp.invariant_features(X, act, method, random_state=0)
        np.testing.assert_array_equal(F.compute(scheduler="sync"), expected)


@pytest.mark.parametrize(
    "method,options",
    [("max_filter", {}), ("align_to_reference", {"reference": "data", "n_references": 2})],
)
def test_project_fits_like_the_estimator(client, method, options):
    pytest.importorskip("sklearn")
    from orbitspace.estimators import InvariantProjection

    X = clustered(500, RHO, 6)
    est = InvariantProjection(RHO, method=method, random_state=7, **options)
    F = odask.project(
        da.from_array(X, chunks=((1,) + (120,) * 4 + (19,), (10,))), est, client=client
    )
    ref = InvariantProjection(RHO, method=method, random_state=7, **options).fit(X)
    for key, value in ref.params_.items():
        np.testing.assert_array_equal(est.params_[key], value)
    np.testing.assert_array_equal(F.compute(), ref.transform(X))
    # already fitted: transform only, on other codes
    X2 = clustered(130, RHO, 8)
    np.testing.assert_array_equal(
        odask.project(da.from_array(X2, chunks=50), est).compute(), ref.transform(X2)
    )


def test_project_flat_node_latents(client):
    pytest.importorskip("sklearn")
    from orbitspace.estimators import InvariantProjection

    X = clustered(200, PERM, 9).reshape(200, 10)  # flat rows: 5 nodes of 2 channels
    est = InvariantProjection(PERM, method="align_to_reference", reference="mean")
    F = odask.project(da.from_array(X, chunks=64), est)
    ref = InvariantProjection(PERM, method="align_to_reference", reference="mean").fit(X)
    np.testing.assert_array_equal(F.compute(), ref.transform(X))


@pytest.mark.parametrize("action", [RHO, PERM], ids=repr)
def test_knn_self_search_equals_in_memory(client, action):
    X = clustered(400, action, 10)
    k = 7
    dist, idx = odask.quotient_knn(da.from_array(X, chunks=90), k, action=action, client=client)
    dist, idx = dask.compute(dist, idx)
    ref_d, ref_i = osp.quotient_knn(X, k, action=action)
    assert idx.dtype == np.int64 and dist.shape == (400, k)
    np.testing.assert_array_equal(idx, ref_i)
    np.testing.assert_array_equal(dist, ref_d)
    assert not (idx == np.arange(400)[:, None]).any()


def test_knn_against_a_reference_set(client):
    X = clustered(350, RHO, 11)
    Y = clustered(260, RHO, 12)
    dist, idx = odask.quotient_knn(da.from_array(X, chunks=100), 5, action=RHO, Y=Y)
    dist, idx = dask.compute(dist, idx)
    ref_d, ref_i = osp.quotient_knn(X, 5, action=RHO, Y=Y)
    np.testing.assert_array_equal(idx, ref_i)
    np.testing.assert_array_equal(dist, ref_d)


def test_knn_brute_force_twin():
    """The block-wise search also equals the exhaustive oracle (ties aside: none here)."""
    X = np.random.default_rng(13).standard_normal((60, RHO.dim))
    dist, idx = odask.quotient_knn(da.from_array(X, chunks=17), 3, action=RHO, client=False)
    dist, idx = dask.compute(dist, idx, scheduler="sync")
    ref_d, ref_i = osp.quotient_knn(X, 3, action=RHO, method="exhaustive")
    np.testing.assert_array_equal(idx, ref_i)
    np.testing.assert_allclose(dist, ref_d, atol=1e-6)


def test_zarr_round_trip_and_features_store(client, tmp_path):
    X = clustered(250, PERM, 14)
    mask = np.random.default_rng(15).random((250, 5)) > 0.3
    store = tmp_path / "codes.zarr"
    odask.save_codes_zarr(store, X, action=PERM, mask=mask, rows=64)
    codes, m, action = odask.open_codes_zarr(store)
    assert action == PERM and codes.chunks[0] == (64, 64, 64, 58)
    np.testing.assert_array_equal(codes.compute(), X)
    np.testing.assert_array_equal(m.compute(), mask)
    with pytest.raises(FileExistsError, match="exists already"):
        odask.save_codes_zarr(store, X)
    import zarr  # a zarr array is read block-wise as it is (its own chunks)

    Fz = odask.invariant_features(zarr.open_array(store / "codes", mode="r"), PERM, "channel_sort")
    assert Fz.chunks[0] == (64, 64, 64, 58)
    np.testing.assert_array_equal(Fz.compute(), osp.invariant_features(X, PERM, "channel_sort"))
    F = odask.invariant_features(codes, action, "sorted_projections", mask=m, random_state=0)
    out = odask.save_zarr(tmp_path / "feats.zarr", F)
    back = da.from_zarr(out, component="features").compute()
    np.testing.assert_array_equal(
        back, osp.invariant_features(X, PERM, "sorted_projections", random_state=0, mask=mask)
    )
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no partial folders


def test_bad_input_is_rejected_before_any_work():
    X = da.zeros((10, RHO.dim + 1), chunks=5)
    with pytest.raises(
        ValueError, match=r"has dim 10 but X.shape\[-1\] is 11 \(X has shape \(10, 11\)\)"
    ):
        odask.invariant_features(X, RHO, "norms")
    with pytest.raises(ValueError, match="must have 2 axes"):
        odask.invariant_features(da.zeros((10, 3, RHO.dim), chunks=5), RHO, "norms")
    with pytest.raises(TypeError, match="unknown option"):
        odask.invariant_features(da.zeros((10, RHO.dim), chunks=5), RHO, "norms", n_templates=3)
    with pytest.raises(TypeError, match="real numbers"):
        odask.invariant_features(da.from_array(np.array([["a"] * 9])), RHO, "norms")
    with pytest.raises(ValueError, match=r"k must be an int in 1\.\.9; received 10"):
        odask.quotient_knn(da.zeros((10, RHO.dim), chunks=5), 10, action=RHO)
    with pytest.raises(ValueError, match="node masks apply"):
        odask.invariant_features(da.zeros((4, RHO.dim)), RHO, "norms", mask=np.ones((4, 9)))
    with pytest.raises(ValueError, match=r"mask must have shape \(4, 5\)"):
        odask.invariant_features(da.zeros((4, 5, 1)), PERM, "sort", mask=np.ones((4, 4)))
    with pytest.raises(FileNotFoundError, match="no zarr store"):
        odask.open_codes_zarr("/nonexistent/codes.zarr")
