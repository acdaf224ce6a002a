"""``orbitspace analyze LATENTS --action SPEC -o OUT_DIR``: the HTML report on a latents file.

Writes ``report.html`` (self-contained), ``metrics.json`` (every number in the report) and the
projected features as ``features_<method>.npy``.  Nothing is written until every number has
been computed; the folder appears complete or not at all.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orbitspace.cli import CLIError

__all__ = [
    "register",
    "run",
    "analyze",
    "AnalyzeRequest",
    "load_inputs",
    "load_latents",
    "add_input_arguments",
]

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
    The arguments are read here, once; the work is :func:`load_latents`.
    """
    return load_latents(
        args.latents, args.action, key=args.key, mask=getattr(args, "mask", None), mmap=mmap
    )


def load_latents(
    latents: str,
    action_spec: str,
    *,
    key: str | None = None,
    mask: str | None = None,
    mmap: bool = False,
) -> tuple[Any, Any, Any]:
    """Parse ``action_spec`` and load the file ``latents`` (and the node ``mask``), checked.

    Returns ``(action, X, mask)``; ``X`` is memory-mapped when ``mmap`` and the file is .npy.
    """
    import numpy as np

    from orbitspace._validation import check_mask_has_nodes
    from orbitspace.datasets.latent_files import load_array, load_column, split_spec
    from orbitspace.groups import parse_action

    action = parse_action(action_spec)
    X = load_array(latents, key=key, mmap=mmap)
    if X.dtype.kind not in "iufb":
        raise CLIError(f"latents must be real numbers; {latents} has dtype {X.dtype}")
    nodes = action.node_axis is not None
    if nodes and action.feature_dim is None and X.ndim == 2 and X.shape[1] == action.n_nodes:
        print(
            f"note: reading latents of shape {X.shape} as {X.shape + (1,)}: one scalar per node",
            file=sys.stderr,
        )
        X = X[:, :, None]
    want = action.event_ndim + 1
    if X.ndim != want:
        shape = "(n, n_nodes, d)" if nodes else "(n, dim)"
        raise CLIError(
            f"latents must have shape {shape} for {action!r}; {latents} has shape {X.shape}"
        )
    names = ("n_nodes", "d") if nodes else ("dim",)
    for name, size, got in zip(names, action.event_shape, X.shape[1:]):
        if size is not None and got != size:
            raise CLIError(
                f"{action!r} has {name} {size} but the latents have shape {X.shape} ({name} {got})"
            )
    mask_arr = None
    if mask:
        if not nodes:
            raise CLIError(f"--mask applies to actions on node sets only; the action is {action!r}")
        container, _ = split_spec(latents)
        mask_arr = load_column(mask, n_rows=len(X), container=container, what="mask", numeric=True)
        mask_arr = np.asarray(mask_arr)
        if mask_arr.shape != X.shape[:-1]:
            raise CLIError(f"--mask must have shape {X.shape[:-1]}; received {mask_arr.shape}")
        if mask_arr.dtype != bool:
            if mask_arr.dtype.kind in "iuf" and np.all((mask_arr == 0) | (mask_arr == 1)):
                mask_arr = mask_arr.astype(bool)
            else:
                raise CLIError(f"--mask must hold booleans or 0/1; received dtype {mask_arr.dtype}")
        check_mask_has_nodes(mask_arr)  # an all-False row would give zero features and NaNs
    return action, X, mask_arr


def _check_output_dir(path: Path) -> None:
    if path.exists() and not path.is_dir():
        raise CLIError(f"output {path} exists and is not a folder")


@dataclass(frozen=True)
class AnalyzeRequest:
    """The ``orbitspace analyze`` command line, typed (built once from the parsed arguments)."""

    latents: str
    action: str
    output: Path
    key: str | None = None
    mask: str | None = None
    labels: str | None = None
    targets: str | None = None
    methods: tuple[str, ...] | None = None
    seed: int = 0
    quick: bool = False
    maps: tuple[str, ...] = ("pca", "tsne", "umap")
    progress: bool = True

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> AnalyzeRequest:
        return cls(
            latents=str(args.latents),
            action=str(args.action),
            output=Path(args.output),
            key=args.key,
            mask=args.mask,
            labels=args.labels,
            targets=args.targets,
            methods=None if args.methods is None else tuple(args.methods),
            seed=int(args.seed),
            quick=bool(args.quick),
            maps=tuple(args.maps),
            progress=not args.no_progress,
        )

    def command(self) -> str:
        """The equivalent command line."""
        parts = ["orbitspace", "analyze", self.latents, "--action", self.action]
        for flag, value in (
            ("--key", self.key),
            ("--labels", self.labels),
            ("--targets", self.targets),
            ("--mask", self.mask),
        ):
            if value:
                parts += [flag, str(value)]
        if self.methods:
            parts += ["--methods", *self.methods]
        parts += ["--seed", str(self.seed)] + (["--quick"] if self.quick else [])
        parts += ["-o", str(self.output)]
        return shlex.join(parts)


def run(args: argparse.Namespace) -> int:
    return analyze(AnalyzeRequest.from_args(args))


