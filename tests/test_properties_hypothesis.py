"""Property-based tests (hypothesis): parsers, metric axioms of every quotient distance, and the
command line's refusal of malformed files."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import orbitspace as osp
from orbitspace.cli import main

HAS_TORCH = importlib.util.find_spec("torch") is not None

SETTINGS = settings(
    # ORBITSPACE_HYPOTHESIS_EXAMPLES=1000 for a longer search
    max_examples=int(os.environ.get("ORBITSPACE_HYPOTHESIS_EXAMPLES", "40")),
    deadline=None,  # the first call of a solver compiles it
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# -- parsers ---------------------------------------------------------------------------------------
def _so2_specs() -> st.SearchStrategy[str]:
    term = st.tuples(st.integers(1, 6), st.integers(0, 8)).map(lambda t: f"{t[0]}x{t[1]}")
    return st.lists(term, min_size=1, max_size=5).map(" + ".join)


@st.composite
def cyclic_actions(draw) -> osp.Cyclic:
    N = draw(st.integers(1, 12))
    kinds = st.one_of(st.integers(0, N // 2).map(str), st.just("regular"))
    terms = draw(st.lists(st.tuples(st.integers(1, 4), kinds), min_size=1, max_size=4))
    return osp.Cyclic(N, " + ".join(f"{m}x{k}" for m, k in terms))


def _irreps_specs() -> st.SearchStrategy[str]:
    term = st.tuples(st.integers(1, 5), st.integers(0, 4), st.sampled_from("eo")).map(
        lambda t: f"{t[0]}x{t[1]}{t[2]}"
    )
    return st.lists(term, min_size=1, max_size=4).map(" + ".join)


actions = st.one_of(
    _so2_specs().map(osp.SO2),
    cyclic_actions(),
    st.integers(1, 12).map(osp.Permutation),
    _irreps_specs().map(osp.SO3),
    _irreps_specs().map(osp.O3),
    st.tuples(st.integers(1, 6), _irreps_specs()).map(
        lambda t: osp.groups.Product(osp.Permutation(t[0]), osp.SO3(t[1]))
    ),
)


@SETTINGS
@given(actions)
def test_repr_parses_back_to_an_equal_action(action):
    parsed = osp.parse_action(repr(action))
    assert parsed == action and repr(parsed) == repr(action)
    assert parsed.dim == action.dim


@SETTINGS
@given(_so2_specs())
def test_so2_dimension_is_the_sum_of_its_terms(spec):
    terms = [tuple(int(v) for v in t.split("x")) for t in spec.split(" + ")]
    assert osp.SO2(spec).dim == sum(m * (1 if k == 0 else 2) for m, k in terms)


ALPHABET = st.sampled_from(list("0123456789x+ ()'\",=SOCyclicPermutation2regular-._[]{}\n\t"))


@SETTINGS
@given(st.text(ALPHABET, max_size=60) | st.text(max_size=40))
def test_malformed_action_specs_give_one_value_or_type_error(text):
    try:
        action = osp.parse_action(text)
    except (ValueError, TypeError) as exc:
        first = str(exc).splitlines()[0]
        assert first and len(first) < 600, first
    else:
        assert isinstance(action, osp.Action)
        assert osp.parse_action(repr(action)) == action


@SETTINGS
@given(st.text(ALPHABET, max_size=40))
def test_malformed_representation_strings_give_a_value_or_type_error(text):
    for make in (osp.SO2, lambda t: osp.Cyclic(8, t)):
        try:
            action = make(text)
        except (ValueError, TypeError) as exc:
            assert str(exc).splitlines()[0]
        else:
            assert action.dim >= 1


# -- metric axioms of every action's quotient distance ---------------------------------------------
def _dihedral(n: int = 4) -> osp.FiniteGroup:
    mats = []
    for k in range(n):
        c, s = np.cos(2 * np.pi * k / n), np.sin(2 * np.pi * k / n)
        R = np.array([[c, -s], [s, c]])
        mats += [R, R @ np.diag([1.0, -1.0])]
    blocks = [np.kron(np.eye(2), M) for M in mats]  # the same element on two planes
    return osp.FiniteGroup(np.stack(blocks))


METRIC_ACTIONS = {
    "SO2": osp.SO2("1x0 + 2x1 + 1x3"),
    "Cyclic": osp.Cyclic(6, "1xregular + 1x1"),
    "Permutation": osp.Permutation(4),
    "FiniteGroup": _dihedral(),
    "SO3": osp.SO3("1x0e + 2x1o + 1x2e"),
    "O3": osp.O3("1x0o + 1x1o + 1x1e"),
    "O2": osp.O2("1x(0,0) + 1x(1,0) + 2x(1,1)"),
    "Dihedral": osp.Dihedral(4, "1xregular + 1x(1,1)"),
    "Product": osp.groups.Product(osp.Permutation(4), osp.SO3("1x1o")),
}


def _points(action, seed: int, scale: float) -> np.ndarray:
    shape = (3,) + tuple(2 if size is None else size for size in action.event_shape)
    return scale * np.random.default_rng(seed).standard_normal(shape)


@pytest.mark.parametrize("name", list(METRIC_ACTIONS))
@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), scale=st.sampled_from([1e-3, 1.0, 50.0]))
def test_quotient_distance_is_a_pseudometric_invariant_under_the_group(name, seed, scale):
    action = METRIC_ACTIONS[name]
    x, y, z = _points(action, seed, scale)

    def d(a, b):
        return float(osp.quotient_distance(a, b, action))

    tol = 1e-9 * scale
    assert abs(d(x, x)) <= tol
    dxy, dyx = d(x, y), d(y, x)
    assert dxy >= 0 and abs(dxy - dyx) <= tol
    assert d(x, z) <= dxy + d(y, z) + tol
    assert dxy <= np.linalg.norm(x - y) + tol
    g, h = action.sample(2, random_state=seed % 1000)
    assert abs(d(action.act(g, x), action.act(h, y)) - dxy) <= 1e-8 * scale
    assert d(x, action.act(h, x)) <= tol * 10


# -- the command line refuses malformed files in one line ------------------------------------------
def _valid_files(tmp_path) -> dict[str, bytes]:
    z = np.random.default_rng(0).standard_normal((5, 4))
    npy = io.BytesIO()
    np.save(npy, z)
    npz = io.BytesIO()
    np.savez(npz, z=z)
    files = {".npy": npy.getvalue(), ".npz": npz.getvalue()}
    if HAS_TORCH:
        import torch

        pt = io.BytesIO()
        torch.save({"z": torch.from_numpy(z)}, pt)
        files[".pt"] = pt.getvalue()
    return files


@st.composite
def corrupted(draw, original: bytes) -> bytes:
    how = draw(st.sampled_from(["truncate", "flip", "random"]))
    if how == "truncate":
        return original[: draw(st.integers(0, len(original) - 1))]
    if how == "flip":
        data = bytearray(original)
        for _ in range(draw(st.integers(1, 8))):
            i = draw(st.integers(0, min(len(data) - 1, 200)))
            data[i] = draw(st.integers(0, 255))
        return bytes(data)
    return draw(st.binary(max_size=300))


@pytest.mark.parametrize(
    "suffix",
    [".npy", ".npz", pytest.param(".pt", marks=pytest.mark.skipif(not HAS_TORCH, reason="torch"))],
)
@SETTINGS
@given(data=st.data())
def test_cli_refuses_malformed_files_in_one_line(tmp_path, capsys, suffix, data):
    original = _valid_files(tmp_path)[suffix]
    payload = data.draw(corrupted(original))
    assume(payload != original)
    path = tmp_path / f"codes{suffix}"
    path.write_bytes(payload)
    out = tmp_path / "d.npy"
    out.unlink(missing_ok=True)
    spec = str(path) if suffix == ".npy" else f"{path}:z"
    with contextlib.suppress(SystemExit):
        code = main(["distances", spec, "--action", "SO2('2x1')", "--pairwise", "-o", str(out)])
    err = capsys.readouterr().err
    if code == 0:  # a flip that left the file readable (e.g. in the data)
        assert out.exists()
        return
    assert code == 2, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("orbitspace distances: error: "), err
    assert not out.exists()


def test_a_zip_that_is_not_an_npz_is_refused(tmp_path, capsys):
    with zipfile.ZipFile(tmp_path / "codes.npz", "w") as zf:
        zf.writestr("z.npy", b"not an array")
    code = main(
        ["distances", f"{tmp_path / 'codes.npz'}:z", "--action", "SO2('2x1')", "--pairwise"]
        + ["-o", str(tmp_path / "d.npy")]
    )
    assert code == 2 and "error" in capsys.readouterr().err
