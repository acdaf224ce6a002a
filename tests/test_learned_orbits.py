"""Orbit spread vs class separation, against direct (all-codes-in-memory) formulas."""

from __future__ import annotations

import numpy as np
import pytest

from orbitspace.learned.orbits import OrbitAccumulator, orbit_statistics


def direct(Z, labels):
    n, m, D = Z.shape
    flat = Z.reshape(-1, D)
    total = np.mean(np.sum((flat - flat.mean(0)) ** 2, axis=1))
    cent = Z.mean(axis=1, keepdims=True)
    within = np.mean(np.sum((Z - cent) ** 2, axis=-1))
    classes = np.unique(labels)
    means = np.stack([Z[labels == c].reshape(-1, D).mean(0) for c in classes])
    dists = [np.sum((means[a] - means[b]) ** 2) for a in range(len(classes)) for b in range(a)]
    grand = flat.mean(0)
    w = np.array([np.mean(labels == c) for c in classes])
    between = np.sum(w * np.sum((means - grand) ** 2, axis=1))
    return np.sqrt(within), np.sqrt(np.mean(dists)), within / total, between / total


def test_matches_direct_formulas():
    rng = np.random.default_rng(0)
    labels = np.arange(30) % 3
    Z = rng.normal(size=(30, 5, 4)) + 2.0 * labels[:, None, None]
    s = orbit_statistics(Z, labels)
    spread, cdist, wfrac, bfrac = direct(Z, labels)
    assert s.orbit_spread == pytest.approx(spread)
    assert s.class_distance == pytest.approx(cdist)
    assert s.within_orbit_fraction == pytest.approx(wfrac)
    assert s.between_class_fraction == pytest.approx(bfrac)
    assert s.spread_to_class_distance == pytest.approx(spread / cdist)
    assert s.dim == 4


def test_invariant_and_pure_rotation_extremes():
    rng = np.random.default_rng(1)
    labels = np.arange(12) % 2
    base = rng.normal(size=(12, 1, 3)) + 3.0 * labels[:, None, None]
    invariant = np.repeat(base, 6, axis=1)
    assert orbit_statistics(invariant, labels).within_orbit_fraction == pytest.approx(
        0.0, abs=1e-12
    )
    # every image traces the same circle: all variance is within orbits
    angles = 2 * np.pi * np.arange(6) / 6
    circle = np.stack([np.cos(angles), np.sin(angles)], axis=-1)
    rotating = np.broadcast_to(circle, (12, 6, 2))
    s = orbit_statistics(rotating, labels)
    assert s.within_orbit_fraction == pytest.approx(1.0)
    assert s.between_class_fraction == pytest.approx(0.0, abs=1e-12)


def test_accumulator_flattens_feature_maps_and_checks_shapes():
    acc = OrbitAccumulator(np.array([0, 1]))
    acc.add(np.ones((2, 3, 2, 2)))
    with pytest.raises(ValueError, match="codes must have shape \\(2, 12\\)"):
        acc.add(np.ones((2, 5)))
    with pytest.raises(ValueError, match="no codes were added"):
        OrbitAccumulator(np.array([0, 1])).result()
