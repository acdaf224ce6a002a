"""SO(3) / O(3) on e3nn irreps: our numpy Wigner matrices against e3nn 0.6 and an expm twin."""

import numpy as np
import pytest
import scipy.linalg

import orbitspace as osp
from orbitspace.groups._irreps3d import MAX_DIM, MAX_L
from orbitspace.groups._wigner import so3_generators, wigner_D
from orbitspace.testing import check_group_action

IRREPS = ["8x0e + 4x1o + 2x2e", "1x0o + 2x1e + 3x3o + 1x5y", "2x4e + 1x6o + 1x0e", "1x1o"]


@pytest.fixture
def e3nn_f64():
    """e3nn with float64 defaults (its generators follow torch's default dtype)."""
    torch = pytest.importorskip("torch")
    o3 = pytest.importorskip("e3nn.o3")
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        yield torch, o3
    finally:
        torch.set_default_dtype(old)


def axis_angle_D(ell, R):
    """Slow exact twin: D^l(R) = expm(theta * (n . G)) from R's axis and angle (no Euler)."""
    G = so3_generators(ell)
    w = np.array([R[2, 1] - R[1, 2], R[0, 2] - R[2, 0], R[1, 0] - R[0, 1]])  # 2 sin(t) n
    c = (np.trace(R) - 1) / 2
    theta = np.arctan2(np.linalg.norm(w) / 2, c)
    if theta < 1e-14:
        return np.eye(2 * ell + 1)
    if theta < 3.0:
        n = w
    else:  # near pi: n n^T = (sym(R) - cos(t) I) / (1 - cos(t)), sign from w
        M = ((R + R.T) / 2 - c * np.eye(3)) / (1 - c)
        k = int(np.argmax(np.diag(M)))
        n = M[k] / np.sqrt(M[k, k])
        n = n if n @ w >= 0 else -n
    n = n / np.linalg.norm(n)
    return scipy.linalg.expm(theta * np.einsum("a,aij->ij", n, G))


def special_rotations():
    """Rotations at and near the YXY gimbal lock (beta = 0, pi) and the identity."""

    def rx(t):
        c, s = np.cos(t), np.sin(t)
        return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])

    def ry(t):
        c, s = np.cos(t), np.sin(t)
        return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])

    return [np.eye(3), rx(1e-9), rx(np.pi), rx(np.pi - 1e-9), ry(0.7), ry(0.7) @ rx(1e-8)]


# -- against e3nn itself ---------------------------------------------------------------------
@pytest.mark.parametrize("irreps", IRREPS)
def test_so3_matrix_equals_e3nn_D_from_matrix(e3nn_f64, irreps):
    torch, o3 = e3nn_f64
    rho = osp.SO3(irreps)
    R = rho.sample(16, random_state=1)
    ref = o3.Irreps(irreps).D_from_matrix(torch.tensor(R)).numpy()
    assert rho.dim == o3.Irreps(irreps).dim
    np.testing.assert_allclose(rho.matrix(R), ref, atol=1e-12, rtol=0)


@pytest.mark.parametrize("irreps", IRREPS)
def test_o3_matrix_equals_e3nn_including_reflections(e3nn_f64, irreps):
    torch, o3 = e3nn_f64
    rho = osp.O3(irreps)
    R = rho.sample(32, random_state=2)
    det = np.linalg.det(R)
    assert (det < 0).any() and (det > 0).any()
    ref = o3.Irreps(irreps).D_from_matrix(torch.tensor(R)).numpy()
    np.testing.assert_allclose(rho.matrix(R), ref, atol=1e-12, rtol=0)
    X = np.random.default_rng(0).normal(size=(32, rho.dim))
    np.testing.assert_allclose(rho.act(R, X), np.einsum("nij,nj->ni", ref, X), atol=1e-12)


def test_wigner_D_equals_e3nn_per_degree(e3nn_f64):
    torch, o3 = e3nn_f64
    R = osp.SO3("1x0e").sample(8, random_state=3)
    for ell in range(11):
        ref = o3.Irrep(ell, 1).D_from_matrix(torch.tensor(R)).numpy()
        np.testing.assert_allclose(wigner_D(ell, R), ref, atol=1e-12, rtol=0)


def test_parsing_agrees_with_e3nn_including_y_shorthand(e3nn_f64):
    _, o3 = e3nn_f64
    # e3nn 0.6 accepts the parity shorthand "y" = (-1)^l and a missing multiplicity
    for text in ["2x1y + 1x2y", "0e + 1o", "3x0o+1x3y"]:
        ours = osp.O3(text)
        theirs = o3.Irreps(text)
        assert ours.dim == theirs.dim
        assert ours.terms == tuple((m, ir.l, ir.p) for m, ir in theirs)
        assert o3.Irreps(ours.rep) == theirs


