"""Which invariant projections an analysis runs: specs like ``align_to_reference(n_references=4)``.

A spec names a method of :mod:`orbitspace.invariants` and its options with literal values; it
is parsed with :mod:`ast`, never evaluated.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from orbitspace.groups import Action

__all__ = [
    "MethodSpec",
    "parse_method_spec",
    "resolve_methods",
    "default_methods",
    "fit_projection",
    "declared_properties",
    "QUICK_SKIP",
]

#: methods whose default options are too expensive for ``quick`` runs on large inputs
QUICK_SKIP: frozenset[str] = frozenset({"bispectrum"})

#: default option sets per method name (a method absent here runs once with its defaults)
_DEFAULT_VARIANTS: dict[str, list[dict[str, Any]]] = {
    "align_to_reference": [{"n_references": 1}, {"n_references": 4}],
}


@dataclass(frozen=True)
class MethodSpec:
    """A projection to run: the registry ``name`` and its ``options``.

    ``label`` is how it is shown in tables and used as a metrics key, e.g.
    ``"align_to_reference(n_references=4)"``.
    """

    name: str
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        if not self.options:
            return self.name
        args = ", ".join(f"{k}={v!r}" for k, v in self.options.items())
        return f"{self.name}({args})"

    @property
    def file_stem(self) -> str:
        """A file-name-safe version of the label (``align_to_reference_n_references4``)."""
        parts = [self.name] + [f"{k}{v}" for k, v in self.options.items()]
        return re.sub(r"[^A-Za-z0-9_.-]+", "", "_".join(str(p) for p in parts)) or "method"


def parse_method_spec(spec: str | MethodSpec) -> MethodSpec:
    """Parse ``"name"`` or ``"name(key=literal, ...)"`` into a :class:`MethodSpec`.

    Examples
    --------
    >>> parse_method_spec("align_to_reference(n_references=4)").label
    'align_to_reference(n_references=4)'
    >>> parse_method_spec("sort").options
    {}
    """
    if isinstance(spec, MethodSpec):
        return spec
    if not isinstance(spec, str) or not spec.strip():
        raise TypeError(f"a method spec must be a string like 'max_filter'; received {spec!r}")
    text = spec.strip()
    try:
        node = ast.parse(text, mode="eval").body
    except SyntaxError:
        raise ValueError(
            f"cannot parse method spec {spec!r}; expected NAME or NAME(key=value, ...)"
        ) from None
    if isinstance(node, ast.Name):
        return MethodSpec(node.id)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.args:
        try:
            options = {kw.arg: ast.literal_eval(kw.value) for kw in node.keywords if kw.arg}
        except ValueError:
            raise ValueError(
                f"method spec {spec!r} may only contain literal option values"
            ) from None
        return MethodSpec(node.func.id, options)
    raise ValueError(f"cannot parse method spec {spec!r}; expected NAME or NAME(key=value, ...)")


def _available(action: Action, d: int | None) -> list[str]:
    from orbitspace.invariants import available_methods

    return list(available_methods(action, d=d))


def default_methods(
    action: Action, *, d: int | None = None, quick: bool = False
) -> list[MethodSpec]:
    """The methods available for ``action`` (``d`` channels per node), with default variants.

    ``align_to_reference`` runs with 1 and 4 Gaussian references; ``quick`` drops the methods
    in :data:`QUICK_SKIP`.
    """
    specs: list[MethodSpec] = []
    for name in _available(action, d):
        if quick and name in QUICK_SKIP:
            continue
        for options in _DEFAULT_VARIANTS.get(name, [{}]):
            specs.append(MethodSpec(name, dict(options)))
    return specs


def resolve_methods(
    methods: Sequence[str | MethodSpec] | None,
    action: Action,
    *,
    d: int | None = None,
    quick: bool = False,
) -> list[MethodSpec]:
    """Turn user method specs into :class:`MethodSpec` s, checked against the registry.

    Unknown names and unknown options raise ValueError / TypeError naming what is valid.
    """
    from orbitspace.invariants import get_map

    if methods is None:
        return default_methods(action, d=d, quick=quick)
    if isinstance(methods, (str, MethodSpec)):
        methods = [methods]
    specs = [parse_method_spec(m) for m in methods]
    if not specs:
        raise ValueError("methods must name at least one projection")
    available = _available(action, d)
    for spec in specs:
        if spec.name not in available:
            raise ValueError(
                f"unknown method {spec.name!r} for {action!r}"
                + (f" with d={d}" if d is not None else "")
                + f"; available: {', '.join(available)}"
            )
        imap = get_map(spec.name)
        allowed = {**imap.fit_options, **imap.transform_options}
        unknown = sorted(set(spec.options) - set(allowed))
        if unknown:
            raise ValueError(
                f"unknown option(s) {', '.join(unknown)} for method {spec.name!r}; its options: "
                f"{', '.join(f'{k} (default {v!r})' for k, v in allowed.items()) or 'none'}"
            )
        imap.properties(action, d=d, **spec.options)  # checks the option values
    labels = [s.label for s in specs]
    dupes = sorted({x for x in labels if labels.count(x) > 1})
    if dupes:
        raise ValueError(f"method(s) listed twice: {', '.join(dupes)}")
    return specs


def declared_properties(spec: MethodSpec, action: Action, d: int | None) -> dict[str, Any]:
    """The registry's declared guarantees of ``spec`` on ``action`` as a dict."""
    from orbitspace.invariants import get_map

    return get_map(spec.name).properties(action, d=d, **spec.options).to_dict()


def fit_projection(
    spec: MethodSpec, X: np.ndarray, action: Action, *, random_state: Any, mask: Any = None
) -> Callable[..., np.ndarray]:
    """Fit the projection on ``X`` and return ``transform(Z, mask=None) -> (n, m)`` features.

    Random or data-dependent parameters (references, templates, directions) are drawn once,
    here; the returned function applies the same fitted map to any latents, which is what an
    invariance test needs.  ``fit_projection(...)(X, mask=mask)`` equals
    ``invariant_features(X, action, spec.name, random_state=random_state, mask=mask,
    **spec.options)``.
    """
    from orbitspace.invariants import get_map

    imap = get_map(spec.name)
    fit_opts = {k: v for k, v in spec.options.items() if k in imap.fit_options}
    transform_opts = {k: v for k, v in spec.options.items() if k not in imap.fit_options}
    params = imap.fit(X, action, random_state=random_state, mask=mask, **fit_opts)
    has_params = bool(params)

    def transform(Z: Any, mask: Any = None) -> np.ndarray:
        out = np.asarray(imap.transform(Z, action, params, mask=mask, **transform_opts), float)
        return out.reshape(len(out), -1)

    transform.random_parameters = has_params  # type: ignore[attr-defined]
    return transform
