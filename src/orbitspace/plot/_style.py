"""The house style: figures made without pyplot (no global state, no display needed)."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["new_figure", "plot_style", "categorical_colors", "CATEGORICAL_MAX", "SERIES_COLORS"]

#: at most this many classes get their own colour and legend entry
CATEGORICAL_MAX = 20

#: colours for series (raw codes first, then projections), colour-blind safe (Okabe-Ito)
SERIES_COLORS = (
    "#7f7f7f",  # raw codes: grey
    "#0072b2",
    "#e69f00",
    "#009e73",
    "#cc79a7",
    "#56b4e9",
    "#d55e00",
    "#f0e442",
    "#000000",
)

_RC = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": False,
    "legend.frameon": False,
    "savefig.dpi": 150,
    "figure.dpi": 100,
}


def plot_style():
    """Context manager applying the house style while artists are created."""
    import matplotlib

    return matplotlib.rc_context(_RC)


def new_figure(figsize: tuple[float, float] = (6.0, 4.0), **kw: Any):
    """A matplotlib ``Figure`` with constrained layout, created without pyplot."""
    from matplotlib.figure import Figure

    with plot_style():
        fig = Figure(figsize=figsize, layout="constrained", **kw)
    return fig


def categorical_colors(n: int) -> np.ndarray:
    """``n`` distinct RGBA colours (tab10 up to 10 classes, tab20 up to 20, then cycled)."""
    import matplotlib

    name = "tab10" if n <= 10 else "tab20"
    cmap = matplotlib.colormaps[name]
    base = np.asarray(cmap.colors if hasattr(cmap, "colors") else cmap(np.linspace(0, 1, 20)))
    return base[np.arange(max(n, 1)) % len(base)]
