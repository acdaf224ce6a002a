"""The map objects and their registry: register_map's checks, a map added from outside, the
traits-only paths (an action the maps have never heard of), the one spec format, and the
consumers (reports, estimators) reading data_free / quick / variants from the objects."""

from __future__ import annotations

import numpy as np
import pytest

import orbitspace as osp
from orbitspace.groups import Irrep
from orbitspace.invariants import (
    REGISTRY,
    InvariantMap,
    MapSpec,
    Properties,
    _map,
    available_methods,
    data_free_methods,
    default_specs,
    get_map,
    invariant_features,
    norms,
    power_spectrum,
    register_map,
    resolve_specs,
)
from orbitspace.quotient import quotient_distance

RNG = np.random.default_rng(0)


def _props(out: int) -> Properties:
    return Properties(
        invariant=True,
        separating="no",
        isometric=False,
        lipschitz=1.0,
        lower_lipschitz=None,
        continuous=True,
        differentiable="almost everywhere",
        cross_section=False,
        output_dim=out,
    )


class _Length(InvariantMap):
    """‖z‖ for every action: invariant, 1-Lipschitz, lossy."""

    name = "test_length"
    summary = "the norm of the whole code"
    transform_options = {"scale": 1.0}
    variants = ({}, {"scale": 2.0})

    def _supports(self, action, d):
        return True

    def _properties(self, action, d, scale=1.0):
        return _props(1)

    def _transform(self, X, action, params, *, mask=None, scale=1.0):
        Z = np.asarray(X, float)
        flat = Z.reshape(Z.shape[: Z.ndim - action.event_ndim] + (-1,))
        return scale * np.linalg.norm(flat, axis=-1, keepdims=True)


@pytest.fixture
def length_map():
    register_map(_Length)
    try:
        yield REGISTRY["test_length"]
    finally:
        _map._MAPS.pop("test_length", None)


# -- register_map -------------------------------------------------------------------------------
def test_a_registered_map_reaches_every_consumer(length_map):
    from orbitspace.estimators import InvariantProjection
    from orbitspace.report.methods import default_methods

    action = osp.SO2("1x0 + 1x1")
    assert available_methods(action)[-1] == "test_length"
    assert "test_length" in data_free_methods()
    labels = [s.label for s in default_methods(action)]
    assert labels[-2:] == ["test_length", "test_length(scale=2.0)"]
    X = RNG.normal(size=(4, 3))
    F = InvariantProjection(action, method="test_length", scale=2.0).transform(X)  # no fit
    np.testing.assert_allclose(F[:, 0], 2 * np.linalg.norm(X, axis=1))
    with pytest.raises(AttributeError):
        length_map.summary = "x"  # type: ignore[misc]


def test_register_map_rejects_inconsistent_declarations(length_map):
    with pytest.raises(TypeError, match="InvariantMap subclass"):
        register_map(object)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="registered already"):
        register_map(type("Again", (_Length,), {}))
    with pytest.raises(TypeError, match="name must be a non-empty str"):
        register_map(type("NoName", (_Length,), {"name": ""}))
    with pytest.raises(ValueError, match="data_free=True but it defines _fit"):
        register_map(type("Fits", (_Length,), {"name": "t1", "_fit": lambda self, *a: {}}))
    with pytest.raises(ValueError, match="data_free=False but it does not define _fit"):
        register_map(type("NoFit", (_Length,), {"name": "t2", "data_free": False}))
    with pytest.raises(ValueError, match="names options"):
        register_map(type("BadVariant", (_Length,), {"name": "t3", "variants": ({"k": 1},)}))
    with pytest.raises(TypeError, match="must implement _properties"):
        register_map(
            type("NoTransform", (InvariantMap,), {"name": "t4", "summary": "s", "_supports": 1})
        )
    with pytest.raises(TypeError, match="quick must be a bool"):
        register_map(type("BadQuick", (_Length,), {"name": "t5", "quick": "yes"}))
    assert not {"t1", "t2", "t3", "t4", "t5"} & set(REGISTRY)