# -- our own exact twin (no e3nn) ---------------------------------------------------------------
@pytest.mark.parametrize("ell", [1, 2, 5, 9, MAX_L])
def test_wigner_D_equals_expm_of_generators(ell):
    Rs = list(osp.SO3("1x0e").sample(4, random_state=ell)) + special_rotations()
    D = wigner_D(ell, np.stack(Rs))
    for Di, R in zip(D, Rs):
        np.testing.assert_allclose(Di, axis_angle_D(ell, R), atol=1e-11)


def test_wigner_D_is_a_homomorphism_and_orthogonal_up_to_max_l():
    R = osp.SO3("1x0e").sample(2, random_state=4)
    for ell in (0, 3, MAX_L):
        A, B, AB = wigner_D(ell, R[0]), wigner_D(ell, R[1]), wigner_D(ell, R[0] @ R[1])
        np.testing.assert_allclose(A @ B, AB, atol=1e-12)
        np.testing.assert_allclose(A @ A.T, np.eye(2 * ell + 1), atol=1e-12)
        np.testing.assert_allclose(wigner_D(ell, R[0].T), A.T, atol=1e-12)


def test_degree_one_is_the_rotation_itself():
    R = osp.SO3("1x1o").sample(5, random_state=5)
    np.testing.assert_allclose(wigner_D(1, R), R, atol=1e-14)
    np.testing.assert_allclose(osp.SO3("1x1o").act(R, np.array([1.0, 2.0, 3.0])), R @ [1, 2, 3])


def test_wigner_D_batches_and_rejects_bad_shapes():
    R = osp.SO3("1x0e").sample(6, random_state=6).reshape(2, 3, 3, 3)
    assert wigner_D(2, R).shape == (2, 3, 5, 5)
    np.testing.assert_allclose(wigner_D(2, R)[1, 2], wigner_D(2, R[1, 2]), atol=1e-15)
    with pytest.raises(ValueError, match=r"\(\.\.\., 3, 3\)"):
        wigner_D(1, np.eye(2))
    with pytest.raises(ValueError, match="l >= 0"):
        wigner_D(-1, np.eye(3))


# -- the action protocol ------------------------------------------------------------------------
ACTIONS = [osp.SO3("8x0e + 4x1o + 2x2e"), osp.O3("1x0o + 2x1e + 1x3o"), osp.SO3("2x1")]


@pytest.mark.parametrize("action", ACTIONS, ids=repr)
def test_group_axioms(action):
    errors = check_group_action(action, random_state=0, n_samples=6)
    assert max(errors.values()) < 1e-10, errors


@pytest.mark.parametrize("action", ACTIONS, ids=repr)
def test_repr_round_trips_and_value_semantics(action):
    parsed = osp.parse_action(repr(action))
    assert parsed == action and hash(parsed) == hash(action) and repr(parsed) == repr(action)
    with pytest.raises(AttributeError):
        action.foo = 1
    assert action.element_shape == (3, 3) and action.event_shape == (action.dim,)
    assert action.node_axis is None and action.n_nodes is None and action.order is None


def test_so3_and_o3_differ_and_parity_is_kept():
    assert osp.SO3("1x1o") != osp.O3("1x1o")
    assert osp.SO3("1x1o") != osp.SO3("1x1e")  # same action on vectors, different labels
    assert osp.SO3("2x1 + 0") == osp.SO3("2x1o + 1x0e")  # no parity: (-1)^l
    assert osp.O3("2x1y").rep == "2x1o"
    assert osp.SO3("4x1").group_name == "SO(3)" and osp.O3("4x1o").group_name == "O(3)"
    assert osp.SO3("4x1").includes_reflections is False and osp.O3("1x0e").includes_reflections


def test_components_are_typed_irreps():
    comps = osp.O3("2x0e + 1x0o + 3x2e").components()
    assert [(c.start, c.multiplicity, c.size) for c in comps] == [(0, 2, 2), (2, 1, 1), (3, 3, 15)]
    ir = comps[2].irrep
    assert (ir.group, ir.label, ir.dim, ir.degree, ir.parity, ir.trivial) == (
        "O(3)",
        "2e",
        5,
        2,
        1,
        False,
    )
    assert comps[0].irrep.trivial and not comps[1].irrep.trivial  # 0o flips under reflections
    assert osp.SO3("1x0o").components()[0].irrep.trivial  # ... but SO(3) has no reflections
    assert osp.SO3("3x0e + 1x0o").is_trivial and not osp.O3("3x0e + 1x0o").is_trivial
    assert "pseudoscalar" in osp.O3("1x0o").describe()
    assert "degree-2" in osp.SO3("1x2e").describe() and "SO(3)" in osp.SO3("1x2e").describe()


def test_o3_parity_acts_on_minus_identity():
    rho = osp.O3("1x0e + 1x0o + 1x1o + 1x1e + 1x2e + 1x2o")
    x = np.arange(1.0, rho.dim + 1)
    signs = np.concatenate([[1, -1], -np.ones(3), np.ones(3), np.ones(5), -np.ones(5)])
    np.testing.assert_allclose(rho.act(-np.eye(3), x), signs * x, atol=1e-14)
    # SO3 rejects it: det -1 is not a rotation
    with pytest.raises(ValueError, match=r"det \+1"):
        osp.SO3("1x1o").act(-np.eye(3), np.ones(3))


