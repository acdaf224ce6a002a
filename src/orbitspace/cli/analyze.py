"""``orbitspace analyze LATENTS --action SPEC -o OUT_DIR``: the HTML report on a latents file.

Writes ``report.html`` (self-contained), ``metrics.json`` (every number in the report) and the
projected features as ``features_<method>.npy``.  Nothing is written until every number has
been computed; the folder appears complete or not at all.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import Any

from orbitspace.cli import CLIError

__all__ = ["register", "run", "load_inputs", "add_input_arguments"]

EXAMPLES = """examples:
  orbitspace analyze codes.npy --action "SO2('4x0 + 8x1')" --labels digits.npy -o report/
  orbitspace analyze latents.npz:z --action "Permutation(9)" --targets latents.npz:gap \\
      --methods sort "align_to_reference(n_references=4)" --quick -o out/
"""


def add_input_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments every latents command shares: LATENTS, --action, --key, --mask."""
    parser.add_argument(
        "latents",
        metavar="LATENTS",
        help="latent codes: .npy, .npz (FILE:KEY or --key) or .pt; shape (n, dim), or "
        "(n, n_nodes, d) for Permutation",
    )
    parser.add_argument(
        "--action",
        required=True,
        metavar="SPEC",
        help='the group action on the codes, e.g. "SO2(\'4x0 + 8x1\')", "Cyclic(8, '
        '\'16xregular\')", "Permutation(9)"',
    )
    parser.add_argument("--key", help="array name inside an .npz / .pt file")
    parser.add_argument(
        "--mask",
        metavar="FILE|KEY",
        help="node mask (n, n_nodes) of padded graphs, Permutation only: a file or an array "
        "in the latents' .npz",
    )


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "analyze",
        help="write an HTML report comparing raw codes with invariant projections",
        description="Compare raw latent codes with every invariant projection: invariance "
        "error, distortion against the exact quotient distance, probes, 2-D maps, verdict.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_input_arguments(parser)
    parser.add_argument(
        "--labels",
        metavar="FILE|KEY",
        help="class labels, one per code (.npy / .csv, or an array in the latents' .npz)",
    )
    parser.add_argument(
        "--targets",
        metavar="FILE|KEY",
        help="real targets (n,) or (n, t) for regression probes (.npy / .csv, or an npz key)",
    )
    parser.add_argument(
        "--methods",
        nargs="+",
        metavar="M",
        help="projections to compare, e.g. sort max_filter 'align_to_reference(n_references=4)' "
        "(default: every method available for the action)",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smaller subsamples and fewer probes: about a minute on 10,000 codes",
    )
    parser.add_argument(
        "--maps",
        nargs="*",
        default=["pca", "tsne", "umap"],
        choices=["pca", "tsne", "umap"],
        help="2-D maps to draw (default: pca tsne umap; none with an empty list)",
    )
    parser.add_argument(
        "--no-progress", action="store_true", help="do not show progress bars on stderr"
    )
    parser.add_argument("-o", "--output", required=True, metavar="OUT_DIR", help="output folder")
    parser.set_defaults(func=run)


def npy_output_path(output: str) -> Path:
    """The ``-o OUT.npy`` of ``project`` / ``distances``, checked before any work is done."""
    out = Path(output)
    if out.suffix != ".npy":
        raise CLIError(f"the output must be a .npy file; received {out}")
    if out.is_dir():
        raise CLIError(f"output {out} is a folder; expected a .npy file name")
    if not out.parent.is_dir():
        raise CLIError(f"output folder {out.parent} does not exist")
    return out


def load_inputs(args: argparse.Namespace, *, mmap: bool = False) -> tuple[Any, Any, Any]:
    """Parse ``--action`` and load LATENTS (and ``--mask``), checked against the action.

    Returns ``(action, X, mask)``; ``X`` is memory-mapped when ``mmap`` and the file is .npy.
    """
    import numpy as np

    from orbitspace._validation import check_mask_has_nodes
    from orbitspace.datasets.latent_files import load_array, load_column, split_spec
    from orbitspace.groups import Permutation, parse_action

    action = parse_action(args.action)
    X = load_array(args.latents, key=args.key, mmap=mmap)
    if X.dtype.kind not in "iufb":
        raise CLIError(f"latents must be real numbers; {args.latents} has dtype {X.dtype}")
    if isinstance(action, Permutation) and X.ndim == 2 and X.shape[1] == action.n_nodes:
        print(
            f"note: reading latents of shape {X.shape} as {X.shape + (1,)}: one scalar per node",
            file=sys.stderr,
        )
        X = X[:, :, None]
    want = action.event_ndim + 1
    size_name = "n_nodes" if action.event_ndim == 2 else "dim"
    axis = -action.event_ndim
    if X.ndim != want:
        shape = "(n, n_nodes, d)" if action.event_ndim == 2 else "(n, dim)"
        raise CLIError(
            f"latents must have shape {shape} for {action!r}; {args.latents} has shape {X.shape}"
        )
    if X.shape[axis] != action.dim:
        raise CLIError(
            f"{action!r} has {size_name} {action.dim} but the latents have shape {X.shape} "
            f"({size_name} {X.shape[axis]})"
        )
    mask = None
    if getattr(args, "mask", None):
        if not isinstance(action, Permutation):
            raise CLIError(f"--mask applies to Permutation actions only; the action is {action!r}")
        container, _ = split_spec(args.latents)
        mask = load_column(args.mask, n_rows=len(X), container=container, what="mask", numeric=True)
        mask = np.asarray(mask)
        if mask.shape != X.shape[:-1]:
            raise CLIError(f"--mask must have shape {X.shape[:-1]}; received {mask.shape}")
        if mask.dtype != bool:
            if mask.dtype.kind in "iuf" and np.all((mask == 0) | (mask == 1)):
                mask = mask.astype(bool)
            else:
                raise CLIError(f"--mask must hold booleans or 0/1; received dtype {mask.dtype}")
        check_mask_has_nodes(mask)  # an all-False row would give zero features and NaNs
    return action, X, mask


