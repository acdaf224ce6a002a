"""The SO(3) alignment objective as a polynomial on unit quaternions (numpy, built once per action).

For latents made of e3nn irreps, ``<x, ρ(R) y> = c_0 + Σ_{l>=1} <C_l, D^l(R)>`` with
``C_l = Σ_copies x_c y_cᵀ`` (``(2l+1, 2l+1)``) and ``c_0`` the inner product of the scalars.
The entries of ``D^l(q)`` (``q`` a unit quaternion of ``R``) are homogeneous polynomials of degree
``2l`` in ``q``; multiplied by ``|q|^{2(L−l)} = 1`` they are homogeneous of degree ``2L``
(``L`` the top degree).  Homogeneous polynomials of degree ``2L`` in 4 variables span exactly the
functions of degree ``<= L`` on SO(3) (``C(2L+3, 3) = Σ_{l<=L} (2l+1)²``), so

    p(q) = Σ_{l>=1} <C_l, D^l(q)> = Σ_α a_α q^α,    a = M · vec(C_1, ..., C_L),

with one fixed matrix ``M`` (``(n_monomials, n_entries)``) per set of degrees, found here by an
exact least-squares fit on random rotations (residual checked).  The compiled branch and bound
(:mod:`._so3_bnb`) then evaluates ``f``, its Lie-algebra gradient and Hessian from ``a`` alone.

Derivatives along ``R exp(t[u]×)`` (the quaternion ``q ⊗ (cos t/2, sin(t/2) u)``), with
``W = [q ⊗ (0, e_k)]_k`` (``4 × 3``, orthonormal) and Euler's identity ``∇p·q = 2L p``:
``g = ½ Wᵀ∇p`` and ``H = ¼ Wᵀ∇²p W − (L/2) p I``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from itertools import permutations, product

import numpy as np

from orbitspace.groups._wigner import wigner_D

__all__ = [
    "PolyStructure",
    "poly_structure",
    "monomial_exponents",
    "monomials",
    "quat_to_matrix",
    "matrix_to_quat",
    "rotvec_to_quat",
    "quat_mul",
    "cell_tables",
    "MAX_POLY_DEGREE",
]

#: the largest top degree L the certified solver handles (C(2L+3, 3) monomials: 165 for L=4;
#: beyond it the worst-case derivative bounds l^k ‖C_l‖_* make the search too slow to certify)
MAX_POLY_DEGREE = 4


def monomial_exponents(degree: int) -> np.ndarray:
    """Exponents ``(n, 4)`` of all monomials of total ``degree`` in ``(w, x, y, z)``."""
    out = [
        (a, b, c, degree - a - b - c)
        for a in range(degree, -1, -1)
        for b in range(degree - a, -1, -1)
        for c in range(degree - a - b, -1, -1)
    ]
    return np.array(out, dtype=np.int64).reshape(-1, 4)


def monomials(expo: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``q^α`` for quaternions ``q (..., 4)`` and exponents ``(n, 4)``: shape ``(..., n)``."""
    top = int(expo.max(initial=0))
    powers = q[..., :, None] ** np.arange(top + 1)  # (..., 4, top + 1)
    out = np.ones(q.shape[:-1] + (expo.shape[0],))
    for i in range(4):
        out = out * powers[..., i, expo[:, i]]
    return out


def quat_to_matrix(q: np.ndarray) -> np.ndarray:
    """Rotation matrices ``(..., 3, 3)`` of unit quaternions ``(w, x, y, z)`` (Hamilton)."""
    w, x, y, z = np.moveaxis(q, -1, 0)
    return np.stack(
        [
            np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1),
            np.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1),
            np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1),
        ],
        axis=-2,
    )


