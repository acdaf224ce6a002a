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


def test_full_qm9_3d_study_backs_the_docs(tmp_path):
    """The numbers of docs/qm9_3d_study.md (full run, seed 0, committed checkpoint)."""
    from orbitspace.studies import qm9_3d

    _run(qm9_3d, ["--out", str(tmp_path), "--no-progress"])
    m = json.loads((tmp_path / "metrics.json").read_text())
    assert m["settings"]["n_mol"] == 600 and m["settings"]["n_dist"] == 250
    eq = m["model"]["equivariance"]
    assert eq["float32"]["node_max"] < 1e-5 and eq["float64"]["node_max"] < 1e-13
    assert m["model"]["this_run_test"]["u0_mae_ev"] < 0.2
    assert m["model"]["this_run_test"]["gap_mae_ev"] < 0.4
    rows = m["pooled"]

    def r2(row, t):
        return max(v["r2"] for v in row["probes"][t].values())

    raw = rows["raw codes"]
    assert raw["invariance_rel_error"] > 0.5
    assert all(r["invariance_rel_error"] < 1e-5 for k, r in rows.items() if k != "raw codes")
    # invariant maps beat raw codes on every probed target ...
    for t in ("gap", "dipole", "polarizability"):
        assert r2(rows["norms"], t) > r2(raw, t) + 0.03, t
    assert r2(rows["power_spectrum"], "dipole") > r2(raw, "dipole") + 0.2
    # ... and on neighbourhoods: k-NN recall grows with the number of references
    recall = [rows[f"align K={k}"]["distortion"]["knn_recall"] for k in (1, 2, 4, 8)]
    assert raw["distortion"]["knn_recall"] < 0.3 and recall[-1] > 0.6
    assert recall == sorted(recall)
    # but more references do not help linear probes (the claim that does not hold)
    assert r2(rows["align K=8"], "gap") < r2(raw, "gap")
    pa = m["per_atom"]["maps"]
    assert r2(pa["node_sorted_projections"], "gap") > 0.8 > 0.0 > r2(pa["raw codes"], "gap")
    c = m["per_atom"]["product_pairs"]["rmsd_correlation"]
    assert c["node_sorted_invariants distance"]["spearman"] > 0.5
    # the pooled latent geometry follows the molecular geometry only loosely
    assert m["rmsd"]["n_pairs"] == 150
    assert m["rmsd"]["correlation"]["quotient distance (pooled)"]["spearman"] < 0.4
    it = m["interpolation"]
    assert (
        it["excess_length_mean"]["quotient geodesic"] < 1e-9 < it["excess_length_mean"]["raw line"]
    )
