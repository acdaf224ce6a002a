"""Sections of the rotated-MNIST study (:mod:`orbitspace.studies.mnist`).

The measurements and report sections of one model: equivariance of the latent, the
retained-information table (probes and distortion against the exact quotient distance), Figure 1,
the projection plot and the robustness figure.  Top-level imports are light; torch, escnn and
matplotlib are imported inside the functions.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from orbitspace.studies._mnist_results import RetainedRow, RobustnessRow, SeedScores


# -- progress and measurements --------------------------------------------------------------
def _log(progress: bool, msg: str, t0: float) -> None:
    if progress:
        print(f"[{time.perf_counter() - t0:6.1f}s] {msg}", file=sys.stderr, flush=True)


def _equivariance(model: Any, images: np.ndarray, action: Any, seed: int) -> dict[str, float]:
    """Relative error ||f(rot_θ x) − ρ(g) f(x)|| / ||f(x)|| (g: θ, or the nearest C_N element)."""
    from orbitspace.datasets.rotation import rotate_images
    from orbitspace.models.training import encode

    z = encode(model, images)
    norm = np.linalg.norm(z, axis=1)
    rng = np.random.default_rng(seed)
    n = len(images)
    N = action.order  # C_N: N elements; SO(2): None
    cases = {"quarter turns (90°, 180°, 270°)": rng.choice([1, 2, 3], size=n) * np.pi / 2}
    if N is not None and N % 4 == 0 and N > 4:
        odd = rng.choice(np.arange(1, N, 2), size=n)  # group elements between the quarter turns
        cases[f"other C{N} elements (odd multiples of {360 // N}°)"] = odd * 2 * np.pi / N
    cases["generic angles (uniform)"] = rng.uniform(0, 2 * np.pi, size=n)
    result = {}
    for label, theta in cases.items():
        zr = encode(model, rotate_images(images, theta))
        g = np.mod(np.rint(theta / (2 * np.pi / N)), N).astype(int) if N else theta
        err = np.linalg.norm(zr - action.act(g, z), axis=1) / np.maximum(norm, 1e-12)
        result[label] = float(np.mean(err))
    return result


def _features(Z, action, method, options, seed):
    if method == "raw":
        return Z
    from orbitspace.invariants import invariant_features

    return np.asarray(invariant_features(Z, action, method, random_state=seed, **options))


def _retained_information(Z, y, action, specs, cfg, progress, t0, kind):
    """Probes and distortion of every projection over ``cfg["seeds"]`` seeds, measured by the
    analysis pipeline's stages (:func:`orbitspace.report.stages.measure_probes`,
    :func:`~orbitspace.report.stages.measure_distortion`)."""
    from orbitspace.quotient import pairwise_quotient_distances
    from orbitspace.report.stages import measure_distortion, measure_probes

    rng = np.random.default_rng(0)
    sub = np.sort(rng.choice(len(Z), size=min(cfg["n_dist"], len(Z)), replace=False))
    Dq = np.asarray(pairwise_quotient_distances(Z[sub], action=action))
    _log(progress, f"{kind}: exact quotient distances on {len(sub)} digits", t0)
    table: dict[str, RetainedRow] = {}
    first: dict[str, np.ndarray] = {}
    counts = np.bincount(y)
    smallest = int(counts[counts > 0].min()) if len(y) else 0
    cv = min(int(cfg["cv"]), smallest)
    if cv < 2:
        raise ValueError(
            f"probes need at least 2 digits of every class; the smallest class of the {len(y)} "
            f"test digits has {smallest} (use a larger --n-test)"
        )
    for label, method, options in specs:
        random = method in ("align_to_reference", "max_filter")
        runs = []
        F = np.empty((0, 0))
        for seed in range(cfg["seeds"]):
            if random or seed == 0:  # deterministic maps: seeds only change the probe folds
                F = _features(Z, action, method, options, seed)
            if seed == 0:
                first[label] = F
            pr = (
                measure_probes(
                    {label: F},
                    y,
                    task="classification",
                    probes=("knn", "linear"),
                    cv=cv,
                    random_state=seed,
                    catch_errors=False,
                )
                .results[label]
                .scores
            )
            dist = measure_distortion(
                {label: F[sub]},
                Z[sub],
                action,
                quotient_distances=Dq,
                n_pairs=2000,
                k=10,
                random_state=seed,
            )[label]
            runs.append(
                SeedScores(
                    knn_accuracy=pr["knn"]["accuracy"][0],
                    linear_accuracy=pr["linear"]["accuracy"][0],
                    knn_recall=dist.knn_recall,
                    spearman=dist.spearman,
                    ratio_q05=dist.ratio_quantiles["q05"],
                    ratio_q95=dist.ratio_quantiles["q95"],
                    collision_rate=dist.collision_rate,
                )
            )
        row = RetainedRow(method, options, int(F.shape[1]), random, tuple(runs))
        table[label] = row
        _log(
            progress,
            f"{kind}: {label:18s} kNN {row.knn_accuracy.mean:.3f} "
            f"linear {row.linear_accuracy.mean:.3f} "
            f"recall {row.knn_recall.mean:.3f}",
            t0,
        )
    return table, first


# -- figures and sections -------------------------------------------------------------------
def _save(fig: Any, out: Path, name: str) -> None:
    fig.savefig(out / "figures" / f"{name}.png", dpi=110, facecolor="white", bbox_inches="tight")


def _figure_one(kind, title, Z, F, data, cfg, embedding, report, out) -> None:
    from orbitspace.plot import embed_2d, embedding_grid

    idx = np.random.default_rng(1).choice(len(Z), size=min(cfg["n_embed"], len(Z)), replace=False)
    nl = {"tsne": "t-SNE", "umap": "UMAP"}[embedding]
    emb = {
        f"raw codes ({nl})": embed_2d(Z[idx], embedding, random_state=0),
        f"invariant: align K=1 ({nl})": embed_2d(F[idx], embedding, random_state=0),
        "raw codes (PCA)": embed_2d(Z[idx], "pca"),
        "invariant: align K=1 (PCA)": embed_2d(F[idx], "pca"),
    }
    colors = {"digit": data.labels[idx], "rotation angle (°)": np.degrees(data.angles[idx])}
    fig = embedding_grid(
        emb,
        colors,
        categorical={"digit": True, "rotation angle (°)": False},
        title=f"Figure 1 ({title}): raw latents vs an invariant projection",
        cmap="twilight",
        panel_size=2.6,
    )
    _save(fig, out, f"figure1_{kind}")
    report.section(f"{title}: Figure 1")
    report.figure(
        fig,
        caption=(
            f"{len(idx)} rotated test digits. Left pair: {nl}; right pair: PCA. Raw latents "
            "(columns 1, 3) are organised by rotation angle as much as by digit: one digit's "
            "rotated copies spread along its orbit. The invariant projection (align_to_reference "
            "with one random Gaussian reference, a cross-section: each code is rotated to its "
            "orbit point nearest the reference) removes the angle and keeps the digits."
            + (
                " C8 removes rotations by multiples of 45° only: the angle structure left inside"
                " the invariant clusters is the angle modulo 45° (and the pixel grid)."
                if kind == "cn"
                else ""
            )
        ),
    )


def _fmt(entry: RetainedRow, key: str) -> str:
    s = entry.score(key)
    return f"{s.mean:.3f} ± {s.std:.3f}"


def _retained_section(kind, title, table, report, out, cfg) -> None:
    report.section(f"{title}: retained information")
    rows = [
        {
            "projection": label,
            "dim": e.dim,
            "k-NN accuracy": _fmt(e, "knn_accuracy"),
            "linear accuracy": _fmt(e, "linear_accuracy"),
            "k-NN recall vs d": _fmt(e, "knn_recall"),
            "Spearman vs d": _fmt(e, "spearman"),
            "ratio q05–q95": f"{e.score('ratio_q05').mean:.2f}–{e.score('ratio_q95').mean:.2f}",
            "collisions": f"{e.score('collision_rate').mean:.3f}",
        }
        for label, e in table.items()
    ]
    report.table(
        rows,
        caption=(
            f"Mean ± std over {cfg['seeds']} seeds (random references / templates and probe folds; "
            f"{cfg['cv']}-fold CV). Distortion on {cfg['n_dist']} digits against the exact quotient "
            "distance d([x],[y]) = min_g ||x − ρ(g)y||: recall of the 10 quotient-nearest "
            "neighbours, Spearman correlation, and quantiles of ||π(x) − π(y)|| / d. The "
            "bispectrum is the power spectrum plus the triple products of the first copy of "
            "each frequency, hence its near-identical scores."
        ),
    )
    fig = _projection_plot(table, title)
    _save(fig, out, f"projections_{kind}")
    report.figure(
        fig,
        caption=(
            "Probe accuracy and neighbour recall against the number of random projections "
            "(references K for align_to_reference, templates m for max_filter); bands: ±1 std "
            "over seeds; dashed lines: raw codes and the classical invariants."
        ),
    )


def _projection_plot(table: dict, title: str) -> Any:
    from orbitspace.plot._style import SERIES_COLORS, new_figure, plot_style

    with plot_style():
        fig = new_figure(figsize=(10.5, 3.1))
        axes = fig.subplots(1, 3)
        panels = [
            ("knn_accuracy", "k-NN probe accuracy"),
            ("linear_accuracy", "linear probe accuracy"),
            ("knn_recall", "recall of quotient 10-NN"),
        ]
        families = {"align_to_reference": "align (K refs)", "max_filter": "max_filter (m)"}
        for ax, (key, ylabel) in zip(axes, panels):
            for i, (method, name) in enumerate(families.items()):
                rows = [e for e in table.values() if e.method == method]
                x = np.array(
                    [e.options.get("n_references", e.options.get("n_templates")) for e in rows],
                    float,
                )
                m = np.array([e.score(key).mean for e in rows])
                s = np.array([e.score(key).std for e in rows])
                color = SERIES_COLORS[1 + i]
                ax.plot(x, m, "o-", color=color, label=name, ms=3)
                ax.fill_between(x, m - s, m + s, color=color, alpha=0.2, lw=0)
            fixed = [(lab, e) for lab, e in table.items() if not e.random]
            dashes = ["--", ":", "-.", (0, (6, 2, 1, 2, 1, 2)), (0, (1, 3))]
            for j, (lab, e) in enumerate(fixed):
                color = SERIES_COLORS[0] if lab == "raw codes" else SERIES_COLORS[3 + j]
                ax.axhline(e.score(key).mean, color=color, ls=dashes[j % 5], lw=1.2, label=lab)
            ax.set_xscale("log", base=2)
            ax.set_xlabel("number of random projections")
            ax.set_ylabel(ylabel)
        axes[-1].legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5))
        fig.suptitle(title, fontsize=10)
    return fig


def _robustness(
    kind, title, model, action, data, cfg, specs, report, out
) -> dict[str, RobustnessRow]:
    """Digits at 16 angles: distance of each rotated copy's features to the upright copy's,
    relative to the median distance between different digits in the same representation."""
    from orbitspace.datasets.rotation import rotate_images
    from orbitspace.models.training import encode
    from orbitspace.quotient import quotient_distance

    angles = np.arange(16) * 2 * np.pi / 16
    n_dig = min(cfg["n_robust"], len(data))
    base = data.originals[:n_dig]
    imgs = rotate_images(np.repeat(base, 16, axis=0), np.tile(angles, n_dig))
    Zr = encode(model, imgs).reshape(n_dig, 16, -1)
    Zall = encode(model, data.images)
    shown = [
        s for s in specs if s[1] != "max_filter" or s[2]["n_templates"] == cfg["templates"][-1]
    ]
    shown = [s for s in shown if s[1] != "align_to_reference" or s[2]["n_references"] == 1]
    # the bispectrum is the power spectrum plus a few triple products: its curve hides it
    shown = [s for s in shown if s[1] != "bispectrum"]
    curves: dict[str, np.ndarray] = {}
    summary: dict[str, RobustnessRow] = {}
    pair = np.random.default_rng(2).choice(len(Zall), size=(400, 2))
    pair = pair[pair[:, 0] != pair[:, 1]]
    for label, method, options in shown:
        F = _features(
            np.concatenate([Zr.reshape(n_dig * 16, -1), Zall]), action, method, options, 0
        )
        Fr, Fa = F[: n_dig * 16].reshape(n_dig, 16, -1), F[n_dig * 16 :]
        scale = np.median(np.linalg.norm(Fa[pair[:, 0]] - Fa[pair[:, 1]], axis=1))
        rel = np.linalg.norm(Fr - Fr[:, :1], axis=2) / scale  # (n_dig, 16)
        curves[label] = rel[0]
        summary[label] = RobustnessRow(
            mean_relative_spread=float(rel[:, 1:].mean()),
            quarter_turns=float(rel[:, [4, 8, 12]].mean()),
            digit0_curve=tuple(rel[0].tolist()),
        )
    dq = np.asarray(quotient_distance(Zr[:, :1], Zr, action=action))
    dq_all = np.asarray(quotient_distance(Zall[pair[:, 0]], Zall[pair[:, 1]], action=action))
    rel_q = dq / np.median(dq_all)
    curves["quotient distance d"] = rel_q[0]
    summary["quotient distance d"] = RobustnessRow(
        mean_relative_spread=float(rel_q[:, 1:].mean()),
        quarter_turns=float(rel_q[:, [4, 8, 12]].mean()),
        digit0_curve=tuple(rel_q[0].tolist()),
    )
    fig = _robustness_plot(imgs[:16], angles, curves, title)
    _save(fig, out, f"robustness_{kind}")
    report.section(f"{title}: robustness to rotation")
    report.figure(
        fig,
        caption=(
            f"Test digit 0 (label {data.labels[0]}) at 16 angles. Right: distance from each copy's "
            "representation to the upright copy's, divided by the median distance between two "
            "different test digits in that representation (1 = as far as another digit)."
        ),
    )
    report.table(
        [
            {
                "representation": k,
                "mean relative spread (16 angles)": v.mean_relative_spread,
                "at quarter turns": v.quarter_turns,
            }
            for k, v in summary.items()
        ],
        caption=f"Averaged over {n_dig} test digits.",
    )
    return summary


def _robustness_plot(images, angles, curves, title) -> Any:
    from orbitspace.plot._style import SERIES_COLORS, new_figure, plot_style

    with plot_style():
        fig = new_figure(figsize=(10.5, 3.6))
        left, right = fig.subfigures(1, 2, width_ratios=[0.62, 1.0])
        axs = left.subplots(4, 4, gridspec_kw={"wspace": 0.05, "hspace": 0.25})
        for i, ax in enumerate(axs.ravel()):
            ax.imshow(images[i], cmap="gray_r", vmin=0, vmax=1)
            ax.set_title(f"{np.degrees(angles[i]):.1f}°", fontsize=7, pad=1)
            ax.axis("off")
        ax = right.subplots()
        deg = np.degrees(angles)
        for i, (label, y) in enumerate(curves.items()):
            style = ":" if label.startswith("quotient") else "-"
            ax.plot(deg, y, style, marker="o", ms=2.5, color=SERIES_COLORS[i % 9], label=label)
        ax.set_xticks(np.arange(0, 361, 45))
        ax.set_xlabel("rotation angle (°)")
        ax.set_ylabel("distance to upright copy\n(÷ median between digits)")
        ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
        fig.suptitle(f"{title}: one digit at 16 angles", fontsize=10)
    return fig
