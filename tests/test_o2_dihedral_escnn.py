"""O2 / Dihedral against escnn itself: ``from_escnn`` of flipRot2dOnR2 field types, escnn's own
``GeometricTensor.transform`` and representation matrices, and zero quotient distances of
escnn-transformed latents."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

torch = pytest.importorskip("torch")
if importlib.util.find_spec("escnn") is None:  # pragma: no cover
    pytest.skip("escnn not installed", allow_module_level=True)

from orbitspace import O2, Dihedral  # noqa: E402
from orbitspace.interop._escnn_compat import import_escnn  # noqa: E402
from orbitspace.interop.escnn import from_escnn, to_escnn_element  # noqa: E402
from orbitspace.quotient import align, quotient_distance  # noqa: E402

escnn = import_escnn()
gspaces, enn = escnn.gspaces, escnn.nn


def escnn_transform(field_type, z: np.ndarray, g) -> np.ndarray:
    """escnn's own transform of latents z (n, D), seen as 1×1 feature maps."""
    x = torch.as_tensor(z, dtype=torch.float64)[:, :, None, None]
    out = enn.GeometricTensor(x, field_type).transform(to_escnn_element(field_type, g))
    return out.tensor[:, :, 0, 0].numpy()


def every_irrep_and_regular(gs):
    """Regular fields around every irrep escnn builds for the group, in escnn's order."""
    G = gs.fibergroup
    irreps = [G.irrep(*ir.id) for ir in G.irreps()]
    regular = [gs.regular_repr] if G.order() > 0 else []
    return enn.FieldType(gs, 2 * regular + irreps + [irreps[2], irreps[2]] + regular)


@pytest.fixture(scope="module", params=[4, 8, 5])
def dn(request):
    return gspaces.flipRot2dOnR2(N=request.param)


@pytest.fixture(scope="module")
def o2():
    return gspaces.flipRot2dOnR2(N=-1, maximum_frequency=5)


def test_field_types_map_to_the_documented_rep_strings(o2):
    d4 = gspaces.flipRot2dOnR2(N=4)
    assert from_escnn(every_irrep_and_regular(d4)) == Dihedral(
        4, "2xregular + 1x(0,0) + 1x(1,0) + 1x(1,1) + 1x(1,2) + 1x(0,2) + 2x(1,1) + 1xregular"
    )
    d8 = gspaces.flipRot2dOnR2(N=8)
    ft = enn.FieldType(d8, 16 * [d8.regular_repr] + [d8.trivial_repr])
    assert from_escnn(ft) == Dihedral(8, "16xregular + 1x(0,0)")
    G = o2.fibergroup
    ft = enn.FieldType(o2, [G.irrep(1, 2), o2.trivial_repr, G.irrep(1, 0), G.irrep(1, 1)])
    assert from_escnn(ft) == O2("1x(1,2) + 1x(0,0) + 1x(1,0) + 1x(1,1)")


def test_dihedral_act_and_matrix_equal_escnn_for_every_element(dn):
    ft = every_irrep_and_regular(dn)
    action = from_escnn(ft)
    assert isinstance(action, Dihedral) and action.N == dn.fibergroup.rotation_order
    z = np.random.default_rng(0).normal(size=(5, ft.size))
    for g in action.elements():
        np.testing.assert_allclose(action.act(g, z), escnn_transform(ft, z, g), atol=1e-12)
        M = ft.representation(to_escnn_element(ft, g))
        np.testing.assert_allclose(action.matrix(g), M, atol=1e-12)
    # our elements are escnn's, in escnn's order
    ours = [to_escnn_element(ft, g) for g in action.elements()]
    assert ours == list(dn.fibergroup.elements)


def test_dihedral_group_law_is_escnns(dn):
    action = Dihedral(dn.fibergroup.rotation_order)
    G = dn.fibergroup
    elems = action.elements()
    for a in elems:
        for b in elems:
            ours = to_escnn_element(G, action.compose(a, b))
            assert ours == to_escnn_element(G, a) @ to_escnn_element(G, b)
        assert to_escnn_element(G, action.inverse(a)) == ~to_escnn_element(G, a)


def test_o2_act_and_matrix_equal_escnn_for_sampled_elements(o2):
    ft = every_irrep_and_regular(o2)
    action = from_escnn(ft)
    ids = [ir.id for ir in o2.fibergroup.irreps()]  # escnn caches O(2) with its top frequency
    assert ids[:3] == [(0, 0), (1, 0), (1, 1)] and len(ids) >= 7
    assert action == O2(" + ".join(f"1x({j},{k})" for j, k in ids) + " + 2x(1,1)")
    z = np.random.default_rng(1).normal(size=(4, ft.size))
    G = o2.fibergroup
    for g in action.sample(12, random_state=2):
        np.testing.assert_allclose(action.act(g, z), escnn_transform(ft, z, g), atol=1e-12)
        np.testing.assert_allclose(
            action.matrix(g), ft.representation(to_escnn_element(ft, g)), atol=1e-12
        )
        h = action.sample(random_state=int(1e6 * g[1]))
        prod = to_escnn_element(G, g) @ to_escnn_element(G, h)
        assert to_escnn_element(G, action.compose(g, h)) == prod


@pytest.mark.parametrize("which", ["d4", "d8", "o2"])
def test_escnn_transformed_latents_have_zero_quotient_distance(which, o2):
    gs = o2 if which == "o2" else gspaces.flipRot2dOnR2(N=int(which[1:]))
    ft = every_irrep_and_regular(gs)
    action = from_escnn(ft)
    rng = np.random.default_rng(3)
    z = rng.normal(size=(8, ft.size))
    for g in action.sample(4, random_state=4):
        zg = escnn_transform(ft, z, g)
        assert np.all(np.linalg.norm(zg - z, axis=1) > 1e-3)  # the transform moved them
        np.testing.assert_allclose(quotient_distance(z, zg, action), 0.0, atol=1e-6)
        res = align(zg, z, action)
        np.testing.assert_allclose(res.Y_aligned, zg, atol=1e-6)
        # the element found, handed to escnn, reproduces the transform
        for i in range(3):
            np.testing.assert_allclose(
                escnn_transform(ft, z[i : i + 1], res.g[i]), zg[i : i + 1], atol=1e-6
            )


def test_change_of_basis_is_rejected_or_returned():
    d4 = gspaces.flipRot2dOnR2(N=4)
    G = d4.fibergroup
    quotient = G.quotient_representation((0, 1))  # D_4 / {e, f}: not written in irreps
    ft = enn.FieldType(d4, [quotient, G.irrep(1, 1)])
    with pytest.raises(ValueError, match="non-identity change of basis.*return_change_of_basis"):
        from_escnn(ft)
    action, Q = from_escnn(ft, return_change_of_basis=True)
    assert action == Dihedral(4, "1x(0,0) + 1x(1,1) + 1x(0,2) + 1x(1,1)")
    np.testing.assert_allclose(Q @ Q.T, np.eye(ft.size), atol=1e-12)
    z = np.random.default_rng(5).normal(size=(3, ft.size))
    for g in action.elements():
        E = to_escnn_element(ft, g)
        np.testing.assert_allclose(Q.T @ ft.representation(E) @ Q, action.matrix(g), atol=1e-12)
        np.testing.assert_allclose(escnn_transform(ft, z, g) @ Q, action.act(g, z @ Q), atol=1e-12)


def test_to_escnn_element_rejects_batches():
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        to_escnn_element(gspaces.flipRot2dOnR2(N=4), np.zeros((3, 2)))
