"""The invariant maps one by one: slow exact twins, conventions, node masks and bad input."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import orbitspace as osp
from orbitspace.invariants import (
    REGISTRY,
    Properties,
    align_to_reference,
    available_methods,
    bispectrum,
    bispectrum_is_complete,
    channel_sort,
    fourier_view,
    get_map,
    group_pool,
    invariant_features,
    lexsort,
    max_filter,
    node_pool,
    norms,
    power_spectrum,
    sort,
    sorted_projections,
)
from orbitspace.invariants.fourier import _smith_diagonal
from orbitspace.quotient import quotient_distance

RNG = np.random.default_rng(0)


# -- slow exact twins ----------------------------------------------------------------------------
def test_lexsort_matches_python_sorted_rows():
    X = RNG.integers(0, 3, size=(20, 6, 3)).astype(float)  # many ties in channel 0
    out = lexsort(X).reshape(X.shape)
    for x, o in zip(X, out):
        np.testing.assert_array_equal(o, np.array(sorted(map(tuple, x))))


def test_channel_sort_and_sorted_projections_match_loops():
    X = RNG.normal(size=(7, 5, 3))
    A = RNG.normal(size=(3, 4))
    cs = channel_sort(X).reshape(X.shape)
    sp = sorted_projections(X, A).reshape(7, 5, 4)
    for i in range(7):
        for c in range(3):
            np.testing.assert_array_equal(cs[i, :, c], sorted(X[i, :, c]))
        for j in range(4):
            np.testing.assert_allclose(sp[i, :, j], np.sort(X[i] @ A[:, j]) / 2.0)


def test_brief_example_channel_sort_collides_lexsort_does_not():
    X = np.array([[0.0, 0.0], [1.0, 1.0]])
    Y = np.array([[0.0, 1.0], [1.0, 0.0]])
    assert float(quotient_distance(X, Y, osp.Permutation(2))) > 1.0
    np.testing.assert_array_equal(channel_sort(X), channel_sort(Y))
    assert not np.array_equal(lexsort(X), lexsort(Y))


def test_lexsort_is_discontinuous_as_declared():
    eps = 1e-9
    X = np.array([[0.0 - eps, 5.0], [0.0 + eps, -5.0]])
    Y = X[:, ::1].copy()
    Y[:, 0] = -Y[:, 0]  # the tie in channel 0 resolved the other way
    d = float(quotient_distance(X, Y, osp.Permutation(2)))
    assert d < 1e-8
    assert np.linalg.norm(lexsort(X) - lexsort(Y)) > 10
    assert not get_map("lexsort").properties(osp.Permutation(2), d=2).continuous


@pytest.mark.parametrize(
    "action",
    [osp.Cyclic(4, "1xregular + 1x1"), osp.Permutation(4), osp.SO2("1x0 + 2x1 + 1x2")],
    ids=repr,
)
def test_align_and_max_filter_match_brute_force_over_the_group(action):
    event = (action.n_nodes, 2) if isinstance(action, osp.Permutation) else (action.dim,)
    Z = RNG.normal(size=(6,) + event)
    R = RNG.normal(size=(2,) + event)
    if isinstance(action, osp.SO2):
        elems = np.linspace(0, 2 * np.pi, 20000, endpoint=False)
    else:
        elems = action.elements()
    moved = np.stack([np.asarray(action.act(g, Z)) for g in elems])  # (G, 6, *event)
    axes = tuple(range(2, moved.ndim))
    for k in range(2):
        dist = np.sqrt(((moved - R[k]) ** 2).sum(axes))  # (G, 6)
        best = moved[dist.argmin(0), np.arange(6)]
        got = np.asarray(align_to_reference(Z, action, R[k : k + 1])).reshape(Z.shape)
        np.testing.assert_allclose(got, best, atol=1e-3 if isinstance(action, osp.SO2) else 1e-12)
        inner = (moved * R[k]).sum(axes).max(0)
        got_mf = np.asarray(max_filter(Z, action, R[k : k + 1]))[:, 0]
        if isinstance(action, osp.SO2):  # the grid value is a lower bound within 1e-6
            assert np.all(got_mf >= inner - 1e-12) and np.all(got_mf - inner < 1e-5)
        else:
            np.testing.assert_allclose(got_mf, inner, atol=1e-12)


def test_norms_and_group_pool_match_block_loops():
    action = osp.Cyclic(4, "1x0 + 1x1 + 1x2 + 2xregular")
    X = RNG.normal(size=(5, action.dim))
    expected_norms, expected_pool = [], []
    for kind, k, start, size in action.blocks():
        block = X[:, start : start + size]
        if kind == "irrep" and k == 0:
            expected_norms.append(block[:, 0])
            expected_pool.append(block[:, 0])
        else:
            expected_norms.append(np.linalg.norm(block, axis=1))
            expected_pool.append(block.max(1) if kind == "regular" else expected_norms[-1])
    np.testing.assert_allclose(norms(X, action), np.stack(expected_norms, 1))
    np.testing.assert_allclose(group_pool(X, action), np.stack(expected_pool, 1))
    mean = np.asarray(group_pool(X, action, reduction="mean"))
    np.testing.assert_allclose(mean[:, -1], X[:, -4:].mean(1))


def test_fourier_view_of_a_regular_block_intertwines_with_the_irreps():
    """The DFT view of C_8's regular block is an orthogonal intertwiner to 1x0+1x1+1x2+1x3+1x4."""
    regular, irreps = osp.Cyclic(8, "1xregular"), osp.Cyclic(8, "1x0 + 1x1 + 1x2 + 1x3 + 1x4")
    v = RNG.normal(size=(10, 8))

    def to_irreps(v):
        view = fourier_view(v, regular)
        cols = [view.scalars[:, 0]]
        for k in (1, 2, 3):
            c = view.freqs[k][:, 0]
            cols += [c.real, c.imag]
        return np.stack(cols + [view.signs[:, 0]], 1)

    z = to_irreps(v)
    np.testing.assert_allclose(np.linalg.norm(z, axis=1), np.linalg.norm(v, axis=1))
    for g in range(8):
        np.testing.assert_allclose(
            to_irreps(np.asarray(regular.act(g, v))), np.asarray(irreps.act(g, z)), atol=1e-12
        )
    np.testing.assert_allclose(power_spectrum(v, regular), power_spectrum(z, irreps), atol=1e-12)


