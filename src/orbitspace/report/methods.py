"""Which invariant projections an analysis runs: specs like ``align_to_reference(n_references=4)``.

The spec format is :class:`orbitspace.invariants.MapSpec` (``MethodSpec`` here is the same
class); which maps run by default, with which option sets, and which are skipped by ``quick``
runs is read from the registered maps (``variants``, ``quick``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from orbitspace.groups import Action
from orbitspace.invariants import MapSpec, default_specs, get_map, resolve_specs

__all__ = [
    "MethodSpec",
    "parse_method_spec",
    "resolve_methods",
    "default_methods",
    "fit_projection",
    "declared_properties",
]

#: the spec of one projection (an alias of :class:`orbitspace.invariants.MapSpec`)
MethodSpec = MapSpec


def parse_method_spec(spec: str | MapSpec) -> MapSpec:
    """Parse ``"name"`` or ``"name(key=literal, ...)"`` (:meth:`MapSpec.parse`).

    Examples
    --------
    >>> parse_method_spec("align_to_reference(n_references=4)").label
    'align_to_reference(n_references=4)'
    >>> parse_method_spec("sort").options
    {}
    """
    return MapSpec.parse(spec)


def default_methods(action: Action, *, d: int | None = None, quick: bool = False) -> list[MapSpec]:
    """The methods available for ``action`` (``d`` channels per node), each with its default
    ``variants`` (``align_to_reference`` with 1 and 4 Gaussian references); ``quick`` drops
    the maps whose ``quick`` attribute is False (the bispectrum)."""
    return default_specs(action, d=d, quick=quick)


def resolve_methods(
    methods: Sequence[str | MapSpec] | None,
    action: Action,
    *,
    d: int | None = None,
    quick: bool = False,
) -> list[MapSpec]:
    """Turn user method specs into :class:`MapSpec` s, checked against the registry.

    Unknown names and unknown options raise ValueError / TypeError naming what is valid.
    """
    return resolve_specs(methods, action, d=d, quick=quick)


def declared_properties(spec: MapSpec, action: Action, d: int | None) -> dict[str, Any]:
    """The registry's declared guarantees of ``spec`` on ``action`` as a dict."""
    return get_map(spec.name).properties(action, d=d, **spec.options).to_dict()


def fit_projection(
    spec: MapSpec, X: np.ndarray, action: Action, *, random_state: Any, mask: Any = None
) -> Callable[..., np.ndarray]:
    """Fit the projection on ``X`` and return ``transform(Z, mask=None) -> (n, m)`` features.

    Random or data-dependent parameters (references, templates, directions) are drawn once,
    here; the returned function applies the same fitted map to any latents, which is what an
    invariance test needs.  ``fit_projection(...)(X, mask=mask)`` equals
    ``invariant_features(X, action, spec.name, random_state=random_state, mask=mask,
    **spec.options)``.
    """
    imap = spec.map
    fit_opts, transform_opts = spec.split_options()
    params = imap.fit(X, action, random_state=random_state, mask=mask, **fit_opts)

    def transform(Z: Any, mask: Any = None) -> np.ndarray:
        out = np.asarray(imap.transform(Z, action, params, mask=mask, **transform_opts), float)
        return out.reshape(len(out), -1)

    transform.random_parameters = not imap.data_free  # type: ignore[attr-defined]
    return transform
