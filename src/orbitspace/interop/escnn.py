"""escnn field types as orbitspace actions.

escnn's conventions agree with ours (checked by ``tests/test_escnn_interop.py`` against escnn
itself): the frequency-k irrep of SO(2) and C_N acts by ``[[cos kθ, -sin kθ], [sin kθ, cos kθ]]``;
the regular representation of C_N maps the generator to the cyclic shift ``np.roll(v, 1)``; for
N even, irrep N/2 is the 1-dimensional sign irrep.  A C_N element ``k`` is escnn's
``G.element(k)`` (rotation by 2πk/N); an SO(2) element is the angle θ (``G.element(θ)``).

Representations built by escnn from irreps with a change of basis (``directsum`` with a
non-identity basis, quotient, induced or tensor-product representations) are not written in
our basis: :func:`from_escnn` rejects them unless ``return_change_of_basis=True``, in which case
it returns the matrix ``Q`` such that an escnn latent ``z`` equals ``Q @ w`` with ``w``
transformed by the returned action.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from orbitspace.groups import SO2, Cyclic, VectorAction
from orbitspace.interop._escnn_compat import import_escnn

__all__ = ["from_escnn", "to_escnn_element", "escnn_group_of", "latents_from_escnn"]


def escnn_group_of(obj: Any) -> Any:
    """The escnn group of a FieldType, GSpace, Representation or group."""
    for attr in ("fibergroup", "group"):
        if hasattr(obj, attr):
            return getattr(obj, attr)
    gspace = getattr(obj, "gspace", None)
    if gspace is not None:
        return gspace.fibergroup
    return obj


def _planar_kind(group: Any) -> tuple[str, int]:
    """("cyclic", N) or ("so2", 0) for escnn's CyclicGroup / SO2; ValueError otherwise."""
    escnn = import_escnn()
    groups = escnn.group
    if isinstance(group, groups.CyclicGroup):
        return "cyclic", int(group.order())
    if isinstance(group, groups.SO2):
        return "so2", 0
    raise ValueError(
        f"from_escnn supports field types of C_N and SO(2) (escnn's rot2dOnR2) and of D_N and "
        f"O(2) (flipRot2dOnR2); received a field type of the group {group!r}"
    )


def _irrep_frequency(rep: Any, kind: str, N: int) -> int | None:
    """The frequency of an escnn irrep of C_N / SO(2), or None if ``rep`` is not an irrep."""
    if not getattr(rep, "irreducible", False):
        return None
    freq = rep.attributes.get("frequency") if hasattr(rep, "attributes") else None
    if freq is None:
        return None
    return int(freq)


def _field_term(rep: Any, kind: str, N: int) -> tuple[str, np.ndarray | None]:
    """One field representation -> (term, change of basis or None when it is the identity)."""
    freq = _irrep_frequency(rep, kind, N)
    if freq is not None:
        return f"1x{freq}", None
    if kind == "cyclic" and rep.size == N and rep.name == "regular":
        return "1xregular", None
    terms = []
    for irrep_id in rep.irreps:
        irrep = rep.group.irrep(*irrep_id)
        terms.append(f"1x{_irrep_frequency(irrep, kind, N)}")
    Q = np.asarray(rep.change_of_basis, dtype=float)
    if np.allclose(Q, np.eye(rep.size), atol=1e-10):
        return " + ".join(terms), None
    return " + ".join(terms), Q


