"""The public test kit measures errors and fails on deliberately broken inputs."""

import numpy as np
import pytest

import orbitspace as osp
from orbitspace.testing import (
    assert_equivariant,
    assert_invariant,
    check_group_action,
    check_quotient_metric,
)


class WrongSignSO2(osp.SO2):
    """Acts by +sin in the wrong place: each matrix is orthogonal but the signs flip with θ,
    so composition fails."""

    def act(self, g, X):
        out = np.array(super().act(g, X))
        theta = np.asarray(g, float)
        return np.where((np.mod(theta, 2 * np.pi) > np.pi)[..., None], out[..., ::-1], out)


class ScalingSO2(osp.SO2):
    def matrix(self, g):
        return 1.1 * super().matrix(g)


class BatchBrokenCyclic(osp.Cyclic):
    def act(self, g, X):
        g = np.asarray(g)
        return super().act(g[::-1] if g.ndim == 1 else g, X)  # pairs elements with wrong rows


def test_check_group_action_passes_on_real_actions():
    errors = check_group_action(osp.SO2("1x0 + 2x3"), random_state=0)
    assert max(errors.values()) < 1e-12


def test_check_group_action_fails_on_broken_composition():
    with pytest.raises(AssertionError, match="composition"):
        check_group_action(WrongSignSO2("1x1"), random_state=0)


def test_check_group_action_fails_on_non_orthogonal():
    with pytest.raises(AssertionError, match="orthogonality"):
        check_group_action(ScalingSO2("1x1"), random_state=0)


def test_check_group_action_fails_on_broken_batching():
    with pytest.raises(AssertionError, match="batched_vs_looped"):
        check_group_action(BatchBrokenCyclic(8, "1xregular"), random_state=0)


@pytest.mark.parametrize(
    "action", [osp.SO2("2x0 + 1x1 + 1x2"), osp.Cyclic(6, "2xregular"), osp.Permutation(5)], ids=repr
)
def test_check_quotient_metric_passes_on_exact_distance(action):
    errors = check_quotient_metric(action, random_state=1, n_samples=8)
    assert max(errors.values()) < 1e-7


def test_check_quotient_metric_fails_on_euclidean_distance():
    def euclidean(x, y, action):
        return np.linalg.norm(np.asarray(x) - np.asarray(y), axis=-1)

    with pytest.raises(AssertionError, match="invariance"):
        check_quotient_metric(osp.SO2("1x1"), distance=euclidean, random_state=0)


def test_check_quotient_metric_fails_on_a_non_metric():
    def squared(x, y, action):
        return osp.quotient_distance(x, y, action) ** 2  # breaks the triangle inequality

    with pytest.raises(AssertionError, match="triangle|below_euclidean"):
        check_quotient_metric(osp.SO2("1x1"), distance=squared, random_state=0, n_samples=64)


def test_assert_invariant_measures_and_fails():
    rho = osp.SO2("1x0 + 2x1")
    X = np.random.default_rng(0).standard_normal((10, rho.dim))

    def block_norms(Z):
        Z = np.asarray(Z)
        return np.stack(
            [np.abs(Z[:, 0]), np.hypot(Z[:, 1], Z[:, 2]), np.hypot(Z[:, 3], Z[:, 4])], 1
        )

    assert assert_invariant(block_norms, X, rho, random_state=0) < 1e-12
    with pytest.raises(AssertionError, match="not invariant"):
        assert_invariant(lambda Z: np.asarray(Z), X, rho, random_state=0)


def test_assert_equivariant_measures_and_fails():
    rho_in, rho_out = osp.SO2("2x1"), osp.SO2("1x1")
    X = np.random.default_rng(0).standard_normal((10, rho_in.dim))

    def sum_copies(Z):
        Z = np.asarray(Z)
        return Z[:, :2] + Z[:, 2:]

    assert assert_equivariant(sum_copies, X, rho_in, rho_out, random_state=0) < 1e-12
    with pytest.raises(AssertionError, match="not equivariant"):
        assert_equivariant(lambda Z: np.asarray(Z)[:, :2] ** 2, X, rho_in, rho_out, random_state=0)
    with pytest.raises(ValueError, match="one group"):
        assert_equivariant(sum_copies, X, rho_in, osp.Cyclic(4, "1x1"))


def test_assert_equivariant_compares_groups_by_their_traits():
    """Same group name and element shape: one element acts on both sides; else ValueError."""
    X = np.random.default_rng(1).standard_normal((6, 4, 2))
    total = osp.Permutation(4)
    assert assert_equivariant(lambda Z: np.asarray(Z) * 2, X, total, total, random_state=0) == 0
    with pytest.raises(ValueError, match="one group"):
        assert_equivariant(lambda Z: np.asarray(Z)[:, :3], X, total, osp.Permutation(3))
    with pytest.raises(ValueError, match="one group"):
        assert_equivariant(lambda Z: Z, X[..., 0], osp.Cyclic(4, "1x1 + 1x2"), osp.Cyclic(8, "2x1"))
