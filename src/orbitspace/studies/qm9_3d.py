"""``orbitspace demo qm9-3d``: an E(3)-equivariant e3nn network on QM9 geometries.

The committed model (:mod:`orbitspace.models.e3nn_mpnn`, ``checkpoints/qm9_3d.md``) maps a
molecule (every atom, hydrogens included) to per-atom latents ``K x 0e + K x 1o + K x 2e``
and their per-molecule sum.  The study presents held-out molecules in random orientations and
atom orders and measures, on the model's real codes:

1. exact equivariance of the latents under our action matrices, float32 and float64;
2. the pooled latent (acted on by SO(3)): raw codes vs norms, power spectrum, bispectrum,
   ``align_to_reference`` with K random references and ``max_filter`` — invariance, property
   probes (linear, k-NN, and MLP in the full run) on several QM9 targets, k-NN recall and
   distortion against the exact quotient distance;
3. retained information against the number of references K;
4. Figure 1 for 3-D: 2-D maps of raw vs invariant codes coloured by a property and by the
   rotation angle, and a few molecules' orbits;
5. the per-atom latents of the heavy atoms (S_n x SO(3)): the node maps, probed;
6. latent quotient distance vs certified minimum RMSD of the heavy-atom geometries of
   isomers;
7. interpolation: raw straight line vs quotient geodesic, with the gap head along the path;
8. a verdict written from the numbers.

Everything lands in ``<out>/report.html`` and ``<out>/metrics.json``.  Imports at the top are
light; the work happens in :func:`run_study`.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from orbitspace.studies._qm9_3d_sections import _log

__all__ = ["add_arguments", "run", "run_study", "Qm9_3dOptions", "SETTINGS", "pooled_specs"]

SETTINGS = {
    "full": {
        "n_mol": 600,
        "n_dist": 250,
        "n_equiv": 200,
        "n_orbit_mols": 12,
        "n_views": 16,
        "refs": (1, 2, 4, 8),
        "templates": (16, 32),
        "targets": ("gap", "dipole", "polarizability"),
        "probes": ("linear", "knn", "mlp"),
        "cv": 3,
        "n_rmsd": 150,
        "n_product_pairs": 12,
        "n_interp": 20,
    },
    "quick": {
        "n_mol": 150,
        "n_dist": 80,
        "n_equiv": 20,
        "n_orbit_mols": 6,
        "n_views": 8,
        "refs": (1, 2, 4),
        "templates": (16,),
        "targets": ("gap", "dipole"),
        "probes": ("linear", "knn"),
        "cv": 3,
        "n_rmsd": 30,
        "n_product_pairs": 0,
        "n_interp": 5,
    },
}
NODE_MAPS = ("node_sorted_invariants", "node_sorted_projections", "node_pooled_invariants")
UNITS = {"gap": "eV", "dipole": "D", "polarizability": "bohr³", "Cv": "cal/mol/K", "U0": "eV"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=Path("reports/qm9-3d"), help="report folder")
    parser.add_argument("--quick", action="store_true", help="small real run (CI, < 90 s)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--checkpoint", type=Path, default=None, help="e3nn model checkpoint")
    parser.add_argument(
        "--retrain", action="store_true", help="train a small model instead of loading one"
    )
    parser.add_argument("--n-mol", type=int, default=None, help="test molecules analysed")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--no-progress", action="store_true", help="no progress messages")


@dataclass(frozen=True)
class Qm9_3dOptions:
    """The study's command line, typed (see :func:`add_arguments`)."""

    out: Path = Path("reports/qm9-3d")
    quick: bool = False
    seed: int = 0
    checkpoint: Path | None = None
    retrain: bool = False
    n_mol: int | None = None
    threads: int = 1
    progress: bool = True

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Qm9_3dOptions:
        return cls(
            out=Path(args.out),
            quick=bool(args.quick),
            seed=int(args.seed),
            checkpoint=args.checkpoint,
            retrain=bool(args.retrain),
            n_mol=args.n_mol,
            threads=int(args.threads),
            progress=not args.no_progress,
        )


def run(args: argparse.Namespace) -> int:
    """``orbitspace demo qm9-3d``: the parsed arguments, as :class:`Qm9_3dOptions`."""
    return run_study(Qm9_3dOptions.from_args(args))


def pooled_specs(refs, templates) -> list[tuple[str, str, dict]]:
    """(label, map, options) of every representation of the pooled SO(3) latent."""
    specs = [("raw codes", "raw", {})]
    specs += [(n, n, {}) for n in ("norms", "power_spectrum", "bispectrum")]
    specs += [(f"align K={k}", "align_to_reference", {"n_references": k}) for k in refs]
    specs += [(f"max_filter m={m}", "max_filter", {"n_templates": m}) for m in templates]
    return specs


