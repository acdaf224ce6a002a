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

__all__ = ["main", "CLIError"]

# subcommand modules, in --help order; a module that fails to import is reported, not fatal
_SUBCOMMANDS = ("demo", "analyze", "project", "distances", "info", "train")


class CLIError(Exception):
    """An expected failure: printed as one line, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
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
    try:
        result = args.func(args)
    except (CLIError, ValueError, TypeError, OSError) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"orbitspace {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"orbitspace {args.command}: interrupted", file=sys.stderr)
        return 130
    return int(result or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
