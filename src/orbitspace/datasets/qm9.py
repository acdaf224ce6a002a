"""QM9 as padded heavy-atom graphs, read from the CSVs that the ``qm9pack`` wheel ships.

Every molecule becomes a graph on ``N_NODES = 9`` slots: ``atoms[i]`` is an index into
:data:`ATOM_VOCAB` (0 marks an empty slot; heavy atoms C, N, O, F with their formal charge) and
``bonds[i, j]`` an index into :data:`BOND_TYPES` (0 none; Kekulé single, double, triple),
symmetric with a zero diagonal.  Hydrogens are implicit.  All quantum targets of the CSVs are
kept (packaged units), plus RDKit's MolWt, LogP and QED.

The first load parses the 130,831 SMILES with RDKit (about a minute) and caches the arrays as
an ``.npz`` file under ``$ORBITSPACE_CACHE`` (default ``~/.cache/orbitspace``); later loads read
the cache (``np.load(..., allow_pickle=False)``) in well under a second.

Examples
--------
>>> data = load_qm9()                                   # doctest: +SKIP
>>> data.atoms.shape, data.bonds.shape, len(data.target_names)   # doctest: +SKIP
((130831, 9), (130831, 9, 9), 18)
>>> split = split_indices(len(data), random_state=0)    # doctest: +SKIP
>>> train = data.subset(split["train"][:20000])          # doctest: +SKIP
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from orbitspace._validation import check_random_state

__all__ = [
    "ATOM_VOCAB",
    "BOND_TYPES",
    "N_NODES",
    "TARGETS",
    "QM9Graphs",
    "cache_dir",
    "graph_to_mol",
    "graph_to_smiles",
    "load_qm9",
    "mol_to_graph",
    "packaged_csv_paths",
    "permute_graphs",
    "split_indices",
]

N_NODES = 9
#: node classes: (element, formal charge); index 0 is the empty slot of a padded graph
ATOM_VOCAB: tuple[tuple[str, int] | None, ...] = (
    None,
    ("C", 0),
    ("N", 0),
    ("O", 0),
    ("F", 0),
    ("N", 1),
    ("O", -1),
    ("C", -1),
    ("N", -1),
)
#: edge classes (Kekulé form): index = bond order, 0 = no bond
BOND_TYPES = ("none", "single", "double", "triple")

#: CSV column -> (short name, unit); the order of ``QM9Graphs.targets`` columns
TARGETS: dict[str, tuple[str, str]] = {
    "HOMO_LUMO_gap_au": ("gap", "Ha"),
    "HOMO_au": ("homo", "Ha"),
    "LUMO_au": ("lumo", "Ha"),
    "Dipole_debye": ("mu", "D"),
    "Polarizability_bohr3": ("alpha", "bohr^3"),
    "Heatcapacity_Cv_cal_mol_K": ("cv", "cal/mol/K"),
    "R2_bohr2": ("r2", "bohr^2"),
    "ZPVE_au": ("zpve", "Ha"),
    "InternalEnergy_0K_au": ("u0", "Ha"),
    "InternalEnergy_298K_au": ("u298", "Ha"),
    "Enthalphy_298K_au": ("h298", "Ha"),
    "GibbsFreeEnergy_298K_au": ("g298", "Ha"),
    "RotA_GHz": ("rot_a", "GHz"),
    "RotB_GHz": ("rot_b", "GHz"),
    "RotC_GHz": ("rot_c", "GHz"),
}
_RDKIT_TARGETS = (("molwt", "g/mol"), ("logp", "1"), ("qed", "1"))
_FORMAT = 1  # bump when the cached arrays change meaning


@dataclass(frozen=True)
class QM9Graphs:
    """QM9 molecules as padded graphs (numpy arrays, one row per molecule).

    Attributes
    ----------
    atoms : int8 array of shape (n, 9), indices into ATOM_VOCAB (0 = empty slot)
    bonds : int8 array of shape (n, 9, 9), indices into BOND_TYPES, symmetric, zero diagonal
    node_mask : bool array of shape (n, 9), True on real atoms
    targets : float64 array of shape (n, n_targets), columns named by ``target_names``
    target_names, target_units : tuple of str
    smiles : str array of shape (n,), RDKit canonical SMILES of the graph
    qm9_index : int64 array of shape (n,), the molecule's QM9 id (``dsgdb9nsd_<id>``)
    """

    atoms: np.ndarray
    bonds: np.ndarray
    node_mask: np.ndarray
    targets: np.ndarray
    target_names: tuple[str, ...]
    target_units: tuple[str, ...]
    smiles: np.ndarray
    qm9_index: np.ndarray

    def __len__(self) -> int:
        return int(self.atoms.shape[0])

    def subset(self, index: Any) -> QM9Graphs:
        """Rows ``index`` (integer array, slice or boolean mask) as a new ``QM9Graphs``."""
        index = np.asarray(index) if not isinstance(index, slice) else index
        kw = {}
        for f in fields(self):
            value = getattr(self, f.name)
            kw[f.name] = value if isinstance(value, tuple) else value[index]
        return QM9Graphs(**kw)

    def target(self, name: str) -> np.ndarray:
        """The column ``name`` of ``targets`` (e.g. ``"gap"``), shape (n,)."""
        if name not in self.target_names:
            raise ValueError(f"unknown target {name!r}; expected one of {self.target_names}")
        return self.targets[:, self.target_names.index(name)]


# ----------------------------------------------------------------------------- conversion


def mol_to_graph(mol: Any) -> tuple[np.ndarray, np.ndarray]:
    """An RDKit molecule (heavy atoms only, at most 9) as ``(atoms (9,), bonds (9, 9))``.

    The molecule is kekulized (aromatic bonds become single / double).  Raises ``ValueError``
    for atoms outside :data:`ATOM_VOCAB` or more than 9 heavy atoms.
    """
    from rdkit import Chem

    mol = Chem.RemoveHs(mol)
    Chem.Kekulize(mol, clearAromaticFlags=True)
    n = mol.GetNumAtoms()
    if n > N_NODES:
        raise ValueError(f"expected at most {N_NODES} heavy atoms; received {n}")
    atoms = np.zeros(N_NODES, np.int8)
    bonds = np.zeros((N_NODES, N_NODES), np.int8)
    for a in mol.GetAtoms():
        key = (a.GetSymbol(), a.GetFormalCharge())
        if key not in ATOM_VOCAB:
            raise ValueError(f"atom {key} is not in ATOM_VOCAB {ATOM_VOCAB[1:]}")
        atoms[a.GetIdx()] = ATOM_VOCAB.index(key)
    for b in mol.GetBonds():
        order = int(round(b.GetBondTypeAsDouble()))
        if order not in (1, 2, 3):
            raise ValueError(f"bond order {b.GetBondTypeAsDouble()} is not single/double/triple")
        i, j = b.GetBeginAtomIdx(), b.GetEndAtomIdx()
        bonds[i, j] = bonds[j, i] = order
    return atoms, bonds


def graph_to_mol(atoms: Any, bonds: Any, *, sanitize: bool = True) -> Any:
    """Build an RDKit molecule from a padded graph; ``None`` if it is empty or not valid.

    Parameters
    ----------
    atoms : int array of shape (9,), indices into ATOM_VOCAB
    bonds : int array of shape (9, 9), indices into BOND_TYPES (upper triangle is read)

    Valid means RDKit sanitisation succeeds (valences, charges, implicit hydrogens).  Bonds that
    touch an empty slot are ignored.
    """
    from rdkit import Chem, RDLogger

    RDLogger.DisableLog("rdApp.*")  # invalid graphs are expected (decoder samples)
    atoms = np.asarray(atoms).astype(int)
    bonds = np.asarray(bonds).astype(int)
    rw = Chem.RWMol()
    slot_to_idx = {}
    for i, a in enumerate(atoms):
        if a == 0:
            continue
        symbol, charge = ATOM_VOCAB[a]
        atom = Chem.Atom(symbol)
        atom.SetFormalCharge(charge)
        slot_to_idx[i] = rw.AddAtom(atom)
    if not slot_to_idx:
        return None
    kinds = {1: Chem.BondType.SINGLE, 2: Chem.BondType.DOUBLE, 3: Chem.BondType.TRIPLE}
    for i in slot_to_idx:
        for j in slot_to_idx:
            if j > i and bonds[i, j] in kinds:
                rw.AddBond(slot_to_idx[i], slot_to_idx[j], kinds[int(bonds[i, j])])
    mol = rw.GetMol()
    if sanitize:
        try:
            Chem.SanitizeMol(mol)
        except Exception:  # RDKit raises several sanitisation error types
            return None
    return mol


def graph_to_smiles(atoms: Any, bonds: Any) -> str | None:
    """Canonical SMILES of a padded graph, or ``None`` when it is not a valid molecule."""
    from rdkit import Chem

    mol = graph_to_mol(atoms, bonds)
    return None if mol is None else Chem.MolToSmiles(mol)


def permute_graphs(atoms: Any, bonds: Any, perm: Any) -> tuple[np.ndarray, np.ndarray]:
    """Relabel the slots: ``atoms'[..., i] = atoms[..., p[i]]``, ``bonds'[i, j] = bonds[p[i], p[j]]``.

    ``perm`` has shape (9,) or (n, 9) (one permutation per graph), the convention of
    :class:`orbitspace.groups.Permutation`.
    """
    atoms, bonds, p = np.asarray(atoms), np.asarray(bonds), np.asarray(perm)
    p = np.broadcast_to(p, atoms.shape)
    atoms_p = np.take_along_axis(atoms, p, axis=-1)
    rows = np.take_along_axis(bonds, p[..., :, None], axis=-2)
    bonds_p = np.take_along_axis(rows, p[..., None, :], axis=-1)
    return atoms_p, bonds_p


# ------------------------------------------------------------------------------ loading


def packaged_csv_paths() -> list[Path]:
    """The QM9 CSV parts shipped in the ``qm9pack`` wheel (located without importing it)."""
    spec = importlib.util.find_spec("qm9pack")
    if spec is None or spec.origin is None:
        raise FileNotFoundError(
            "QM9 data not found: install the qm9pack wheel (pip install qm9pack==1.0.3)"
        )
    folder = Path(spec.origin).parent / "data"
    paths = [folder / f"qm9_part{i}.csv" for i in (1, 2, 3)]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"qm9pack is installed but lacks {missing}")
    return paths


def cache_dir() -> Path:
    """``$ORBITSPACE_CACHE`` or ``~/.cache/orbitspace``."""
    return Path(os.environ.get("ORBITSPACE_CACHE") or Path.home() / ".cache" / "orbitspace")


def _parse_csvs(paths: list[Path], progress: bool) -> dict[str, np.ndarray]:
    import pandas as pd
    from rdkit import Chem, RDLogger
    from rdkit.Chem import QED, Crippen, Descriptors

    from orbitspace._progress import progress_bar

    RDLogger.DisableLog("rdApp.*")
    columns = ["Index", "SMILES", *TARGETS]
    frames = [pd.read_csv(p, usecols=columns) for p in paths]
    df = pd.concat(frames, ignore_index=True)
    n = len(df)
    atoms = np.zeros((n, N_NODES), np.int8)
    bonds = np.zeros((n, N_NODES, N_NODES), np.int8)
    extra = np.zeros((n, len(_RDKIT_TARGETS)))
    smiles = []
    keep = np.ones(n, bool)
    rows = df["SMILES"].to_numpy()
    it = progress_bar(enumerate(rows), total=n, desc="parsing QM9") if progress else enumerate(rows)
    for k, s in it:
        mol = Chem.MolFromSmiles(s)
        try:
            atoms[k], bonds[k] = mol_to_graph(mol)
        except (ValueError, AttributeError):
            keep[k] = False
            smiles.append("")
            continue
        rebuilt = graph_to_mol(atoms[k], bonds[k])
        if rebuilt is None:
            keep[k] = False
            smiles.append("")
            continue
        smiles.append(Chem.MolToSmiles(rebuilt))
        extra[k] = (Descriptors.MolWt(rebuilt), Crippen.MolLogP(rebuilt), QED.qed(rebuilt))
    targets = np.concatenate([df[list(TARGETS)].to_numpy(float), extra], axis=1)
    return {
        "atoms": atoms[keep],
        "bonds": bonds[keep],
        "targets": targets[keep],
        "smiles": np.array(smiles)[keep],
        "qm9_index": df["Index"].to_numpy(np.int64)[keep],
        "format": np.array(_FORMAT),
    }


def load_qm9(
    *,
    csv_paths: list[str | os.PathLike] | None = None,
    cache: bool = True,
    refresh: bool = False,
    progress: bool = False,
) -> QM9Graphs:
    """Load QM9 as padded graphs (parsing once, then from the ``.npz`` cache).

    Parameters
    ----------
    csv_paths : list of paths, optional
        CSV files with the qm9pack columns (``Index``, ``SMILES`` and the target columns);
        default: the files of the installed ``qm9pack`` wheel.  The test fixture uses this.
    cache : bool, default True
        Read / write ``cache_dir() / "qm9_graphs_v1.npz"`` (only for the packaged files).
    refresh : bool, default False
        Ignore an existing cache and parse again.
    progress : bool, default False
        Show a progress bar while parsing.

    Returns
    -------
    QM9Graphs
    """
    packaged = csv_paths is None
    paths = packaged_csv_paths() if packaged else [Path(p) for p in csv_paths]
    for p in paths:
        if not Path(p).is_file():
            raise FileNotFoundError(f"QM9 CSV file {p} does not exist")
    use_cache = cache and packaged
    path = cache_dir() / f"qm9_graphs_v{_FORMAT}.npz"
    arrays = None
    if use_cache and path.is_file() and not refresh:
        try:
            with np.load(path, allow_pickle=False) as f:
                arrays = {k: f[k] for k in f.files}
        except (OSError, ValueError):
            arrays = None  # a damaged cache is rebuilt
        if arrays is not None and int(arrays.get("format", -1)) != _FORMAT:
            arrays = None
    if arrays is None:
        arrays = _parse_csvs(paths, progress)
        if use_cache:
            _save_npz_atomic(path, arrays)
    names = tuple(v[0] for v in TARGETS.values()) + tuple(t[0] for t in _RDKIT_TARGETS)
    units = tuple(v[1] for v in TARGETS.values()) + tuple(t[1] for t in _RDKIT_TARGETS)
    return QM9Graphs(
        atoms=arrays["atoms"],
        bonds=arrays["bonds"],
        node_mask=arrays["atoms"] > 0,
        targets=arrays["targets"],
        target_names=names,
        target_units=units,
        smiles=arrays["smiles"],
        qm9_index=arrays["qm9_index"],
    )


def _save_npz_atomic(path: Path, arrays: dict[str, np.ndarray]) -> None:
    import io

    from orbitspace._io import atomic_write_bytes

    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    atomic_write_bytes(path, buf.getvalue())


def split_indices(
    n: int, *, n_val: int = 10_000, n_test: int = 10_000, random_state: Any = 0
) -> dict[str, np.ndarray]:
    """Deterministic train / val / test indices: a seeded shuffle of ``range(n)``.

    The same ``n`` and seed give the same split on every machine.  ``n_val`` and ``n_test``
    are capped so that the training split keeps at least half of the data.
    """
    if n < 3:
        raise ValueError(f"need at least 3 molecules to split; received n={n}")
    n_val = min(int(n_val), n // 4)
    n_test = min(int(n_test), n // 4)
    order = check_random_state(random_state).permutation(n)
    return {
        "test": np.sort(order[:n_test]),
        "val": np.sort(order[n_test : n_test + n_val]),
        "train": np.sort(order[n_test + n_val :]),
    }
