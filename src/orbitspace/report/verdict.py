"""The verdict: which projection to use and why, written from the measured numbers only.

Among the projections that are exactly invariant on the data, each is ranked on four
criteria: k-NN recall and Spearman correlation against the exact quotient distance (does it
keep the geometry?), the collision rate (does it merge distinct orbits?) and the best probe
score (does it keep what predicts the labels / targets?), each rounded so that differences
below measurement noise tie.  The recommendation is the best mean rank; ties go to a measured
isometry, then to declared continuity and orbit separation, then to the smaller dimension.  Every number quoted in the text is in the
metrics the text is computed from.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["make_verdict", "probe_headline"]

#: main score per probe task (higher is better)
_MAIN = {"classification": "accuracy", "regression": "r2"}


def probe_headline(block: dict[str, Any], label: str) -> tuple[str, float] | None:
    """The best probe of representation ``label`` in one probe block: (probe kind, score)."""
    res = block.get("results", {}).get(label)
    if res is None:
        return None
    metric = _MAIN[block["task"]]
    best = max(res["scores"].items(), key=lambda kv: _f(kv[1][metric]["mean"]))
    return best[0], float(best[1][metric]["mean"])


def _f(x: Any) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return -math.inf
    return v if math.isfinite(v) else -math.inf


def _ranks(values: list[Any], higher_better: bool, decimals: int) -> np.ndarray:
    """Average ranks (1 = best) of values rounded to ``decimals`` (differences below that are
    noise, so they tie); ties share their mean rank; missing values rank last."""
    from scipy.stats import rankdata

    keys = []
    for x in values:
        v = _f(x)
        v = round(v, decimals) if math.isfinite(v) else v
        keys.append(v if higher_better or not math.isfinite(v) else -v)
    return rankdata(-np.array(keys), method="average")


def _criteria(metrics: dict[str, Any], label: str, tol: float) -> dict[str, Any]:
    inv = metrics["invariance"][label]
    dist = metrics["distortion"][label]
    scores = [probe_headline(b, label) for b in metrics.get("probes", {}).values()]
    scores = [s[1] for s in scores if s is not None]
    return {
        "invariant": bool(inv["max_rel"] <= tol),
        "max_rel_invariance_error": inv["max_rel"],
        "knn_recall": dist["knn_recall"],
        "spearman": dist["spearman"],
        "collision_rate": dist["collision_rate"],
        "probe_score": float(np.mean(scores)) if scores else None,
        "dim": metrics["methods"].get(label, {}).get("dim"),
    }


def make_verdict(metrics: dict[str, Any], *, invariance_tol: float = 1e-6) -> tuple[str, dict]:
    """Return ``(text, recommendation)`` from the metrics of an analysis.

    ``recommendation`` holds ``recommended`` (a method label or None), ``ranking`` (invariant
    methods, best first) and the ``criteria`` table the ranking used.
    """
    labels = [m for m in metrics["methods"] if m in metrics["invariance"]]
    crit = {m: _criteria(metrics, m, invariance_tol) for m in ["raw", *labels]}
    invariant = [m for m in labels if crit[m]["invariant"]]
    rec: dict[str, Any] = {
        "recommended": None,
        "ranking": [],
        "criteria": crit,
        "invariance_tol": invariance_tol,
        "rule": "best mean rank over k-NN recall (2 decimals), Spearman (3), collision rate (3) "
        "and probe score (2) among exactly invariant projections; ties: measured isometry, "
        "declared continuity, declared separation, smaller dimension, name",
    }
    raw = crit["raw"]
    raw_inv = metrics["invariance"]["raw"]
    if not labels:
        return "No invariant projection ran, so there is nothing to recommend.", rec
    paragraphs: list[str] = []
    if raw["invariant"]:
        paragraphs.append(
            f"The raw codes are already invariant under this action (largest relative change "
            f"{raw_inv['max_rel']:.1e}): the group does not move them. Check that the action "
            "spec describes how your encoder's latents transform."
        )
    if not invariant:
        best = min(labels, key=lambda m: crit[m]["max_rel_invariance_error"])
        paragraphs.insert(
            0,
            "**No projection was exactly invariant on these codes** (smallest largest relative "
            f"error: {crit[best]['max_rel_invariance_error']:.1e}, `{best}`; tolerance "
            f"{invariance_tol:.0e}), so none is recommended. This points to an action spec that "
            "does not match the latents.",
        )
        return "\n\n".join(paragraphs), rec

    columns = [
        _ranks([crit[m]["knn_recall"] for m in invariant], True, 2),
        _ranks([crit[m]["spearman"] for m in invariant], True, 3),
        _ranks([crit[m]["collision_rate"] for m in invariant], False, 3),
    ]
    if any(crit[m]["probe_score"] is not None for m in invariant):
        columns.append(_ranks([crit[m]["probe_score"] for m in invariant], True, 2))
    mean_rank = np.mean(columns, axis=0)
    for m, r in zip(invariant, mean_rank):
        crit[m]["mean_rank"] = float(r)
    ranking = sorted(invariant, key=lambda m: _tie_break(m, crit[m], metrics))
    best = ranking[0]
    rec["recommended"], rec["ranking"] = best, ranking
    c = crit[best]
    dist = metrics["distortion"][best]

    lead = (
        f"**Use `{best}`.** It is exactly invariant (largest relative change under the group "
        f"{c['max_rel_invariance_error']:.1e}; the raw codes of one object move by "
        f"{raw_inv['mean_rel']:.2f} of their norm on average between poses)"
    )
    if _is_isometry(dist):
        geometry = (
            "its distances equal the exact quotient distance on every sampled pair (ratio "
            f"{dist['lower']:.3f}–{dist['upper']:.3f}), so neighbours, clusters and 2-D maps "
            "computed from it are those of the quotient"
        )
    else:
        geometry = (
            f"it keeps the quotient geometry {_quality(c['knn_recall'], c['spearman'])}: k-NN recall "
            f"{c['knn_recall']:.2f} and Spearman {c['spearman']:.2f} against the exact quotient "
            f"distance (raw codes: {raw['knn_recall']:.2f} and {raw['spearman']:.2f}), distance "
            f"ratio between {dist['lower']:.2f} and {dist['upper']:.2f}"
        )
    if c["collision_rate"] == 0:
        collisions = f"it merged none of the {dist['n_pairs']} sampled pairs of distinct orbits"
    else:
        collisions = (
            f"but it merged {c['collision_rate']:.1%} of the {dist['n_pairs']} sampled pairs "
            "of distinct orbits (information is lost)"
        )
    paragraphs.insert(0, f"{lead}; {geometry}; {collisions}.")

    if not _is_isometry(dist) and c["knn_recall"] < 0.9:
        paragraphs.append(
            f"`{best}` does not reproduce the quotient's neighbourhoods exactly; where exact "
            "neighbours or distances matter, use the quotient distance itself "
            "(`orbitspace distances --knn K`, `orbitspace.quotient_knn`)."
        )
    probe_lines = _probe_sentences(metrics, best)
    if probe_lines:
        paragraphs.append(" ".join(probe_lines))

    tied = [m for m in ranking[1:] if crit[m]["mean_rank"] == c["mean_rank"]]
    if tied:
        names = ", ".join(f"`{m}`" for m in tied)
        verb = "measures" if len(tied) == 1 else "measure"
        paragraphs.append(
            f"{names} {verb} as well as `{best}` on every criterion; `{best}` is preferred "
            f"because {_tie_reason(best, tied[0], crit, metrics)}."
        )
    others = []
    for m in ranking[1 + len(tied) :]:
        others.append(f"- `{m}`: {_why_worse(crit[m], c)}")
    for m in labels:
        if m not in invariant:
            others.append(
                f"- `{m}`: not exactly invariant here (largest relative error "
                f"{crit[m]['max_rel_invariance_error']:.1e}); do not use it as an invariant."
            )
    if others:
        paragraphs.append("Compared with the others:\n\n" + "\n".join(others))

    if c["probe_score"] is not None:
        better = [
            m for m in ranking[1:] if (crit[m]["probe_score"] or -1) > c["probe_score"] + 0.02
        ]
        if better:
            m = max(better, key=lambda x: crit[x]["probe_score"])
            paragraphs.append(
                f"If prediction is all you need, `{m}` scores higher on the probes "
                f"({crit[m]['probe_score']:.3f} vs {c['probe_score']:.3f}, mean of the best probe "
                f"per target) at the cost of geometry (k-NN recall {crit[m]['knn_recall']:.2f})."
            )
        if raw["probe_score"] is not None and raw["probe_score"] > c["probe_score"] + 0.02:
            paragraphs.append(
                f"The raw codes predict better ({raw['probe_score']:.3f} vs "
                f"{c['probe_score']:.3f}): the labels or targets depend on the pose, which every "
                "invariant discards by design."
            )
    return "\n\n".join(paragraphs), rec


#: the tie-break criteria after the mean rank, in order, with the reason each one gives
_TIE_REASONS = (
    ("measured isometry", "its distances matched the exact quotient distance on every pair"),
    ("declared isometric", "it is an isometry by construction"),
    ("cross-section", "it is a cross-section (its output is a point of the orbit itself)"),
    ("continuous", "it is continuous"),
    ("separating", "it is proven to separate every pair of orbits"),
    ("no random parameters", "it has no random parameters (the same output for every seed)"),
    ("dimension", "it has fewer dimensions"),
    ("registry order", "it comes first in the registry's order"),
)


def _tie_key(label: str, c: dict[str, Any], metrics: dict[str, Any]) -> tuple:
    """Sort key after the mean rank: measured isometry, declared properties, parameters,
    dimension, then the registry's order of the methods."""
    info = metrics["methods"].get(label, {})
    props = info.get("properties") or {}
    order = list(metrics["methods"]).index(label) if label in metrics["methods"] else 10**6
    return (
        not _is_isometry(metrics["distortion"][label]),
        not props.get("isometric", False),
        not props.get("cross_section", False),
        not props.get("continuous", False),
        {"yes": 0, "generic": 1, "no": 2}.get(props.get("separating"), 1),
        bool(info.get("random_parameters", True)),
        c["dim"] or 0,
        order,
    )


