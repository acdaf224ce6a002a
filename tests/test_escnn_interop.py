"""from_escnn checked against escnn itself: GeometricTensor.transform vs action.act, invariant
projections and quotient distances of escnn-transformed latents."""

from __future__ import annotations

import importlib.util
import sys
import types

import numpy as np
import pytest

torch = pytest.importorskip("torch")
if importlib.util.find_spec("escnn") is None:  # pragma: no cover
    pytest.skip("escnn not installed", allow_module_level=True)

from orbitspace import SO2, Cyclic  # noqa: E402
from orbitspace.interop._escnn_compat import LIE_LEARN_STUB_MESSAGE, import_escnn  # noqa: E402
from orbitspace.interop.escnn import from_escnn, to_escnn_element  # noqa: E402
from orbitspace.invariants import invariant_features  # noqa: E402
from orbitspace.quotient import quotient_distance  # noqa: E402

escnn = import_escnn()
gspaces, enn = escnn.gspaces, escnn.nn


def escnn_transform(field_type, z: np.ndarray, g) -> np.ndarray:
    """escnn's own transform of latents z (n, D), seen as 1×1 feature maps."""
    x = torch.as_tensor(z, dtype=torch.float64)[:, :, None, None]
    out = enn.GeometricTensor(x, field_type).transform(to_escnn_element(field_type, g))
    return out.tensor[:, :, 0, 0].numpy()


@pytest.fixture(scope="module")
def c8():
    return gspaces.rot2dOnR2(N=8)


@pytest.fixture(scope="module")
def so2():
    return gspaces.rot2dOnR2(N=-1, maximum_frequency=6)


def c8_mixed(gs):
    return enn.FieldType(
        gs,
        2 * [gs.regular_repr]
        + [gs.irrep(1), gs.trivial_repr, gs.irrep(4), gs.irrep(3), gs.irrep(3), gs.regular_repr],
    )


def so2_mixed(gs):
    G = gs.fibergroup
    return enn.FieldType(gs, [G.irrep(2), gs.trivial_repr, G.irrep(1), G.irrep(1), G.irrep(3)])


def test_c8_field_types_map_to_the_documented_rep_strings(c8):
    assert from_escnn(enn.FieldType(c8, 16 * [c8.regular_repr])) == Cyclic(8, "16xregular")
    assert from_escnn(c8_mixed(c8)) == Cyclic(8, "2xregular + 1x1 + 1x0 + 1x4 + 2x3 + 1xregular")
    assert from_escnn(enn.FieldType(c8, 3 * [c8.trivial_repr])) == Cyclic(8, "3x0")


def test_so2_field_types_map_to_the_documented_rep_strings(so2):
    assert from_escnn(so2_mixed(so2)) == SO2("1x2 + 1x0 + 2x1 + 1x3")


def test_c8_act_equals_escnn_transform_for_every_element(c8):
    ft = c8_mixed(c8)
    action = from_escnn(ft)
    z = np.random.default_rng(0).normal(size=(6, ft.size))
    for g in range(8):
        np.testing.assert_allclose(action.act(g, z), escnn_transform(ft, z, g), atol=1e-12)
        # and the matrices themselves
        M = ft.representation(c8.fibergroup.element(g))
        np.testing.assert_allclose(action.matrix(g), M, atol=1e-12)


def test_so2_act_equals_escnn_transform_for_sampled_angles(so2):
    ft = so2_mixed(so2)
    action = from_escnn(ft)
    z = np.random.default_rng(1).normal(size=(5, ft.size))
    for theta in np.random.default_rng(2).uniform(0, 2 * np.pi, size=6):
        np.testing.assert_allclose(action.act(theta, z), escnn_transform(ft, z, theta), atol=1e-12)


def test_spectral_regular_fields_of_fourier_relus_are_irreps_in_our_basis(so2):
    G = so2.fibergroup
    act = enn.FourierPointwise(so2, 2, G.bl_irreps(2), function="p_relu", N=8)
    action = from_escnn(act.in_type)
    assert action == SO2("1x0 + 1x1 + 1x2 + 1x0 + 1x1 + 1x2")
    z = np.random.default_rng(3).normal(size=(4, action.dim))
    np.testing.assert_allclose(action.act(0.7, z), escnn_transform(act.in_type, z, 0.7), atol=1e-12)


@pytest.mark.parametrize("which", ["c8", "so2"])
def test_escnn_transformed_latents_have_identical_invariants_and_zero_quotient_distance(
    which, c8, so2
):
    ft = c8_mixed(c8) if which == "c8" else so2_mixed(so2)
    action = from_escnn(ft)
    rng = np.random.default_rng(4)
    z = rng.normal(size=(8, ft.size))
    elements = [3, 5] if which == "c8" else [0.4, 2.9]
    methods = [
        ("norms", {}),
        ("power_spectrum", {}),
        ("align_to_reference", {"n_references": 2}),
        ("max_filter", {"n_templates": 12}),
    ]
    if which == "so2":
        methods.append(("bispectrum", {}))
    for g in elements:
        zg = escnn_transform(ft, z, g)
        assert np.linalg.norm(zg - z) > 0.1  # the transform really moved the latents
        for method, options in methods:
            a = invariant_features(z, action, method, random_state=0, **options)
            b = invariant_features(zg, action, method, random_state=0, **options)
            np.testing.assert_allclose(a, b, atol=1e-8, err_msg=method)
        np.testing.assert_allclose(quotient_distance(z, zg, action=action), 0.0, atol=1e-6)
        # while the raw Euclidean distance is not zero
        assert np.all(np.linalg.norm(z - zg, axis=1) > 1e-3)


