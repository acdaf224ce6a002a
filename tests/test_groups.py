"""Group actions: structure, conventions, value semantics, parsing and bad input."""

import sys

import numpy as np
import pytest

import orbitspace as osp
from orbitspace.testing import check_group_action

ACTIONS = [
    osp.SO2("4x0 + 8x1 + 2x3"),
    osp.SO2("1x2"),
    osp.Cyclic(8, "16xregular + 2x1"),
    osp.Cyclic(8, "1x0 + 1x1 + 1x3 + 1x4 + 2xregular"),
    osp.Cyclic(5, "1xregular + 1x2"),
    osp.Permutation(6),
    osp.FiniteGroup.from_action(osp.Cyclic(4, "1xregular + 1x1")),
    osp.SO3("2x0e + 1x1o + 1x2e"),
    osp.O3("1x0e + 1x0o + 2x1o + 1x1e + 1x2o"),
]


@pytest.mark.parametrize("action", ACTIONS, ids=repr)
def test_group_axioms(action):
    errors = check_group_action(action, random_state=0, n_samples=6)
    assert set(errors) >= {"identity", "composition", "inverse", "orthogonality"}


@pytest.mark.parametrize("action", ACTIONS, ids=repr)
def test_repr_round_trips_without_eval(action):
    parsed = osp.parse_action(repr(action))
    assert parsed == action and hash(parsed) == hash(action)
    assert repr(parsed) == repr(action)


@pytest.mark.parametrize("action", ACTIONS, ids=repr)
def test_immutable(action):
    with pytest.raises(AttributeError):
        action.foo = 1


def test_dims_follow_the_rep_string():
    assert osp.SO2("4x0 + 8x1 + 2x3").dim == 24
    assert osp.Cyclic(8, "16xregular + 2x1").dim == 132
    assert osp.Cyclic(8, "1x4").dim == 1  # the sign irrep of an even cyclic group
    assert osp.Cyclic(7, "1x3").dim == 2


def test_so2_block_convention_is_escnn():
    rho = osp.SO2("1x0 + 1x2")
    theta = 0.3
    M = rho.matrix(theta)
    c, s = np.cos(2 * theta), np.sin(2 * theta)
    np.testing.assert_allclose(M, [[1, 0, 0], [0, c, -s], [0, s, c]], atol=1e-15)


