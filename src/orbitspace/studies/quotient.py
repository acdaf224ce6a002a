"""``orbitspace demo quotient``: raw Euclidean vs quotient distances on generated latents.

For each kind of action, a latent ``x`` and a transformed copy ``ρ(g) x`` (plus noise) look far
apart to Euclidean tools; the quotient distance sees them as the same object and the alignment
recovers ``g``.
"""

from __future__ import annotations

import argparse

import numpy as np

__all__ = ["add_arguments", "run", "run_demo", "format_element"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--noise", type=float, default=0.0, help="noise added to the copy")


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
    if action.element_shape:  # an array per element (a permutation, a matrix)
        return "p = " + np.array2string(np.asarray(g), separator=",")
    if not action.is_finite:  # one real parameter: an angle
        return f"θ = {float(g):.6f} rad"
    return f"g = {int(g)}"


def run(args: argparse.Namespace) -> int:
    """``orbitspace demo quotient``: the parsed arguments, passed on as keywords."""
    return run_demo(seed=int(args.seed), noise=float(args.noise))


def run_demo(*, seed: int = 0, noise: float = 0.0) -> int:
    """Print raw vs quotient distances of a generated latent and a transformed copy."""
    import orbitspace as osp

    rng = np.random.default_rng(seed)
    cases = [
        (osp.SO2("4x0 + 8x1 + 4x2 + 2x3"), None),
        (osp.Cyclic(8, "4xregular + 2x1"), None),
        (osp.Permutation(9), 4),  # the channels per node: the size the action leaves free
    ]
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
        print(
            f"  unrelated z: ‖x − z‖ = {np.linalg.norm(x - other):.4f}, "
            f"d([x],[z]) = {float(osp.quotient_distance(x, other, action)):.4f}\n"
        )
    return 0
