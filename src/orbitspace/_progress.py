"""Progress bars for long work (tqdm when installed, silent otherwise)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["progress_bar"]


def progress_bar(iterable: Iterable, *, total: int | None = None, desc: str = "", **kw: Any):
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm is in the pinned requirements
        return iterable
    return tqdm(iterable, total=total, desc=desc, leave=False, dynamic_ncols=True, **kw)
