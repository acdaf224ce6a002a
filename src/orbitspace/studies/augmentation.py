"""``orbitspace demo augmentation``: plain CNNs trained with and without rotation augmentation.

A plain CNN has no built-in symmetry.  This study measures what augmentation buys and what the
tools for non-equivariant networks recover, side by side with the steerable (escnn C_N) model:

1. latent orbits: the codes of each test digit at many rotation angles, per layer, spread within
   an orbit against the distance between classes, and the orbits drawn in 2-D;
2. the learned latent action (:func:`orbitspace.learned.estimate_action`): held-out
   equivariance error, homomorphism error ``‖ρ̂^N − I‖``, frequency content;
3. input-space alignment (:class:`orbitspace.models.input_alignment.InputAlignment`);
4. retained information (probe accuracy) and invariance (measured on real rotated inputs) of raw
   codes, learned-action projections, input alignment and the escnn model's invariants.

The checkpoints are the committed ``plain_none``, ``plain_rotation`` (this study's) and
``mnist_cn`` (the MNIST study's) in ``orbitspace/checkpoints``.  The measurements and the
orbit figure are in :mod:`orbitspace.studies._augmentation_sections`.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from orbitspace.studies._augmentation_results import CompareRow, LearnedActionRow
from orbitspace.studies._augmentation_sections import (
    _balanced_digits,
    _compare,
    _feature_maps,
    _freq_text,
    _learned_actions,
    _orbit_codes,
    _orbit_figure,
)

__all__ = [
    "add_arguments",
    "run",
    "run_study",
    "AugmentationOptions",
    "AugmentationSettings",
    "CHECKPOINTS",
]

# metrics key -> (checkpoint name, label in the report)
CHECKPOINTS = {
    "plain_none": ("plain_none", "plain CNN, no augmentation"),
    "plain_rotation": ("plain_rotation", "plain CNN, rotation augmentation"),
    "escnn_cn": ("mnist_cn", "escnn C_N CNN (MNIST study)"),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out", type=Path, default=Path("reports/augmentation"), help="report folder"
    )
    parser.add_argument("--quick", action="store_true", help="small CI version (~1 minute)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--n-images",
        type=int,
        default=None,
        help="test digits used, balanced over classes (default 600, quick 100)",
    )
    parser.add_argument(
        "--checkpoint-dir",
        type=Path,
        default=None,
        help="folder of the checkpoints (default: the ones shipped in orbitspace/checkpoints)",
    )


def _log(msg: str) -> None:
    print(f"[augmentation] {msg}", file=sys.stderr, flush=True)


# -- models ----------------------------------------------------------------------------------
def _load_models(folder: Path | None) -> tuple[dict[str, LoadedModel], list[str]]:
    from orbitspace.models.training import checkpoint_dir, load_checkpoint

    folder = folder or checkpoint_dir()
    models, missing = {}, []
    for key, (name, label) in CHECKPOINTS.items():
        path = Path(folder) / name
        if not path.with_suffix(".json").exists():
            missing.append(f"{name} ({label}): {path}.json not found")
            continue
        model, meta = load_checkpoint(path)
        models[key] = LoadedModel(model=model, meta=meta, label=label)
    return models, missing


# -- the study -------------------------------------------------------------------------------
@dataclass(frozen=True)
class LoadedModel:
    """A checkpoint loaded for the study: the model, its JSON record and its report label."""

    model: Any
    meta: dict[str, Any]
    label: str


@dataclass(frozen=True)
class AugmentationOptions:
    """The study's command line, typed (see :func:`add_arguments` for each option)."""

    out: Path = Path("reports/augmentation")
    quick: bool = False
    seed: int = 0
    n_images: int | None = None
    checkpoint_dir: Path | None = None

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> AugmentationOptions:
        return cls(
            out=Path(args.out),
            quick=bool(args.quick),
            seed=int(args.seed),
            n_images=args.n_images,
            checkpoint_dir=None if args.checkpoint_dir is None else Path(args.checkpoint_dir),
        )


@dataclass(frozen=True)
class AugmentationSettings:
    """What the measurements need: seed, size, the group C_N and the input-alignment grid."""

    seed: int
    quick: bool
    N: int = 8
    align_angles: int = 16

    @classmethod
    def from_options(cls, opts: AugmentationOptions) -> AugmentationSettings:
        return cls(seed=opts.seed, quick=opts.quick, N=8, align_angles=8 if opts.quick else 16)


def run(args: argparse.Namespace) -> int:
    """``orbitspace demo augmentation``: the parsed arguments, converted once to
    :class:`AugmentationOptions`."""
    return run_study(AugmentationOptions.from_args(args))