def test_class_attributes_of_the_builtin_maps():
    assert data_free_methods() == {n for n, m in REGISTRY.items() if not m.fit_options}
    assert [n for n, m in REGISTRY.items() if not m.quick] == ["bispectrum"]
    assert [dict(v) for v in get_map("align_to_reference").variants] == [
        {"n_references": 1},
        {"n_references": 4},
    ]
    assert all(m.variants == ({},) for n, m in REGISTRY.items() if n != "align_to_reference")
    assert get_map("align_to_reference").fit_reads_data(reference="data")
    assert not get_map("align_to_reference").fit_reads_data()
    assert not get_map("max_filter").fit_reads_data(n_templates=3)
    with pytest.raises(TypeError):
        get_map("max_filter").fit_options["n_templates"] = 3  # type: ignore[index]


def test_declared_output_dims_do_not_run_the_maps(monkeypatch):
    from orbitspace.invariants import blocks, fourier, permutation, templates

    def refuse(*args, **kwargs):
        raise AssertionError("a declaration ran the map")

    for module in (blocks, fourier, permutation, templates):
        for fn in ("norms", "group_pool", "power_spectrum", "bispectrum", "sort", "lexsort"):
            if hasattr(module, fn):
                monkeypatch.setattr(module, fn, refuse)
    for action, d, method, out in [
        (osp.SO2("2x0 + 2x1 + 1x3"), None, "power_spectrum", 2 + 4 + 1),
        (osp.SO2("1x1 + 1x2 + 1x3"), None, "bispectrum", 3 + 2 * 2),
        (osp.Cyclic(8, "1xregular + 1x1 + 1x4"), None, "power_spectrum", 1 + 3 + 4 + 1 + 1),
        (osp.Cyclic(8, "1xregular + 1x1 + 1x4"), None, "group_pool", 3),
        (osp.SO2("2x0 + 2x1 + 1x3"), None, "norms", 5),
        (osp.Permutation(5), 1, "sort", 5),
    ]:
        assert get_map(method).output_dim(action, d=d) == out, (action, method)


# -- traits only: an action no map has heard of -------------------------------------------------
class Relabelled(osp.SO2):
    """SO(2) whose irreps carry another group name: neither planar (no Fourier view) nor SO(2)
    to the maps, so they must take their generic, component-driven paths."""

    def _irrep(self, kind):
        ir = super()._irrep(kind)
        return Irrep("G", ir.label, ir.dim, ir.degree, ir.trivial)


def test_generic_action_gets_the_component_maps_and_they_are_invariant():
    action = Relabelled("1x0 + 2x1 + 1x2")
    assert available_methods(action) == [
        "align_to_reference",
        "max_filter",
        "norms",
        "power_spectrum",
    ]
    X = RNG.normal(size=(20, action.dim))
    moved = np.asarray(action.act(action.sample(20, RNG), X))
    for name in ("norms", "power_spectrum"):
        imap = get_map(name)
        F = np.asarray(invariant_features(X, action, name))
        assert F.shape == (20, imap.properties(action).output_dim)
        np.testing.assert_allclose(invariant_features(moved, action, name), F, atol=1e-10)
    # the real Gram: scalar, then <x1,x1>, <x1,x2>, <x2,x2> of the frequency-1 copies, |x3|^2
    x = X[0]
    a, b, c = x[1:3], x[3:5], x[5:7]
    np.testing.assert_allclose(
        power_spectrum(x, action), [x[0], a @ a, a @ b, b @ b, c @ c], atol=1e-12
    )
    np.testing.assert_allclose(
        norms(x, action), [x[0], *np.linalg.norm([a, b, c], axis=1)], atol=1e-12
    )