def _model(opts: Qm9_3dOptions, out: Path):
    from orbitspace.models.e3nn_mpnn import DEFAULT_CHECKPOINT, load_e3nn_mpnn
    from orbitspace.studies.qm9_3d_train import train_model

    path = opts.checkpoint or DEFAULT_CHECKPOINT
    if not opts.retrain and path.is_file():
        model, meta = load_e3nn_mpnn(path)
        return model, meta, path
    _log(f"training a small model (no checkpoint at {path} or --retrain)", opts.progress)
    n_train, epochs = (600, 2) if opts.quick else (8000, 20)
    path = out / "qm9_3d_retrained.pt"
    train_model(
        path, n_train=n_train, n_val=200, n_test=2000, epochs=epochs, seed=opts.seed,
        progress=opts.progress,
    )  # fmt: skip
    model, meta = load_e3nn_mpnn(path)
    return model, meta, path


def run_study(opts: Qm9_3dOptions) -> int:
    """Run the study and write ``<opts.out>/report.html`` and ``metrics.json``."""
    import matplotlib

    matplotlib.use("Agg")
    import torch
    from threadpoolctl import threadpool_limits

    from orbitspace.report import Report
    from orbitspace.studies import _qm9_3d_report as lay
    from orbitspace.studies import _qm9_3d_sections as sec
    from orbitspace.studies.qm9_3d_train import HARTREE_EV, evaluate, load_split

    t0 = time.time()
    torch.set_num_threads(max(1, opts.threads))
    cfg = dict(SETTINGS["quick" if opts.quick else "full"])
    if opts.n_mol is not None:
        if opts.n_mol < 40:
            raise ValueError(f"--n-mol must be at least 40; received {opts.n_mol}")
        cfg["n_mol"] = int(opts.n_mol)
    out = Path(opts.out)
    out.mkdir(parents=True, exist_ok=True)
    seed, rng = opts.seed, np.random.default_rng(opts.seed)
    model, meta, ckpt = _model(opts, out)
    geo, split = load_split(meta["data"])
    test = split["test"][: cfg["n_mol"]]
    cfg["n_mol"] = len(test)
    P0, Z0 = geo.positions[test], geo.numbers[test]
    targets = {
        k: geo.targets[k][test] * (HARTREE_EV if k in ("gap", "U0") else 1.0)
        for k in cfg["targets"]
    }
    action = model.latent_action()
    rep = Report(
        "QM9 geometries: an E(3)-equivariant e3nn network, raw vs invariant latents",
        f"{len(test)} held-out QM9 molecules (hydrogens included) in random orientations and "
        "atom orders" + (" (quick run)" if opts.quick else ""),
    )
    rep.add_metrics("settings", {**cfg, "quick": opts.quick, "seed": seed})
    with threadpool_limits(limits=1):
        # 1. the model and its exact equivariance
        pos, z, R, perm = sec.random_presentation(P0, Z0, rng)
        enc = model.encode_numpy(pos, z)
        canon = model.encode_numpy(P0, Z0)
        mae = evaluate(model, geo, test)
        eq = sec.equivariance(ckpt, P0[: cfg["n_equiv"]], Z0[: cfg["n_equiv"]], rng)
        lay.model_section(rep, model, meta, mae, eq)
        rep.add_metrics("model", {"checkpoint": meta, "this_run_test": mae, "equivariance": eq})
        _log("model and equivariance done", opts.progress)

        # 2./3. the pooled SO(3) latent
        from orbitspace.quotient import pairwise_quotient_distances

        Zp, Zc = enc["pooled"], canon["pooled"]
        idx_d = np.sort(rng.choice(len(test), size=min(cfg["n_dist"], len(test)), replace=False))
        D = np.asarray(pairwise_quotient_distances(Zp[idx_d], action=action))
        specs = pooled_specs(cfg["refs"], cfg["templates"])
        rows, feats = sec.representation_table(
            Zp, Zc, action, specs, targets, D=D, idx_d=idx_d, probes=cfg["probes"],
            cv=cfg["cv"], seed=seed, progress=opts.progress,
        )  # fmt: skip
        lay.pooled_section(rep, rows, cfg, action)
        rep.add_metrics("pooled", rows)
        _log("pooled latent done", opts.progress)

        # 4. Figure 1 and orbits
        angle = sec.rotation_angle(R)
        inv_label = f"align K={cfg['refs'][-1]}"
        lay.figure_one(rep, feats, ("raw codes", "power_spectrum", inv_label), targets, angle, seed)
        m = cfg["n_orbit_mols"]
        transforms = {
            label: sec.fit_map(name, o, Zp, action, seed)
            for label, name, o in specs
            if label in ("raw codes", "power_spectrum", inv_label)
        }
        orbit = sec.orbit_spread(model, P0[:m], Z0[:m], cfg["n_views"], transforms, rng)
        lay.orbit_figure(rep, orbit, seed)
        rep.add_metrics("orbit", {"relative_spread": orbit["relative_spread"]})
        _log("figures done", opts.progress)

        # 5. per-atom latents of the heavy atoms
        prod = _product(rep, lay, sec, enc, canon, z, P0, Z0, targets, action, cfg, seed, rng, opts)
        rep.add_metrics("per_atom", prod)

        # 6. latent geometry vs molecular geometry
        pairs = sec.isomer_pairs(Z0, cfg["n_rmsd"], rng)
        from orbitspace.quotient import quotient_distance

        xi, xj = Zp[pairs[:, 0]], Zp[pairs[:, 1]]
        lat = {
            "quotient distance (pooled)": np.asarray(quotient_distance(xi, xj, action)),
            "raw distance (pooled)": np.linalg.norm(xi - xj, axis=1),
            "power spectrum distance": np.linalg.norm(
                feats["power_spectrum"][pairs[:, 0]] - feats["power_spectrum"][pairs[:, 1]], axis=1
            ),
        }
        rm = sec.rmsd_vs_latent(P0, Z0, pairs, lat)
        lay.rmsd_section(rep, rm, lat)
        rep.add_metrics("rmsd", {k: v for k, v in rm.items() if k != "rmsd"})
        _log("RMSD done", opts.progress)

        # 7. interpolation
        ip = rng.choice(len(test), size=(cfg["n_interp"], 2), replace=False)
        interp = sec.interpolation(model, Zp, geo.n_atoms[test].astype(float), ip, action)
        lay.interpolation_section(rep, interp)
        rep.add_metrics("interpolation", interp)

    metrics = rep.metrics
    rep.verdict(lay.verdict_text(metrics))
    rep.section("Reproduce")
    rep.text(
        "This page: `orbitspace demo qm9-3d` (`--quick` is the CI version). The checkpoint: "
        f"`{meta.get('command', '?')}` (see `orbitspace/checkpoints/qm9_3d.md`)."
    )
    rep.add_metrics("runtime_seconds", round(time.time() - t0, 1))
    path = rep.write(out)
    _log(f"wrote {path}", opts.progress)
    print(path)
    return 0


