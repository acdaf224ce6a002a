"""SO(3) / O(3) and S_n × SO(3) latents through everything downstream: the CLI (analyze,
project, distances), the estimators and the quotient statistics."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import orbitspace as osp
from orbitspace.estimators import InvariantProjection, QuotientKNeighborsClassifier
from orbitspace.groups import Permutation, Product
from orbitspace.stats import frechet_mean, geodesic_interpolation, quotient_pca

RHO = osp.SO3("2x0e + 2x1o + 1x2e")


def _clustered(action, n, rng, noise=0.05):
    """Codes of 3 classes: one template per class, each code in a random pose plus noise."""
    shape = tuple(action.event_shape)
    T = rng.standard_normal((3,) + shape)
    y = rng.integers(0, 3, n)
    Z = T[y] + noise * rng.standard_normal((n,) + shape)
    return np.asarray(action.act(action.sample(n, rng), Z)), y


def _cli(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "orbitspace.cli", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_cli_analyze_project_distances_on_so3(tmp_path):
    X, y = _clustered(RHO, 60, np.random.default_rng(0))
    np.savez(tmp_path / "codes.npz", z=X, y=y)
    spec = repr(RHO)
    run = _cli(
        "analyze", "codes.npz:z", "--action", spec, "--labels", "codes.npz:y", "--quick",
        "--maps", "pca", "--methods", "norms", "power_spectrum", "align_to_reference",
        "--no-progress", "-o", "rep", cwd=tmp_path,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "expected run time" in run.stderr
    metrics = json.loads((tmp_path / "rep" / "metrics.json").read_text())
    assert metrics["action"]["spec"] == spec
    html = (tmp_path / "rep" / "report.html").read_text()
    assert "SO(3)" in html and "degree-2 block" in html
    # invariant projections are exactly invariant, the raw codes are not
    inv = metrics["invariance"]
    assert max(v["max_rel"] for k, v in inv.items() if k != "raw") < 1e-6 < inv["raw"]["max_rel"]
    run = _cli(
        "project", "codes.npz:z", "--action", spec, "--method", "power_spectrum",
        "--no-progress", "-o", "ps.npy", cwd=tmp_path,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    F = np.load(tmp_path / "ps.npy")
    assert np.allclose(F, osp.invariant_features(X, RHO, "power_spectrum"))
    run = _cli(
        "distances", "codes.npz:z", "--action", spec, "--knn", "3", "--no-progress",
        "-o", "knn.npy", cwd=tmp_path,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    idx = np.load(tmp_path / "knn.indices.npy")
    assert (y[idx] == y[:, None]).mean() > 0.9  # neighbours under d share the class


def test_estimators_on_so3():
    rng = np.random.default_rng(1)
    X, y = _clustered(RHO, 90, rng)
    F = InvariantProjection(RHO, method="norms").fit_transform(X)
    assert F.shape == (90, 5)
    clf = QuotientKNeighborsClassifier(RHO, n_neighbors=3).fit(X[:60], y[:60])
    assert clf.score(X[60:], y[60:]) > 0.9
    # the raw-code k-NN is fooled by the poses
    from sklearn.neighbors import KNeighborsClassifier

    raw = KNeighborsClassifier(3).fit(X[:60], y[:60]).score(X[60:], y[60:])
    assert clf.score(X[60:], y[60:]) > raw


@pytest.mark.parametrize(
    "action",
    [RHO, osp.O3("1x0o + 2x1o"), Product(Permutation(4), osp.SO3("1x1o"))],
    ids=repr,
)
def test_quotient_statistics(action):
    rng = np.random.default_rng(2)
    shape = tuple(action.event_shape)
    base = rng.standard_normal(shape)
    Z = base + 0.05 * rng.standard_normal((12,) + shape)
    X = np.asarray(action.act(action.sample(12, rng), Z))
    res = frechet_mean(X, action, random_state=0)
    # the mean of posed copies is (close to) the common template's orbit, not a blur
    assert float(osp.quotient_distance(res.mean, base, action)) < 0.1 * np.linalg.norm(base)
    raw_mean = X.mean(0)
    assert np.linalg.norm(raw_mean) < np.linalg.norm(res.mean)
    path = geodesic_interpolation(X[0], X[1], np.linspace(0, 1, 5), action)
    d01 = float(osp.quotient_distance(X[0], X[1], action))
    d_mid = float(osp.quotient_distance(X[0], path[2], action))
    assert np.isclose(d_mid, 0.5 * d01, atol=1e-6)
    pca = quotient_pca(X, action, n_components=2, random_state=0)
    assert pca.scores.shape == (12, 2)
