"""The reduced (--quick) augmentation study end to end, on the committed checkpoints."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("sklearn")
pytest.importorskip("matplotlib")

from orbitspace.studies import augmentation  # noqa: E402


def checkpoints_present() -> bool:
    from orbitspace.models.training import checkpoint_dir

    return all(
        (checkpoint_dir() / name).with_suffix(".json").exists()
        for key, (name, _) in augmentation.CHECKPOINTS.items()
        if key.startswith("plain")
    )


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory):
    if not checkpoints_present():
        pytest.skip("plain CNN checkpoints not shipped")
    out = tmp_path_factory.mktemp("augmentation")
    parser = argparse.ArgumentParser()
    augmentation.add_arguments(parser)
    args = parser.parse_args(["--quick", "--out", str(out), "--seed", "0"])
    assert augmentation.run(args) == 0
    return out, json.loads((out / "metrics.json").read_text())


def test_writes_report_and_metrics(quick_report):
    out, metrics = quick_report
    html = (out / "report.html").read_text()
    for heading in (
        "Latent orbits",
        "Learned latent action",
        "Input-space alignment",
        "Comparison",
    ):
        assert heading in html
    assert "data:image/png;base64" in html  # the orbit figure is embedded
    assert metrics["settings"]["quick"] is True
    assert {"plain_none", "plain_rotation"} <= set(metrics["comparison"])


def test_learned_action_rows_are_complete_and_consistent(quick_report):
    _, metrics = quick_report
    rows = metrics["learned_action"]
    assert rows
    for r in rows:
        # the snapped action's frequencies account for every kept direction
        sizes = {k: (1 if int(k) in (0, r["N"] / 2) else 2) for k in r["frequencies"]}
        assert sum(m * sizes[k] for k, m in r["frequencies"].items()) == r["dim"]
        assert 0 <= r["homomorphism_error"] <= 2 + 1e-9
        assert np.isfinite(r["equivariance_error_snapped"])
        assert np.isfinite(r["invariance_error"])


def test_quarter_turns_align_exactly_in_input_space(quick_report):
    """Quarter turns are exact pixel permutations: input alignment is exactly invariant."""
    _, metrics = quick_report
    for res in metrics["input_alignment"].values():
        j = res["angles"].index(pytest.approx(np.pi / 2))
        assert res["relative_error"][j] < 1e-5
        assert res["consistency"][j] == 1.0


def test_augmentation_makes_the_latent_more_invariant(quick_report):
    """The measured effect of augmentation on the committed checkpoints."""
    _, metrics = quick_report
    frac = {
        k: metrics["orbits"][k]["latent"]["within_orbit_fraction"]
        for k in ("plain_none", "plain_rotation")
    }
    assert frac["plain_rotation"] < frac["plain_none"]


def test_learned_action_of_the_escnn_model_matches_its_known_action(quick_report):
    """Quarter turns act exactly on the escnn latent: the learned C_4 action is its own."""
    _, metrics = quick_report
    rows = [r for r in metrics["learned_action"] if r["model"] == "escnn_cn" and r["N"] == 4]
    if not rows:
        pytest.skip("escnn checkpoint mnist_cn not shipped")
    r = rows[0]
    assert r["frequencies"] == r["frequencies_of_known_action"]
    assert r["equivariance_error_snapped"] < 1e-4
    assert r["equivariance_error_known_action"] < 1e-4
