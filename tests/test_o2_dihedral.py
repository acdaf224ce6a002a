"""O(2) and D_N: group structure, escnn's irrep conventions from first principles, and the
solvers against their exhaustive twins and an independent enumeration."""

from __future__ import annotations

import numpy as np
import pytest

import orbitspace as osp
from orbitspace import O2, SO2, Cyclic, Dihedral
from orbitspace.quotient import (
    max_inner_product,
    pairwise_quotient_distances,
    quotient_distance,
    quotient_knn,
)
from orbitspace.quotient._registry import find_exhaustive, find_lower_bound, find_solver
from orbitspace.quotient.pruning import lower_bound_distances, lower_bound_features
from orbitspace.quotient.solvers import solve_pairs
from orbitspace.testing import check_group_action, check_quotient_metric

O2_ACTIONS = [
    O2("2x(0,0) + 1x(1,0) + 4x(1,1) + 2x(1,3)"),
    O2("1x(1,2)"),
    O2("1x(1,1) + 1x(1,5) + 2x(1,0)"),
    O2("3x(1,0)"),  # only sign scalars
    O2("2x(0,0)"),  # trivial
]
DN_ACTIONS = [
    Dihedral(4, "1xregular + 2x(1,1) + 1x(0,2) + 1x(1,2) + 1x(1,0) + 1x(0,0)"),
    Dihedral(8, "2xregular + 1x(1,3) + 1x(0,4)"),
    Dihedral(5, "1xregular + 2x(1,2) + 1x(1,0)"),
    Dihedral(3, "1x(1,1)"),
    Dihedral(2, "1xregular + 1x(1,1) + 1x(0,1)"),
    Dihedral(1, "1xregular + 1x(1,0)"),
    Dihedral(6, "2x(1,0) + 1x(0,3) + 1x(1,3)"),  # only 1-D irreps
]
ACTIONS = O2_ACTIONS + DN_ACTIONS


def psichi(theta, s, k):
    """escnn's ``utils.psichi``: rotation by kθ after diag(1, (-1)^s)."""
    s = -1.0 if s else 1.0
    x = k * theta
    return np.array([[np.cos(x), -s * np.sin(x)], [np.sin(x), s * np.cos(x)]])


def block_diag(mats):
    n = sum(m.shape[0] for m in mats)
    out, pos = np.zeros((n, n)), 0
    for m in mats:
        out[pos : pos + m.shape[0], pos : pos + m.shape[0]] = m
        pos += m.shape[0]
    return out


def dn_law(N, a, b):
    """escnn's D_N product (j1, k1)(j2, k2) = (j1 + j2, k1 + (-1)^j1 k2)."""
    return ((a[0] + b[0]) % 2, (a[1] + (-1) ** a[0] * b[1]) % N)


def dn_matrix_first_principles(action, j, k):
    """The matrix of (j, k) from escnn's formulas and, for regular blocks, from the group law."""
    N = action.N
    theta = 2 * np.pi * k / N
    elems = [(0, i) for i in range(N)] + [(1, i) for i in range(N)]
    mats = []
    for mult, kind in action.terms:
        if kind == "regular":
            P = np.zeros((2 * N, 2 * N))
            for col, e in enumerate(elems):  # ρ(h) e_g = e_{hg}
                P[elems.index(dn_law(N, (j, k), e)), col] = 1.0
            mats += [P] * mult
            continue
        jj, kk = kind
        if kk == 0:
            m = np.array([[1.0 if jj == 0 or j == 0 else -1.0]])
        elif 2 * kk == N:
            m = np.array([[np.cos(kk * theta) * (-1.0 if (jj == 1 and j == 1) else 1.0)]])
        else:
            m = psichi(theta, j, kk)
        mats += [m] * mult
    return block_diag(mats)


def o2_matrix_first_principles(action, j, theta):
    mats = []
    for mult, (jj, kk) in action.terms:
        if kk == 0:
            m = np.array([[1.0 if jj == 0 or j == 0 else -1.0]])
        else:
            m = psichi(theta, j, kk)
        mats += [m] * mult
    return block_diag(mats)


