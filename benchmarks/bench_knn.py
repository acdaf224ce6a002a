"""Exact quotient k-NN (``orbitspace.quotient.knn.exact_knn``) vs brute force, in the same run.

Data: ``n`` codes in 50 clusters (centres N(0, 1), noise 0.1), each code moved by a random
group element, k = 10, for

- ``SO2('4x0 + 8x1 + 4x2 + 2x3')`` (dim 40),
- ``Cyclic(8, '4xregular + 2x1 + 1x2')`` (dim 38),
- ``Permutation(9)`` with d = 4 channels.

Brute force = the exact all-pairs distances (``pairwise_quotient_distances``, the same
certified solvers, 64 query rows per block) + a stable sort of each row; it is timed on randomly sampled query rows and
extrapolated to all rows (it is linear in the number of rows), and its neighbours on those rows
are compared with ours.  At 10⁴ codes the current ``quotient_knn`` (full lower-bound matrix and
full-row sorts) is timed too.  The scaling exponent is ``log(t₂/t₁) / log(n₂/n₁)``.

Everything runs single-threaded (BLAS limited to one thread).  Ratios are given by wall clock
and by CPU time of the process (robust to other load on the machine).

Run: ``.venv/bin/python benchmarks/bench_knn.py [--quick] [--large] [--huge] [--no-write]``
(``--quick``: 3·10³ and 10⁴ codes; ``--large``: adds 3·10⁵ codes; ``--huge``: adds 10⁶ codes).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _results import machine, write_section  # noqa: E402

from orbitspace.groups import SO2, Cyclic, Permutation  # noqa: E402
from orbitspace.quotient import pairwise_quotient_distances, quotient_knn  # noqa: E402
from orbitspace.quotient.knn import exact_knn  # noqa: E402

K = 10
ACTIONS = [
    ("SO2('4x0 + 8x1 + 4x2 + 2x3')", SO2("4x0 + 8x1 + 4x2 + 2x3")),
    ("Cyclic(8, '4xregular + 2x1 + 1x2')", Cyclic(8, "4xregular + 2x1 + 1x2")),
    ("Permutation(9), d = 4", Permutation(9)),
]


class Timer:
    """Wall-clock and CPU (this process) seconds of a block."""

    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu


def clustered(action, n, rng, n_clusters=50, noise=0.1):
    """``n`` codes around ``n_clusters`` centres, each moved by a random group element."""
    shape = (action.n_nodes, 4) if action.event_ndim == 2 else (action.dim,)
    centers = rng.normal(size=(n_clusters,) + shape)
    X = centers[rng.integers(0, n_clusters, n)] + noise * rng.normal(size=(n,) + shape)
    return np.asarray(action.act(action.sample(n, rng), X))


def brute_rows(X, rows, action):
    """Brute force on the query ``rows``: all distances to X, self excluded, stable sort."""
    # 64 query rows per block, so that the solvers' per-call preparation of X is amortised
    D = np.asarray(
        pairwise_quotient_distances(X[rows], X, action=action, batch_size=64 * X.shape[0])
    )
    D[np.arange(rows.size), rows] = np.inf
    idx = np.argsort(D, axis=1, kind="stable")[:, :K]
    return np.take_along_axis(D, idx, 1), idx


def bench_one(name, action, n, rng, brute_pairs, with_old):
    X = clustered(action, n, rng)
    exact_knn(X[:300], 2, action=action)  # compile / load the caches
    with Timer() as t:
        dist, idx = exact_knn(X, K, action=action)
    rows = np.sort(rng.choice(n, size=max(2, min(n, brute_pairs // n)), replace=False))
    with Timer() as tb:
        ref_d, ref_i = brute_rows(X, rows, action)
    scale = n / rows.size
    row = {
        "name": name,
        "n": n,
        "ours": (t.wall, t.cpu),
        "brute": (tb.wall * scale, tb.cpu * scale),
        "rows": rows.size,
        "same_idx": float((idx[rows] == ref_i).mean()),
        "err": float(np.abs(dist[rows] - ref_d).max()),
    }
    if with_old:
        with Timer() as to:
            old_d, old_i = quotient_knn(X, K, action=action)
        row["old"] = (to.wall, to.cpu)
        row["old_same"] = float((np.asarray(old_i) == idx).mean())
    return row


def run(quick: bool = False, large: bool = False, huge: bool = False) -> str:
    """Run the benchmark and return the RESULTS.md section (markdown)."""
    from threadpoolctl import threadpool_limits

    sizes = [3_000, 10_000] if quick else [10_000, 100_000]
    if large and not quick:
        sizes.append(300_000)
    if huge and not quick:
        sizes.append(1_000_000)
    brute_pairs = 3 * 10**6 if quick else 10**7
    rng = np.random.default_rng(0)
    load_before = os.getloadavg()[0]
    results = []
    with threadpool_limits(1):
        for name, action in ACTIONS:
            for n in sizes:
                r = bench_one(name, action, n, rng, brute_pairs, with_old=n == 10_000)
                results.append(r)
                print(
                    f"{name} n={n}: ours {r['ours'][0]:.1f}s, brute {r['brute'][0]:.1f}s "
                    f"-> {r['brute'][0] / r['ours'][0]:.0f}x",
                    flush=True,
                )
    load = f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after"
    lines = [
        "## Exact quotient k-NN (`benchmarks/bench_knn.py`"
        + (" --quick" if quick else "")
        + (" --large" if large and not quick else "")
        + (" --huge" if huge and not quick else "")
        + ")",
        "",
        f"Machine: {machine()}; single-threaded, BLAS limited to 1 thread; load average {load}. "
        f"k = {K}; 50 clusters (noise 0.1), every code moved by a random group element. "
        "Ours: `orbitspace.quotient.knn.exact_knn` (filter by a block lower bound, refine with the "
        "exact solver, early abandoning). Brute force: all-pairs exact distances (same certified "
        "solvers) + stable sort, timed on sampled query rows and extrapolated; `quotient_knn`: "
        "the current pruned k-NN (full lower-bound matrix), full run. Ratios by wall clock and "
        "(in brackets) by CPU time of the process.",
        "",
        "| action | codes | ours (s) | brute force (s) | ratio | `quotient_knn` (s) | ratio "
        "| agreement with brute force |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        (ow, oc), (bw, bc) = r["ours"], r["brute"]
        old = (
            f"{r['old'][0]:.1f} | {r['old'][0] / ow:.1f}x ({r['old'][1] / oc:.1f}x)"
            if "old" in r
            else "– | –"
        )
        lines.append(
            f"| {r['name']} | {r['n']:,} | {ow:.1f} | {bw:,.0f} (extrapolated from "
            f"{r['rows']:,} rows) | {bw / ow:.0f}x ({bc / oc:.0f}x) | {old} | "
            f"{100 * r['same_idx']:.2f}% same indices, max abs distance difference "
            f"{r['err']:.0e} |"
        )
    lines += ["", "Scaling exponent of our time (wall clock; CPU time in brackets):", ""]
    for name, _ in ACTIONS:
        rs = [r for r in results if r["name"] == name]
        spans = list(zip(rs, rs[1:])) + ([(rs[0], rs[-1])] if len(rs) > 2 else [])
        for a, b in spans:
            e_w = np.log(b["ours"][0] / a["ours"][0]) / np.log(b["n"] / a["n"])
            e_c = np.log(b["ours"][1] / a["ours"][1]) / np.log(b["n"] / a["n"])
            lines.append(f"- {name}: {a['n']:,} → {b['n']:,} codes: n^{e_w:.2f} (n^{e_c:.2f})")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3,000 and 10,000 codes")
    parser.add_argument("--large", action="store_true", help="also 300,000 codes")
    parser.add_argument("--huge", action="store_true", help="also 1,000,000 codes")
    parser.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    args = parser.parse_args(argv)
    text = run(quick=args.quick, large=args.large, huge=args.huge)
    print(text)
    if not args.no_write:
        write_section("knn", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
