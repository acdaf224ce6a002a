"""SO(3) / O(3) invariants: Clebsch-Gordan tensors, exact invariance, what they separate."""

import numpy as np
import pytest

import orbitspace as osp
from orbitspace.groups._clebsch_gordan import clebsch_gordan
from orbitspace.groups._wigner import wigner_D
from orbitspace.invariants.so3 import (
    bispectrum,
    bispectrum_terms,
    copy_groups,
    norms,
    power_spectrum,
    so3_hard_pairs,
)
from orbitspace.invariants.so3_properties import (
    so3_bispectrum_properties,
    so3_norms_properties,
    so3_power_spectrum_properties,
)
from orbitspace.quotient._registry import find_solver

ACTIONS = [
    osp.SO3("2x0e + 3x1o + 2x2e + 1x3o"),
    osp.O3("1x0e + 1x0o + 2x1o + 1x1e + 1x2e + 1x2o"),
    osp.SO3("1x0o + 1x1e + 1x1o"),
]
MAPS = {
    "norms": norms,
    "power_spectrum": power_spectrum,
    "bispectrum": lambda X, a: bispectrum(X, a, copies="all"),
    "bispectrum(copies='first')": lambda X, a: bispectrum(X, a, copies="first"),
}
TRIPLES = [(0, 0, 0), (1, 1, 0), (1, 1, 1), (1, 1, 2), (1, 2, 3), (2, 2, 2), (3, 3, 2), (2, 4, 3)]


def _solver_registered() -> bool:
    try:
        find_solver(osp.SO3("1x1o"))
    except ValueError:
        return False
    return True


# -- Clebsch-Gordan tensors ---------------------------------------------------------------------
@pytest.mark.parametrize("ls", TRIPLES + [(5, 6, 4), (7, 7, 8)])
def test_clebsch_gordan_is_invariant_under_our_wigner_matrices(ls):
    C = clebsch_gordan(*ls)
    assert C.shape == tuple(2 * v + 1 for v in ls)
    assert np.isclose(np.linalg.norm(C), 1.0)
    for R in osp.SO3("1x0e").sample(3, random_state=sum(ls)):
        D = [wigner_D(v, R) for v in ls]
        np.testing.assert_allclose(np.einsum("ia,jb,kc,abc->ijk", *D, C), C, atol=1e-12)


def test_clebsch_gordan_equals_e3nn_wigner_3j_up_to_sign():
    torch = pytest.importorskip("torch")
    o3 = pytest.importorskip("e3nn.o3")
    for ls in TRIPLES:
        W = o3.wigner_3j(*ls, dtype=torch.float64).numpy()
        C = clebsch_gordan(*ls)
        assert min(np.abs(C - W).max(), np.abs(C + W).max()) < 1e-12, ls


def test_clebsch_gordan_rejects_the_triangle_rule():
    with pytest.raises(ValueError, match=r"\|l1 - l2\| <= l3 <= l1 \+ l2; received \(1, 1, 3\)"):
        clebsch_gordan(1, 1, 3)


# -- exact invariance -------------------------------------------------------------------------
@pytest.mark.parametrize("action", ACTIONS, ids=repr)
@pytest.mark.parametrize("name", list(MAPS))
def test_exactly_invariant(action, name):
    f = MAPS[name]
    rng = np.random.default_rng(0)
    X = rng.normal(size=(8, action.dim))
    g = action.sample(8, random_state=1)
    if action.includes_reflections:
        assert (np.linalg.det(g) < 0).any()
    F, Fg = f(X, action), f(action.act(g, X), action)
    assert F.shape[-1] > 0 and F.shape[:-1] == (8,)
    np.testing.assert_allclose(Fg, F, atol=1e-11 * max(1.0, np.abs(F).max()))


