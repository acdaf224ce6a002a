"""Parsing and printing e3nn irreps strings such as ``"8x0e + 4x1o + 2x2e"``."""

from __future__ import annotations

import re

__all__ = ["MAX_L", "MAX_DIM", "parse_irreps", "format_irreps"]

#: the largest degree l accepted (D^16 is 33 x 33)
MAX_L = 16
#: the largest total dimension accepted
MAX_DIM = 1 << 20

_TERM = re.compile(r"^\s*(?:([+-]?\d+)\s*x\s*)?(\d+)\s*([A-Za-z]?)\s*$")


def parse_irreps(
    text: str, *, owner: str, require_parity: bool
) -> tuple[tuple[int, int, int], ...]:
    """Parse ``"8x0e + 4x1o + 1x2y"`` into ``((8, 0, 1), (4, 1, -1), (1, 2, 1))``.

    Each term is ``<multiplicity>x<l><parity>`` (e3nn's syntax; the multiplicity may be left
    out, meaning 1).  Parity ``e`` is +1, ``o`` is -1 and ``y`` is ``(-1)^l`` (the parity of
    the spherical harmonics, as in e3nn).  Without ``require_parity`` a missing parity also
    means ``(-1)^l``.

    Examples
    --------
    >>> parse_irreps("8x0e + 4x1o + 2y", owner="SO3", require_parity=True)
    ((8, 0, 1), (4, 1, -1), (1, 2, 1))
    """
    if not isinstance(text, str):
        raise TypeError(
            f"{owner} expects an irreps string like '8x0e + 4x1o + 2x2e'; received {text!r}"
        )
    if not text.strip():
        raise ValueError(f"{owner}: empty irreps string; expected e.g. '8x0e + 4x1o + 2x2e'")
    terms: list[tuple[int, int, int]] = []
    dim = 0
    for token in text.split("+"):
        tok = token.strip()
        match = _TERM.match(token)
        if match is None:
            raise ValueError(
                f"{owner}: cannot parse term {tok!r} of {text!r}; expected "
                f"'<multiplicity>x<l><parity>' such as '4x1o'"
            )
        mult = int(match.group(1)) if match.group(1) is not None else 1
        ell = int(match.group(2))
        par = match.group(3).lower()
        if mult < 1:
            raise ValueError(
                f"{owner}: multiplicity must be >= 1 in term {tok!r} of {text!r}; received {mult}"
            )
        if ell > MAX_L:
            raise ValueError(
                f"{owner}: degree l must be <= MAX_L={MAX_L} in term {tok!r}; received l={ell}"
            )
        if par == "" and require_parity:
            raise ValueError(
                f"{owner}: term {tok!r} of {text!r} has no parity; expected 'e', 'o' or 'y' "
                f"after the degree, e.g. '{mult}x{ell}e'"
            )
        if par in ("", "y"):
            p = (-1) ** ell
        elif par in ("e", "o"):
            p = 1 if par == "e" else -1
        else:
            raise ValueError(
                f"{owner}: unknown parity {match.group(3)!r} in term {tok!r} of {text!r}; "
                f"expected 'e', 'o' or 'y'"
            )
        dim += mult * (2 * ell + 1)
        if dim > MAX_DIM:
            raise ValueError(
                f"{owner}: total dimension must be <= MAX_DIM={MAX_DIM}; {text!r} reaches {dim}"
            )
        terms.append((mult, ell, p))
    return tuple(terms)


def format_irreps(terms: tuple[tuple[int, int, int], ...]) -> str:
    """Print terms the way e3nn does (``'8x0e + 4x1o'``, with spaces around ``+``)."""
    return " + ".join(f"{m}x{ell}{'e' if p == 1 else 'o'}" for m, ell, p in terms)
