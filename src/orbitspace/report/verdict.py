"""The verdict: which projection to use and why, written from the measured numbers only.

Among the projections that are exactly invariant on the data, each is ranked on four
criteria: k-NN recall and Spearman correlation against the exact quotient distance (does it
keep the geometry?), the collision rate (does it merge distinct orbits?) and the best probe
score (does it keep what predicts the labels / targets?), each rounded so that differences
below measurement noise tie.  The recommendation is the best mean rank; ties go to a measured
isometry, then to declared continuity and orbit separation, then to the smaller dimension.
Every number quoted in the text is in the metrics the text is computed from.

The verdict reads typed results (:class:`~orbitspace.report.results.AnalysisResult`, or any
object with the same ``methods``, ``invariance``, ``distortion`` and ``probes`` fields).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Protocol

import numpy as np

from orbitspace.diagnostics import Distortion, InvarianceError
from orbitspace.report.results import Criteria, MethodResult, ProbeBlock, Recommendation

__all__ = ["make_verdict", "probe_headline", "VerdictInputs"]


class VerdictInputs(Protocol):
    """What the verdict reads (:class:`~orbitspace.report.results.Measurements`, or an
    :class:`~orbitspace.report.results.AnalysisResult`): per representation label."""

    methods: Mapping[str, MethodResult]
    invariance: Mapping[str, InvarianceError]
    distortion: Mapping[str, Distortion]
    probes: Mapping[str, ProbeBlock]


def probe_headline(block: ProbeBlock, label: str) -> tuple[str, float] | None:
    """The best probe of representation ``label`` in one probe block: (probe kind, score)."""
    return block.headline(label)


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


def _criteria(res: VerdictInputs, label: str, tol: float) -> Criteria:
    inv = res.invariance[label]
    dist = res.distortion[label]
    scores = [b.headline(label) for b in res.probes.values()]
    scores = [s[1] for s in scores if s is not None]
    method = res.methods.get(label)
    return Criteria(
        invariant=bool(inv.max_rel <= tol),
        max_rel_invariance_error=inv.max_rel,
        knn_recall=dist.knn_recall,
        spearman=dist.spearman,
        collision_rate=dist.collision_rate,
        probe_score=float(np.mean(scores)) if scores else None,
        dim=None if method is None else method.dim,
    )


def make_verdict(
    result: VerdictInputs, *, invariance_tol: float = 1e-6
) -> tuple[str, Recommendation]:
    """Return ``(text, recommendation)`` from the typed results of an analysis.

    Parameters
    ----------
    result : AnalysisResult or VerdictInputs
        ``methods``, ``invariance``, ``distortion``, ``probes`` keyed by representation label
        (``"raw"`` in all but ``methods``).
    invariance_tol : float
        Largest relative invariance error of an exactly invariant projection.

    Returns
    -------
    text : str
        Markdown subset.
    recommendation : Recommendation
        ``recommended`` (a method label or None), ``ranking`` (invariant methods, best first)
        and the ``criteria`` the ranking used.
    """
    labels = [m for m in result.methods if m in result.invariance]
    crit = {m: _criteria(result, m, invariance_tol) for m in ["raw", *labels]}
    invariant = [m for m in labels if crit[m].invariant]
    rec = Recommendation(
        recommended=None,
        ranking=[],
        criteria=crit,
        invariance_tol=invariance_tol,
        rule="best mean rank over k-NN recall (2 decimals), Spearman (3), collision rate (3) "
        "and probe score (2) among exactly invariant projections; ties: measured isometry, "
        "declared continuity, declared separation, smaller dimension, name",
    )
    raw = crit["raw"]
    raw_inv = result.invariance["raw"]
    if not labels:
        return "No invariant projection ran, so there is nothing to recommend.", rec
    paragraphs: list[str] = []
    if raw.invariant:
        paragraphs.append(
            f"The raw codes are already invariant under this action (largest relative change "
            f"{raw_inv.max_rel:.1e}): the group does not move them. Check that the action "
            "spec describes how your encoder's latents transform."
        )
    if not invariant:
        best = min(labels, key=lambda m: crit[m].max_rel_invariance_error)
        paragraphs.insert(
            0,
            "**No projection was exactly invariant on these codes** (smallest largest relative "
            f"error: {crit[best].max_rel_invariance_error:.1e}, `{best}`; tolerance "
            f"{invariance_tol:.0e}), so none is recommended. This points to an action spec that "
            "does not match the latents.",
        )
        return "\n\n".join(paragraphs), rec

    columns = [
        _ranks([crit[m].knn_recall for m in invariant], True, 2),
        _ranks([crit[m].spearman for m in invariant], True, 3),
        _ranks([crit[m].collision_rate for m in invariant], False, 3),
    ]
    if any(crit[m].probe_score is not None for m in invariant):
        columns.append(_ranks([crit[m].probe_score for m in invariant], True, 2))
    mean_rank = np.mean(columns, axis=0)
    for m, r in zip(invariant, mean_rank):
        crit[m].mean_rank = float(r)
    ranking = sorted(invariant, key=lambda m: _tie_break(m, crit[m], result))
    best = ranking[0]
    rec.recommended, rec.ranking = best, ranking
    c = crit[best]
    dist = result.distortion[best]

    lead = (
        f"**Use `{best}`.** It is exactly invariant (largest relative change under the group "
        f"{c.max_rel_invariance_error:.1e}; the raw codes of one object move by "
        f"{raw_inv.mean_rel:.2f} of their norm on average between poses)"
    )
    if _is_isometry(dist):
        geometry = (
            "its distances equal the exact quotient distance on every sampled pair (ratio "
            f"{dist.lower:.3f}–{dist.upper:.3f}), so neighbours, clusters and 2-D maps "
            "computed from it are those of the quotient"
        )
    else:
        geometry = (
            f"it keeps the quotient geometry {_quality(c.knn_recall, c.spearman)}: k-NN recall "
            f"{c.knn_recall:.2f} and Spearman {c.spearman:.2f} against the exact quotient "
            f"distance (raw codes: {raw.knn_recall:.2f} and {raw.spearman:.2f}), distance "
            f"ratio between {dist.lower:.2f} and {dist.upper:.2f}"
        )
    if c.collision_rate == 0:
        collisions = f"it merged none of the {dist.n_pairs} sampled pairs of distinct orbits"
    else:
        collisions = (
            f"but it merged {c.collision_rate:.1%} of the {dist.n_pairs} sampled pairs "
            "of distinct orbits (information is lost)"
        )
    paragraphs.insert(0, f"{lead}; {geometry}; {collisions}.")

    if not _is_isometry(dist) and c.knn_recall < 0.9:
        paragraphs.append(
            f"`{best}` does not reproduce the quotient's neighbourhoods exactly; where exact "
            "neighbours or distances matter, use the quotient distance itself "
            "(`orbitspace distances --knn K`, `orbitspace.quotient_knn`)."
        )
    probe_lines = _probe_sentences(result, best)
    if probe_lines:
        paragraphs.append(" ".join(probe_lines))

    tied = [m for m in ranking[1:] if crit[m].mean_rank == c.mean_rank]
    if tied:
        names = ", ".join(f"`{m}`" for m in tied)
        verb = "measures" if len(tied) == 1 else "measure"
        paragraphs.append(
            f"{names} {verb} as well as `{best}` on every criterion; `{best}` is preferred "
            f"because {_tie_reason(best, tied[0], crit, result)}."
        )
    others = []
    for m in ranking[1 + len(tied) :]:
        others.append(f"- `{m}`: {_why_worse(crit[m], c)}")
    for m in labels:
        if m not in invariant:
            others.append(
                f"- `{m}`: not exactly invariant here (largest relative error "
                f"{crit[m].max_rel_invariance_error:.1e}); do not use it as an invariant."
            )
    if others:
        paragraphs.append("Compared with the others:\n\n" + "\n".join(others))

    if c.probe_score is not None:
        better = [m for m in ranking[1:] if (crit[m].probe_score or -1) > c.probe_score + 0.02]
        if better:
            m = max(better, key=lambda x: crit[x].probe_score)
            paragraphs.append(
                f"If prediction is all you need, `{m}` scores higher on the probes "
                f"({crit[m].probe_score:.3f} vs {c.probe_score:.3f}, mean of the best probe "
                f"per target) at the cost of geometry (k-NN recall {crit[m].knn_recall:.2f})."
            )
        if raw.probe_score is not None and raw.probe_score > c.probe_score + 0.02:
            paragraphs.append(
                f"The raw codes predict better ({raw.probe_score:.3f} vs "
                f"{c.probe_score:.3f}): the labels or targets depend on the pose, which every "
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


def _tie_key(label: str, c: Criteria, result: VerdictInputs) -> tuple:
    """Sort key after the mean rank: measured isometry, declared properties, parameters,
    dimension, then the registry's order of the methods."""
    method = result.methods.get(label)
    props = (method.properties if method is not None else None) or {}
    order = list(result.methods).index(label) if method is not None else 10**6
    return (
        not _is_isometry(result.distortion[label]),
        not props.get("isometric", False),
        not props.get("cross_section", False),
        not props.get("continuous", False),
        {"yes": 0, "generic": 1, "no": 2}.get(props.get("separating"), 1),
        True if method is None else bool(method.random_parameters),
        c.dim or 0,
        order,
    )


