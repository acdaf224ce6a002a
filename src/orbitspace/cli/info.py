"""``orbitspace info``: versions of orbitspace and its dependencies, and what each enables.

Versions come from the installed package metadata (:mod:`importlib.metadata`): nothing heavy
(torch included) is imported.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import platform
import sys

__all__ = ["register", "run", "collect", "OPTIONAL"]

#: (distribution name, import name, what it enables)
REQUIRED = (
    ("numpy", "numpy", "arrays (required)"),
    ("scipy", "scipy", "assignment solver, statistics (required)"),
)
OPTIONAL = (
    ("torch", "torch", "torch tensors in every function; models and case studies"),
    ("scikit-learn", "sklearn", "probes in reports; orbitspace.estimators"),
    ("matplotlib", "matplotlib", "figures in reports"),
    ("tqdm", "tqdm", "progress bars"),
    ("escnn", "escnn", "escnn FieldType interop; rotated-MNIST study"),
    ("e3nn", "e3nn", "installed with the stack; no orbitspace adapter yet"),
    ("torch-geometric", "torch_geometric", "PyG batches to padded node latents (interop.pyg)"),
    ("rdkit", "rdkit", "molecules in the QM9 study"),
    ("umap-learn", "umap", "UMAP maps in reports"),
    ("openTSNE", "openTSNE", "t-SNE maps in reports"),
    ("numba", "numba", "compiled quotient solvers (Permutation assignment, SO(2) alignment)"),
)


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "info",
        help="versions of orbitspace and its optional packages, and what they enable",
        description="Show versions of orbitspace, numpy, torch and the optional packages "
        "(read from package metadata; nothing is imported).",
    )
    parser.set_defaults(func=run)


def _version(dist: str, module: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        pass
    try:  # installed without metadata (e.g. vendored): present but version unknown
        found = importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        found = False
    return "installed (version unknown)" if found else None


def collect() -> dict[str, dict[str, str | None]]:
    """``{dist: {"version": str or None, "enables": str}}`` for every package listed."""
    from orbitspace import __version__

    out: dict[str, dict[str, str | None]] = {
        "orbitspace": {"version": __version__, "enables": "this library"}
    }
    for dist, module, enables in (*REQUIRED, *OPTIONAL):
        out[dist] = {"version": _version(dist, module), "enables": enables}
    return out


def run(args: argparse.Namespace) -> int:
    info = collect()
    print(f"Python {platform.python_version()} on {platform.system()} {platform.machine()}")
    width = max(len(k) for k in info)
    for dist, row in info.items():
        version = row["version"] or "not installed"
        mark = " " if row["version"] else "-"
        print(f"{mark} {dist.ljust(width)}  {version.ljust(28)}  {row['enables']}")
    missing = [d for d, r in info.items() if r["version"] is None]
    if missing:
        print(f"\nnot installed: {', '.join(missing)} (the features next to them are unavailable)")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run(argparse.Namespace()))