def test_o3_grouping_by_parity_matters():
    """Pairing a vector with a pseudovector is SO(3)- but not O(3)-invariant: the test fails
    for the wrong grouping."""
    rho = osp.O3("1x1o + 1x1e")
    X = np.random.default_rng(2).normal(size=(4, 6))
    g = -np.eye(3)
    as_so3 = osp.SO3("1x1o + 1x1e")
    assert np.abs(power_spectrum(rho.act(g, X), as_so3) - power_spectrum(X, as_so3)).max() > 1e-3
    np.testing.assert_allclose(power_spectrum(rho.act(g, X), rho), power_spectrum(X, rho))
    assert copy_groups(rho) == [((1, -1), [0]), ((1, 1), [3])]
    assert copy_groups(as_so3) == [((1, 0), [0, 3])]


def test_shapes_and_layout():
    rho = osp.SO3("2x0e + 3x1o + 2x2e")
    X = np.random.default_rng(3).normal(size=(2, 5, rho.dim))
    assert norms(X, rho).shape == (2, 5, 7)
    assert power_spectrum(X, rho).shape == (2, 5, 2 + 6 + 3)
    n_terms = len(bispectrum_terms(rho, copies="all"))
    assert bispectrum(X, rho, copies="all").shape == (2, 5, 11 + n_terms)
    np.testing.assert_allclose(power_spectrum(X, rho)[..., :2], X[..., :2])  # scalars kept
    # the Gram entries, checked by hand for the degree-1 group
    V = X[..., 2:11].reshape(2, 5, 3, 3)
    G = np.einsum("...ai,...bi->...ab", V, V)
    iu = np.triu_indices(3)
    np.testing.assert_allclose(power_spectrum(X, rho)[..., 2:8], G[..., iu[0], iu[1]])


def test_norms_equal_e3nn_norm():
    torch = pytest.importorskip("torch")
    o3 = pytest.importorskip("e3nn.o3")
    irreps = "2x0e + 3x1o + 2x2e"
    X = np.random.default_rng(4).normal(size=(6, osp.SO3(irreps).dim))
    ref = o3.Norm(irreps)(torch.tensor(X)).numpy()
    np.testing.assert_allclose(np.abs(norms(X, osp.SO3(irreps))), ref, atol=1e-12)


def test_torch_in_torch_out_and_bad_input():
    torch = pytest.importorskip("torch")
    rho = osp.SO3("1x1o + 1x2e")
    X = np.random.default_rng(5).normal(size=(3, 8))
    out = bispectrum(torch.tensor(X), rho)
    assert isinstance(out, torch.Tensor)
    np.testing.assert_allclose(out.numpy(), bispectrum(X, rho))
    with pytest.raises(TypeError, match="needs an SO3 or O3 action"):
        power_spectrum(X, osp.SO2("4x1"))
    with pytest.raises(ValueError, match="copies must be one of"):
        bispectrum(X, rho, copies="some")
    with pytest.raises(ValueError, match="has dim 8 but X.shape"):
        norms(np.ones(7), rho)


def test_bispectrum_terms_skip_vanishing_and_parity_violating_triples():
    # one odd-degree copy: (3, 3, 3) and (3, 3, 1)-type triples of one copy vanish
    assert bispectrum_terms(osp.SO3("1x3e"), copies="all") == []
    # O(3): (1o, 1o, 1e) has parity +1 but repeats a copy in the antisymmetric (1, 1, 1)
    assert bispectrum_terms(osp.O3("1x1o + 1x1e"), copies="all") == []
    # SO(3) of the same irreps: parity does not act, so a x b meets nothing either
    terms = bispectrum_terms(osp.SO3("3x1o"), copies="all")
    assert ((0, 3, 6), (1, 1, 1)) in terms
    assert bispectrum_terms(osp.SO3("3x1o"), copies="first") == []
    irreps = "1x1o + 1x2e + 1x1e + 1x2o"
    o3_terms = bispectrum_terms(osp.O3(irreps), copies="all")
    parity = {0: -1, 3: 1, 8: 1, 11: -1}
    assert o3_terms and all(parity[a] * parity[b] * parity[c] == 1 for (a, b, c), _ in o3_terms)
    # (1o, 2e, 1e) has parity -1: kept for SO(3), dropped for O(3)
    assert ((0, 3, 8), (1, 2, 1)) in bispectrum_terms(osp.SO3(irreps), copies="all")
    assert ((0, 3, 8), (1, 2, 1)) not in o3_terms


