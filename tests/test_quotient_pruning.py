"""The invariant lower bounds that prune exact k-NN: invariant and never above d."""

from __future__ import annotations

import numpy as np
import pytest

from orbitspace.groups import SO2, Cyclic, FiniteGroup, Permutation
from orbitspace.quotient import pairwise_quotient_distances
from orbitspace.quotient.pruning import lower_bound_distances, lower_bound_features

ACTIONS = [
    SO2("2x0 + 3x1 + 1x4"),
    Cyclic(8, "2xregular + 1x1 + 1x4 + 1x0"),
    Cyclic(5, "1xregular + 1x2"),
    FiniteGroup.from_action(Cyclic(4, "1x1 + 1xregular")),
    Permutation(6),
]


def _random(action, n, rng):
    if isinstance(action, Permutation):
        return rng.normal(size=(n, action.n_nodes, 3))
    return rng.normal(size=(n, action.dim))


@pytest.mark.parametrize("action", ACTIONS, ids=repr)
def test_features_are_invariant_and_bound_the_quotient_distance_from_below(action):
    rng = np.random.default_rng(0)
    X, Y = _random(action, 30, rng), _random(action, 20, rng)
    F = lower_bound_features(action, X)
    gX = np.asarray(action.act(action.sample(30, rng), X))
    np.testing.assert_allclose(lower_bound_features(action, gX), F, atol=1e-12)
    lower = lower_bound_distances(F, lower_bound_features(action, Y))
    D = np.asarray(pairwise_quotient_distances(X, Y, action=action, method="exhaustive"))
    assert np.all(lower <= D + 1e-12)
    # not vacuous: the bound carries information
    assert lower.mean() > 0.2 * D.mean()


def test_lower_bound_is_tight_for_one_channel_permutations():
    rng = np.random.default_rng(1)
    action = Permutation(7)
    X, Y = rng.normal(size=(10, 7, 1)), rng.normal(size=(12, 7, 1))
    lower = lower_bound_distances(lower_bound_features(action, X), lower_bound_features(action, Y))
    np.testing.assert_allclose(lower, pairwise_quotient_distances(X, Y, action=action), atol=1e-6)
