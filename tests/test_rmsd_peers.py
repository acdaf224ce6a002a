"""Certified minimum RMSD on real QM9 molecules, against RDKit GetBestRMS and spyrmsd."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("rdkit")
pytest.importorskip("spyrmsd")

from orbitspace.stats.rmsd import min_rmsd  # noqa: E402
from orbitspace.studies.rmsd_peers import compare_min_rmsd, conformer_pairs  # noqa: E402


@pytest.fixture(scope="module")
def comparison():
    return compare_min_rmsd(8, n_conformers=3, random_state=1)


def test_never_larger_than_the_peers(comparison):
    s = comparison.summary()
    assert s["pairs"] >= 16
    ours = np.asarray(comparison.ours)
    # the peers search graph automorphisms, a subset of our element-preserving matchings
    assert np.all(ours <= np.asarray(comparison.rdkit) + 1e-9)
    assert np.all(ours <= np.asarray(comparison.spyrmsd) + 1e-9)
    assert s["max_gap"] <= 1e-6  # certified


def test_the_returned_alignment_attains_the_rmsd():
    kind, ma, ca, mb, cb = conformer_pairs(3, random_state=2)[0]
    A = ma.GetConformer(ca).GetPositions()
    B = mb.GetConformer(cb).GetPositions()
    z = np.array([a.GetAtomicNum() for a in ma.GetAtoms()])
    perm = np.random.default_rng(0).permutation(len(z))
    res = min_rmsd(A, B[perm], (z, z[perm]))
    Bm = B[perm][res.matching]
    assert np.all(z[perm][res.matching] == z)  # elements kept
    Ac, Bc = A - A.mean(0), Bm - Bm.mean(0)
    direct = np.sqrt(((Ac - Bc @ res.rotation.T) ** 2).sum(1).mean())
    assert np.isclose(direct, res.rmsd, atol=1e-9)
    assert np.isclose(np.linalg.det(res.rotation), 1.0)


def test_bad_input():
    with pytest.raises(ValueError, match=r"\(n, 3\)"):
        min_rmsd(np.zeros((3, 2)), np.zeros((3, 2)))
