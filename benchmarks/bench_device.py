"""The torch paths on a device: invariant maps and quotient distances, forward and backward.

For each (action, operation): wall time of the numpy path (float64 numpy input), of the torch
path on the device (float32 tensors: forward only) and of forward + backward (a tensor that
requires grad, ``out.sum().backward()``), on the same latents in the same run.  The device is
``cuda`` when ``torch.cuda.is_available()``, else the CPU (``--device`` overrides).  The
alignment-based rows (``align_to_reference``, ``max_filter``, distances) solve ``g*`` in numpy on
the CPU in every case; only the evaluation of ``ρ(g*)`` and the backward run on the device.

    .venv/bin/python benchmarks/bench_device.py            # ~100,000 latents a row
    .venv/bin/python benchmarks/bench_device.py --quick    # a smoke run (< 1 min on 2 CPU cores)
    .venv/bin/python benchmarks/bench_device.py --write    # also the `device` section of RESULTS.md
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import orbitspace as osp  # noqa: E402
from orbitspace.groups import Product  # noqa: E402
from orbitspace.invariants import get_map  # noqa: E402
from orbitspace.quotient import quotient_distance  # noqa: E402


def _cases():
    """(label, action, what, options, n_scale): ``what`` is a map name or ``"distance"``; the
    alignment-based rows run on ``n_scale`` times fewer latents (their solver is the CPU's)."""
    so2 = osp.SO2("16x0 + 32x1 + 16x2 + 8x3")
    c8 = osp.Cyclic(8, "16xregular + 4x1")
    so3 = osp.SO3("8x0e + 8x1o + 4x2e")
    perm = osp.Permutation(9)
    prod = Product(osp.Permutation(9), osp.SO2("2x0 + 2x1"))
    small = osp.SO2("2x0 + 4x1 + 2x2")
    return [
        ("norms", so2, "norms", {}, 1),
        ("power_spectrum", so2, "power_spectrum", {}, 1),
        ("group_pool", c8, "group_pool", {}, 1),
        ("power_spectrum", so3, "power_spectrum", {}, 1),
        ("norms", so3, "norms", {}, 1),
        ("channel_sort", perm, "channel_sort", {}, 1),
        ("sorted_projections", perm, "sorted_projections", {}, 1),
        ("node_pool", perm, "node_pool", {"reduction": "mean"}, 1),
        ("node_sorted_invariants", prod, "node_sorted_invariants", {}, 1),
        ("align_to_reference", small, "align_to_reference", {"n_references": 1}, 10),
        ("align_to_reference", perm, "align_to_reference", {"n_references": 1}, 10),
        ("max_filter", c8, "max_filter", {"n_templates": 16}, 10),
        ("distance", small, "distance", {}, 10),
        ("distance", perm, "distance", {}, 10),
        ("distance", osp.SO3("1x0e + 2x1o"), "distance", {}, 10),
    ]


def _latents(action, n, rng, d=4):
    if action.node_axis is None:
        return rng.standard_normal((n, action.dim))
    return rng.standard_normal((n, action.n_nodes, action.feature_dim or d))


def _timed(fn, sync, repeat):
    best = np.inf
    for _ in range(repeat):
        sync()
        t0 = time.perf_counter()
        fn()
        sync()
        best = min(best, time.perf_counter() - t0)
    return best


def run(n: int, device: str, repeat: int) -> list[dict]:
    import torch

    dev = torch.device(device)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    rng = np.random.default_rng(0)
    rows = []
    for label, action, what, options, scale in _cases():
        m = max(8, n // scale)
        X = _latents(action, m, rng)
        if what == "distance":
            Y = _latents(action, m, rng)
            Yt = torch.as_tensor(Y, dtype=torch.float32, device=dev)

            def numpy_fn(X=X, Y=Y, action=action):
                return quotient_distance(X, Y, action)

            def torch_fn(Xt, Yt=Yt, action=action):
                return quotient_distance(Xt, Yt, action)

        else:
            imap = get_map(what)
            fit_opts, rest = imap.split_options(options)
            params = imap.fit(X, action, random_state=0, **fit_opts)

            def numpy_fn(X=X, imap=imap, action=action, params=params, rest=rest):
                return imap.transform(X, action, params, **rest)

            def torch_fn(Xt, imap=imap, action=action, params=params, rest=rest):
                return imap.transform(Xt, action, params, **rest)

        Xt = torch.as_tensor(X, dtype=torch.float32, device=dev)
        ref = np.asarray(numpy_fn())
        out = torch_fn(Xt)
        err = float(
            np.abs(out.detach().cpu().double().numpy() - ref).max() / max(1.0, np.abs(ref).max())
        )

        def backward(Xt=Xt, torch_fn=torch_fn):
            x = Xt.clone().requires_grad_(True)
            torch_fn(x).sum().backward()

        rows.append(
            {
                "op": label,
                "action": repr(action),
                "n": m,
                "numpy": _timed(numpy_fn, lambda: None, repeat),
                "torch": _timed(lambda Xt=Xt, torch_fn=torch_fn: torch_fn(Xt), sync, repeat),
                "backward": _timed(backward, sync, repeat),
                "rel_err32": err,
            }
        )
    return rows


def table(rows: list[dict], device: str) -> str:
    head = (
        f"torch paths on `{device}` (float32 tensors) against the numpy path (float64), same "
        "latents, best of the repeats; `fwd+bwd` is `transform(x).sum().backward()`.\n\n"
        "| operation | action | latents | numpy ms | torch ms | fwd+bwd ms | numpy / torch "
        "| max rel. diff (float32) |\n|---|---|---:|---:|---:|---:|---:|---:|\n"
    )
    lines = [
        f"| {r['op']} | `{r['action']}` | {r['n']:,} | {1e3 * r['numpy']:.1f} | "
        f"{1e3 * r['torch']:.1f} | {1e3 * r['backward']:.1f} | "
        f"{r['numpy'] / max(r['torch'], 1e-9):.1f}x | {r['rel_err32']:.1e} |"
        for r in rows
    ]
    return head + "\n".join(lines)


def main(argv=None) -> None:
    import torch

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a smoke run on 2,000 latents a row")
    ap.add_argument("--n", type=int, default=None, help="latents a row (default 100,000)")
    ap.add_argument("--device", default=None, help="cuda / cpu (default: cuda if available)")
    ap.add_argument("--write", action="store_true", help="write the `device` section")
    args = ap.parse_args(argv)
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    n = args.n or (2000 if args.quick else 100_000)
    rows = run(n, device, repeat=3)
    name = torch.cuda.get_device_name() if device.startswith("cuda") else "CPU"
    text = table(rows, f"{device} ({name})")
    print(text)
    if args.write:
        from _results import machine, write_section

        write_section("device", f"## torch on a device (bench_device.py)\n\n{machine()}\n\n{text}")


if __name__ == "__main__":
    main()
