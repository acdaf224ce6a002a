"""Real Wigner D matrices of SO(3) in e3nn's basis, in plain numpy.

Conventions (those of e3nn 0.6, ``e3nn/o3/_wigner.py`` and ``e3nn/o3/_rotation.py``, which we
reproduce so that our matrices equal ``e3nn.o3.Irrep(l, p).D_from_matrix(R)``):

- the real basis of degree l is e3nn's ``change_basis_real_to_complex(l)`` applied to the
  complex spherical basis, times ``(-i)^l`` (which makes the Clebsch-Gordan coefficients real);
- the generators are e3nn's ``so3_generators(l)``: ``X[0]`` generates rotations about x and
  ``X[1]`` rotations about y (y is e3nn's quantisation axis);
- a rotation is split into YXY Euler angles, ``R = R_y(alpha) R_x(beta) R_y(gamma)``, with
  ``alpha, beta`` the angles of ``R e_y`` (e3nn's ``xyz_to_angles``), and
  ``D(R) = exp(alpha X[1]) exp(beta X[0]) exp(gamma X[1])``.

In this basis ``D^1(R) = R``: a vector ``1o`` is stored as ``(x, y, z)``.

Speed: a y-rotation is closed form (the coordinates ``l + m`` and ``l - m`` rotate as a plane by
``m theta``), and an x-rotation is a y-rotation conjugated by the fixed matrix ``J_l = D^l(Q)``
of ``Q = R_z(-pi/2)`` (``Q R_y(b) Q^T = R_x(b)``), computed once per l and cached.  One D costs
two dense ``(2l+1)^3`` products, batched over rotations.
"""

from __future__ import annotations

from functools import cache

import numpy as np

__all__ = ["wigner_D", "so3_generators", "euler_yxy", "rotation_y"]


def _su2_generators(ell: int) -> np.ndarray:
    """e3nn's ``su2_generators(l)`` (complex, shape ``(3, 2l+1, 2l+1)``)."""
    m = np.arange(-ell, ell, dtype=float)
    raising = np.diag(-np.sqrt(ell * (ell + 1) - m * (m + 1)), k=-1)
    m = np.arange(-ell + 1, ell + 1, dtype=float)
    lowering = np.diag(np.sqrt(ell * (ell + 1) - m * (m - 1)), k=1)
    m = np.arange(-ell, ell + 1, dtype=float)
    return np.stack(
        [0.5 * (raising + lowering), np.diag(1j * m), -0.5j * (raising - lowering)]
    ).astype(complex)


def _real_to_complex(ell: int) -> np.ndarray:
    """e3nn's ``change_basis_real_to_complex(l)``."""
    q = np.zeros((2 * ell + 1, 2 * ell + 1), dtype=complex)
    s = 1 / np.sqrt(2)
    for m in range(-ell, 0):
        q[ell + m, ell + abs(m)] = s
        q[ell + m, ell - abs(m)] = -1j * s
    q[ell, ell] = 1
    for m in range(1, ell + 1):
        q[ell + m, ell + abs(m)] = (-1) ** m * s
        q[ell + m, ell - abs(m)] = 1j * (-1) ** m * s
    return (-1j) ** ell * q


@cache
def so3_generators(ell: int) -> np.ndarray:
    """Real generators ``(3, 2l+1, 2l+1)`` of D^l: about x, about y, and (third) about z.

    The first two are e3nn's ``so3_generators(l)[0:2]``; the third is ``[X_x, X_y]``, the
    generator of rotations about z (``[L_x, L_y] = L_z`` for ``R_a(t) = exp(t L_a)``).

    Examples
    --------
    >>> G = so3_generators(1)
    >>> bool(np.allclose(G[0], -G[0].T))
    True
    """
    X = _su2_generators(ell)
    Q = _real_to_complex(ell)
    X = np.einsum("ji,ajk,kl->ail", Q.conj(), X, Q)
    if np.abs(X.imag).max() > 1e-10:  # pragma: no cover - a construction invariant
        raise RuntimeError(f"real generators of degree {ell} came out complex")
    gx, gy = X.real[0], X.real[1]
    out = np.stack([gx, gy, gx @ gy - gy @ gx])
    out.setflags(write=False)
    return out


def _expm_antisymmetric(A: np.ndarray) -> np.ndarray:
    """``exp(A)`` of one real antisymmetric matrix via the Hermitian ``iA``."""
    w, V = np.linalg.eigh(1j * A)
    return (V * np.exp(-1j * w)) @ V.conj().T


