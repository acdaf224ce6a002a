"""InvariantProjection: scikit-learn contract, method options as parameters, invariance.

check_estimator feeds flat 2-D data of many widths; ``Permutation(1)`` (one node carrying all
features, the trivial group) is the action that reads every width.  Invariance under real
groups is tested separately below.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from orbitspace import SO2, Cyclic, Permutation
from orbitspace.estimators import DATA_FREE_METHODS, InvariantProjection
from orbitspace.groups import Product
from orbitspace.invariants import REGISTRY, available_methods, get_map, invariant_features


@parametrize_with_checks(
    [
        InvariantProjection(Permutation(1), random_state=0),
        InvariantProjection("Permutation(1)", reference="data", random_state=0),
        InvariantProjection(Permutation(1), method="max_filter", n_templates=3, random_state=0),
        InvariantProjection(Permutation(1), method="sorted_projections", n_projections=4),
        InvariantProjection(Permutation(1), method="channel_sort"),
        InvariantProjection(Permutation(1), method="node_pool", reduction="max"),
    ]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def latents(action, n, rng, d=2):
    return rng.normal(size=(n,) + tuple(d if s is None else s for s in action.event_shape))


CASES = [
    (Permutation(4), "align_to_reference", {"n_references": 2}),
    (Permutation(4), "sorted_projections", {"n_projections": 5}),
    (Permutation(4), "lexsort", {}),
    (SO2("1x0 + 2x1 + 1x3"), "align_to_reference", {}),
    (SO2("1x0 + 2x1 + 1x3"), "max_filter", {"n_templates": 6}),
    (SO2("1x0 + 2x1 + 1x3"), "bispectrum", {}),
    (Cyclic(6, "1xregular + 1x1"), "group_pool", {"reduction": "mean"}),
]


@pytest.mark.parametrize(("action", "method", "options"), CASES, ids=str)
def test_projection_is_invariant_and_matches_the_registry(action, method, options):
    rng = np.random.default_rng(0)
    X = latents(action, 20, rng)
    proj = InvariantProjection(action, method=method, random_state=3, **options).fit(X)
    F = proj.transform(X)
    assert F.ndim == 2 and F.shape[0] == 20
    assert F.shape[1] == proj.properties_.output_dim
    Xg = np.asarray(action.act(action.sample(20, rng), X))
    np.testing.assert_allclose(proj.transform(Xg), F, atol=1e-6)
    ref = invariant_features(X, action, method, random_state=3, **options)
    np.testing.assert_allclose(F, np.asarray(ref).reshape(20, -1), atol=1e-12)


def test_node_latents_and_flat_input_give_the_same_features():
    action = Permutation(3)
    X = latents(action, 12, np.random.default_rng(1), d=2)
    flat = X.reshape(12, 6)
    a = InvariantProjection(action, method="sorted_projections", random_state=0).fit(X)
    b = clone(a).fit(flat)
    assert a.n_features_in_ == b.n_features_in_ == 6
    np.testing.assert_allclose(a.transform(X), b.transform(flat))
    np.testing.assert_allclose(a.transform(flat), a.transform(X))
    with pytest.raises(ValueError, match="multiple of 3"):
        InvariantProjection(action).fit(np.zeros((4, 7)))
    with pytest.raises(ValueError, match="3 axes"):
        InvariantProjection(action, random_state=0).fit(X).transform(np.zeros((2, 3, 2, 1)))
    with pytest.raises(ValueError, match="n_nodes 3"):
        InvariantProjection(action, random_state=0).fit(X).transform(np.zeros((2, 2, 3)))


def test_options_survive_get_params_set_params_and_clone():
    proj = InvariantProjection("SO2('2x1')", method="max_filter", n_templates=7, random_state=1)
    params = proj.get_params()
    assert params == {
        "action": "SO2('2x1')",
        "method": "max_filter",
        "random_state": 1,
        "n_templates": 7,
    }
    twin = clone(proj)
    assert twin.get_params() == params
    twin.set_params(n_templates=3, random_state=2)
    assert twin.get_params()["n_templates"] == 3 and proj.get_params()["n_templates"] == 7
    X = latents(SO2("2x1"), 10, np.random.default_rng(2))
    assert twin.fit(X).transform(X).shape == (10, 3)
    assert "n_templates=7" in repr(proj)


def test_options_tune_in_a_grid_search():
    action = Permutation(3)
    rng = np.random.default_rng(3)
    X = latents(action, 40, rng)
    y = (np.abs(X).sum(axis=(1, 2)) > np.median(np.abs(X).sum(axis=(1, 2)))).astype(int)
    pipe = make_pipeline(
        InvariantProjection(action, method="sorted_projections", random_state=0),
        LogisticRegression(),
    )
    grid = GridSearchCV(pipe, {"invariantprojection__n_projections": [2, 6]}, cv=2).fit(X, y)
    assert grid.best_params_["invariantprojection__n_projections"] in (2, 6)
    assert grid.best_estimator_[0].get_params()["n_projections"] in (2, 6)


def test_unknown_option_is_rejected_at_fit():
    X = latents(Permutation(3), 5, np.random.default_rng(4))
    with pytest.raises(TypeError, match="unknown option"):
        InvariantProjection(Permutation(3), method="lexsort", n_templates=3).fit(X)
    with pytest.raises(ValueError, match="unknown invariant map"):
        InvariantProjection(Permutation(3), method="fourier").fit(X)
    with pytest.raises(ValueError, match="does not support"):
        InvariantProjection(Permutation(3), method="norms").fit(X)


def test_pipeline_with_pca():
    action = Permutation(5)
    X = latents(action, 30, np.random.default_rng(5), d=1)
    pipe = make_pipeline(InvariantProjection(action, method="sort"), PCA(2))
    Z = pipe.fit_transform(X)
    assert Z.shape == (30, 2)
    perm = action.sample(30, random_state=0)
    np.testing.assert_allclose(pipe.transform(action.act(perm, X)), Z, atol=1e-10)
    pipe2 = make_pipeline(InvariantProjection(SO2("4x1"), random_state=0), PCA(2))
    assert pipe2.fit_transform(latents(SO2("4x1"), 30, np.random.default_rng(6))).shape == (30, 2)


def test_data_free_methods_transform_without_fit_and_store_nothing():
    X = latents(Permutation(4), 6, np.random.default_rng(7))
    proj = InvariantProjection(Permutation(4), method="channel_sort")
    F = proj.transform(X)
    np.testing.assert_allclose(F, np.sort(X, axis=1).reshape(6, -1))
    assert not hasattr(proj, "params_") and not hasattr(proj, "n_features_in_")
    np.testing.assert_allclose(clone(proj).fit(X).transform(X), F)
    with pytest.raises(NotFittedError):
        InvariantProjection(Permutation(4)).transform(X)


@pytest.mark.parametrize("method", sorted(REGISTRY))
def test_data_free_list_agrees_with_the_registry(method):
    # a method is data-free when its fit returns no parameters on every action it supports
    imap = get_map(method)
    rng = np.random.default_rng(8)
    fitted = []
    for action in (
        Permutation(3),
        SO2("1x0 + 2x1"),
        Cyclic(4, "1xregular"),
        Product(Permutation(3), Cyclic(4, "1x1")),
    ):
        if method in available_methods(action):
            fitted.append(imap.fit(latents(action, 4, rng, d=1), action, random_state=0))
    assert fitted
    assert all(p == {} for p in fitted) == (method in DATA_FREE_METHODS)
