"""``orbitspace demo quotient``: raw Euclidean vs quotient distances on generated latents.

For each kind of action, a latent ``x`` and a transformed copy ``ρ(g) x`` (plus noise) look far
apart to Euclidean tools; the quotient distance sees them as the same object and the alignment
recovers ``g``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

__all__ = ["add_arguments", "run", "run_demo", "format_element"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--noise", type=float, default=0.0, help="noise added to the copy")
    parser.add_argument(
        "--out", type=Path, default=None, help="also write metrics.json into this folder"
    )
    parser.add_argument("--quick", action="store_true", help="accepted for symmetry (it is quick)")


def format_element(action, g) -> str:
    """A group element in words, chosen by the action's traits (never its class).

    Examples
    --------
    >>> from orbitspace import SO2, Cyclic, Permutation
    >>> format_element(SO2("1x1"), 0.5), format_element(Cyclic(4, "1x1"), 3)
    ('θ = 0.500000 rad', 'g = 3')
    >>> format_element(Permutation(3), [2, 0, 1])
    'p = [2,0,1]'
    """
    if getattr(g, "perm", None) is not None:  # a product element (p, g)
        return f"p = {np.array2string(np.asarray(g.perm), separator=',')}, " + (
            "R = " + np.array2string(np.asarray(g.g).round(3), separator=",").replace("\n", "")
        )
    if action.element_shape:  # an array per element (a permutation, a matrix)
        return "p = " + np.array2string(np.asarray(g), separator=",")
    if not action.is_finite:  # one real parameter: an angle
        return f"θ = {float(g):.6f} rad"
    return f"g = {int(g)}"


def run(args: argparse.Namespace) -> int:
    """``orbitspace demo quotient``: the parsed arguments, passed on as keywords."""
    return run_demo(seed=int(args.seed), noise=float(args.noise), out=args.out)


def run_demo(*, seed: int = 0, noise: float = 0.0, out: Path | None = None) -> int:
    """Print raw vs quotient distances of a generated latent and a transformed copy."""
    import orbitspace as osp

    rng = np.random.default_rng(seed)
    cases = [
        (osp.SO2("4x0 + 8x1 + 4x2 + 2x3"), None),
        (osp.Cyclic(8, "4xregular + 2x1"), None),
        (osp.Permutation(9), 4),  # the channels per node: the size the action leaves free
        (osp.SO3("4x0e + 2x1o + 1x2e"), None),
        (osp.groups.Product(osp.Permutation(6), osp.SO3("1x1o")), None),
    ]
    rows = []
    print("orbitspace demo quotient: raw Euclidean vs quotient distance of x and g·x (+ noise)\n")
    for action, d in cases:
        shape = tuple(d if size is None else size for size in action.event_shape)
        x = rng.standard_normal(shape)
        g = action.sample(random_state=rng)
        y = np.asarray(action.act(g, x)) + noise * rng.standard_normal(shape)
        other = rng.standard_normal(shape)
        res = osp.align(x, y, action)
        print(f"{action!r}")
        print(f"  applied      {format_element(action, g)}")
        print(f"  recovered    {format_element(action, action.inverse(res.g))}")
        print(f"  ‖x − g·x‖    {np.linalg.norm(x - y):10.4f}   (raw Euclidean)")
        print(f"  d([x],[g·x]) {float(res.distance):10.4f}   (quotient)")
        d_other = float(osp.quotient_distance(x, other, action))
        print(
            f"  unrelated z: ‖x − z‖ = {np.linalg.norm(x - other):.4f}, "
            f"d([x],[z]) = {d_other:.4f}\n"
        )
        rows.append(
            {
                "action": repr(action),
                "raw": float(np.linalg.norm(x - y)),
                "quotient": float(res.distance),
                "certified": bool(res.certified),
                "certificate": float(np.max(np.asarray(res.certificate))),
                "unrelated_raw": float(np.linalg.norm(x - other)),
                "unrelated_quotient": d_other,
            }
        )
    if out is not None:
        from orbitspace._io import staged_dir

        with staged_dir(Path(out)) as tmp:
            settings = {"seed": seed, "noise": noise}
            text = json.dumps({"settings": settings, "cases": rows}, indent=2)
            (tmp / "metrics.json").write_text(text)
        print(f"wrote {Path(out) / 'metrics.json'}")
    return 0
