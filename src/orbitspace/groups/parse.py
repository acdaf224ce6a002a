"""``parse_action``: turn an action's ``repr`` back into the action, without ``eval``."""

from __future__ import annotations

import ast
from typing import Any

from orbitspace._validation import check_spec_length
from orbitspace.groups._base import Action
from orbitspace.groups._registry import registered_actions

__all__ = ["parse_action"]


def parse_action(spec: str | Action) -> Action:
    """Parse an action spec such as ``"SO2('4x0 + 8x1')"`` or ``"Cyclic(8, '16xregular')"``.

    Only registered constructors (:func:`~orbitspace.groups.register_action`) with literal
    arguments are accepted; nothing is evaluated.

    Examples
    --------
    >>> parse_action("Permutation(9)")
    Permutation(9)
    >>> parse_action("SO2('2x0 + 1x3')")
    SO2('2x0 + 1x3')
    """
    if isinstance(spec, Action):
        return spec
    if not isinstance(spec, str):
        raise TypeError(
            f"an action spec must be a string like \"SO2('4x0 + 8x1')\"; received {spec!r}"
        )
    check_spec_length(spec, "action spec")
    table = registered_actions()
    expected = "expected one of " + ", ".join(
        ex if len(ex) < 40 else f"{name}(...)" for name, (_, ex) in table.items()
    )
    try:
        tree = ast.parse(spec.strip(), mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"cannot parse action spec {spec!r}: {exc.msg}; {expected}") from None
    call = tree.body
    if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Name):
        raise ValueError(f"action spec {spec!r} is not a constructor call; {expected}")
    name = call.func.id
    if name not in table:
        raise ValueError(f"unknown action {name!r} in {spec!r}; {expected}")
    try:
        args: list[Any] = [_argument(a, table, spec) for a in call.args]
        kwargs = {kw.arg: _argument(kw.value, table, spec) for kw in call.keywords if kw.arg}
    except ValueError:
        raise ValueError(f"action spec {spec!r} may only contain literal arguments") from None
    try:
        return table[name][0](*args, **kwargs)
    except TypeError as exc:
        raise ValueError(f"bad arguments in action spec {spec!r}: {exc}") from None


def _argument(node: ast.AST, table: dict, spec: str) -> Any:
    """A literal, or a nested registered action (``Product(Permutation(9), SO3('1x1o'))``)."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in table:
        return parse_action(ast.unparse(node))
    return ast.literal_eval(node)