def matrix_to_quat(R: np.ndarray) -> np.ndarray:
    """A unit quaternion ``(..., 4)`` of each rotation matrix (Shepperd's stable branch choice)."""
    R = np.asarray(R, dtype=float)
    tr = R[..., 0, 0] + R[..., 1, 1] + R[..., 2, 2]
    cand = np.stack(
        [
            np.stack(
                [
                    1 + tr,
                    R[..., 2, 1] - R[..., 1, 2],
                    R[..., 0, 2] - R[..., 2, 0],
                    R[..., 1, 0] - R[..., 0, 1],
                ],
                -1,
            ),
            np.stack(
                [
                    R[..., 2, 1] - R[..., 1, 2],
                    1 + 2 * R[..., 0, 0] - tr,
                    R[..., 0, 1] + R[..., 1, 0],
                    R[..., 0, 2] + R[..., 2, 0],
                ],
                -1,
            ),
            np.stack(
                [
                    R[..., 0, 2] - R[..., 2, 0],
                    R[..., 0, 1] + R[..., 1, 0],
                    1 + 2 * R[..., 1, 1] - tr,
                    R[..., 1, 2] + R[..., 2, 1],
                ],
                -1,
            ),
            np.stack(
                [
                    R[..., 1, 0] - R[..., 0, 1],
                    R[..., 0, 2] + R[..., 2, 0],
                    R[..., 1, 2] + R[..., 2, 1],
                    1 + 2 * R[..., 2, 2] - tr,
                ],
                -1,
            ),
        ],
        axis=-2,
    )  # (..., 4, 4): row k is 4 q_k q, best conditioned where q_k is largest
    k = np.argmax(np.stack([tr, R[..., 0, 0], R[..., 1, 1], R[..., 2, 2]], -1), -1)
    q = np.take_along_axis(cand, k[..., None, None], -2)[..., 0, :]
    return q / np.linalg.norm(q, axis=-1, keepdims=True)


def rotvec_to_quat(w: np.ndarray) -> np.ndarray:
    """Unit quaternions ``(..., 4)`` of rotation vectors ``(..., 3)`` (angle ``|w|`` about w)."""
    theta = np.linalg.norm(w, axis=-1, keepdims=True)
    half = 0.5 * theta
    scale = np.where(theta > 1e-12, np.sin(half) / np.where(theta > 0, theta, 1.0), 0.5)
    return np.concatenate([np.cos(half), w * scale], -1)


