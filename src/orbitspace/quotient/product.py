"""Certified alignment under S_n × G: ``max_{p, g} Σ_i <x_i, ρ(g) y_p(i)>``.

- G finite: every g, one linear assignment each (exact).
- G continuous (SO(2), SO(3), O(3), ...): branch and bound over cells of G (Li & Hartley,
  ICCV 2007).  On a cell with centre c and angular radius r every entry
  ``w_ij(g) = <x_i, ρ(g) y_j>`` is at most ``Σ_copies |x_i| |y_j| cos(max(φ − l r, 0))``, φ the
  angle between the copies of ``x_i`` and ``ρ(c) y_j`` (a copy of degree l moves by at most
  ``l r`` on its sphere), so one assignment on those entry bounds bounds the cell.  Where the
  matching is settled, Murty's partition bounds every other matching, and the one left is
  solved exactly over G.
  Incumbents come from alternating assignment and exact alignment over G (the factor's own
  certified solver on the stacked node set, :meth:`Action.repeated`).  The certificate (gap) is
  the largest bound of any cell left minus the best value found.

The cells of each continuous factor (how to cover it, split a cell, its centre and radius) are
registered per factor type in :mod:`._product_cells`.
"""

from __future__ import annotations

import numpy as np

from orbitspace.groups import Product, ProductElement
from orbitspace.quotient._product_cells import find_cells
from orbitspace.quotient._registry import register_exhaustive, register_lower_bound, register_solver
from orbitspace.quotient.assignment import assign_weights

__all__ = ["product_pairs", "product_exhaustive", "DEFAULT_TOL"]

#: default certificate: stop when the gap is below DEFAULT_TOL · Σ_i |x_i| |y_i| (relative)
DEFAULT_TOL = 1e-9
#: at most this many cells are bounded per pair (the gap then says how far from certified)
MAX_CELLS = 400_000


def _type_mask(action: Product) -> np.ndarray | None:
    t = action.node_types
    return None if t is None else (t[:, None] != t[None, :])


def _assign(W: np.ndarray, forbid: np.ndarray | None):
    if forbid is not None:
        W = np.where(forbid, -np.inf, W)
    return assign_weights(W)


def _copy_layout(action: Product) -> tuple[list[slice], np.ndarray, list[slice]]:
    """The non-constant copies of the factor (their slices and degrees) and the rest.

    Degree-0 copies (invariant scalars, and the pseudoscalars of O(3), fixed on each cell of
    one determinant) contribute exactly; every other copy gets the angular bound.
    """
    moving, degrees, fixed = [], [], []
    for c in action.factor.components():
        for sl in c.copy_slices():
            if c.irrep.trivial or not c.irrep.degree:
                fixed.append(sl)
            else:
                moving.append(sl)
                degrees.append(float(c.irrep.degree))
    return moving, np.asarray(degrees), fixed


def _finite(X, Y, rows, cols, action: Product):
    G = action.factor
    elems = G.elements()
    forbid = _type_mask(action)
    best = np.full(rows.shape[0], -np.inf)
    best_p = np.zeros((rows.shape[0], action.n_nodes), dtype=np.int64)
    best_g = np.zeros((rows.shape[0],) + elems.shape[1:], dtype=elems.dtype)
    for g in elems:
        Yg = np.asarray(G.act(g, Y))  # (n_y, n, d)
        W = np.einsum("qid,qjd->qij", X[rows], Yg[cols])
        v, p = _assign(W, forbid)
        better = v > best
        best = np.where(better, v, best)
        best_p[better] = p[better]
        best_g[better] = g
    return best, ProductElement(best_p, best_g, len(G.element_shape)), np.zeros_like(best)


def _row_classes(Z: np.ndarray) -> np.ndarray:
    """A label per row; identical rows share one (matchings that only swap them are equal)."""
    _, labels = np.unique(Z, axis=0, return_inverse=True)
    return labels.reshape(-1)


