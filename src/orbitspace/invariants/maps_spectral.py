"""The registered classical invariants of actions given by their components: block norms,
power spectrum, bispectrum (SO(2), SO(3) and O(3)), group pooling (regular fields).

Actions whose components are irreps of ``SO(3)`` / ``O(3)`` (:func:`so3.is_3d`, read from the
traits) take the functions of :mod:`orbitspace.invariants.so3` (copies grouped by degree under
SO(3), by degree and parity under O(3); Clebsch-Gordan triples) and the declarations of
:mod:`orbitspace.invariants.so3_properties`."""

from __future__ import annotations

from orbitspace.invariants import _torch, blocks, fourier, so3
from orbitspace.invariants import so3_properties as so3p
from orbitspace.invariants._map import InvariantMap, register_map
from orbitspace.invariants._properties import AE, Properties, isometric
from orbitspace.invariants._traits import (
    copies,
    is_planar,
    norm_lossless,
    passes_through,
    planar_sizes,
)

__all__ = ["Norms", "PowerSpectrum", "Bispectrum", "GroupPool"]


def _vector_only(action, mask) -> None:
    if mask is not None:
        raise ValueError(f"node masks apply to actions on node sets only; received {action!r}")


def _block_properties(action, out: int, pool: str | None) -> Properties:
    smooth = all(
        passes_through(irrep) or (irrep.kind == "regular" and pool == "mean")
        for irrep, _ in copies(action)
    )
    diff = "yes" if smooth else AE
    if norm_lossless(action, pool):
        # each copy gives one feature: with 1-D copies only, the output is a point of the orbit
        notes = "at most one non-trivial block: an isometry"
        return isometric(out, notes, cross=out == action.dim, differentiable=diff)
    what = "norm per block" if pool is None else f"{pool} over regular blocks, norms of irreps"
    notes = f"{what}; 1-Lipschitz; frequency-0 scalars pass through; loses relative phases"
    return Properties(
        invariant=True,
        separating="no",
        isometric=False,
        lipschitz=1.0,
        lower_lipschitz=None,
        continuous=True,
        differentiable=diff,
        cross_section=False,
        output_dim=out,
        notes=notes,
    )


def _spectral(action, out: int, sep: str, notes: str) -> Properties:
    if action.is_trivial:
        notes = "trivial action: the identity"
        return isometric(out, notes, cross=out == action.dim, differentiable="yes")
    return Properties(
        invariant=True,
        separating=sep,
        isometric=False,
        lipschitz=None,
        lower_lipschitz=None,
        continuous=True,
        differentiable="yes",
        cross_section=False,
        output_dim=out,
        notes=notes,
    )


@register_map
class Norms(InvariantMap):
    name = "norms"
    summary = "norm of every irrep / regular block"

    def _supports(self, action, d):
        return action.has_components()

    def _transform(self, X, action, params, *, mask=None):
        _vector_only(action, mask)
        return blocks.norms(X, action)  # per copy, any components (SO(3) too: = so3.norms)

    def _torch_transform(self, Xt, action, params, *, mask=None):
        _vector_only(action, mask)
        return _torch.norms(Xt, action)

    def _properties(self, action, d):
        if so3.is_3d(action):
            return so3p.so3_norms_properties(action, d)
        return _block_properties(action, blocks.n_copies(action), None)


@register_map
class PowerSpectrum(InvariantMap):
    name = "power_spectrum"
    summary = "Gram of the copies within each frequency"

    def _supports(self, action, d):
        return action.has_components()

    def _transform(self, X, action, params, *, mask=None):
        _vector_only(action, mask)
        if so3.is_3d(action):
            return so3.power_spectrum(X, action)
        return fourier.power_spectrum(X, action)

    def _torch_transform(self, Xt, action, params, *, mask=None):
        _vector_only(action, mask)
        return _torch.power_spectrum(Xt, action)

    def _properties(self, action, d):
        if so3.is_3d(action):
            return so3p.so3_power_spectrum_properties(action, d)
        out = fourier.power_spectrum_dim(action)
        if not is_planar(action):
            sep = "yes" if norm_lossless(action, None) else "no"
            notes = "real Gram of the copies of each irrep: loses the relative orientation"
            return _spectral(action, out, sep, notes + " between irreps; quadratic")
        freqs = planar_sizes(action)[2]
        if action.is_finite:
            sep = "yes" if not freqs else "no"
        else:
            sep = "yes" if len(freqs) <= 1 else "no"
        notes = "Gram of the copies within each frequency: loses the phases between frequencies"
        if action.is_finite:
            notes += " and, for C_N, the residual phase of each frequency"
        return _spectral(action, out, sep, notes + "; quadratic")


@register_map
class Bispectrum(InvariantMap):
    name = "bispectrum"
    summary = "triple products (SO(2): c_k1 c_k2 conj(c_k1+k2); SO(3): Clebsch-Gordan) + Gram"
    quick = False
    transform_options = {"copies": "first"}

    def _supports(self, action, d):
        return fourier.is_so2(action) or so3.is_3d(action)

    def _transform(self, X, action, params, *, mask=None, copies="first"):
        _vector_only(action, mask)
        if so3.is_3d(action):
            return so3.bispectrum(X, action, copies=copies)
        return fourier.bispectrum(X, action, copies=copies)

    def _properties(self, action, d, copies="first"):
        if so3.is_3d(action):
            return so3p.so3_bispectrum_properties(action, d, copies)
        out = fourier.bispectrum_dim(action, copies)
        n_freq = len({c.irrep.degree for c in action.components() if c.irrep.degree})
        if n_freq <= 1:
            sep = "yes"
        else:
            sep = "generic" if fourier.bispectrum_is_complete(action) else "no"
        notes = (
            "triple products c_k1 c_k2 conj(c_k1+k2) plus the power spectrum; generically "
            "complete iff the frequency triples tie all phases to the rotation (Smith form "
            "test); cubic"
        )
        return _spectral(action, out, sep, notes)


@register_map
class GroupPool(InvariantMap):
    name = "group_pool"
    summary = "max / mean over each regular block of C_N (irreps: norms)"
    transform_options = {"reduction": "max"}

    def _supports(self, action, d):
        return blocks.has_regular(action)

    def _transform(self, X, action, params, *, mask=None, reduction="max"):
        _vector_only(action, mask)
        return blocks.group_pool(X, action, reduction=reduction)

    def _torch_transform(self, Xt, action, params, *, mask=None, reduction="max"):
        _vector_only(action, mask)
        self._properties(action, None, reduction)  # checks the option
        return _torch.group_pool(Xt, action, reduction=reduction)

    def _properties(self, action, d, reduction="max"):
        if reduction not in blocks.POOL_REDUCTIONS:
            raise ValueError(
                f"reduction must be one of {blocks.POOL_REDUCTIONS}; received {reduction!r}"
            )
        return _block_properties(action, blocks.n_copies(action), reduction)