# -- group structure -------------------------------------------------------------------------


@pytest.mark.parametrize("action", ACTIONS, ids=repr)
def test_group_axioms(action):
    errors = check_group_action(action, random_state=0, n_samples=8)
    assert max(errors.values()) < 1e-12


@pytest.mark.parametrize("action", ACTIONS, ids=repr)
def test_matrices_are_orthogonal_and_a_homomorphism(action):
    g = action.sample(10, random_state=1)
    h = action.sample(10, random_state=2)
    Mg, Mh = action.matrix(g), action.matrix(h)
    eye = np.eye(action.dim)
    np.testing.assert_allclose(
        Mg @ np.swapaxes(Mg, -1, -2), np.broadcast_to(eye, Mg.shape), atol=1e-12
    )
    np.testing.assert_allclose(action.matrix(action.compose(g, h)), Mg @ Mh, atol=1e-12)
    np.testing.assert_allclose(
        action.matrix(action.inverse(g)), np.swapaxes(Mg, -1, -2), atol=1e-12
    )
    np.testing.assert_array_equal(action.matrix(action.identity()), eye)
    dets = np.linalg.det(Mg)
    np.testing.assert_allclose(np.abs(dets), 1.0, atol=1e-10)


@pytest.mark.parametrize("action", ACTIONS, ids=repr)
def test_repr_round_trips_and_value_semantics(action):
    parsed = osp.parse_action(repr(action))
    assert parsed == action and hash(parsed) == hash(action) and repr(parsed) == repr(action)
    with pytest.raises(AttributeError):
        action.foo = 1


def test_rep_strings_parse_loosely_and_print_canonically():
    assert O2(" 2 x ( 0 , 0 ) + (1,1)") == O2("2x(0,0) + 1x(1,1)")
    assert repr(Dihedral(4, "REGULAR + 2x(1,1)")) == "Dihedral(4, '1xregular + 2x(1,1)')"
    assert O2("1x(1,1)") != SO2("1x1") and Dihedral(4, "1x(1,1)") != Dihedral(8, "1x(1,1)")
    assert O2("2x(0,0) + 1x(1,0) + 4x(1,1)").dim == 11
    assert Dihedral(8, "3xregular + 1x(0,4)").dim == 49
    assert Dihedral(4).rep == "1xregular" and Dihedral(4).order == 8


def test_o2_matrices_are_escnns_irreps():
    action = O2("1x(0,0) + 1x(1,0) + 2x(1,1) + 1x(1,3)")
    for j in (0, 1):
        for theta in np.random.default_rng(3).uniform(0, 2 * np.pi, 5):
            np.testing.assert_allclose(
                action.matrix([j, theta]), o2_matrix_first_principles(action, j, theta), atol=1e-14
            )


@pytest.mark.parametrize("action", DN_ACTIONS, ids=repr)
def test_dihedral_matrices_match_an_independent_enumeration(action):
    """All 2N matrices built from escnn's formulas and the group law, not from our code."""
    elems = action.elements()
    assert (
        elems.shape == (2 * action.N, 2) and len({tuple(e) for e in elems.tolist()}) == 2 * action.N
    )
    ours = action.matrix(elems)
    for e, M in zip(elems, ours):
        np.testing.assert_allclose(M, dn_matrix_first_principles(action, *e), atol=1e-14)
    # the products follow escnn's law
    N = action.N
    for a in elems:
        for b in elems:
            assert tuple(action.compose(a, b)) == dn_law(N, tuple(a), tuple(b))


@pytest.mark.parametrize("action", DN_ACTIONS, ids=repr)
def test_dihedral_solver_matches_brute_force_over_first_principles_matrices(action):
    rng = np.random.default_rng(4)
    X, Y = rng.normal(size=(30, action.dim)), rng.normal(size=(30, action.dim))
    mats = np.stack([dn_matrix_first_principles(action, *e) for e in action.elements()])
    brute = np.einsum("ni,gij,nj->ng", X, mats, Y).max(1)
    value, g = max_inner_product(X, Y, action)
    np.testing.assert_allclose(value, brute, atol=1e-12)
    assert g.shape == (30, 2) and g.dtype.kind == "i"


