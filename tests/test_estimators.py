"""scikit-learn shells: QuotientAligner and quotient k-NN (check_estimator and behaviour).

check_estimator feeds flat 2-D data of many widths (1, 2, 3, 5, 10, ... features).  The one
action that reads every width is ``Permutation(1)``: a single node carrying all features
(the trivial group, so the quotient distance is Euclidean there).  The group behaviour is
tested below with real actions.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from orbitspace import SO2, Cyclic, Permutation
from orbitspace.estimators import (
    QuotientAligner,
    QuotientKNeighborsClassifier,
    QuotientKNeighborsRegressor,
)
from orbitspace.quotient import quotient_distance


@parametrize_with_checks(
    [
        QuotientAligner(Permutation(1)),
        QuotientAligner("Permutation(1)", template="first"),
        QuotientKNeighborsClassifier(Permutation(1)),
        QuotientKNeighborsClassifier("Permutation(1)", n_neighbors=3, weights="distance"),
        QuotientKNeighborsRegressor(Permutation(1)),
        QuotientKNeighborsRegressor("Permutation(1)", weights="distance"),
    ]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def orbit_data(action, n_per_class, rng, n_classes=3, noise=0.05):
    """Class templates in random poses: raw-space neighbours mix classes, quotient ones do not."""
    if isinstance(action, Permutation):
        shape = (action.n_nodes, 2)
    else:
        shape = (action.dim,)
    templates = rng.normal(size=(n_classes,) + shape) * 2
    y = np.repeat(np.arange(n_classes), n_per_class)
    X = templates[y] + noise * rng.normal(size=(len(y),) + shape)
    X = np.asarray(action.act(action.sample(len(y), rng), X))
    return X, y


ACTIONS = [SO2("1x0 + 2x1 + 1x2"), Cyclic(6, "1xregular"), Permutation(4)]


# -- QuotientAligner ---------------------------------------------------------------------------


@pytest.mark.parametrize("action", ACTIONS, ids=repr)
def test_aligner_outputs_lie_in_the_input_orbits_and_are_invariant(action):
    rng = np.random.default_rng(0)
    X, _ = orbit_data(action, 6, rng)
    al = QuotientAligner(action).fit(X)
    A = al.transform(X)
    assert A.shape == X.shape
    np.testing.assert_allclose(np.asarray(quotient_distance(A, X, action)), 0, atol=1e-6)
    Xg = np.asarray(action.act(action.sample(len(X), rng), X))
    np.testing.assert_allclose(al.transform(Xg), A, atol=1e-7)
    # each output is at least as close to the template as its input
    T = al.template_
    assert np.all(
        np.linalg.norm((A - T).reshape(len(X), -1), axis=1)
        <= np.linalg.norm((X - T).reshape(len(X), -1), axis=1) + 1e-12
    )
    assert np.all(np.diff(al.frechet_history_) <= 1e-12 * al.frechet_history_[0])


def test_aligner_flat_input_keeps_the_flat_layout():
    action = Permutation(3)
    X, _ = orbit_data(action, 5, np.random.default_rng(1))
    flat = X.reshape(len(X), -1)
    al = QuotientAligner(action, template="first").fit(flat)
    assert al.n_features_in_ == 6
    out_flat = al.transform(flat)
    out_nodes = al.transform(X)
    assert out_flat.shape == (15, 6) and out_nodes.shape == (15, 3, 2)
    np.testing.assert_allclose(out_flat.reshape(X.shape), out_nodes)
    np.testing.assert_allclose(out_nodes[0], X[0])


def test_aligner_given_template_and_errors():
    action = SO2("1x1")
    X = np.array([[0.0, 2.0], [-3.0, 0.0]])
    out = QuotientAligner(action, template=[1.0, 0.0]).fit(X).transform(X)
    np.testing.assert_allclose(out, [[2.0, 0.0], [3.0, 0.0]], atol=1e-9)
    with pytest.raises(ValueError, match="template must have 2 entries"):
        QuotientAligner(action, template=[1.0, 0.0, 0.0]).fit(X)
    with pytest.raises(ValueError, match="template must be one of"):
        QuotientAligner(action, template="mean").fit(X)
    with pytest.raises(ValueError, match="dim 2 but X has 3 features"):
        QuotientAligner(action).fit(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="multiple of 3"):
        QuotientAligner(Permutation(3)).fit(np.zeros((4, 4)))
    with pytest.raises(TypeError, match="action must be"):
        QuotientAligner(3).fit(X)
    with pytest.raises(ValueError, match="n_nodes 3"):
        QuotientAligner(Permutation(3)).fit(np.zeros((4, 2, 3)))


def test_aligner_pca_pipeline_removes_pose():
    action = SO2("3x1")
    rng = np.random.default_rng(2)
    base, direction = rng.normal(size=6), rng.normal(size=6)
    X = action.act(action.sample(50, rng), base + np.outer(rng.normal(size=50), direction))
    pipe = make_pipeline(QuotientAligner(action), PCA(2)).fit(X)
    assert pipe[-1].explained_variance_ratio_[0] > 0.9


# -- quotient k-NN -----------------------------------------------------------------------------


@pytest.mark.parametrize("action", ACTIONS, ids=repr)
def test_knn_classifier_is_invariant_and_beats_raw_knn(action):
    rng = np.random.default_rng(3)
    X, y = orbit_data(action, 10, rng, noise=0.1)
    Xt, yt = orbit_data(action, 10, np.random.default_rng(3), noise=0.1)  # same templates
    Xt = np.asarray(action.act(action.sample(len(Xt), rng), Xt + 0.1 * rng.normal(size=Xt.shape)))
    clf = QuotientKNeighborsClassifier(action, n_neighbors=3).fit(X, y)
    assert clf.score(Xt, yt) == 1.0
    Xg = np.asarray(action.act(action.sample(len(Xt), rng), Xt))
    np.testing.assert_array_equal(clf.predict(Xg), clf.predict(Xt))
    np.testing.assert_allclose(clf.predict_proba(Xg), clf.predict_proba(Xt))
    flat = X.reshape(len(X), -1)
    raw = KNeighborsClassifier(n_neighbors=3).fit(flat, y)
    assert raw.score(Xt.reshape(len(Xt), -1), yt) < 1.0


def test_knn_matches_sklearn_on_the_trivial_group():
    rng = np.random.default_rng(4)
    X, Xq = rng.normal(size=(30, 4)), rng.normal(size=(10, 4))
    y = rng.integers(0, 3, size=30)
    yr = rng.normal(size=(30, 2))
    for weights in ("uniform", "distance"):
        ours = QuotientKNeighborsClassifier(Permutation(1), 4, weights=weights).fit(X, y)
        ref = KNeighborsClassifier(4, weights=weights).fit(X, y)
        np.testing.assert_allclose(ours.predict_proba(Xq), ref.predict_proba(Xq))
        ours_r = QuotientKNeighborsRegressor(Permutation(1), 4, weights=weights).fit(X, yr)
        ref_r = KNeighborsRegressor(4, weights=weights).fit(X, yr)
        np.testing.assert_allclose(ours_r.predict(Xq), ref_r.predict(Xq))
    d, i = ours.kneighbors(Xq)
    d_ref, i_ref = ref.kneighbors(Xq)
    np.testing.assert_allclose(d, d_ref)
    np.testing.assert_array_equal(i, i_ref)


def test_knn_regressor_on_orbits():
    action = Permutation(3)
    rng = np.random.default_rng(5)
    X = rng.normal(size=(40, 3, 2))
    y = np.linalg.norm(X, axis=(1, 2))  # an invariant target
    reg = QuotientKNeighborsRegressor(action, n_neighbors=1).fit(X, y)
    Xg = np.asarray(action.act(action.sample(40, rng), X))
    np.testing.assert_allclose(reg.predict(Xg), y)  # each orbit finds itself
    assert reg.predict(Xg[:3]).shape == (3,)


def test_kneighbors_without_queries_excludes_self():
    action = Permutation(2)
    X = np.array([[[0.0], [1.0]], [[1.0], [0.0]], [[4.0], [4.0]]])
    clf = QuotientKNeighborsClassifier(action, n_neighbors=1).fit(X, [0, 0, 1])
    d, i = clf.kneighbors()
    assert i[:, 0].tolist() == [1, 0, 0]
    np.testing.assert_allclose(d[:2, 0], 0.0)
    with pytest.raises(ValueError, match="n_neighbors"):
        clf.kneighbors(n_neighbors=3)
    with pytest.raises(ValueError, match="weights"):
        QuotientKNeighborsClassifier(action, weights="gaussian").fit(X, [0, 0, 1])


def test_params_clone_and_pickle():
    clf = QuotientKNeighborsClassifier("SO2('2x1')", n_neighbors=2)
    assert clf.get_params()["action"] == "SO2('2x1')"
    X, y = orbit_data(SO2("2x1"), 4, np.random.default_rng(6))
    fitted = clone(clf).fit(X, y)
    again = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(again.predict(X), fitted.predict(X))
    assert again.action_ == SO2("2x1")


def test_estimators_accept_torch_latents():
    torch = pytest.importorskip("torch")
    action = Permutation(3)
    X, y = orbit_data(action, 5, np.random.default_rng(7))
    clf = QuotientKNeighborsClassifier(action, n_neighbors=1).fit(torch.from_numpy(X), y)
    np.testing.assert_array_equal(clf.predict(torch.from_numpy(X)), y)
    out = QuotientAligner(action).fit(X).transform(torch.from_numpy(X))
    assert isinstance(out, np.ndarray) and out.shape == X.shape
