"""Sections of the QM9 study (:mod:`orbitspace.studies.qm9`): the model, one molecule's orbit,
the isometry of sorting, property probes and the 2-D maps.

Top-level imports are light; torch, RDKit, matplotlib and scikit-learn are imported inside the
functions.
"""

from __future__ import annotations

import time

import numpy as np

from orbitspace.report.results import ProbeBlock
from orbitspace.studies._qm9_results import IsometrySummary, OrbitSummary

HARTREE_EV = 27.211386


def _log(msg: str) -> None:
    import sys

    print(f"[qm9] {msg}", file=sys.stderr, flush=True)


def _target_values(test, name: str) -> tuple[np.ndarray, str]:
    idx = test.target_names.index(name)
    y, unit = test.targets[:, idx], test.target_units[idx]
    if unit == "Ha" and name in ("gap", "homo", "lumo"):
        return y * HARTREE_EV, "eV"
    return y, unit


def model_section(rep, models, test, train_smiles, quick: bool) -> dict[int, float]:
    """The model table; returns the encoder's equivariance error on real molecules per d."""
    from orbitspace.datasets.qm9 import permute_graphs
    from orbitspace.groups import Permutation
    from orbitspace.studies.qm9_train import evaluate_graph_vae

    rep.section("The model: a permutation-equivariant graph VAE")
    rep.text(
        "Encoder: message passing on the dense bond tensor plus a mean over all 9 slots; "
        "decoder: per-slot Fourier features of the code, position-free self-attention, "
        "symmetric pair head for bonds. Empty slots are a node class, so every molecule has "
        "9 codes and the symmetric group S_9 acts on them by relabelling the slots. "
        "Prior samples are z ~ N(0, I) of shape (9, d)."
    )
    rows = []
    errors: dict[int, float] = {}
    rng = np.random.default_rng(1)
    for d, (model, meta) in models.items():
        m = evaluate_graph_vae(
            model, test, train_smiles, n_samples=200 if quick else 1000, random_state=0
        )
        # exact equivariance on real molecules: relabel the atoms, the codes follow
        p = Permutation(9).sample(len(test), random_state=rng)
        mu = model.encode_numpy(test.atoms, test.bonds)
        mu_p = model.encode_numpy(*permute_graphs(test.atoms, test.bonds, p))
        m["encoder_equivariance_error"] = errors[d] = float(
            np.abs(mu_p - np.take_along_axis(mu, p[..., None], axis=1)).max()
        )
        a1, b1 = model.decode_numpy(np.take_along_axis(mu, p[..., None], axis=1))
        a0, b0 = permute_graphs(*model.decode_numpy(mu), p)
        m["decoder_equivariance_graph_mismatch"] = float(
            np.mean(np.any(a1 != a0, axis=1) | np.any(b1 != b0, axis=(1, 2)))
        )
        m["command"] = meta.get("command", "")
        m["train_seconds"] = meta.get("train_seconds")
        rep.add_metrics(("model", f"d{d}"), m)
        rows.append({"d": d, **{k: v for k, v in m.items() if k not in ("command", "n_test")}})
    cols = [
        "d",
        "recon_exact",
        "recon_node_acc",
        "recon_edge_acc",
        "recon_valid",
        "sample_valid",
        "sample_connected",
        "sample_unique",
        "sample_novel",
        "encoder_equivariance_error",
        "decoder_equivariance_graph_mismatch",
    ]
    rep.table(
        rows,
        caption="Test-split reconstruction (posterior mean, argmax decoding), "
        "prior samples, and equivariance on real molecules (max |E(Pg) − P E(g)|; "
        "fraction of graphs where D(Pz) ≠ P D(z)).",
        columns=cols,
        float_format="{:.3g}",
    )
    for d, (_, meta) in models.items():
        rep.text(f"d = {d} checkpoint: `{meta.get('command', 'n/a')}`")
    return errors


