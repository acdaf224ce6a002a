"""One text format for naming an invariant map with options: ``align_to_reference(n_references=4)``.

A spec names a registered map and its options with literal values; it is parsed with
:mod:`ast`, never evaluated.  Reports, the CLI and the studies all use :class:`MapSpec`.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from orbitspace.groups import Action
from orbitspace.invariants._map import InvariantMap
from orbitspace.invariants.registry import available_methods, get_map

__all__ = ["MapSpec", "default_specs", "resolve_specs"]


@dataclass(frozen=True)
class MapSpec:
    """A map to run: the registry ``name`` and its ``options``.

    Examples
    --------
    >>> spec = MapSpec.parse("align_to_reference(n_references=4)")
    >>> spec.name, spec.options, spec.label
    ('align_to_reference', {'n_references': 4}, 'align_to_reference(n_references=4)')
    >>> spec.file_stem
    'align_to_reference_n_references4'
    >>> MapSpec.parse("sort").options
    {}
    """

    name: str
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """How it is shown in tables and used as a metrics key."""
        if not self.options:
            return self.name
        args = ", ".join(f"{k}={v!r}" for k, v in self.options.items())
        return f"{self.name}({args})"

    @property
    def file_stem(self) -> str:
        """A file-name-safe version of the label (``align_to_reference_n_references4``)."""
        parts = [self.name] + [f"{k}{v}" for k, v in self.options.items()]
        return re.sub(r"[^A-Za-z0-9_.-]+", "", "_".join(str(p) for p in parts)) or "method"

    @property
    def map(self) -> InvariantMap:
        """The registered :class:`InvariantMap` (ValueError for an unknown name)."""
        return get_map(self.name)

    @classmethod
    def parse(cls, text: str | MapSpec) -> MapSpec:
        """Parse ``"name"`` or ``"name(key=literal, ...)"`` (a MapSpec is returned as is)."""
        if isinstance(text, MapSpec):
            return text
        if not isinstance(text, str) or not text.strip():
            raise TypeError(f"a method spec must be a string like 'max_filter'; received {text!r}")
        try:
            node = ast.parse(text.strip(), mode="eval").body
        except SyntaxError:
            raise ValueError(
                f"cannot parse method spec {text!r}; expected NAME or NAME(key=value, ...)"
            ) from None
        if isinstance(node, ast.Name):
            return cls(node.id)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.args:
            try:
                options = {kw.arg: ast.literal_eval(kw.value) for kw in node.keywords if kw.arg}
            except ValueError:
                raise ValueError(
                    f"method spec {text!r} may only contain literal option values"
                ) from None
            return cls(node.func.id, options)
        raise ValueError(
            f"cannot parse method spec {text!r}; expected NAME or NAME(key=value, ...)"
        )

    def check(self, action: Action, *, d: int | None = None) -> MapSpec:
        """Check the name, the option names and values against ``action``; return ``self``.

        Unknown names and options raise ValueError naming what is valid.
        """
        available = available_methods(action, d=d)
        if self.name not in available:
            raise ValueError(
                f"unknown method {self.name!r} for {action!r}"
                + (f" with d={d}" if d is not None else "")
                + f"; available: {', '.join(available)}"
            )
        imap = self.map
        allowed = {**imap.fit_options, **imap.transform_options}
        unknown = sorted(set(self.options) - set(allowed))
        if unknown:
            raise ValueError(
                f"unknown option(s) {', '.join(unknown)} for method {self.name!r}; its options: "
                f"{', '.join(f'{k} (default {v!r})' for k, v in allowed.items()) or 'none'}"
            )
        imap.properties(action, d=d, **self.options)  # checks the option values
        return self

    def split_options(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The options for the map's ``fit`` and for its ``transform``."""
        return self.map.split_options(self.options)


def default_specs(action: Action, *, d: int | None = None, quick: bool = False) -> list[MapSpec]:
    """Every map available for ``action`` with each of its default ``variants``; ``quick``
    drops the maps whose ``quick`` attribute is False.

    Examples
    --------
    >>> from orbitspace import SO2
    >>> [s.label for s in default_specs(SO2("1x1"), quick=True)]  # doctest: +NORMALIZE_WHITESPACE
    ['align_to_reference(n_references=1)', 'align_to_reference(n_references=4)', 'max_filter',
     'norms', 'power_spectrum']
    """
    specs: list[MapSpec] = []
    for name in available_methods(action, d=d):
        imap = get_map(name)
        if quick and not imap.quick:
            continue
        specs.extend(MapSpec(name, dict(options)) for options in imap.variants)
    return specs


def resolve_specs(
    methods: Sequence[str | MapSpec] | str | MapSpec | None,
    action: Action,
    *,
    d: int | None = None,
    quick: bool = False,
) -> list[MapSpec]:
    """User method specs as checked :class:`MapSpec` s (None: :func:`default_specs`)."""
    if methods is None:
        return default_specs(action, d=d, quick=quick)
    if isinstance(methods, (str, MapSpec)):
        methods = [methods]
    specs = [MapSpec.parse(m) for m in methods]
    if not specs:
        raise ValueError("methods must name at least one projection")
    for spec in specs:
        spec.check(action, d=d)
    labels = [s.label for s in specs]
    dupes = sorted({x for x in labels if labels.count(x) > 1})
    if dupes:
        raise ValueError(f"method(s) listed twice: {', '.join(dupes)}")
    return specs