def _announce_run_time(X, action, specs, quick: bool, mask) -> None:
    """Print the forecast before the work starts, and the fast path when it is much faster."""
    from orbitspace.report.analysis import FULL, QUICK

    seconds = estimate_seconds(X, action, specs, QUICK if quick else FULL, mask=mask)
    line = f"orbitspace analyze: {len(X)} codes, {len(specs)} projection(s); expected run time ≈ "
    line += format_duration(seconds)
    if not quick:
        fast = estimate_seconds(X, action, specs, QUICK, mask=mask)
        if fast < 0.5 * seconds:
            line += f" (--quick: ≈ {format_duration(fast)})"
    print(line, file=sys.stderr, flush=True)


def analyze(req: AnalyzeRequest) -> int:
    """Run ``orbitspace analyze`` for a typed request; returns the exit code."""
    import numpy as np

    from orbitspace._io import save_npy_atomic, staged_dir
    from orbitspace.datasets.latent_files import load_column_with_names, split_spec
    from orbitspace.report import Report
    from orbitspace.report.analysis import add_analysis_to_report, analyze_latents
    from orbitspace.report.methods import resolve_methods

    out = req.output
    _check_output_dir(out)
    action, X, mask = load_latents(req.latents, req.action, key=req.key, mask=req.mask)
    X = np.asarray(X, dtype=float)
    container, _ = split_spec(req.latents)
    n = len(X)
    labels = targets = None
    target_names = None
    if req.labels:
        labels, _ = load_column_with_names(req.labels, n_rows=n, container=container)
    if req.targets:
        targets, target_names = load_column_with_names(
            req.targets, n_rows=n, container=container, what="targets", numeric=True
        )
        if target_names is not None and len(target_names) != (
            1 if targets.ndim == 1 else targets.shape[1]
        ):
            target_names = None
    methods = None if req.methods is None else list(req.methods)
    d = X.shape[-1] if action.node_axis is not None else None
    specs = resolve_methods(methods, action, d=d, quick=req.quick)  # fail fast on bad methods
    _announce_run_time(X, action, specs, req.quick, mask)
    result = analyze_latents(
        X,
        action,
        labels=labels,
        targets=targets,
        target_names=target_names,
        methods=methods,
        random_state=req.seed,
        quick=req.quick,
        mask=mask,
        maps=req.maps,
        progress=req.progress,
    )
    name = Path(str(container)).name
    report = Report(
        f"Latent analysis: {name}",
        f"`{action!r}` · {n} codes · seed {req.seed}" + (" · quick mode" if req.quick else ""),
    )
    add_analysis_to_report(report, result)
    command = "orbitspace " + shlex.join(sys.argv[1:]) if sys.argv[1:2] == ["analyze"] else None
    _reproduce_section(report, command or req.command())
    report.add_metrics(
        "inputs",
        {
            "latents": req.latents,
            "labels": req.labels,
            "targets": req.targets,
            "key": req.key,
            "mask": req.mask,
        },
    )
    try:
        with staged_dir(out) as tmp:
            for label, F in result.features.items():
                save_npy_atomic(tmp / result.methods[label].file, F)
            report.write(tmp)
    except OSError as exc:
        raise CLIError(f"cannot write {out}: {exc.strerror or exc}") from None
    rec = result.recommendation.recommended
    print(f"wrote {out / 'report.html'}, metrics.json and {len(result.features)} feature file(s)")
    if rec:
        print(f"recommended projection: {rec}")
    return 0


def _reproduce_section(report: Any, command: str) -> None:
    from orbitspace import __version__

    report.section("Reproduce")
    report.text(
        "Every number above is in `metrics.json` next to this page; the same command with the "
        f"same seed gives the same numbers (orbitspace {__version__}; the timings vary):\n\n"
        f"    {command}"
    )


def estimate_seconds(X, action, specs, cfg, *, mask=None) -> float:
    """A rough forecast of an analysis' wall time: the exact solver timed on a few pairs of
    the codes, times the alignments the plan needs (the distortion's pairs, and the
    solver-backed maps' alignments), plus a fixed allowance for probes and 2-D maps."""
    import time

    import numpy as np

    from orbitspace.quotient.solvers import solve_pairs

    n = len(X)
    Z = np.asarray(X[: min(n, 64)], dtype=float)
    if mask is not None:
        Z = np.where(np.asarray(mask[: len(Z)])[..., None], Z, 0.0)
    m = len(Z)
    rows = np.arange(m)
    cols = np.roll(rows, 1)
    solve_pairs(Z, Z, rows[:2], cols[:2], action)  # compile, warm the caches
    t = time.perf_counter()
    solve_pairs(Z, Z, rows, cols, action)
    per_pair = (time.perf_counter() - t) / max(m, 1)
    k = min(n, cfg.n_distortion)
    pairs = k * (k - 1) / 2
    d = Z.shape[-1] if action.node_axis is not None else None
    transforms = n + min(n, cfg.n_invariance) * cfg.n_group_samples
    for spec in specs:
        pairs += spec.map.alignments_per_code(action, d=d, **spec.options) * transforms
    fixed = 5.0 * len(cfg.probes) * (1 + len(specs)) + 15.0 * cfg.map_columns
    return pairs * per_pair + fixed


def format_duration(seconds: float) -> str:
    """``"40 s"``, ``"6 min"``, ``"1.5 h"``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