def quat_mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton products ``a ⊗ b`` of quaternions ``(..., 4)``."""
    aw, ax, ay, az = np.moveaxis(a, -1, 0)
    bw, bx, by, bz = np.moveaxis(b, -1, 0)
    return np.stack(
        [
            aw * bw - ax * bx - ay * by - az * bz,
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
        ],
        -1,
    )


@dataclass(frozen=True)
class PolyStructure:
    """The polynomial form of ``Σ_{l in degrees} <C_l, D^l(q)>``.

    Attributes
    ----------
    degrees : tuple of the degrees l >= 1 present, ascending
    L : the top degree
    expo : int array (n_monomials, 4), exponents of the degree-2L monomials
    M : array (n_monomials, n_entries): ``a = M @ vec(C)``, ``vec`` concatenating the
        row-major ``C_l`` in the order of ``degrees``
    offsets : int array (len(degrees) + 1,), where each ``C_l`` starts in ``vec(C)``
    """

    degrees: tuple[int, ...]
    L: int
    expo: np.ndarray
    M: np.ndarray
    offsets: np.ndarray


@lru_cache(maxsize=32)
def poly_structure(degrees: tuple[int, ...]) -> PolyStructure:
    """The (cached) :class:`PolyStructure` of a set of degrees ``l >= 1``."""
    degrees = tuple(sorted(set(int(d) for d in degrees)))
    if not degrees or degrees[0] < 1:
        raise ValueError(f"degrees must be a non-empty set of l >= 1; received {degrees}")
    L = degrees[-1]
    if L > MAX_POLY_DEGREE:
        raise ValueError(
            f"the certified SO(3) solver handles degrees l <= {MAX_POLY_DEGREE}; received "
            f"lmax={L} (use method='exhaustive')"
        )
    expo = monomial_exponents(2 * L)
    n_mono = expo.shape[0]
    rng = np.random.default_rng(20240601)
    q = rng.standard_normal((4 * n_mono + 64, 4))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    R = quat_to_matrix(q)
    target = np.concatenate([wigner_D(deg, R).reshape(len(q), -1) for deg in degrees], axis=1)
    V = monomials(expo, q)
    Mt, *_ = np.linalg.lstsq(V, target, rcond=None)
    resid = np.abs(V @ Mt - target).max()
    if resid > 1e-9:  # pragma: no cover - a construction invariant
        raise RuntimeError(f"polynomial form of D^l, l in {degrees}: residual {resid:.2e}")
    offsets = np.cumsum([0] + [(2 * deg + 1) ** 2 for deg in degrees])
    M = np.ascontiguousarray(Mt)
    M.setflags(write=False)
    return PolyStructure(degrees, L, expo, M, offsets)


def _tangent_frame(q: np.ndarray) -> np.ndarray:
    """``W (..., 4, 3)``: column k is ``q ⊗ (0, e_k)``."""
    e = np.zeros((3, 4))
    e[np.arange(3), np.arange(1, 4)] = 1.0
    return np.stack([quat_mul(q, e[k]) for k in range(3)], -1)


#: index pairs (k1, k2) of the 6 stored Hessian entries, in order
HESS_PAIRS = ((0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2))
#: index triples of the 10 stored third-derivative entries (multiplicities 1,1,1,3×6,6)
TENSOR_TRIPLES = (
    (0, 0, 0),
    (1, 1, 1),
    (2, 2, 2),
    (0, 0, 1),
    (0, 0, 2),
    (1, 1, 0),
    (1, 1, 2),
    (2, 2, 0),
    (2, 2, 1),
    (0, 1, 2),
)


@lru_cache(maxsize=16)
def cell_tables(L: int, n_per_axis: int) -> tuple[np.ndarray, np.ndarray, float]:
    """The initial cubes of the branch and bound and their evaluation table.

    The cube ``[−π, π]³`` of rotation vectors is cut into ``n_per_axis³`` cubes of half-side
    ``σ = π / n_per_axis``; those that miss the ball ``|w| <= π`` (which covers SO(3)) are
    dropped.

    Returns
    -------
    centres : array (n_cells, 3), rotation vectors of the cube centres
    table : array (n_cells * 20, n_monomials): for each cell the rows giving ``f``, ``g``
        (3), the Hessian entries (6, :data:`HESS_PAIRS`) and the third-derivative tensor
        (10, :data:`TENSOR_TRIPLES`) at its centre as linear forms in the coefficients ``a``
    sigma : the half-side
    """
    sigma = np.pi / n_per_axis
    ticks = -np.pi + sigma * (2 * np.arange(n_per_axis) + 1)
    centres = np.stack(np.meshgrid(ticks, ticks, ticks, indexing="ij"), -1).reshape(-1, 3)
    nearest = np.maximum(np.abs(centres) - sigma, 0.0)
    centres = centres[np.linalg.norm(nearest, axis=1) <= np.pi]
    table = _centre_table(L, centres)
    centres.setflags(write=False)
    return centres, table, float(sigma)


@lru_cache(maxsize=16)
def root_cells(L: int, n_per_axis: int) -> tuple[np.ndarray, np.ndarray, float, float]:
    """The root cells of the branch and bound: the Voronoi cells of a body-centred cubic lattice.

    Lattice points ``a k`` and ``a (k + ½)`` (``k`` integer vectors, spacing
    ``a = 2π / n_per_axis``).  The Voronoi cell of a point is a truncated octahedron: inside the
    cube of half-side ``a/2`` around it (the square faces lie at ``a/2`` along the axes), with
    its farthest points (the vertices, permutations of ``(0, ±a/4, ±a/2)``) at ``√5 a/4``.
    The cells tile R³, so those that meet the ball ``|w| <= π`` cover SO(3) (a cell is dropped
    when its cube misses the ball, or when its support function shows that it does); by the
    Hartley-Kahl lemma (``exp`` does not lengthen curves) every rotation of a cell lies within
    angle ``√5 a/4`` of its centre's.  For the same covering radius the cubes of
    :func:`cell_tables` need ``1/0.54`` as many cells (the BCC lattice is the thinnest lattice
    covering of R³).  A cell is refined by cutting its cube into 8.

    Returns
    -------
    centres : array (n_cells, 3), rotation vectors of the lattice points
    table : array (n_cells * 20, n_monomials), as in :func:`cell_tables`
    half : the half-side ``a/2`` of each cell's cube
    radius : ``√5 a/4``, the covering radius
    """
    a = 2.0 * np.pi / n_per_axis
    m = int(np.ceil(np.pi / a)) + 1
    k = np.arange(-m, m + 1, dtype=float)
    grid = np.stack(np.meshgrid(k, k, k, indexing="ij"), -1).reshape(-1, 3)
    centres = a * np.concatenate([grid, grid + 0.5])
    nearest = np.maximum(np.abs(centres) - 0.5 * a, 0.0)
    # a cell misses the ball if its cube does, or if |c| − h(c/|c|) > π: every point x of
    # the cell has |x| >= ûᵀx >= |c| − h(û) (h the support function of the truncated
    # octahedron, the largest ûᵀv over its 24 vertices v)
    verts = np.array(
        [s for p in permutations([0.0, 0.25 * a, 0.5 * a]) for s in product(*[[-x, x] for x in p])]
    )
    norm = np.linalg.norm(centres, axis=1)
    u = centres / np.maximum(norm, 1e-300)[:, None]
    far = norm - (u @ verts.T).max(1) > np.pi
    keep = (np.linalg.norm(nearest, axis=1) <= np.pi) & ~far
    centres = np.ascontiguousarray(centres[keep])
    table = _centre_table(L, centres)
    centres.setflags(write=False)
    return centres, table, 0.5 * a, float(np.sqrt(5.0) * a / 4.0)


def _centre_table(L: int, centres: np.ndarray) -> np.ndarray:
    """Rows ``(n * 20, n_mono)``: f, g (3), H (6) and the third-derivative tensor (10) at every
    centre as linear forms in the coefficients ``a`` (see :func:`cell_tables`)."""
    q = rotvec_to_quat(centres)
    expo = monomial_exponents(2 * L)
    n = len(q)
    val = monomials(expo, q)  # (n, n_mono)
    # first and second partial derivatives of every monomial
    grad = np.zeros((n, 4, expo.shape[0]))
    hess = np.zeros((n, 4, 4, expo.shape[0]))
    for i in range(4):
        e1 = expo.copy()
        c1 = e1[:, i].astype(float)
        e1[:, i] = np.maximum(e1[:, i] - 1, 0)
        grad[:, i] = c1 * monomials(e1, q)
        for j in range(4):
            e2 = e1.copy()
            c2 = c1 * e2[:, j]
            e2[:, j] = np.maximum(e2[:, j] - 1, 0)
            hess[:, i, j] = c2 * monomials(e2, q)
    W = _tangent_frame(q)  # (n, 4, 3)
    g = 0.5 * np.einsum("nik,nia->nka", W, grad)
    Hfull = 0.25 * np.einsum("nik,nija,njm->nkma", W, hess, W)
    Hfull -= 0.5 * L * np.eye(3)[None, :, :, None] * val[:, None, None, :]
    H = np.stack([Hfull[:, a, b] for a, b in HESS_PAIRS], 1)
    # third derivative along R exp(t[u]×): T0(u,u,u) − (3n − 2)/4 gᵀu (n = 2L), with
    # T0 = ⅛ ∇³p[W, W, W]; as a symmetric tensor T_abc = T0_abc − (3n−2)/12 (g_a δ_bc + ...)
    third = np.zeros((n, 4, 4, 4, expo.shape[0]))
    for i in range(4):
        for j in range(4):
            for k in range(4):
                e3 = expo.copy()
                coef = np.ones(expo.shape[0])
                for m in (i, j, k):
                    coef = coef * e3[:, m]
                    e3[:, m] = np.maximum(e3[:, m] - 1, 0)
                third[:, i, j, k] = coef * monomials(e3, q)
    T0 = 0.125 * np.einsum("nia,njb,nkc,nijkm->nabcm", W, W, W, third, optimize=True)
    c3 = (3 * 2 * L - 2) / 12.0
    eye = np.eye(3)
    T = T0 - c3 * (
        np.einsum("nam,bc->nabcm", g, eye)
        + np.einsum("nbm,ac->nabcm", g, eye)
        + np.einsum("ncm,ab->nabcm", g, eye)
    )
    Tu = np.stack([T[:, a, b, c] for a, b, c in TENSOR_TRIPLES], 1)
    table = np.concatenate([val[:, None], g, H, Tu], 1).reshape(n * 20, -1)
    table = np.ascontiguousarray(table)
    table.setflags(write=False)
    return table
