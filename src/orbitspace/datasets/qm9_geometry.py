"""QM9 geometries (xyz of every atom, hydrogens included) from the ``qm9pack`` wheel.

The CSVs shipped in ``qm9pack`` hold, per molecule, the element list and the DFT-relaxed xyz
coordinates in Ångström (``Elements``, ``XYZ_Ang``) beside the SMILES and the targets.

Examples
--------
>>> geo = load_qm9_geometries(n=3, heavy_only=True)  # doctest: +SKIP
>>> geo.positions.shape, geo.n_atoms.tolist()  # doctest: +SKIP
((3, 9, 3), [1, 1, 1])
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

import numpy as np

from orbitspace.datasets.qm9 import packaged_csv_paths

__all__ = ["QM9Geometries", "load_qm9_geometries", "ATOMIC_NUMBER"]

ATOMIC_NUMBER = {"H": 1, "C": 6, "N": 7, "O": 8, "F": 9}


@dataclass(frozen=True)
class QM9Geometries:
    """Padded geometries: ``positions (N, n_max, 3)`` Å, ``numbers (N, n_max)`` atomic numbers
    (0 = padding), ``n_atoms (N,)``, ``smiles (N,)``, ``qm9_index (N,)``, ``targets``: a dict
    of per-molecule arrays (``U0``, ``gap``, ``dipole``, ...)."""

    positions: np.ndarray
    numbers: np.ndarray
    n_atoms: np.ndarray
    smiles: np.ndarray
    qm9_index: np.ndarray
    targets: dict

    def mask(self) -> np.ndarray:
        """``(N, n_max)`` True at real atoms."""
        return self.numbers > 0


_TARGET_COLUMNS = {
    "U0": "InternalEnergy_0K_au",
    "gap": "HOMO_LUMO_gap_au",
    "homo": "HOMO_au",
    "lumo": "LUMO_au",
    "dipole": "Dipole_debye",
    "polarizability": "Polarizability_bohr3",
    "R2": "R2_bohr2",
    "zpve": "ZPVE_au",
    "Cv": "Heatcapacity_Cv_cal_mol_K",
}


def load_qm9_geometries(
    *,
    n: int | None = None,
    random_state: int | None = 0,
    heavy_only: bool = False,
    max_atoms: int | None = None,
) -> QM9Geometries:
    """Read ``n`` molecules (all when None; a seeded random subset otherwise).

    Parameters
    ----------
    n : number of molecules, or None for all 130,831
    random_state : seed of the subset
    heavy_only : drop hydrogens (then at most 9 atoms)
    max_atoms : keep only molecules with at most this many (kept) atoms

    Returns
    -------
    QM9Geometries, padded to the largest kept molecule
    """
    import pandas as pd

    cols = ["Index", "SMILES", "Elements", "XYZ_Ang", *_TARGET_COLUMNS.values()]
    df = pd.concat([pd.read_csv(p, usecols=cols) for p in packaged_csv_paths()], ignore_index=True)
    if n is not None:
        if not 1 <= int(n) <= len(df):
            raise ValueError(f"n must be in 1..{len(df)}; received {n}")
        rng = np.random.default_rng(random_state)
        df = df.iloc[np.sort(rng.choice(len(df), size=int(n), replace=False))]
    mols = []
    for elements, xyz in zip(df["Elements"], df["XYZ_Ang"]):
        z = np.array([ATOMIC_NUMBER[e] for e in ast.literal_eval(elements)], dtype=np.int64)
        pos = np.asarray(ast.literal_eval(xyz), dtype=float).reshape(-1, 3)
        if heavy_only:
            pos, z = pos[z > 1], z[z > 1]
        mols.append((pos, z))
    keep = np.array([max_atoms is None or len(z) <= max_atoms for _, z in mols], bool)
    mols = [m for m, k in zip(mols, keep) if k]
    df = df[keep]
    n_max = max((len(z) for _, z in mols), default=0)
    positions = np.zeros((len(mols), n_max, 3))
    numbers = np.zeros((len(mols), n_max), np.int64)
    for k, (pos, z) in enumerate(mols):
        positions[k, : len(z)] = pos
        numbers[k, : len(z)] = z
    targets = {name: df[col].to_numpy(float) for name, col in _TARGET_COLUMNS.items()}
    return QM9Geometries(
        positions,
        numbers,
        (numbers > 0).sum(1),
        df["SMILES"].to_numpy(str),
        df["Index"].to_numpy(np.int64),
        targets,
    )