# -- what they separate and what not ------------------------------------------------------------
def _quartic_degree2(x):
    """Norm of the degree-2 part of x ⊗ x for a single l = 3 copy (a quartic invariant)."""
    return float(np.linalg.norm(np.einsum("ijk,i,j->k", clebsch_gordan(3, 3, 2), x, x)))


def _separating_value(pair):
    if pair.name.startswith("relative_orientation"):
        return bispectrum(pair.x, pair.action)[-3:], bispectrum(pair.y, pair.action)[-3:]
    if pair.name == "chirality":
        f = (
            bispectrum(pair.x, pair.action, copies="all"),
            bispectrum(pair.y, pair.action, copies="all"),
        )
        return f
    if pair.name == "single_degree":
        return _quartic_degree2(pair.x), _quartic_degree2(pair.y)
    if pair.name == "parity_mix":
        return (pair.x[:3] @ pair.x[3:]) ** 2, (pair.y[:3] @ pair.y[3:]) ** 2
    raise AssertionError(pair.name)


@pytest.mark.parametrize("pair", so3_hard_pairs(), ids=lambda p: p.name)
def test_hard_pairs_fool_the_blind_invariants_and_are_different_orbits(pair):
    x, y, action = pair.x, pair.y, pair.action
    assert "norms" in pair.blind and "power_spectrum" in pair.blind
    for name in pair.blind:
        np.testing.assert_allclose(MAPS[name](x, action), MAPS[name](y, action), atol=1e-12)
    fx, fy = _separating_value(pair)
    # an invariant that differs proves the orbits differ
    assert np.abs(np.asarray(fx) - np.asarray(fy)).max() > 0.05, pair.separated_by
    # and the separating invariant is itself invariant (so the difference is not an accident)
    g = action.sample(random_state=3)
    moved = type(pair)(pair.name, action, action.act(g, x), action.act(g, y), (), "")
    gx, gy = _separating_value(moved)
    np.testing.assert_allclose(gx, fx, atol=1e-10)
    np.testing.assert_allclose(gy, fy, atol=1e-10)


def test_bispectrum_separates_what_the_power_spectrum_cannot():
    pairs = {p.name: p for p in so3_hard_pairs()}
    p = pairs["relative_orientation"]
    assert np.abs(bispectrum(p.x, p.action) - bispectrum(p.y, p.action)).max() > 0.05
    p = pairs["chirality"]
    first = bispectrum(p.x, p.action, copies="first"), bispectrum(p.y, p.action, copies="first")
    np.testing.assert_allclose(*first, atol=1e-12)  # first copies only: blind to chirality
    full = bispectrum(p.x, p.action, copies="all"), bispectrum(p.y, p.action, copies="all")
    assert np.abs(full[0] - full[1]).max() > 0.05
    # under O(3) the mirror image is the same orbit, and every O(3) invariant agrees
    o3 = osp.O3("3x1o")
    np.testing.assert_allclose(bispectrum(p.x, o3, copies="all"), bispectrum(p.y, o3, copies="all"))


def test_hard_pairs_are_reproducible():
    a, b = so3_hard_pairs(random_state=7), so3_hard_pairs(random_state=7)
    for p, q in zip(a, b):
        np.testing.assert_array_equal(p.x, q.x)
        np.testing.assert_array_equal(p.y, q.y)


@pytest.mark.skipif(not _solver_registered(), reason="no SO(3) alignment solver registered yet")
@pytest.mark.parametrize("pair", so3_hard_pairs(), ids=lambda p: p.name)
def test_hard_pairs_are_at_positive_quotient_distance(pair):
    d = float(np.asarray(osp.quotient_distance(pair.x, pair.y, pair.action)))
    assert d > 1e-3
    g = pair.action.sample(random_state=4)
    same = float(np.asarray(osp.quotient_distance(pair.x, pair.action.act(g, pair.x), pair.action)))
    assert same < 1e-6