def _product(rep, lay, sec, enc, canon, z, P0, Z0, targets, action, cfg, seed, rng, opts) -> dict:
    """The heavy atoms' per-atom latents under S_9 x SO(3): node maps, probes, and (full run)
    distortion against the certified product quotient distance on isomer pairs."""
    from orbitspace.groups import Permutation, Product
    from orbitspace.report.analysis import measure_probes

    X, mask, _ = sec.heavy_rows(enc["node"], z)
    Xc, mask_c, _ = sec.heavy_rows(canon["node"], Z0)
    prod = Product(Permutation(X.shape[1]), action)
    specs = [("raw codes", "raw", {})] + [(n, n, {}) for n in NODE_MAPS]
    rows: dict[str, dict] = {}
    feats = {}
    for label, name, o in specs:
        fn = sec.fit_map(name, o, X, prod, seed, mask)
        F, Fc = fn(X, mask=mask), fn(Xc, mask=mask_c)
        feats[label] = F
        err = np.linalg.norm(F - Fc, axis=1) / np.maximum(np.linalg.norm(Fc, axis=1), 1e-300)
        rows[label] = {"dim": int(F.shape[1]), "invariance_rel_error": float(err.max())}
    for tname, y in targets.items():
        block = measure_probes(
            feats, y, task="regression", probes=cfg["probes"], cv=cfg["cv"], random_state=seed
        )
        for label, res in block.results.items():
            rows[label].setdefault("probes", {})[tname] = {
                p: {"r2": s["r2"][0], "mae": s["mae"][0]} for p, s in res.scores.items()
            }
    result: dict = {"maps": rows, "product_pairs": None}
    n_pairs = cfg["n_product_pairs"]
    if n_pairs:
        from orbitspace.quotient import quotient_distance

        # isomers with 9 heavy atoms: no padded rows (see the report for why)
        pairs = sec.isomer_pairs(Z0, n_pairs, rng, n_heavy=X.shape[1])
        t0 = time.time()
        d = np.array([float(quotient_distance(X[i], X[j], prod)) for i, j in pairs])
        ratios = {
            label: (np.linalg.norm(F[pairs[:, 0]] - F[pairs[:, 1]], axis=1) / d).tolist()
            for label, F in feats.items()
        }
        lat = {"product quotient distance (heavy atoms)": d}
        lat.update(
            {f"{label} distance": np.linalg.norm(F[pairs[:, 0]] - F[pairs[:, 1]], axis=1)
             for label, F in feats.items()}
        )  # fmt: skip
        rm = sec.rmsd_vs_latent(P0, Z0, pairs, lat)
        result["product_pairs"] = {
            "n_pairs": int(len(pairs)),
            "seconds": round(time.time() - t0, 1),
            "ratio_over_quotient": {
                k: {"min": float(np.min(v)), "median": float(np.median(v)), "max": float(np.max(v))}
                for k, v in ratios.items()
            },
            "rmsd_correlation": rm["correlation"],
        }
        _log(f"product distances on {len(pairs)} pairs done", opts.progress)
    lay.product_section(rep, result, prod)
    _log("per-atom latents done", opts.progress)
    return result