def _tie_break(label: str, c: Criteria, result: VerdictInputs) -> tuple:
    return (c.mean_rank, *_tie_key(label, c, result))


def _tie_reason(best: str, other: str, crit: dict[str, Criteria], result: VerdictInputs) -> str:
    a = _tie_key(best, crit[best], result)
    b = _tie_key(other, crit[other], result)
    for (_, reason), x, y in zip(_TIE_REASONS, a, b):
        if x != y:
            return reason
    return _TIE_REASONS[-1][1]


def _is_isometry(dist: Distortion, rtol: float = 1e-6) -> bool:
    lo, hi = _f(dist.lower), _f(dist.upper)
    return abs(lo - 1) <= rtol and abs(hi - 1) <= rtol


def _quality(recall: float, spearman: float) -> str:
    if recall >= 0.9 and spearman >= 0.95:
        return "well"
    if recall >= 0.5 or spearman >= 0.9:
        return "moderately well"
    return "poorly"


def _why_worse(other: Criteria, best: Criteria) -> str:
    parts = [f"k-NN recall {other.knn_recall:.2f}", f"Spearman {other.spearman:.2f}"]
    if other.collision_rate:
        parts.append(f"collisions {other.collision_rate:.1%}")
    if other.probe_score is not None:
        parts.append(f"probe score {other.probe_score:.3f}")
    if other.dim is not None:
        parts.append(f"{other.dim} dimensions")
    return ", ".join(parts) + f" (mean rank {other.mean_rank:.2g} vs {best.mean_rank:.2g})."


def _probe_sentences(result: VerdictInputs, best: str) -> list[str]:
    out = []
    for target, block in list(result.probes.items())[:4]:
        b, r = block.headline(best), block.headline("raw")
        if b is None or r is None:
            continue
        metric = "accuracy" if block.task == "classification" else "R²"
        what = "the labels" if target == "labels" else f"`{target}`"
        out.append(
            f"Predicting {what}: best probe {metric} {b[1]:.3f} ({b[0]}) from `{best}` vs "
            f"{r[1]:.3f} ({r[0]}) from raw codes."
        )
    return out