# -- declared properties (for the registry) -----------------------------------------------------
DECLARED = {
    "norms": so3_norms_properties,
    "power_spectrum": so3_power_spectrum_properties,
    "bispectrum": lambda a: so3_bispectrum_properties(a, copies="all"),
    "bispectrum(copies='first')": lambda a: so3_bispectrum_properties(a, copies="first"),
}


@pytest.mark.parametrize("action", ACTIONS + [osp.SO3("3x0e + 1x0o"), osp.O3("4x1o")], ids=repr)
@pytest.mark.parametrize("name", list(DECLARED))
def test_declared_output_dim_and_invariance(action, name):
    props = DECLARED[name](action)
    X = np.random.default_rng(6).normal(size=(3, action.dim))
    assert MAPS[name](X, action).shape == (3, props.output_dim)
    assert props.invariant


@pytest.mark.parametrize("pair", so3_hard_pairs(), ids=lambda p: p.name)
def test_declarations_say_no_where_the_bank_has_a_collision(pair):
    for name in pair.blind:
        assert DECLARED[name](pair.action).separating == "no", (name, pair.name)


@pytest.mark.parametrize(
    ("action", "name", "expected"),
    [
        (osp.SO3("2x0e + 1x1o"), "norms", "yes"),
        (osp.SO3("1x2e"), "norms", "no"),
        (osp.SO3("2x1o"), "power_spectrum", "yes"),
        (osp.SO3("3x1o"), "power_spectrum", "no"),  # chirality
        (osp.O3("3x1o"), "power_spectrum", "yes"),  # ... which O(3) does not see
        (osp.O3("3x1e"), "power_spectrum", "no"),  # det -1 acts on 1e as a rotation
        (osp.SO3("1x1o + 1x2e"), "bispectrum", "no"),
    ],
)
def test_declared_separation_table(action, name, expected):
    assert DECLARED[name](action).separating == expected


def test_declared_yes_cases_really_separate():
    """Where "yes" is declared, equal features come only from the same orbit: rebuild y from
    the features and check it is a rotation of x."""
    rng = np.random.default_rng(7)
    # SO3("2x1o"): the Gram of two vectors fixes them up to a rotation; Kabsch finds it
    x = rng.normal(size=(2, 3))
    Q = osp.O3("1x1o").sample(random_state=8)  # any orthogonal map keeps the Gram ...
    y = x @ Q.T
    U, _, Vt = np.linalg.svd(y.T @ x)  # ... and a rotation realises it (Kabsch, 2 vectors)
    S = np.diag([1.0, 1.0, np.sign(np.linalg.det(U @ Vt))])
    R = U @ S @ Vt
    np.testing.assert_allclose(x @ R.T, y, atol=1e-12)
    assert np.linalg.det(R) > 0
    np.testing.assert_allclose(
        power_spectrum(x.reshape(-1), osp.SO3("2x1o")),
        power_spectrum(y.reshape(-1), osp.SO3("2x1o")),
    )


# -- the registered maps (orbitspace.invariants.REGISTRY) on SO3 / O3 -------------------------
REGISTERED = [
    ("norms", {}, norms),
    ("power_spectrum", {}, power_spectrum),
    ("bispectrum", {}, lambda X, a: bispectrum(X, a, copies="first")),
    ("bispectrum", {"copies": "all"}, lambda X, a: bispectrum(X, a, copies="all")),
]
DIM_ACTIONS = ACTIONS + [
    osp.SO3("3x0e + 1x0o"),
    osp.O3("4x1o"),
    osp.SO3("8x0e + 4x1o + 2x2e"),
    osp.O3("1x0o + 2x1e + 1x3o"),
    osp.O3("2x0o + 1x1o + 1x1e + 2x2o + 1x4e"),
]


