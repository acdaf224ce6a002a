"""Invariant features of 10⁷ generated codes on a dask.distributed LocalCluster (docs/dask.md).

Codes ``SO2('4x0 + 8x1')`` (dim 20, float64: 1.6 GB at 10⁷) are generated block by block on
the workers (block b from ``default_rng([seed, b])``, so nothing passes through the driver), the
map is fitted on the driver and broadcast once, and the features are either summed (default)
or written to a zarr store (``--zarr DIR``).  Reported per method: wall time, codes per second,
the peak resident memory of each worker process (``getrusage`` in the worker; a fresh cluster
for each method, so the peak is that method's), and a check that the first and
last blocks equal the in-memory ``invariant_features`` (same seed).  The same map in memory in
one process on one block gives the single-core rate for comparison.

    .venv/bin/python benchmarks/bench_dask.py                      # 10⁷ codes, norms + align
    .venv/bin/python benchmarks/bench_dask.py --n 1000000          # 10⁶
    .venv/bin/python benchmarks/bench_dask.py --quick              # 2·10⁵, a smoke run
    .venv/bin/python benchmarks/bench_dask.py --zarr /tmp/feats    # also write the features
    .venv/bin/python benchmarks/bench_dask.py --knn 5000           # exact k-NN, dask vs memory

Writes the ``dask`` section of benchmarks/RESULTS.md (``--no-write``: print only).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import orbitspace as osp  # noqa: E402

ACTION = "SO2('4x0 + 8x1')"


def codes_block(block_id, rows, dim, seed, n):
    """Block ``block_id`` of the generated codes (the same on any worker or in memory)."""
    start = block_id * rows
    m = min(rows, n - start)
    return np.random.default_rng([seed, block_id]).standard_normal((m, dim))


def generated(n, rows, dim, seed):
    import dask.array as da

    chunks = ((rows,) * (n // rows) + ((n % rows,) if n % rows else ()), (dim,))
    return da.map_blocks(
        lambda block_id=None: codes_block(block_id[0], rows, dim, seed, n),
        chunks=chunks,
        dtype=np.float64,
        meta=np.empty((0, 0)),
    )


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def cpu_s() -> float:
    """CPU seconds this process has used (user + system): independent of other jobs' load."""
    use = resource.getrusage(resource.RUSAGE_SELF)
    return use.ru_utime + use.ru_stime


def workers_cpu_s(client) -> float:
    return sum(client.run(cpu_s).values())