def test_power_spectrum_is_the_hermitian_gram_per_frequency():
    action = osp.SO2("1x0 + 2x1 + 1x3")
    x = RNG.normal(size=action.dim)
    c1 = x[1:5:2] + 1j * x[2:6:2]
    c3 = x[5] + 1j * x[6]
    gram = c1[0] * np.conj(c1[1])
    expected = [x[0], abs(c1[0]) ** 2, abs(c1[1]) ** 2, gram.real, gram.imag, abs(c3) ** 2]
    np.testing.assert_allclose(power_spectrum(x, action), expected)


def test_bispectrum_triple_products():
    action = osp.SO2("1x1 + 1x2 + 1x3")
    x = RNG.normal(size=action.dim)
    c = {k: x[2 * k - 2] + 1j * x[2 * k - 1] for k in (1, 2, 3)}
    out = np.asarray(bispectrum(x, action))
    t112 = c[1] * c[1] * np.conj(c[2])
    t123 = c[1] * c[2] * np.conj(c[3])
    np.testing.assert_allclose(out[-4:], [t112.real, t112.imag, t123.real, t123.imag])
    assert out.shape[-1] == np.asarray(power_spectrum(x, action)).shape[-1] + 4
    full = np.asarray(bispectrum(np.tile(x, 2), osp.SO2("2x1 + 2x2 + 2x3"), copies="all"))
    ps = np.asarray(power_spectrum(np.tile(x, 2), osp.SO2("2x1 + 2x2 + 2x3"))).shape[-1]
    assert full.shape[-1] == ps + 2 * (3 * 2 + 4 * 2)  # (1,1,2): 3 pairs x 2; (1,2,3): 4 x 2


