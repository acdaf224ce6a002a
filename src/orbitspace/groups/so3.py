"""SO(3) and O(3) acting through e3nn irreps (real Wigner matrices, e3nn's basis and layout)."""

from __future__ import annotations

from typing import Any

import numpy as np

from orbitspace._array import ArrayLike, like, to_numpy
from orbitspace._validation import check_random_state
from orbitspace.groups._base import Component, Irrep, VectorAction
from orbitspace.groups._irreps3d import MAX_DIM, MAX_L, format_irreps, parse_irreps
from orbitspace.groups._registry import register_action
from orbitspace.groups._wigner import wigner_D

__all__ = ["SO3", "O3", "MAX_L", "MAX_DIM", "random_rotations"]

#: tolerance on ``|R^T R - I|`` and ``|det R| - 1`` when checking group elements
ELEMENT_ATOL = 1e-6


def random_rotations(n: int | None, rng: np.random.Generator) -> np.ndarray:
    """Haar-distributed rotation matrices ``(n, 3, 3)`` (``(3, 3)`` when ``n`` is None).

    Normalised Gaussian quaternions are uniform on S^3, whose image in SO(3) is Haar.
    """
    q = rng.standard_normal((1 if n is None else int(n), 4))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    w, x, y, z = q.T
    R = np.stack(
        [
            np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1),
            np.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1),
            np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1),
        ],
        axis=-2,
    )
    return R[0] if n is None else R


