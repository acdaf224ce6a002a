"""2-D maps of latent codes: PCA / t-SNE / UMAP coordinates and side-by-side scatter grids."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from orbitspace._validation import check_array, check_random_state
from orbitspace.plot._style import CATEGORICAL_MAX, categorical_colors, new_figure, plot_style

__all__ = ["embed_2d", "embedding_grid", "is_categorical", "EMBEDDING_METHODS"]

EMBEDDING_METHODS = ("pca", "tsne", "umap")


def _seed(random_state: Any) -> int:
    return int(check_random_state(random_state).integers(0, 2**31 - 1))


def embed_2d(Z: Any, method: str = "pca", random_state: Any = 0, **options: Any) -> np.ndarray:
    """Two-dimensional coordinates of the rows of ``Z``.

    Parameters
    ----------
    Z : array of shape (n_samples, ...)
        Codes; trailing axes are flattened.
    method : {"pca", "tsne", "umap"}
        PCA (numpy SVD, deterministic up to sign, fixed here by making the largest-magnitude
        loading positive), t-SNE (openTSNE) or UMAP (umap-learn).
    random_state : int, Generator or None
    **options
        Passed to openTSNE.TSNE (e.g. ``perplexity``) or umap.UMAP (e.g. ``n_neighbors``).

    Returns
    -------
    array of shape (n_samples, 2)

    Examples
    --------
    >>> embed_2d(np.eye(4), "pca").shape
    (4, 2)
    """
    Z = check_array(Z, "Z", min_ndim=1)
    Z = Z.reshape(len(Z), -1) if Z.ndim > 1 else Z[:, None]
    n = len(Z)
    if method not in EMBEDDING_METHODS:
        raise ValueError(f"method must be one of {EMBEDDING_METHODS}; received {method!r}")
    if n == 0:
        return np.zeros((0, 2))
    if method == "pca" or n < 5:
        return _pca_2d(Z)
    if method == "tsne":
        return _tsne_2d(Z, _seed(random_state), **options)
    return _umap_2d(Z, _seed(random_state), **options)


def _pca_2d(Z: np.ndarray) -> np.ndarray:
    Zc = Z - Z.mean(axis=0)
    _, _, Vt = np.linalg.svd(Zc, full_matrices=False)
    comps = Vt[:2]
    # deterministic sign: the largest-magnitude loading of each component is positive
    signs = np.sign(comps[np.arange(len(comps)), np.abs(comps).argmax(axis=1)])
    signs[signs == 0] = 1.0
    out = Zc @ (comps * signs[:, None]).T
    if out.shape[1] < 2:
        out = np.pad(out, ((0, 0), (0, 2 - out.shape[1])))
    return out


def _tsne_2d(Z: np.ndarray, seed: int, **options: Any) -> np.ndarray:
    from openTSNE import TSNE

    n = len(Z)
    options.setdefault("perplexity", 30.0)
    options["perplexity"] = float(min(options["perplexity"], max(1.0, (n - 1) / 3.0)))
    options.setdefault("n_jobs", 1)
    options.setdefault("verbose", False)
    emb = TSNE(n_components=2, random_state=seed, **options).fit(Z)
    return np.asarray(emb, dtype=float)


def _umap_2d(Z: np.ndarray, seed: int, **options: Any) -> np.ndarray:
    import warnings

    import umap

    n = len(Z)
    options.setdefault("n_neighbors", 15)
    options["n_neighbors"] = int(min(options["n_neighbors"], n - 1))
    options.setdefault("min_dist", 0.1)
    with warnings.catch_warnings():
        # umap warns that a fixed random_state disables parallelism: that is what we want
        warnings.simplefilter("ignore", UserWarning)
        reducer = umap.UMAP(n_components=2, random_state=seed, n_jobs=1, **options)
        return np.asarray(reducer.fit_transform(Z), dtype=float)


def is_categorical(values: Any) -> bool:
    """True when ``values`` look like class labels (non-numeric, or few distinct integers)."""
    v = np.asarray(values)
    if v.dtype.kind in "OUSb":
        return True
    if v.dtype.kind in "iu":
        return len(np.unique(v)) <= CATEGORICAL_MAX
    if v.dtype.kind == "f":
        finite = v[np.isfinite(v)]
        return bool(
            finite.size
            and np.all(finite == np.round(finite))
            and len(np.unique(finite)) <= min(CATEGORICAL_MAX, 12)
        )
    return False


def embedding_grid(
    embeddings: Mapping[str, Any],
    colors: Mapping[str, Any] | None = None,
    *,
    categorical: Mapping[str, bool] | None = None,
    title: str | None = None,
    panel_size: float = 3.0,
    point_size: float | None = None,
    cmap: str = "viridis",
) -> Any:
    """Scatter plots of several 2-D embeddings side by side, one row per colouring.

    Parameters
    ----------
    embeddings : mapping name -> array of shape (n_samples, 2)
        The columns of the grid (e.g. ``{"raw codes": E_raw, "sort": E_sort}``); all share the
        same rows (samples) so that colours can be compared across columns.
    colors : mapping name -> array of shape (n_samples,), optional
        The rows of the grid (e.g. ``{"digit": labels, "angle": angles}``).  Categorical
        colourings get a legend, continuous ones a colourbar.  None: one uncoloured row.
    categorical : mapping name -> bool, optional
        Overrides the automatic choice (:func:`is_categorical`).
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> E = np.random.default_rng(0).normal(size=(50, 2))
    >>> fig = embedding_grid({"raw": E, "invariant": -E}, {"label": np.arange(50) % 3})
    >>> len(fig.axes) >= 2
    True
    """
    if not embeddings:
        raise ValueError("embeddings must hold at least one (n_samples, 2) array; received none")
    names = list(embeddings)
    arrays = [check_array(embeddings[k], f"embeddings[{k!r}]", last_dims=(None, 2)) for k in names]
    n = len(arrays[0])
    for k, a in zip(names, arrays):
        if a.shape != (n, 2):
            raise ValueError(
                f"every embedding must have shape ({n}, 2); embeddings[{k!r}] has shape {a.shape}"
            )
    color_items: Sequence[tuple[str, Any]] = list((colors or {}).items()) or [("", None)]
    for k, c in color_items:
        if c is not None and len(np.asarray(c)) != n:
            raise ValueError(
                f"colors[{k!r}] has {len(np.asarray(c))} values but the embeddings have {n} rows"
            )
    with plot_style():
        return _grid(names, arrays, color_items, categorical, title, panel_size, point_size, cmap)


def _grid(names, arrays, color_items, categorical, title, panel_size, point_size, cmap):
    n = len(arrays[0])
    n_rows, n_cols = len(color_items), len(names)
    size = point_size if point_size is not None else float(np.clip(3000.0 / max(n, 1), 2.0, 30.0))
    fig = new_figure(
        figsize=(panel_size * n_cols + 1.4, panel_size * n_rows + (0.5 if title else 0.2))
    )
    axes = fig.subplots(n_rows, n_cols, squeeze=False)
    for r, (cname, cvals) in enumerate(color_items):
        is_cat = False
        if cvals is not None:
            is_cat = (categorical or {}).get(cname, is_categorical(cvals))
        mappable, handles = None, None
        for c, (ename, E) in enumerate(zip(names, arrays)):
            ax = axes[r, c]
            if cvals is None:
                ax.scatter(E[:, 0], E[:, 1], s=size, c="#3b6ea8", alpha=0.7, linewidths=0)
            elif is_cat:
                handles = _scatter_categorical(ax, E, np.asarray(cvals), size)
            else:
                mappable = _scatter_continuous(ax, E, np.asarray(cvals, dtype=float), size, cmap)
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(True)
                spine.set_color("#d0d5dd")
            if r == 0:
                ax.set_title(ename, fontsize=10)
            if c == 0 and cname:
                ax.set_ylabel(f"colour: {cname}", fontsize=9)
        if handles is not None:
            axes[r, -1].legend(
                handles=handles,
                title=cname,
                fontsize=7,
                title_fontsize=8,
                frameon=False,
                loc="center left",
                bbox_to_anchor=(1.0, 0.5),
                markerscale=1.2,
            )
        if mappable is not None:
            cb = fig.colorbar(mappable, ax=list(axes[r]), fraction=0.025, pad=0.01)
            cb.set_label(cname, fontsize=8)
            cb.ax.tick_params(labelsize=7)
    if title:
        fig.suptitle(title, fontsize=11)
    return fig


def _scatter_categorical(ax: Any, E: np.ndarray, values: np.ndarray, size: float) -> list:
    from matplotlib.lines import Line2D

    classes = np.unique(values)
    palette = categorical_colors(len(classes))
    order = np.random.default_rng(0).permutation(len(E))  # no class painted on top of all others
    idx = np.searchsorted(classes, values[order])
    ax.scatter(E[order, 0], E[order, 1], s=size, c=palette[idx], alpha=0.8, linewidths=0)
    shown = classes[:CATEGORICAL_MAX]
    handles = [
        Line2D([], [], ls="", marker="o", ms=4, color=palette[i], label=str(v))
        for i, v in enumerate(shown)
    ]
    return handles


def _scatter_continuous(ax: Any, E: np.ndarray, values: np.ndarray, size: float, cmap: str):
    finite = np.isfinite(values)
    lo, hi = np.percentile(values[finite], [1, 99]) if finite.any() else (0.0, 1.0)
    if hi <= lo:
        hi = lo + 1.0
    ax.scatter(E[~finite, 0], E[~finite, 1], s=size, c="#cccccc", linewidths=0)
    return ax.scatter(
        E[finite, 0],
        E[finite, 1],
        s=size,
        c=values[finite],
        cmap=cmap,
        vmin=lo,
        vmax=hi,
        alpha=0.85,
        linewidths=0,
    )
