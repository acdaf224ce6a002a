"""Fast exact solvers for ``max_g <X, ρ(g) Y>`` (placeholder dispatch to the oracles until the
fast solvers land; every fast solver must agree with :mod:`.exhaustive`)."""

from __future__ import annotations

import numpy as np

from orbitspace.groups import Action
from orbitspace.quotient.exhaustive import max_inner_product_exhaustive

__all__ = ["max_inner_product_fast"]


def max_inner_product_fast(X: np.ndarray, Y: np.ndarray, action: Action):
    return max_inner_product_exhaustive(X, Y, action)
