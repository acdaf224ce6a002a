"""Index layout of a direct sum of planar irreps and regular blocks."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["BlockLayout", "build_layout"]


@dataclass(frozen=True)
class BlockLayout:
    """Where each kind of block sits in the vector.

    ``scalar_idx``/``scalar_freq``: 1-dimensional irreps (frequency 0, or N/2 for the sign irrep
    of C_N with N even).  ``pair_a``/``pair_b``/``pair_freq``: the two coordinates of each
    2-dimensional frequency-k block, acted on by ``[[cos kθ, -sin kθ], [sin kθ, cos kθ]]``.
    ``regular_start``: first index of each N-dimensional regular block.
    """

    dim: int
    scalar_idx: np.ndarray
    scalar_freq: np.ndarray
    pair_a: np.ndarray
    pair_b: np.ndarray
    pair_freq: np.ndarray
    regular_start: np.ndarray
    blocks: tuple[tuple[str, int, int, int], ...]


def build_layout(terms: tuple[tuple[int, int | str], ...], n: int | None) -> BlockLayout:
    """Lay out ``terms`` in order; ``n`` is the cyclic order (None for SO(2))."""
    scalar_idx, scalar_freq, pair_a, pair_b, pair_freq, regular = [], [], [], [], [], []
    blocks: list[tuple[str, int, int, int]] = []
    pos = 0
    for mult, kind in terms:
        for _ in range(mult):
            if kind == "regular":
                assert n is not None
                regular.append(pos)
                blocks.append(("regular", -1, pos, n))
                pos += n
            elif kind == 0 or (n is not None and 2 * kind == n):
                scalar_idx.append(pos)
                scalar_freq.append(kind)
                blocks.append(("irrep", int(kind), pos, 1))
                pos += 1
            else:
                pair_a.append(pos)
                pair_b.append(pos + 1)
                pair_freq.append(kind)
                blocks.append(("irrep", int(kind), pos, 2))
                pos += 2

    def arr(values: list) -> np.ndarray:
        return np.asarray(values, dtype=np.int64)

    return BlockLayout(
        dim=pos,
        scalar_idx=arr(scalar_idx),
        scalar_freq=arr(scalar_freq),
        pair_a=arr(pair_a),
        pair_b=arr(pair_b),
        pair_freq=arr(pair_freq),
        regular_start=arr(regular),
        blocks=tuple(blocks),
    )
