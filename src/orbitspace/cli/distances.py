"""``orbitspace distances LATENTS --action SPEC (--pairwise | --knn K) -o OUT.npy``.

``--pairwise`` writes the (N, N) matrix of exact quotient distances
(:func:`orbitspace.quotient.pairwise_quotient_distances`); ``--knn K`` writes the (N, K)
distances to each code's K nearest other codes (:func:`orbitspace.quotient.quotient_knn`) to
``OUT.npy`` and their indices to ``OUT.indices.npy``.  Files are written atomically.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from orbitspace.cli import CLIError
from orbitspace.cli.analyze import add_input_arguments, load_inputs, npy_output_path

__all__ = ["register", "run", "indices_path"]

EXAMPLES = """examples:
  orbitspace distances codes.npy --action "SO2('4x0 + 8x1')" --pairwise -o D.npy
  orbitspace distances graphs.npz:z --action "Permutation(9)" --knn 10 -o knn.npy
      (writes knn.npy with the distances and knn.indices.npy with the neighbours' rows)
"""


def indices_path(out: Path) -> Path:
    """Where ``--knn`` writes the neighbour indices: ``OUT.indices.npy``."""
    return out.with_name(out.name[: -len(".npy")] + ".indices.npy")


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "distances",
        help="exact quotient distances: all pairs or k nearest neighbours",
        description="Exact quotient distances d([x],[y]) = min_g ||x - rho(g) y|| between "
        "the codes of a latents file.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_input_arguments(parser)
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--pairwise", action="store_true", help="the full (N, N) matrix")
    what.add_argument("--knn", type=int, metavar="K", help="the K nearest neighbours of each code")
    parser.add_argument(
        "--max-gib",
        type=float,
        default=8.0,
        help="refuse a --pairwise matrix larger than this many GiB (default 8)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("-o", "--output", required=True, metavar="OUT.npy", help="output file")
    parser.set_defaults(func=run, extra_outputs=_extra_outputs)


def _extra_outputs(args: argparse.Namespace) -> list[Path]:
    """``--knn`` also writes ``OUT.indices.npy`` (checked with OUT before any work)."""
    return [indices_path(Path(args.output))] if args.knn and args.output.endswith(".npy") else []


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from orbitspace._io import save_npy_atomic, staged_file
    from orbitspace.groups import apply_node_mask
    from orbitspace.quotient import pairwise_quotient_distances, quotient_knn

    out = npy_output_path(args.output)
    action, X, mask = load_inputs(args)
    n = len(X)
    X = np.asarray(X)
    bad = ~np.isfinite(X.reshape(n, -1)).all(axis=1)
    if bad.any():
        raise CLIError(
            f"latents have {int(bad.sum())} row(s) with NaN or inf values "
            f"(first: row {int(np.flatnonzero(bad)[0])})"
        )
    try:
        if args.pairwise:
            gib = n * n * 8 / 2**30
            if gib > args.max_gib:
                raise CLIError(
                    f"a {n}x{n} distance matrix needs {gib:.1f} GiB (> --max-gib {args.max_gib:g});"
                    " use --knn K, a subset of the codes, or raise --max-gib"
                )
            kw = {"x_mask": mask} if mask is not None else {}
            D = pairwise_quotient_distances(X, action=action, progress=not args.no_progress, **kw)
            save_npy_atomic(out, D)
            print(f"wrote {out}: ({n}, {n}) quotient distances")
            return 0
        k = args.knn
        if not 1 <= k <= n - 1:
            raise CLIError(f"--knn must be between 1 and {n - 1} (codes - 1); received {k}")
        if mask is not None:
            X = apply_node_mask(X, mask)  # masked rows are zero: the masked quotient distance
        if not args.no_progress:
            print(
                f"finding {k} nearest neighbours of {n} codes under {action!r} ...", file=sys.stderr
            )
        dist, idx = quotient_knn(X, k, action=action, progress=not args.no_progress)
        idx_out = indices_path(out)
        # both files appear together: the second rename follows the first immediately
        with staged_file(out) as tmp_d, staged_file(idx_out) as tmp_i:
            for tmp, arr in ((tmp_d, dist), (tmp_i, idx)):
                with open(tmp, "wb") as f:
                    np.save(f, np.asarray(arr), allow_pickle=False)
    except OSError as exc:
        raise CLIError(f"cannot write {out}: {exc.strerror or exc}") from None
    print(f"wrote {out}: ({n}, {k}) distances and {idx_out}: their row indices")
    return 0
