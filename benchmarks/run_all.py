"""Run every benchmark and rewrite benchmarks/RESULTS.md (``make bench``; ``--quick`` for a smoke run)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = [
    "bench_quotient.py",
    "bench_invariants.py",
    "bench_so3.py",
    "bench_product.py",
    "bench_knn.py",
    "bench_peers.py",
]


def main(argv: list[str]) -> int:
    for script in SCRIPTS:
        print(f"== {script}", flush=True)
        code = subprocess.call([sys.executable, str(HERE / script), *argv])
        if code:
            print(f"{script} failed with exit code {code}", file=sys.stderr)
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
