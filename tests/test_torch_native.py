"""torch-native quotient distances and invariant maps: gradients (``gradcheck`` in float64 on
CPU), dtype and device kept, numbers equal to the numpy path, and a clear TypeError where a
gradient cannot be carried (never a silent detach)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import orbitspace as osp
from orbitspace.groups import O3, SO2, SO3, Cyclic, Permutation, Product
from orbitspace.invariants import REGISTRY
from orbitspace.quotient import align, max_inner_product, quotient_distance

torch = pytest.importorskip("torch")

ACTIONS = [
    SO2("1x0 + 2x1 + 1x3"),
    Cyclic(6, "2xregular + 1x3 + 1x1"),
    Cyclic(5, "1xregular + 2x1"),
    Permutation(4),
    SO3("1x0e + 1x1o"),
    SO3("1x0e + 2x1o + 1x2e"),
    O3("1x0e + 1x1o + 1x1e"),
    Product(Permutation(3), SO2("1x0 + 1x1")),
    Product(Permutation(4, node_types=(1, 2, 1, 2)), SO2("1x1 + 1x2")),
]
#: maps without a torch implementation (given a tensor that requires grad: TypeError)
NOT_TORCH = {"bispectrum"}


def _shape(action, batch, d=3):
    if action.node_axis is None:
        return batch + (action.dim,)
    return batch + (action.n_nodes, action.feature_dim or d)


def _data(action, batch, seed=0, d=3):
    return np.random.default_rng(seed).normal(size=_shape(action, batch, d))


def _leaf(a):
    return torch.tensor(a, dtype=torch.float64, requires_grad=True)


# -- quotient distances ----------------------------------------------------------------------
@pytest.mark.parametrize("action", ACTIONS, ids=repr)
def test_distance_gradcheck_and_equal_to_numpy(action):
    X, Y = _data(action, (3,), 1), _data(action, (3,), 2)
    Xt, Yt = _leaf(X), _leaf(Y)
    d = quotient_distance(Xt, Yt, action)
    assert d.requires_grad and d.dtype == torch.float64
    np.testing.assert_allclose(d.detach().numpy(), quotient_distance(X, Y, action), atol=1e-12)
    assert torch.autograd.gradcheck(lambda x, y: quotient_distance(x, y, action), (Xt, Yt))


@pytest.mark.parametrize("action", ACTIONS[:4] + ACTIONS[7:8], ids=repr)
def test_distance_gradient_is_the_envelope_gradient(action):
    """d/dx ‖x − ρ(g*) y‖ = (x − ρ(g*) y) / d with g* from the numpy solver (slow twin)."""
    X, Y = _data(action, (), 3), _data(action, (), 4)
    Xt = _leaf(X)
    quotient_distance(Xt, torch.from_numpy(Y), action).backward()
    res = align(X, Y, action)
    want = (X - np.asarray(res.Y_aligned)) / float(res.distance)
    np.testing.assert_allclose(Xt.grad.numpy(), want, atol=1e-10)


def test_distance_broadcasts_and_masks_like_numpy():
    action = Permutation(4)
    X, Y = _data(action, (2, 1), 5), _data(action, (3,), 6)
    mx = np.array([[[True, True, True, False]], [[True, False, True, True]]])
    mask_x = np.broadcast_to(mx, (2, 1, 4)).copy()
    Xt, Yt = _leaf(X), _leaf(Y)
    d = quotient_distance(Xt, Yt, action, x_mask=mask_x)
    assert d.shape == (2, 3)
    np.testing.assert_allclose(
        d.detach().numpy(), quotient_distance(X, Y, action, x_mask=mask_x), atol=1e-12
    )
    d.sum().backward()
    assert np.all(Xt.grad.numpy()[~mask_x] == 0)  # padded rows: no gradient


@pytest.mark.parametrize("action", ACTIONS, ids=repr)
def test_align_and_max_inner_product_return_tensors(action):
    X, Y = _data(action, (4,), 7), _data(action, (4,), 8)
    res = align(torch.from_numpy(X).float(), torch.from_numpy(Y).float(), action)
    ref = align(X, Y, action)
    assert res.distance.dtype == torch.float32 and res.Y_aligned.dtype == torch.float32
    np.testing.assert_allclose(res.distance.numpy(), ref.distance, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(res.Y_aligned.numpy(), ref.Y_aligned, rtol=1e-5, atol=1e-5)
    g = res.g
    if hasattr(g, "perm"):  # product element: its arrays are tensors
        assert isinstance(g.perm, torch.Tensor) and isinstance(g.g, torch.Tensor)
        np.testing.assert_array_equal(g.perm.numpy(), ref.g.perm)
    else:
        assert isinstance(g, torch.Tensor) and g.shape == np.shape(ref.g)  # (maybe not unique)
    # the returned element reproduces the alignment through the action's own act
    moved = action.act(res.g, Y)
    np.testing.assert_allclose(np.asarray(moved), ref.Y_aligned, atol=1e-4)
    value, g2 = max_inner_product(_leaf(X), _leaf(Y), action)
    assert value.requires_grad
    np.testing.assert_allclose(
        value.detach().numpy(), max_inner_product(X, Y, action)[0], atol=1e-10
    )


def test_distance_of_a_point_to_its_orbit_has_zero_gradient_not_nan():
    action = SO2("1x1")
    x = _leaf(np.array([1.0, 2.0]))
    quotient_distance(x, torch.tensor([2.0, -1.0], dtype=torch.float64), action).backward()
    assert torch.isfinite(x.grad).all()


def test_no_warning_for_tensors_that_require_grad():
    action = SO2("1x0 + 2x1")
    x = _leaf(_data(action, (3,)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = osp.quotient_distance(x, x.detach().flip(0), action)
        osp.invariants.invariant_features(x, action, "norms")
    assert out.requires_grad


# -- invariant maps ---------------------------------------------------------------------------
def _cases():
    for action in ACTIONS:
        d = action.feature_dim or 3 if action.node_axis is not None else None
        for name, imap in REGISTRY.items():
            if name in NOT_TORCH or not imap.supports(action, d=d):
                continue
            for v in imap.variants:
                yield pytest.param(action, name, dict(v), id=f"{action!r}-{name}-{dict(v)}")
    sort_action = Permutation(5)
    yield pytest.param(sort_action, "sort", {}, id="sort-d1")
    for red in ("mean", "max"):
        yield pytest.param(Permutation(4), "node_pool", {"reduction": red}, id=f"pool-{red}")
        yield pytest.param(
            ACTIONS[8], "node_pooled_invariants", {"reduction": red}, id=f"ppool-{red}"
        )
    yield pytest.param(ACTIONS[1], "group_pool", {"reduction": "mean"}, id="group_pool-mean")
    yield pytest.param(ACTIONS[7], "node_sorted_invariants", {"invariant": "power_spectrum"})


def _fit(action, name, options, X):
    imap = REGISTRY[name]
    fit_opts, rest = imap.split_options(options)
    return imap, imap.fit(X, action, random_state=3, **fit_opts), rest


def _inputs(action, name, seed=11):
    d = 1 if name == "sort" else 3
    return _data(action, (3,), seed, d=d)


@pytest.mark.parametrize("action, name, options", list(_cases()))
def test_map_gradcheck_equal_to_numpy_and_dtype_kept(action, name, options):
    X = _inputs(action, name)
    imap, params, rest = _fit(action, name, options, X)
    assert imap.torch_native
    ref = imap.transform(X, action, params, **rest)
    out64 = imap.transform(torch.from_numpy(X), action, params, **rest)
    assert isinstance(out64, torch.Tensor) and out64.dtype == torch.float64
    np.testing.assert_allclose(out64.numpy(), ref, atol=1e-10)
    out32 = imap.transform(torch.from_numpy(X).float(), action, params, **rest)
    assert out32.dtype == torch.float32 and out32.shape == ref.shape
    np.testing.assert_allclose(out32.numpy(), ref, rtol=1e-4, atol=1e-4)
    declared = imap.properties(
        action, d=X.shape[-1] if action.node_axis is not None else None, **options
    ).differentiable
    assert declared != "no"
    x = _leaf(X[:2])
    assert imap.transform(x, action, params, **rest).requires_grad
    assert torch.autograd.gradcheck(lambda z: imap.transform(z, action, params, **rest), (x,))


@pytest.mark.parametrize(
    "action", [SO2("2x1"), SO3("1x1o + 1x2e"), O3("1x0e + 1x1o + 1x1e")], ids=repr
)
def test_align_to_reference_gradient_includes_the_moving_element(action):
    """For a continuous group the aligned point ρ(g*(z)) z turns with z: its Jacobian is not
    ρ(g*) (the gradient with g* frozen); compare with central differences of numpy."""
    imap = REGISTRY["align_to_reference"]
    X = _data(action, (), 12)
    params = imap.fit(X[None], action, random_state=0)
    J = torch.autograd.functional.jacobian(
        lambda z: imap.transform(z, action, params), torch.from_numpy(X)
    ).numpy()
    h = 1e-6
    num = np.stack(
        [
            (imap.transform(X + h * e, action, params) - imap.transform(X - h * e, action, params))
            / (2 * h)
            for e in np.eye(action.dim)
        ],
        axis=-1,
    )
    np.testing.assert_allclose(J, num, atol=1e-5)
    frozen = action.matrix(align(params["references"][0], X, action).g)
    assert np.abs(J - frozen).max() > 1e-3


def test_align_to_reference_refuses_grad_where_the_derivative_is_not_implemented():
    action = osp.O2("1x(0,0) + 1x(1,1)")
    imap = REGISTRY["align_to_reference"]
    X = _data(action, (3,), 21)
    params = imap.fit(X, action, random_state=0)
    with pytest.raises(TypeError, match="derivative is not implemented"):
        imap.transform(_leaf(X), action, params)
    out = imap.transform(torch.from_numpy(X), action, params)  # no grad: computed in torch
    np.testing.assert_allclose(out.numpy(), imap.transform(X, action, params), atol=1e-12)


def test_masks_in_torch_equal_numpy():
    action = ACTIONS[8]
    X = _data(action, (3,), 13)
    mask = np.array([[1, 1, 0, 1], [1, 1, 1, 1], [0, 1, 1, 0]], dtype=bool)
    for name in ("node_pooled_invariants", "node_sorted_invariants", "max_filter"):
        imap, params, rest = _fit(action, name, {}, X)
        ref = imap.transform(X, action, params, mask=mask, **rest)
        out = imap.transform(_leaf(X), action, params, mask=mask, **rest)
        np.testing.assert_allclose(out.detach().numpy(), ref, atol=1e-10)
    out = REGISTRY["node_pool"].transform(
        _leaf(_data(Permutation(4), (3,), 14)), Permutation(4), {}, mask=mask, reduction="max"
    )
    ref = REGISTRY["node_pool"].transform(
        _data(Permutation(4), (3,), 14), Permutation(4), {}, mask=mask, reduction="max"
    )
    np.testing.assert_allclose(out.detach().numpy(), ref, atol=1e-12)


@pytest.mark.parametrize("action", [SO2("1x0 + 2x1 + 1x2"), SO3("1x1o + 1x2e")], ids=repr)
def test_a_map_without_torch_refuses_grad_and_never_detaches(action):
    imap = REGISTRY["bispectrum"]
    assert not imap.torch_native
    X = _data(action, (3,), 15)
    with pytest.raises(TypeError, match="bispectrum.*no torch implementation.*requires grad"):
        imap.transform(_leaf(X), action, {})
    with pytest.raises(TypeError, match="requires grad"):
        osp.invariants.invariant_features(_leaf(X), action, "bispectrum")
    # without grad: computed in numpy, returned as a tensor in the caller's dtype
    out = imap.transform(torch.from_numpy(X).float(), action, {})
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float32


def test_torch_input_is_validated_before_work():
    action = SO2("1x0 + 2x1")
    imap = REGISTRY["norms"]
    with pytest.raises(ValueError, match=r"has dim 5 but X.shape\[-1\] is 4"):
        imap.transform(torch.zeros(3, 4), action, {})
    bad = torch.zeros(3, 5)
    bad[1, 2] = float("nan")
    with pytest.raises(ValueError, match="finite"):
        imap.transform(bad, action, {})
    with pytest.raises(ValueError, match="node masks"):
        imap.transform(torch.zeros(3, 5), action, {}, mask=np.ones((3,), bool))
    with pytest.raises(TypeError, match="fitted parameters are constants"):
        REGISTRY["sorted_projections"].transform(
            torch.zeros(2, 4, 3),
            Permutation(4),
            {"directions": torch.ones(3, 2, requires_grad=True)},
        )


def test_fit_reads_a_tensor_that_requires_grad_without_warning():
    action = Permutation(4)
    X = _leaf(_data(action, (6,), 16))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        params = REGISTRY["align_to_reference"].fit(X, action, reference="data", random_state=0)
    assert isinstance(params["references"], np.ndarray)


def test_integer_tensors_compute_in_float64():
    out = REGISTRY["channel_sort"].transform(torch.tensor([[[3, 1], [1, 2]]]), Permutation(2), {})
    assert out.dtype == torch.float64 and out.tolist() == [[1.0, 1.0, 3.0, 2.0]]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_tensors_stay_on_the_device_and_carry_gradients():
    dev = torch.device("cuda")
    for action in (ACTIONS[0], ACTIONS[3], ACTIONS[5], ACTIONS[7]):
        X, Y = _data(action, (4,), 17), _data(action, (4,), 18)
        x = torch.tensor(X, dtype=torch.float32, device=dev, requires_grad=True)
        d = quotient_distance(x, torch.tensor(Y, dtype=torch.float32, device=dev), action)
        assert d.device.type == "cuda" and d.dtype == torch.float32
        d.sum().backward()
        assert x.grad.device.type == "cuda"
        np.testing.assert_allclose(
            d.detach().cpu().numpy(), quotient_distance(X, Y, action), rtol=1e-4, atol=1e-4
        )
        res = align(x.detach(), torch.tensor(Y, device=dev, dtype=torch.float32), action)
        elems = (res.g.perm, res.g.g) if hasattr(res.g, "perm") else (res.g,)
        assert all(e.device.type == "cuda" for e in elems)
        d_ = action.node_axis is not None and (action.feature_dim or 3)
        for name, imap in REGISTRY.items():
            if name in NOT_TORCH or not imap.supports(action, d=d_ or None):
                continue
            params = imap.fit(X, action, random_state=0)
            out = imap.transform(x, action, params)
            assert out.device.type == "cuda" and out.dtype == torch.float32, name
            ref = imap.transform(X, action, params)
            np.testing.assert_allclose(out.detach().cpu().numpy(), ref, rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("action", ACTIONS[:1] + ACTIONS[3:6] + ACTIONS[7:8], ids=repr)
def test_pairwise_distances_torch_gradcheck_and_equal_to_numpy(action):
    from orbitspace.quotient import pairwise_quotient_distances
    from orbitspace.quotient._torch import pairwise_distances_torch

    X, Y = _data(action, (3,), 19), _data(action, (2,), 20)
    Xt, Yt = _leaf(X), _leaf(Y)
    D = pairwise_distances_torch(Xt, Yt, action=action, batch_size=4)
    assert D.shape == (3, 2) and D.requires_grad
    want = pairwise_quotient_distances(X, Y, action=action)
    np.testing.assert_allclose(D.detach().numpy(), want, atol=1e-10)
    assert torch.autograd.gradcheck(
        lambda x, y: pairwise_distances_torch(x, y, action=action, batch_size=4), (Xt, Yt)
    )
    S = pairwise_distances_torch(Xt, action=action)
    np.testing.assert_allclose(
        S.detach().numpy(), pairwise_quotient_distances(X, action=action), atol=1e-10
    )
    S.sum().backward()
    assert torch.isfinite(Xt.grad).all()  # zero diagonal: gradient 0, not NaN