def from_escnn(field_type: Any, *, return_change_of_basis: bool = False) -> Any:
    """The orbitspace action of an escnn ``FieldType`` of C_N or SO(2).

    Parameters
    ----------
    field_type : escnn.nn.FieldType
        Fields built from trivial, irreducible and (C_N) regular representations, in any order.
        The latent vector is the concatenation of the fields (``field_type.size`` channels),
        e.g. a ``GeometricTensor`` pooled over space.
    return_change_of_basis : bool, default False
        If False, a field whose representation needs a change of basis (any representation that
        is not an irrep and not C_N's regular one, with a non-identity ``change_of_basis``)
        raises ``ValueError``.  If True, return ``(action, Q)`` with ``Q`` orthogonal of shape
        ``(D, D)`` such that escnn's latent ``z`` is ``Q @ w`` and ``w = Q.T @ z`` is transformed
        by ``action``: ``Q.T @ rho_escnn(g) @ Q == action.matrix(g)``.

    Returns
    -------
    action : Cyclic or SO2
        ``Cyclic(N, ...)`` for C_N field types, ``SO2(...)`` for SO(2).  Consecutive equal
        terms are merged (``"2xregular + 1x1"``).
    Q : ndarray of shape (D, D)
        Only with ``return_change_of_basis=True``.

    Examples
    --------
    >>> from orbitspace.interop._escnn_compat import import_escnn
    >>> escnn = import_escnn()  # doctest: +SKIP
    >>> gs = escnn.gspaces.rot2dOnR2(N=8)  # doctest: +SKIP
    >>> ft = escnn.nn.FieldType(gs, 4 * [gs.regular_repr] + [gs.irrep(1)])  # doctest: +SKIP
    >>> from_escnn(ft)  # doctest: +SKIP
    Cyclic(8, '4xregular + 1x1')
    """
    import_escnn()
    field_type = _field_type_of(field_type)  # a GeometricTensor stands for its FieldType
    representations = getattr(field_type, "representations", None)
    if representations is None:
        raise TypeError(
            f"from_escnn expects an escnn.nn.FieldType; received {type(field_type).__name__}"
        )
    if _flip_kind(escnn_group_of(field_type)) is not None:
        return _from_escnn_flip(field_type, return_change_of_basis)
    kind, N = _planar_kind(escnn_group_of(field_type))
    terms: list[str] = []
    blocks: list[np.ndarray] = []
    for i, rep in enumerate(representations):
        term, Q = _field_term(rep, kind, N)
        if Q is not None and not return_change_of_basis:
            raise ValueError(
                f"field {i} of the field type has representation {rep.name!r} (irreps "
                f"{[r for r in rep.irreps]}) with a non-identity change of basis; orbitspace "
                "actions are written in the irreps basis. Pass return_change_of_basis=True to "
                "get Q with z = Q @ w, or build the field type from irreps / regular "
                "representations"
            )
        terms.extend(term.split(" + "))
        blocks.append(np.eye(rep.size) if Q is None else Q)
    rep_string = _merge_terms(terms)
    action: VectorAction = Cyclic(N, rep_string) if kind == "cyclic" else SO2(rep_string)
    if action.dim != field_type.size:  # pragma: no cover - a layout bug, not user input
        raise RuntimeError(f"{action!r} has dim {action.dim}, field type {field_type.size}")
    if not return_change_of_basis:
        return action
    from scipy.linalg import block_diag

    return action, block_diag(*blocks)


def _merge_terms(terms: list[str]) -> str:
    merged: list[list[Any]] = []
    for term in terms:
        kind = term.split("x", 1)[1]
        if merged and merged[-1][1] == kind:
            merged[-1][0] += 1
        else:
            merged.append([1, kind])
    return " + ".join(f"{m}x{k}" for m, k in merged)


def to_escnn_element(field_type_or_group: Any, g: Any) -> Any:
    """escnn's group element for our element ``g`` (an integer for C_N, an angle for SO(2)).

    Examples
    --------
    >>> to_escnn_element(ft, 3)  # doctest: +SKIP
    3[2pi/8]
    """
    group = escnn_group_of(field_type_or_group)
    if _flip_kind(group) is not None:
        return _flip_element(group, g)
    kind, N = _planar_kind(group)
    if kind == "cyclic":
        value = np.asarray(g)
        if value.ndim != 0:
            raise ValueError(
                f"expected one group element; received an array of shape {value.shape}"
            )
        return group.element(int(np.mod(int(np.rint(value)), N)))
    return group.element(float(np.mod(float(g), 2 * np.pi)))


# -- flipRot2dOnR2: O(2) and D_N ---------------------------------------------------------------


def _flip_kind(group: Any) -> int | None:
    """N for escnn's DihedralGroup D_N, 0 for O(2), None for any other group."""
    groups = import_escnn().group
    if isinstance(group, groups.DihedralGroup):
        return int(group.rotation_order)
    if isinstance(group, groups.O2):
        return 0
    return None