def _second_best(Wb, p, forbid, xclass, yclass) -> np.ndarray:
    """Upper bounds, per cell, on every matching not equivalent to ``p`` (Murty's partition).

    ``Wb`` (m, n, n) are the cells' entry bounds and ``p`` (m, n) their best matchings.  The
    matchings whose matched rows of y differ from p's somewhere are the union over i of those
    that avoid y's class of ``y_p(i)`` at row i; likewise with the rows of x for each column.
    Both unions contain every matching with another value function, so the smaller of their
    maxima bounds them all.
    """
    m, n, _ = Wb.shape
    rows = np.arange(n)
    # stack[c, i]: cell c with row i kept off the class of y_p(i)
    off = yclass[None, None, :] == yclass[p][:, :, None]  # (m, i, j)
    stack = np.repeat(Wb[:, None], n, axis=1)  # (m, i, n, n)
    stack[:, rows, rows, :] = np.where(off, -np.inf, stack[:, rows, rows, :])
    bound = _assign(stack.reshape(m * n, n, n), forbid)[0].reshape(m, n).max(axis=1)
    if len(np.unique(xclass)) < n:  # duplicate rows of x: the column-wise partition too
        inv = np.argsort(p, axis=1)
        offc = xclass[None, None, :] == xclass[inv][:, :, None]  # (m, j, i)
        stack = np.repeat(Wb[:, None], n, axis=1)  # stack[c, j]: column j off x's class
        c_, j_, i_ = np.arange(m)[:, None, None], rows[None, :, None], rows[None, None, :]
        stack[c_, j_, i_, j_] = np.where(offc, -np.inf, stack[c_, j_, i_, j_])  # (m, j, i)
        other = _assign(stack.reshape(m * n, n, n), forbid)[0].reshape(m, n).max(axis=1)
        bound = np.minimum(bound, other)
    return bound


class _Search:
    """One pair's branch and bound: the incumbent, the exact optimum over G per matching, and
    the largest bound of any cell set aside (the certificate)."""

    def __init__(self, x, y, action: Product, tol: float):
        self.x, self.y, self.action = x, y, action
        self.G = action.factor
        self.n = action.n_nodes
        self.forbid = _type_mask(action)
        self.stacked = self.G.repeated(self.n)
        self.xclass, self.yclass = _row_classes(x), _row_classes(y)
        self.moving, self.degrees, self.fixed = _copy_layout(action)
        self.xn = [np.linalg.norm(x[:, sl], axis=1) for sl in self.moving]  # (n,) per copy
        self.yn = [np.linalg.norm(y[:, sl], axis=1) for sl in self.moving]
        scale = float(np.sqrt((x**2).sum() * (y**2).sum())) + 1e-300
        self.eps = tol * scale
        self.best, self.best_p, self.best_g = -np.inf, np.arange(self.n), self.G.identity()
        self.set_aside = -np.inf  # max bound over the cells no longer searched
        self.exact: dict[bytes, float] = {}

    def weights(self, g) -> np.ndarray:
        """``W[m, i, j] = <x_i, ρ(g_m) y_j>`` for a stack of elements g."""
        Yg = np.asarray(self.G.act(np.asarray(g)[:, None], self.y[None]))  # (m, n, d)
        return np.einsum("id,mjd->mij", self.x, Yg)

    def bounds(self, g, r) -> tuple[np.ndarray, np.ndarray]:
        """Entry values at the cell centres g and their upper bounds over the cells.

        A copy of degree l moves by an angle at most ``l r`` on its sphere when the element
        moves by at most r (``‖ρ_l(h) − I‖ = 2 sin(l θ / 2)`` for a rotation by θ), so with
        φ the angle between ``x_i`` and ``ρ(c) y_j`` (that copy),
        ``<x_i, ρ(g) y_j> <= |x_i| |y_j| cos(max(φ − l r, 0))`` — Li & Hartley's bound, per copy.
        """
        Yg = np.asarray(self.G.act(np.asarray(g)[:, None], self.y[None]))  # (m, n, d)
        W = np.zeros((Yg.shape[0], self.n, self.n))
        for sl in self.fixed:
            W += np.einsum("id,mjd->mij", self.x[:, sl], Yg[:, :, sl])
        Wb = W.copy()
        for k, sl in enumerate(self.moving):
            inner = np.einsum("id,mjd->mij", self.x[:, sl], Yg[:, :, sl])
            W += inner
            scale = self.xn[k][:, None] * self.yn[k][None, :]  # (n, n)
            cos = np.divide(inner, scale, out=np.ones_like(inner), where=scale > 0)
            phi = np.arccos(np.clip(cos, -1.0, 1.0))
            Wb += scale * np.cos(np.maximum(phi - self.degrees[k] * r[:, None, None], 0.0))
        return W, Wb

    def exact_for(self, p: np.ndarray) -> float:
        """``max_g <x, ρ(g) y_p>`` by the factor's certified solver, plus its gap (an upper
        bound on every cell whose only candidate matching is p); the incumbent is updated, then
        improved by alternating matchings and alignments."""
        from orbitspace.quotient.solvers import solve_pairs

        key = p.tobytes()
        if key in self.exact:
            return self.exact[key]
        n, d = self.x.shape
        zero = np.zeros(1, dtype=np.int64)
        for _ in range(8):
            key = p.tobytes()
            if key not in self.exact:
                yp = self.y[p].reshape(1, n * d)
                sol = solve_pairs(self.x.reshape(1, n * d), yp, zero, zero, self.stacked)
                g = sol.g[0]
                self.exact[key] = float(sol.value[0] + sol.gap[0])
                if sol.value[0] > self.best:
                    self.best, self.best_p, self.best_g = float(sol.value[0]), p, g
            v, pp = _assign(self.weights(np.asarray(self.best_g)[None]), self.forbid)
            if (
                v[0] <= self.best + 1e-15 * max(1.0, abs(self.best))
                or pp[0].tobytes() in self.exact
            ):
                break
            p = pp[0]
        return self.exact[p.tobytes()] if p.tobytes() in self.exact else self.best