def test_rotations_restrict_to_so2_and_cyclic():
    o2 = O2("1x(0,0) + 1x(1,0) + 2x(1,1) + 1x(1,3)")
    so2 = SO2("1x0 + 1x0 + 2x1 + 1x3")
    dn = Dihedral(6, "1xregular + 1x(1,2) + 1x(0,3)")
    cn = Cyclic(6, "2xregular + 1x2 + 1x3")
    for t in (0.3, 2.0):
        np.testing.assert_allclose(o2.matrix([0.0, t]), so2.matrix(t), atol=1e-15)
    for k in range(6):
        np.testing.assert_array_equal(dn.matrix([0, k]), cn.matrix(k))


def test_reflections_are_involutions_and_conjugate_rotations():
    action = Dihedral(5, "1xregular + 1x(1,2)")
    f = np.array([1, 0])
    for k in range(5):
        r = np.array([0, k])
        np.testing.assert_array_equal(action.compose(f, f), [0, 0])
        np.testing.assert_array_equal(action.compose(action.compose(f, r), f), action.inverse(r))
    o2 = O2("1x(1,2)")
    np.testing.assert_allclose(o2.matrix([1.0, 0.7]) @ o2.matrix([1.0, 0.7]), np.eye(2), atol=1e-15)


def test_components_are_typed_with_reflection_parity():
    comps = O2("2x(0,0) + 1x(1,0) + 4x(1,1)").components()
    assert [(c.irrep.label, c.irrep.dim, c.start, c.multiplicity) for c in comps] == [
        ("(0,0)", 1, 0, 2),
        ("(1,0)", 1, 2, 1),
        ("(1,1)", 2, 3, 4),
    ]
    assert [c.irrep.parity for c in comps] == [1, -1, None]
    assert [c.irrep.trivial for c in comps] == [True, False, False]
    assert [c.irrep.degree for c in comps] == [0, 0, 1]
    dcomps = Dihedral(4, "1xregular + 1x(0,2) + 1x(1,2) + 1x(1,1)").components()
    assert [(c.irrep.label, c.irrep.dim, c.irrep.kind, c.irrep.parity) for c in dcomps] == [
        ("regular", 8, "regular", None),
        ("(0,2)", 1, "irrep", 1),
        ("(1,2)", 1, "irrep", -1),
        ("(1,1)", 2, "irrep", None),
    ]
    assert all(c.irrep.group == "D_4" for c in dcomps)
    # parity is the sign of the reflection f = (1, 0) on each 1-dimensional irrep
    action = Dihedral(4, "1x(0,0) + 1x(1,0) + 1x(0,2) + 1x(1,2)")
    np.testing.assert_array_equal(
        np.diag(action.matrix([1, 0])), [c.irrep.parity for c in action.components()]
    )


def test_traits_and_descriptions():
    o2, dn = O2("1x(0,0) + 1x(1,1)"), Dihedral(8, "1xregular")
    assert (o2.group_name, dn.group_name) == ("O(2)", "D_8")
    assert o2.element_shape == (2,) and o2.event_shape == (o2.dim,) and o2.node_axis is None
    assert not o2.is_finite and dn.is_finite and dn.order == 16
    assert O2("2x(0,0)").is_trivial and not O2("1x(1,0)").is_trivial
    assert Dihedral(3, "1x(0,0)").is_trivial and not Dihedral(3, "1x(1,0)").is_trivial
    assert o2.has_components() and dn.has_components()
    assert "O(2)" in o2.describe() and "2-D block" in o2.describe()
    assert "D_8" in dn.describe() and "regular field of size 16" in dn.describe()
    with pytest.raises(ValueError, match="infinite"):
        o2.elements()
    with pytest.raises(ValueError, match="node"):
        o2.permute_mask(o2.identity(), np.ones(3, bool))


