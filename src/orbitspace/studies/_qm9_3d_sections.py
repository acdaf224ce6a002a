"""Measurements of the 3-D QM9 study (:mod:`orbitspace.studies.qm9_3d`).

Each function computes numbers from real latents and returns plain dicts (what goes into
``metrics.json``); the report sections that lay them out are in
:mod:`orbitspace.studies._qm9_3d_report`.  torch, scikit-learn and matplotlib are imported
inside the functions.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import numpy as np

from orbitspace.groups import Permutation, Product, ProductElement

_T0 = time.time()


def _log(msg: str, progress: bool = True) -> None:
    if progress:
        print(f"[qm9-3d {time.time() - _T0:6.0f}s] {msg}", file=sys.stderr, flush=True)


# -- presenting molecules -------------------------------------------------------------------
def random_presentation(positions, numbers, rng) -> tuple[np.ndarray, np.ndarray, np.ndarray, Any]:
    """Every molecule rotated by a uniform random rotation and its atoms in a random order.

    Returns ``(positions', numbers', R (N, 3, 3), perm (N, n_max))`` with
    ``positions'[k, i] = R[k] @ positions[k, perm[k, i]]``; padding slots stay last.
    """
    from orbitspace.groups import SO3

    N, n_max, _ = positions.shape
    R = np.asarray(SO3("1x1o").sample(N, random_state=rng))
    perm = np.tile(np.arange(n_max), (N, 1))
    for k in range(N):
        n = int((numbers[k] > 0).sum())
        perm[k, :n] = rng.permutation(n)
    pos = np.take_along_axis(positions, perm[..., None], 1) @ np.swapaxes(R, 1, 2)
    return pos, np.take_along_axis(numbers, perm, 1), R, perm


def rotation_angle(R: np.ndarray) -> np.ndarray:
    """Rotation angle (radians) of each ``R`` of shape (N, 3, 3)."""
    return np.arccos(np.clip((np.trace(R, axis1=1, axis2=2) - 1) / 2, -1, 1))


def heavy_rows(node: np.ndarray, numbers: np.ndarray, n_heavy: int = 9):
    """Per-atom latents of the heavy atoms only, padded to ``n_heavy`` rows, and their mask."""
    N, _, D = node.shape
    X = np.zeros((N, n_heavy, D))
    mask = np.zeros((N, n_heavy), bool)
    types = np.zeros((N, n_heavy), np.int64)
    for k in range(N):
        h = np.flatnonzero(numbers[k] > 1)
        X[k, : len(h)] = node[k, h]
        mask[k, : len(h)] = True
        types[k, : len(h)] = numbers[k, h]
    return X, mask, types


# -- equivariance -----------------------------------------------------------------------------
def equivariance(checkpoint, positions, numbers, rng) -> dict[str, dict[str, float]]:
    """Relative error of the latents under random rotations and atom orders, per dtype.

    ``node``: ``‖f(g·x) − ρ(g) f(x)‖ / ‖f(x)‖`` over all per-atom latents, with ``ρ`` our
    ``Product(Permutation(n), from_e3nn(irreps))`` action (max over molecules); ``pooled``:
    the same for the per-molecule sum under ``from_e3nn(irreps)``; ``u0_abs_ev`` /
    ``gap_abs_ev``: the largest change of the invariant heads.
    """
    import torch

    from orbitspace.models.e3nn_mpnn import load_e3nn_mpnn

    pos2, z2, R, perm = random_presentation(positions, numbers, rng)
    out: dict[str, dict[str, float]] = {}
    for name, dtype in (("float32", torch.float32), ("float64", torch.float64)):
        model, _ = load_e3nn_mpnn(checkpoint, dtype=dtype)
        action = model.latent_action()
        prod = Product(Permutation(positions.shape[1]), action)
        a = model.encode_numpy(positions, numbers)
        b = model.encode_numpy(pos2, z2)
        expected = prod.act(ProductElement(perm, R, 2), a["node"])
        node_err = np.linalg.norm(b["node"] - expected, axis=(1, 2)) / np.linalg.norm(
            a["node"], axis=(1, 2)
        )
        pooled_exp = action.act(R, a["pooled"])
        pooled_err = np.linalg.norm(b["pooled"] - pooled_exp, axis=1) / np.linalg.norm(
            a["pooled"], axis=1
        )
        out[name] = {
            "node_max": float(node_err.max()),
            "node_mean": float(node_err.mean()),
            "pooled_max": float(pooled_err.max()),
            "u0_abs_ev": float(np.abs(b["u0"] - a["u0"]).max()),
            "gap_abs_ev": float(np.abs(b["gap"] - a["gap"]).max()),
            "n_molecules": int(len(positions)),
        }
    return out


# -- feature maps -----------------------------------------------------------------------------
def fit_map(name: str, options: dict, Z, action, seed: int, mask=None):
    """Fit the invariant map ``name`` once on ``Z``; returns ``transform(Z', mask=None)``."""
    from orbitspace.invariants import get_map

    if name == "raw":
        return lambda X, mask=None: np.asarray(X, float).reshape(len(X), -1)
    imap = get_map(name)
    fit_opts, rest = imap.split_options(dict(options))
    params = imap.fit(Z, action, random_state=seed, mask=mask, **fit_opts)

    def transform(X, mask=None):
        return np.asarray(imap.transform(X, action, params, mask=mask, **rest), float)

    return transform


def representation_table(
    Z,
    Z_canon,
    action,
    specs,
    targets: dict[str, np.ndarray],
    *,
    D,
    idx_d,
    probes,
    cv: int,
    seed: int,
    mask=None,
    mask_canon=None,
    progress: bool = True,
) -> tuple[dict[str, dict], dict[str, np.ndarray]]:
    """Invariance, probes and distortion of every representation of the latents ``Z``.

    Parameters
    ----------
    Z : latents of the molecules as presented (random orientation and atom order)
    Z_canon : latents of the same molecules in QM9's frame and atom order
    action : the action on one latent
    specs : sequence of (label, map name, options)
    targets : name -> (N,) values probed
    D : exact quotient distances between ``Z[idx_d]`` (the distortion reference)
    probes, cv, seed : probe settings

    Returns
    -------
    (rows, features): rows[label] holds ``dim``, ``invariance_rel_error`` (max over
    molecules of ``‖π(z') − π(z)‖ / ‖π(z)‖``, z' the presented and z the canonical code),
    ``probes[target][probe] = {"r2", "mae"}``, ``distortion`` (knn recall, Spearman, ratio
    quantiles against ``D``); features[label] the (N, m) features.
    """
    from orbitspace.report.analysis import measure_distortion, measure_probes

    rows: dict[str, dict] = {}
    feats: dict[str, np.ndarray] = {}
    for label, name, opts in specs:
        t0 = time.perf_counter()
        fn = fit_map(name, opts, Z, action, seed, mask)
        F = fn(Z, mask=mask)
        Fc = fn(Z_canon, mask=mask_canon)
        denom = np.maximum(np.linalg.norm(Fc, axis=1), 1e-300)
        inv = np.linalg.norm(F - Fc, axis=1) / denom
        feats[label] = F
        rows[label] = {
            "map": name,
            "options": dict(opts),
            "dim": int(F.shape[1]),
            "time_s": round(time.perf_counter() - t0, 2),
            "invariance_rel_error": float(inv.max()),
        }
        _log(f"  {label}: dim {F.shape[1]}, invariance {inv.max():.1e}", progress)
    dist = measure_distortion(
        {k: F[idx_d] for k, F in feats.items()},
        Z[idx_d] if mask is None else Z[idx_d],
        action,
        quotient_distances=D,
        n_pairs=20000,
        k=10,
        random_state=seed + 4,
        max_queries=len(idx_d),
    )
    for label, d in dist.items():
        rows[label]["distortion"] = {
            "knn_recall": d.knn_recall,
            "spearman": d.spearman,
            "ratio_q05": d.ratio_quantiles["q05"],
            "ratio_q95": d.ratio_quantiles["q95"],
            "lower": d.lower,
            "upper": d.upper,
        }
    for tname, y in targets.items():
        block = measure_probes(
            feats, y, task="regression", probes=probes, cv=cv, random_state=seed + 6
        )
        for label, res in block.results.items():
            rows[label].setdefault("probes", {})[tname] = {
                p: {"r2": s["r2"][0], "mae": s["mae"][0]} for p, s in res.scores.items()
            }
        _log(f"  probes of {tname} done", progress)
    return rows, feats


# -- orbits of a few molecules ----------------------------------------------------------------
def orbit_spread(model, positions, numbers, n_views: int, transforms, rng) -> dict[str, Any]:
    """A few molecules, each in ``n_views`` random orientations and atom orders.

    For each representation: the mean distance of a molecule's views to their centroid,
    divided by the median distance between molecules' centroids (0: the views coincide).
    Returns that and the stacked features (for the orbit figure).
    """
    M = len(positions)
    pos = np.repeat(positions, n_views, 0)
    z = np.repeat(numbers, n_views, 0)
    pos, z, R, _ = random_presentation(pos, z, rng)
    Z = model.encode_numpy(pos, z)["pooled"]
    mol = np.repeat(np.arange(M), n_views)
    spreads, feats = {}, {}
    for label, fn in transforms.items():
        F = fn(Z)
        feats[label] = F
        C = np.stack([F[mol == k].mean(0) for k in range(M)])
        within = np.mean([np.linalg.norm(F[mol == k] - C[k], axis=1).mean() for k in range(M)])
        between = np.median(np.linalg.norm(C[:, None] - C[None], axis=-1)[np.triu_indices(M, 1)])
        spreads[label] = float(within / between)
    return {
        "relative_spread": spreads,
        "features": feats,
        "molecule": mol,
        "angle": rotation_angle(R),
    }


# -- latent geometry vs molecular geometry ----------------------------------------------------
def isomer_pairs(numbers, n_pairs: int, rng, n_heavy: int | None = None) -> np.ndarray:
    """Random pairs (i, j) of molecules with the same heavy-atom composition.

    ``n_heavy``: keep only molecules with that many heavy atoms.
    """
    from orbitspace.models.e3nn_mpnn import SPECIES

    comp = np.stack([(numbers == s).sum(1) for s in SPECIES[1:]], 1)
    groups: dict[tuple, list[int]] = {}
    for k, c in enumerate(map(tuple, comp)):
        if n_heavy is None or sum(c) == n_heavy:
            groups.setdefault(c, []).append(k)
    pairs = [(a, b) for g in groups.values() for ai, a in enumerate(g) for b in g[ai + 1 :]]
    if not pairs:
        return np.zeros((0, 2), np.int64)
    pairs = np.asarray(pairs)
    return pairs[np.sort(rng.choice(len(pairs), size=min(n_pairs, len(pairs)), replace=False))]


def rmsd_vs_latent(positions, numbers, pairs, latent_dists: dict[str, np.ndarray]) -> dict:
    """Certified min RMSD of the heavy-atom geometries of each pair vs latent distances.

    ``latent_dists[name]`` (P,) are distances between the pairs' latents; returns the RMSDs
    and the Pearson and Spearman correlation of each latent distance with them.
    """
    from scipy.stats import pearsonr, spearmanr

    from orbitspace.stats.rmsd import min_rmsd

    rmsd, gaps = [], []
    for i, j in pairs:
        hi, hj = numbers[i] > 1, numbers[j] > 1
        r = min_rmsd(positions[i][hi], positions[j][hj], (numbers[i][hi], numbers[j][hj]))
        rmsd.append(r.rmsd)
        gaps.append(r.gap)
    rmsd = np.asarray(rmsd)
    corr = {}
    for name, d in latent_dists.items():
        corr[name] = {
            "pearson": float(pearsonr(d, rmsd)[0]),
            "spearman": float(spearmanr(d, rmsd)[0]),
        }
    return {
        "n_pairs": int(len(pairs)),
        "rmsd": rmsd,
        "rmsd_max_certificate_gap": float(np.max(gaps)) if len(gaps) else 0.0,
        "correlation": corr,
    }


# -- interpolation ----------------------------------------------------------------------------
def interpolation(model, pooled, n_atoms, pairs, action, n_steps: int = 9) -> dict[str, Any]:
    """Raw straight line vs quotient geodesic between pooled latents, with the gap head.

    The gap head reads the mean of the per-atom scalars, i.e. the pooled scalars divided by
    the atom count (interpolated linearly along the path).  Reported per path: the excess
    length ``d([x],[γ(t)]) + d([γ(t)],[y]) − d([x],[y])`` (0 on a geodesic), the norm of the
    l > 0 part at the midpoint relative to the endpoints', and the largest difference of the
    gap head between the two paths.
    """
    import torch

    from orbitspace.quotient import quotient_distance
    from orbitspace.stats import geodesic_interpolation

    K = model.config["mul"]
    t = np.linspace(0, 1, n_steps + 2)[1:-1]
    excess = {"raw line": [], "quotient geodesic": []}
    mid_norm = {"raw line": [], "quotient geodesic": []}
    head_diff = []
    for i, j in pairs:
        x, y = pooled[i], pooled[j]
        paths = {
            "raw line": (1 - t)[:, None] * x + t[:, None] * y,
            "quotient geodesic": np.asarray(geodesic_interpolation(x, y, t, action)),
        }
        dxy = float(quotient_distance(x, y, action))
        n_t = (1 - t) * n_atoms[i] + t * n_atoms[j]
        heads = {}
        for name, P in paths.items():
            d1 = np.asarray(quotient_distance(np.broadcast_to(x, P.shape), P, action))
            d2 = np.asarray(quotient_distance(P, np.broadcast_to(y, P.shape), action))
            excess[name].append(float(np.max(d1 + d2 - dxy)))
            ends = 0.5 * (np.linalg.norm(x[K:]) + np.linalg.norm(y[K:]))
            mid_norm[name].append(float(np.linalg.norm(P[len(t) // 2, K:]) / ends))
            with torch.no_grad():
                s = torch.as_tensor(P[:, :K] / n_t[:, None], dtype=torch.float32)
                g = model.gap_head(s).squeeze(-1) * model.config["gap_std"]
                heads[name] = g.double().numpy() + model.config["gap_mean"]
        head_diff.append(float(np.abs(heads["raw line"] - heads["quotient geodesic"]).max()))
    return {
        "n_pairs": int(len(pairs)),
        "n_steps": int(n_steps),
        "excess_length_mean": {k: float(np.mean(v)) for k, v in excess.items()},
        "midpoint_l_gt_0_norm_ratio_mean": {k: float(np.mean(v)) for k, v in mid_norm.items()},
        "gap_head_max_abs_difference_ev": float(np.max(head_diff)),
    }
