"""Figures for latent analyses, made with matplotlib without pyplot (no display needed).

>>> import numpy as np
>>> from orbitspace.plot import embed_2d, embedding_grid
>>> Z = np.random.default_rng(0).normal(size=(40, 6))
>>> fig = embedding_grid({"raw": embed_2d(Z, "pca")}, {"label": np.arange(40) % 2})
"""

from orbitspace.plot._style import SERIES_COLORS, new_figure, plot_style
from orbitspace.plot.charts import bar_chart, line_chart
from orbitspace.plot.embedding import EMBEDDING_METHODS, embed_2d, embedding_grid, is_categorical

__all__ = [
    "embed_2d",
    "embedding_grid",
    "is_categorical",
    "bar_chart",
    "line_chart",
    "new_figure",
    "plot_style",
    "SERIES_COLORS",
    "EMBEDDING_METHODS",
]
