"""e3nn irreps (and the layouts of MACE, NequIP and fairchem) as orbitspace actions.

Our :class:`~orbitspace.SO3` / :class:`~orbitspace.O3` use e3nn's conventions exactly (tested
against e3nn 0.6's ``Irreps.D_from_matrix`` in ``tests/test_so3_action.py``): the ``mul_ir``
layout (the copies of one term contiguous, terms in order), e3nn's real basis
(``D^1(R) = R``), and a det -1 element ``-R`` acting on parity ``p`` by ``p D^l(R)``.  A group
element is a 3 x 3 matrix ``R``, the same one e3nn's ``D_from_matrix`` takes.

Model layouts
-------------
- **MACE, NequIP, Allegro** store per-atom features as ``(n_atoms, irreps.dim)`` tensors in
  e3nn's layout (NequIP: ``data["node_features"]`` with ``irreps_out``; MACE: the
  ``node_feats`` of each interaction, irreps ``hidden_irreps``; MACE's returned ``node_feats``
  concatenates the layers, so its irreps are the layers' irreps summed in order).  Each
  atom's row is acted on by ``from_e3nn(irreps)``; a per-molecule sum or mean over atoms is
  acted on by the same action, and the atoms additionally permute (``S_n x SO(3)``).  These
  models are E(3)-equivariant with parity: use ``o3=True`` when reflections matter.
- **fairchem / EquiformerV2** store ``(n_atoms, (L+1)^2, C)``: coefficient index
  ``l^2 + l + m`` (m = -l..l) on axis -2, channel on axis -1.  That is the irreps
  ``C x 0 + C x 1 + ... + C x L`` in another order; :func:`from_spherical_channels` gives the
  action and the index that reorders a flattened tensor into e3nn's layout.  It assumes each
  degree's 2l+1 coefficients are in e3nn's real basis and m order (fairchem builds its Wigner
  matrices from e3nn's); check this for a given model with
  :func:`orbitspace.testing.assert_equivariant` on rotated inputs.

torch and e3nn are imported only when an ``e3nn.o3.Irreps`` object is inspected; strings are
parsed without them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from orbitspace.groups import O3, SO3
from orbitspace.groups._irreps3d import MAX_L, format_irreps

__all__ = ["from_e3nn", "from_spherical_channels", "to_e3nn"]


def _terms_of_e3nn(irreps: Any) -> tuple[tuple[int, int, int], ...]:
    """(mul, l, p) of an e3nn ``Irreps`` (or any iterable of ``(mul, (l, p))``)."""
    terms = []
    try:
        items = list(irreps)
        for item in items:
            mul, ir = item
            ell, p = int(ir[0]), int(ir[1])
            terms.append((int(mul), ell, p))
    except (TypeError, ValueError, IndexError):
        raise TypeError(
            "from_e3nn expects an e3nn.o3.Irreps or an irreps string like '8x0e + 4x1o'; "
            f"received {type(irreps).__name__} {irreps!r}"
        ) from None
    return tuple(terms)


def from_e3nn(irreps: Any, *, o3: bool = False) -> SO3 | O3:
    """The action of SO(3) (or O(3) with ``o3=True``) on vectors laid out as ``irreps``.

    Parameters
    ----------
    irreps : e3nn.o3.Irreps or str
        e3nn irreps (``o3.Irreps("8x0e + 4x1o")``, a model's ``irreps_out``) or their string.
        Terms of multiplicity 0 (allowed by e3nn) hold no coordinates and are dropped.
    o3 : bool
        Return :class:`~orbitspace.O3` (rotations and reflections, parity acts) instead of
        :class:`~orbitspace.SO3` (rotations only; parity is kept in the repr).

    Returns
    -------
    SO3 or O3
        ``action.matrix(R) == irreps.D_from_matrix(R)`` for every rotation (and, with
        ``o3=True``, every orthogonal) ``R``.

    Examples
    --------
    >>> from_e3nn("8x0e + 4x1o + 2x2e")
    SO3('8x0e + 4x1o + 2x2e')
    >>> from_e3nn("1x0e + 0x1e + 1x1o", o3=True)
    O3('1x0e + 1x1o')
    """
    cls = O3 if o3 else SO3
    if isinstance(irreps, str):
        parts = [t for t in irreps.split("+") if not t.strip().startswith("0x")]
        if not parts:
            raise ValueError(f"from_e3nn: irreps {irreps!r} have dimension 0; expected >= 1")
        return cls("+".join(parts))
    terms = [t for t in _terms_of_e3nn(irreps) if t[0] != 0]
    for mul, ell, p in terms:
        if mul < 0 or ell < 0 or p not in (-1, 1):
            raise ValueError(
                f"from_e3nn: expected terms (mul >= 0, (l >= 0, p = +-1)); received "
                f"({mul}, ({ell}, {p})) in {irreps!r}"
            )
    if not terms:
        raise ValueError(f"from_e3nn: irreps {irreps!r} have dimension 0; expected >= 1")
    return cls(format_irreps(tuple(terms)))


def to_e3nn(action: SO3 | O3) -> Any:
    """The ``e3nn.o3.Irreps`` of an :class:`~orbitspace.SO3` / :class:`~orbitspace.O3`
    action (imports e3nn)."""
    rep = getattr(action, "rep", None)
    if getattr(action, "group_name", None) not in ("SO(3)", "O(3)") or rep is None:
        raise TypeError(f"to_e3nn expects an SO3 or O3 action; received {action!r}")
    from e3nn import o3  # lazy: e3nn imports torch

    return o3.Irreps(rep)


def from_spherical_channels(
    lmax: int, channels: int, *, o3: bool = False, parity: str = "y"
) -> tuple[SO3 | O3, np.ndarray]:
    """Action and reordering index for fairchem / EquiformerV2 ``((L+1)^2, C)`` features.

    Parameters
    ----------
    lmax : int
        The largest degree L (``0 <= L <= MAX_L``).
    channels : int
        The number of channels C (``>= 1``).
    o3 : bool
        Return an O(3) action (parity from ``parity``) instead of SO(3).
    parity : {"y", "e", "o"}
        Parity of every degree: ``"y"`` is ``(-1)^l`` (spherical harmonics).

    Returns
    -------
    action : SO3 or O3
        The irreps ``"C x 0y + C x 1y + ... + C x Ly"`` in e3nn's spelling.
    index : ndarray of int, shape ((L+1)^2 * C,)
        ``z = x.reshape(..., (L+1)**2 * C)[..., index]`` is ``x`` in e3nn's layout (acted on
        by ``action``); ``np.argsort(index)`` goes back.

    Examples
    --------
    >>> action, index = from_spherical_channels(1, 2)
    >>> action
    SO3('2x0e + 2x1o')
    >>> x = np.arange(8.0).reshape(4, 2)  # (L+1)^2 = 4 coefficients, 2 channels
    >>> x.reshape(-1)[index].tolist()  # channel 0's scalar, channel 1's, then each l=1 copy
    [0.0, 1.0, 2.0, 4.0, 6.0, 3.0, 5.0, 7.0]
    """
    if isinstance(lmax, bool) or not isinstance(lmax, (int, np.integer)) or not 0 <= lmax <= MAX_L:
        raise ValueError(f"lmax must be an integer in [0, {MAX_L}]; received {lmax!r}")
    if isinstance(channels, bool) or not isinstance(channels, (int, np.integer)) or channels < 1:
        raise ValueError(f"channels must be a positive integer; received {channels!r}")
    if parity not in ("y", "e", "o"):
        raise ValueError(f"parity must be 'y', 'e' or 'o'; received {parity!r}")
    L, C = int(lmax), int(channels)
    action = (O3 if o3 else SO3)(" + ".join(f"{C}x{ell}{parity}" for ell in range(L + 1)))
    index = np.empty((L + 1) ** 2 * C, dtype=np.int64)
    for ell in range(L + 1):
        n = 2 * ell + 1
        c, mi = np.meshgrid(np.arange(C), np.arange(n), indexing="ij")  # (C, 2l+1)
        index[C * ell * ell : C * (ell + 1) ** 2] = ((ell * ell + mi) * C + c).reshape(-1)
    return action, index