def _from_escnn_flip(field_type: Any, return_change_of_basis: bool) -> Any:
    """``O2`` / ``Dihedral`` of a field type of ``flipRot2dOnR2``: irreps keep escnn's ids
    ``(j, k)``, D_N's regular representation is ``regular``; other representations are
    decomposed into their irreps with their change of basis (rejected unless asked for)."""
    from orbitspace.groups import O2, Dihedral

    N = _flip_kind(escnn_group_of(field_type))
    terms: list[str] = []
    blocks: list[np.ndarray] = []
    for i, rep in enumerate(field_type.representations):
        if getattr(rep, "irreducible", False):
            ids, Q = [rep.id], None
        elif N and rep.name == "regular" and rep.size == 2 * N:
            ids, Q = ["regular"], None
        else:
            ids = list(rep.irreps)
            Q = np.asarray(rep.change_of_basis, dtype=float)
            if np.allclose(Q, np.eye(rep.size), atol=1e-10):
                Q = None
            elif not return_change_of_basis:
                raise ValueError(
                    f"field {i} of the field type has representation {rep.name!r} (irreps "
                    f"{ids}) with a non-identity change of basis; orbitspace actions are written "
                    "in the irreps basis. Pass return_change_of_basis=True to get Q with "
                    "z = Q @ w, or build the field type from irreps / regular representations"
                )
        terms.extend("1xregular" if x == "regular" else f"1x({x[0]},{x[1]})" for x in ids)
        blocks.append(np.eye(rep.size) if Q is None else Q)
    rep_string = _merge_terms(terms)
    action: VectorAction = Dihedral(N, rep_string) if N else O2(rep_string)
    if action.dim != field_type.size:  # pragma: no cover - a layout bug, not user input
        raise RuntimeError(f"{action!r} has dim {action.dim}, field type {field_type.size}")
    if not return_change_of_basis:
        return action
    from scipy.linalg import block_diag

    return action, block_diag(*blocks)


def _flip_element(group: Any, g: Any) -> Any:
    """escnn's element of D_N (``(j, k)`` ints) or O(2) (``(j, θ)``) for our ``g`` of shape (2,)."""
    value = np.asarray(g, dtype=float)
    if value.shape != (2,):
        raise ValueError(
            f"expected one element (flip, rotation) of shape (2,); received shape {value.shape}"
        )
    j = int(np.rint(value[0])) % 2
    N = _flip_kind(group)
    if N:
        return group.element((j, int(np.rint(value[1])) % N))
    return group.element((j, float(np.mod(value[1], 2 * np.pi))))


def _field_type_of(obj: Any) -> Any:
    """The FieldType of an escnn ``GeometricTensor`` (``obj.type``); anything else as it is."""
    inner = getattr(obj, "type", None)
    return inner if hasattr(obj, "tensor") and hasattr(inner, "representations") else obj


def latents_from_escnn(x: Any, field_type: Any = None, *, pool: str | None = None) -> Any:
    """Latent codes ``(B, D)`` and their action from an escnn ``GeometricTensor``.

    Parameters
    ----------
    x : escnn.nn.GeometricTensor or torch tensor of shape (B, D, *spatial)
        A network's output.  Spatial axes of size 1 are dropped; larger ones must be pooled.
    field_type : escnn.nn.FieldType, optional
        Needed when ``x`` is a plain tensor (then ``D == field_type.size``).
    pool : {None, "mean"}, default None
        None refuses spatial axes larger than 1, saying how to pool them; ``"mean"`` averages
        over them (equivariant for the grid rotations escnn uses: the fibre action does not
        depend on the position).

    Returns
    -------
    z : torch tensor of shape (B, D)
        The codes; a view of ``x``'s tensor (gradients flow through it, nothing is detached).
    action : Cyclic or SO2
        ``from_escnn(field_type)``; its ``repr`` is the CLI's ``--action`` string.

    Examples
    --------
    >>> z, action = latents_from_escnn(model(x))  # doctest: +SKIP
    >>> np.savez("codes.npz", z=z.detach().numpy())  # doctest: +SKIP
    >>> repr(action)  # doctest: +SKIP
    "Cyclic(8, '16xregular')"
    """
    if hasattr(x, "tensor") and hasattr(getattr(x, "type", None), "representations"):
        field_type = x.type if field_type is None else field_type
        x = x.tensor
    if field_type is None:
        raise TypeError(
            f"latents_from_escnn needs a GeometricTensor, or a tensor and its FieldType; "
            f"received {type(x).__name__} without field_type"
        )
    action = from_escnn(field_type)
    shape = tuple(getattr(x, "shape", ()))
    if len(shape) < 2 or shape[1] != field_type.size:
        raise ValueError(
            f"expected a tensor of shape (B, {field_type.size}, ...) for this field type; "
            f"received shape {shape}"
        )
    spatial = shape[2:]
    if any(s != 1 for s in spatial):
        if pool != "mean":
            axes = tuple(range(2, len(shape)))
            raise ValueError(
                f"the tensor has spatial axes {spatial} (shape {shape}); pool them first "
                f"(escnn.nn.PointwiseAdaptiveAvgPool2D(field_type, 1), or "
                f"x.tensor.mean({axes})) or pass pool='mean'"
            )
        x = x.mean(dim=tuple(range(2, len(shape))))
    return x.reshape(shape[0], field_type.size), action
