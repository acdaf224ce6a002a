"""Certified SO(3) alignment vs its exhaustive twin and a plain dense grid, in the same run.

For each irreps layout (``8x0e + 4x1o + 2x2e`` and the MACE-like ``32x0e + 32x1o + 32x2e``),
random Gaussian pairs ``(x, y)`` (1,000; ``--quick``: 200) are solved by

- **ours**: the certified branch and bound (``orbitspace.quotient.solvers.solve_pairs``), with
  its per-pair certificate ``gap`` (value <= max <= value + gap);
- **exhaustive twin**: ``max_inner_product_exhaustive`` with its defaults (20,000-rotation
  super-Fibonacci grid, 8 Newton-refined starts; not certified), timed on a subset;
- **naive grid**: the same oracle with a 5,000-rotation grid and only the best grid point
  refined (10 Newton steps): the usual "dense grid + local refinement", not certified; and
  the same with a 20,000-rotation grid.

Reported: pairs per second (single thread, BLAS limited to 1 thread; best of ``--repeat`` runs,
default 3, of every method), the certificate gaps
relative to ``Σ_l ‖C_l‖_*`` (max / median), and how often the naive grid (and the twin) miss
the certified optimum by more than ``1e-6 · Σ_l ‖C_l‖_*``.

Run: ``.venv/bin/python benchmarks/bench_so3.py [--quick] [--no-write]``
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

from orbitspace.groups import SO3  # noqa: E402
from orbitspace.quotient import max_inner_product_exhaustive  # noqa: E402
from orbitspace.quotient.so3 import so3_coefficients  # noqa: E402
from orbitspace.quotient.solvers import solve_pairs  # noqa: E402

LAYOUTS = ["8x0e + 4x1o + 2x2e", "32x0e + 32x1o + 32x2e"]
NAIVE = {"n_grid": 5000, "n_starts": 1, "n_iter": 10}
NAIVE_DENSE = {"n_grid": 20000, "n_starts": 1, "n_iter": 10}


def _timed(fn, repeat: int = 1):
    """Best of ``repeat`` runs: (wall seconds, CPU seconds, output of the first run); wall and
    CPU minimised separately (the machine is shared: the best run is the least disturbed)."""
    wall, cpu, out = np.inf, np.inf, None
    for k in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        res = fn()
        wall, cpu = min(wall, time.perf_counter() - t0), min(cpu, time.process_time() - c0)
        out = res if k == 0 else out
    return wall, cpu, out


def bench_layout(rep: str, n_pairs: int, n_twin: int, rng, repeat: int = 1) -> dict:
    action = SO3(rep)
    X = rng.normal(size=(n_pairs, action.dim))
    Y = rng.normal(size=(n_pairs, action.dim))
    idx = np.arange(n_pairs)
    solve_pairs(X[:2], Y[:2], idx[:2], idx[:2], action)  # compile / load the numba cache
    max_inner_product_exhaustive(X[:2], Y[:2], action, **NAIVE)
    info: dict = {}
    solve_pairs(X, Y, idx, idx, action, info=info)
    evals = np.concatenate(info["evals"])
    w_ours, c_ours, sol = _timed(lambda: solve_pairs(X, Y, idx, idx, action), repeat)
    w_naive, c_naive, (naive, _) = _timed(
        lambda: max_inner_product_exhaustive(X, Y, action, **NAIVE), repeat
    )
    w_dense, c_dense, (dense, _) = _timed(
        lambda: max_inner_product_exhaustive(X, Y, action, **NAIVE_DENSE), repeat
    )
    sub = idx[:n_twin]
    w_twin, c_twin, (twin, _) = _timed(
        lambda: max_inner_product_exhaustive(X[sub], Y[sub], action), repeat
    )
    _, C = so3_coefficients(X, Y, action)
    scale = sum(np.linalg.svd(c, compute_uv=False).sum(-1) for c in C)
    rel_gap = sol.gap / scale
    miss_naive = (sol.value - naive) > 1e-6 * scale
    miss_twin = (sol.value[sub] - twin) > 1e-6 * scale[sub]
    miss_dense = (sol.value - dense) > 1e-6 * scale
    above = max(
        float((naive - sol.value - sol.gap).max()),
        float((twin - sol.value[sub] - sol.gap[sub]).max()),
    )
    return {
        "rep": rep,
        "n": n_pairs,
        "n_twin": n_twin,
        "ours": (n_pairs / w_ours, n_pairs / c_ours),
        "naive": (n_pairs / w_naive, n_pairs / c_naive),
        "twin": (n_twin / w_twin, n_twin / c_twin),
        "dense": (n_pairs / w_dense, n_pairs / c_dense),
        "miss_dense": int(miss_dense.sum()),
        "evals_mean": float(evals.mean()),
        "evals_median": float(np.median(evals)),
        "gap_max": float(rel_gap.max()),
        "gap_median": float(np.median(rel_gap)),
        "miss_naive": int(miss_naive.sum()),
        "miss_naive_worst": float(((sol.value - naive) / scale).max()),
        "miss_twin": int(miss_twin.sum()),
        "above": above,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 pairs per layout")
    parser.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per method, the best one timed (default 3)"
    )
    args = parser.parse_args(argv)
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    n = 200 if args.quick else 1000
    n_twin = 40 if args.quick else 200
    load_before = os.getloadavg()[0]
    with threadpool_limits(1):
        rows = [bench_layout(rep, n, n_twin, rng, args.repeat) for rep in LAYOUTS]
    load = f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after"
    lines = [
        "## SO(3) alignment (`benchmarks/bench_so3.py`" + (" --quick" if args.quick else "") + ")",
        "",
        f"Machine: {machine()}; single thread, BLAS limited to 1 thread; load average {load}. "
        "Random Gaussian pairs. Ours: certified branch and bound (gap = certified upper bound "
        "− value, shown relative to Σ_l ‖C_l‖_*). Twin: grid of 20,000 rotations + 8 Newton "
        "starts (the exhaustive oracle, timed on a subset). Naive: 5,000-rotation grid + 10 "
        "Newton steps from the best grid point. Neither is certified. Naive 20k: the same with "
        f"20,000 rotations. Pairs per second by wall clock, best of {args.repeat} runs of each "
        "method (CPU time of the process in brackets, best of the same runs; ratios by wall "
        "clock); 'misses' = pairs whose value falls "
        "more than 1e-6·Σ‖C_l‖_* below ours; 'above' = the most any method found above our "
        "certified bound value + gap (must be <= 0 up to rounding); 'evals' = polynomial "
        "evaluations per pair in our branch and bound after the coarse product (mean / median).",
        "",
        "| irreps | pairs | ours (pairs/s) | naive grid (pairs/s) | ours / naive (CPU) | twin (pairs/s) "
        "| ours / twin | gap max | gap median | naive misses (worst, rel.) | twin misses "
        "| naive 20k grid (pairs/s) | ours / naive 20k | naive 20k misses | above | evals |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        (ow, oc), (nw, nc), (tw, tc) = r["ours"], r["naive"], r["twin"]
        lines.append(
            f"| `{r['rep']}` | {r['n']:,} | {ow:,.0f} ({oc:,.0f}) | {nw:,.0f} ({nc:,.0f}) "
            f"| {ow / nw:.2f}x ({oc / nc:.2f}x) | {tw:,.0f} ({tc:,.0f}) | {ow / tw:.1f}x | {r['gap_max']:.1e} "
            f"| {r['gap_median']:.1e} | {r['miss_naive']} of {r['n']:,} "
            f"({r['miss_naive_worst']:.1e}) | {r['miss_twin']} of {r['n_twin']} "
            f"| {r['dense'][0]:,.0f} ({r['dense'][1]:,.0f}) | {ow / r['dense'][0]:.2f}x "
            f"| {r['miss_dense']} of {r['n']:,} | {r['above']:.1e} "
            f"| {r['evals_mean']:.0f} / {r['evals_median']:.0f} |"
        )
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        write_section("so3", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
