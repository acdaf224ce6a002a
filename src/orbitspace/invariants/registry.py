"""The registry of invariant maps: one :class:`InvariantMap` record per method name."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from orbitspace._array import ArrayLike
from orbitspace._validation import check_positive_int, check_random_state
from orbitspace.groups import SO2, Action, Cyclic, Permutation, parse_action
from orbitspace.invariants import fourier, permutation, templates
from orbitspace.invariants._declarations import (
    DECLARE,
    default_n_projections,
    default_n_templates,
)
from orbitspace.invariants._properties import Properties

__all__ = ["InvariantMap", "REGISTRY", "get_map", "available_methods", "invariant_features"]

REFERENCES = ("gaussian", "data", "mean")


@dataclass(frozen=True)
class InvariantMap:
    """An invariant map with its declared :class:`Properties`.

    Use :meth:`fit` (draws references / templates / directions; ``{}`` for data-free maps) then
    :meth:`transform`, or :func:`invariant_features` for both at once.

    Examples
    --------
    >>> import numpy as np
    >>> from orbitspace import SO2
    >>> rho = SO2("1x0 + 2x1")
    >>> m = get_map("norms")
    >>> m.properties(rho).separating
    'no'
    >>> m.transform(np.zeros((7, 5)), rho, m.fit(np.zeros((7, 5)), rho)).shape
    (7, 3)
    """

    name: str
    summary: str
    _supports: Callable[[Action, int | None], bool] = field(repr=False)
    _fit: Callable[..., dict[str, np.ndarray]] = field(repr=False)
    _transform: Callable[..., np.ndarray] = field(repr=False)
    fit_options: Mapping[str, Any] = field(default_factory=dict)
    transform_options: Mapping[str, Any] = field(default_factory=dict)

    def supports(self, action: Action | str, *, d: int | None = None) -> bool:
        """Whether the map applies to ``action`` (and, for node latents, to ``d`` channels)."""
        return bool(self._supports(parse_action(action), d))

    def _check(self, action: Action | str, d: int | None) -> Action:
        action = parse_action(action)
        if not self._supports(action, d):
            extra = f" with d={d}" if d is not None and isinstance(action, Permutation) else ""
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

    def properties(self, action: Action | str, *, d: int | None = None, **options) -> Properties:
        """The declared guarantees on ``action`` (``d``: channels per node for Permutation)."""
        action = self._check(action, d)
        opts = self._options(options, {**self.fit_options, **self.transform_options}, "properties")
        return DECLARE[self.name](action, d, **opts)

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
        Xn = templates.latents(X, action, mask)
        d = Xn.shape[-1] if isinstance(action, Permutation) else None
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
        """Features of shape ``(..., output_dim)`` (batch dims kept; numpy or torch as given)."""
        action = parse_action(action)
        Xn = templates.latents(X, action, mask)
        d = Xn.shape[-1] if isinstance(action, Permutation) else None
        action = self._check(action, d)
        opts = self._options(options, self.transform_options, "transform")
        if not isinstance(params, Mapping):
            raise TypeError(f"params must be the dict returned by fit; received {type(params)}")
        return self._transform(X, action, dict(params), mask=mask, **opts)


# -- support rules -------------------------------------------------------------------------------
def _permutation(action: Action, d: int | None) -> bool:
    return isinstance(action, Permutation)


def _permutation_d1(action: Action, d: int | None) -> bool:
    return isinstance(action, Permutation) and d in (None, 1)


def _planar(action: Action, d: int | None) -> bool:
    return isinstance(action, (SO2, Cyclic))


def _any(action: Action, d: int | None) -> bool:
    return True


# -- fitting -------------------------------------------------------------------------------------
def _no_params(Xn, action, rng) -> dict[str, np.ndarray]:
    return {}


def _unit_rows(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    G = rng.standard_normal(shape)
    axes = tuple(range(1, len(shape)))
    return G / np.sqrt((G**2).sum(axis=axes, keepdims=True))


def _fit_directions(Xn, action, rng, n_projections=None) -> dict[str, np.ndarray]:
    d = Xn.shape[-1]
    m = default_n_projections(action.n_nodes, d) if n_projections is None else n_projections
    m = check_positive_int(m, "n_projections")
    return {"directions": _unit_rows(rng, (m, d)).T.copy()}


def _fit_templates(Xn, action, rng, n_templates=None) -> dict[str, np.ndarray]:
    event = Xn.shape[Xn.ndim - action.event_ndim :]
    m = default_n_templates(int(np.prod(event))) if n_templates is None else n_templates
    m = check_positive_int(m, "n_templates", limit="templates")
    return {"templates": _unit_rows(rng, (m,) + event)}


def _fit_references(Xn, action, rng, reference="gaussian", n_references=1):
    K = check_positive_int(n_references, "n_references", limit="references")
    event = Xn.shape[Xn.ndim - action.event_ndim :]
    Z = Xn.reshape((-1,) + event)
    if reference == "gaussian":
        R = rng.standard_normal((K,) + event)
    elif reference == "data":
        if Z.shape[0] < K:
            raise ValueError(
                f"reference='data' needs at least n_references={K} latents; received {Z.shape[0]}"
            )
        R = Z[rng.choice(Z.shape[0], size=K, replace=False)].copy()
    elif reference == "mean":
        if K != 1:
            raise ValueError(f"reference='mean' gives one reference; received n_references={K}")
        if Z.shape[0] == 0:
            raise ValueError("reference='mean' needs at least one latent; received none")
        R = Z.mean(axis=0, keepdims=True)
    else:
        raise ValueError(f"reference must be one of {REFERENCES}; received {reference!r}")
    return {"references": R}


# -- transforms ----------------------------------------------------------------------------------
def _need(params: dict, key: str, name: str) -> Any:
    if key not in params:
        raise ValueError(
            f"params for {name!r} must hold {key!r} (call fit first); received keys "
            f"{sorted(params)}"
        )
    return params[key]


def _t_node(fn):
    return lambda X, action, params, mask=None, **kw: fn(X, mask=mask, **kw)


def _t_planar(fn):
    def run(X, action, params, mask=None, **kw):
        if mask is not None:
            raise ValueError(f"node masks apply to actions on node sets only; received {action!r}")
        return fn(X, action, **kw)

    return run


def _t_projections(X, action, params, mask=None):
    dirs = _need(params, "directions", "sorted_projections")
    return permutation.sorted_projections(X, dirs, mask=mask)


def _t_align(X, action, params, mask=None):
    refs = _need(params, "references", "align_to_reference")
    return templates.align_to_reference(X, action, refs, mask=mask)


def _t_max_filter(X, action, params, mask=None):
    return templates.max_filter(X, action, _need(params, "templates", "max_filter"), mask=mask)


def _entry(name, summary, supports, fit, transform, fit_options=None, transform_options=None):
    return InvariantMap(
        name,
        summary,
        supports,
        fit,
        transform,
        MappingProxyType(dict(fit_options or {})),
        MappingProxyType(dict(transform_options or {})),
    )


_ENTRIES = [
    _entry(
        "sort",
        "sort node values (d = 1): isometric cross-section",
        _permutation_d1,
        _no_params,
        _t_node(permutation.sort),
    ),
    _entry(
        "lexsort",
        "rows sorted lexicographically: discontinuous cross-section",
        _permutation,
        _no_params,
        _t_node(permutation.lexsort),
    ),
    _entry(
        "channel_sort",
        "each channel sorted separately: 1-Lipschitz, lossy for d >= 2",
        _permutation,
        _no_params,
        _t_node(permutation.channel_sort),
    ),
    _entry(
        "sorted_projections",
        "sort(X a_j) for m random unit directions / sqrt(m)",
        _permutation,
        _fit_directions,
        _t_projections,
        {"n_projections": None},
    ),
    _entry(
        "node_pool",
        "sum / mean / max over nodes",
        _permutation,
        _no_params,
        _t_node(permutation.node_pool),
        None,
        {"reduction": "sum"},
    ),
    _entry(
        "align_to_reference",
        "align to K references and concatenate (random projection)",
        _any,
        _fit_references,
        _t_align,
        {"reference": "gaussian", "n_references": 1},
    ),
    _entry(
        "max_filter",
        "max_g <rho(g) z, t_i> / sqrt(m) for m unit templates",
        _any,
        _fit_templates,
        _t_max_filter,
        {"n_templates": None},
    ),
    _entry(
        "norms",
        "norm of every irrep / regular block",
        _planar,
        _no_params,
        _t_planar(fourier.norms),
    ),
    _entry(
        "power_spectrum",
        "Gram of the copies within each frequency",
        _planar,
        _no_params,
        _t_planar(fourier.power_spectrum),
    ),
    _entry(
        "bispectrum",
        "SO(2) triple products c_k1 c_k2 conj(c_k1+k2) + power spectrum",
        lambda a, d: isinstance(a, SO2),
        _no_params,
        _t_planar(fourier.bispectrum),
        None,
        {"copies": "first"},
    ),
    _entry(
        "group_pool",
        "max / mean over each regular block of C_N (irreps: norms)",
        lambda a, d: isinstance(a, Cyclic),
        _no_params,
        _t_planar(fourier.group_pool),
        None,
        {"reduction": "max"},
    ),
]

#: every invariant map by name (read-only)
REGISTRY: Mapping[str, InvariantMap] = MappingProxyType({e.name: e for e in _ENTRIES})


def get_map(name: str) -> InvariantMap:
    """The invariant map called ``name`` (ValueError listing the valid names otherwise)."""
    if not isinstance(name, str) or name not in REGISTRY:
        raise ValueError(f"unknown invariant map {name!r}; expected one of {sorted(REGISTRY)}")
    return REGISTRY[name]


def available_methods(action: Action | str, *, d: int | None = None) -> list[str]:
    """Names of the maps that support ``action`` (and ``d`` channels for node latents)."""
    action = parse_action(action)
    return [name for name, m in REGISTRY.items() if m._supports(action, d)]


def invariant_features(
    X: ArrayLike,
    action: Action | str,
    method: str,
    *,
    random_state: Any = None,
    mask: Any = None,
    **options,
) -> ArrayLike:
    """Fit ``method`` on ``X`` and transform ``X``: features of shape ``(..., output_dim)``.

    Examples
    --------
    >>> import numpy as np
    >>> from orbitspace import Permutation
    >>> X = np.array([[[3.0], [1.0], [2.0]]])
    >>> invariant_features(X, Permutation(3), "sort").tolist()
    [[1.0, 2.0, 3.0]]
    """
    imap = get_map(method)
    fit_opts = {k: v for k, v in options.items() if k in imap.fit_options}
    rest = {k: v for k, v in options.items() if k not in imap.fit_options}
    params = imap.fit(X, action, random_state=random_state, mask=mask, **fit_opts)
    return imap.transform(X, action, params, mask=mask, **rest)