def orbit_section(rep, model, test, rng) -> OrbitSummary:
    from orbitspace.datasets.qm9 import permute_graphs
    from orbitspace.groups import Permutation
    from orbitspace.plot._style import new_figure

    rep.section("One molecule under 20 random atom orders")
    n_atoms = test.node_mask.sum(1)
    pick = int(np.flatnonzero(n_atoms == n_atoms.max())[0])
    perms = Permutation(9).sample(20, random_state=rng)
    a = np.broadcast_to(test.atoms[pick], (20, 9))
    b = np.broadcast_to(test.bonds[pick], (20, 9, 9))
    codes = model.encode_numpy(*permute_graphs(a, b, perms))[..., 0]  # (20, 9)
    base = model.encode_numpy(test.atoms[pick : pick + 1], test.bonds[pick : pick + 1])[0, :, 0]
    srt = np.sort(codes, axis=1)
    raw_pairs = np.linalg.norm(codes[:, None] - codes[None], axis=-1)
    orbit = OrbitSummary(
        molecule=str(test.smiles[pick]),
        raw_mean_pairwise_distance=float(raw_pairs[np.triu_indices(20, 1)].mean()),
        raw_max_pairwise_distance=float(raw_pairs.max()),
        sorted_max_deviation=float(np.abs(srt - srt[0]).max()),
        equivariance_max_error=float(np.abs(codes - base[perms]).max()),
    )
    metrics = orbit.to_dict()
    rep.add_metrics("orbit", metrics)
    fig = new_figure((11.0, 3.4))
    axes = fig.subplots(1, 3)
    lo, hi = codes.min(), codes.max()
    for ax, M, title in [(axes[0], codes, "raw codes"), (axes[1], srt, "sorted codes")]:
        im = ax.imshow(M, cmap="viridis", vmin=lo, vmax=hi, aspect="auto")
        ax.set_xlabel("slot")
        ax.set_ylabel("random atom order")
        ax.set_title(title)
    fig.colorbar(im, ax=axes[1], fraction=0.05)
    # PCA of the 20 raw code vectors, with the sorted vectors in the same coordinates
    centre = codes.mean(0)
    _, _, vt = np.linalg.svd(codes - centre, full_matrices=False)
    pr, ps = (codes - centre) @ vt[:2].T, (srt - centre) @ vt[:2].T
    axes[2].scatter(pr[:, 0], pr[:, 1], s=25, c="#888888", label="raw (20 orders)")
    axes[2].scatter(ps[:, 0], ps[:, 1], s=80, marker="*", c="#d03030", label="sorted (20 orders)")
    axes[2].set_title("code vectors in R^9 (PCA)")
    axes[2].legend(fontsize=8, loc="best")
    rep.figure(
        fig,
        f"{orbit.molecule}: the 9 codes (one scalar per slot) for 20 random atom orders. "
        f"Raw code vectors differ by {orbit.raw_mean_pairwise_distance:.3g} on average; "
        f"sorted they agree to {orbit.sorted_max_deviation:.1e}.",
    )
    rep.table(
        [{"quantity": k, "value": v} for k, v in metrics.items()],
        caption="Numbers behind the figure",
    )
    return orbit


def isometry_section(rep, model, z, rng, quick: bool) -> IsometrySummary:
    from scipy.optimize import linear_sum_assignment

    from orbitspace.datasets.qm9 import graph_to_smiles
    from orbitspace.groups import Permutation
    from orbitspace.invariants import invariant_features
    from orbitspace.quotient import quotient_distance
    from orbitspace.report.stages import measure_distortion

    rep.section("Sorting is a lossless, isometric cross-section of the real codes")
    action = Permutation(9)
    n = len(z)
    n_pairs = 200 if quick else 1000
    i, j = rng.integers(0, n, n_pairs), rng.integers(0, n, n_pairs)
    s = np.asarray(invariant_features(z, action, "sort"))
    d_sort = np.linalg.norm(s[i] - s[j], axis=1)
    d_raw = np.linalg.norm((z[i] - z[j]).reshape(n_pairs, -1), axis=1)
    d_lib = np.asarray(quotient_distance(z[i], z[j], action))
    # independent oracle: Hungarian assignment on squared distances between node codes
    d_lsa = np.empty(n_pairs)
    for k in range(n_pairs):
        cost = ((z[i[k]][:, None, :] - z[j[k]][None, :, :]) ** 2).sum(-1)
        r, c = linear_sum_assignment(cost)
        d_lsa[k] = np.sqrt(cost[r, c].sum())
    # lossless: decoding the sorted codes gives the molecule decoded from the raw codes
    sorted_codes = np.sort(z, axis=1)
    a0, b0 = model.decode_numpy(z)
    a1, b1 = model.decode_numpy(sorted_codes)
    sm0 = [graph_to_smiles(a, b) for a, b in zip(a0, b0)]
    sm1 = [graph_to_smiles(a, b) for a, b in zip(a1, b1)]
    same = float(np.mean([x == y for x, y in zip(sm0, sm1)]))
    measured = measure_distortion(
        {"raw": z.reshape(n, -1), "sort": s},
        z,
        action,
        n_pairs=n_pairs,
        k=10,
        random_state=0,
        max_queries=100 if quick else 300,
    )
    iso = IsometrySummary(
        n_pairs=n_pairs,
        max_abs_sort_minus_assignment=float(np.abs(d_sort - d_lsa).max()),
        max_abs_sort_minus_library=float(np.abs(d_sort - d_lib).max()),
        raw_over_quotient_median=float(np.median(d_raw[d_lsa > 0] / d_lsa[d_lsa > 0])),
        raw_over_quotient_max=float(np.max(d_raw[d_lsa > 0] / d_lsa[d_lsa > 0])),
        decode_sorted_same_molecule=same,
        distortion=measured,
    )
    metrics = iso.scalars()
    rep.add_metrics("isometry", iso.to_dict())
    rep.table(
        [{"quantity": k, "value": v} for k, v in metrics.items()],
        caption="Quotient distance d([x],[y]) = min over 9! relabellings, computed by linear "
        "assignment (scipy, independent of sorting) and by orbitspace.quotient_distance, "
        "against ‖sort x − sort y‖ on pairs of test codes.",
        float_format="{:.3g}",
    )
    rows = [
        {
            "features": name,
            "ratio min": r.lower,
            "ratio median": r.ratio_quantiles["q50"],
            "ratio max": r.upper,
            "spearman": r.spearman,
            "kNN recall@10": r.knn_recall,
        }
        for name, r in iso.distortion.items()
    ]
    rep.table(
        rows,
        caption="Distortion against the exact quotient distance "
        "(ratio = feature distance / quotient distance; an isometry gives 1).",
    )
    return iso


