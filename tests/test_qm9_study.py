"""``orbitspace demo qm9 --quick`` on the fixture: a reduced but real run of the study."""

import argparse
import json
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("rdkit")
pytest.importorskip("sklearn")

from orbitspace.studies import qm9 as study  # noqa: E402
from orbitspace.studies.qm9_train import checkpoint_path  # noqa: E402

FIXTURE = Path(__file__).parent / "fixtures" / "qm9_fixture.csv"


def test_import_is_light():
    import subprocess
    import sys

    code = (
        "import sys, orbitspace.studies.qm9; print('torch' in sys.modules, 'rdkit' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_arguments_have_the_documented_defaults():
    p = argparse.ArgumentParser()
    study.add_arguments(p)
    args = p.parse_args([])
    assert args.out == Path("reports/qm9") and not args.quick and args.seed == 0
    assert not args.retrain


def test_quick_study_writes_report_with_exact_numbers(tmp_path):
    p = argparse.ArgumentParser()
    study.add_arguments(p)
    argv = ["--quick", "--csv", str(FIXTURE), "--out", str(tmp_path), "--threads", "1"]
    if not (checkpoint_path(1).is_file() and checkpoint_path(4).is_file()):
        argv.append("--retrain")
    assert study.run(p.parse_args(argv)) == 0
    html = (tmp_path / "report.html").read_text()
    assert "Interpolation" in html and "data:image/png;base64," in html
    m = json.loads((tmp_path / "metrics.json").read_text())
    # sorting is an isometric, lossless cross-section of the model's real codes
    iso = m["isometry"]
    assert iso["max_abs_sort_minus_assignment"] < 1e-9
    assert iso["max_abs_sort_minus_library"] < 1e-9
    assert iso["decode_sorted_same_molecule"] == 1.0
    assert iso["raw_over_quotient_median"] > 1.0
    assert abs(iso["distortion"]["sort"]["lower"] - 1) < 1e-9
    assert abs(iso["distortion"]["sort"]["upper"] - 1) < 1e-9
    # one molecule under 20 orders: raw codes scatter, sorted codes coincide
    orb = m["orbit"]
    assert orb["sorted_max_deviation"] < 1e-5 < orb["raw_mean_pairwise_distance"]
    assert orb["equivariance_max_error"] < 1e-5
    assert m["model"]["d1"]["encoder_equivariance_error"] < 1e-5
    assert set(m["probes"]["gap"]) >= {"d=1 raw", "d=1 sort", "d=4 lexsort"}
    it = m["interpolation"]["d1"]
    assert it["n_pairs"] == 10 and it["n_steps"] == 9
    # the geodesic is never longer than the raw straight line
    assert it["quotient geodesic"]["path_length_mean"] <= it["raw line"]["path_length_mean"] + 1e-9
    assert m["verdict"]