def test_group_pool_of_regular_fields_matches_escnn_group_pooling(c8):
    ft = enn.FieldType(c8, 5 * [c8.regular_repr])
    z = np.random.default_rng(5).normal(size=(7, ft.size))
    ours = invariant_features(z, from_escnn(ft), "group_pool")
    pooled = enn.GroupPooling(ft)(enn.GeometricTensor(torch.as_tensor(z)[:, :, None, None], ft))
    np.testing.assert_allclose(ours, pooled.tensor[:, :, 0, 0].numpy(), atol=1e-12)


def test_norms_match_escnn_norm_pool(so2):
    G = so2.fibergroup
    ft = enn.FieldType(so2, 2 * [G.irrep(0)] + 3 * [G.irrep(1)] + 2 * [G.irrep(2)])
    z = np.random.default_rng(6).normal(size=(7, ft.size))
    pooled = enn.NormPool(ft)(enn.GeometricTensor(torch.as_tensor(z)[:, :, None, None], ft))
    # ours keeps each invariant scalar with its sign; escnn's NormPool takes its absolute value
    ours = np.abs(invariant_features(z, from_escnn(ft), "norms"))
    np.testing.assert_allclose(
        np.sort(ours, axis=1), np.sort(pooled.tensor[:, :, 0, 0].numpy(), axis=1), atol=1e-12
    )


def test_change_of_basis_is_rejected_or_returned(c8):
    G = c8.fibergroup
    P = np.array([[0.0, 1, 0], [1, 0, 0], [0, 0, 1]])
    mixed = escnn.group.directsum([G.irrep(1), G.irrep(0)], change_of_basis=P, name="mixed_cob")
    ft = enn.FieldType(c8, [mixed, c8.regular_repr])
    with pytest.raises(ValueError, match="non-identity change of basis.*return_change_of_basis"):
        from_escnn(ft)
    action, Q = from_escnn(ft, return_change_of_basis=True)
    assert action == Cyclic(8, "1x1 + 1x0 + 1xregular")
    np.testing.assert_allclose(Q @ Q.T, np.eye(ft.size), atol=1e-12)
    z = np.random.default_rng(7).normal(size=(4, ft.size))
    for g in range(8):
        # escnn latent z = Q w, with w transformed by our action
        np.testing.assert_allclose(
            Q.T @ ft.representation(G.element(g)) @ Q, action.matrix(g), atol=1e-12
        )
        np.testing.assert_allclose(escnn_transform(ft, z, g) @ Q, action.act(g, z @ Q), atol=1e-12)


def test_unsupported_groups_and_inputs_fail_clearly():
    # D_N and O(2) are supported now (tests/test_o2_dihedral_escnn.py); a product group is not
    product = escnn.group.direct_product(escnn.group.cyclic_group(2), escnn.group.cyclic_group(3))
    with pytest.raises(ValueError, match="C_N and SO\\(2\\)"):
        from_escnn(types.SimpleNamespace(representations=[], fibergroup=product))
    with pytest.raises(TypeError, match="escnn.nn.FieldType"):
        from_escnn("8xregular")


def test_lie_learn_stand_in_raises_only_when_3d_groups_are_used():
    module = sys.modules["lie_learn.representations.SO3.wigner_d"]
    if getattr(module, "__doc__", "") and "stand-in" in (module.__doc__ or ""):
        with pytest.raises(NotImplementedError, match="3-D groups need lie_learn"):
            module.wigner_D_matrix(1, 0.0, 0.0, 0.0)
    assert "3-D groups need lie_learn" in LIE_LEARN_STUB_MESSAGE
    assert import_escnn() is escnn  # imported once


def test_rotate_images_agrees_with_escnn_transform_of_images(c8):
    from orbitspace.datasets.rotation import rotate_images

    x = np.random.default_rng(8).random((2, 1, 28, 28)).astype(np.float32)
    ft = enn.FieldType(c8, [c8.trivial_repr])
    gt = enn.GeometricTensor(torch.from_numpy(x), ft)
    for k in (2, 4, 6):  # quarter turns: exact
        np.testing.assert_array_equal(
            gt.transform(c8.fibergroup.element(k)).tensor.numpy(), rotate_images(x, k * np.pi / 4)
        )
    # 45°: escnn interpolates differently (scipy, order 2) but turns the same way
    e = gt.transform(c8.fibergroup.element(1)).tensor.numpy()[..., 6:22, 6:22]
    same = np.abs(e - rotate_images(x, np.pi / 4)[..., 6:22, 6:22]).mean()
    opposite = np.abs(e - rotate_images(x, -np.pi / 4)[..., 6:22, 6:22]).mean()
    assert same < 0.5 * opposite
