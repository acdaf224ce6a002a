"""Lay an :class:`~orbitspace.report.results.AnalysisResult` out as report sections.

The sections read the typed result's fields; the JSON form goes into the report's metrics
once, through :meth:`~orbitspace.report.results.AnalysisResult.to_metrics`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from orbitspace.groups import Action, parse_action
from orbitspace.report.document import Report

if TYPE_CHECKING:  # pragma: no cover
    from orbitspace.report.results import AnalysisResult

__all__ = ["add_analysis_to_report", "describe_action"]

#: bars of exactly zero error are drawn at this height on the log axis
_LOG_FLOOR = 1e-17


def describe_action(action: Action | str) -> str:
    """A plain-language sentence saying what the group does to the codes.

    The action describes itself (:meth:`~orbitspace.groups.Action.describe`).

    Examples
    --------
    >>> describe_action("Permutation(5)")[:48]
    'the symmetric group S_5 permuting the 5 nodes of'
    >>> describe_action("Cyclic(4, '1x2 + 1x1')").split(" made of ")[1]
    '1 1-D block of irrep 2 of C_4; 1 2-D block of irrep 1 of C_4'
    """
    return parse_action(action).describe()


def add_analysis_to_report(
    report: Report, result: AnalysisResult, *, title_prefix: str = ""
) -> Report:
    """Add the verdict and the sections of an analysis to ``report``; merge its metrics.

    Parameters
    ----------
    report : Report
    result : AnalysisResult
        From :func:`orbitspace.report.analysis.analyze_latents`.
    title_prefix : str
        Prepended to every section title (to add several analyses to one report).

    Returns
    -------
    Report (the same object)
    """
    if result.verdict:
        report.verdict(result.verdict)
    key = title_prefix.strip() or None
    for k, v in result.to_metrics().items():
        report.add_metrics((key, k) if key else k, v)
    _data_section(report, result, title_prefix)
    _invariance_section(report, result, title_prefix)
    _distortion_section(report, result, title_prefix)
    _probe_section(report, result, title_prefix)
    if result.figures:
        report.section(f"{title_prefix}2-D maps")
        report.text(
            "Each panel places the same codes in the plane. Colours are the labels or targets "
            "(or the code norm, an invariant, when there are none). If the raw codes scatter "
            "objects of one colour across pose-dependent places while an invariant projection "
            "gathers them, the pose was hiding the structure."
        )
        for fig, caption in result.figures:
            report.figure(fig, caption)
    _methods_section(report, result, title_prefix)
    return report


def _order(r: AnalysisResult) -> list[str]:
    ranking = r.recommendation.ranking if r.recommendation is not None else []
    rest = [x for x in r.methods if x not in ranking]
    return ["raw", *ranking, *rest]


def _name(label: str) -> str:
    return "raw codes" if label == "raw" else label


def _data_section(report: Report, r: AnalysisResult, prefix: str) -> None:
    s, d = r.settings, r.data
    report.section(f"{prefix}Data and action")
    report.text(
        f"**Action** `{r.action!r}`: {describe_action(r.action)}. "
        "Codes of one object in different poses form its *orbit*; the exact quotient distance "
        "d([x],[y]) = min_g ‖x − ρ(g)y‖ compares orbits, and an invariant projection gives "
        "every point of an orbit the same features."
    )
    shape = "×".join(str(x) for x in d.shape)
    lines = [
        f"- {d.n_samples} codes, array shape {shape}" + (" with a node mask" if d.masked else "")
    ]
    if d.labels:
        lab = d.labels
        lines.append(
            f"- labels: {lab['n_classes']} classes (majority class {lab['chance_accuracy']:.1%} "
            "of codes: the accuracy of always guessing it)"
        )
    if d.target_names:
        lines.append(f"- targets: {', '.join(f'`{t}`' for t in d.target_names)}")
    sizes = (
        f"- computed on random subsets: invariance on {s.n_invariance} codes × "
        f"{s.n_group_samples} random group elements each, distortion on {s.n_distortion} "
        f"codes (all {s.n_distortion * (s.n_distortion - 1) // 2} pairs' exact quotient "
        f"distances), probes on {s.n_probe} codes with {s.cv}-fold cross-validation"
    )
    if r.maps is not None:
        sizes += f", maps on {r.maps.n_points} codes"
    lines.append(sizes + f"; seed {r.seed}" + ("; `--quick` mode" if r.quick else ""))
    for label, why in r.skipped.items():
        lines.append(f"- `{label}` was skipped: {why}")
    report.text("\n".join(lines))


def _invariance_section(report: Report, r: AnalysisResult, prefix: str) -> None:
    from orbitspace.plot import bar_chart

    inv = r.invariance
    tol = r.recommendation.invariance_tol if r.recommendation is not None else 1e-6
    report.section(f"{prefix}Invariance")
    raw = inv["raw"]
    report.text(
        "For every code x and a random group element g we compare the features of x and of "
        "ρ(g)x: an invariant map gives the same features (error at rounding level, ~1e-16). "
        f"The raw codes of one object differ by {raw.mean_rel:.2f} of their norm on average "
        f"(at most {raw.max_rel:.2f}) between poses: that is the ambiguity a projection removes."
    )
    rows = []
    for label in _order(r):
        e = inv[label]
        rows.append(
            {
                "representation": _name(label),
                "max error": e.max_abs,
                "mean error": e.mean_abs,
                "max relative": e.max_rel,
                "mean relative": e.mean_rel,
                "invariant": e.max_rel <= tol,
            }
        )
    report.table(
        rows,
        caption=f"‖f(ρ(g)x) − f(x)‖ over random g; relative: divided by ‖f(x)‖. "
        f"Invariant: largest relative error ≤ {tol:.0e}.",
        float_format="{:.2e}",
    )
    values = {"max relative error": {_name(k): max(inv[k].max_rel, _LOG_FLOOR) for k in _order(r)}}
    fig = bar_chart(values, ylabel="relative error (log scale)", log=True, figsize=(5.5, 2.8))
    report.figure(
        fig,
        f"Largest relative invariance error per representation (log scale; an error of exactly "
        f"0 is drawn at {_LOG_FLOOR:.0e}).",
    )


def _distortion_section(report: Report, r: AnalysisResult, prefix: str) -> None:
    from orbitspace.plot import bar_chart

    dist = r.distortion
    report.section(f"{prefix}Distortion against the quotient distance")
    report.text(
        "How well do feature distances ‖f(x) − f(y)‖ reproduce the exact quotient distance "
        "d([x],[y])? **Ratio** = feature distance / quotient distance over sampled pairs (an "
        "isometry gives 1 everywhere); **Spearman**: rank agreement of the two distances; **k-NN "
        "recall**: share of each code's quotient nearest neighbours that are also its "
        "feature-space neighbours; **collisions**: pairs of distinct orbits that the features "
        "merge (lost information). Raw codes over-estimate d (ratio ≥ 1): poses add distance."
    )
    rows = []
    for label in _order(r):
        e = dist[label]
        q = e.ratio_quantiles
        rows.append(
            {
                "representation": _name(label),
                "ratio min": e.lower,
                "ratio 5%": q.get("q05"),
                "ratio median": q.get("q50"),
                "ratio 95%": q.get("q95"),
                "ratio max": e.upper,
                "Spearman": e.spearman,
                f"{e.k}-NN recall": e.knn_recall,
                "collisions": e.collision_rate,
            }
        )
    first = dist["raw"]
    report.table(
        rows,
        caption=f"{first.n_pairs} pairs for the ratios, Spearman and collisions; "
        f"{first.n_queries} query codes for the recall.",
    )
    values = {
        "Spearman": {_name(k): dist[k].spearman for k in _order(r)},
        f"{first.k}-NN recall": {_name(k): dist[k].knn_recall for k in _order(r)},
    }
    report.figure(
        bar_chart(values, ylabel="agreement with quotient distance", figsize=(6.0, 3.0)),
        "Rank agreement and neighbour recall against the exact quotient distance (1 = perfect).",
    )


def _probe_section(report: Report, r: AnalysisResult, prefix: str) -> None:
    from orbitspace.plot import bar_chart

    if not r.probes:
        return
    report.section(f"{prefix}Probes")
    report.text(
        "What do the features keep about the labels and targets? Simple predictors are "
        "cross-validated on each representation (standardised features; `linear` = logistic "
        "or ridge regression, `knn` = 5 nearest neighbours, `mlp` = one hidden layer of 64). "
        "Scores are means ± standard deviations over the folds."
    )
    for target, block in r.probes.items():
        task = block.task
        metrics = ("accuracy",) if task == "classification" else ("r2", "mae")
        pretty = {"accuracy": "accuracy", "r2": "R²", "mae": "MAE"}
        rows, values, errors = [], {}, {}
        for label in _order(r):
            res = block.results.get(label)
            if res is None:
                continue
            row: dict[str, object] = {"representation": _name(label)}
            for kind, sc in res.scores.items():
                for metric in metrics:
                    mu, sd = sc[metric]
                    row[f"{kind} {pretty[metric]}"] = f"{mu:.3f} ± {sd:.3f}"
                values.setdefault(kind, {})[_name(label)] = sc[metrics[0]][0]
                errors.setdefault(kind, {})[_name(label)] = sc[metrics[0]][1]
            head = block.headline(label)
            row["best"] = head[1] if head else None
            rows.append(row)
        what = "labels (classification)" if target == "labels" else f"`{target}` (regression)"
        report.text(f"**{what.capitalize() if target == 'labels' else 'Target ' + what}**")
        any_res = next(iter(block.results.values()), None)
        cv = any_res.cv if any_res else "?"
        report.table(
            rows,
            caption=f"{cv}-fold cross-validated {', '.join(pretty[x] for x in metrics)}.",
            float_format="{:.3f}",
        )
        chance = (
            r.data.labels["chance_accuracy"] if task == "classification" and r.data.labels else None
        )
        report.figure(
            bar_chart(
                values,
                errors=errors,
                ylabel=pretty[metrics[0]],
                reference=chance,
                figsize=(6.0, 3.0),
            ),
            f"Probe {pretty[metrics[0]]} per representation"
            + (f"; dashed line: majority-class rate {chance:.3f}." if chance is not None else "."),
        )
        for label, err in block.errors.items():
            report.text(f"`{_name(label)}`: probe not run ({err}).")


def _methods_section(report: Report, r: AnalysisResult, prefix: str) -> None:
    report.section(f"{prefix}Projections and files")
    rows = [
        {
            "representation": "raw codes",
            "output dim": int(np.prod(r.data.shape[1:])),
            "time (s)": None,
            "file": "—",
        }
    ]
    for label, info in r.methods.items():
        rows.append(
            {
                "representation": label,
                "output dim": info.dim,
                "time (s)": info.time_s,
                "file": info.file,
            }
        )
    report.table(
        rows,
        caption="Output dimension, wall time of projecting all codes (varies between runs) and "
        "the file holding the projected features.",
    )