def _feature_sets(codes: dict[int, np.ndarray], methods, seed: int) -> dict[str, np.ndarray]:
    from orbitspace.groups import Permutation
    from orbitspace.invariants import invariant_features

    action = Permutation(9)
    out = {}
    for d, z in codes.items():
        out[f"d={d} raw"] = z.reshape(len(z), -1)
        for method in ("sort",) if d == 1 else methods:
            out[f"d={d} {method}"] = np.asarray(
                invariant_features(z, action, method, random_state=seed)
            ).reshape(len(z), -1)
    return out


def probe_section(
    rep, codes, test, targets, methods, seed: int, quick: bool
) -> dict[str, ProbeBlock]:
    """Regression probes of each target from each feature set (on the standardised target;
    MAE in the metrics is in target units); returns the probe blocks per target."""
    from orbitspace.diagnostics.probes import PROBES
    from orbitspace.plot.charts import bar_chart
    from orbitspace.report.stages import measure_probes

    rep.section("Property prediction from raw vs invariant codes")
    rep.text(
        "Test molecules are presented in random atom order. Probes (scikit-learn, standardised "
        f"inputs, {3 if quick else 5}-fold CV): ridge regression, 5-NN, MLP (64 units). "
        "Raw codes depend on the atom order; the invariant features do not."
    )
    feats = _feature_sets(codes, methods, seed)
    rows, r2_mlp, r2_knn = [], {}, {}
    blocks: dict[str, ProbeBlock] = {}
    for name in targets:
        y, unit = _target_values(test, name)
        label = f"{name} ({unit})"
        # probes see a standardised target (the MLP does not scale it); MAE is reported in units
        sd = float(y.std()) or 1.0
        ys = (y - y.mean()) / sd
        t0 = time.time()
        block = measure_probes(
            feats,
            ys,
            task="regression",
            probes=PROBES,
            cv=3 if quick else 5,
            random_state=seed,
            catch_errors=False,
        )
        blocks[name] = block
        for fname, res in block.results.items():
            sc = res.to_dict()["scores"]
            for p in sc:
                sc[p]["mae"] = {k: v * sd for k, v in sc[p]["mae"].items()}
            rep.add_metrics(("probes", name, fname), {"unit": unit, "scores": sc})
            row = {"target": label, "features": fname}
            for p in ("linear", "knn", "mlp"):
                row[f"{p} MAE"] = sc[p]["mae"]["mean"]
                row[f"{p} R²"] = sc[p]["r2"]["mean"]
            rows.append(row)
            r2_mlp.setdefault(name, {})[fname] = sc["mlp"]["r2"]["mean"]
            r2_knn.setdefault(name, {})[fname] = sc["knn"]["r2"]["mean"]
        _log(f"probes {name} ({len(feats)} feature sets): {time.time() - t0:.1f} s")
    rep.table(rows, caption="Cross-validated MAE (target units) and R² of each probe.")
    for title, vals in [("MLP probe", r2_mlp), ("5-NN probe", r2_knn)]:
        fig = bar_chart(
            vals,
            ylabel="R²",
            title=f"{title}: R² by target and features",
            figsize=(max(6.0, 1.1 * len(vals) + 2), 3.4),
        )
        rep.figure(fig, f"{title} R² (higher is better); raw codes are in random atom order.")
    return blocks


def maps_section(rep, z, test, seed: int, quick: bool) -> None:
    from orbitspace.plot import embed_2d, embedding_grid

    rep.section("2-D maps of raw vs sorted codes")
    method = "pca" if quick else "tsne"
    flat = z.reshape(len(z), -1)
    srt = np.sort(z, axis=1).reshape(len(z), -1)
    emb = {
        f"raw codes ({method})": embed_2d(flat, method, random_state=seed),
        f"sorted codes ({method})": embed_2d(srt, method, random_state=seed),
    }
    gap, _ = _target_values(test, "gap")
    colors = {
        "HOMO-LUMO gap (eV)": gap,
        "polarizability (bohr³)": test.target("alpha"),
        "heavy atoms": test.node_mask.sum(1),
    }
    fig = embedding_grid(emb, colors, categorical={"heavy atoms": True})
    rep.figure(fig, "Test codes in random atom order: raw (left) vs sorted (right).")