def test_sampling_is_haar_and_reproducible():
    o2 = O2("1x(1,1)")
    g = o2.sample(20000, random_state=0)
    assert g.shape == (20000, 2) and o2.sample(random_state=0).shape == (2,)
    np.testing.assert_array_equal(g, o2.sample(20000, random_state=0))
    assert abs(g[:, 0].mean() - 0.5) < 0.02 and set(np.unique(g[:, 0])) == {0.0, 1.0}
    assert abs(np.cos(g[:, 1]).mean()) < 0.03 and abs(np.sin(g[:, 1]).mean()) < 0.03
    # Haar: left translation leaves the distribution alone (first moments of the matrix)
    M = o2.matrix(o2.compose([1.0, 0.4], g)).mean(0)
    np.testing.assert_allclose(M, 0.0, atol=0.03)
    dn = Dihedral(4)
    h = dn.sample(16000, random_state=1)
    idx = h[:, 0] * 4 + h[:, 1]
    counts = np.bincount(idx, minlength=8)
    assert counts.min() > 1800 and counts.max() < 2200


def test_bad_input_names_expected_and_received():
    with pytest.raises(ValueError, match=r"\(0,1\).*not an irrep id of O\(2\)"):
        O2("1x(0,1)")
    with pytest.raises(ValueError, match="no regular representation"):
        O2("1xregular")
    with pytest.raises(ValueError, match=r"cannot parse term '1x3'.*escnn's irrep id"):
        O2("1x3")
    with pytest.raises(ValueError, match="multiplicity 0"):
        O2("0x(1,1)")
    with pytest.raises(TypeError, match="representation string"):
        O2(3)
    with pytest.raises(ValueError, match=r"\(1,3\).*not an irrep id of D_4.*0 <= k <= 2, \(0,2\)"):
        Dihedral(4, "1x(1,3)")
    with pytest.raises(ValueError, match=r"\(0,1\).*not an irrep id of D_5"):
        Dihedral(5, "1x(0,1)")
    with pytest.raises(ValueError, match=">= 1"):
        Dihedral(0)
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 2\).*received shape \(\)"):
        O2("1x(1,1)").act(0.3, np.ones(2))
    with pytest.raises(ValueError, match="must be 0 or 1"):
        O2("1x(1,1)").act([2.0, 0.3], np.ones(2))
    with pytest.raises(TypeError, match="integer pairs"):
        Dihedral(4, "1x(1,1)").act([0, 0.5], np.ones(2))
    with pytest.raises(ValueError, match=r"dim 2 but X.shape\[-1\] is 3"):
        O2("1x(1,1)").act([0.0, 0.3], np.ones(3))


# -- solvers --------------------------------------------------------------------------------


def _value_at(X, Y, g, action):
    return (X * np.asarray(action.act(g, Y))).sum(-1)


def _assert_matches_oracle(X, Y, action, atol=1e-10):
    fast, g = max_inner_product(X, Y, action)
    slow, g_slow = max_inner_product(X, Y, action, method="exhaustive")
    scale = 1.0 + np.abs(slow).max()
    np.testing.assert_allclose(fast, slow, atol=atol * scale, rtol=0)
    np.testing.assert_allclose(_value_at(X, Y, g, action), fast, atol=atol * scale, rtol=0)
    np.testing.assert_allclose(_value_at(X, Y, g_slow, action), slow, atol=atol * scale, rtol=0)
    return g


@pytest.mark.parametrize("action", ACTIONS, ids=repr)
def test_solver_matches_exhaustive_on_random_pairs(action):
    rng = np.random.default_rng(5)
    X, Y = rng.normal(size=(60, action.dim)), rng.normal(size=(60, action.dim))
    g = _assert_matches_oracle(X, Y, action)
    assert g.shape == (60, 2)