def test_generic_power_spectrum_declares_no_separation_and_a_collision_exists():
    action = Relabelled("2x1")
    props = get_map("power_spectrum").properties(action)
    assert props.separating == "no" and props.output_dim == 3
    x = RNG.normal(size=4)
    y = x * np.array([1.0, -1.0, 1.0, -1.0])  # reflect both copies: same real Gram
    assert float(quotient_distance(x, y, action)) > 1e-2
    np.testing.assert_allclose(power_spectrum(x, action), power_spectrum(y, action), atol=1e-12)
    one = Relabelled("1x0 + 1x1")  # one free block: its norm loses nothing
    assert get_map("power_spectrum").properties(one).separating == "yes"
    assert get_map("norms").properties(one).isometric


def test_regular_free_actions_have_no_group_pool():
    assert "group_pool" not in available_methods(osp.Cyclic(4, "1x0 + 2x1"))
    assert "group_pool" in available_methods(osp.Cyclic(4, "1x0 + 1xregular"))
    with pytest.raises(TypeError, match="regular field"):
        from orbitspace.invariants import group_pool

        group_pool(np.zeros(5), osp.Cyclic(4, "1x0 + 2x1"))


# -- the one spec format --------------------------------------------------------------------------
def test_map_spec_parse_label_file_stem_and_aliases():
    from orbitspace.report import methods

    spec = MapSpec.parse(" align_to_reference(n_references=4, reference='data') ")
    assert spec.label == "align_to_reference(n_references=4, reference='data')"
    assert spec.file_stem == "align_to_reference_n_references4_referencedata"
    assert MapSpec.parse(spec) is spec
    assert spec.split_options() == ({"n_references": 4, "reference": "data"}, {})
    assert methods.MethodSpec is MapSpec
    assert methods.parse_method_spec("node_pool(reduction='max')") == MapSpec(
        "node_pool", {"reduction": "max"}
    )
    for bad in ("sort(", "f(1)", "a.b", "sort(k=x)"):
        with pytest.raises(ValueError, match="method spec"):
            MapSpec.parse(bad)
    with pytest.raises(TypeError, match="method spec"):
        MapSpec.parse(3)  # type: ignore[arg-type]


def test_map_spec_check_and_resolution():
    action = osp.Permutation(4)
    assert MapSpec.parse("sorted_projections(n_projections=3)").check(action, d=2).options == {
        "n_projections": 3
    }
    with pytest.raises(ValueError, match="unknown method 'sort' .* with d=2; available"):
        MapSpec("sort").check(action, d=2)
    with pytest.raises(ValueError, match="unknown option.*n_references"):
        MapSpec("max_filter", {"n_references": 2}).check(action, d=2)
    with pytest.raises(ValueError, match="reduction"):
        MapSpec("node_pool", {"reduction": "median"}).check(action, d=2)
    with pytest.raises(ValueError, match="listed twice"):
        resolve_specs(["sort", "sort"], action, d=1)
    rho = osp.SO2("1x0 + 2x1")
    full, quick = default_specs(rho), default_specs(rho, quick=True)
    assert [s.name for s in full if s not in quick] == ["bispectrum"]
    expected = [MapSpec(n, dict(v)) for n in available_methods(rho) for v in get_map(n).variants]
    assert full == expected


def test_alignments_per_code_counts_the_solver_calls_of_a_transform():
    import numpy as np

    from orbitspace import SO2
    from orbitspace.invariants import get_map
    from orbitspace.quotient import solvers

    rho = SO2("1x0 + 2x1")
    X = np.random.default_rng(0).normal(size=(6, rho.dim))
    calls = []
    real = solvers.solve_pairs

    def counting(Xa, Ya, rows, cols, action, **kw):
        calls.append(len(rows))
        return real(Xa, Ya, rows, cols, action, **kw)

    for name, opts in [
        ("max_filter", {"n_templates": 3}),
        ("align_to_reference", {"n_references": 2}),
        ("norms", {}),
    ]:
        m = get_map(name)
        params = m.fit(
            X, rho, random_state=0, **{k: v for k, v in opts.items() if k in m.fit_options}
        )
        calls.clear()
        solvers.solve_pairs = counting
        try:
            m.transform(X, rho, params)
        finally:
            solvers.solve_pairs = real
        assert sum(calls) == m.alignments_per_code(rho, **opts) * len(X), name