def _check_output_dir(path: Path) -> None:
    if path.exists() and not path.is_dir():
        raise CLIError(f"output {path} exists and is not a folder")


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from orbitspace._io import save_npy_atomic, staged_dir
    from orbitspace.datasets.latent_files import load_column_with_names, split_spec
    from orbitspace.report import Report
    from orbitspace.report.analysis import add_analysis_to_report, analyze_latents
    from orbitspace.report.methods import resolve_methods

    out = Path(args.output)
    _check_output_dir(out)
    action, X, mask = load_inputs(args)
    X = np.asarray(X, dtype=float)
    container, _ = split_spec(args.latents)
    n = len(X)
    labels = targets = None
    target_names = None
    if args.labels:
        labels, _ = load_column_with_names(args.labels, n_rows=n, container=container)
    if args.targets:
        targets, target_names = load_column_with_names(
            args.targets, n_rows=n, container=container, what="targets", numeric=True
        )
        if target_names is not None and len(target_names) != (
            1 if targets.ndim == 1 else targets.shape[1]
        ):
            target_names = None
    d = X.shape[-1] if action.event_ndim == 2 else None
    resolve_methods(args.methods, action, d=d, quick=args.quick)  # fail fast on bad methods
    result = analyze_latents(
        X,
        action,
        labels=labels,
        targets=targets,
        target_names=target_names,
        methods=args.methods,
        random_state=args.seed,
        quick=args.quick,
        mask=mask,
        maps=tuple(args.maps),
        progress=not args.no_progress,
    )
    name = Path(str(container)).name
    report = Report(
        f"Latent analysis: {name}",
        f"`{action!r}` · {n} codes · seed {args.seed}" + (" · quick mode" if args.quick else ""),
    )
    add_analysis_to_report(report, result)
    command = "orbitspace " + shlex.join(sys.argv[1:]) if sys.argv[1:2] == ["analyze"] else None
    _reproduce_section(report, args, command)
    report.add_metrics(
        "inputs",
        {
            "latents": str(args.latents),
            "labels": args.labels,
            "targets": args.targets,
            "key": args.key,
            "mask": args.mask,
        },
    )
    try:
        with staged_dir(out) as tmp:
            for label, F in result.features.items():
                save_npy_atomic(tmp / result.metrics["methods"][label]["file"], F)
            report.write(tmp)
    except OSError as exc:
        raise CLIError(f"cannot write {out}: {exc.strerror or exc}") from None
    rec = result.metrics.get("recommendation", {}).get("recommended")
    print(f"wrote {out / 'report.html'}, metrics.json and {len(result.features)} feature file(s)")
    if rec:
        print(f"recommended projection: {rec}")
    return 0


def _reproduce_section(report: Any, args: argparse.Namespace, command: str | None) -> None:
    from orbitspace import __version__

    report.section("Reproduce")
    if command is None:
        parts = ["orbitspace", "analyze", str(args.latents), "--action", args.action]
        for flag, value in (
            ("--key", args.key),
            ("--labels", args.labels),
            ("--targets", args.targets),
            ("--mask", args.mask),
        ):
            if value:
                parts += [flag, str(value)]
        if args.methods:
            parts += ["--methods", *args.methods]
        parts += ["--seed", str(args.seed)] + (["--quick"] if args.quick else [])
        parts += ["-o", str(args.output)]
        command = shlex.join(parts)
    report.text(
        "Every number above is in `metrics.json` next to this page; the same command with the "
        f"same seed gives the same numbers (orbitspace {__version__}; the timings vary):\n\n"
        f"    {command}"
    )
