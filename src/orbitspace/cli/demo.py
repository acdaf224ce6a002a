"""``orbitspace demo [STUDY]``: run a case study (default: the rotated-MNIST study).

Each study is a module ``orbitspace.studies.<name>`` exposing ``add_arguments(parser)`` and
``run(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util

# name -> (module, one-line description); the first available one is the default
STUDIES = {
    "mnist": ("orbitspace.studies.mnist", "rotated MNIST with escnn C_N / SO(2) CNNs (Figure 1)"),
    "qm9": ("orbitspace.studies.qm9", "QM9 with a permutation-equivariant graph VAE"),
    "qm9-3d": ("orbitspace.studies.qm9_3d", "QM9 geometries with an E(3)-equivariant e3nn network"),
    "augmentation": ("orbitspace.studies.augmentation", "augmentation-trained plain CNNs"),
    "quotient": ("orbitspace.studies.quotient", "raw vs quotient distances on generated latents"),
}


def _available() -> dict[str, tuple[str, str]]:
    found = {}
    for name, (module, desc) in STUDIES.items():
        if importlib.util.find_spec(module) is not None:
            found[name] = (module, desc)
    return found


def register(sub: argparse._SubParsersAction) -> None:
    studies = _available()
    parser = sub.add_parser("demo", help="run a case study and write its HTML report")
    study_sub = parser.add_subparsers(dest="study", metavar="STUDY")
    for name, (module_name, desc) in studies.items():
        p = study_sub.add_parser(name, help=desc)
        importlib.import_module(module_name).add_arguments(p)
        p.set_defaults(func=_runner(module_name))
    default = next(iter(studies), None)
    if default is not None:
        module_name = studies[default][0]
        importlib.import_module(module_name).add_arguments(parser)
        parser.set_defaults(func=_runner(module_name))


def _runner(module_name: str):
    def run(args: argparse.Namespace) -> int:
        return importlib.import_module(module_name).run(args)

    return run