def run_study(opts: AugmentationOptions) -> int:
    """Run the study and write ``<opts.out>/report.html`` and ``metrics.json``."""
    import torch

    from orbitspace.datasets.mnist import load_mnist
    from orbitspace.models.input_alignment import alignment_invariance
    from orbitspace.plot import bar_chart
    from orbitspace.report import Report

    start = time.perf_counter()
    torch.manual_seed(opts.seed)
    quick = opts.quick
    n = opts.n_images or (100 if quick else 600)
    cfg = AugmentationSettings.from_options(opts)
    n_orbit_angles = 8 if quick else 16

    models, missing = _load_models(opts.checkpoint_dir)
    if not models:
        _log("no checkpoints found: " + "; ".join(missing))
        return 1
    images, labels = _balanced_digits(load_mnist, n)
    n = len(labels)
    half = n // 2  # the order alternates classes: both halves are balanced
    fit_images, eval_images, eval_labels = images[:half], images[half:], labels[half:]

    rep = Report(
        "Augmentation: plain CNNs vs a steerable CNN on rotated MNIST",
        f"{n} test digits, seed {opts.seed}{' (quick version)' if quick else ''}",
    )
    rep.add_metrics(
        "settings",
        {
            "n_images": n,
            "seed": opts.seed,
            "quick": quick,
            "N": cfg.N,
            "orbit_angles": n_orbit_angles,
            "input_alignment_angles": cfg.align_angles,
            "missing_checkpoints": missing,
        },
    )
    rep.section("Models")
    rows = []
    for key, entry in models.items():
        met = entry.meta.get("metrics", {})
        rows.append(
            {
                "model": entry.label,
                "checkpoint": CHECKPOINTS[key][0],
                "accuracy (rotated test)": met.get("test_accuracy_rotated"),
                "accuracy (upright test)": met.get("test_accuracy_upright"),
                "command": entry.meta.get("command"),
            }
        )
        rep.add_metrics(("models", key), rows[-1])
    rep.table(rows)
    if missing:
        rep.text("Missing checkpoints (left out): " + "; ".join(missing))

    # 1. latent orbits ---------------------------------------------------------------------
    _log(f"orbits: {n} digits x {n_orbit_angles} angles per model")
    all_codes, layer_rows, orbit_stats = {}, [], {}
    for key, entry in models.items():
        codes, stats = _orbit_codes(entry.model, images, labels, n_orbit_angles)
        all_codes[key] = codes
        orbit_stats[key] = stats
        for layer, s in stats.items():
            layer_rows.append({"model": entry.label, "layer": layer, **s.to_dict()})
            rep.add_metrics(("orbits", key, layer), s.to_dict())
    rep.section("Latent orbits")
    rep.text(
        f"Codes of every digit at {n_orbit_angles} rotation angles. *within_orbit_fraction*: "
        "share of a layer's variance that is rotation of the input (0 = invariant); "
        "*spread_to_class_distance*: RMS distance of a code to its orbit centre over the RMS "
        "distance between class centres (below 1: orbits tighter than classes are apart)."
    )
    rep.table(
        layer_rows,
        columns=[
            "model",
            "layer",
            "dim",
            "within_orbit_fraction",
            "between_class_fraction",
            "orbit_spread",
            "class_distance",
            "spread_to_class_distance",
        ],
    )
    rep.figure(
        _orbit_figure(all_codes, labels, models),
        "Orbits of six digits (one per class) in the first two principal components of "
        "each model's latent; the star marks the upright digit.",
    )

    # 2. learned action --------------------------------------------------------------------
    _log("learned actions")
    action_rows, learned = [], {}
    for key, entry in models.items():
        rows_k, learned[key] = _learned_actions(key, entry, all_codes[key][:half], cfg)
        action_rows += rows_k
    rep.add_metrics("learned_action", [r.to_dict() for r in action_rows])
    rep.section("Learned latent action")
    rep.text(
        "`estimate_action` fitted on the orbits of the first half of the digits (70% of them "
        "to fit, 30% held out). *equivariance_error*: held-out ‖ρ̂ f(x) − f(gx)‖/‖f(gx)‖ of "
        "the Procrustes estimate; *snapped*: of the exact C_N action it is snapped to; *raw*: "
        "on raw centred codes; *invariance_error*: the trivial action ρ = I as a baseline. "
        "The escnn latent has a known action: its frequency content and its own error on the "
        "same pairs (*equivariance_error_known_action*) are listed for comparison."
    )
    shown = []
    for r in action_rows:
        shown.append(
            {
                **r.to_dict(),
                "frequencies": _freq_text(r.learned.to_dict()["frequencies"]),
                "frequencies_of_known_action": _freq_text(r.frequencies_of_known_action or {})
                or None,
                "model": models[r.model].label,
            }
        )
    rep.table(
        shown,
        columns=[
            "model",
            "N",
            "subspace",
            "dim",
            "explained_variance",
            "frequencies",
            "frequencies_of_known_action",
            "homomorphism_error",
            "homomorphism_error_rms",
            "equivariance_error",
            "equivariance_error_snapped",
            "equivariance_error_raw",
            "equivariance_error_known_action",
            "invariance_error",
            "max_snapping_error",
        ],
    )

    # 3 + 4. input alignment and the comparison ------------------------------------------------
    _log("input alignment and comparison")
    compare_rows, align_rows, chart_acc, chart_inv = [], [], {}, {}
    compared: list[tuple[str, CompareRow]] = []
    step = 2 * np.pi / cfg.align_angles
    test_angles = np.array([step, np.pi / 2, np.pi, 0.3, 1.0])
    for key, entry in models.items():
        maps, aligner = _feature_maps(key, entry, learned.get(key), fit_images, cfg)
        inv = alignment_invariance(aligner, eval_images[: min(len(eval_images), 150)], test_angles)
        align_rows.append({"model": entry.label, **inv.to_dict()})
        rep.add_metrics(("input_alignment", key), inv.to_dict())
        rows_k = _compare(maps, eval_images, eval_labels, cfg)
        for name, r in rows_k.items():
            compare_rows.append({"model": entry.label, "representation": name, **r.to_dict()})
            compared.append((key, r))
            group = name.replace("learned action: ", "learned: ").replace(
                "known action: ", "known: "
            )
            chart_acc.setdefault(group, {})[key] = r.knn_probe_accuracy
            chart_inv.setdefault(group, {})[key] = r.invariance_error_any_angle
        rep.add_metrics(("comparison", key), {name: r.to_dict() for name, r in rows_k.items()})
    rep.section("Input-space alignment")
    rep.text(
        f"Each digit is rotated by the {cfg.align_angles} angles 2πj/{cfg.align_angles}; "
        "the code nearest the code of a reference digit is kept. Relative error of the "
        "aligned code when the input is first rotated by φ, with the raw code's error as "
        "baseline; *consistency*: share of digits whose chosen angle moved by exactly −φ "
        "(for φ on the grid)."
    )
    flat_rows = []
    for r in align_rows:
        for j, phi in enumerate(r["angles"]):
            flat_rows.append(
                {
                    "model": r["model"],
                    "φ (rad)": phi,
                    "aligned relative error": r["relative_error"][j],
                    "raw relative error": r["raw_relative_error"][j],
                    "consistency": r["consistency"][j],
                }
            )
    rep.table(flat_rows)
    rep.section("Comparison: retained information and invariance")
    rep.text(
        f"Features of test digits rotated by random angles (second half of the digits). "
        "*invariance_error*: RMS change of the features when the input is rotated again (by "
        f"any angle, or by a multiple of 2π/{cfg.N}), over the RMS distance between the "
        "features of two random digits (0 = invariant, ~1 = as far as another digit). Probe "
        "accuracies are cross-validated on the features of the rotated digits."
    )
    rep.table(compare_rows)
    rep.figure(
        bar_chart(chart_acc, ylabel="kNN probe accuracy", reference=0.1, figsize=(10, 3.8)),
        "kNN probe accuracy of the digit class from each representation.",
    )
    rep.figure(
        bar_chart(chart_inv, ylabel="normalised invariance error", figsize=(10, 3.8)),
        "Invariance error under a random rotation of the input.",
    )
    rep.verdict(_verdict(models, orbit_stats, action_rows, compared, cfg))
    rep.add_metrics("seconds", time.perf_counter() - start)
    path = rep.write(opts.out)
    _log(f"wrote {path} in {time.perf_counter() - start:.0f} s")
    print(path)
    return 0


