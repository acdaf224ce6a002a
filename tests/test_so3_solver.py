"""The certified SO(3) / O(3) solver against its exhaustive twin and an independent brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.optimize import minimize

from orbitspace.groups import O3, SO3
from orbitspace.quotient import (
    align,
    max_inner_product,
    pairwise_quotient_distances,
    quotient_distance,
    quotient_knn,
)
from orbitspace.quotient._registry import find_exhaustive, find_lower_bound, find_solver
from orbitspace.quotient.pruning import lower_bound_distances
from orbitspace.quotient.so3 import (
    TOL,
    _derivative_bound,
    so3_coefficients,
    so3_lower_bound,
    so3_pairs,
)
from orbitspace.testing import check_quotient_metric

ACTIONS = [
    SO3("8x0e + 4x1o + 2x2e"),
    SO3("3x1o + 2x2e + 1x3o"),
    SO3("2x2e"),
    O3("2x0e + 1x0o + 3x1o + 2x1e + 2x2e + 1x2o"),
]


def _quat_matrix(q):
    w, x, y, z = q / np.linalg.norm(q)
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
            [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
            [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
        ]
    )


def brute_force(x, y, action, n_starts=24, seed=0):
    """max over SO(3) (and −SO(3) for O3) by BFGS on quaternions from random starts."""
    rng = np.random.default_rng(seed)
    signs = [1.0, -1.0] if action.includes_reflections else [1.0]
    best = -np.inf
    for s in signs:

        def neg(q, s=s):
            return -float(x @ action.matrix(s * _quat_matrix(q)) @ y)

        for _ in range(n_starts):
            res = minimize(neg, rng.normal(size=4), method="BFGS", options={"gtol": 1e-10})
            best = max(best, -res.fun)
    return best


def _scale(X, Y, action):
    """Σ_l ‖C_l‖_* (l >= 1) per row-aligned pair, the scale of the certificate."""
    _, C = so3_coefficients(X, Y, action)
    return sum(np.linalg.svd(c, compute_uv=False).sum(-1) for c in C)


def _value_at(x, y, g, action):
    return (x * np.asarray(action.act(g, y))).sum(-1)


def test_cube_lies_within_sqrt3_sigma_of_its_centre():
    """The Hartley-Kahl lemma the cells rely on, for cubes inside and outside the π-ball."""
    from orbitspace.quotient._so3_grid import _expm_so3

    rng = np.random.default_rng(0)
    worst = 0.0
    for _ in range(200):
        sigma = rng.uniform(0.01, 0.8)
        c = rng.uniform(-np.pi - 0.5, np.pi + 0.5, size=3)
        w = c + rng.uniform(-sigma, sigma, size=(64, 3))
        w[:8] = c + sigma * np.sign(rng.normal(size=(8, 3)))  # corners
        Rc, Rw = _expm_so3(c), _expm_so3(w)
        cos = (np.trace(Rc.T @ Rw, axis1=-2, axis2=-1) - 1) / 2
        angle = np.arccos(np.clip(cos, -1, 1))
        worst = max(worst, (angle - np.sqrt(3) * sigma).max())
    assert worst <= 1e-9


def test_polynomial_form_and_derivative_bounds():
    """p(q) equals Σ<C_l, D^l(R)>; the Lie gradient, Hessian and third-derivative tensor match finite differences and obey |f'| <= L1, |f''| <= L2, |f'''| <= L3."""
    from orbitspace.groups._wigner import wigner_D
    from orbitspace.quotient._so3_grid import _expm_so3
    from orbitspace.quotient._so3_poly import (
        TENSOR_TRIPLES,
        cell_tables,
        poly_structure,
        rotvec_to_quat,
    )

    rng = np.random.default_rng(1)
    ps = poly_structure((1, 2, 3))
    C = [rng.normal(size=(2 * k + 1, 2 * k + 1)) for k in (1, 2, 3)]
    a = ps.M @ np.concatenate([c.ravel() for c in C])
    centres, table, _ = cell_tables(3, 6)
    F = (table @ a).reshape(-1, 20)

    def f(R):
        return sum((c * wigner_D(k, R)).sum() for k, c in zip((1, 2, 3), C, strict=True))

    nuc = [np.linalg.svd(c, compute_uv=False).sum() for c in C]
    L1 = sum(k * n for k, n in zip((1, 2, 3), nuc, strict=True))
    L2 = sum(k * k * n for k, n in zip((1, 2, 3), nuc, strict=True))
    L3 = sum(k**3 * n for k, n in zip((1, 2, 3), nuc, strict=True))
    h = 1e-4
    for k in rng.choice(len(centres), 8, replace=False):
        R = _expm_so3(centres[k])
        assert np.isclose(F[k, 0], f(R), atol=1e-11)
        np.testing.assert_allclose(
            rotvec_to_quat(centres[k])[0] ** 2, np.cos(np.linalg.norm(centres[k]) / 2) ** 2
        )
        u = rng.normal(size=3)
        u /= np.linalg.norm(u)
        fp, f0, fm = f(R @ _expm_so3(h * u)), f(R), f(R @ _expm_so3(-h * u))
        d1, d2 = (fp - fm) / (2 * h), (fp - 2 * f0 + fm) / h**2
        H = np.zeros((3, 3))
        for v, (i, j) in zip(F[k, 4:], ((0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2))):
            H[i, j] = H[j, i] = v
        assert np.isclose(F[k, 1:4] @ u, d1, atol=1e-6)
        assert np.isclose(u @ H @ u, d2, atol=1e-4)
        assert abs(d1) <= L1 and abs(d2) <= L2
        h3 = 2e-3
        v = [f(R @ _expm_so3(t * h3 * u)) for t in (-2, -1, 1, 2)]
        d3 = (v[3] - 2 * v[2] + 2 * v[1] - v[0]) / (2 * h3**3)
        T = np.zeros((3, 3, 3))
        for val, idx in zip(F[k, 10:], TENSOR_TRIPLES, strict=True):
            for perm in set(itertools.permutations(idx)):
                T[perm] = val
        assert np.isclose(np.einsum("abc,a,b,c", T, u, u, u), d3, rtol=1e-4, atol=1e-3)
        assert abs(d3) <= L3
        # the sharper von Neumann constants the solver uses hold too
        sv = [np.linalg.svd(c, compute_uv=False)[None] for c in C]
        vn = [float(_derivative_bound(sv, (1, 2, 3), k)[0]) for k in (1, 2, 3)]
        assert vn[0] <= L1 and vn[1] <= L2 and vn[2] <= L3
        assert abs(d1) <= vn[0] and abs(d2) <= vn[1] and abs(d3) <= vn[2]


@pytest.mark.parametrize("action", ACTIONS, ids=repr)
def test_random_pairs_match_the_exhaustive_twin(action):
    rng = np.random.default_rng(2)
    X, Y = rng.normal(size=(12, action.dim)), rng.normal(size=(12, action.dim))
    rows, cols = np.repeat(np.arange(12), 3), rng.integers(0, 12, 36)
    value, g, gap = so3_pairs(X, Y, rows, cols, action)
    ref, g_ref = find_exhaustive(action)(X[rows], Y[cols], action)
    scale = _scale(X[rows], Y[cols], action)
    # the value is attained at g, and the twin never finds more than the certified bound
    np.testing.assert_allclose(_value_at(X[rows], Y[cols], g, action), value, atol=1e-10)
    assert (gap >= 0).all() and (gap <= TOL * scale + 1e-12).all()
    assert (ref <= value + gap + 1e-10).all()
    np.testing.assert_allclose(value, ref, atol=1e-7)
    assert np.allclose(np.linalg.det(g), 1.0) or action.includes_reflections


@pytest.mark.parametrize("action", [ACTIONS[0], ACTIONS[3]], ids=repr)
def test_random_pairs_match_an_independent_brute_force(action):
    rng = np.random.default_rng(3)
    X, Y = rng.normal(size=(3, action.dim)), rng.normal(size=(3, action.dim))
    value, _, gap = so3_pairs(X, Y, np.arange(3), np.arange(3), action)
    for k in range(3):
        bf = brute_force(X[k], Y[k], action, n_starts=12, seed=k)
        assert bf <= value[k] + gap[k] + 1e-9
        assert value[k] <= bf + 1e-7


def _orbit_pairs(action, x, rng, n=4):
    R0 = action.sample(n, rng)
    return np.broadcast_to(x, (n, action.dim)), np.asarray(action.act(R0, x)), R0


@pytest.mark.parametrize("action", ACTIONS, ids=repr)
def test_exact_orbit_pairs_recover_the_rotation(action):
    """y = ρ(R0) x: the maximum is ‖x‖² and align maps y back onto x."""
    rng = np.random.default_rng(4)
    x = rng.normal(size=action.dim)
    X, Y, _ = _orbit_pairs(action, x, rng)
    res = align(X, Y, action)
    np.testing.assert_allclose(res.distance, 0.0, atol=1e-6)
    np.testing.assert_allclose(res.Y_aligned, X, atol=1e-6)
    value, _ = max_inner_product(X, Y, action)
    np.testing.assert_allclose(value, x @ x, rtol=1e-12)


def test_symmetric_configuration_with_several_optimal_rotations():
    """x fixed by a 3-fold rotation: three optimal rotations, one value, a small certificate."""
    action = SO3("2x1o + 2x2e + 1x3o")
    rng = np.random.default_rng(5)
    v = rng.normal(size=action.dim)
    c, s = np.cos(2 * np.pi / 3), np.sin(2 * np.pi / 3)
    Rz = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
    x = sum(np.asarray(action.act(np.linalg.matrix_power(Rz, k), v)) for k in range(3)) / 3
    np.testing.assert_allclose(action.act(Rz, x), x, atol=1e-12)
    X, Y, R0 = _orbit_pairs(action, x, rng)
    value, g, gap = so3_pairs(X, Y, np.arange(4), np.arange(4), action)
    np.testing.assert_allclose(value, x @ x, rtol=1e-12)
    assert (gap <= TOL * _scale(X, Y, action) + 1e-12).all()
    # g R0 is in the stabiliser {I, Rz, Rz²}
    for gk, Rk in zip(g, R0, strict=True):
        S = gk @ Rk
        assert min(np.abs(S - np.linalg.matrix_power(Rz, k)).max() for k in range(3)) < 1e-6


def test_continuous_stabiliser_still_gives_an_honest_certificate():
    """x fixed by every rotation about y: a circle of maximisers; the gap still brackets it."""
    action = SO3("1x1o + 1x2e")
    x = np.zeros(action.dim)
    x[[1, 5]] = [1.0, 0.7]  # the m = 0 components (e3nn quantises along y)
    t = 0.9
    Ry = np.array([[np.cos(t), 0, np.sin(t)], [0, 1, 0], [-np.sin(t), 0, np.cos(t)]])
    np.testing.assert_allclose(action.act(Ry, x), x, atol=1e-12)
    rng = np.random.default_rng(6)
    X, Y, _ = _orbit_pairs(action, x, rng, n=2)
    value, _, gap = so3_pairs(X, Y, np.arange(2), np.arange(2), action, max_evals=20_000)
    truth = x @ x
    assert (value <= truth + 1e-12).all() and (truth <= value + gap + 1e-12).all()
    np.testing.assert_allclose(value, truth, rtol=1e-6)


def test_degenerate_inputs():
    rng = np.random.default_rng(7)
    # one irrep type, repeated identical copies
    action = SO3("4x2e")
    block = rng.normal(size=5)
    X = np.tile(block, 4)[None]
    Y = np.tile(rng.normal(size=5), 4)[None]
    value, _, gap = so3_pairs(X, Y, [0], [0], action)
    ref, _ = find_exhaustive(action)(X, Y, action)
    np.testing.assert_allclose(value, ref, atol=1e-9)
    # a zero block, and an all-zero pair
    action = SO3("1x0e + 2x1o + 1x2e")
    X = rng.normal(size=(2, action.dim))
    X[:, 7:] = 0.0
    Y = rng.normal(size=(2, action.dim))
    Y[1] = 0.0
    value, g, gap = so3_pairs(X, Y, [0, 1], [0, 1], action)
    ref, _ = find_exhaustive(action)(X, Y, action)
    np.testing.assert_allclose(value, ref, atol=1e-9)
    assert value[1] == 0.0 and gap[1] == 0.0
    # scalars only
    action = SO3("3x0e")
    value, g, gap = so3_pairs(np.ones((1, 3)), np.arange(3.0)[None], [0], [0], action)
    assert value[0] == 3.0 and np.allclose(g[0], np.eye(3)) and gap[0] == 0.0


@pytest.mark.parametrize("action", [SO3("2x0e + 5x1o"), O3("1x0o + 4x1o + 2x1e")], ids=repr)
def test_degree_one_closed_form(action):
    rng = np.random.default_rng(8)
    X, Y = rng.normal(size=(6, action.dim)), rng.normal(size=(6, action.dim))
    value, g, gap = so3_pairs(X, Y, np.arange(6), np.arange(6), action)
    assert (gap == 0).all()
    np.testing.assert_allclose(_value_at(X, Y, g, action), value, atol=1e-12)
    ref, _ = find_exhaustive(action)(X, Y, action)
    np.testing.assert_allclose(value, ref, atol=1e-9)


def test_o3_aligns_a_mirror_image_that_so3_cannot():
    so3, o3 = SO3("3x1o"), O3("3x1o")
    rng = np.random.default_rng(9)
    x = rng.normal(size=9)  # three generic vectors: a chiral configuration
    d_o3 = float(quotient_distance(x, -x, o3))
    d_so3 = float(quotient_distance(x, -x, so3))
    assert d_o3 < 1e-9 < 0.1 < d_so3
    res = align(x, -x, o3)
    assert np.isclose(np.linalg.det(res.g), -1.0)


def test_float32_input():
    action = ACTIONS[0]
    rng = np.random.default_rng(10)
    X = rng.normal(size=(5, action.dim)).astype(np.float32)
    Y = rng.normal(size=(5, action.dim)).astype(np.float32)
    d32 = quotient_distance(X, Y, action)
    d64 = quotient_distance(X.astype(float), Y.astype(float), action)
    assert d32.dtype == np.float32
    np.testing.assert_allclose(d32, d64, rtol=1e-6)


@pytest.mark.parametrize("action", [ACTIONS[0], ACTIONS[3]], ids=repr)
def test_public_api_and_metric_axioms(action):
    rng = np.random.default_rng(11)
    X = rng.normal(size=(10, action.dim))
    D = pairwise_quotient_distances(X, action=action)
    D_ex = pairwise_quotient_distances(X[:4], action=action, method="exhaustive")
    np.testing.assert_allclose(D[:4, :4], D_ex, atol=1e-6)
    np.testing.assert_allclose(D, D.T, atol=0)
    assert (D + 1e-9 >= D[:, :1] - D[:1, :]).all()  # triangle inequality through point 0
    direct = quotient_distance(X[:, None], X[None], action)
    np.testing.assert_allclose(D, direct, atol=1e-6)
    dist, idx = quotient_knn(X, 3, action=action)
    Dm = D + np.diag(np.full(10, np.inf))
    np.testing.assert_allclose(dist, np.sort(Dm, 1)[:, :3], atol=1e-9)
    report = check_quotient_metric(action, n_samples=4, random_state=0)
    assert max(report.values()) < 1e-6, report


@pytest.mark.parametrize("action", ACTIONS + [O3("1x0o + 2x1o")], ids=repr)
def test_lower_bound_is_invariant_and_one_lipschitz(action):
    assert find_lower_bound(action) is so3_lower_bound
    rng = np.random.default_rng(12)
    X, Y = rng.normal(size=(8, action.dim)), rng.normal(size=(8, action.dim))
    F = so3_lower_bound(action, X)
    Fg = so3_lower_bound(action, np.asarray(action.act(action.sample(8, rng), X)))
    np.testing.assert_allclose(F, Fg, atol=1e-10)
    lower = lower_bound_distances(F, so3_lower_bound(action, Y))
    D = pairwise_quotient_distances(X, Y, action=action)
    assert (lower <= D + 1e-9).all()
    # tight on an orbit: y = ρ(g) x has lower bound 0 = d
    assert np.allclose(lower_bound_distances(F, Fg).diagonal(), 0.0, atol=1e-6)


def test_registry_and_errors():
    action = ACTIONS[0]
    solver = find_solver(action)
    assert solver.certified and "SO(3)" in solver.name
    assert find_solver(ACTIONS[3]).certified
    x = np.ones((1, action.dim))
    with pytest.raises(ValueError, match="tol must be a positive number"):
        so3_pairs(x, x, [0], [0], action, tol=0.0)
    big = SO3("1x7e")
    with pytest.raises(ValueError, match="l <= 4"):
        quotient_distance(np.ones(15), np.ones(15), big)
    assert float(quotient_distance(np.ones(15), np.ones(15), big, method="exhaustive")) < 1e-6


@pytest.mark.parametrize("rep", ["1x0e + 1x2e + 1x4e", "1x1o + 1x3o + 1x4e"])
def test_higher_degrees_match_the_twin(rep):
    action = SO3(rep)
    rng = np.random.default_rng(13)
    X, Y = rng.normal(size=(4, action.dim)), rng.normal(size=(4, action.dim))
    value, g, gap = so3_pairs(X, Y, np.arange(4), np.arange(4), action)
    ref, _ = find_exhaustive(action)(X, Y, action)
    np.testing.assert_allclose(_value_at(X, Y, g, action), value, atol=1e-10)
    assert (ref <= value + gap + 1e-10).all() and (value <= ref + 1e-7).all()
    assert (gap <= TOL * _scale(X, Y, action) + 1e-12).all()


def test_critical_point_bound_holds_near_critical_points():
    """_crit_increment bounds f(R*) − f(c) for critical points R* within angle r of c, and
    flags cells whose gradient is too large to hold one (the search's pruning rule)."""
    from orbitspace.quotient._so3_kernels import (
        _crit_cheap,
        _crit_increment,
        _lambda_min,
        _polish,
    )
    from orbitspace.quotient._so3_monomial import _eval, _third_norm
    from orbitspace.quotient._so3_poly import poly_structure, quat_mul
    from orbitspace.quotient._so3_tensor import poly_tuple

    rng = np.random.default_rng(14)
    for degrees in [(1, 2), (1, 2, 3)]:
        ps = poly_structure(degrees)
        L = ps.L
        for _ in range(6):
            C = [rng.normal(size=(2 * k + 1, 2 * k + 1)) for k in degrees]
            a = ps.M @ np.concatenate([c.ravel() for c in C])
            nuc = np.array([np.linalg.svd(c, compute_uv=False).sum() for c in C])
            Lk = [float(nuc @ np.array(degrees, dtype=float) ** k) for k in (1, 2, 3, 4)]
            g, H, pw = np.empty(3), np.empty((3, 3)), np.empty((4, 2 * L + 1))
            q0 = rng.normal(size=4)
            qs = np.empty(4)
            poly = poly_tuple(a, 2 * L)
            T = np.empty(poly[3][-1])
            fs, _ = _polish(poly, 2 * L, q0 / np.linalg.norm(q0), Lk[1], qs, g, H, T)
            assert np.linalg.norm(g) < 1e-8 * Lk[0]  # a critical point
            for _ in range(20):
                d = rng.uniform(0.0, 0.8)
                r = d * rng.uniform(1.0, 1.5)
                u = rng.normal(size=3)
                u /= np.linalg.norm(u)
                qc = quat_mul(qs, np.concatenate([[np.cos(d / 2)], np.sin(d / 2) * u]))
                fc = _eval(a, ps.expo, L, qc, True, g, H, pw)
                gn = float(np.linalg.norm(g))
                tau = _third_norm(a, ps.expo, L, qc) + (6.0 * L - 2.0) / 4.0 * gn
                lmin = _lambda_min(H[0, 0], H[1, 1], H[2, 2], H[0, 1], H[0, 2], H[1, 2])
                inc = _crit_increment(gn, lmin, r, Lk[1], Lk[2], tau, Lk[3])
                cheap = _crit_cheap(gn, r, Lk[1], Lk[2])
                assert gn <= Lk[1] * d * (1 + 1e-9) + 1e-12
                assert fs - fc <= inc + 1e-10 and fs - fc <= cheap + 1e-10
                # a cell too small to reach R* from a point with that gradient is flagged
                if gn > Lk[1] * 0.5 * d * (1 + 1e-8):
                    assert _crit_increment(gn, lmin, 0.5 * d, Lk[1], Lk[2], tau, Lk[3]) == -np.inf


@pytest.mark.parametrize("action", [SO3("1x1o"), O3("1x0o + 1x1o"), SO3("1x0e + 1x1o")], ids=repr)
def test_exhaustive_twin_on_a_single_vector_copy(action):
    """One degree-1 copy: a circle of maximisers (a singular Hessian) must not break the twin."""
    rng = np.random.default_rng(15)
    X, Y = rng.normal(size=(5, action.dim)), rng.normal(size=(5, action.dim))
    ref, g_ref = find_exhaustive(action)(X, Y, action)
    value, _, gap = so3_pairs(X, Y, np.arange(5), np.arange(5), action)
    assert (gap == 0).all()
    np.testing.assert_allclose(ref, value, atol=1e-9)
    np.testing.assert_allclose(_value_at(X, Y, g_ref, action), ref, atol=1e-10)
    D = pairwise_quotient_distances(X, Y, action=action, method="exhaustive")
    np.testing.assert_allclose(np.diag(D), quotient_distance(X, Y, action), atol=1e-6)


def test_exact_basin_of_a_polished_maximum():
    """Top degree 2: p(C q + S v) = Σ_k binom(4, k) C^(4−k) S^k B_k(u) with B_1 = gᵀu/2,
    B_2 = uᵀ(H + pI)u/3, B_3 = T0(u,u,u)/3, B_4 = p(v) (checked against direct evaluation;
    |T0(u,u,u)| within σ_max of T0's unfolding),
    and the basin radius of _add_ball keeps f <= its bound at every sampled rotation inside it
    (the slow twin: dense random samples, half of them near the rim)."""
    from orbitspace.quotient._so3_kernels import MAX_BALLS, _add_ball, _polish
    from orbitspace.quotient._so3_monomial import _eval, _third_norms
    from orbitspace.quotient._so3_poly import _tangent_frame, monomials, poly_structure
    from orbitspace.quotient._so3_tensor import poly_tuple

    rng = np.random.default_rng(16)
    ps = poly_structure((1, 2))
    radii = []
    for _ in range(8):
        C = [rng.normal(size=(2 * k + 1, 2 * k + 1)) for k in (1, 2)]
        a = ps.M @ np.concatenate([c.ravel() for c in C])
        sv = [np.linalg.svd(c, compute_uv=False)[None] for c in C]
        L0, _, L2, L3, L4 = (float(_derivative_bound(sv, (1, 2), k)[0]) for k in range(5))
        g, H, pw = np.empty(3), np.empty((3, 3)), np.empty((4, 5))
        q0 = rng.normal(size=4)
        qs = np.empty(4)
        poly = poly_tuple(a, 4)
        T = np.empty(poly[3][-1])
        fs, _ = _polish(poly, 4, q0 / np.linalg.norm(q0), L2, qs, g, H, T)
        # the expansion, at the polished point and at a generic one
        for q in (qs, q0 / np.linalg.norm(q0)):
            p = _eval(a, ps.expo, 2, q, True, g, H, pw)
            W = _tangent_frame(q)
            T0 = np.einsum("ia,jb,kc,ijk->abc", W, W, W, _third_partials(a, ps.expo, q)) / 8
            for _ in range(5):
                u = rng.normal(size=3)
                u /= np.linalg.norm(u)
                v = W @ u
                B = [p, g @ u / 2, u @ (H + p * np.eye(3)) @ u / 3]
                B += [np.einsum("abc,a,b,c->", T0, u, u, u) / 3, monomials(ps.expo, v) @ a]
                h = rng.uniform(0, np.pi / 2)
                direct = monomials(ps.expo, np.cos(h) * q + np.sin(h) * v) @ a
                expansion = sum(
                    [1, 4, 6, 4, 1][k] * np.cos(h) ** (4 - k) * np.sin(h) ** k * B[k]
                    for k in range(5)
                )
                np.testing.assert_allclose(expansion, direct, atol=1e-10 * L0)
                frob, spec = _third_norms(a, ps.expo, 2, q)
                assert 3 * abs(B[3]) <= spec * (1 + 1e-9) and spec <= frob
        p = _eval(a, ps.expo, 2, qs, True, g, H, pw)
        bq, bf, brho = np.empty((MAX_BALLS, 4)), np.empty(MAX_BALLS), np.empty(MAX_BALLS)
        bpar = np.empty((MAX_BALLS, 5))
        nb = _add_ball(poly, 4, qs, g, H, p, p, L0, L3, L4, bq, bf, brho, bpar, 0, T)
        assert nb == 1
        rho, bound = bpar[0, 3], bpar[0, 4]
        radii.append(rho)
        assert 0 < rho <= np.pi and bound >= p
        U = rng.normal(size=(4000, 3))
        U /= np.linalg.norm(U, axis=1, keepdims=True)
        t = np.where(rng.random(4000) < 0.5, rho * rng.random(4000), rho * (1 - 1e-3))
        X = np.cos(t / 2)[:, None] * qs + np.sin(t / 2)[:, None] * (U @ _tangent_frame(qs).T)
        assert (monomials(ps.expo, X) @ a <= bound + 1e-12 * L0).all()
    # far wider than the basins from the global constants (typically 0.2-0.5 rad)
    assert np.median(radii) > 0.6


def _third_partials(a, expo, q):
    """∇³p(q) (4, 4, 4) by exact differentiation of the monomials (numpy)."""
    from orbitspace.quotient._so3_poly import monomials

    out = np.zeros((4, 4, 4))
    for i, j, k in itertools.product(range(4), repeat=3):
        e = expo.copy()
        coef = np.ones(len(e))
        for m in (i, j, k):
            coef = coef * e[:, m]
            e[:, m] = np.maximum(e[:, m] - 1, 0)
        out[i, j, k] = (coef * monomials(e, q[None])[0]) @ a
    return out


@pytest.mark.parametrize(
    "action",
    [
        SO3("3x0e + 2x1o + 1x2e"),
        O3("2x0e + 1x0o + 2x1o + 1x1e + 1x2e + 1x2o"),
        SO3("40x0e + 33x1o + 17x2e"),  # long (vectorised) sums over the copies
        O3("5x0e + 9x1o + 4x1e + 2x2e + 31x2o"),
    ],
    ids=repr,
)
def test_compiled_pair_coefficients_match_numpy(action):
    """The solver's compiled c_0, C_l of indexed pairs equal so3_coefficients of the gathered
    rows (its numpy twin), signed too, also for zero, repeated and float32-valued rows; bad
    indices and shapes are refused."""
    from orbitspace.quotient.so3 import _pair_coefficients

    rng = np.random.default_rng(17)
    X, Y = rng.normal(size=(7, action.dim)), rng.normal(size=(5, action.dim))
    X[0] = 0.0
    X[1] = X[2]
    Y[3] = Y[3].astype(np.float32)
    rows, cols = rng.integers(0, 7, 30), rng.integers(0, 5, 30)
    for signed in (False, True):
        c0, C = so3_coefficients(X[rows], Y[cols], action, signed=signed)
        d0, D = _pair_coefficients(X, Y, rows, cols, action, signed)
        np.testing.assert_allclose(d0, c0, rtol=1e-13, atol=1e-13)
        for a, b in zip(C, D, strict=True):
            np.testing.assert_allclose(b, a, rtol=1e-13, atol=1e-13)
    v_neg = so3_pairs(X, Y, np.array([-1]), np.array([-2]), action)[0]
    v_pos = so3_pairs(X, Y, np.array([6]), np.array([3]), action)[0]
    np.testing.assert_array_equal(v_neg, v_pos)
    with pytest.raises(IndexError):
        so3_pairs(X, Y, np.array([7]), np.array([0]), action)
    with pytest.raises(ValueError, match="must have shape"):
        so3_pairs(X[:, :-1], Y, np.array([0]), np.array([0]), action)


def test_compiled_singular_values_match_numpy():
    """One-sided Jacobi against numpy's SVD on random and adversarial matrices (zero, rank
    deficient as the C_l of few copies are, ties, extreme scales); the solver's version is an
    upper bound."""
    from orbitspace.quotient._so3_coef import singular_values
    from orbitspace.quotient.so3 import _singular_values

    rng = np.random.default_rng(18)
    for k in (1, 3, 5, 7, 9):
        C = rng.normal(size=(40, k, k))
        C[0] = 0.0
        C[1] = np.outer(rng.normal(size=k), rng.normal(size=k))
        C[2] = np.eye(k)
        C[3, :, : k // 2] = 0.0
        C[4] = np.diag(np.arange(k, dtype=float))
        C[5] *= 1e-200
        C[6] *= 1e200
        C[7] = C[7].astype(np.float32)
        C[8] = sum(np.outer(rng.normal(size=k), rng.normal(size=k)) for _ in range(2))
        C[9] = np.tile(C[9, :1], (k, 1))  # repeated rows
        out = np.empty((40, k))
        singular_values(C, out)
        ref = np.linalg.svd(C, compute_uv=False)
        top = np.maximum(ref[:, :1], 1e-300)
        assert (np.abs(out - ref) <= 1e-13 * top).all()
        assert (_singular_values(C) >= ref).all()
        # the matrices are swept in lockstep batches: every one gets exactly what it gets alone
        alone = np.empty((1, k))
        for p in (0, 5, 9, 39):
            singular_values(C[p : p + 1], alone)
            np.testing.assert_array_equal(alone[0], out[p])
        odd = np.empty((13, k))  # a last batch not full
        singular_values(C[27:], odd)
        np.testing.assert_array_equal(odd, out[27:])
    with pytest.raises(AssertionError):  # the comparison above can fail: a wrong value
        bad = out.copy()
        bad[3, -1] += 1e-9 * ref[3, 0]
        assert (np.abs(bad - ref) <= 1e-13 * np.maximum(ref[:, :1], 1e-300)).all()


@pytest.mark.parametrize("degrees", [(1, 2), (2,), (1, 2, 3), (2, 4)])
def test_tensor_evaluation_matches_the_monomial_twin(degrees):
    """Value, Lie gradient and Hessian by symmetric-tensor contraction equal the monomial
    evaluation; the frame-free norm of the third-derivative tensor and the spectral norm of
    its unfolding equal (or, rounded up, just exceed) those from the monomials."""
    from orbitspace.quotient._so3_kernels import _tangent_norms
    from orbitspace.quotient._so3_monomial import _eval, _third_norms
    from orbitspace.quotient._so3_poly import poly_structure
    from orbitspace.quotient._so3_tensor import poly_tuple, tangent_third_norm, tensor_eval

    rng = np.random.default_rng(19)
    ps = poly_structure(degrees)
    L, n = ps.L, 2 * ps.L
    C = [rng.normal(size=(2 * k + 1, 2 * k + 1)) for k in degrees]
    a = ps.M @ np.concatenate([c.ravel() for c in C])
    poly = poly_tuple(a, n)
    a_, A, child, off, pair, mult = poly
    T = np.empty(off[-1])
    g, H, g2, H2 = np.empty(3), np.empty((3, 3)), np.empty(3), np.empty((3, 3))
    pw = np.empty((4, n + 1))
    scale = np.abs(a).sum()
    qs = list(rng.normal(size=(20, 4))) + list(np.eye(4)) + [-np.eye(4)[2], np.ones(4)]
    for q in qs:
        q = q / np.linalg.norm(q)
        f1 = _eval(a, ps.expo, L, q, True, g, H, pw)
        f2 = tensor_eval(A, child, off, pair, n, q, True, g2, H2, T)
        np.testing.assert_allclose([f2, *g2, *H2.ravel()], [f1, *g, *H.ravel()], atol=1e-13 * scale)
        frob, spec = _third_norms(a, ps.expo, L, q)
        frob_t = n * (n - 1) * (n - 2) / 8 * tangent_third_norm(T, off, mult, n)
        assert frob - 1e-12 * scale <= frob_t <= frob + 1e-5 * scale
        frob2, spec2 = _tangent_norms(poly, n, q, T)
        np.testing.assert_allclose(spec2, spec, atol=1e-12 * scale)
        assert frob2 == frob_t


def test_bcc_root_cells_cover_so3():
    """Every rotation vector of the π-ball lies in the Voronoi cell of a kept lattice point:
    within √5 a/4 of it (so within that angle as a rotation) and inside its cube of half-side
    a/2; rotation vectors near the rim included."""
    from orbitspace.quotient._so3_grid import _expm_so3
    from orbitspace.quotient._so3_poly import root_cells

    rng = np.random.default_rng(20)
    for n_axis in (8, 13):
        centres, table, half, radius = root_cells(2, n_axis)
        a = 2 * half
        assert np.isclose(radius, np.sqrt(5) * a / 4) and table.shape[0] == 20 * len(centres)
        u = rng.normal(size=(3000, 3))
        u /= np.linalg.norm(u, axis=1, keepdims=True)
        t = np.where(rng.random(3000) < 0.5, np.pi, np.pi * rng.random(3000) ** (1 / 3))
        w = u * t[:, None]
        # the nearest point of the whole lattice (each sublattice by rounding)
        cand = np.stack([a * np.round(w / a), a * (np.floor(w / a) + 0.5)], 1)
        near = cand[np.arange(len(w)), np.linalg.norm(cand - w[:, None], axis=2).argmin(1)]
        assert (np.abs(near - w).max(1) <= half + 1e-12).all()
        assert (np.linalg.norm(near - w, axis=1) <= radius + 1e-12).all()
        d = np.linalg.norm(centres[None] - near[:, None], axis=2).min(1)
        assert (d < 1e-9).all()  # the nearest lattice point is a kept root cell
        Rc, Rw = _expm_so3(near), _expm_so3(w)
        ang = np.arccos(
            np.clip((np.trace(Rc.transpose(0, 2, 1) @ Rw, axis1=1, axis2=2) - 1) / 2, -1, 1)
        )
        assert (ang <= radius + 1e-9).all()


def test_exact_cell_increment_holds():
    """Top degree 2: f − f(c) <= _exact_increment(|g|, λ_max, p, b3, L0, r) at every sampled
    rotation within angle r of c (dense samples, a third on the rim; r up to π)."""
    from orbitspace.quotient._so3_kernels import _exact_increment, _lambda_max
    from orbitspace.quotient._so3_poly import _tangent_frame, monomials, poly_structure
    from orbitspace.quotient._so3_tensor import poly_tuple, tangent_third_norm, tensor_eval

    rng = np.random.default_rng(21)
    ps = poly_structure((1, 2))
    worst = -np.inf
    for trial in range(12):
        C = [rng.normal(size=(2 * k + 1, 2 * k + 1)) for k in (1, 2)]
        if trial == 0:
            C[1][:] = 0.0  # degree 1 only, through the quartic form
        a = ps.M @ np.concatenate([c.ravel() for c in C])
        _, A, child, off, pair, mult = poly_tuple(a, 4)
        L0 = sum(np.linalg.svd(c, compute_uv=False).sum() for c in C)
        T, g, H = np.empty(off[-1]), np.empty(3), np.empty((3, 3))
        q = rng.normal(size=4)
        q /= np.linalg.norm(q)
        p = tensor_eval(A, child, off, pair, 4, q, True, g, H, T)
        b3 = tangent_third_norm(T, off, mult, 4)
        lam = _lambda_max(H[0, 0], H[1, 1], H[2, 2], H[0, 1], H[0, 2], H[1, 2])
        for r in (0.05, 0.2, 0.6, 1.5, np.pi):
            inc = _exact_increment(float(np.linalg.norm(g)), lam, p, b3, L0, r)
            U = rng.normal(size=(3000, 3))
            U /= np.linalg.norm(U, axis=1, keepdims=True)
            t = np.where(rng.random(3000) < 1 / 3, r, r * rng.random(3000))
            X = np.cos(t / 2)[:, None] * q + np.sin(t / 2)[:, None] * (U @ _tangent_frame(q).T)
            excess = (monomials(ps.expo, X) @ a - p).max() - inc
            worst = max(worst, excess / L0)
    assert worst <= 1e-12


def test_root_scan_and_unrolled_contraction_match_their_loops():
    """_scan keeps every single-precision root value above a threshold (and leaves out only
    values at most the threshold), also for thresholds on, next to and between float32
    values; _contract4 equals the table loop."""
    from orbitspace.quotient._so3_bnb import _scan
    from orbitspace.quotient._so3_tensor import _contract4, _contract_tables, tensor_tables

    rng = np.random.default_rng(22)
    F0 = rng.normal(size=997).astype(np.float32)
    F0[:50] = F0[50]  # ties
    cand = np.empty(F0.shape[0], dtype=np.int64)
    v = float(F0[50])
    for thr in [v, np.nextafter(v, -1), np.nextafter(v, 2), 0.0, -3.0, 1e-30, 10.0, -10.0]:
        k = _scan(F0, thr, cand)
        out = np.setdiff1d(np.arange(F0.shape[0]), cand[:k])
        assert (F0[out] <= thr).all()
        assert set(np.nonzero(F0 > thr)[0]) <= set(cand[:k])
        assert k <= (F0 > np.float32(thr) * (1 - 1e-6 * np.sign(thr)) - 1e-29).sum()
    child, off, mult, pair, scale = tensor_tables(4)
    A = rng.normal(size=35)
    q = rng.normal(size=4)
    T1, T2 = np.zeros(off[-1]), np.zeros(off[-1])
    _contract4(A, q, T1)
    _contract_tables(A, child, off, 4, q, T2)
    np.testing.assert_allclose(T1[: off[4]], T2[: off[4]], rtol=1e-14, atol=1e-14)


def test_eigenvalue_range_matches_numpy():
    """_lambda_range: (λ_max, λ_min) of symmetric 3 × 3 matrices from one closed-form solve,
    rounded outwards (never inside the true range, also for repeated and nearly repeated
    roots, where the closed form loses half the digits), against numpy.linalg.eigvalsh."""
    from orbitspace.quotient._so3_kernels import _lambda_max, _lambda_min, _lambda_range

    rng = np.random.default_rng(23)
    mats = [rng.normal(size=(3, 3)) for _ in range(200)]
    mats += [np.diag([1.0, 1.0, -2.0]), np.eye(3), np.zeros((3, 3)), np.diag([3.0, -1.0, -1.0])]
    v = rng.normal(size=3)
    mats.append(np.outer(v, v))
    for _ in range(200):  # nearly repeated roots in random bases, and nearly scalar matrices
        Q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
        d = rng.choice([-1.0, 2.0], 3) + 10.0 ** rng.uniform(-16, -6) * rng.normal(size=3)
        mats.append(0.5 * Q @ np.diag(d) @ Q.T)
        mats.append(0.5 * (-3.0 * np.eye(3) + 1e-9 * rng.normal(size=(3, 3))))
    for M in mats:
        H = M + M.T
        w = np.linalg.eigvalsh(H)
        args = (H[0, 0], H[1, 1], H[2, 2], H[0, 1], H[0, 2], H[1, 2])
        top, low = _lambda_range(*args)
        scale = np.abs(H).sum() + 1e-300
        assert w[-1] <= top <= w[-1] + 1e-5 * scale and w[0] - 1e-5 * scale <= low <= w[0]
        assert np.isclose(top, _lambda_max(*args)) and np.isclose(low, _lambda_min(*args))


def test_bound_weights_give_the_derivative_bounds():
    """The solver's L_k = sv @ _bound_weights(degrees) equal _derivative_bound, k = 0..4."""
    from orbitspace.quotient.so3 import _bound_weights

    rng = np.random.default_rng(24)
    for degrees in [(1, 2), (2,), (1, 3, 4)]:
        sv = [np.sort(rng.random((6, 2 * d + 1)), 1)[:, ::-1] for d in degrees]
        Lk = np.concatenate(sv, 1) @ _bound_weights(degrees)
        for k in range(5):
            np.testing.assert_allclose(Lk[:, k], _derivative_bound(sv, degrees, k), rtol=1e-14)