@pytest.mark.parametrize("action", DIM_ACTIONS, ids=repr)
@pytest.mark.parametrize("name,opts,fn", REGISTERED, ids=lambda v: v if isinstance(v, str) else "")
def test_registered_maps_are_the_so3_functions_with_counted_dims(action, name, opts, fn):
    imap = osp.invariants.get_map(name)
    assert imap.supports(action)
    X = np.random.default_rng(9).normal(size=(4, action.dim))
    F = np.asarray(imap.transform(X, action, imap.fit(X, action), **opts))
    np.testing.assert_allclose(F, fn(X, action), rtol=1e-14, atol=1e-14)  # (norms: one pass)
    assert F.shape == (4, imap.output_dim(action, **opts))
    assert imap.properties(action, **opts).invariant


def test_power_spectrum_groups_by_degree_under_so3_not_by_parity_label():
    """Under SO(3) a vector and a pseudovector turn alike: their inner product is invariant and
    the registered power spectrum keeps it (an irrep-label grouping would drop it)."""
    rho = osp.SO3("1x1o + 1x1e")
    x = np.random.default_rng(10).normal(size=6)
    F = np.asarray(osp.invariant_features(x, rho, "power_spectrum"))
    np.testing.assert_allclose(F, [x[:3] @ x[:3], x[:3] @ x[3:], x[3:] @ x[3:]])
    assert osp.invariants.get_map("power_spectrum").properties(rho).separating == "yes"


def _orthogonal(n, rng, det):
    Q, R = np.linalg.qr(rng.normal(size=(n, n)))
    Q = Q * np.sign(np.diag(R))  # Haar on O(n)
    if np.linalg.det(Q) * det < 0:
        Q[:, 0] = -Q[:, 0]
    return Q


def _turn(x, action, rng, per_copy, det):
    """``x`` with every free copy (``per_copy``) or every group of copies moved by a random
    orthogonal map of its own, of determinant ``±det`` alternating from one to the next: the
    norms / the power spectrum cannot see the difference."""
    y = x.copy()
    sign = det
    for (ell, _), starts in copy_groups(action):
        n = 2 * ell + 1
        Q = _orthogonal(n, rng, sign)
        for s in starts:
            if per_copy:
                Q, sign = _orthogonal(n, rng, sign), -sign
            y[s : s + n] = Q @ x[s : s + n]
        if not per_copy:
            sign = -sign
    return y


FIBRE_ACTIONS = [
    osp.SO3("1x1o"),
    osp.SO3("2x0e + 1x1o"),
    osp.SO3("2x1o"),
    osp.SO3("1x1o + 1x1e"),
    osp.SO3("3x1o"),
    osp.SO3("1x2e"),
    osp.O3("1x0o + 1x1o"),
    osp.O3("1x0o + 1x1e"),
    osp.O3("2x0o"),
    osp.O3("1x0o + 2x1o"),
    osp.O3("1x0o + 3x1o"),
    osp.O3("2x0o + 2x1e"),
    osp.O3("3x1o"),
    osp.O3("3x1e"),
    osp.O3("1x1o + 1x1e"),
    osp.O3("1x2o"),
]