def _verdict(
    models: dict[str, LoadedModel],
    orbit_stats: dict[str, dict[str, Any]],
    action_rows: list[LearnedActionRow],
    compared: list[tuple[str, CompareRow]],
    cfg: AugmentationSettings,
) -> str:
    lines = []
    for key, entry in models.items():
        latent = orbit_stats.get(key, {}).get("latent")
        if latent is not None:
            lines.append(
                f"- **{entry.label}**: {100 * latent.within_orbit_fraction:.0f}% of "
                "the latent's variance is rotation of the input."
            )
    for r in action_rows:
        if r.N == cfg.N and r.subspace == "all":
            label = models[r.model].label
            fit = r.learned
            lines.append(
                f"- learned C_{cfg.N} action on **{label}**: held-out equivariance error "
                f"{fit.equivariance_error_snapped:.2f} (identity baseline "
                f"{fit.invariance_error:.2f}), ‖ρ̂^N − I‖ = {fit.homomorphism_error:.2f} "
                f"(RMS over directions {fit.homomorphism_error_rms:.2f})"
                + (
                    f"; the network's own action has error "
                    f"{r.equivariance_error_known_action:.2f} on the same rotations."
                    if r.equivariance_error_known_action is not None
                    else "."
                )
            )
    best: dict[str, CompareRow] = {}
    for key, r in compared:
        if r.representation == "raw latent":
            continue
        cur = best.get(key)
        if cur is None or r.knn_probe_accuracy > cur.knn_probe_accuracy:
            best[key] = r
    for key, r in best.items():
        lines.append(
            f"- best invariant representation of **{models[key].label}** by kNN accuracy: "
            f"{r.representation} ({r.knn_probe_accuracy:.2f}, invariance error "
            f"{r.invariance_error_any_angle:.3f})."
        )
    return "\n".join(lines)
