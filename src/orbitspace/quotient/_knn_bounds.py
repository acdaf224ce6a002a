"""Lower bounds on the quotient distance for whole blocks of pairs, by matrix products.

:func:`pair_bound` returns, for an action, a :class:`PairBound`: ``prepare(Z)`` turns codes
into a few arrays, ``lower(Pq, Ps)`` gives the ``(b, s)`` matrix of lower bounds of
``d([q], [s])`` (rounded *down*).  Two kinds:

- **component relaxation** (actions given as a sum of irreps, read from ``components()``):
  the group element is freed per isotypic piece, so
  ``d² >= Σ_pieces min_{h_piece} ‖x_piece − h_piece y_piece‖²`` with each ``h_piece`` in a
  larger group where the minimum has a closed form:

  * trivial scalars (and the zero frequency of a regular field): no freedom, ``‖a − b‖²``;
  * a 1-dimensional non-trivial irrep (acting by ±1), and the Nyquist frequency of an even
    regular field: ``‖a‖² + ‖b‖² − 2|<a, b>|``;
  * copies of a 2-dimensional irrep of SO(2) or C_N (one rotation for all copies), and one
    Fourier frequency of the regular fields of C_N (one phase for all fields): written as
    complex vectors, ``‖a‖² + ‖b‖² − 2|<a, b>_C|`` (a free U(1) phase);
  * copies of a 2-dimensional irrep of any other group (rotations and reflections):
    the same with the reflection too, ``‖a‖² + ‖b‖² − 2 max(|<a, b>_C|, |<a, conj b>_C|)``;
  * anything else: the norm of each copy (``(‖a_j‖ − ‖b_j‖)²`` summed).

  Each piece's relaxed minimum is at most its share of the true minimum, so the sum bounds
  ``d²``.  It keeps the relative phases of the copies of one frequency, which the block norms
  (:mod:`.pruning`) lose; with one non-trivial frequency it is ``d`` itself.
- **embedding**: ``‖φ(q) − φ(s)‖`` for the registered 1-Lipschitz features
  (:func:`orbitspace.quotient.pruning.lower_bound_features`), e.g. channel sorting for node
  permutations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from numba import njit

from orbitspace.groups import Action
from orbitspace.quotient.pruning import lower_bound_features

__all__ = ["PairBound", "pair_bound"]

_PLANAR = re.compile(r"SO\(2\)|C_\d+")
# relative rounding margin: the expansions lose a few eps·(‖a‖² + ‖b‖²)
_SLACK = 1e-11


@dataclass(frozen=True)
class _Pieces:
    """How to cut a flat code into pieces (index arrays into the last axis)."""

    exact: np.ndarray  # coordinates compared directly
    norm_groups: tuple  # (c, m) index arrays: per-copy norms compared
    signs: tuple  # index arrays of 1-D pieces acting by ±1
    rot: tuple  # (re, im) index arrays of 2-D pieces with a free U(1) phase
    refl: tuple  # (re, im) of 2-D pieces with rotations and reflections
    fourier: tuple  # (start (R,), N): regular C_N fields


class PairBound:
    """Block lower bounds of the quotient distance (see the module docstring).

    ``prepare`` packs each code into one row: the directly compared coordinates first, then
    each piece's real parts and imaginary parts; ``lower`` computes the bounds in column tiles
    (a few matrix products each, combined in one compiled pass).

    Parameters
    ----------
    action : Action
    kind : {"relaxation", "embedding"}
    """

    def __init__(self, action: Action, kind: str, pieces: _Pieces | None = None):
        self.action = action
        self.kind = kind
        self._pieces = pieces

    def prepare(self, Z: np.ndarray) -> tuple[np.ndarray, np.ndarray, tuple, tuple]:
        """``(sq, packed, pieces, refl)`` for the codes ``Z`` of shape (n, ...event).

        ``sq`` (n,) are the squared norms, ``packed`` (n, W) the packed rows, ``pieces`` and
        ``refl`` the ``(start, m, has_imag)`` column ranges of each relaxed piece.
        """
        if self.kind == "embedding":
            F = np.ascontiguousarray(lower_bound_features(self.action, Z), dtype=float)
            return (F**2).sum(1), F, (), ()
        p = self._pieces
        n = Z.shape[0]
        Z = Z.reshape(n, -1)
        cols = [Z[:, p.exact]]
        for idx in p.norm_groups:  # (c, m): per-copy norms
            cols.append(np.sqrt((Z[:, idx] ** 2).sum(-1)))
        parts = []  # (re, im or None), one free phase (or sign) each
        parts += [(Z[:, idx], None) for idx in p.signs]
        parts += [(Z[:, re_], Z[:, im_]) for re_, im_ in p.rot]
        for start, N in p.fourier:
            c = np.fft.rfft(Z[:, start[:, None] + np.arange(N)], axis=-1)  # (n, R, N//2+1)
            c = c * np.sqrt(_parseval_weights(N))
            cols.append(c[:, :, 0].real)
            even = N % 2 == 0
            for k in range(1, N // 2 + (0 if even else 1)):
                parts.append((c[:, :, k].real, c[:, :, k].imag))
            if even:
                parts.append((c[:, :, N // 2].real, None))
        refl = [(Z[:, re_], Z[:, im_]) for re_, im_ in p.refl]
        width = sum(x.shape[1] for x in cols)
        pieces, refl_pieces = [], []
        for group, out in ((parts, pieces), (refl, refl_pieces)):
            for re_, im_ in group:
                m = re_.shape[1]
                out.append((width, m, im_ is not None))
                cols += [re_] if im_ is None else [re_, im_]
                width += m * (1 if im_ is None else 2)
        packed = np.ascontiguousarray(np.concatenate(cols, axis=1), dtype=float)
        return (packed**2).sum(1), packed, tuple(pieces), tuple(refl_pieces)

    def lower(self, Pq: tuple, Ps: tuple, cap: np.ndarray | None = None) -> np.ndarray:
        """The ``(b, s)`` lower bounds of ``d`` between prepared codes (rounded down).

        With ``cap`` (shape (b,)), entries above ``cap[i]`` are returned as ``inf``.
        """
        sq_q, Kq, pieces, refl = Pq
        sq_s, Ks = Ps[0], Ps[1]
        b, s = Kq.shape[0], Ks.shape[0]
        n_exact = pieces[0][0] if pieces else (refl[0][0] if refl else Kq.shape[1])
        cap = np.full(b, np.inf) if cap is None else np.asarray(cap, dtype=float)
        # the query side of each piece: [Re; Im] rows of <a, b>_C = conj(a)·b
        left = []
        for start, m, cplx in pieces:
            a_re = Kq[:, start : start + m]
            if cplx:
                a_im = Kq[:, start + m : start + 2 * m]
                left.append(np.concatenate([np.hstack([a_re, a_im]), np.hstack([-a_im, a_re])]))
            else:
                left.append(a_re)
        out = np.empty((b, s))
        tile = max(1, 2**15 // max(b, 1))  # the products of one tile stay in cache
        R = np.empty((len(pieces), 2 * b, min(tile, s)))
        for j, (_, _, cplx) in enumerate(pieces):
            if not cplx:
                R[j, b:] = 0.0  # a sign piece has no imaginary part
        Eq = Kq[:, :n_exact]
        for t0 in range(0, s, tile):
            t1 = min(s, t0 + tile)
            w = t1 - t0
            Kt = Ks[t0:t1]
            inner = Eq @ Kt[:, :n_exact].T
            for j, (start, m, cplx) in enumerate(pieces):
                right = Kt[:, start : start + (2 * m if cplx else m)]
                np.matmul(left[j], right.T, out=R[j, : left[j].shape[0], :w])
            for start, m, _ in refl:
                inner += _reflection_inner(
                    Kq[:, start : start + 2 * m], Kt[:, start : start + 2 * m]
                )
            out[:, t0:t1] = _combine(sq_q, sq_s[t0:t1], inner, R[:, :, :w], cap, _SLACK)
        return out


def _reflection_inner(A, B):
    """``max(|<a, b>_C|, |<a, conj b>_C|)`` for rows of packed ``[Re, Im]`` blocks."""
    m = A.shape[1] // 2
    ar, ai, br, bi = A[:, :m], A[:, m:], B[:, :m], B[:, m:]
    rot = np.hypot(ar @ br.T + ai @ bi.T, ar @ bi.T - ai @ br.T)
    ref = np.hypot(ar @ br.T - ai @ bi.T, -(ar @ bi.T) - ai @ br.T)
    return np.maximum(rot, ref)


@njit(cache=True, nogil=True)
def _combine(sq_q, sq_s, inner, R, cap, slack):  # pragma: no cover - compiled
    """``sqrt(max(‖q‖² + ‖s‖² − 2 (inner + Σ_p |R_p|) − margin, 0))``, inf above ``cap``.

    ``R[p, i, j]`` and ``R[p, b + i, j]`` are the real and imaginary parts of piece p.
    """
    b, s = inner.shape
    n_rot = R.shape[0]
    out = np.empty((b, s))
    acc = np.empty(s)
    for i in range(b):
        for j in range(s):  # contiguous inner loops (vectorised square roots)
            acc[j] = inner[i, j]
        for p in range(n_rot):
            for j in range(s):
                x = R[p, i, j]
                y = R[p, b + i, j]
                acc[j] += np.sqrt(x * x + y * y)
        ci = cap[i]
        qi = sq_q[i]
        for j in range(s):
            total = qi + sq_s[j]
            v = total - 2.0 * acc[j] - (slack * total + 1e-300)
            v = np.sqrt(max(v, 0.0))
            out[i, j] = v if v <= ci else np.inf
    return out


def _parseval_weights(N: int) -> np.ndarray:
    """``‖z‖² = Σ_k w_k |rfft(z)_k|²`` for real z of length N."""
    w = np.full(N // 2 + 1, 2.0 / N)
    w[0] = 1.0 / N
    if N % 2 == 0:
        w[-1] = 1.0 / N
    return w


def pair_bound(action: Action) -> PairBound:
    """The tightest block lower bound available for ``action`` (see the module docstring).

    Examples
    --------
    >>> import numpy as np
    >>> from orbitspace.groups import SO2
    >>> from orbitspace.quotient import quotient_distance
    >>> a = SO2("3x1")  # one frequency: the relaxation is the quotient distance itself
    >>> X = np.random.default_rng(0).normal(size=(2, 6))
    >>> pb = pair_bound(a)
    >>> P = pb.prepare(X)
    >>> bool(np.isclose(pb.lower(P, P)[0, 1], quotient_distance(X[0], X[1], action=a)))
    True
    """
    if action.event_ndim != 1 or not action.has_components():
        return PairBound(action, "embedding")
    exact, norm_groups, signs, rot, refl, fourier = [], [], [], [], [], []
    for comp in action.components():
        ir, s, mult = comp.irrep, comp.start, comp.multiplicity
        span = np.arange(s, s + ir.dim * mult)
        if ir.trivial:
            exact.append(span)
        elif ir.kind == "regular" and _PLANAR.fullmatch(ir.group) and ir.group != "SO(2)":
            fourier.append((s + ir.dim * np.arange(mult), ir.dim))
        elif ir.kind == "irrep" and ir.dim == 1:
            signs.append(span)
        elif ir.kind == "irrep" and ir.dim == 2:
            blocks = span.reshape(mult, 2)
            (rot if _PLANAR.fullmatch(ir.group) else refl).append((blocks[:, 0], blocks[:, 1]))
        else:
            norm_groups.append(span.reshape(mult, ir.dim))
    pieces = _Pieces(
        np.concatenate(exact) if exact else np.zeros(0, dtype=np.int64),
        tuple(norm_groups),
        tuple(signs),
        tuple(rot),
        tuple(refl),
        tuple(fourier),
    )
    return PairBound(action, "relaxation", pieces)