def run_knn(n, k, workers, seed, malloc_trim):
    """Exact quotient k-NN of ``n`` generated codes among themselves: dask (blocks of queries
    against the broadcast reference set) against ``osp.quotient_knn`` in this process."""
    import dask
    from distributed import Client

    from orbitspace.interop import dask as odask

    rho = osp.parse_action(ACTION)
    rng = np.random.default_rng(seed)  # clustered codes, each moved by a random rotation
    centres = 3 * rng.standard_normal((50, rho.dim))
    X = centres[rng.integers(50, size=n)] + 0.3 * rng.standard_normal((n, rho.dim))
    X = np.asarray(rho.act(rho.sample(n, random_state=seed + 1), X))
    t0, c0 = time.perf_counter(), cpu_s()
    ref_d, ref_i = osp.quotient_knn(X, k, action=rho)
    memory_s, memory_cpu = time.perf_counter() - t0, cpu_s() - c0
    cluster = odask.local_cluster(workers, malloc_trim=malloc_trim)
    client = Client(cluster)
    try:
        import dask.array as da

        Xd = da.from_array(X, chunks=max(1, n // (4 * workers)))
        warm = da.from_array(X[: 40 * workers], chunks=40)  # imports and first calls
        dask.compute(*odask.quotient_knn(warm, k, action=rho, client=client))
        c0, t0 = workers_cpu_s(client), time.perf_counter()
        dist, idx = dask.compute(*odask.quotient_knn(Xd, k, action=rho, client=client))
        wall, cpu = time.perf_counter() - t0, workers_cpu_s(client) - c0
        peaks = client.run(peak_rss_mb)
    finally:
        client.close()
        cluster.close()
    row = {
        "method": f"quotient_knn(k={k})",
        "n": n,
        "workers": workers,
        "wall_s": round(wall, 2),
        "workers_cpu_s": round(cpu, 2),
        "in_memory_wall_s": round(memory_s, 2),
        "in_memory_cpu_s": round(memory_cpu, 2),
        "worker_peak_rss_mb": [round(v, 1) for v in peaks.values()],
        "equal_in_memory": bool(np.array_equal(idx, ref_i) and np.array_equal(dist, ref_d)),
        "load_average_1min_at_end": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(row), flush=True)
    return row


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000_000, help="codes (default 10^7)")
    parser.add_argument("--rows", type=int, default=250_000, help="codes per block")
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--methods", nargs="+", default=["norms", "align_to_reference"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--zarr", metavar="DIR", help="write the features to DIR/<method>.zarr")
    parser.add_argument("--quick", action="store_true", help="2·10^5 codes in blocks of 50,000")
    parser.add_argument(
        "--malloc-trim",
        action="store_true",
        help="keep distributed's MALLOC_TRIM_THRESHOLD_=65536 in the workers (its default)",
    )
    parser.add_argument("--json", metavar="FILE", help="also write the numbers as JSON")
    parser.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    parser.add_argument(
        "--knn", type=int, metavar="N", help="instead: exact k-NN (k = 10) of N codes, self-search"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.n, args.rows = 200_000, 50_000
    if args.knn:
        row = run_knn(args.knn, 10, args.workers, args.seed, args.malloc_trim)
        if args.json:
            Path(args.json).write_text(json.dumps([row], indent=2) + "\n")
        return 0 if row["equal_in_memory"] else 1

    import dask.array as da
    from distributed import Client

    from orbitspace.interop import dask as odask

    rho = osp.parse_action(ACTION)
    rows_out = []
    for method in args.methods:
        # a fresh cluster per method: each worker's peak memory is this method's
        cluster = odask.local_cluster(args.workers, malloc_trim=args.malloc_trim)
        client = Client(cluster)
        try:
            # warm-up (imports and first calls in each worker), then the generation alone
            small = generated(4 * args.workers * 500, 500, rho.dim, args.seed)
            odask.invariant_features(small, rho, method, random_state=args.seed).sum().compute()
            base = client.run(peak_rss_mb)
            X = generated(args.n, args.rows, rho.dim, args.seed)
            c0, t0 = workers_cpu_s(client), time.perf_counter()
            X.sum().compute()
            generate, generate_cpu = time.perf_counter() - t0, workers_cpu_s(client) - c0
            c0, t0 = workers_cpu_s(client), time.perf_counter()
            F = odask.invariant_features(X, rho, method, random_state=args.seed, client=client)
            if args.zarr:
                out = Path(args.zarr) / f"{method}.zarr"
                odask.save_zarr(out, F)
                checksum = None
            else:
                checksum = float(F.sum().compute())
            wall, cpu = time.perf_counter() - t0, workers_cpu_s(client) - c0
            peaks = client.run(peak_rss_mb)
            # exactness: the first and last blocks against the in-memory map (same seed); the
            # first one also times the map in memory in this one process
            last, ok, single, single_cpu = F.numblocks[0] - 1, True, None, None
            stored = da.from_zarr(str(out), component="features") if args.zarr else F
            for b in (0, last):
                Xb = codes_block(b, args.rows, rho.dim, args.seed, args.n)
                c1, t1 = cpu_s(), time.perf_counter()
                ref = osp.invariant_features(Xb, rho, method, random_state=args.seed)
                if single is None:
                    single = len(Xb) / (time.perf_counter() - t1)
                    single_cpu = (cpu_s() - c1) / len(Xb) * 1e6
                ok &= bool(np.array_equal(stored.blocks[b].compute(), ref))
            row = {
                "method": method,
                "n": args.n,
                "rows_per_block": args.rows,
                "workers": args.workers,
                "wall_s": round(wall, 2),
                "generate_only_s": round(generate, 2),
                "codes_per_s": round(args.n / wall),
                "in_memory_codes_per_s_one_process": round(single),
                "workers_cpu_s": round(cpu, 2),
                "workers_cpu_s_generating": round(generate_cpu, 2),
                "map_cpu_s_per_million_dask": round((cpu - generate_cpu) / args.n * 1e6, 3),
                "map_cpu_s_per_million_in_memory": round(single_cpu, 3),
                "worker_peak_rss_mb": [round(v, 1) for v in peaks.values()],
                "worker_peak_rss_after_warmup_mb": [round(v, 1) for v in base.values()],
                "blocks_equal_in_memory": ok,
                "checksum": checksum,
                "zarr": args.zarr is not None,
                "malloc_trim_threshold_65536": args.malloc_trim,
                "load_average_1min_at_end": round(os.getloadavg()[0], 2),
            }
            rows_out.append(row)
            print(json.dumps(row), flush=True)
        finally:
            client.close()
            cluster.close()
    if args.json:
        Path(args.json).write_text(json.dumps(rows_out, indent=2) + "\n")
    if not args.no_write:
        from _results import machine, write_section

        lines = [
            f"## Dask: invariant features of generated {ACTION} codes",
            "",
            f"`benchmarks/bench_dask.py` ({machine()}); LocalCluster, worker processes with one "
            "thread each; peak RSS per worker measured in the worker; 1-minute load average "
            f"at the end {', '.join(str(r['load_average_1min_at_end']) for r in rows_out)}. "
            f"Reproduce: `python benchmarks/bench_dask.py --n {args.n} --rows {args.rows}"
            f"{' --malloc-trim' if args.malloc_trim else ''}`.",
            "",
            "| method | codes | workers | wall (s) | generating alone (s) | codes/s "
            "| CPU s per 10⁶ codes, dask / in memory | peak RSS per worker (MB) "
            "| equal to in-memory |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for r in rows_out:
            lines.append(
                f"| {r['method']} | {r['n']:,} | {r['workers']} | {r['wall_s']} | "
                f"{r['generate_only_s']} | "
                f"{r['codes_per_s']:,} | {r['map_cpu_s_per_million_dask']} / "
                f"{r['map_cpu_s_per_million_in_memory']} | "
                f"{', '.join(str(v) for v in r['worker_peak_rss_mb'])} | "
                f"{r['blocks_equal_in_memory']} |"
            )
        write_section("dask", "\n".join(lines))
    return 0 if all(r["blocks_equal_in_memory"] for r in rows_out) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
