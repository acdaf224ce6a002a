"""``orbitspace project LATENTS --action SPEC --method M -o OUT.npy``: invariant features of a
large latents file, chunk by chunk.

A ``.npy`` input is memory-mapped and read one chunk at a time; the output is written into a
temporary ``.npy`` next to ``OUT.npy`` and renamed over it only when every chunk is done.  The
result equals ``orbitspace.invariants.invariant_features(X, action, M, random_state=SEED)``.
"""

from __future__ import annotations

import argparse

from orbitspace.cli import CLIError
from orbitspace.cli.analyze import add_input_arguments, load_inputs, npy_output_path

__all__ = ["register", "run"]

EXAMPLES = """examples:
  orbitspace project codes.npy --action "SO2('4x0 + 8x1')" --method max_filter -o feats.npy
  orbitspace project graphs.npz:z --action "Permutation(9)" --method sort -o sorted.npy
"""


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "project",
        help="write invariant features of a (large) latents file to .npy, in chunks",
        description="Project latent codes with one invariant map, chunk by chunk "
        "(memory-mapped .npy input), and write the features atomically.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_input_arguments(parser)
    parser.add_argument(
        "--method",
        required=True,
        metavar="M",
        help="invariant map, with options if needed: sort, max_filter, "
        "'align_to_reference(n_references=4)', ...",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed of the map (default 0)")
    parser.add_argument(
        "--chunk-size", type=int, default=4096, help="codes per chunk (default 4096)"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("-o", "--output", required=True, metavar="OUT.npy", help="output file")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from orbitspace._io import staged_file
    from orbitspace._progress import progress_bar
    from orbitspace.invariants import MapSpec

    out = npy_output_path(args.output)
    if args.chunk_size < 1:
        raise CLIError(f"--chunk-size must be >= 1; received {args.chunk_size}")
    action, X, mask = load_inputs(args, mmap=True)
    n = len(X)
    if n == 0:
        raise CLIError(f"{args.latents} holds no codes (shape {X.shape})")
    d = X.shape[-1] if action.node_axis is not None else None
    spec = MapSpec.parse(args.method).check(action, d=d)
    imap = spec.map
    fit_opts, transform_opts = spec.split_options()
    # maps that draw parameters from the data (reference='data' / 'mean') see every code;
    # the others only need the event shape, so one code is enough (same random draws)
    needs_data = imap.fit_reads_data(**fit_opts)
    fit_X = np.asarray(X) if needs_data else np.asarray(X[:1])
    fit_mask = mask if needs_data or mask is None else mask[:1]
    params = imap.fit(fit_X, action, random_state=args.seed, mask=fit_mask, **fit_opts)

    chunks = range(0, n, args.chunk_size)
    bar = progress_bar(
        chunks, total=len(chunks), desc=f"project ({spec.label})", disable=args.no_progress
    )
    try:
        with staged_file(out) as tmp:
            F = None
            for start in bar:
                stop = min(n, start + args.chunk_size)
                part = np.asarray(X[start:stop])
                if not np.all(np.isfinite(part)):
                    bad = start + int(
                        np.flatnonzero(~np.isfinite(part.reshape(len(part), -1)).all(1))[0]
                    )
                    raise CLIError(f"latents have NaN or inf values (first in row {bad})")
                kw = {"mask": mask[start:stop]} if mask is not None else {}
                feats = np.asarray(imap.transform(part, action, params, **kw, **transform_opts))
                if F is None:
                    shape = (n,) + feats.shape[1:]
                    F = np.lib.format.open_memmap(tmp, mode="w+", dtype=feats.dtype, shape=shape)
                F[start:stop] = feats
            F.flush()
            shape = F.shape
            del F
    except OSError as exc:
        raise CLIError(f"cannot write {out}: {exc.strerror or exc}") from None
    print(f"wrote {out}: features of shape {shape} ({spec.label}, seed {args.seed})")
    return 0