@pytest.mark.parametrize("action", ACTIONS, ids=repr)
def test_solver_matches_exhaustive_on_adversarial_pairs(action):
    """Mirror-symmetric inputs (ties between the two components), zero blocks, integer grids."""
    rng = np.random.default_rng(6)
    n, D = 48, action.dim
    X = rng.integers(-1, 2, size=(n, D)).astype(float)
    Y = rng.integers(-1, 2, size=(n, D)).astype(float)
    sym = 0.5 * (X[:12] + action.reflect(X[:12]))  # fixed by the reflection f
    X[:12] = sym
    Y[:12] = np.asarray(action.act(action.sample(12, random_state=7), sym))
    Y[12:20] = action.reflect(X[12:20])  # the reflected copy
    for comp in action.components()[::2]:  # zero every other component
        X[20:30, comp.slice] = 0.0
        Y[25:35, comp.slice] = 0.0
    X[40:44], Y[44:48] = 0.0, 0.0
    _assert_matches_oracle(X, Y, action, atol=1e-10)


@pytest.mark.parametrize("action", ACTIONS, ids=repr)
def test_solver_recovers_an_identical_orbit(action):
    rng = np.random.default_rng(8)
    Y = rng.normal(size=(25, action.dim))
    X = np.asarray(action.act(action.sample(25, random_state=9), Y))
    value, g = max_inner_product(X, Y, action)
    np.testing.assert_allclose(value, (Y**2).sum(-1), rtol=1e-11)
    np.testing.assert_allclose(np.asarray(action.act(g, Y)), X, atol=1e-9)


@pytest.mark.parametrize("action", O2_ACTIONS, ids=repr)
def test_o2_solver_against_an_independent_grid_over_both_components(action):
    """A grid of O(2) matrices (ours, no SO(2) machinery): fast >= grid max, and no more than
    the Lipschitz slack M1·h/2 above it."""
    rng = np.random.default_rng(10)
    X, Y = rng.normal(size=(20, action.dim)), rng.normal(size=(20, action.dim))
    L = 2048
    h = 2 * np.pi / L
    grid = np.stack([np.repeat([0.0, 1.0], L), np.tile(np.arange(L) * h, 2)], -1)
    vals = np.einsum("ni,gij,nj->ng", X, action.matrix(grid), Y).max(1)
    fast, _ = max_inner_product(X, Y, action)
    M1 = np.zeros(20)
    for comp in action.components():
        if comp.irrep.dim == 2:
            for sl in comp.copy_slices():
                M1 += (
                    comp.irrep.degree
                    * np.linalg.norm(X[:, sl], axis=1)
                    * np.linalg.norm(Y[:, sl], axis=1)
                )
    assert np.all(fast >= vals - 1e-12)
    assert np.all(fast <= vals + M1 * h / 2 + 1e-12)


def test_o2_picks_the_reflection_when_only_the_reflection_aligns():
    action = O2("1x(1,1) + 1x(1,2) + 1x(1,0)")
    rng = np.random.default_rng(11)
    Y = rng.normal(size=(10, action.dim))
    X = np.asarray(action.act(np.stack([np.ones(10), rng.uniform(0, 6, 10)], -1), Y))
    _, g = max_inner_product(X, Y, action)
    np.testing.assert_array_equal(g[:, 0], 1.0)
    # no rotation alone aligns them: the SO(2) distance is positive, the O(2) one zero
    so2 = action.rotation_part
    assert np.all(np.asarray(quotient_distance(X, Y, so2)) > 1e-3)
    np.testing.assert_allclose(quotient_distance(X, Y, action), 0.0, atol=1e-7)


@pytest.mark.parametrize("action", [O2_ACTIONS[0], DN_ACTIONS[0]], ids=repr)
def test_registered_solver_oracle_and_bound(action):
    solver = find_solver(action)
    assert solver.certified and solver.name != "enumeration"
    assert find_exhaustive(action).__module__.startswith("orbitspace.quotient.")
    assert find_lower_bound(action).__name__ != "_norm_bound"
    rng = np.random.default_rng(12)
    X, Y = rng.normal(size=(5, action.dim)), rng.normal(size=(7, action.dim))
    sol = solve_pairs(X, Y, [0, 1, 4], [6, 0, 3], action)
    assert sol.value.shape == (3,) and sol.g.shape == (3, 2) and sol.gap.shape == (3,)
    assert sol.certified and np.all(sol.gap >= 0) and np.all(sol.gap < 1e-9)


