"""Parsing and printing representation strings such as ``"4x0 + 8x1 + 2x3"``."""

from __future__ import annotations

import re

from orbitspace._validation import (
    check_representation_size,
    check_spec_length,
    digits_to_int,
    shorten,
)

__all__ = ["parse_terms", "format_terms"]

_TERM = re.compile(r"^\s*(?:(\d+)\s*x\s*)?([A-Za-z]+|\d+)\s*$")


def parse_terms(text: str, *, allow_regular: bool, owner: str) -> tuple[tuple[int, int | str], ...]:
    """Parse ``"4x0 + 8x1 + 2xregular"`` into ``((4, 0), (8, 1), (2, 'regular'))``.

    Errors point at the offending token.
    """
    if not isinstance(text, str):
        raise TypeError(
            f"{owner} expects a representation string like '4x0 + 8x1'; received {text!r}"
        )
    if not text.strip():
        raise ValueError(f"{owner}: empty representation string; expected e.g. '4x0 + 8x1'")
    check_spec_length(text, f"{owner}: the representation string")
    quoted = repr(shorten(text))
    terms: list[tuple[int, int | str]] = []
    pos = 0
    for token in text.split("+"):
        match = _TERM.match(token)
        start = pos + (len(token) - len(token.lstrip()))
        pointer = f"\n    {text}\n    {' ' * start}{'^' * max(1, len(token.strip()))}"
        pointer = pointer if len(text) <= 200 else ""
        if match is None:
            raise ValueError(
                f"{owner}: cannot parse term {shorten(token.strip())!r} of {quoted}; expected "
                f"'<multiplicity>x<frequency>'{' or <m>xregular' if allow_regular else ''}{pointer}"
            )
        mult = digits_to_int(match.group(1)) if match.group(1) is not None else 1
        kind_text = match.group(2)
        if kind_text.isdigit():
            kind: int | str = digits_to_int(kind_text)
        elif kind_text.lower() == "regular" and allow_regular:
            kind = "regular"
        else:
            allowed = "a non-negative integer frequency" + (
                " or 'regular'" if allow_regular else ""
            )
            raise ValueError(
                f"{owner}: unknown irrep {shorten(kind_text)!r} in {quoted}; expected {allowed}{pointer}"
            )
        if mult == 0:
            raise ValueError(
                f"{owner}: multiplicity 0 in term {token.strip()!r} of {quoted}{pointer}"
            )
        terms.append((mult, kind))
        pos += len(token) + 1
    if not allow_regular:  # SO(2); Cyclic checks its size once it knows N
        check_representation_size(terms, owner=owner)
    return tuple(terms)


def format_terms(terms: tuple[tuple[int, int | str], ...]) -> str:
    return " + ".join(f"{m}x{k}" for m, k in terms)
