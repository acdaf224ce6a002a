"""Report sections and verdict of the 3-D QM9 study (:mod:`orbitspace.studies.qm9_3d`).

They lay out numbers computed in :mod:`orbitspace.studies._qm9_3d_sections`; the only
computation here is the 2-D embeddings of the figures.  matplotlib is imported inside.
"""

from __future__ import annotations

from typing import Any

import numpy as np

UNITS = {"gap": "eV", "dipole": "D", "polarizability": "bohr³", "Cv": "cal/mol/K", "U0": "eV"}


def _best_probe(row: dict, target: str, metric: str = "r2") -> tuple[str, float]:
    scores = row.get("probes", {}).get(target, {})
    if not scores:
        return "-", float("nan")
    name = max(scores, key=lambda p: scores[p][metric])
    return name, scores[name][metric]


def model_section(rep, model, meta: dict, mae: dict, eq: dict) -> None:
    cfg = model.config
    rep.section("The model: an e3nn interaction network")
    rep.text(
        f"Two NequIP-like interaction layers: spherical harmonics l ≤ 2 of the edge vectors "
        f"within {cfg['cutoff']:g} Å (hydrogens included), {cfg['n_basis']} Bessel radial "
        "functions times a polynomial cutoff, `uvu` tensor-product messages weighted by a "
        "radial MLP, a gated nonlinearity and a linear self-connection. Per-atom latent "
        f"`{model.latent_irreps}` (D = {model.irreps_latent.dim}); the per-molecule latent is "
        "its sum over atoms. Heads: U0 as a sum of per-atom energies (on a per-element "
        "reference) and the HOMO–LUMO gap from the mean per-atom scalars; both read only "
        f"scalars. {meta.get('n_parameters', '?')} parameters. QM9 gives the dipole only as a "
        "magnitude, so no equivariant dipole head is trained (a vector target cannot be "
        "derived from the data)."
    )
    ck = meta.get("test_metrics", {})
    rep.table(
        [
            {
                "molecules": f"checkpoint test split ({ck.get('n', '?')})",
                "U0 MAE (eV)": ck.get("u0_mae_ev"),
                "gap MAE (eV)": ck.get("gap_mae_ev"),
                "gap MAE of the mean (eV)": ck.get("gap_mae_of_mean_predictor_ev"),
            },
            {
                "molecules": f"this run ({mae['n']})",
                "U0 MAE (eV)": mae["u0_mae_ev"],
                "gap MAE (eV)": mae["gap_mae_ev"],
                "gap MAE of the mean (eV)": mae["gap_mae_of_mean_predictor_ev"],
            },
        ],
        caption="Test error of the heads (held-out molecules).",
    )
    rep.table(
        [{"dtype": k, **{m: v for m, v in e.items()}} for k, e in eq.items()],
        caption="Exact equivariance: relative error ‖f(g·x) − ρ(g) f(x)‖ / ‖f(x)‖ of the "
        "per-atom latents (node) under a random rotation and atom order, ρ our "
        "`Product(Permutation(n), from_e3nn(irreps))` matrices; pooled: the per-molecule sum "
        "under `from_e3nn(irreps)`; and the largest change of the invariant heads. float64 "
        "builds the model in float64 (e3nn's Clebsch–Gordan tables are computed in the build "
        "dtype).",
        float_format="{:.2e}",
    )


def _table_rows(rows: dict, targets) -> list[dict]:
    out = []
    for label, r in rows.items():
        row: dict[str, Any] = {"representation": label, "dim": r["dim"]}
        row["invariance error"] = r["invariance_rel_error"]
        for t in targets:
            _, v = _best_probe(r, t)
            row[f"{t} R²"] = v
        d = r.get("distortion")
        if d:
            row["k-NN recall"] = d["knn_recall"]
            row["Spearman"] = d["spearman"]
            row["ratio q05–q95"] = f"{d['ratio_q05']:.2f}–{d['ratio_q95']:.2f}"
        out.append(row)
    return out


def pooled_section(rep, rows: dict, cfg: dict, action) -> None:
    from orbitspace.plot import line_chart

    rep.section("The pooled latent: raw codes vs invariant projections")
    rep.text(
        f"Per-molecule latent acted on by `{action!r}`. Each representation is computed from "
        "the codes of the molecules as presented (random orientation and atom order). "
        "Invariance error: the largest relative change of the representation between the "
        "presented and the canonical (QM9 frame and order) molecule, through the network. "
        f"Probes: best of {', '.join(cfg['probes'])} ({cfg['cv']}-fold R²). k-NN recall (k = "
        f"10), Spearman and the ratio ‖π(x) − π(y)‖ / d([x], [y]) against the exact "
        f"quotient distance on {cfg['n_dist']} molecules."
    )
    rep.table(_table_rows(rows, cfg["targets"]), caption="Retained information, pooled latent.")
    refs = cfg["refs"]
    series = {
        "k-NN recall": [rows[f"align K={k}"]["distortion"]["knn_recall"] for k in refs],
    }
    for t in cfg["targets"][:2]:
        series[f"{t} R²"] = [_best_probe(rows[f"align K={k}"], t)[1] for k in refs]
    fig = line_chart(
        list(refs), series, xlabel="random references K", ylabel="score", logx=True,
        title="align_to_reference: retained information vs K",
    )  # fmt: skip
    rep.figure(fig, "Retained information of align_to_reference against the number K of random "
               "Gaussian references (the features are K aligned copies of the code).")  # fmt: skip


