"""A cell index over 1-Lipschitz invariant features, for exact quotient neighbour search.

The rows of the features ``F`` (of the codes searched) are grouped into cells by a few Lloyd
iterations of k-means on a sample; each cell keeps its centre ``μ`` and radius
``r = max ‖F_y − μ‖`` over its members.  For a query q and a bound u, a cell can hold a point
with ``‖F_q − F_y‖ <= u`` only if ``‖F_q − μ‖ − r <= u`` (triangle inequality), and since
``‖F_q − F_y‖ <= d([q], [y])`` every point within quotient distance u of q lies in such a cell.
The clustering only affects speed, never the result.
"""

from __future__ import annotations

import numpy as np

__all__ = ["CellIndex"]


def _sq_dists(A: np.ndarray, B: np.ndarray, sa: np.ndarray, sb: np.ndarray) -> np.ndarray:
    out = sa[:, None] + sb[None, :] - 2.0 * (A @ B.T)
    np.maximum(out, 0.0, out=out)
    return out


def _nearest(A, B, sb, chunk=2**22):
    """Index of the nearest row of B for every row of A (blocked; no full matrix)."""
    out = np.empty(A.shape[0], dtype=np.int64)
    rows = max(1, chunk // max(B.shape[0], 1))
    for s in range(0, A.shape[0], rows):
        a = A[s : s + rows]
        out[s : s + rows] = np.argmin(sb[None, :] - 2.0 * (a @ B.T), axis=1)
    return out


class CellIndex:
    """Cells over the rows of ``F`` (shape (m, p)).

    Parameters
    ----------
    F : array of shape (m, p)
    n_cells : number of cells (None: about ``2 √m``)
    random_state : seed of the k-means sample and start

    Attributes
    ----------
    centers : array of shape (C, p)
    radius : array of shape (C,)
    members : list of C int arrays (rows of F in each cell, ascending)
    label : int array of shape (m,), the cell of each row
    """

    def __init__(self, F: np.ndarray, n_cells: int | None = None, random_state: int = 0):
        m = F.shape[0]
        if n_cells is None:
            n_cells = int(2 * np.sqrt(m)) if m >= 200 else 1
        n_cells = max(1, min(int(n_cells), m))
        rng = np.random.default_rng(random_state)
        if n_cells == 1:
            centers = F.mean(0, keepdims=True)
            label = np.zeros(m, dtype=np.int64)
        else:
            sample = F[rng.choice(m, size=min(m, 32 * n_cells), replace=False)]
            centers = sample[rng.choice(sample.shape[0], size=n_cells, replace=False)].copy()
            for _ in range(6):  # Lloyd on the sample
                lab = _nearest(sample, centers, (centers**2).sum(1))
                sums = np.zeros_like(centers)
                np.add.at(sums, lab, sample)
                count = np.bincount(lab, minlength=n_cells)
                keep = count > 0
                centers[keep] = sums[keep] / count[keep, None]
            label = _nearest(F, centers, (centers**2).sum(1))
        order = np.argsort(label, kind="stable")
        bounds = np.searchsorted(label[order], np.arange(n_cells + 1))
        members = [order[bounds[c] : bounds[c + 1]] for c in range(n_cells)]
        keep = [c for c in range(n_cells) if members[c].size]
        relabel = np.full(n_cells, -1, dtype=np.int64)
        relabel[keep] = np.arange(len(keep))
        self.members = [members[c] for c in keep]
        self.label = relabel[label]
        self.centers = np.ascontiguousarray(centers[keep])
        # radii computed from differences (not the expansion), then padded for rounding
        self.radius = np.array(
            [
                np.sqrt(((F[mem] - self.centers[c]) ** 2).sum(1).max())
                for c, mem in enumerate(self.members)
            ]
        )
        self.radius = self.radius * (1 + 1e-9) + 1e-12
        self.sizes = np.array([mem.size for mem in self.members], dtype=np.int64)
        self._sq_centers = (self.centers**2).sum(1)

    @property
    def n_cells(self) -> int:
        return len(self.members)

    def assign(self, Fq: np.ndarray) -> np.ndarray:
        """The cell of each query row (nearest centre)."""
        return _nearest(Fq, self.centers, self._sq_centers)

    def cell_lower(self, Fq: np.ndarray) -> np.ndarray:
        """``(b, C)`` lower bounds of ``‖F_q − F_y‖`` over the members of each cell."""
        sq = _sq_dists(Fq, self.centers, (Fq**2).sum(1), self._sq_centers)
        slack = 1e-12 * ((Fq**2).sum(1)[:, None] + self._sq_centers[None, :]) + 1e-300
        return np.sqrt(np.maximum(sq - slack, 0.0)) - self.radius[None, :]

    def nearby(self, Fq: np.ndarray, count: int) -> np.ndarray:
        """Rows of the cells nearest to the mean of ``Fq``, at least ``count`` of them."""
        c = Fq.mean(0, keepdims=True)
        d = _sq_dists(c, self.centers, (c**2).sum(1), self._sq_centers)[0]
        order = np.argsort(d, kind="stable")
        need = np.searchsorted(np.cumsum(self.sizes[order]), count) + 1
        return np.sort(np.concatenate([self.members[j] for j in order[:need]]))

    def within(self, lower: np.ndarray, bound: np.ndarray) -> np.ndarray:
        """Rows of every cell with ``lower[i, c] <= bound[i]`` for some query i, ascending."""
        cells = np.nonzero((lower <= bound[:, None]).any(0))[0]
        if cells.size == 0:
            return np.zeros(0, dtype=np.int64)
        return np.sort(np.concatenate([self.members[j] for j in cells]))
