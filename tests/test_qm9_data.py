"""QM9 loading: graphs from the packaged CSV format, cache, splits, conversions (RDKit)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("rdkit")
from rdkit import Chem  # noqa: E402

from orbitspace.datasets import qm9  # noqa: E402
from orbitspace.groups import Permutation  # noqa: E402

FIXTURE = Path(__file__).parent / "fixtures" / "qm9_fixture.csv"


@pytest.fixture(scope="module")
def data():
    return qm9.load_qm9(csv_paths=[FIXTURE])


def test_graph_arrays_are_consistent(data):
    n = len(pd.read_csv(FIXTURE))
    assert data.atoms.shape == (n, 9) and data.bonds.shape == (n, 9, 9)
    assert np.array_equal(data.bonds, data.bonds.transpose(0, 2, 1))
    assert not data.bonds[:, np.arange(9), np.arange(9)].any()
    empty = ~data.node_mask
    assert not (data.bonds * (empty[:, :, None] | empty[:, None, :])).any()
    assert data.targets.shape == (n, len(data.target_names)) and np.isfinite(data.targets).all()
    assert set(np.unique(data.bonds)) <= {0, 1, 2, 3}


def test_graphs_round_trip_to_the_csv_molecules(data):
    df = pd.read_csv(FIXTURE)
    for k, smi in enumerate(df["SMILES"]):
        expected = Chem.MolToSmiles(Chem.MolFromSmiles(smi))
        assert qm9.graph_to_smiles(data.atoms[k], data.bonds[k]) == expected == data.smiles[k]
        assert data.node_mask[k].sum() == Chem.MolFromSmiles(smi).GetNumAtoms()
    # charged atoms are kept (zwitterions of QM9)
    assert (data.atoms >= 5).any()


def test_targets_are_the_csv_columns(data):
    df = pd.read_csv(FIXTURE)
    np.testing.assert_allclose(data.target("gap"), df["HOMO_LUMO_gap_au"])
    np.testing.assert_allclose(data.target("cv"), df["Heatcapacity_Cv_cal_mol_K"])
    np.testing.assert_array_equal(data.qm9_index, df["Index"])
    assert 0 < data.target("qed").min() and data.target("qed").max() < 1
    with pytest.raises(ValueError, match="unknown target"):
        data.target("nope")


def test_cache_is_written_then_read(tmp_path, monkeypatch):
    monkeypatch.setenv("ORBITSPACE_CACHE", str(tmp_path))
    monkeypatch.setattr(qm9, "packaged_csv_paths", lambda: [FIXTURE])
    first = qm9.load_qm9()
    assert (tmp_path / f"qm9_graphs_v{qm9._FORMAT}.npz").is_file()

    def no_parse(*a, **k):
        raise AssertionError("the second load must read the cache")

    monkeypatch.setattr(qm9, "_parse_csvs", no_parse)
    second = qm9.load_qm9()
    np.testing.assert_array_equal(first.bonds, second.bonds)
    np.testing.assert_array_equal(first.smiles, second.smiles)
    np.testing.assert_array_equal(first.targets, second.targets)


def test_split_is_deterministic_and_partitions():
    a, b = (
        qm9.split_indices(1000, n_val=100, n_test=150),
        qm9.split_indices(1000, n_val=100, n_test=150),
    )
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    assert (len(a["train"]), len(a["val"]), len(a["test"])) == (750, 100, 150)
    assert np.array_equal(np.sort(np.concatenate(list(a.values()))), np.arange(1000))
    c = qm9.split_indices(1000, n_val=100, n_test=150, random_state=1)
    assert not np.array_equal(a["test"], c["test"])


def test_permute_graphs_follows_the_permutation_action(data):
    rng = np.random.default_rng(0)
    p = Permutation(9).sample(len(data), random_state=rng)
    a, b = qm9.permute_graphs(data.atoms, data.bonds, p)
    np.testing.assert_array_equal(a, Permutation(9).act(p, data.atoms[..., None])[..., 0])
    k = 3
    np.testing.assert_array_equal(b[k], data.bonds[k][np.ix_(p[k], p[k])])
    for k in range(20):  # relabelling the atoms leaves the molecule unchanged
        assert qm9.graph_to_smiles(a[k], b[k]) == data.smiles[k]


def test_bad_molecules_are_rejected():
    with pytest.raises(ValueError, match="at most 9"):
        qm9.mol_to_graph(Chem.MolFromSmiles("CCCCCCCCCC"))
    with pytest.raises(ValueError, match="ATOM_VOCAB"):
        qm9.mol_to_graph(Chem.MolFromSmiles("CCl"))
    atoms = np.array([1, 0, 0, 0, 0, 0, 0, 0, 0])
    bonds = np.zeros((9, 9), int)
    assert qm9.graph_to_smiles(np.zeros(9, int), bonds) is None
    five = np.array([1, 1, 1, 1, 1, 1, 0, 0, 0])
    bonds5 = np.zeros((9, 9), int)
    bonds5[0, 1:6] = bonds5[1:6, 0] = 1  # carbon with five neighbours: invalid
    assert qm9.graph_to_smiles(five, bonds5) is None
    assert qm9.graph_to_smiles(atoms, bonds) == "C"


def test_missing_csv_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        qm9.load_qm9(csv_paths=[tmp_path / "nope.csv"])