def figure_one(rep, feats: dict, columns, targets: dict, angle, seed: int) -> None:
    from orbitspace.plot import embed_2d, embedding_grid

    rep.section("Figure 1 in 3-D: raw vs invariant codes")
    t0 = next(iter(targets))
    colors = {f"{t0} ({UNITS.get(t0, '')})": targets[t0], "rotation angle (rad)": angle}
    for method, title in (("pca", "PCA"), ("tsne", "t-SNE")):
        emb = {c: embed_2d(feats[c], method, random_state=seed) for c in columns}
        fig = embedding_grid(emb, colors, title=f"{title} of pooled latents")
        rep.figure(
            fig,
            f"{title} of the same molecules' pooled codes: raw, power spectrum and "
            f"{columns[-1]}, coloured by {t0} and by the angle of the random rotation each "
            "molecule was presented in.",
        )


def orbit_figure(rep, orbit: dict, seed: int) -> None:
    from orbitspace.plot import embed_2d, embedding_grid

    feats, mol = orbit["features"], orbit["molecule"]
    emb = {c: embed_2d(F, "pca", random_state=seed) for c, F in feats.items()}
    fig = embedding_grid(emb, {"molecule": mol}, categorical={"molecule": True})
    spread = orbit["relative_spread"]
    rep.figure(
        fig,
        f"{len(np.unique(mol))} molecules, each in {len(mol) // len(np.unique(mol))} random "
        "orientations and atom orders (PCA). Spread of a molecule's views relative to the "
        "median distance between molecules: "
        + ", ".join(f"{k} {v:.2g}" for k, v in spread.items())
        + ".",
    )


def product_section(rep, result: dict, prod) -> None:
    rep.section("Per-atom latents of the heavy atoms (S_9 × SO(3))")
    rows = result["maps"]
    targets = next(iter(rows.values())).get("probes", {}).keys()
    table = []
    for label, r in rows.items():
        row = {
            "representation": label,
            "dim": r["dim"],
            "invariance error": r["invariance_rel_error"],
        }
        for t in targets:
            row[f"{t} R²"] = _best_probe(r, t)[1]
        table.append(row)
    rep.text(
        f"The heavy atoms' rows of the per-atom latent (padded to 9 with a node mask), acted on "
        f"by `{prod!r}`: atoms permute and every atom rotates by the same rotation. The "
        "alignment-based product maps (align_to_reference, max_filter) need the certified "
        "product solver once per molecule and reference, seconds each at D = 72; they are left "
        "out here."
    )
    rep.table(table, caption="Per-atom latents: node maps, probes (best R²).")
    pp = result.get("product_pairs")
    if pp:
        rep.table(
            [{"representation": k, **v} for k, v in pp["ratio_over_quotient"].items()],
            caption=f"‖π(x) − π(y)‖ / d_product([x], [y]) on {pp['n_pairs']} isomer pairs with "
            f"9 heavy atoms ({pp['seconds']} s for the certified distances).",
        )
        rep.table(
            [{"distance": k, **v} for k, v in pp["rmsd_correlation"].items()],
            caption="Correlation with the certified min RMSD of the heavy-atom geometries "
            "(same pairs).",
        )
    else:
        rep.text("The certified product distances run in the full study only (quick run).")


def rmsd_section(rep, rm: dict, lat: dict) -> None:
    from orbitspace.plot._style import new_figure

    rep.section("Latent geometry vs molecular geometry")
    rep.text(
        f"{rm['n_pairs']} pairs of isomers (same heavy-atom composition). Certified minimum "
        "RMSD of the heavy-atom geometries over rotations and element-preserving matchings "
        f"(largest certificate gap {rm['rmsd_max_certificate_gap']:.1e}) against distances "
        "between the pooled latents of the molecules as presented."
    )
    rep.table(
        [{"latent distance": k, **v} for k, v in rm["correlation"].items()],
        caption="Correlation with the min RMSD.",
    )
    fig = new_figure(figsize=(3.2 * len(lat), 3.0))
    axes = fig.subplots(1, len(lat), squeeze=False)[0]
    for ax, (name, d) in zip(axes, lat.items()):
        ax.scatter(rm["rmsd"], d, s=8)
        ax.set_xlabel("min RMSD (Å)")
        ax.set_title(name, fontsize=9)
    rep.figure(fig, "Latent distance against certified min RMSD, one point per isomer pair.")


