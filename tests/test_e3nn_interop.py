"""e3nn adapter: from_e3nn on real e3nn Irreps and real e3nn networks; the fairchem layout."""

import numpy as np
import pytest

import orbitspace as osp
from orbitspace.interop.e3nn import from_e3nn, from_spherical_channels, to_e3nn
from orbitspace.quotient._registry import find_solver

torch = pytest.importorskip("torch")
o3 = pytest.importorskip("e3nn.o3")

I_IN = "4x0e + 3x1o + 2x2e + 1x1e"
I_OUT = "2x0e + 2x1o + 1x2e + 1x0o"


def _solver_registered(action) -> bool:
    try:
        find_solver(action)
    except ValueError:
        return False
    return True


@pytest.fixture
def f64():
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        torch.set_default_dtype(old)


def _networks():
    torch.manual_seed(0)
    linear = o3.Linear(I_IN, I_OUT)
    tp = o3.FullyConnectedTensorProduct(I_IN, I_IN, I_OUT)

    def quadratic(x):  # a nonlinear equivariant map: x -> TP(x, x)
        return tp(x, x)

    return {"linear": linear, "tensor_product": quadratic}


def test_from_e3nn_accepts_irreps_objects_and_strings():
    irreps = o3.Irreps(I_IN)
    assert from_e3nn(irreps) == from_e3nn(I_IN) == osp.SO3(I_IN)
    assert from_e3nn(irreps, o3=True) == osp.O3(I_IN)
    assert from_e3nn(irreps).dim == irreps.dim
    assert osp.from_e3nn is from_e3nn and osp.interop.from_e3nn is from_e3nn
    # e3nn allows multiplicity 0; those terms hold no coordinates and are dropped
    assert from_e3nn(o3.Irreps("2x0e + 0x1o + 1x2e")) == osp.SO3("2x0e + 1x2e")
    assert from_e3nn("2x0e + 0x1o + 1x2e") == osp.SO3("2x0e + 1x2e")
    assert to_e3nn(from_e3nn(irreps)) == irreps
    with pytest.raises(TypeError, match="e3nn.o3.Irreps or an irreps string"):
        from_e3nn(3.5)
    with pytest.raises(ValueError, match="dimension 0"):
        from_e3nn(o3.Irreps("0x1o"))
    with pytest.raises(TypeError, match="SO3 or O3"):
        to_e3nn(osp.SO2("1x1"))


@pytest.mark.parametrize("name", ["linear", "tensor_product"])
def test_real_e3nn_network_is_equivariant_under_our_matrices(f64, name):
    f = _networks()[name]
    rho_in, rho_out = from_e3nn(o3.Irreps(I_IN), o3=True), from_e3nn(I_OUT, o3=True)
    R = rho_in.sample(6, random_state=0)
    assert (np.linalg.det(R) < 0).any()  # reflections too: e3nn networks are O(3)-equivariant
    x = np.random.default_rng(0).normal(size=(6, rho_in.dim))
    with torch.no_grad():
        fx = f(torch.tensor(x)).numpy()
        f_rx = f(torch.tensor(rho_in.act(R, x))).numpy()
    assert np.abs(fx).max() > 0.1  # not a trivially zero network
    np.testing.assert_allclose(f_rx, rho_out.act(R, fx), atol=1e-10)
    # and our matrices are the ones e3nn uses
    np.testing.assert_allclose(
        rho_out.matrix(R), o3.Irreps(I_OUT).D_from_matrix(torch.tensor(R)).numpy(), atol=1e-12
    )
    # a wrong action (parity dropped) is caught on the reflections
    wrong = osp.O3(I_OUT.replace("1o", "1e"))
    assert np.abs(f_rx - wrong.act(R, fx)).max() > 1e-3


@pytest.mark.skipif(
    not _solver_registered(osp.SO3("1x0e")), reason="no SO(3) alignment solver registered yet"
)
@pytest.mark.parametrize("name", ["linear", "tensor_product"])
def test_quotient_distance_of_network_outputs_on_an_orbit_is_zero(f64, name):
    f = _networks()[name]
    rho_in, rho_out = osp.SO3(I_IN), from_e3nn(o3.Irreps(I_OUT))
    R = rho_in.sample(4, random_state=1)
    x = np.random.default_rng(1).normal(size=(4, rho_in.dim))
    with torch.no_grad():
        fx = f(torch.tensor(x)).numpy()
        f_rx = f(torch.tensor(rho_in.act(R, x))).numpy()
    d = osp.quotient_distance(fx, f_rx, rho_out)
    assert np.abs(np.asarray(d)).max() < 1e-6 * np.linalg.norm(fx, axis=-1).max()
    # a different input is at a positive distance
    with torch.no_grad():
        fy = f(torch.tensor(np.random.default_rng(2).normal(size=(4, rho_in.dim)))).numpy()
    assert np.asarray(osp.quotient_distance(fx, fy, rho_out)).min() > 1e-3


def test_spherical_channels_layout_maps_to_e3nn_order():
    L, C = 3, 4
    action, index = from_spherical_channels(L, C)
    assert action == osp.SO3("4x0e + 4x1o + 4x2e + 4x3o")
    assert np.array_equal(np.sort(index), np.arange((L + 1) ** 2 * C))
    # rotate a fairchem-layout tensor (coefficients l^2 + l + m on axis -2, channels on -1)
    # block by block, independently of the index
    R = action.sample(3, random_state=3)
    x = np.random.default_rng(3).normal(size=(3, (L + 1) ** 2, C))
    rx = np.empty_like(x)
    for ell in range(L + 1):
        D = osp.groups._wigner.wigner_D(ell, R)
        sl = slice(ell * ell, (ell + 1) ** 2)
        rx[:, sl, :] = np.einsum("nij,njc->nic", D, x[:, sl, :])
    flat = x.reshape(3, -1)[:, index]
    np.testing.assert_allclose(rx.reshape(3, -1)[:, index], action.act(R, flat), atol=1e-13)
    np.testing.assert_array_equal(flat[:, np.argsort(index)], x.reshape(3, -1))
    assert from_spherical_channels(1, 2, o3=True, parity="e")[0] == osp.O3("2x0e + 2x1e")
    for bad in [dict(lmax=-1, channels=2), dict(lmax=1, channels=0), dict(lmax=1.5, channels=2)]:
        with pytest.raises(ValueError, match="received"):
            from_spherical_channels(**bad)
