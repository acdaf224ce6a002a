"""Exact pairwise quotient distances vs the naive methods, in the same run.

Cases (1,000 x 1,000 pairs each; ``--quick``: 300 x 300 and fewer naive pairs):

- ``Permutation(9)``, d = 4: ours (compiled batched linear assignment) vs a Python loop over
  ``scipy.optimize.linear_sum_assignment``, one pair at a time;
- ``SO2('4x0 + 8x1 + 4x2 + 2x3')``: ours (certified trigonometric-polynomial maximum) vs a
  3,600-angle grid (one matrix product per angle), which is not even exact: its error against
  ours is reported too.

Both sides run single-threaded (BLAS limited to one thread).  When the naive method would take
too long, it is timed on a random subset of the pairs and extrapolated; the table says so.

Run: ``.venv/bin/python benchmarks/bench_quotient.py [--quick] [--no-write]``
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

from orbitspace.groups import SO2, Permutation  # noqa: E402
from orbitspace.quotient import pairwise_quotient_distances, quotient_knn  # noqa: E402


class Timer:
    """Wall-clock and CPU (this process) seconds of a block."""

    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu


def _best_of(fn, repeat):
    """(wall, cpu) seconds of the fastest of ``repeat`` runs, and the result."""
    best, out = None, None
    for _ in range(repeat):
        with Timer() as t:
            out = fn()
        if best is None or t.wall < best[0]:
            best = (t.wall, t.cpu)
    return best, out


def naive_permutation(X, Y, rows, cols):
    """The obvious loop: one scipy assignment per pair."""
    from scipy.optimize import linear_sum_assignment

    out = np.empty(len(rows))
    sx, sy = (X**2).sum((1, 2)), (Y**2).sum((1, 2))
    for q, (i, j) in enumerate(zip(rows, cols, strict=True)):
        W = X[i] @ Y[j].T
        r, c = linear_sum_assignment(W, maximize=True)
        out[q] = np.sqrt(max(sx[i] + sy[j] - 2 * W[r, c].sum(), 0.0))
    return out


def naive_so2_grid(X, Y, action, n_angles=3600):
    """max over a grid of angles: <x, ρ(θ)y> = <ρ(−θ)x, y>, one matrix product per angle."""
    best = np.full((X.shape[0], Y.shape[0]), -np.inf)
    for theta in np.linspace(0, 2 * np.pi, n_angles, endpoint=False):
        np.maximum(best, np.asarray(action.act(-theta, X)) @ Y.T, out=best)
    sq = (X**2).sum(1)[:, None] + (Y**2).sum(1)[None, :] - 2 * best
    return np.sqrt(np.maximum(sq, 0.0))


def bench_permutation(n, naive_pairs, rng, repeat):
    action = Permutation(9)
    X, Y = rng.normal(size=(n, 9, 4)), rng.normal(size=(n, 9, 4))
    pairwise_quotient_distances(X[:2], Y[:2], action=action)  # compile / load the cache
    t_ours, D = _best_of(lambda: pairwise_quotient_distances(X, Y, action=action), repeat)
    t_threads, _ = _best_of(
        lambda: pairwise_quotient_distances(X, Y, action=action, n_jobs=-1), repeat
    )
    total = n * n
    subset = naive_pairs < total
    if subset:
        pick = rng.choice(total, size=naive_pairs, replace=False)
        rows, cols = np.divmod(pick, n)
    else:
        rows, cols = np.divmod(np.arange(total), n)
    with Timer() as t:
        ref = naive_permutation(X, Y, rows, cols)
    t_naive = (t.wall * total / len(rows), t.cpu * total / len(rows))
    err = float(np.abs(D[rows, cols] - ref).max())
    note = (
        f"naive timed on {len(rows):,} random pairs, extrapolated" if subset else "naive full run"
    )
    return {
        "case": f"Permutation(9), d=4, {n:,} x {n:,}",
        "naive": "Python loop over scipy linear_sum_assignment",
        "t_ours": t_ours,
        "t_threads": t_threads,
        "t_naive": t_naive,
        "error": f"max abs(ours − scipy) = {err:.1e}",
        "note": note,
    }


def bench_so2(n, naive_rows, rng, repeat):
    action = SO2("4x0 + 8x1 + 4x2 + 2x3")
    X, Y = rng.normal(size=(n, action.dim)), rng.normal(size=(n, action.dim))
    pairwise_quotient_distances(X[:2], Y[:2], action=action)
    t_ours, D = _best_of(lambda: pairwise_quotient_distances(X, Y, action=action), repeat)
    t_threads, _ = _best_of(
        lambda: pairwise_quotient_distances(X, Y, action=action, n_jobs=-1), repeat
    )
    rows = np.sort(rng.choice(n, size=min(n, naive_rows), replace=False))
    with Timer() as t:
        grid = naive_so2_grid(X[rows], Y, action)
    t_naive = (t.wall * n / len(rows), t.cpu * n / len(rows))
    gap = grid - D[rows]
    note = (
        f"grid timed on {len(rows):,} of {n:,} rows, extrapolated"
        if len(rows) < n
        else "naive full run"
    )
    return {
        "case": f"SO2('4x0 + 8x1 + 4x2 + 2x3'), {n:,} x {n:,}",
        "naive": "3,600-angle grid (not exact)",
        "t_ours": t_ours,
        "t_threads": t_threads,
        "t_naive": t_naive,
        "error": f"grid overestimates d by up to {gap.max():.1e} (never below ours: "
        f"min {gap.min():.0e})",
        "note": note,
    }


def bench_knn(n, rng):
    """k-NN with lower-bound pruning vs sorting the full pairwise matrix (both exact)."""
    action = Permutation(9)
    centers = rng.normal(size=(20, 9, 4))
    X = centers[rng.integers(0, 20, n)] + 0.1 * rng.normal(size=(n, 9, 4))
    X = np.asarray(action.act(action.sample(n, rng), X))
    quotient_knn(X[:20], 2, action=action)
    with Timer() as t_ours:
        dist, _ = quotient_knn(X, 10, action=action)
    with Timer() as t_full:
        D = pairwise_quotient_distances(X, action=action)
        np.fill_diagonal(D, np.inf)
        ref = np.sort(D, axis=1)[:, :10]
    return {
        "case": f"k-NN (k=10), Permutation(9), d=4, {n:,} clustered points",
        "naive": "full pairwise matrix (ours) + sort",
        "t_ours": (t_ours.wall, t_ours.cpu),
        "t_naive": (t_full.wall, t_full.cpu),
        "error": f"max abs difference = {np.abs(dist - ref).max():.1e}",
        "note": "pruning by channel-sort lower bound",
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (about a minute)")
    parser.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    args = parser.parse_args(argv)
    from threadpoolctl import threadpool_limits

    cores = os.cpu_count()
    rng = np.random.default_rng(0)
    n = 300 if args.quick else 1000
    repeat = 1 if args.quick else 3
    load_before = os.getloadavg()[0]
    with threadpool_limits(1):
        rows = [
            bench_permutation(n, 20_000 if args.quick else n * n, rng, repeat),
            bench_so2(n, 60 if args.quick else 200, rng, repeat),
            bench_knn(1000 if args.quick else 3000, rng),
        ]
    load = f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after"
    lines = [
        "## Quotient distances (`benchmarks/bench_quotient.py`"
        + (" --quick" if args.quick else "")
        + ")",
        "",
        f"Machine: {machine()}; BLAS limited to 1 thread; the naive methods are single-threaded. "
        "Ours is exact. Ratio = naive time / our time, measured in the same run, by wall clock "
        "and by CPU time of the process (robust to other load on the machine: load average "
        f"{load} during the run); 'threads' = `n_jobs=-1` ({cores} threads), wall clock.",
        "",
        "| case | naive method | ours (s) | naive (s) | ratio (wall) | ratio (CPU) "
        "| ours, threads (s) | ratio, threads | accuracy | note |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in rows:
        (ow, oc), (nw, nc) = r["t_ours"], r["t_naive"]
        threads = (
            f"{r['t_threads'][0]:.2f} | {nw / r['t_threads'][0]:.1f}x"
            if "t_threads" in r
            else "– | –"
        )
        lines.append(
            f"| {r['case']} | {r['naive']} | {ow:.2f} | {nw:.2f} | {nw / ow:.1f}x | "
            f"{nc / oc:.1f}x | {threads} | {r['error']} | {r['note']} |"
        )
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        write_section("quotient", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