@cache
def _y_structure(ell: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Index pairs and signs of the closed-form y-rotation of degree l.

    ``exp(t X_y)`` fixes coordinate ``l`` and, for ``m = 1..l``, rotates the plane
    ``(a, b) = (l + m, l - m)``: entries ``[a, a] = [b, b] = cos(m t)``,
    ``[a, b] = s sin(m t)``, ``[b, a] = -s sin(m t)`` with ``s = X_y[a, b] / m``.
    """
    gy = so3_generators(ell)[1]
    m = np.arange(1, ell + 1)
    a, b = ell + m, ell - m
    sign = gy[a, b] / np.maximum(m, 1)
    return m.astype(float), a, b, sign


@cache
def _x_from_y(ell: int) -> np.ndarray:
    """``J_l = D^l(R_z(-pi/2))``: ``D^l(R_x(b)) = J_l D^l(R_y(b)) J_l^T``."""
    gz = so3_generators(ell)[2]
    J = _expm_antisymmetric(-np.pi / 2 * gz)
    if np.abs(J.imag).max() > 1e-10:  # pragma: no cover - a construction invariant
        raise RuntimeError(f"J_{ell} came out complex")
    out = np.ascontiguousarray(J.real)
    out.setflags(write=False)
    return out


def rotation_y(ell: int, theta: np.ndarray) -> np.ndarray:
    """``D^l(R_y(theta))`` in closed form, shape ``theta.shape + (2l+1, 2l+1)``.

    Examples
    --------
    >>> bool(np.allclose(rotation_y(2, np.array(0.3)) @ rotation_y(2, np.array(-0.3)), np.eye(5)))
    True
    """
    theta = np.asarray(theta, dtype=float)
    m, a, b, sign = _y_structure(ell)
    D = np.zeros(theta.shape + (2 * ell + 1, 2 * ell + 1))
    D[..., ell, ell] = 1.0
    ang = theta[..., None] * m
    c, s = np.cos(ang), np.sin(ang) * sign
    D[..., a, a] = c
    D[..., b, b] = c
    D[..., a, b] = s
    D[..., b, a] = -s
    return D


def euler_yxy(R: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """YXY Euler angles ``(alpha, beta, gamma)`` with ``R = R_y(alpha) R_x(beta) R_y(gamma)``.

    Same choice of branch as e3nn's ``matrix_to_angles`` (``alpha, beta`` from ``R e_y``),
    computed with ``atan2`` throughout so that it stays accurate near ``beta = 0, pi``.
    """
    y = R[..., :, 1]
    alpha = np.arctan2(y[..., 0], y[..., 2])
    beta = np.arctan2(np.hypot(y[..., 0], y[..., 2]), y[..., 1])
    # gamma from R_x(-beta) R_y(-alpha) R: a y-rotation by gamma; its (0, 0) and (0, 2)
    # entries are cos(gamma) and sin(gamma).
    ca, sa = np.cos(alpha), np.sin(alpha)
    # first row of (R_y(alpha) R_x(beta))^T is (ca, 0, -sa)
    r00 = ca * R[..., 0, 0] - sa * R[..., 2, 0]
    r02 = ca * R[..., 0, 2] - sa * R[..., 2, 2]
    gamma = np.arctan2(r02, r00)
    return alpha, beta, gamma


def wigner_D(l: int, R: np.ndarray) -> np.ndarray:  # noqa: E741
    """The real Wigner matrix ``D^l(R)`` of rotations ``R`` in e3nn's basis.

    Parameters
    ----------
    l : int
        Degree, ``l >= 0``.
    R : array of shape (..., 3, 3)
        Rotation matrices (orthogonal, determinant +1; not checked here).

    Returns
    -------
    ndarray of shape ``R.shape[:-2] + (2l+1, 2l+1)``
        Equal to ``e3nn.o3.Irrep(l, 1).D_from_matrix(R)``; ``D^l(R1 R2) = D^l(R1) D^l(R2)``.

    Examples
    --------
    >>> R = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    >>> bool(np.allclose(wigner_D(1, R), R))  # a vector 1o is (x, y, z)
    True
    >>> wigner_D(2, np.stack([R, R])).shape
    (2, 5, 5)
    """
    ell = int(l)
    if ell < 0:
        raise ValueError(f"wigner_D expects a degree l >= 0; received l={ell}")
    R = np.asarray(R, dtype=float)
    if R.ndim < 2 or R.shape[-2:] != (3, 3):
        raise ValueError(f"wigner_D expects rotations of shape (..., 3, 3); received {R.shape}")
    if ell == 0:
        return np.ones(R.shape[:-2] + (1, 1))
    alpha, beta, gamma = euler_yxy(R)
    J = _x_from_y(ell)
    partner, sign = _rows(ell)
    # D = Dy(alpha) [J Dy(beta) J^T] Dy(gamma); the y-rotations act on rows / columns in
    # closed form, so one dense product per rotation remains.
    cb, sb = _cos_sin(ell, beta, sign)
    inner = cb[..., :, None] * J.T + sb[..., :, None] * J.T[partner, :]  # Dy(beta) J^T
    A = J @ inner
    ca, sa = _cos_sin(ell, alpha, sign)
    A = ca[..., :, None] * A + sa[..., :, None] * A[..., partner, :]  # Dy(alpha) A
    cg, sg = _cos_sin(ell, gamma, sign)
    return A * cg[..., None, :] - A[..., :, partner] * sg[..., None, :]  # A Dy(gamma)


@cache
def _rows(ell: int) -> tuple[np.ndarray, np.ndarray]:
    """Row form of ``Dy(t)``: ``(Dy(t) M)[i] = cos(m_i t) M[i] + sign_i sin(m_i t) M[p_i]``."""
    m, a, b, s = _y_structure(ell)
    partner = np.arange(2 * ell + 1)
    partner[a], partner[b] = b, a
    sign = np.zeros(2 * ell + 1)
    sign[a], sign[b] = s, -s
    return partner, sign


def _cos_sin(ell: int, theta: np.ndarray, sign: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-row ``cos(|m| t)`` and ``sign * sin(|m| t)`` of ``Dy(t)``, shape ``(..., 2l+1)``."""
    ang = theta[..., None] * np.abs(np.arange(-ell, ell + 1))
    return np.cos(ang), np.sin(ang) * sign