def interpolation_section(rep, it: dict) -> None:
    rep.section("Interpolation: raw line vs quotient geodesic")
    rep.text(
        f"{it['n_pairs']} random pairs of pooled latents, {it['n_steps']} interior points. "
        "Excess length: max over the path of d([x],[γ(t)]) + d([γ(t)],[y]) − d([x],[y]) "
        "(0 on a geodesic). Midpoint l > 0 norm: the norm of the non-scalar part at t = ½ "
        "relative to the endpoints' mean. The gap head reads only the scalars, which SO(3) "
        "fixes, so both paths give the same head values: largest difference "
        f"{it['gap_head_max_abs_difference_ev']:.1e} eV."
    )
    rep.table(
        [
            {
                "path": k,
                "excess length (mean)": it["excess_length_mean"][k],
                "midpoint l>0 norm ratio": it["midpoint_l_gt_0_norm_ratio_mean"][k],
            }
            for k in it["excess_length_mean"]
        ]
    )


def verdict_text(m: dict) -> str:
    """The verdict, written from the study's metrics."""
    eq = m["model"]["equivariance"]
    rows = m["pooled"]
    targets = m["settings"]["targets"]
    raw = rows["raw codes"]
    inv = {k: r for k, r in rows.items() if k != "raw codes"}
    parts = [
        f"The network is exactly equivariant: relative error of the per-atom latents under "
        f"random rotations and atom orders {eq['float32']['node_max']:.1e} in float32, "
        f"{eq['float64']['node_max']:.1e} in float64 (our action matrices)."
    ]
    t = targets[0]
    best = max(inv, key=lambda k: _best_probe(inv[k], t)[1])
    parts.append(
        f"Pooled latent, {t}: best R² {_best_probe(raw, t)[1]:.2f} from raw codes vs "
        f"{_best_probe(inv[best], t)[1]:.2f} with {best}."
    )
    for t in targets[1:]:
        b = max(inv, key=lambda k: _best_probe(inv[k], t)[1])
        parts.append(
            f"{t}: raw {_best_probe(raw, t)[1]:.2f} vs {b} {_best_probe(inv[b], t)[1]:.2f}."
        )
    rec = max(inv, key=lambda k: inv[k]["distortion"]["knn_recall"])
    parts.append(
        f"k-NN recall against the exact quotient distance: raw {raw['distortion']['knn_recall']:.2f}"
        f", best {rec} {inv[rec]['distortion']['knn_recall']:.2f}."
    )
    # where a claim does not hold
    weak = [k for k in inv if _best_probe(inv[k], targets[0])[1] < _best_probe(raw, targets[0])[1]]
    if weak:
        parts.append(
            f"Not every projection beats raw codes on {targets[0]}: {', '.join(weak)} do not."
        )
    if _best_probe(raw, targets[0])[1] > 0.5:
        parts.append(
            "Raw pooled codes are far from useless for a linear probe: their 0e channels are "
            "themselves invariant, and a linear probe can weight those alone; the gain of "
            "invariant analysis shows more in neighbourhoods and distances."
        )
    pa = m["per_atom"]["maps"]
    t = targets[0]
    b = max((k for k in pa if k != "raw codes"), key=lambda k: _best_probe(pa[k], t)[1])
    parts.append(
        f"Per-atom latents (heavy atoms, S_9 x SO(3)): {t} R² {_best_probe(pa['raw codes'], t)[1]:.2f} "
        f"from raw padded rows vs {_best_probe(pa[b], t)[1]:.2f} with {b}."
    )
    pp = m["per_atom"].get("product_pairs")
    if pp:
        c = pp["rmsd_correlation"]
        parts.append(
            f"On {pp['n_pairs']} isomer pairs the certified product distance has Spearman "
            f"{c['product quotient distance (heavy atoms)']['spearman']:.2f} with min RMSD "
            f"(node_sorted_invariants {c['node_sorted_invariants distance']['spearman']:.2f})."
        )
    sp = m["orbit"]["relative_spread"]
    parts.append(
        "One molecule's views: spread " + ", ".join(f"{k} {v:.2g}" for k, v in sp.items()) + "."
    )
    corr = m["rmsd"]["correlation"]
    q = corr["quotient distance (pooled)"]["spearman"]
    r = corr["raw distance (pooled)"]["spearman"]
    parts.append(
        f"Latent vs molecular geometry (isomers): Spearman with min RMSD {q:.2f} for the "
        f"quotient distance, {r:.2f} for the raw distance"
        + (" — the latent geometry follows the molecular one only loosely." if q < 0.5 else ".")
    )
    it = m["interpolation"]
    parts.append(
        "Interpolation: the raw line is not a quotient geodesic (mean excess length "
        f"{it['excess_length_mean']['raw line']:.3g} vs "
        f"{it['excess_length_mean']['quotient geodesic']:.1e}) but the scalar heads cannot "
        "tell the paths apart."
    )
    return " ".join(parts)