class _Irreps3D(VectorAction):
    """Shared code of :class:`SO3` and :class:`O3` (a direct sum of e3nn irreps)."""

    element_shape = (3, 3)
    #: whether the group contains reflections (det -1 elements): False for SO(3), True for O(3)
    includes_reflections: bool = False
    _require_parity = True

    def __init__(self, irreps: str) -> None:
        terms = parse_irreps(irreps, owner=type(self).__name__, require_parity=self._require_parity)
        object.__setattr__(self, "terms", terms)
        object.__setattr__(self, "_dim", sum(m * (2 * ell + 1) for m, ell, _ in terms))
        self._freeze()

    terms: tuple[tuple[int, int, int], ...]

    # -- description -----------------------------------------------------------------------
    @property
    def rep(self) -> str:
        """The irreps string in e3nn's spelling, e.g. ``'8x0e + 4x1o + 2x2e'``."""
        return format_irreps(self.terms)

    @property
    def dim(self) -> int:
        return self._dim  # type: ignore[attr-defined]

    @property
    def lmax(self) -> int:
        """The largest degree l present."""
        return max(ell for _, ell, _ in self.terms)

    def _key(self) -> tuple:
        return self.terms

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.rep!r})"

    def repeated(self, n: int) -> _Irreps3D:
        """The same group on ``n`` stacked copies of the codes (the terms repeated in order)."""
        return type(self)(" + ".join([self.rep] * int(n)))

    def _irrep(self, ell: int, p: int) -> Irrep:
        trivial = ell == 0 and (p == 1 or not self.includes_reflections)
        label = f"{ell}{'e' if p == 1 else 'o'}"
        return Irrep(self.group_name, label, 2 * ell + 1, ell, trivial, parity=p)

    def components(self) -> tuple[Component, ...]:
        """One :class:`Component` per term, in order (e3nn's ``mul_ir`` layout).

        Examples
        --------
        >>> [(c.irrep.label, c.irrep.dim, c.start, c.multiplicity, c.irrep.trivial)
        ...  for c in O3("2x0e + 1x1o + 1x0o").components()]
        [('0e', 1, 0, 2, True), ('1o', 3, 2, 1, False), ('0o', 1, 5, 1, False)]
        """
        out, pos = [], 0
        for mult, ell, p in self.terms:
            comp = Component(self._irrep(ell, p), pos, int(mult))
            out.append(comp)
            pos = comp.stop
        return tuple(out)

    def describe(self) -> str:
        parts = []
        for c in self.components():
            n, ir = c.multiplicity, c.irrep
            s = "" if n == 1 else "s"
            if ir.trivial:
                parts.append(f"{n} invariant scalar{s} ({ir.label})")
            elif ir.degree == 0:
                parts.append(f"{n} pseudoscalar{s} ({ir.label}, flipped by reflections)")
            else:
                parts.append(f"{n} degree-{ir.degree} block{s} of size {ir.dim} ({ir.label})")
        return (
            f"{self.group_description} acting on {self.dim}-dimensional codes made of "
            + "; ".join(parts)
        )

    # -- elements --------------------------------------------------------------------------
    def check_elements(self, g: Any, name: str = "g") -> np.ndarray:
        """Return ``g`` as float64 ``(..., 3, 3)``; one-line ValueError if not in the group."""
        R = to_numpy(g, float)
        if R.ndim < 2 or R.shape[-2:] != (3, 3):
            raise ValueError(
                f"{self!r} expects elements as rotation matrices of shape (..., 3, 3); "
                f"received {name} of shape {R.shape}"
            )
        if not np.isfinite(R).all():
            raise ValueError(f"{self!r} expects finite rotation matrices; {name} has NaN or inf")
        err = np.abs(np.swapaxes(R, -1, -2) @ R - np.eye(3)).max(initial=0.0)
        if err > ELEMENT_ATOL:
            raise ValueError(
                f"{self!r} expects orthogonal matrices (|R^T R - I| <= {ELEMENT_ATOL}); "
                f"received {name} with max |R^T R - I| = {err:.3g}"
            )
        if not self.includes_reflections and R.size:
            det = np.linalg.det(R)
            if det.min() < 0:
                raise ValueError(
                    f"{self!r} expects rotations (det +1); received {name} with det "
                    f"{det.min():.3g} (use O3 for reflections)"
                )
        return R

    def identity(self) -> np.ndarray:
        return np.eye(3)

    def compose(self, g: Any, h: Any) -> np.ndarray:
        return self.check_elements(g, "g") @ self.check_elements(h, "h")

    def inverse(self, g: Any) -> np.ndarray:
        return np.swapaxes(self.check_elements(g), -1, -2).copy()

    def sample(self, n: int | None = None, random_state: Any = None) -> np.ndarray:
        rng = check_random_state(random_state)
        R = random_rotations(n, rng)
        if self.includes_reflections:
            sign = rng.choice([-1.0, 1.0], size=() if n is None else (int(n),))
            R = R * np.asarray(sign)[..., None, None]
        return R

    # -- the representation ----------------------------------------------------------------
    def _blocks(self, R: np.ndarray) -> list[np.ndarray]:
        """``p^k D^l`` of each term (k = 1 for det -1), shape ``(..., 2l+1, 2l+1)``."""
        if self.includes_reflections:
            d = np.sign(np.linalg.det(R))
            Rp = R * d[..., None, None]
        else:
            d, Rp = None, R
        cache: dict[int, np.ndarray] = {}
        out = []
        for _, ell, p in self.terms:
            if ell not in cache:
                cache[ell] = wigner_D(ell, Rp)
            D = cache[ell]
            if d is not None and p == -1:
                D = D * d[..., None, None]
            out.append(D)
        return out

    def matrix(self, g: Any) -> np.ndarray:
        """Block-diagonal ``(..., dim, dim)``; equals e3nn's ``Irreps(rep).D_from_matrix(g)``.

        Examples
        --------
        >>> rho = O3("1x0e + 1x0o + 1x1o")
        >>> np.round(rho.matrix(-np.eye(3)).diagonal(), 12).tolist()
        [1.0, -1.0, -1.0, -1.0, -1.0]
        """
        R = self.check_elements(g)
        M = np.zeros(R.shape[:-2] + (self.dim, self.dim))
        pos = 0
        for (mult, ell, _), D in zip(self.terms, self._blocks(R)):
            n = 2 * ell + 1
            for _ in range(mult):
                M[..., pos : pos + n, pos : pos + n] = D
                pos += n
        return M

    def act(self, g: Any, X: ArrayLike) -> ArrayLike:
        """Rotate latents ``X (..., dim)`` by ``g (..., 3, 3)`` (batches broadcast)."""
        Xn = self.check_latents(X)
        R = self.check_elements(g)
        batch = np.broadcast_shapes(R.shape[:-2], Xn.shape[:-1])
        out = np.empty(batch + (self.dim,))
        pos = 0
        for (mult, ell, _), D in zip(self.terms, self._blocks(R)):
            n = 2 * ell + 1
            part = Xn[..., pos : pos + mult * n].reshape(Xn.shape[:-1] + (mult, n))
            rot = part @ np.swapaxes(D, -1, -2)  # (..., mult, n): each copy times D^T
            out[..., pos : pos + mult * n] = rot.reshape(batch + (mult * n,))
            pos += mult * n
        return like(out, X)