def test_cyclic_regular_generator_rolls_by_one():
    rho = osp.Cyclic(4, "1xregular")
    v = np.array([1.0, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(rho.act(1, v), np.roll(v, 1))
    np.testing.assert_array_equal(rho.act(3, v), np.roll(v, 3))


def test_cyclic_irreps_match_so2_at_multiples_of_2pi_over_n():
    cyc, so2 = osp.Cyclic(6, "1x0 + 2x1 + 1x2"), osp.SO2("1x0 + 2x1 + 1x2")
    for g in range(6):
        np.testing.assert_allclose(cyc.matrix(g), so2.matrix(2 * np.pi * g / 6), atol=1e-12)


def test_sign_irrep_alternates():
    rho = osp.Cyclic(8, "1x4")
    assert [float(rho.act(g, np.array([1.0]))[0]) for g in range(4)] == [1, -1, 1, -1]


def test_permutation_convention():
    perm = osp.Permutation(3)
    X = np.array([[1.0], [2.0], [3.0]])
    p = np.array([2, 0, 1])
    np.testing.assert_array_equal(perm.act(p, X)[:, 0], [3, 1, 2])
    np.testing.assert_array_equal(perm.matrix(p) @ X, perm.act(p, X))
    q = np.array([1, 0, 2])
    np.testing.assert_array_equal(perm.act(perm.compose(p, q), X), perm.act(p, perm.act(q, X)))


def test_batched_elements_broadcast_against_latents():
    rho = osp.SO2("1x1")
    X = np.random.default_rng(0).standard_normal((5, 2))
    thetas = np.linspace(0, 1, 3)[:, None]  # (3, 1) against (5,) batch -> (3, 5)
    out = rho.act(thetas, X)
    assert out.shape == (3, 5, 2)
    np.testing.assert_allclose(out[2, 4], rho.act(1.0, X[4]))


def test_finite_group_matches_its_cyclic_source():
    cyc = osp.Cyclic(4, "1xregular + 1x1")
    fin = osp.FiniteGroup.from_action(cyc)
    assert fin.order == 4
    X = np.random.default_rng(1).standard_normal((4, cyc.dim))
    np.testing.assert_allclose(fin.act(np.arange(4), X), cyc.act(np.arange(4), X), atol=1e-12)
    table = fin.compose(np.arange(4)[:, None], np.arange(4)[None, :])
    np.testing.assert_array_equal(table, (np.arange(4)[:, None] + np.arange(4)) % 4)


def test_sampling_is_seeded():
    for action in ACTIONS:
        np.testing.assert_array_equal(action.sample(5, 3), action.sample(5, 3))


def test_torch_in_torch_out():
    torch = pytest.importorskip("torch")
    rho = osp.Cyclic(8, "2xregular + 1x1")
    X = torch.randn(4, rho.dim, dtype=torch.float32)
    out = rho.act(rho.sample(4, 0), X)
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float32
    np.testing.assert_allclose(out.numpy(), rho.act(rho.sample(4, 0), X.numpy()), atol=1e-6)


def test_import_orbitspace_imports_no_torch():
    import subprocess

    code = "import orbitspace, sys; orbitspace.SO2('1x1'); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- bad input ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "spec, fragment",
    [
        ("SO2('4x0 + 8y1')", "'8y1'"),
        ("SO2('4x0 + 8xfoo')", "'foo'"),
        ("Cyclic(8, '2x5')", "frequency 5"),
        ("Cyclic(8, '0xregular')", "multiplicity 0"),
        ("Rotation(3)", "unknown action 'Rotation'"),
        ("Permutation(n)", "literal"),
        ("__import__('os')", "unknown action"),
        ("SO2(", "cannot parse"),
        ("Permutation(0)", ">= 1"),
    ],
)
def test_bad_specs_name_the_problem(spec, fragment):
    with pytest.raises(ValueError) as info:
        osp.parse_action(spec)
    assert fragment in str(info.value)


def test_parse_error_points_at_the_token():
    with pytest.raises(ValueError) as info:
        osp.SO2("4x0 + 8y1 + 2x3")
    lines = str(info.value).splitlines()
    assert lines[-2].strip() == "4x0 + 8y1 + 2x3"
    caret = lines[-1]
    assert caret.index("^") == lines[-2].index("8y1") and caret.count("^") == 3


def test_dimension_mismatch_message():
    with pytest.raises(ValueError, match=r"has dim 24 but X.shape\[-1\] is 23"):
        osp.SO2("4x0 + 8x1 + 2x3").act(0.1, np.zeros((2, 23)))


def test_nan_and_inf_rejected():
    rho = osp.SO2("1x1")
    with pytest.raises(ValueError, match="finite"):
        rho.act(0.1, np.array([np.nan, 1.0]))
    with pytest.raises(ValueError, match="finite"):
        rho.act(0.1, np.array([np.inf, 1.0]))


def test_non_array_and_complex_rejected():
    rho = osp.SO2("1x1")
    with pytest.raises(TypeError):
        rho.act(0.1, "abc")
    with pytest.raises(TypeError, match="complex"):
        rho.act(0.1, np.array([1j, 1.0]))


def test_non_orthogonal_matrices_rejected():
    with pytest.raises(ValueError, match="not orthogonal"):
        osp.FiniteGroup([[[1.0, 0.0], [0.0, 1.0]], [[2.0, 0.0], [0.0, 0.5]]])


def test_non_closed_matrices_rejected():
    r = np.array([[0.0, -1.0], [1.0, 0.0]])  # rotation by 90 degrees; its square is missing
    with pytest.raises(ValueError, match="not closed"):
        osp.FiniteGroup([np.eye(2), r])


def test_missing_identity_rejected():
    with pytest.raises(ValueError, match="identity"):
        osp.FiniteGroup([-np.eye(2)])


def test_bad_permutation_elements():
    perm = osp.Permutation(3)
    with pytest.raises(ValueError, match="not a permutation"):
        perm.act([0, 0, 1], np.zeros((3, 1)))
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 3\)"):
        perm.act([0, 1], np.zeros((3, 1)))


def test_node_mask_shape_checked_and_applied():
    X = np.ones((2, 4, 3))
    mask = np.array([[1, 1, 0, 0], [1, 1, 1, 0]], dtype=bool)
    out = osp.apply_node_mask(X, mask)
    assert out[0, 2:].sum() == 0 and out[1, :3].sum() == 9
    with pytest.raises(ValueError, match=r"node mask must have shape \(2, 4\)"):
        osp.apply_node_mask(X, np.ones((2, 3), dtype=bool))
    with pytest.raises(TypeError, match="boolean"):
        osp.apply_node_mask(X, np.full((2, 4), 0.5))


@pytest.mark.parametrize("action", ACTIONS, ids=repr)
def test_empty_batch(action):
    shape = (0, action.dim) if action.event_ndim == 1 else (0, action.dim, 2)
    out = action.act(action.sample(0, 0), np.zeros(shape))
    assert np.asarray(out).shape == shape
