"""2-D embeddings and figures: shapes, determinism, PCA correctness, legends and colourbars."""

from __future__ import annotations

import numpy as np
import pytest

from orbitspace.plot import bar_chart, embed_2d, embedding_grid, is_categorical, line_chart


def test_pca_is_the_top_two_principal_components():
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(200, 5)) * np.array([5.0, 3.0, 1.0, 0.5, 0.1])
    E = embed_2d(Z, "pca")
    assert E.shape == (200, 2)
    np.testing.assert_allclose(E.mean(axis=0), 0, atol=1e-12)
    # variances of the coordinates are the two largest eigenvalues of the covariance
    eig = np.sort(np.linalg.eigvalsh(np.cov(Z.T)))[::-1]
    np.testing.assert_allclose(E.var(axis=0, ddof=1), eig[:2], rtol=1e-10)
    # deterministic sign, and a 1-D input is padded to two columns
    np.testing.assert_array_equal(E, embed_2d(Z.copy(), "pca"))
    assert embed_2d(Z[:, 0], "pca").shape == (200, 2)


def test_tsne_and_umap_are_seeded():
    Z = np.random.default_rng(1).normal(size=(60, 4))
    for method in ("tsne", "umap"):
        a, b = embed_2d(Z, method, random_state=3), embed_2d(Z, method, random_state=3)
        assert a.shape == (60, 2) and np.all(np.isfinite(a))
        np.testing.assert_allclose(a, b)
    with pytest.raises(ValueError, match="method must be one of"):
        embed_2d(Z, "mds")


def test_is_categorical():
    assert is_categorical(np.array(["a", "b"]))
    assert is_categorical(np.arange(100) % 10)
    assert not is_categorical(np.linspace(0, 1, 50))
    assert not is_categorical(np.arange(100))


def test_embedding_grid_layout():
    E = np.random.default_rng(0).normal(size=(40, 2))
    fig = embedding_grid(
        {"raw": E, "inv": -E},
        {"label": np.arange(40) % 4, "value": np.linspace(0, 1, 40)},
        title="t",
    )
    axes = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert len(axes) == 4  # 2 colourings x 2 embeddings
    legends = [ax.get_legend() for ax in axes if ax.get_legend() is not None]
    assert len(legends) == 1 and len(legends[0].get_texts()) == 4
    assert len(fig.axes) == 5  # plus one colourbar for the continuous row
    with pytest.raises(ValueError, match="40 rows"):
        embedding_grid({"raw": E}, {"label": np.arange(39)})
    with pytest.raises(ValueError, match="shape"):
        embedding_grid({"raw": E, "bad": E[:10]})


def test_charts():
    fig = bar_chart(
        {"linear": {"raw": 0.5, "sort": 0.9}, "knn": {"raw": 0.4}},
        ylabel="acc",
        errors={"linear": {"raw": 0.1}},
        reference=0.25,
    )
    ax = fig.axes[0]
    heights = sorted(p.get_height() for p in ax.patches if np.isfinite(p.get_height()))
    assert heights == [0.4, 0.5, 0.9]
    fig = line_chart([1, 2, 4], {"a": [1, 2, 3]}, xlabel="K", logx=True)
    assert fig.axes[0].get_xscale() == "log"
    with pytest.raises(ValueError, match="shape"):
        line_chart([1, 2], {"a": [1, 2, 3]})
