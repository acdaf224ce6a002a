"""``orbitspace analyze`` end to end: SO2, Cyclic and Permutation latents with labels and
targets, every failure case (one-line error, exit code 2, nothing written), reproducibility."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from orbitspace import parse_action
from orbitspace.cli import main
from orbitspace.invariants import invariant_features

SO2_SPEC = "SO2('2x0 + 2x1 + 1x2')"
CYCLIC_SPEC = "Cyclic(4, '2xregular + 1x1')"
PERM_SPEC = "Permutation(5)"


def make_latents(spec: str, n: int = 90, seed: int = 0, d: int = 1):
    """Codes of 3 classes of objects, each seen in a random pose; an invariant target.

    Returns (X, labels, targets): the label is the object's class, the target a function of the
    pose-free code (its norm), so invariant features can predict both.
    """
    action = parse_action(spec)
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 3
    event = (action.dim, d) if action.event_ndim == 2 else (action.dim,)
    centres = 1.5 * rng.normal(size=(3, *event))
    base = centres[labels] + 0.3 * rng.normal(size=(n, *event))
    X = np.asarray(action.act(action.sample(n, random_state=seed + 1), base))
    targets = np.linalg.norm(base.reshape(n, -1), axis=1) + 0.05 * rng.normal(size=n)
    return X, labels, targets


def run_cli(argv, capsys):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def files(tmp_path):
    """A latents .npz holding codes, labels and targets, for each action."""

    def write(spec, name="lat", **kw):
        X, y, t = make_latents(spec, **kw)
        path = tmp_path / f"{name}.npz"
        np.savez(path, codes=X, labels=y, targets=t)
        return path, X, y, t

    return write


@pytest.mark.parametrize("spec", [SO2_SPEC, CYCLIC_SPEC, PERM_SPEC])
def test_analyze_end_to_end(spec, files, tmp_path, capsys):
    path, X, y, t = files(spec)
    out = tmp_path / "out"
    code, stdout, err = run_cli(
        [
            "analyze",
            f"{path}:codes",
            "--action",
            spec,
            "--labels",
            "labels",
            "--targets",
            "targets",
            "--quick",
            "--maps",
            "pca",
            "--no-progress",
            "-o",
            out,
        ],
        capsys,
    )
    assert code == 0, err
    assert "report.html" in stdout
    html = (out / "report.html").read_text()
    metrics = json.loads((out / "metrics.json").read_text())
    assert html.startswith("<!DOCTYPE html>") and "<img" in html
    # every method's features were written and equal the library's projection
    assert metrics["methods"], "no projection ran"
    for label, info in metrics["methods"].items():
        F = np.load(out / info["file"])
        expected = invariant_features(X, spec, info["name"], random_state=0, **info["options"])
        np.testing.assert_allclose(F, np.asarray(expected).reshape(len(X), -1), atol=1e-12)
        # a projection is invariant, raw codes are not
        assert metrics["invariance"][label]["max_rel"] < 1e-6
    assert metrics["invariance"]["raw"]["mean_rel"] > 0.05
    # probes for labels (classification) and targets (regression), raw and every projection
    assert metrics["probes"]["labels"]["task"] == "classification"
    assert metrics["probes"]["targets"]["task"] == "regression"
    assert set(metrics["probes"]["labels"]["results"]) == {"raw", *metrics["methods"]}
    # the verdict names the recommended method, which is in the metrics
    rec = metrics["recommendation"]["recommended"]
    assert rec in metrics["methods"]
    assert f"Use `{rec}`" in metrics["verdict"]
    assert rec.replace("'", "&#x27;") in html or rec in html
    # no temporary folder left next to the output
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_verdict_numbers_come_from_metrics(files, tmp_path, capsys):
    path, *_ = files(PERM_SPEC)
    out = tmp_path / "out"
    code, _, err = run_cli(
        [
            "analyze",
            f"{path}:codes",
            "--action",
            PERM_SPEC,
            "--labels",
            "labels",
            "--methods",
            "sort",
            "node_pool",
            "--quick",
            "--maps",
            "--no-progress",
            "-o",
            out,
        ],
        capsys,
    )
    assert code == 0, err
    m = json.loads((out / "metrics.json").read_text())
    # sort is an isometric cross-section for d = 1: measured ratios are exactly 1
    assert m["distortion"]["sort"]["lower"] == pytest.approx(1.0, abs=1e-9)
    assert m["distortion"]["sort"]["upper"] == pytest.approx(1.0, abs=1e-9)
    assert m["recommendation"]["recommended"] == "sort"
    verdict = m["verdict"]
    acc = m["recommendation"]["criteria"]["sort"]["probe_score"]
    assert f"{acc:.3f}" in verdict
    raw_knn = m["distortion"]["node_pool"]["knn_recall"]
    assert f"k-NN recall {raw_knn:.2f}" in verdict


def test_same_seed_same_numbers(files, tmp_path, capsys):
    path, *_ = files(SO2_SPEC, n=60)
    metrics = []
    for name in ("a", "b"):
        out = tmp_path / name
        args = [
            "analyze",
            f"{path}:codes",
            "--action",
            SO2_SPEC,
            "--labels",
            "labels",
            "--methods",
            "norms",
            "align_to_reference(n_references=2)",
            "--quick",
            "--maps",
            "pca",
            "--no-progress",
            "--seed",
            3,
            "-o",
            out,
        ]
        assert run_cli(args, capsys)[0] == 0
        m = json.loads((out / "metrics.json").read_text())
        for key in ("total_time_s", "timings_s"):
            m.pop(key)
        for info in m["methods"].values():
            info.pop("time_s")
        metrics.append(m)
    assert metrics[0] == metrics[1]


def test_csv_labels_npy_latents_and_existing_output(tmp_path, capsys):
    X, y, t = make_latents(PERM_SPEC, n=60)
    np.save(tmp_path / "codes.npy", X[..., 0])  # (n, n_nodes): one scalar per node
    (tmp_path / "labels.csv").write_text("digit\n" + "\n".join(f"c{v}" for v in y) + "\n")
    (tmp_path / "t.csv").write_text("energy,size\n" + "\n".join(f"{a},{a * 2}" for a in t) + "\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    code, _, err = run_cli(
        [
            "analyze",
            tmp_path / "codes.npy",
            "--action",
            PERM_SPEC,
            "--labels",
            tmp_path / "labels.csv",
            "--targets",
            tmp_path / "t.csv",
            "--methods",
            "sort",
            "--quick",
            "--maps",
            "--no-progress",
            "-o",
            out,
        ],
        capsys,
    )
    assert code == 0, err
    assert "one scalar per node" in err
    m = json.loads((out / "metrics.json").read_text())
    assert set(m["probes"]) == {"labels", "energy", "size"}
    assert m["data"]["labels"]["counts"] == {"c0": 20, "c1": 20, "c2": 20}
    assert (out / "keep.txt").read_text() == "mine"  # other files in the folder are kept


def _pickled_npy(path: Path) -> None:
    np.save(path, np.array([{"a": 1}, None], dtype=object), allow_pickle=True)


FAILURES = {
    "missing file": (lambda d: [d / "nope.npy"], "no such file"),
    "shape mismatch": (lambda d: [d / "lat.npz:codes", "--action", "SO2('2x0 + 4x1')"], "dim"),
    "NaN rows": (lambda d: [d / "nan.npy"], "NaN"),
    "labels wrong length": (lambda d: [d / "lat.npz:codes", "--labels", d / "short.npy"], "rows"),
    "unknown method": (
        lambda d: [d / "lat.npz:codes", "--methods", "frobnicate"],
        "unknown method",
    ),
    "bad method option": (
        lambda d: [d / "lat.npz:codes", "--methods", "max_filter(K=3)"],
        "unknown option",
    ),
    "pickled array": (lambda d: [d / "pickled.npy"], "pickle"),
    "missing npz key": (lambda d: [d / "lat.npz:nothere"], "no array 'nothere'"),
    "npz without key": (lambda d: [d / "lat.npz"], "choose one"),
    "bad action": (lambda d: [d / "lat.npz:codes", "--action", "SU5(2)"], "unknown action"),
    "continuous labels": (lambda d: [d / "lat.npz:codes", "--labels", "targets"], "targets"),
    "text targets": (lambda d: [d / "lat.npz:codes", "--targets", d / "words.csv"], "numbers"),
}


@pytest.mark.parametrize("case", sorted(FAILURES))
def test_failures_are_one_line_errors_and_write_nothing(case, files, tmp_path, capsys):
    path, X, y, t = files(SO2_SPEC, n=40)
    bad = X.copy()
    bad[[3, 7]] = np.nan
    np.save(tmp_path / "nan.npy", bad)
    np.save(tmp_path / "short.npy", y[:-1])
    _pickled_npy(tmp_path / "pickled.npy")
    (tmp_path / "words.csv").write_text("\n".join(["a", "b"] * 20) + "\n")
    make_args, expected = FAILURES[case]
    args = [str(a) for a in make_args(tmp_path)]
    if "--action" not in args:
        args += ["--action", SO2_SPEC]
    out = tmp_path / "results" / "out"
    code, stdout, err = run_cli(["analyze", *args, "--quick", "--maps", "-o", out], capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert lines[-1].startswith("orbitspace analyze: error: ")
    assert expected.lower() in lines[-1].lower(), lines[-1]
    assert "Traceback" not in err
    assert not (tmp_path / "results").exists()  # no output folder, not even its parent


def test_failure_during_computation_leaves_no_output(files, tmp_path, capsys, monkeypatch):
    """An error after the projections ran (here: in the report writer) publishes nothing."""
    path, *_ = files(SO2_SPEC, n=40)
    from orbitspace.report import Report

    def broken(self, out_dir):
        (Path(out_dir) / "report.html").write_text("half")
        raise ValueError("disk on fire")

    monkeypatch.setattr(Report, "write", broken)
    out = tmp_path / "out"
    code, _, err = run_cli(
        [
            "analyze",
            f"{path}:codes",
            "--action",
            SO2_SPEC,
            "--methods",
            "norms",
            "--quick",
            "--maps",
            "--no-progress",
            "-o",
            out,
        ],
        capsys,
    )
    assert code == 2 and "disk on fire" in err
    assert list(tmp_path.iterdir()) == [path]


def test_pt_input_with_torch(tmp_path, capsys):
    torch = pytest.importorskip("torch")
    X, y, _ = make_latents(SO2_SPEC, n=45)
    torch.save({"z": torch.from_numpy(X), "y": torch.from_numpy(y)}, tmp_path / "lat.pt")
    out = tmp_path / "out"
    code, _, err = run_cli(
        [
            "analyze",
            tmp_path / "lat.pt",
            "--key",
            "z",
            "--action",
            SO2_SPEC,
            "--labels",
            "y",
            "--methods",
            "norms",
            "--quick",
            "--maps",
            "--no-progress",
            "-o",
            out,
        ],
        capsys,
    )
    assert code == 0, err
    # a .pt holding an arbitrary pickled object is refused (weights_only=True)
    with open(tmp_path / "evil.pt", "wb") as f:
        pickle.dump(Path("x"), f)
    code, _, err = run_cli(
        ["analyze", tmp_path / "evil.pt", "--action", SO2_SPEC, "-o", tmp_path / "o2"], capsys
    )
    assert code == 2 and "orbitspace analyze: error:" in err
    assert not (tmp_path / "o2").exists()


def test_real_entry_point_exit_code(tmp_path):
    """The installed command (a new process): exit code 2 and a single stderr line."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "orbitspace.cli",
            "analyze",
            str(tmp_path / "missing.npy"),
            "--action",
            "Permutation(3)",
            "-o",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"orbitspace analyze: error: no such file: {tmp_path / 'missing.npy'}"
    ]
    assert not (tmp_path / "out").exists()
