"""Reading latents, labels and targets: formats, keys, headers, and refusals."""

from __future__ import annotations

import numpy as np
import pytest

from orbitspace.datasets.latent_files import (
    array_keys,
    load_array,
    load_column,
    load_column_with_names,
    split_spec,
)


def test_split_spec(tmp_path):
    assert split_spec("a/b.npz:codes") == (tmp_path.__class__("a/b.npz"), "codes")
    assert split_spec("plain.npy") == (tmp_path.__class__("plain.npy"), None)
    odd = tmp_path / "we:ird.npy"  # an existing file whose name has a colon is not split
    np.save(odd, np.zeros(2))
    assert split_spec(str(odd)) == (odd, None)


def test_npy_npz_and_mmap(tmp_path):
    X = np.arange(12.0).reshape(4, 3)
    np.save(tmp_path / "x.npy", X)
    np.savez(tmp_path / "x.npz", a=X, b=X[:, 0])
    np.testing.assert_array_equal(load_array(tmp_path / "x.npy"), X)
    mm = load_array(tmp_path / "x.npy", mmap=True)
    assert isinstance(mm, np.memmap) and not mm.flags.writeable
    np.testing.assert_array_equal(load_array(f"{tmp_path / 'x.npz'}:a"), X)
    np.testing.assert_array_equal(load_array(tmp_path / "x.npz", key="b"), X[:, 0])
    assert array_keys(tmp_path / "x.npz") == ["a", "b"]
    with pytest.raises(ValueError, match="holds 2 arrays"):
        load_array(tmp_path / "x.npz")
    with pytest.raises(ValueError, match="no key"):
        load_array(tmp_path / "x.npy", key="a")


def test_refusals(tmp_path):
    np.save(tmp_path / "obj.npy", np.array([1, "a", None], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="pickled"):
        load_array(tmp_path / "obj.npy")
    np.savez(tmp_path / "obj.npz", o=np.array([None, 1], dtype=object))
    with pytest.raises(ValueError, match="pickled"):
        load_array(tmp_path / "obj.npz:o")
    (tmp_path / "junk.npy").write_bytes(b"not numpy")
    with pytest.raises(ValueError, match="cannot read"):
        load_array(tmp_path / "junk.npy")
    (tmp_path / "x.h5").write_bytes(b"")
    with pytest.raises(ValueError, match="unsupported"):
        load_array(tmp_path / "x.h5")
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_array(tmp_path / "missing.npy")


def test_pt_files(tmp_path):
    torch = pytest.importorskip("torch")
    t = torch.arange(6.0).reshape(3, 2)
    torch.save(t, tmp_path / "t.pt")
    torch.save({"z": t, "y": torch.tensor([0, 1, 0])}, tmp_path / "d.pt")
    np.testing.assert_array_equal(load_array(tmp_path / "t.pt"), t.numpy())
    np.testing.assert_array_equal(load_array(f"{tmp_path / 'd.pt'}:z"), t.numpy())
    assert load_column("y", n_rows=3, container=tmp_path / "d.pt").tolist() == [0, 1, 0]


def test_tables(tmp_path):
    (tmp_path / "l.csv").write_text("label\n3\n1\n2\n")
    (tmp_path / "s.txt").write_text("cat\ndog\ncat\n")
    (tmp_path / "t.tsv").write_text("a\tb\n0.5\t1\n1.5\t2\n2.5\t3\n")
    assert load_column(tmp_path / "l.csv", n_rows=3).tolist() == [3, 1, 2]
    assert load_column(tmp_path / "s.txt", n_rows=3).tolist() == ["cat", "dog", "cat"]
    T, names = load_column_with_names(tmp_path / "t.tsv", n_rows=3, numeric=True, what="targets")
    assert names == ["a", "b"] and T.shape == (3, 2) and T[2, 0] == 2.5
    b = load_column(tmp_path / "t.tsv", n_rows=3, numeric=True, column="b")
    assert b.tolist() == [1.0, 2.0, 3.0]
    with pytest.raises(ValueError, match="expected 4 rows"):
        load_column(tmp_path / "l.csv", n_rows=4)
    with pytest.raises(ValueError, match="must be numbers"):
        load_column(tmp_path / "s.txt", n_rows=3, numeric=True)
    (tmp_path / "nan.csv").write_text("1\nnan\n2\n")
    with pytest.raises(ValueError, match="NaN"):
        load_column(tmp_path / "nan.csv", n_rows=3, numeric=True)
    (tmp_path / "ragged.csv").write_text("1,2\n3\n")
    with pytest.raises(ValueError, match="row 2 has 1 columns"):
        load_column(tmp_path / "ragged.csv", n_rows=2)


def test_key_in_container(tmp_path):
    np.savez(tmp_path / "lat.npz", codes=np.zeros((3, 2)), y=np.array([1, 2, 3]))
    assert load_column("y", n_rows=3, container=tmp_path / "lat.npz").tolist() == [1, 2, 3]
    with pytest.raises(FileNotFoundError, match="neither a file nor an array"):
        load_column("nothere", n_rows=3, container=tmp_path / "lat.npz")
    with pytest.raises(FileNotFoundError, match="no such labels file"):
        load_column("nothere", n_rows=3, container=None)


def test_a_key_given_twice_must_agree(tmp_path):
    np.savez(tmp_path / "lat.npz", z=np.zeros((3, 2)), w=np.ones((3, 2)))
    spec = f"{tmp_path / 'lat.npz'}:z"
    assert load_array(spec, key="z").shape == (3, 2)  # the same name twice is fine
    with pytest.raises(ValueError, match=r"two array names .*'z'.*'w'"):
        load_array(spec, key="w")


@pytest.mark.parametrize(
    "payload",
    [b"", b"PK\x03\x04garbage", b"\x93NUMPY\x01\x00v\x00{'descr': '<f8', \x00"],
)
def test_corrupt_files_are_one_value_error(tmp_path, payload):
    for suffix in (".npy", ".npz"):
        path = tmp_path / f"bad{suffix}"
        path.write_bytes(payload)
        with pytest.raises(ValueError, match="cannot read") as info:
            load_array(f"{path}:z" if suffix == ".npz" else path)
        assert "\n" not in str(info.value)
