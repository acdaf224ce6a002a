"""The ``orbitspace`` command: thin subcommands over the public API.

Each subcommand lives in its own module exposing ``register(subparsers)``; the parsed
arguments carry ``func``, called with the namespace.  Expected failures raise ``CLIError`` (or
``ValueError`` / ``TypeError`` / ``FileNotFoundError``) and become a one-line message and exit
code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from typing import NoReturn

__all__ = ["main", "CLIError"]

# subcommand modules, in --help order; a module that fails to import is reported, not fatal
_SUBCOMMANDS = ("demo", "analyze", "project", "distances", "info", "train")


class CLIError(Exception):
    """An expected failure: printed as one line, exit code 2."""


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (``--help`` shows the usage)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="orbitspace",
        description="Interpret latent spaces of equivariant networks: quotient distances, "
        "invariant projections, diagnostics and case studies.",
    )
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _SUBCOMMANDS:
        try:
            module = importlib.import_module(f"orbitspace.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"orbitspace.cli.{name}":
                continue  # subcommand not shipped in this build
            raise
        module.register(sub)
    return parser


def _version() -> str:
    from orbitspace import __version__

    return f"orbitspace {__version__}"


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 0
    from orbitspace.cli._guards import Terminated, terminate_cleanly

    try:
        with terminate_cleanly():
            _check_output(args)
            result = args.func(args)
    except (CLIError, ValueError, TypeError, OSError) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"orbitspace {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"orbitspace {args.command}: interrupted", file=sys.stderr)
        return 130
    except Terminated as exc:
        print(f"orbitspace {args.command}: terminated ({exc}); no output written", file=sys.stderr)
        return 143
    return int(result or 0)


def _check_output(args: argparse.Namespace) -> None:
    """Before any work: the output is no input, its folder is writable, stale partials go."""
    from orbitspace.cli._guards import (
        check_destination_writable,
        check_outputs_are_not_inputs,
        clean_stale_partials,
        input_paths,
        register_outputs,
    )

    output = getattr(args, "output", None)
    if not output:
        return
    outs = [Path(output), *getattr(args, "extra_outputs", lambda a: [])(args)]
    check_outputs_are_not_inputs(outs, input_paths(args))
    register_outputs(outs)
    for out in outs:
        check_destination_writable(out)
        clean_stale_partials(out)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
