"""Diagnostics against hand-computable cases: invariance error, distortion, probes."""

from __future__ import annotations

import numpy as np
import pytest

from orbitspace import SO2, FiniteGroup, Permutation
from orbitspace.diagnostics import (
    Distortion,
    InvarianceError,
    ProbeResult,
    distortion,
    invariance_error,
    probe,
)
from orbitspace.quotient import pairwise_quotient_distances


def raw(Z):
    return np.asarray(Z).reshape(len(Z), -1)


def sort_d1(Z):
    """Sorting the single channel: an isometric cross-section for S_n, d = 1."""
    return np.sort(np.asarray(Z)[..., 0], axis=1)


def channel_sort(Z):
    """Sort each channel separately: invariant but not injective for d >= 2."""
    return np.sort(np.asarray(Z), axis=-2).reshape(len(Z), -1)


def so2_norms(Z):
    """Block norms for SO2('1x0 + 2x1'): invariant, 1-Lipschitz."""
    Z = np.asarray(Z)
    return np.stack(
        [np.abs(Z[:, 0]), np.linalg.norm(Z[:, 1:3], axis=1), np.linalg.norm(Z[:, 3:5], axis=1)],
        axis=1,
    )


# -- invariance error --------------------------------------------------------------------------


def test_invariant_map_has_zero_invariance_error():
    X = np.random.default_rng(0).normal(size=(30, 5, 1))
    err = invariance_error(sort_d1, X, Permutation(5), random_state=1)
    assert isinstance(err, InvarianceError)
    assert err.max_abs == 0.0 and err.max_rel == 0.0


def test_so2_norms_invariant_to_rounding():
    X = np.random.default_rng(0).normal(size=(30, 5))
    err = invariance_error(so2_norms, X, SO2("1x0 + 2x1"), random_state=1)
    assert err.max_abs < 1e-12


def test_identity_on_raw_codes_is_not_invariant():
    X = np.random.default_rng(0).normal(size=(30, 5))
    err = invariance_error(raw, X, SO2("1x0 + 2x1"), n_group_samples=4, random_state=0)
    assert err.max_abs > 0.5 and err.mean_abs > 0.1
    assert 0 < err.mean_rel <= err.max_rel <= 2.0 + 1e-12  # ‖gx − x‖ <= 2‖x‖
    assert err.mean_abs <= err.max_abs
    assert set(err.to_dict()) == {"max_abs", "mean_abs", "max_rel", "mean_rel"}


def test_sign_flip_raw_error_is_exactly_twice_the_norm_when_flipped():
    # FiniteGroup {I, -I}: ‖-x - x‖ = 2‖x‖; rel error is 0 or 2
    G = FiniteGroup([np.eye(3), -np.eye(3)])
    X = np.random.default_rng(3).normal(size=(50, 3))
    err = invariance_error(raw, X, G, n_group_samples=8, random_state=0)
    assert err.max_rel == pytest.approx(2.0)
    assert 0.5 < err.mean_rel < 1.5


def test_invariance_error_is_reproducible_and_passes_mask():
    X = np.random.default_rng(0).normal(size=(10, 4, 2))
    mask = np.ones((10, 4), bool)
    mask[:, 3] = False
    seen = []

    def masked_sum(Z, mask):
        seen.append(mask.copy())
        return (np.asarray(Z) * mask[..., None]).sum(1)

    e1 = invariance_error(masked_sum, X, Permutation(4), mask=mask, random_state=5)
    e2 = invariance_error(masked_sum, X, Permutation(4), mask=mask, random_state=5)
    assert e1 == e2
    assert e1.max_abs < 1e-12  # the mask travels with the permuted nodes
    assert any(not np.array_equal(m, mask) for m in seen[1:])


def test_invariance_error_rejects_bad_input():
    X = np.zeros((4, 3))
    with pytest.raises(ValueError, match="dim 5 but X.shape"):
        invariance_error(raw, X, SO2("1x0 + 2x1"))
    with pytest.raises(TypeError, match="callable"):
        invariance_error("sort", X, FiniteGroup([np.eye(3)]))
    with pytest.raises(ValueError, match="one row per sample"):
        invariance_error(lambda Z: np.zeros((2, 1)), X, FiniteGroup([np.eye(3)]))


def test_invariance_error_accepts_torch():
    torch = pytest.importorskip("torch")
    X = torch.randn(8, 4, 1, dtype=torch.float64)

    def fn(Z):
        assert isinstance(Z, torch.Tensor)
        return torch.sort(Z[..., 0], dim=1).values

    assert invariance_error(fn, X, Permutation(4), random_state=0).max_abs == 0.0


# -- distortion --------------------------------------------------------------------------------