@pytest.mark.parametrize(
    "rep,complete",
    [
        ("1x1 + 1x2", True),
        ("1x1 + 1x3", False),
        ("1x1 + 1x2 + 1x3", True),
        ("1x2 + 1x4", True),
        ("1x1 + 1x3 + 1x4", False),
        ("1x1 + 1x2 + 1x4", True),
        ("3x0 + 2x5", True),
    ],
)
def test_bispectrum_completeness_rule(rep, complete):
    assert bispectrum_is_complete(osp.SO2(rep)) is complete


def test_smith_diagonal_gives_the_torsion():
    assert np.prod(_smith_diagonal([[2, 0], [0, 3]])) == 6  # cokernel Z/6: torsion
    assert _smith_diagonal([[2, -1], [1, 1]]) in ([1, 3], [3, 1])
    assert _smith_diagonal([[2, 4], [4, 8]]) == [2]


# -- node masks ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["sort", "lexsort", "channel_sort", "sorted_projections"])
def test_masked_rows_are_zero_padding(name):
    d = 1 if name == "sort" else 2
    X = RNG.normal(size=(4, 6, d))
    mask = np.ones((4, 6), bool)
    mask[:, 4:] = False
    garbage = X.copy()
    garbage[:, 4:] = 99.0
    zeroed = X.copy()
    zeroed[:, 4:] = 0.0
    imap = get_map(name)
    params = imap.fit(X, osp.Permutation(6), random_state=0)
    a = imap.transform(garbage, osp.Permutation(6), params, mask=mask)
    b = imap.transform(zeroed, osp.Permutation(6), params)
    np.testing.assert_array_equal(a, b)


def test_masked_sort_is_isometric_to_the_masked_quotient_distance():
    X, Y = RNG.normal(size=(2, 10, 6, 1))
    mx, my = RNG.random((2, 10, 6)) > 0.3
    fx, fy = sort(X, mask=mx), sort(Y, mask=my)
    d = quotient_distance(X, Y, osp.Permutation(6), x_mask=mx, y_mask=my)
    np.testing.assert_allclose(np.linalg.norm(fx - fy, axis=-1), d, atol=1e-12)


def test_masked_node_pool_uses_real_nodes_only():
    X = RNG.normal(size=(3, 5, 2))
    mask = np.array([[1, 1, 1, 0, 0], [1, 0, 0, 0, 0], [0, 0, 0, 0, 0]], bool)
    mean = node_pool(X, reduction="mean", mask=mask)
    mx = node_pool(X, reduction="max", mask=mask)
    np.testing.assert_allclose(mean[0], X[0, :3].mean(0))
    np.testing.assert_allclose(mx[1], X[1, 0])
    np.testing.assert_array_equal(mx[2], 0.0)
    np.testing.assert_array_equal(mean[2], 0.0)


# -- registry and conveniences ---------------------------------------------------------------------
def test_invariant_features_is_fit_then_transform():
    action = osp.Cyclic(4, "2xregular")
    X = RNG.normal(size=(9, 8))
    imap = get_map("max_filter")
    params = imap.fit(X, action, random_state=3, n_templates=5)
    np.testing.assert_array_equal(
        invariant_features(X, action, "max_filter", random_state=3, n_templates=5),
        imap.transform(X, action, params),
    )
    assert invariant_features(X, action, "group_pool", reduction="mean").shape == (9, 2)


def test_available_methods_per_action():
    assert available_methods(osp.SO2("1x1")) == [
        "align_to_reference",
        "max_filter",
        "norms",
        "power_spectrum",
        "bispectrum",
    ]
    assert "group_pool" in available_methods("Cyclic(8, '1xregular')")
    assert "bispectrum" not in available_methods(osp.Cyclic(8, "1xregular"))
    assert "sort" in available_methods(osp.Permutation(3), d=1)
    assert "sort" not in available_methods(osp.Permutation(3), d=2)
    assert available_methods(osp.FiniteGroup([np.eye(2)])) == ["align_to_reference", "max_filter"]