@register_action("SO3('8x0e + 4x1o + 2x2e')")
class SO3(_Irreps3D):
    """The rotation group SO(3) acting on ``(..., dim)`` latents through e3nn irreps.

    Parameters
    ----------
    irreps : str
        An e3nn irreps string, ``"<multiplicity>x<l><parity>"`` terms joined by ``+``
        (``"8x0e + 4x1o + 2x2e"``).  Layout as in e3nn: the copies of one term are contiguous
        (each a block of ``2l+1`` coordinates), terms in the order written; the basis is
        e3nn's real basis (``D^1(R) = R``: a vector ``1o`` is ``(x, y, z)``).  Parity ``e`` / ``o`` /
        ``y`` (= ``(-1)^l``) does not change how a rotation acts; it is kept in the ``repr``
        and in :meth:`components`.  SO3 also accepts terms without parity (``"4x1"``), read
        as ``y`` (natural parity, ``"4x1o"``); e3nn 0.6 and :class:`O3` reject them.  At most ``l <= MAX_L``
        (16) and ``dim <= MAX_DIM``.

    Notes
    -----
    Group elements are rotation matrices, shape ``(..., 3, 3)``, orthogonal with det +1.
    ``matrix(R)`` equals ``e3nn.o3.Irreps(irreps).D_from_matrix(R)``.

    Examples
    --------
    >>> rho = SO3("8x0e + 4x1o + 2x2e")
    >>> rho.dim, rho.lmax
    (30, 2)
    >>> R = rho.sample(random_state=0)
    >>> X = np.arange(30.0)
    >>> bool(np.allclose(rho.act(rho.inverse(R), rho.act(R, X)), X))
    True
    >>> SO3("2x1 + 0e")
    SO3('2x1o + 1x0e')
    """

    includes_reflections = False
    _require_parity = False
    group_name = "SO(3)"
    group_description = "the rotation group SO(3) (every 3-D rotation)"


@register_action("O3('8x0e + 4x1o + 2x2e')")
class O3(_Irreps3D):
    """The orthogonal group O(3) (rotations and reflections) acting through e3nn irreps.

    Parameters
    ----------
    irreps : str
        An e3nn irreps string with explicit parity on every term (``e``, ``o`` or ``y``);
        layout and basis as for :class:`SO3`.

    Notes
    -----
    Group elements are orthogonal matrices ``(..., 3, 3)`` with det +1 or -1.  An element
    ``R`` with det -1 is ``-R'`` with ``R'`` a rotation and acts on an irrep of degree l and
    parity p by ``p D^l(R')`` (e3nn's ``D_from_matrix``); ``sample`` is Haar on both
    components.

    Examples
    --------
    >>> rho = O3("1x0e + 1x0o")
    >>> rho.act(-np.eye(3), np.array([2.0, 3.0])).tolist()
    [2.0, -3.0]
    """

    includes_reflections = True
    _require_parity = True
    group_name = "O(3)"
    group_description = "the orthogonal group O(3) (every 3-D rotation and reflection)"
