"""The table of action constructors that :func:`~orbitspace.parse_action` may call."""

from __future__ import annotations

from typing import Any

__all__ = ["register_action", "registered_actions"]

_ACTIONS: dict[str, tuple[type, str]] = {}


def register_action(example: str):
    """Class decorator: make ``parse_action`` accept ``ClassName(...)`` with literal arguments.

    ``example`` is a spec shown in parse errors, e.g. ``"SO2('4x0 + 8x1')"``.

    Examples
    --------
    >>> from orbitspace.groups import Action
    >>> registered_actions()["SO2"][1]
    "SO2('4x0 + 8x1')"
    """

    def deco(cls: Any) -> Any:
        _ACTIONS[cls.__name__] = (cls, example)
        return cls

    return deco


def registered_actions() -> dict[str, tuple[type, str]]:
    """Name -> (class, example spec) of every registered action."""
    return dict(_ACTIONS)
