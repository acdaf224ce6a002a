"""``orbitspace project`` / ``distances`` / ``info``: results equal the library functions,
outputs are atomic, failures are one-line errors."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from orbitspace.cli import main
from orbitspace.invariants import invariant_features
from orbitspace.quotient import pairwise_quotient_distances, quotient_knn

SO2_SPEC = "SO2('2x0 + 2x1 + 1x3')"
PERM_SPEC = "Permutation(4)"


def _codes(spec, n=50, seed=0):
    rng = np.random.default_rng(seed)
    if spec.startswith("Permutation"):
        return rng.normal(size=(n, 4, 2))
    return rng.normal(size=(n, 8))


@pytest.mark.parametrize(
    "spec, method, options",
    [
        (SO2_SPEC, "max_filter", {}),
        (SO2_SPEC, "align_to_reference", {"n_references": 3}),
        (SO2_SPEC, "align_to_reference", {"reference": "data"}),
        (PERM_SPEC, "channel_sort", {}),
        (PERM_SPEC, "sorted_projections", {}),
    ],
)
def test_project_equals_invariant_features(spec, method, options, tmp_path, capsys):
    X = _codes(spec)
    np.save(tmp_path / "codes.npy", X)
    label = (
        method
        if not options
        else f"{method}({', '.join(f'{k}={v!r}' for k, v in options.items())})"
    )
    out = tmp_path / "feats.npy"
    code = main(
        [
            "project",
            str(tmp_path / "codes.npy"),
            "--action",
            spec,
            "--method",
            label,
            "--seed",
            "7",
            "--chunk-size",
            "16",
            "--no-progress",
            "-o",
            str(out),
        ]
    )
    assert code == 0, capsys.readouterr().err
    expected = invariant_features(X, spec, method, random_state=7, **options)
    np.testing.assert_array_equal(np.load(out), expected)


def test_project_with_mask(tmp_path, capsys):
    X = _codes(PERM_SPEC)
    mask = np.ones(X.shape[:2], bool)
    mask[::3, -1] = False
    np.savez(tmp_path / "g.npz", z=X, m=mask)
    out = tmp_path / "f.npy"
    assert (
        main(
            [
                "project",
                f"{tmp_path / 'g.npz'}:z",
                "--mask",
                "m",
                "--action",
                PERM_SPEC,
                "--method",
                "lexsort",
                "--no-progress",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    np.testing.assert_array_equal(
        np.load(out), invariant_features(X, PERM_SPEC, "lexsort", mask=mask)
    )


def test_project_failure_in_a_late_chunk_leaves_nothing(tmp_path, capsys):
    X = _codes(SO2_SPEC, n=60)
    X[55] = np.nan
    np.save(tmp_path / "codes.npy", X)
    out = tmp_path / "feats.npy"
    out.write_bytes(b"previous")
    code = main(
        [
            "project",
            str(tmp_path / "codes.npy"),
            "--action",
            SO2_SPEC,
            "--method",
            "norms",
            "--chunk-size",
            "10",
            "--no-progress",
            "-o",
            str(out),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "row 55" in err
    assert out.read_bytes() == b"previous"  # the old file is untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["codes.npy", "feats.npy"]


@pytest.mark.parametrize("spec", [SO2_SPEC, PERM_SPEC])
def test_distances_equal_library(spec, tmp_path, capsys):
    X = _codes(spec, n=30)
    np.save(tmp_path / "codes.npy", X)
    assert (
        main(
            [
                "distances",
                str(tmp_path / "codes.npy"),
                "--action",
                spec,
                "--pairwise",
                "--no-progress",
                "-o",
                str(tmp_path / "D.npy"),
            ]
        )
        == 0
    )
    np.testing.assert_array_equal(
        np.load(tmp_path / "D.npy"), pairwise_quotient_distances(X, action=spec)
    )
    assert (
        main(
            [
                "distances",
                str(tmp_path / "codes.npy"),
                "--action",
                spec,
                "--knn",
                "4",
                "--no-progress",
                "-o",
                str(tmp_path / "knn.npy"),
            ]
        )
        == 0
    )
    dist, idx = quotient_knn(X, 4, action=spec)
    np.testing.assert_array_equal(np.load(tmp_path / "knn.npy"), dist)
    np.testing.assert_array_equal(np.load(tmp_path / "knn.indices.npy"), idx)
    capsys.readouterr()


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--knn", "30"], "--knn must be between 1 and 29"),
        (["--pairwise", "--max-gib", "1e-9"], "GiB"),
        (["--pairwise", "--action", "SO2('1x1')"], "dim 2"),
    ],
)
def test_distances_failures(args, expected, tmp_path, capsys):
    np.save(tmp_path / "codes.npy", _codes(SO2_SPEC, n=30))
    if "--action" not in args:
        args = [*args, "--action", SO2_SPEC]
    code = main(["distances", str(tmp_path / "codes.npy"), *args, "-o", str(tmp_path / "o.npy")])
    err = capsys.readouterr().err
    assert code == 2 and expected in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["codes.npy"]


def test_project_rejects_unknown_method_and_bad_output(tmp_path, capsys):
    np.save(tmp_path / "codes.npy", _codes(SO2_SPEC))
    base = ["project", str(tmp_path / "codes.npy"), "--action", SO2_SPEC]
    assert main([*base, "--method", "sort", "-o", str(tmp_path / "f.npy")]) == 2
    assert "unknown method 'sort'" in capsys.readouterr().err
    assert main([*base, "--method", "norms", "-o", str(tmp_path / "f.txt")]) == 2
    assert ".npy" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["codes.npy"]


def test_info_lists_versions_without_importing_torch():
    code = (
        "import sys, io, contextlib\n"
        "from orbitspace.cli import main\n"
        "buf = io.StringIO()\n"
        "with contextlib.redirect_stdout(buf):\n"
        "    rc = main(['info'])\n"
        "print(rc, 'torch' in sys.modules)\n"
        "print(buf.getvalue())\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    first, *rest = proc.stdout.splitlines()
    assert first == "0 False", proc.stderr
    text = "\n".join(rest)
    import importlib.metadata as md

    assert f"numpy            {md.version('numpy')}" in text
    for name in (
        "orbitspace",
        "torch",
        "scikit-learn",
        "escnn",
        "e3nn",
        "torch-geometric",
        "rdkit",
        "umap-learn",
        "openTSNE",
        "numba",
        "matplotlib",
        "scipy",
    ):
        assert name in text