@pytest.mark.parametrize("action", ACTIONS, ids=repr)
def test_quotient_metric_axioms(action):
    errors = check_quotient_metric(action, random_state=13, n_samples=10)
    assert max(errors.values()) < 1e-7


@pytest.mark.parametrize("action", ACTIONS, ids=repr)
def test_pairwise_and_knn_match_the_exhaustive_distances(action):
    rng = np.random.default_rng(14)
    X = rng.normal(size=(14, action.dim))
    X[7:] = np.asarray(action.act(action.sample(7, random_state=15), X[:7]))  # orbit mates
    D = np.asarray(pairwise_quotient_distances(X, action=action))
    De = np.asarray(pairwise_quotient_distances(X, action=action, method="exhaustive"))
    np.testing.assert_allclose(D, De, atol=1e-9)
    np.testing.assert_allclose(D, D.T, atol=1e-12)
    np.testing.assert_allclose(np.diag(D[:7, 7:]), 0.0, atol=1e-7)
    dist, idx = quotient_knn(X, 3, action=action)
    De_off = De + np.diag(np.full(14, np.inf))
    np.testing.assert_allclose(dist, np.sort(De_off, axis=1)[:, :3], atol=1e-9)
    np.testing.assert_allclose(np.take_along_axis(De, idx, 1), dist, atol=1e-9)
    Y = rng.normal(size=(5, action.dim))
    dist_y, _ = quotient_knn(X, 2, action=action, Y=Y)
    cross = np.asarray(quotient_distance(X[:, None], Y[None], action))
    np.testing.assert_allclose(dist_y, np.sort(cross, axis=1)[:, :2], atol=1e-9)


@pytest.mark.parametrize("action", ACTIONS, ids=repr)
def test_lower_bounds_are_invariant_and_below_the_distance(action):
    rng = np.random.default_rng(16)
    X, Y = rng.normal(size=(30, action.dim)), rng.normal(size=(30, action.dim))
    F = lower_bound_features(action, X)
    Fg = lower_bound_features(action, np.asarray(action.act(action.sample(30, random_state=17), X)))
    np.testing.assert_allclose(F, Fg, atol=1e-12)
    lower = lower_bound_distances(F, lower_bound_features(action, Y))
    exact = np.asarray(pairwise_quotient_distances(X, Y, action=action, method="exhaustive"))
    assert np.all(lower <= exact + 1e-9)
    # and the bound is informative: better than the plain norm difference on average
    norm_gap = np.abs(np.linalg.norm(X, axis=1)[:, None] - np.linalg.norm(Y, axis=1)[None])
    assert lower.mean() >= norm_gap.mean() * (1 - 1e-6)


def test_torch_inputs_come_back_as_torch():
    torch = pytest.importorskip("torch")
    action = Dihedral(4, "1xregular + 1x(1,1)")
    X = torch.randn(6, action.dim, dtype=torch.float64)
    out = action.act(action.sample(6, random_state=0), X)
    assert isinstance(out, torch.Tensor)
    d = quotient_distance(X, out, action)
    assert isinstance(d, torch.Tensor) and float(d.abs().max()) < 1e-7


@pytest.mark.parametrize("action", ACTIONS, ids=repr)
def test_pruned_knn_with_the_registered_lower_bound_is_exact(action):
    """The filter-and-refine k-NN search (quotient_knn's engine) with the O(2) / D_N lower
    bounds returns the brute-force neighbours."""
    from orbitspace.quotient.knn import exact_knn

    rng = np.random.default_rng(18)
    X, Y = rng.normal(size=(20, action.dim)), rng.normal(size=(40, action.dim))
    Y[:10] = np.asarray(action.act(action.sample(10, random_state=19), X[:10]))
    dist, idx = exact_knn(X, 4, action=action, Y=Y)
    exact = np.asarray(pairwise_quotient_distances(X, Y, action=action, method="exhaustive"))
    np.testing.assert_allclose(dist, np.sort(exact, axis=1)[:, :4], atol=1e-9)
    np.testing.assert_allclose(np.take_along_axis(exact, idx, 1), dist, atol=1e-9)
