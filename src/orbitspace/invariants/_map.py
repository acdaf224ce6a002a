"""The base class of every invariant map and the registry it is recorded in."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np

from orbitspace._array import ArrayLike, is_torch, requires_grad, to_numpy
from orbitspace._validation import check_random_state
from orbitspace.groups import Action, parse_action
from orbitspace.invariants._common import latents
from orbitspace.invariants._properties import Properties

__all__ = ["InvariantMap", "REGISTRY", "register_map"]

_MAPS: dict[str, InvariantMap] = {}
#: every invariant map by name, in registration order (read-only)
REGISTRY: Mapping[str, InvariantMap] = MappingProxyType(_MAPS)


class InvariantMap:
    """An invariant map ``π`` (``π(ρ(g) z) == π(z)``) with its declared :class:`Properties`.

    Use :meth:`fit` (draws references / templates / directions; ``{}`` for data-free maps) then
    :meth:`transform`, or :func:`~orbitspace.invariants.invariant_features` for both at once.
    Instances are immutable; each registered subclass has one, in :data:`REGISTRY`.

    Attributes
    ----------
    name : str
        The registry name (``"max_filter"``).
    summary : str
        One line shown in tables and ``--help``.
    data_free : bool
        True when the map has no fitted parameters: :meth:`fit` returns ``{}`` and
        :meth:`transform` works without it.
    quick : bool
        False for maps too costly for ``quick`` runs on large inputs (the bispectrum).
    variants : tuple of dict
        The option sets a report runs by default (``({},)``: once, with the defaults).
    fit_options : Mapping
        The options :meth:`fit` accepts, with their defaults.
    transform_options : Mapping
        The options :meth:`transform` accepts, with their defaults.

    Notes
    -----
    Subclasses implement ``_supports(action, d)``, ``_properties(action, d, **options)`` (all
    options filled in with their defaults), ``_transform(X, action, params, mask=None,
    **transform_options)`` and, unless ``data_free``, ``_fit(Xn, action, rng, **fit_options)``
    on checked float64 latents ``Xn``.  See :mod:`orbitspace.invariants.registry`.

    With torch, a map that also implements ``_torch_transform(Xt, action, params, mask=None,
    **transform_options)`` (``Xt`` a checked floating tensor with padded rows zeroed; see
    :mod:`orbitspace.invariants._torch`) is *torch-native* (``torch_native``): given a tensor
    it computes in torch on the tensor's device and in its dtype, and carries gradients to
    ``X`` unless its declaration says ``differentiable="no"``.  Any other map given a tensor
    computes in numpy and returns a tensor on the tensor's device, and refuses (TypeError) a
    tensor that requires grad rather than detach it.  Fitted parameters are constants: ``fit``
    reads a detached copy of a tensor.

    Examples
    --------
    >>> import numpy as np
    >>> from orbitspace import SO2
    >>> from orbitspace.invariants import get_map
    >>> rho = SO2("1x0 + 2x1")
    >>> m = get_map("norms")
    >>> m.properties(rho).separating, m.data_free
    ('no', True)
    >>> m.transform(np.zeros((7, 5)), rho, m.fit(np.zeros((7, 5)), rho)).shape
    (7, 3)
    """

    name: ClassVar[str]
    summary: ClassVar[str]
    data_free: ClassVar[bool] = True
    quick: ClassVar[bool] = True
    variants: ClassVar[tuple[Mapping[str, Any], ...]] = ({},)
    #: computes in torch when given a tensor (set by :func:`register_map`)
    torch_native: ClassVar[bool] = False
    fit_options: ClassVar[Mapping[str, Any]] = MappingProxyType({})
    transform_options: ClassVar[Mapping[str, Any]] = MappingProxyType({})

    # -- what a subclass provides -------------------------------------------------------------
    def _supports(self, action: Action, d: int | None) -> bool:
        raise NotImplementedError

    def _properties(self, action: Action, d: int | None, **options: Any) -> Properties:
        raise NotImplementedError

    def _fit(self, Xn: np.ndarray, action: Action, rng: np.random.Generator, **options: Any):
        return {}

    def _transform(self, X: Any, action: Action, params: dict, *, mask: Any = None, **options):
        raise NotImplementedError

    def _torch_transform(
        self, Xt: Any, action: Action, params: dict, *, mask: Any = None, **options
    ):
        raise NotImplementedError

    def fit_reads_data(self, **options: Any) -> bool:
        """Whether :meth:`fit` with ``options`` reads the values of ``X`` (not only its shape):
        True for references drawn from the data; then fit on every code, not on a sample."""
        return False

    # -- the public contract ------------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __repr__(self) -> str:
        return f"<invariant map {self.name!r}: {self.summary}>"

    def supports(self, action: Action | str, *, d: int | None = None) -> bool:
        """Whether the map applies to ``action`` (and, for node latents, to ``d`` channels)."""
        return bool(self._supports(parse_action(action), d))

    def _check(self, action: Action | str, d: int | None) -> Action:
        from orbitspace.invariants.registry import available_methods

        action = parse_action(action)
        if not self._supports(action, d):
            extra = f" with d={d}" if d is not None and action.node_axis is not None else ""
            raise ValueError(
                f"invariant map {self.name!r} does not support {action!r}{extra}; methods "
                f"available for it: {available_methods(action, d=d)}"
            )
        return action

    def _options(self, options: Mapping[str, Any], allowed: Mapping[str, Any], where: str):
        unknown = sorted(set(options) - set(allowed))
        if unknown:
            raise TypeError(
                f"{self.name}.{where} got unknown option(s) {unknown}; expected "
                f"{sorted(allowed) or 'none'}"
            )
        return {**allowed, **options}

    def split_options(self, options: Mapping[str, Any]) -> tuple[dict, dict]:
        """``options`` split into those of :meth:`fit` and the rest (for :meth:`transform`)."""
        fit = {k: v for k, v in options.items() if k in self.fit_options}
        return fit, {k: v for k, v in options.items() if k not in self.fit_options}

    def properties(self, action: Action | str, *, d: int | None = None, **options) -> Properties:
        """The declared guarantees on ``action`` (``d``: channels per node for node latents)."""
        action = self._check(action, d)
        opts = self._options(options, {**self.fit_options, **self.transform_options}, "properties")
        return self._properties(action, d, **opts)

    def output_dim(self, action: Action | str, *, d: int | None = None, **options) -> int:
        """Number of output features on ``action`` (from its traits, nothing is computed)."""
        return self.properties(action, d=d, **options).output_dim

    def alignments_per_code(self, action: Action | str, *, d: int | None = None, **options) -> int:
        """Group maximisations one code costs in :meth:`transform` (0: none; the maps that run
        the exact solver say how many), for run-time forecasts."""
        return 0

    def fit(
        self,
        X: ArrayLike,
        action: Action | str,
        *,
        random_state: Any = None,
        mask: Any = None,
        **options,
    ) -> dict[str, np.ndarray]:
        """Draw the map's parameters (``{}`` for data-free maps) from ``random_state`` / ``X``."""
        action = parse_action(action)
        Xn = latents(to_numpy(X) if is_torch(X) else X, action, mask)  # parameters: constants
        d = Xn.shape[-1] if action.node_axis is not None else None
        action = self._check(action, d)
        opts = self._options(options, self.fit_options, "fit")
        return self._fit(Xn, action, check_random_state(random_state), **opts)

    def transform(
        self,
        X: ArrayLike,
        action: Action | str,
        params: Mapping[str, Any],
        *,
        mask: Any = None,
        **options,
    ) -> ArrayLike:
        """Features of shape ``(..., output_dim)`` (batch dims kept; numpy or torch as given).

        A tensor is transformed in torch by a ``torch_native`` map (same device and dtype,
        differentiable where declared); other maps refuse a tensor that requires grad with a
        TypeError (they compute in numpy and could only detach it).
        """
        action = parse_action(action)
        if is_torch(X) and self.torch_native:
            from orbitspace.invariants._torch import torch_latents

            Xt = torch_latents(X, action, mask)
            d = Xt.shape[-1] if action.node_axis is not None else None
            action = self._check(action, d)
            opts = self._options(options, self.transform_options, "transform")
            self._check_params(params)
            if requires_grad(X) and self.properties(action, d=d, **opts).differentiable == "no":
                raise TypeError(
                    f"invariant map {self.name!r} is not differentiable on {action!r} (its "
                    "declaration says differentiable='no'), but X requires grad; pass X.detach()"
                )
            return self._torch_transform(Xt, action, dict(params), mask=mask, **opts)
        if requires_grad(X):
            raise TypeError(
                f"invariant map {self.name!r} has no torch implementation, so it cannot carry "
                "gradients, but X requires grad; pass X.detach() for features without "
                "gradients (torch-native maps: "
                f"{sorted(n for n, m in REGISTRY.items() if m.torch_native)})"
            )
        Xn = latents(X, action, mask)
        d = Xn.shape[-1] if action.node_axis is not None else None
        action = self._check(action, d)
        opts = self._options(options, self.transform_options, "transform")
        self._check_params(params)
        return self._transform(X, action, dict(params), mask=mask, **opts)

    @staticmethod
    def _check_params(params: Any) -> None:
        if not isinstance(params, Mapping):
            raise TypeError(f"params must be the dict returned by fit; received {type(params)}")


