"""The rotated-MNIST study end to end, reduced (--quick) but real, on the committed checkpoints."""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys

import numpy as np
import pytest

for _mod in ("torch", "escnn", "sklearn", "matplotlib", "openTSNE", "mnist"):
    if importlib.util.find_spec(_mod) is None:  # pragma: no cover
        pytest.skip(f"{_mod} not installed", allow_module_level=True)

from orbitspace.studies import mnist as study  # noqa: E402


def test_study_module_imports_no_torch():
    code = (
        "import sys, argparse; import orbitspace.studies.mnist as m; "
        "m.add_arguments(argparse.ArgumentParser()); "
        "import orbitspace.cli.train, orbitspace.studies.mnist_train; "
        "print('torch' in sys.modules, 'escnn' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_demo_defaults_to_the_mnist_study():
    from orbitspace.cli import build_parser

    args = build_parser().parse_args(["demo", "--quick"])
    assert args.quick and str(args.out) == "reports/mnist"
    assert args.func is not None


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    from orbitspace.models.training import checkpoint_dir

    models = [m for m in ("cn", "so2") if (checkpoint_dir() / f"mnist_{m}.json").exists()]
    if not models:
        pytest.skip("no committed MNIST checkpoints")
    out = tmp_path_factory.mktemp("mnist_study")
    parser = argparse.ArgumentParser()
    study.add_arguments(parser)
    args = parser.parse_args(
        [
            "--quick",
            "--out",
            str(out),
            "--models",
            ",".join(models),
            "--threads",
            "1",
            "--no-progress",
        ]
    )
    assert study.run(args) == 0
    return out, json.loads((out / "metrics.json").read_text()), models


def test_quick_study_writes_the_report_and_figures(quick_run):
    out, metrics, models = quick_run
    html = (out / "report.html").read_text()
    assert "Figure 1" in html and "retained information" in html and "robustness" in html
    assert html.count("data:image/png;base64") >= 3 * len(models)
    for kind in models:
        for name in ("figure1", "projections", "robustness"):
            assert (out / "figures" / f"{name}_{kind}.png").stat().st_size > 10_000
    assert metrics["settings"]["quick"] is True and "verdict" in metrics


def test_quick_study_numbers_back_the_claims(quick_run):
    _, metrics, models = quick_run
    for kind in models:
        m = metrics["models"][kind]
        # the committed models classify rotated digits well
        assert m["test_accuracy_rotated_this_run"] > 0.9
        assert m["checkpoint_metrics"]["test_accuracy_rotated"] > 0.9
        # the latent is exactly equivariant to quarter turns, only approximately otherwise
        eq = m["equivariance_relative_error"]
        assert eq["quarter turns (90°, 180°, 270°)"] < 1e-4
        assert eq["generic angles (uniform)"] > 100 * eq["quarter turns (90°, 180°, 270°)"]
        table = m["retained_information"]
        expected = {"raw codes", "norms", "power_spectrum", "align K=1", "align K=8"}
        assert expected <= set(table)
        for label, row in table.items():
            assert len(row["per_seed"]) == metrics["settings"]["seeds"]
            assert 0.0 <= row["knn_accuracy"]["mean"] <= 1.0
            if label != "raw codes" and row["method"] == "align_to_reference":
                # every block is a point of the orbit: ||π(x) − π(y)|| >= d([x], [y])
                assert row["ratio_q05"]["mean"] >= 1.0 - 1e-6
        assert table["raw codes"]["ratio_q05"]["mean"] >= 1.0 - 1e-6  # ||x − y|| >= d
        # robustness: quarter turns leave invariant features unchanged, raw codes move
        rob = m["robustness"]
        assert rob["raw codes"]["quarter_turns"] > 0.1
        for label, row in rob.items():
            if label != "raw codes":
                assert row["quarter_turns"] < 1e-4, label
        assert rob["raw codes"]["mean_relative_spread"] > rob["norms"]["mean_relative_spread"]
        curve = np.asarray(rob["raw codes"]["digit0_curve"])
        assert curve.shape == (16,) and curve[0] == 0.0


def test_retrain_uses_the_recorded_settings(tmp_path):
    from orbitspace.models.training import checkpoint_dir

    recorded = checkpoint_dir() / "mnist_cn.json"
    if not recorded.exists():
        pytest.skip("no committed mnist_cn checkpoint")
    parser = argparse.ArgumentParser()
    study.add_arguments(parser)
    args = parser.parse_args(
        [
            "--quick",
            "--retrain",
            "--models",
            "cn",
            "--seeds",
            "1",
            "--n-test",
            "100",
            "--out",
            str(tmp_path),
            "--threads",
            "1",
            "--no-progress",
        ]
    )
    assert study.run(args) == 0
    new = json.loads((tmp_path / "checkpoints" / "mnist_cn.json").read_text())
    old = json.loads(recorded.read_text())
    # --quick shortens the run (1 epoch, 2000 digits); everything else is the recorded setting
    for key in ("model", "augment", "batch_size", "lr", "seed", "model_kwargs"):
        assert new["train"][key] == old["train"][key], key
    assert new["model"] == old["model"]
    assert (new["train"]["epochs"], new["train"]["n_train"]) == (1, 2000)


def test_bad_options_fail_with_a_clear_message(tmp_path):
    parser = argparse.ArgumentParser()
    study.add_arguments(parser)
    args = parser.parse_args(["--models", "resnet", "--out", str(tmp_path)])
    with pytest.raises(ValueError, match="--models must list cn and/or so2"):
        study.run(args)
