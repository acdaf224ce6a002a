"""estimate_action: recovery of planted C_N actions, honest failure on codes that carry none."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from orbitspace import Cyclic, OrbitspaceWarning
from orbitspace.learned import (
    decompose_orthogonal,
    estimate_action,
    frequency_content,
    orthogonal_procrustes,
)
from orbitspace.quotient import pairwise_quotient_distances


def random_orthonormal_columns(D: int, d: int, rng: np.random.Generator) -> np.ndarray:
    return np.linalg.qr(rng.normal(size=(D, d)))[0][:, :d]


def planted_codes(
    rho: Cyclic, n: int, *, extra_dims: int = 0, noise: float = 0.0, offset=True, seed: int = 0
):
    """Codes f(g^j x) = mu + A rho(g)^j u + noise for j = 0..N-1; returns (orbits, A, mu, U)."""
    rng = np.random.default_rng(seed)
    D = rho.dim + extra_dims
    A = random_orthonormal_columns(D, rho.dim, rng)
    mu = rng.normal(size=D) * 3.0 if offset else np.zeros(D)
    U = rng.normal(size=(n, rho.dim))
    orbit = np.stack([rho.act(j, U) for j in range(rho.N)], axis=1)  # (n, N, d)
    Z = orbit @ A.T + mu + noise * rng.normal(size=(n, rho.N, D))
    return Z, A, mu, U


def expected_frequencies(rho: Cyclic) -> dict[int, int]:
    """Copies of each irrep in rho: a regular block of C_N holds every frequency once."""
    counts: dict[int, int] = {}
    for mult, kind in rho.terms:
        for k in range(rho.N // 2 + 1) if kind == "regular" else [kind]:
            counts[k] = counts.get(k, 0) + mult
    return counts


PLANTED = [
    Cyclic(8, "3x0 + 2x1 + 1x2 + 1x3 + 2x4"),
    Cyclic(4, "2xregular + 1x1"),
    Cyclic(5, "1x0 + 2x2 + 1x1"),
    Cyclic(6, "2x3 + 1x1 + 1xregular"),
]


@pytest.mark.parametrize("rho", PLANTED, ids=repr)
def test_recovers_planted_frequencies_from_generator_pairs(rho):
    Z, A, mu, _ = planted_codes(rho, 300, extra_dims=5, noise=1e-3, seed=1)
    learned = estimate_action(Z[:, 0], Z[:, 1], N=rho.N, n_components=rho.dim, random_state=0)
    assert learned.frequencies == expected_frequencies(rho)
    assert learned.action.dim == rho.dim
    assert learned.equivariance_error_snapped < 5e-3
    assert learned.homomorphism_error < 1e-2
    assert learned.max_snapping_error < 1e-2
    # the learned action on raw codes is the planted one: A rho(1) A^T on the signal subspace
    planted = A @ rho.matrix(1) @ A.T
    got = learned.raw_matrix(1)
    assert np.linalg.norm(A.T @ (got - planted) @ A) < 1e-2 * np.sqrt(rho.dim)


@pytest.mark.parametrize("rho", PLANTED, ids=repr)
def test_every_group_element_is_equivariant_on_held_out_orbits(rho):
    """From full orbits: act(k, transform(f(x))) == transform(f(g^k x)) for every k."""
    Z, *_ = planted_codes(rho, 200, noise=0.0, seed=2)
    learned = estimate_action(Z[:150], N=rho.N, random_state=0)
    held = Z[150:]
    T0 = learned.transform(held[:, 0])
    for k in range(rho.N):
        np.testing.assert_allclose(
            learned.action.act(k, T0), learned.transform(held[:, k]), atol=1e-8
        )
        np.testing.assert_allclose(learned.predict(held[:, 0], k), held[:, k], atol=1e-8)
    assert learned.homomorphism_error < 1e-9


def test_offset_pairs_without_full_orbits_are_centred_on_a_fixed_point():
    """An affine action z -> mu + rho (z - mu) seen only through generator pairs."""
    rho = Cyclic(8, "2x0 + 2x1 + 1x3")
    Z, A, mu, _ = planted_codes(rho, 120, offset=True, seed=3)
    learned = estimate_action(Z[:, 0], Z[:, 1], N=8, random_state=0)
    assert learned.frequencies == {0: 2, 1: 2, 3: 1}
    assert learned.equivariance_error_snapped < 1e-8
    # the centre is a fixed point of the planted action (it may differ from mu along 0-freq)
    centre = learned.mean
    np.testing.assert_allclose(A @ rho.matrix(1) @ A.T @ (centre - mu) + mu, centre, atol=1e-8)


def test_quotient_distances_in_learned_coordinates_match_the_planted_ones():
    rho = Cyclic(6, "1x0 + 2x1 + 1x2 + 1x3")
    Z, A, mu, U = planted_codes(rho, 60, extra_dims=3, seed=4)
    learned = estimate_action(Z, N=6, random_state=0)
    V = learned.transform(Z[:, 0])
    assert V.shape == (60, rho.dim)
    d_learned = pairwise_quotient_distances(V[:12], action=learned.action, method="exhaustive")
    d_true = pairwise_quotient_distances(U[:12], action=rho, method="exhaustive")
    np.testing.assert_allclose(d_learned, d_true, atol=1e-8)
    # and raw distances without the quotient are larger off the diagonal for rotated pairs
    raw = np.linalg.norm(Z[:12, 0] - Z[:12, 1], axis=-1)
    assert np.all(raw > 1e-3)


def test_principal_subspace_drops_noise_dimensions():
    rho = Cyclic(8, "2x1 + 1x2")
    Z, A, *_ = planted_codes(rho, 400, extra_dims=20, noise=0.0, seed=5)
    rng = np.random.default_rng(6)
    Z = Z + 0.01 * rng.normal(size=Z.shape)  # isotropic noise: the signal holds ~99.9%
    learned = estimate_action(Z, N=8, n_components=0.99, random_state=0)
    assert learned.dim == rho.dim
    assert learned.frequencies == {1: 2, 2: 1}
    # the kept subspace is the planted one
    overlap = np.linalg.svd(learned.basis @ A, compute_uv=False)
    assert overlap.min() > 0.99
    assert learned.explained_variance > 0.99


def test_a_rotation_of_infinite_order_is_reported_not_hidden():
    """Codes related by an orthogonal map that is no C_8 representation: Procrustes fits it
    exactly, but the homomorphism error, the snapping error and the snapped action expose it."""
    rng = np.random.default_rng(7)
    angles = np.array([0.3, 1.1, 2.0])  # far from multiples of 2π/8 = 0.785
    blocks = [np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]) for a in angles]
    R = np.zeros((6, 6))
    for i, b in enumerate(blocks):
        R[2 * i : 2 * i + 2, 2 * i : 2 * i + 2] = b
    rot = np.linalg.qr(rng.normal(size=(6, 6)))[0]
    R = rot @ R @ rot.T
    Z0 = rng.normal(size=(300, 6))
    with pytest.warns(OrbitspaceWarning, match="far from carrying a linear C_8 action"):
        learned = estimate_action(Z0, Z0 @ R.T, N=8, center=False, random_state=0)
    assert learned.equivariance_error < 1e-10  # the linear map itself fits
    assert learned.homomorphism_error > 0.5
    assert learned.max_snapping_error > 0.3
    assert learned.equivariance_error_snapped > 0.2


def test_unrelated_codes_give_a_large_equivariance_error():
    rng = np.random.default_rng(8)
    Z0, Z1 = rng.normal(size=(400, 10)), rng.normal(size=(400, 10))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OrbitspaceWarning)
        learned = estimate_action(Z0, Z1, N=4, random_state=0)
    assert learned.equivariance_error > 1.0  # held-out: no better than chance (sqrt 2)
    assert learned.train_equivariance_error < learned.equivariance_error


def test_invariant_codes_learn_the_trivial_action():
    rng = np.random.default_rng(9)
    Z0 = rng.normal(size=(100, 5))
    learned = estimate_action(Z0, Z0 + 1e-6 * rng.normal(size=Z0.shape), N=8, random_state=0)
    assert learned.frequencies == {0: 5}
    assert learned.invariance_error < 1e-5


def test_torch_inputs_and_outputs():
    torch = pytest.importorskip("torch")
    rho = Cyclic(4, "1x0 + 1x1 + 1x2")
    Z, *_ = planted_codes(rho, 50, seed=10)
    Zt = torch.as_tensor(Z, dtype=torch.float32)
    learned = estimate_action(Zt, N=4, random_state=0)
    assert learned.frequencies == {0: 1, 1: 1, 2: 1}
    out = learned.transform(Zt[:, 0])
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float32
    back = learned.inverse_transform(out)
    assert isinstance(back, torch.Tensor)
    np.testing.assert_allclose(back.numpy(), Z[:, 0], atol=1e-4)


def test_same_seed_same_result():
    rho = Cyclic(8, "1x0 + 1x1 + 1x3")
    Z, *_ = planted_codes(rho, 80, noise=0.05, seed=11)
    a = estimate_action(Z[:, 0], Z[:, 1], N=8, random_state=3)
    b = estimate_action(Z[:, 0], Z[:, 1], N=8, random_state=3)
    assert a.to_dict() == b.to_dict()
    np.testing.assert_array_equal(a.basis, b.basis)


def test_evaluate_on_new_pairs_matches_the_fit_report():
    rho = Cyclic(8, "2x0 + 1x1 + 1x2")
    Z, *_ = planted_codes(rho, 100, noise=0.01, seed=12)
    learned = estimate_action(Z[:80], N=8, random_state=0)
    ev = learned.evaluate(Z[80:, 0], Z[80:, 2], g=2)
    assert ev["equivariance_error"] < 0.05
    assert ev["invariance_error"] > 0.5
    d = learned.to_dict()
    assert d["frequencies"] == {"0": 2, "1": 1, "2": 1}
    assert d["action"] == "Cyclic(8, '2x0 + 1x1 + 1x2')"


@pytest.mark.parametrize("N", [2, 3, 4, 5, 8])
def test_decompose_orthogonal_snaps_to_a_cyclic_generator(N):
    rng = np.random.default_rng(N)
    ks = list(range(N // 2 + 1)) * 2
    rho = Cyclic(N, " + ".join(f"1x{k}" for k in ks))
    rot = np.linalg.qr(rng.normal(size=(rho.dim, rho.dim)))[0]
    R = rot @ rho.matrix(1) @ rot.T
    dec = decompose_orthogonal(R, N)
    target = Cyclic(N, dec.rep)
    assert target.dim == rho.dim
    np.testing.assert_allclose(dec.basis @ R @ dec.basis.T, target.matrix(1), atol=1e-10)
    np.testing.assert_allclose(dec.basis @ dec.basis.T, np.eye(rho.dim), atol=1e-10)
    assert dec.snapping_errors.max() < 1e-6


def test_decompose_pairs_minus_ones_for_odd_order():
    R = -np.eye(2)
    dec = decompose_orthogonal(R, 5)
    assert dec.rep == "1x2"  # rotation by π, nearest C_5 frequency is 2 (angle 4π/5)
    assert dec.snapping_errors[0] == pytest.approx(np.pi / 5)


def test_orthogonal_procrustes_matches_brute_force_in_2d():
    """In 2-D the orthogonal group is rotations and reflections: scan them densely."""
    rng = np.random.default_rng(13)
    U, V = rng.normal(size=(30, 2)), rng.normal(size=(30, 2))
    R = orthogonal_procrustes(U, V)
    best = np.inf
    for t in np.linspace(0, 2 * np.pi, 20001):
        c, s = np.cos(t), np.sin(t)
        for M in (np.array([[c, -s], [s, c]]), np.array([[c, s], [s, -c]])):
            best = min(best, np.sum((U @ M.T - V) ** 2))
    assert np.sum((U @ R.T - V) ** 2) <= best + 1e-9
    np.testing.assert_allclose(R @ R.T, np.eye(2), atol=1e-12)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(Z=np.zeros((5, 3)), Z_rotated=np.zeros((5, 4)), N=4), "same shape|shape"),
        (dict(Z=np.zeros((5, 3)), N=4), "n_samples, n_rotations, dim"),
        (dict(Z=np.zeros((5, 9, 3)), N=8), "between 2 and N = 8"),
        (dict(Z=np.ones((5, 2, 3)), N=4, test_size=1.5), "test_size"),
        (dict(Z=np.ones((5, 2, 3)), N=1), "N must be >= 2"),
    ],
)
def test_bad_input_names_expected_and_received(kwargs, match):
    with pytest.raises(ValueError, match=match):
        estimate_action(**kwargs)


def test_transform_checks_dimension():
    rho = Cyclic(4, "1x1")
    Z, *_ = planted_codes(rho, 20, seed=14)
    learned = estimate_action(Z, N=4, random_state=0)
    with pytest.raises(ValueError, match="codes of dim 2 but Z.shape\\[-1\\] is 3"):
        learned.transform(np.zeros((4, 3)))


@pytest.mark.parametrize(
    "action, N",
    [
        (Cyclic(8, "2xregular + 1x3 + 1x4"), 8),
        (Cyclic(8, "2xregular + 1x3 + 1x4"), 4),
        (Cyclic(8, "1xregular"), 2),
        (Cyclic(12, "1x5 + 1x6 + 1xregular"), 4),
    ],
    ids=repr,
)
def test_frequency_content_matches_the_decomposition_of_the_restricted_generator(action, N):
    """Oracle: decompose the matrix of the element M/N (the generator of C_N) directly."""
    dec = decompose_orthogonal(action.matrix(action.N // N), N)
    counts = {int(k): int(np.sum(dec.frequencies == k)) for k in np.unique(dec.frequencies)}
    assert frequency_content(action, N) == counts


def test_frequency_content_of_so2_and_escnn_like_latents():
    from orbitspace import SO2

    assert frequency_content(SO2("2x0 + 1x1 + 1x4"), 8) == {0: 2, 1: 1, 4: 2}
    with pytest.raises(ValueError, match="N must divide 8"):
        frequency_content(Cyclic(8, "1x1"), 3)


def test_frequency_content_rejects_actions_without_planar_irreps():
    from orbitspace import FiniteGroup, Permutation

    with pytest.raises(TypeError, match="planar rotation action"):
        frequency_content(Permutation(4), 4)
    with pytest.raises(TypeError, match="planar rotation action"):
        frequency_content(FiniteGroup.from_action(Cyclic(4, "1x1")), 4)


def test_homomorphism_error_rms_averages_the_worst_case():
    """One direction rotating by an angle far from 2πk/N: spectral gap large, RMS smaller."""
    N = 8
    a = 2 * np.pi / N + 0.2
    R = np.eye(6)
    R[:2, :2] = [[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]
    Z0 = np.random.default_rng(15).normal(size=(100, 6))
    with pytest.warns(OrbitspaceWarning):
        learned = estimate_action(Z0, Z0 @ R.T, N=N, center=False, random_state=0)
    gap = abs(np.exp(1j * N * a) - 1)
    assert learned.homomorphism_error == pytest.approx(gap, rel=1e-6)
    assert learned.homomorphism_error_rms == pytest.approx(gap * np.sqrt(2 / 6), rel=1e-6)