def _freeze_options(cls: type, attr: str) -> Mapping[str, Any]:
    value = getattr(cls, attr)
    if not isinstance(value, Mapping):
        raise TypeError(f"{cls.__name__}.{attr} must be a mapping; received {value!r}")
    return MappingProxyType(dict(value))


def register_map(cls: type[InvariantMap]) -> type[InvariantMap]:
    """Class decorator: check the declaration of an :class:`InvariantMap` subclass and put its
    instance in :data:`REGISTRY` under ``cls.name``.

    Raises TypeError / ValueError when a class attribute is missing or inconsistent: a name
    already taken, ``data_free`` with a ``_fit`` of its own (or the reverse), or a variant
    naming an option the map does not have.
    """
    if not (isinstance(cls, type) and issubclass(cls, InvariantMap)):
        raise TypeError(f"register_map takes an InvariantMap subclass; received {cls!r}")
    for attr in ("name", "summary"):
        value = getattr(cls, attr, None)
        if not isinstance(value, str) or not value:
            raise TypeError(f"{cls.__name__}.{attr} must be a non-empty str; received {value!r}")
    if cls.name in _MAPS:
        raise ValueError(f"an invariant map named {cls.name!r} is registered already")
    for attr in ("data_free", "quick"):
        if not isinstance(getattr(cls, attr), bool):
            raise TypeError(
                f"{cls.__name__}.{attr} must be a bool; received {getattr(cls, attr)!r}"
            )
    fits = cls._fit is not InvariantMap._fit
    if cls.data_free == fits:
        raise ValueError(
            f"{cls.__name__}: data_free={cls.data_free} but it "
            f"{'defines' if fits else 'does not define'} _fit; a data-free map has no fit"
        )
    for hook in ("_supports", "_properties", "_transform"):
        if getattr(cls, hook) is getattr(InvariantMap, hook):
            raise TypeError(f"{cls.__name__} must implement {hook}")
    type.__setattr__(cls, "fit_options", _freeze_options(cls, "fit_options"))
    type.__setattr__(cls, "transform_options", _freeze_options(cls, "transform_options"))
    allowed = {**cls.fit_options, **cls.transform_options}
    variants = cls.variants
    if not isinstance(variants, tuple) or not variants:
        raise TypeError(f"{cls.__name__}.variants must be a non-empty tuple of dicts")
    for v in variants:
        unknown = sorted(set(v) - set(allowed)) if isinstance(v, Mapping) else None
        if unknown is None or unknown:
            raise ValueError(
                f"{cls.__name__}.variants: {v!r} names options {unknown} the map does not have "
                f"(its options: {sorted(allowed) or 'none'})"
            )
    type.__setattr__(cls, "variants", tuple(MappingProxyType(dict(v)) for v in variants))
    type.__setattr__(cls, "torch_native", cls._torch_transform is not InvariantMap._torch_transform)
    _MAPS[cls.name] = cls()
    return cls
