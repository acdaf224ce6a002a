"""Bar and line charts comparing raw codes with invariant projections."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from orbitspace.plot._style import SERIES_COLORS, new_figure, plot_style

__all__ = ["bar_chart", "line_chart"]


def bar_chart(
    values: Mapping[str, Mapping[str, float]],
    *,
    ylabel: str = "",
    title: str | None = None,
    errors: Mapping[str, Mapping[str, float]] | None = None,
    log: bool = False,
    reference: float | None = None,
    figsize: tuple[float, float] | None = None,
) -> Any:
    """Grouped bars: one group per key of ``values``, one bar per series inside a group.

    Parameters
    ----------
    values : mapping group -> (mapping series -> value)
        E.g. ``{"linear": {"raw": 0.6, "sort": 0.9}, "knn": {...}}``.  Missing or non-finite
        values leave a gap.  A series keeps its colour across groups.
    errors : same shape as ``values``, optional
        Half-widths of error bars (e.g. standard deviations over folds).
    log : bool
        Logarithmic value axis (for invariance errors spanning many decades).
    reference : float, optional
        A horizontal dashed line (e.g. chance level).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = bar_chart({"linear": {"raw": 0.5, "sort": 0.9}}, ylabel="accuracy")
    >>> fig.axes[0].get_ylabel()
    'accuracy'
    """
    groups = list(values)
    series: list[str] = []
    for g in groups:
        for s in values[g]:
            if s not in series:
                series.append(s)
    with plot_style():
        width_in = figsize or (max(4.0, 0.9 + 0.32 * len(groups) * max(len(series), 1)), 3.0)
        fig = new_figure(figsize=width_in)
        ax = fig.subplots()
        width = 0.8 / max(len(series), 1)
        x = np.arange(len(groups))
        for i, s in enumerate(series):
            ys = np.array([_get(values, g, s) for g in groups], dtype=float)
            errs = None
            if errors is not None:
                errs = np.array([_get(errors, g, s) for g in groups], dtype=float)
                errs = np.where(np.isfinite(errs), errs, 0.0)
            shown = np.where(np.isfinite(ys), ys, np.nan)
            if log:
                shown = np.where(shown > 0, shown, np.nan)
            ax.bar(
                x + (i - (len(series) - 1) / 2) * width,
                shown,
                width * 0.92,
                yerr=errs,
                label=s,
                color=SERIES_COLORS[i % len(SERIES_COLORS)],
                capsize=2,
                error_kw={"elinewidth": 0.8},
            )
        if log:
            ax.set_yscale("log")
        if reference is not None:
            ax.axhline(reference, color="#444444", lw=0.8, ls="--")
        ax.set_xticks(x, groups)
        ax.set_ylabel(ylabel)
        if title:
            ax.set_title(title)
        if len(series) > 1:
            ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return fig


def _get(values: Mapping[str, Mapping[str, float]], group: str, series: str) -> float:
    v = values.get(group, {}).get(series)
    try:
        return float(v) if v is not None else float("nan")
    except (TypeError, ValueError):
        return float("nan")


def line_chart(
    x: Sequence[float],
    series: Mapping[str, Sequence[float]],
    *,
    xlabel: str = "",
    ylabel: str = "",
    title: str | None = None,
    logx: bool = False,
    logy: bool = False,
    bands: Mapping[str, Sequence[float]] | None = None,
    figsize: tuple[float, float] = (4.8, 3.0),
) -> Any:
    """Lines sharing one x axis, e.g. probe accuracy against the number of random projections.

    Parameters
    ----------
    x : sequence of shape (n_points,)
    series : mapping name -> sequence of shape (n_points,)
    bands : mapping name -> sequence of shape (n_points,), optional
        Half-widths of a shaded band around each line.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = line_chart([1, 2, 4], {"sort": [0.5, 0.7, 0.8]}, xlabel="K")
    >>> fig.axes[0].get_xlabel()
    'K'
    """
    xs = np.asarray(x, dtype=float)
    with plot_style():
        fig = new_figure(figsize=figsize)
        ax = fig.subplots()
        for i, (name, ys) in enumerate(series.items()):
            ys = np.asarray(ys, dtype=float)
            if ys.shape != xs.shape:
                raise ValueError(f"series {name!r} has shape {ys.shape} but x has shape {xs.shape}")
            color = SERIES_COLORS[i % len(SERIES_COLORS)]
            ax.plot(xs, ys, marker="o", ms=3, lw=1.4, label=name, color=color)
            if bands is not None and name in bands:
                b = np.asarray(bands[name], dtype=float)
                ax.fill_between(xs, ys - b, ys + b, color=color, alpha=0.18, lw=0)
        if logx:
            ax.set_xscale("log")
        if logy:
            ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        if title:
            ax.set_title(title)
        if len(series) > 1:
            ax.legend(fontsize=7, loc="best")
    return fig