@pytest.mark.parametrize("action", FIBRE_ACTIONS, ids=repr)
@pytest.mark.parametrize("name", ["norms", "power_spectrum"])
def test_separation_declarations_against_the_whole_fibre(action, name):
    """The fibre of the norms (power spectrum) through x is every per-copy (per-group)
    orthogonal image of x: declared "yes" iff all of it is one orbit (exact distance ~0),
    declared "no" iff some of it is another orbit."""
    rng = np.random.default_rng(11)
    props = osp.invariants.get_map(name).properties(action)
    dists = []
    for trial in range(4):
        x = rng.normal(size=action.dim)
        y = _turn(x, action, rng, per_copy=name == "norms", det=(-1.0) ** trial)
        F = [np.asarray(osp.invariant_features(z, action, name)) for z in (x, y)]
        np.testing.assert_allclose(F[0], F[1], atol=1e-12)  # y is in the fibre
        dists.append(float(np.asarray(osp.quotient_distance(x, y, action))))
    if props.separating == "yes":
        assert max(dists) < 1e-6, dists
    else:
        assert max(dists) > 1e-2, dists
    if props.isometric:  # then also against random pairs
        X, Y = rng.normal(size=(2, 6, action.dim))
        fd = np.linalg.norm(
            np.asarray(osp.invariant_features(X, action, name))
            - np.asarray(osp.invariant_features(Y, action, name)),
            axis=-1,
        )
        np.testing.assert_allclose(fd, np.asarray(osp.quotient_distance(X, Y, action)), atol=1e-9)


@pytest.mark.parametrize(
    ("action", "name", "opts", "expected"),
    [
        (osp.O3("1x0o + 1x1o"), "norms", {}, "yes"),
        (osp.O3("2x0o"), "norms", {}, "no"),
        (osp.O3("1x0o + 2x1o"), "power_spectrum", {}, "yes"),
        (osp.O3("1x0o + 3x1o"), "power_spectrum", {}, "no"),
        (osp.SO3("1x1o + 1x1e"), "power_spectrum", {}, "yes"),
        (osp.SO3("1x2e"), "bispectrum", {}, "yes"),
        (osp.O3("1x2o"), "bispectrum", {}, "no"),  # (2, 2, 2) has parity -1: only the norm
        (osp.SO3("3x1o"), "bispectrum", {}, "no"),
        (osp.SO3("3x1o"), "bispectrum", {"copies": "all"}, "yes"),
        (osp.O3("3x1e"), "bispectrum", {"copies": "all"}, "yes"),
        (osp.SO3("8x0e + 4x1o + 2x2e"), "bispectrum", {"copies": "all"}, "generic"),
        (osp.SO3("8x0e + 4x1o + 2x2e"), "bispectrum", {}, "no"),
    ],
)
def test_registered_declaration_table(action, name, opts, expected):
    assert osp.invariants.get_map(name).properties(action, **opts).separating == expected


def test_declarations_are_counted_not_computed():
    """Output sizes come from the components: a 3 000-dimensional action is declared at once,
    no latent of that size is built."""
    rho = osp.SO3("1000x1o")
    assert osp.invariants.get_map("norms").output_dim(rho) == 1000
    assert osp.invariants.get_map("power_spectrum").output_dim(rho) == 1000 * 1001 // 2


def test_template_maps_on_a_branch_and_bound_action():
    """align_to_reference and max_filter run on the certified SO(3) solver (degree 2: branch
    and bound): invariant, max_filter 1-Lipschitz and align_to_reference lower-Lipschitz 1
    against the exact quotient distance (small batches: ~10 ms a solve)."""
    rho = osp.SO3("1x1o + 1x2e")
    rng = np.random.default_rng(12)
    X, Y = rng.normal(size=(2, 4, rho.dim))
    moved = rho.act(rho.sample(4, random_state=13), X)
    D = np.asarray(osp.quotient_distance(X, Y, rho))
    for name, opts in [("max_filter", {"n_templates": 3}), ("align_to_reference", {})]:
        imap = osp.invariants.get_map(name)
        params = imap.fit(X, rho, random_state=0, **opts)
        F, G, H = (np.asarray(imap.transform(Z, rho, params)) for Z in (X, moved, Y))
        np.testing.assert_allclose(G, F, atol=1e-7)
        fd = np.linalg.norm(F - H, axis=-1)
        props = imap.properties(rho, **opts)
        if props.lipschitz is not None:
            assert np.all(fd <= props.lipschitz * D + 1e-7)
        if props.lower_lipschitz is not None:
            assert np.all(fd >= props.lower_lipschitz * D - 1e-7)
    assert osp.invariants.get_map("max_filter").properties(rho, n_templates=3).lipschitz == 1.0
