"""Certified minimum RMSD on real molecules against RDKit ``GetBestRMS`` and spyrmsd.

Pairs of heavy-atom geometries of one molecule: its DFT geometry from QM9 (``qm9pack``) against
RDKit ETKDG conformers, and ETKDG conformers against each other.  The peers minimise the RMSD
over rotations and the molecule's graph automorphisms; :func:`orbitspace.stats.min_rmsd`
minimises over rotations and every element-preserving atom matching (a superset), certified.
So ours is never larger; where it is strictly smaller, a non-automorphic matching fits better.
The second geometry of each pair is given to us in a random atom order.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

__all__ = ["RMSDComparison", "compare_min_rmsd", "conformer_pairs"]


@dataclass
class RMSDComparison:
    """Per pair: ours, RDKit's, spyrmsd's (NaN if it failed), our certificate, times (s)."""

    kind: list[str] = field(default_factory=list)
    n_atoms: list[int] = field(default_factory=list)
    ours: list[float] = field(default_factory=list)
    gap: list[float] = field(default_factory=list)
    rdkit: list[float] = field(default_factory=list)
    spyrmsd: list[float] = field(default_factory=list)
    t_ours: list[float] = field(default_factory=list)
    t_rdkit: list[float] = field(default_factory=list)
    t_spyrmsd: list[float] = field(default_factory=list)

    def summary(self) -> dict:
        o, r, s = (np.asarray(v, float) for v in (self.ours, self.rdkit, self.spyrmsd))
        ok_s = np.isfinite(s)
        return {
            "pairs": int(o.size),
            "max_ours_minus_rdkit": float(np.max(o - r)) if o.size else 0.0,
            "max_ours_minus_spyrmsd": float(np.max(o[ok_s] - s[ok_s])) if ok_s.any() else 0.0,
            "strictly_smaller_than_rdkit": int(np.sum(o < r - 1e-6)),
            "strictly_smaller_than_spyrmsd": int(np.sum(o[ok_s] < s[ok_s] - 1e-6)),
            "largest_improvement": float(np.max(r - o)) if o.size else 0.0,
            "max_gap": float(np.max(self.gap)) if o.size else 0.0,
            "ms_per_pair_ours": 1e3 * float(np.mean(self.t_ours)) if o.size else 0.0,
            "ms_per_pair_rdkit": 1e3 * float(np.mean(self.t_rdkit)) if o.size else 0.0,
            "ms_per_pair_spyrmsd": 1e3 * float(np.mean(self.t_spyrmsd)) if o.size else 0.0,
        }


def _mol_from_qm9(numbers: np.ndarray, positions: np.ndarray, smiles: str):
    """An RDKit molecule with QM9's geometry: bonds from the SMILES template assigned to the
    xyz atoms (hydrogens included), then hydrogens removed."""
    from rdkit import Chem
    from rdkit.Chem import rdDetermineBonds

    symbols = {1: "H", 6: "C", 7: "N", 8: "O", 9: "F"}
    lines = [str(len(numbers)), ""] + [
        f"{symbols[int(z)]} {x:.10f} {y:.10f} {w:.10f}" for z, (x, y, w) in zip(numbers, positions)
    ]
    mol = Chem.MolFromXYZBlock("\n".join(lines))
    if mol is None:
        return None
    try:
        rdDetermineBonds.DetermineConnectivity(mol)
        template = Chem.AddHs(Chem.MolFromSmiles(smiles))
        from rdkit.Chem import AllChem

        mol = AllChem.AssignBondOrdersFromTemplate(template, mol)
        return Chem.RemoveHs(mol)
    except Exception:  # noqa: BLE001 - RDKit raises several kinds on odd geometries
        return None


def conformer_pairs(n_molecules: int, *, n_conformers: int = 3, random_state: int = 0):
    """``(kind, mol_a, conf_a, mol_b, conf_b)`` pairs of heavy-atom geometries of one molecule.

    For each of ``n_molecules`` random QM9 molecules with >= 3 heavy atoms: QM9's geometry vs
    the first ETKDG conformer, and consecutive ETKDG conformers.
    """
    from rdkit import Chem, RDLogger
    from rdkit.Chem import AllChem

    from orbitspace.datasets.qm9_geometry import load_qm9_geometries

    RDLogger.DisableLog("rdApp.*")
    geo = load_qm9_geometries(n=4 * n_molecules, random_state=random_state)
    pairs = []
    used = 0
    for k in range(len(geo.smiles)):
        if used >= n_molecules:
            break
        m = int(geo.n_atoms[k])
        z, pos = geo.numbers[k, :m], geo.positions[k, :m]
        if (z > 1).sum() < 3:
            continue
        ref = _mol_from_qm9(z, pos, geo.smiles[k])
        if ref is None:
            continue
        mol = Chem.AddHs(Chem.MolFromSmiles(geo.smiles[k]))
        params = AllChem.ETKDGv3()
        params.randomSeed = random_state + k
        cids = list(AllChem.EmbedMultipleConfs(mol, numConfs=n_conformers, params=params))
        if len(cids) < 2:
            continue
        gen = Chem.RemoveHs(mol)
        pairs.append(("qm9-vs-etkdg", ref, 0, gen, cids[0]))
        pairs += [("etkdg-vs-etkdg", gen, a, gen, b) for a, b in zip(cids, cids[1:])]
        used += 1
    return pairs


def _coords(mol, conf_id):
    pos = mol.GetConformer(conf_id).GetPositions()
    z = np.array([a.GetAtomicNum() for a in mol.GetAtoms()], np.int64)
    return pos, z


def compare_min_rmsd(
    n_molecules: int, *, n_conformers: int = 3, random_state: int = 0
) -> RMSDComparison:
    """Run the three solvers on the same pairs, in the same process (see the module doc)."""
    from rdkit import Chem
    from rdkit.Chem import rdMolAlign

    from orbitspace.stats.rmsd import min_rmsd

    try:
        from spyrmsd.rmsd import symmrmsd
    except ImportError:  # spyrmsd is a test requirement only
        symmrmsd = None
    rng = np.random.default_rng(random_state)
    out = RMSDComparison()
    warm = np.random.default_rng(0).standard_normal((4, 3))
    min_rmsd(warm, warm[::-1])  # compile the kernels before anything is timed
    for kind, ma, ca, mb, cb in conformer_pairs(
        n_molecules, n_conformers=n_conformers, random_state=random_state
    ):
        A, za = _coords(ma, ca)
        B, zb = _coords(mb, cb)
        t = time.perf_counter()
        r_rd = rdMolAlign.GetBestRMS(Chem.Mol(mb), Chem.Mol(ma), prbId=cb, refId=ca)
        t_rd = time.perf_counter() - t
        r_sp, t_sp = float("nan"), float("nan")
        if symmrmsd is not None:
            am_a = Chem.GetAdjacencyMatrix(ma)
            am_b = Chem.GetAdjacencyMatrix(mb)
            t = time.perf_counter()
            r_sp = float(symmrmsd(A, B, za, zb, am_a, am_b, center=True, minimize=True))
            t_sp = time.perf_counter() - t
        perm = rng.permutation(len(zb))  # we get the second geometry in a random atom order
        t = time.perf_counter()
        res = min_rmsd(A, B[perm], (za, zb[perm]))
        t_ours = time.perf_counter() - t
        out.kind.append(kind)
        out.n_atoms.append(len(za))
        out.ours.append(res.rmsd)
        out.gap.append(res.gap)
        out.rdkit.append(float(r_rd))
        out.spyrmsd.append(r_sp)
        out.t_ours.append(t_ours)
        out.t_rdkit.append(t_rd)
        out.t_spyrmsd.append(t_sp)
    return out