def test_isometric_map_has_unit_ratios_and_full_recall():
    X = np.random.default_rng(0).normal(size=(60, 5, 1))
    res = distortion(sort_d1(X), X, Permutation(5), k=5, random_state=0)
    assert isinstance(res, Distortion)
    assert res.lower == pytest.approx(1.0, abs=1e-9)
    assert res.upper == pytest.approx(1.0, abs=1e-9)
    assert res.ratio_quantiles["q50"] == pytest.approx(1.0)
    assert res.knn_recall == 1.0
    assert res.spearman == pytest.approx(1.0)
    assert res.collision_rate == 0.0
    assert res.n_pairs == 60 * 59 // 2


def test_raw_codes_on_augmented_data_have_upper_ratio_above_one():
    # every point appears in 3 poses: raw distances exceed quotient distances
    rng = np.random.default_rng(1)
    G = SO2("1x0 + 2x1")
    base = rng.normal(size=(20, 5))
    X = np.concatenate([G.act(G.sample(20, rng), base) for _ in range(3)])
    D = np.asarray(pairwise_quotient_distances(X, action=G))
    res = distortion(raw(X), X, G, k=2, random_state=0, quotient_distances=D)
    assert res.lower >= 1.0 - 1e-9  # ‖x − y‖ >= min_g ‖x − ρ(g) y‖
    assert res.upper > 1.5
    assert res.knn_recall < 1.0  # the other poses of a point are its quotient neighbours


def test_block_norms_are_one_lipschitz():
    X = np.random.default_rng(2).normal(size=(40, 5))
    res = distortion(so2_norms(X), X, SO2("1x0 + 2x1"), n_pairs=300, random_state=0)
    assert res.upper <= 1.0 + 1e-9
    assert res.lower < res.ratio_quantiles["q05"] <= res.ratio_quantiles["q95"] <= res.upper


def hard_pairs(n_pairs, rng):
    """X = [[a, b], [c, d]] and Y = [[a, d], [c, b]]: different orbits, same channel sort."""
    a, b, c, d = rng.normal(size=(4, n_pairs))
    X = np.stack([np.stack([a, b], -1), np.stack([c, d], -1)], 1)
    Y = np.stack([np.stack([a, d], -1), np.stack([c, b], -1)], 1)
    return np.concatenate([X, Y])


def test_channel_sort_collides_on_hard_pairs():
    X = hard_pairs(8, np.random.default_rng(0))
    G = Permutation(2)
    res = distortion(channel_sort(X), X, G, k=1, random_state=0)
    # all 16 * 15 / 2 = 120 pairs are used; exactly the 8 hard pairs collide
    assert res.n_pairs == 120
    assert res.collision_rate == pytest.approx(8 / 120)
    assert res.lower == pytest.approx(0.0, abs=1e-12)
    # lexicographic row sort is injective: no collisions on the same data
    lex = np.stack([x[np.lexsort(x.T[::-1])] for x in X]).reshape(len(X), -1)
    assert distortion(lex, X, G, k=1, random_state=0).collision_rate == 0.0


def test_distortion_precomputed_matches_computed():
    X = np.random.default_rng(4).normal(size=(25, 3, 2))
    G = Permutation(3)
    F = channel_sort(X)
    D = pairwise_quotient_distances(X, action=G)
    a = distortion(F, X, G, k=3, random_state=7)
    b = distortion(F, X, G, k=3, random_state=7, quotient_distances=D)
    assert a.lower == pytest.approx(b.lower)
    assert a.upper == pytest.approx(b.upper)
    assert a.knn_recall == b.knn_recall
    assert a.spearman == pytest.approx(b.spearman)


def test_distortion_random_pairs_and_query_subset():
    X = np.random.default_rng(5).normal(size=(50, 4, 1))
    res = distortion(
        sort_d1(X), X, Permutation(4), n_pairs=100, k=3, max_queries=10, random_state=0
    )
    assert res.n_pairs == 100 and res.n_queries == 10
    assert res.knn_recall == 1.0
    d = res.to_dict()
    assert d["ratio_quantiles"].keys() == {"q05", "q50", "q95"}


def test_distortion_rejects_mismatched_shapes():
    X = np.zeros((5, 3, 1))
    with pytest.raises(ValueError, match="5 rows"):
        distortion(np.zeros((4, 2)), X, Permutation(3))
    with pytest.raises(ValueError, match=r"shape \(5, 5\)"):
        distortion(np.zeros((5, 2)), X, Permutation(3), quotient_distances=np.zeros((4, 4)))


# -- probes ------------------------------------------------------------------------------------


def test_probe_separable_vs_random_labels():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 20)
    F = rng.normal(size=(60, 4)) * 0.3 + np.eye(3, 4)[y] * 3
    res = probe(F, y, cv=3, random_state=0)
    assert isinstance(res, ProbeResult)
    for name in ("linear", "knn", "mlp"):
        assert res.scores[name]["accuracy"][0] >= 0.95
    y_rand = rng.permutation(y)
    chance = probe(F, y_rand, probes=("linear", "knn"), cv=3, random_state=0)
    for name in ("linear", "knn"):
        assert chance.scores[name]["accuracy"][0] < 0.6
    assert "linear" in res.table() and "±" in res.table()
    assert res.to_dict()["scores"]["knn"]["accuracy"]["mean"] == res.scores["knn"]["accuracy"][0]