def _tie_break(label: str, c: dict[str, Any], metrics: dict[str, Any]) -> tuple:
    return (c["mean_rank"], *_tie_key(label, c, metrics))


def _tie_reason(best: str, other: str, crit: dict[str, Any], metrics: dict[str, Any]) -> str:
    a = _tie_key(best, crit[best], metrics)
    b = _tie_key(other, crit[other], metrics)
    for (_, reason), x, y in zip(_TIE_REASONS, a, b):
        if x != y:
            return reason
    return _TIE_REASONS[-1][1]


def _is_isometry(dist: dict[str, Any], rtol: float = 1e-6) -> bool:
    lo, hi = _f(dist["lower"]), _f(dist["upper"])
    return abs(lo - 1) <= rtol and abs(hi - 1) <= rtol


def _quality(recall: float, spearman: float) -> str:
    if recall >= 0.9 and spearman >= 0.95:
        return "well"
    if recall >= 0.5 or spearman >= 0.9:
        return "moderately well"
    return "poorly"


def _why_worse(other: dict[str, Any], best: dict[str, Any]) -> str:
    parts = [
        f"k-NN recall {other['knn_recall']:.2f}",
        f"Spearman {other['spearman']:.2f}",
    ]
    if other["collision_rate"]:
        parts.append(f"collisions {other['collision_rate']:.1%}")
    if other["probe_score"] is not None:
        parts.append(f"probe score {other['probe_score']:.3f}")
    if other.get("dim") is not None:
        parts.append(f"{other['dim']} dimensions")
    return ", ".join(parts) + f" (mean rank {other['mean_rank']:.2g} vs {best['mean_rank']:.2g})."


def _probe_sentences(metrics: dict[str, Any], best: str) -> list[str]:
    out = []
    for target, block in list(metrics.get("probes", {}).items())[:4]:
        b, r = probe_headline(block, best), probe_headline(block, "raw")
        if b is None or r is None:
            continue
        metric = "accuracy" if block["task"] == "classification" else "R²"
        what = "the labels" if target == "labels" else f"`{target}`"
        out.append(
            f"Predicting {what}: best probe {metric} {b[1]:.3f} ({b[0]}) from `{best}` vs "
            f"{r[1]:.3f} ({r[0]}) from raw codes."
        )
    return out
