"""``orbitspace train TASK ...``: train the models the case studies use.

Each task is a module ``orbitspace.studies.<task>_train`` exposing ``add_arguments(parser)`` and
``run(args) -> int`` (the contract of the demo studies).  Tasks are discovered from
:data:`TASKS`; a task whose module is not shipped is left out of ``--help``.  Adding a task is
one module plus one line here.  Modules must keep their top-level imports light (no torch):
they are imported to build ``--help``.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util

__all__ = ["TASKS", "register"]

# task -> one-line description; the module is orbitspace.studies.<task>_train
TASKS = {
    "mnist": "steerable (escnn C_N / SO(2)) or plain CNNs on rotated MNIST",
    "qm9": "the permutation-equivariant graph VAE on QM9",
}


def task_module(task: str) -> str:
    """The module that implements ``orbitspace train <task>``."""
    return f"orbitspace.studies.{task}_train"


def _available() -> dict[str, str]:
    return {t: d for t, d in TASKS.items() if importlib.util.find_spec(task_module(t)) is not None}


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("train", help="train a model used by a case study")
    task_sub = parser.add_subparsers(dest="task", metavar="TASK")
    for task, desc in _available().items():
        p = task_sub.add_parser(task, help=desc, description=desc)
        module_name = task_module(task)
        importlib.import_module(module_name).add_arguments(p)
        p.set_defaults(func=_runner(module_name))
    parser.set_defaults(func=_missing_task(parser))


def _runner(module_name: str):
    def run(args: argparse.Namespace) -> int:
        return importlib.import_module(module_name).run(args)

    return run


def _missing_task(parser: argparse.ArgumentParser):
    def run(args: argparse.Namespace) -> int:
        parser.print_help()
        return 2

    return run