def _bnb_one(x, y, action: Product, cells, tol: float, max_cells: int):
    S = _Search(x, y, action, tol)
    state = cells.initial()
    n_cells = 0
    # incumbent: the best covering centres, polished
    v0, p0 = _assign(S.weights(cells.centres(state)), S.forbid)
    for k in np.argsort(-v0)[:3]:
        S.exact_for(p0[k])
    while True:
        centres = cells.centres(state)
        m = len(centres)
        if m == 0:
            break
        n_cells += m
        W, Wb = S.bounds(centres, cells.radius(state))
        ub, pu = _assign(Wb, S.forbid)
        vc, pc = _assign(W, S.forbid)
        top = int(np.argmax(vc))
        if vc[top] > S.best + S.eps:
            S.exact_for(pc[top])
        keep = ub > S.best + S.eps
        if (~keep).any():
            S.set_aside = max(S.set_aside, float(ub[~keep].max()))
        # cells whose matching is settled and where Murty's partition bounds every other
        # matching below the incumbent: their bound is the exact optimum over G of that one
        kept = np.nonzero(keep & np.all(pu == pc, axis=1))[0]
        chunk = max(1, 2**18 // S.n**3)
        for s0 in range(0, kept.size, chunk):
            ks = kept[s0 : s0 + chunk]
            u2 = _second_best(Wb[ks], pu[ks], S.forbid, S.xclass, S.yclass)
            for k, u in zip(ks[u2 <= S.best + S.eps], u2[u2 <= S.best + S.eps]):
                bound = max(float(u), S.exact_for(pu[k]))
                if bound <= S.best + S.eps:
                    keep[k] = False
                    S.set_aside = max(S.set_aside, bound)
        if not keep.any():
            break
        if n_cells >= max_cells:
            S.set_aside = max(S.set_aside, float(ub[keep].max()))
            break
        state = cells.split(cells.select(state, keep))
    gap = max(S.set_aside - S.best, 0.0)
    return S.best, S.best_p, S.best_g, gap, n_cells


@register_solver(Product, name="branch and bound with assignment bounds", certified=True)
def product_pairs(X, Y, rows, cols, action: Product, *, tol: float = DEFAULT_TOL, max_cells=None):
    """``max_{p,g} <X[rows[q]], (p, g)·Y[cols[q]]>`` for each pair; ``(value, g, gap)``.

    Parameters
    ----------
    X : array of shape (n_x, n_nodes, dim); Y : array of shape (n_y, n_nodes, dim)
    rows, cols : int arrays of shape (n_pairs,)
    action : Product
    tol : the gap at which a pair is certified, relative to ``‖x‖ ‖y‖``
    max_cells : cells bounded per pair at most (default :data:`MAX_CELLS`)

    Returns
    -------
    value : (n_pairs,); g : ProductElement of batch (n_pairs,); gap : (n_pairs,)
    """
    if action.factor.is_finite:
        return _finite(X, Y, rows, cols, action)
    cells = find_cells(action.factor)
    q = rows.shape[0]
    value, gap = np.empty(q), np.empty(q)
    perms = np.empty((q, action.n_nodes), dtype=np.int64)
    gs = np.empty((q,) + action.factor.element_shape)
    for k in range(q):
        v, p, g, gp, _ = _bnb_one(
            X[rows[k]], Y[cols[k]], action, cells, tol, max_cells or MAX_CELLS
        )
        value[k], perms[k], gs[k], gap[k] = v, p, g, gp
    return value, ProductElement(perms, gs, len(action.factor.element_shape)), gap


@register_exhaustive(Product)
def product_exhaustive(X, Y, action: Product):
    """Every permutation (n_nodes <= 7) × the factor's own exhaustive oracle on the stacked
    node set: slow and obviously correct."""
    from orbitspace.quotient.exhaustive import max_inner_product_exhaustive

    n, d = action.n_nodes, action.factor.dim
    if n > 7:
        raise ValueError(f"exhaustive search over {action!r} is limited to n_nodes <= 7")
    perms = action.permutation.elements()
    stacked = action.factor.repeated(n)
    batch = np.broadcast_shapes(X.shape[:-2], Y.shape[:-2])
    Xb = np.broadcast_to(X, batch + X.shape[-2:]).reshape(batch + (n * d,))
    Yb = np.broadcast_to(Y, batch + Y.shape[-2:])
    k = len(action.factor.element_shape)
    # every permutation at once, as one more batch axis of the factor's oracle
    Yp = Yb[..., perms, :].reshape(batch + (len(perms), n * d))
    v, g = max_inner_product_exhaustive(Xb[..., None, :], Yp, stacked)  # (..., n_perms)
    g = np.asarray(g)
    best = v.argmax(-1)
    pick = best[..., None]
    value = np.take_along_axis(v, pick, -1)[..., 0]
    gsel = np.take_along_axis(g, pick.reshape(pick.shape + (1,) * k), axis=len(batch))
    return value, ProductElement(perms[best], gsel.reshape(batch + g.shape[g.ndim - k :]), k)


@register_lower_bound(Product)
def _sorted_node_invariants(action: Product, Z: np.ndarray) -> np.ndarray:
    """Per-node block norms of the factor, each sorted over the nodes (within each type).

    1-Lipschitz: for any (p, g), ``‖x_i − ρ(g) y_p(i)‖ >= ‖φ(x_i) − φ(y_p(i))‖`` node by node
    (block norms are 1-Lipschitz for G), and sorting each feature over the nodes minimises the
    matched distance over all matchings (rearrangement), a superset of those p allows.
    """
    feats = _node_norm_features(action, Z)  # (N, n, F)
    classes = action.permutation.type_classes()
    parts = [np.sort(feats[:, c, :], axis=1).reshape(Z.shape[0], -1) for c in classes]
    return np.concatenate(parts, axis=1)


def _node_norm_features(action: Product, Z: np.ndarray) -> np.ndarray:
    if not action.factor.has_components():
        return np.sqrt((Z**2).sum(-1, keepdims=True))  # the norm of each node: always invariant
    comps = action.factor.components()
    cols = []
    for c in comps:
        for s in c.copy_slices():
            block = Z[..., s]
            cols.append(
                block[..., 0]
                if c.irrep.trivial and c.irrep.dim == 1
                else np.sqrt((block**2).sum(-1))
            )
    return np.stack(cols, axis=-1) if cols else np.zeros(Z.shape[:-1] + (0,))
