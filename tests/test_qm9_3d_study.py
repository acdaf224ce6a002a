"""The e3nn model of the 3-D QM9 study and ``orbitspace demo qm9-3d --quick``, for real."""

import argparse
import importlib.util
import json
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("e3nn")
pytest.importorskip("sklearn")
if importlib.util.find_spec("qm9pack") is None:  # located without importing it
    pytest.skip("the QM9 data wheel qm9pack is not installed", allow_module_level=True)

import torch  # noqa: E402

from orbitspace.datasets.qm9_geometry import load_qm9_geometries  # noqa: E402
from orbitspace.models.e3nn_mpnn import (  # noqa: E402
    DEFAULT_CHECKPOINT,
    E3nnMPNN,
    build,
    load_e3nn_mpnn,
)
from orbitspace.studies import _qm9_3d_sections as sec  # noqa: E402
from orbitspace.studies import qm9_3d as study  # noqa: E402


@pytest.fixture(scope="module")
def geo():
    return load_qm9_geometries(n=12, random_state=3)


def test_import_is_light():
    code = "import sys, orbitspace.studies.qm9_3d; print('torch' in sys.modules, 'e3nn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_committed_checkpoint_loads_and_is_small():
    assert DEFAULT_CHECKPOINT.is_file()
    assert DEFAULT_CHECKPOINT.stat().st_size < 3_000_000
    model, meta = load_e3nn_mpnn()
    assert model.latent_irreps == "8x0e+8x1o+8x2e"
    assert meta["test_metrics"]["u0_mae_ev"] < 0.3
    assert meta["test_metrics"]["gap_mae_ev"] < meta["test_metrics"]["gap_mae_of_mean_predictor_ev"]


def test_latents_are_equivariant_under_our_action(geo):
    """Per-atom latents under random rotations and atom orders, with our action matrices."""
    err = sec.equivariance(DEFAULT_CHECKPOINT, geo.positions, geo.numbers, np.random.default_rng(0))
    assert err["float32"]["node_max"] < 1e-5 and err["float32"]["pooled_max"] < 1e-5
    assert err["float64"]["node_max"] < 1e-12 and err["float64"]["pooled_max"] < 1e-12
    assert err["float64"]["gap_abs_ev"] < 1e-10


def test_equivariance_check_detects_a_broken_model(geo):
    """The comparison that passes for the model fails once a pose-dependent term (each
    atom's x coordinate added to a scalar channel) is mixed in: the check can fail."""
    model = build(dict(mul=2), torch.float64)
    R = np.asarray(sec.random_presentation(geo.positions, geo.numbers, np.random.default_rng(1))[2])
    pos_r = geo.positions @ np.swapaxes(R, 1, 2)
    z = torch.tensor(geo.numbers)
    with torch.no_grad():
        base = model(torch.tensor(geo.positions), z)["node"].numpy()
        rotated = model(torch.tensor(pos_r), z)["node"].numpy()
    action = model.latent_action()
    expected = np.einsum("bij,bnj->bni", np.stack([action.matrix(r) for r in R]), base)
    assert np.abs(rotated - expected).max() < 1e-12
    broken = rotated.copy()
    broken[..., 0] += pos_r[..., 0]
    assert np.abs(broken - expected).max() > 1e-2


def test_bad_input_is_rejected():
    model = E3nnMPNN(mul=2)
    with pytest.raises(ValueError, match=r"positions must be \(B, n, 3\)"):
        model(torch.zeros(2, 3), torch.zeros(2, dtype=torch.long))
    with pytest.raises(ValueError, match="atomic numbers"):
        model(torch.zeros(1, 2, 3), torch.tensor([[6, 17]]))
    with pytest.raises(ValueError, match="dtype"):
        build({}, torch.float16)


def test_isomer_pairs_share_composition():
    numbers = np.array([[6, 6, 8, 1, 0], [6, 8, 6, 1, 1], [6, 7, 1, 0, 0], [8, 6, 6, 0, 0]])
    pairs = sec.isomer_pairs(numbers, 10, np.random.default_rng(0))
    assert sorted(map(tuple, pairs.tolist())) == [(0, 1), (0, 3), (1, 3)]


def test_quick_study_end_to_end(tmp_path):
    p = argparse.ArgumentParser()
    study.add_arguments(p)
    args = p.parse_args(["--quick", "--out", str(tmp_path), "--no-progress"])
    assert study.run(args) == 0
    html = (tmp_path / "report.html").read_text()
    assert "data:image/png;base64," in html and "Figure 1" in html
    m = json.loads((tmp_path / "metrics.json").read_text())
    eq = m["model"]["equivariance"]
    assert eq["float32"]["node_max"] < 1e-5 and eq["float64"]["node_max"] < 1e-12
    rows = m["pooled"]
    # raw codes move with the pose, every projection is invariant through the network
    assert rows["raw codes"]["invariance_rel_error"] > 0.1
    for label, r in rows.items():
        if label != "raw codes":
            assert r["invariance_rel_error"] < 1e-5, label
    # align_to_reference keeps the quotient neighbourhoods much better than raw codes
    assert (
        rows["align K=1"]["distortion"]["knn_recall"]
        > rows["raw codes"]["distortion"]["knn_recall"] + 0.1
    )
    for label in m["per_atom"]["maps"]:
        if label != "raw codes":
            assert m["per_atom"]["maps"][label]["invariance_rel_error"] < 1e-5
    assert (
        m["orbit"]["relative_spread"]["align K=4"]
        < 1e-5
        < m["orbit"]["relative_spread"]["raw codes"]
    )
    assert m["rmsd"]["n_pairs"] > 10 and m["rmsd"]["rmsd_max_certificate_gap"] < 1e-6
    it = m["interpolation"]
    assert (
        it["excess_length_mean"]["quotient geodesic"] < 1e-9 < it["excess_length_mean"]["raw line"]
    )
    assert it["gap_head_max_abs_difference_ev"] < 1e-5
    assert m["verdict"]