def test_act_broadcasts_and_keeps_torch():
    rho = osp.SO3("2x0e + 3x1o + 1x2e")
    R = rho.sample(5, random_state=7)
    X = np.random.default_rng(1).normal(size=(5, rho.dim))
    M = rho.matrix(R)
    np.testing.assert_allclose(rho.act(R, X), np.einsum("nij,nj->ni", M, X), atol=1e-13)
    np.testing.assert_allclose(rho.act(R[0], X), X @ M[0].T, atol=1e-13)  # one g, many X
    np.testing.assert_allclose(rho.act(R, X[0]), M @ X[0], atol=1e-13)  # many g, one X
    out = rho.act(R[:, None], X[None, :2])  # (5, 1) elements x (1, 2) latents
    assert out.shape == (5, 2, rho.dim)
    np.testing.assert_allclose(out[3, 1], M[3] @ X[1], atol=1e-13)
    torch = pytest.importorskip("torch")
    Xt = torch.tensor(X)
    out_t = rho.act(R, Xt)
    assert isinstance(out_t, torch.Tensor)
    np.testing.assert_allclose(out_t.numpy(), rho.act(R, X), atol=1e-15)


def test_sample_is_haar_and_reproducible():
    rho = osp.O3("1x1o")
    R = rho.sample(20000, random_state=8)
    np.testing.assert_allclose(
        R @ np.swapaxes(R, 1, 2), np.broadcast_to(np.eye(3), R.shape), atol=1e-12
    )
    det = np.linalg.det(R)
    assert np.allclose(np.abs(det), 1) and abs((det > 0).mean() - 0.5) < 0.02
    Rp = R * det[:, None, None]  # the rotation part
    # Haar: E[D^l] = 0 for l >= 1 (std of each entry's mean is ~ 1/sqrt(3 n) for l = 1)
    for ell in (1, 2):
        assert np.abs(wigner_D(ell, Rp).mean(axis=0)).max() < 0.03
    # the rotation angle has density (1 - cos t) / pi on [0, pi]: E[cos t] = -1/2
    cos_t = (np.trace(Rp, axis1=1, axis2=2) - 1) / 2
    assert abs(cos_t.mean() + 0.5) < 0.02
    np.testing.assert_array_equal(rho.sample(3, random_state=9), rho.sample(3, random_state=9))
    assert osp.SO3("1x1o").sample(random_state=0).shape == (3, 3)
    assert np.linalg.det(osp.SO3("1x1o").sample(50, random_state=0)).min() > 0


def test_compose_inverse_identity():
    rho = osp.SO3("1x1o + 1x2e")
    g, h = rho.sample(2, random_state=10)
    np.testing.assert_allclose(
        rho.matrix(rho.compose(g, h)), rho.matrix(g) @ rho.matrix(h), atol=1e-13
    )
    np.testing.assert_allclose(rho.compose(g, rho.inverse(g)), np.eye(3), atol=1e-14)
    np.testing.assert_array_equal(rho.identity(), np.eye(3))


@pytest.mark.parametrize(
    ("cls", "text", "match"),
    [
        (osp.SO3, "1x1q", "unknown parity 'q'.*expected 'e', 'o' or 'y'"),
        (osp.SO3, "-1x1o", "multiplicity must be >= 1.*received -1"),
        (osp.SO3, "0x1o", "multiplicity must be >= 1.*received 0"),
        (osp.SO3, f"1x{MAX_L + 1}e", f"l must be <= MAX_L={MAX_L}.*received l={MAX_L + 1}"),
        (osp.SO3, f"{MAX_DIM}x1o", f"dimension must be <= MAX_DIM={MAX_DIM}"),
        (osp.O3, "4x1", "has no parity; expected 'e', 'o' or 'y'"),
        (osp.SO3, "4xo", "cannot parse term '4xo'"),
        (osp.SO3, "", "empty irreps string"),
    ],
)
def test_bad_irreps_strings_raise_one_line_errors(cls, text, match):
    with pytest.raises(ValueError, match=match) as info:
        cls(text)
    assert "\n" not in str(info.value)


def test_bad_elements_raise_one_line_errors():
    rho = osp.O3("1x1o")
    x = np.ones(3)
    with pytest.raises(TypeError, match="irreps string"):
        osp.SO3(3)
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 3, 3\); received g of shape \(2, 2\)"):
        rho.act(np.eye(2), x)
    with pytest.raises(ValueError, match=r"orthogonal matrices .* received g with max"):
        rho.act(2 * np.eye(3), x)
    with pytest.raises(ValueError, match="finite"):
        rho.act(np.full((3, 3), np.nan), x)
    with pytest.raises(ValueError, match="has dim 3 but X.shape"):
        rho.act(np.eye(3), np.ones(4))
    with pytest.raises(ValueError, match="use O3 for reflections"):
        osp.SO3("1x1o").compose(np.eye(3), np.diag([1.0, 1.0, -1.0]))
