"""The full case studies reproduce the claims the README and the checkpoint docs make.

Marked slow: ``make test`` runs the quick versions of every study (tests/test_*_study.py);
``make test-slow`` runs these full versions (about 1 minute for MNIST, several for QM9).
"""

import argparse
import json

import pytest

pytestmark = pytest.mark.slow


def _run(module, argv):
    parser = argparse.ArgumentParser()
    module.add_arguments(parser)
    assert module.run(parser.parse_args(argv)) == 0


def test_full_mnist_study_backs_the_readme(tmp_path):
    from orbitspace.studies import mnist

    _run(mnist, ["--out", str(tmp_path), "--no-progress"])
    m = json.loads((tmp_path / "metrics.json").read_text())
    assert m["settings"]["n_test"] == 2000 and m["settings"]["seeds"] == 5
    cn, so2 = m["models"]["cn"], m["models"]["so2"]
    assert cn["checkpoint_metrics"]["test_accuracy_rotated"] > 0.98
    assert so2["checkpoint_metrics"]["test_accuracy_rotated"] > 0.97
    for model in (cn, so2):
        eq = model["equivariance_relative_error"]
        assert eq["quarter turns (90°, 180°, 270°)"] < 1e-5
        assert eq["generic angles (uniform)"] > 0.05  # the pixel grid limits equivariance
    table = cn["retained_information"]
    raw, pooled = table["raw codes"], table["group_pool"]
    assert pooled["knn_accuracy"]["mean"] > raw["knn_accuracy"]["mean"] + 0.02
    assert pooled["linear_accuracy"]["mean"] > raw["linear_accuracy"]["mean"] + 0.05
    assert table["max_filter m=128"]["knn_accuracy"]["mean"] > raw["knn_accuracy"]["mean"]
    assert (
        so2["retained_information"]["norms"]["knn_accuracy"]["mean"]
        > so2["retained_information"]["raw codes"]["knn_accuracy"]["mean"]
    )


def test_full_qm9_study_backs_the_readme(tmp_path):
    from orbitspace.studies import qm9

    _run(qm9, ["--out", str(tmp_path)])
    m = json.loads((tmp_path / "metrics.json").read_text())
    iso = m["isometry"]
    assert iso["max_abs_sort_minus_assignment"] < 1e-12
    assert iso["decode_sorted_same_molecule"] == 1.0
    assert m["orbit"]["sorted_max_deviation"] < 1e-5 < m["orbit"]["raw_mean_pairwise_distance"]
    it = m["interpolation"]["d1"]
    assert it["n_pairs"] == 100
    assert it["quotient geodesic"]["path_length_mean"] < it["raw line"]["path_length_mean"]