def test_probe_regression_reports_r2_and_mae():
    rng = np.random.default_rng(1)
    F = rng.normal(size=(80, 3))
    y = F @ np.array([1.0, -2.0, 0.5])
    res = probe(F, y, task="regression", probes=("linear",), cv=4, random_state=0)
    r2, _ = res.scores["linear"]["r2"]
    mae, _ = res.scores["linear"]["mae"]
    assert r2 > 0.99 and 0 <= mae < 0.1
    noise = probe(F, rng.normal(size=80), task="regression", probes=("linear",), random_state=0)
    assert noise.scores["linear"]["r2"][0] < 0.2


def test_probe_scaling_happens_inside_the_pipeline():
    # a feature scaled by 1e6 would swamp k-NN without standardisation
    rng = np.random.default_rng(2)
    y = np.repeat([0, 1], 30)
    F = np.stack([rng.normal(size=60) * 1e6, y + 0.1 * rng.normal(size=60)], 1)
    assert probe(F, y, probes=("knn",), cv=3, random_state=0).scores["knn"]["accuracy"][0] > 0.9


def test_probe_is_reproducible_and_validates():
    rng = np.random.default_rng(3)
    F, y = rng.normal(size=(30, 2)), np.repeat([0, 1], 15)
    a = probe(F, y, probes=("mlp",), cv=3, random_state=4)
    b = probe(F, y, probes=("mlp",), cv=3, random_state=4)
    assert a.fold_scores == b.fold_scores
    with pytest.raises(ValueError, match="task"):
        probe(F, y, task="ranking")
    with pytest.raises(ValueError, match="probes"):
        probe(F, y, probes=("svm",))
    with pytest.raises(ValueError, match=r"y must have shape \(30,\)"):
        probe(F, y[:10])


def test_diagnostics_import_no_sklearn():
    import subprocess
    import sys

    code = "import sys, orbitspace.diagnostics; print('sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- with the maps of orbitspace.invariants ----------------------------------------------------

REGISTRY_CASES = [
    (Permutation(4), "sort", 1),
    (Permutation(4), "channel_sort", 2),
    (Permutation(4), "sorted_projections", 2),
    (Permutation(4), "align_to_reference", 2),
    (SO2("1x0 + 2x1 + 1x2"), "max_filter", None),
    (SO2("1x0 + 2x1 + 1x2"), "norms", None),
]


def fitted_map(action, method, X):
    from orbitspace.invariants import get_map

    imap = get_map(method)
    params = imap.fit(X, action, random_state=0)
    return lambda Z: imap.transform(Z, action, params)


@pytest.mark.parametrize(("action", "method", "d"), REGISTRY_CASES, ids=str)
def test_registry_maps_invariant_and_within_declared_lipschitz(action, method, d):
    from orbitspace.invariants import get_map

    rng = np.random.default_rng(11)
    X = rng.normal(size=(30, action.n_nodes, d)) if d else rng.normal(size=(30, action.dim))
    fn = fitted_map(action, method, X)
    assert invariance_error(fn, X, action, n_group_samples=3, random_state=0).max_rel < 1e-6
    props = get_map(method).properties(action, d=d)
    res = distortion(fn(X), X, action, k=3, random_state=0)
    if props.lipschitz is not None:
        assert res.upper <= props.lipschitz + 1e-6
    if props.isometric:
        assert res.lower == pytest.approx(1.0) and res.knn_recall == 1.0
    raw_err = invariance_error(raw, X, action, n_group_samples=3, random_state=0)
    assert raw_err.max_rel > 0.1


def test_registry_channel_sort_collides_on_the_hard_pair():
    from orbitspace.invariants import channel_sort as registry_channel_sort

    X = np.concatenate(
        [
            [[[0.0, 0.0], [1.0, 1.0]]],
            [[[0.0, 1.0], [1.0, 0.0]]],
            hard_pairs(3, np.random.default_rng(1)),
        ]
    )
    F = np.asarray(registry_channel_sort(X)).reshape(len(X), -1)
    res = distortion(F, X, Permutation(2), k=1, random_state=0)
    assert res.collision_rate > 0
    assert res.collision_rate == pytest.approx(4 / (8 * 7 / 2))


def test_distortion_mask_equals_zeroed_padding():
    rng = np.random.default_rng(12)
    X = rng.normal(size=(20, 4, 1))
    mask = np.ones((20, 4), bool)
    mask[::2, 3] = False
    X_zero = np.where(mask[..., None], X, 0.0)
    X_garbage = np.where(mask[..., None], X, 50.0)
    F = sort_d1(X_zero)
    a = distortion(F, X_garbage, Permutation(4), k=3, mask=mask, random_state=0)
    b = distortion(F, X_zero, Permutation(4), k=3, random_state=0)
    assert a.to_dict() == b.to_dict()
    assert a.lower == pytest.approx(1.0) and a.upper == pytest.approx(1.0)