def test_registry_is_read_only_and_records_are_frozen():
    with pytest.raises(TypeError):
        REGISTRY["x"] = REGISTRY["sort"]  # type: ignore[index]
    with pytest.raises(AttributeError):
        REGISTRY["sort"].name = "other"  # type: ignore[misc]
    props = get_map("sort").properties(osp.Permutation(3), d=1)
    assert props.to_dict()["isometric"] is True
    with pytest.raises(ValueError, match="separating"):
        Properties(
            invariant=True,
            separating="maybe",  # type: ignore[arg-type]
            isometric=False,
            lipschitz=None,
            lower_lipschitz=None,
            continuous=True,
            differentiable="yes",
            cross_section=False,
            output_dim=1,
        )
    with pytest.raises(TypeError):
        Properties(True, "yes", False, None, None, True, "yes", False, 1)  # type: ignore[misc]


def test_import_does_not_pull_torch():
    code = "import orbitspace.invariants, sys; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- bad input -------------------------------------------------------------------------------------
def test_unknown_method_lists_the_valid_names():
    with pytest.raises(ValueError, match="expected one of .*'sort'"):
        get_map("sortt")
    with pytest.raises(ValueError, match="unknown invariant map"):
        invariant_features(np.zeros((2, 2)), osp.SO2("1x1"), "nope")


def test_map_not_supported_by_the_action():
    with pytest.raises(ValueError, match="does not support .*available for it"):
        invariant_features(np.zeros((2, 3, 1)), osp.Permutation(3), "norms")
    with pytest.raises(ValueError, match="does not support"):
        get_map("group_pool").properties(osp.SO2("1x1"))
    with pytest.raises(ValueError, match="does not support"):
        invariant_features(np.zeros((2, 3, 2)), osp.Permutation(3), "sort")
    with pytest.raises(ValueError, match="d = 1"):
        sort(np.zeros((3, 2)))


def test_wrong_shapes_and_options():
    with pytest.raises(ValueError, match="dim 4 but X.shape"):
        invariant_features(np.zeros((2, 5)), osp.SO2("2x1"), "norms")
    with pytest.raises(ValueError, match="n_nodes 3"):
        invariant_features(np.zeros((2, 4, 1)), osp.Permutation(3), "sort")
    with pytest.raises(ValueError, match="need d"):
        get_map("lexsort").properties(osp.Permutation(3))
    with pytest.raises(TypeError, match="unknown option"):
        invariant_features(np.zeros((2, 2)), osp.SO2("1x1"), "norms", reduction="max")
    with pytest.raises(TypeError, match="unknown option"):
        get_map("max_filter").transform(np.zeros((2, 2)), osp.SO2("1x1"), {}, n_templates=3)
    with pytest.raises(ValueError, match="must hold 'templates'"):
        get_map("max_filter").transform(np.zeros((2, 2)), osp.SO2("1x1"), {})
    with pytest.raises(ValueError, match="templates must have shape"):
        max_filter(np.zeros((2, 2)), osp.SO2("1x1"), np.zeros((3, 4)))
    with pytest.raises(ValueError, match="directions must have shape"):
        sorted_projections(np.zeros((2, 3, 2)), np.zeros((3, 4)))
    with pytest.raises(ValueError, match="reduction"):
        node_pool(np.zeros((3, 2)), reduction="median")
    with pytest.raises(ValueError, match="copies"):
        bispectrum(np.zeros(2), osp.SO2("1x1"), copies="some")
    with pytest.raises(ValueError, match="reference must be one of"):
        invariant_features(np.zeros((2, 2)), osp.SO2("1x1"), "align_to_reference", reference="x")
    with pytest.raises(ValueError, match="one reference"):
        invariant_features(
            np.zeros((2, 2)), osp.SO2("1x1"), "align_to_reference", reference="mean", n_references=2
        )
    with pytest.raises(ValueError, match=">= 1"):
        invariant_features(np.zeros((2, 2)), osp.SO2("1x1"), "max_filter", n_templates=0)


def test_bad_masks():
    with pytest.raises(ValueError, match="node sets only"):
        invariant_features(np.zeros((2, 2)), osp.SO2("1x1"), "norms", mask=np.ones(2, bool))
    with pytest.raises(ValueError, match="node mask must have shape"):
        sort(np.zeros((2, 3, 1)), mask=np.ones((2, 4), bool))
    with pytest.raises(TypeError, match="boolean"):
        sort(np.zeros((2, 3, 1)), mask=np.full((2, 3), 0.5))
    with pytest.raises(ValueError, match="finite"):
        sort(np.full((3, 1), np.nan))
