"""The verdict is derived from the metrics: ranking rules, ties, and honest caveats."""

from __future__ import annotations

import numpy as np

from orbitspace.diagnostics import Distortion, InvarianceError, ProbeResult
from orbitspace.report.results import Measurements, MethodResult, ProbeBlock
from orbitspace.report.verdict import make_verdict


def _results(rows, raw_probe=0.5):
    """rows: label -> (max_rel, knn, spearman, collisions, probe, dim, lower, upper)."""
    r = Measurements(methods={}, invariance={}, distortion={}, probes={})
    block = ProbeBlock("classification")
    r.probes["labels"] = block

    def add(label, inv, knn, sp, coll, probe, lo, hi):
        r.invariance[label] = InvarianceError(inv, inv, inv, inv)
        r.distortion[label] = Distortion(
            lower=lo,
            upper=hi,
            ratio_quantiles={},
            spearman=sp,
            knn_recall=knn,
            collision_rate=coll,
            n_pairs=100,
            k=5,
        )
        block.results[label] = ProbeResult(
            "classification", {"linear": {"accuracy": (probe, 0.0)}}, {}, 3, 30, 4
        )

    add("raw", 0.8, 0.2, 0.5, 0.0, raw_probe, 1.0, 3.0)
    for label, (inv, knn, sp, coll, probe, dim, lo, hi) in rows.items():
        add(label, inv, knn, sp, coll, probe, lo, hi)
        r.methods[label] = MethodResult(label, label, {}, dim, 0.0, "f.npy", {}, False)
    return r


def test_best_geometry_and_probe_wins():
    m = _results(
        {
            "a": (1e-15, 0.95, 0.99, 0.0, 0.90, 4, 0.9, 1.1),
            "b": (1e-15, 0.50, 0.80, 0.10, 0.80, 4, 0.1, 1.0),
        }
    )
    text, rec = make_verdict(m)
    assert rec.recommended == "a" and rec.ranking == ["a", "b"]
    assert text.startswith("**Use `a`.**")
    assert "k-NN recall 0.95" in text and "0.900" in text and "collisions 10.0%" in text


def test_non_invariant_methods_are_never_recommended():
    m = _results(
        {
            "leaky": (1e-2, 1.0, 1.0, 0.0, 1.0, 4, 1.0, 1.0),
            "ok": (1e-15, 0.6, 0.8, 0.0, 0.7, 4, 0.5, 1.0),
        }
    )
    text, rec = make_verdict(m)
    assert rec.recommended == "ok"
    assert "`leaky`: not exactly invariant" in text
    m = _results({"leaky": (1e-2, 1.0, 1.0, 0.0, 1.0, 4, 1.0, 1.0)})
    text, rec = make_verdict(m)
    assert rec.recommended is None and "No projection was exactly invariant" in text


def test_ties_within_noise_and_tie_break_by_dimension():
    m = _results(
        {
            "big": (0.0, 1.0, 1.0, 0.0, 0.901, 24, 1.0, 1.0),
            "small": (0.0, 1.0, 1.0, 0.0, 0.899, 6, 1.0, 1.0),
        }
    )
    text, rec = make_verdict(m)
    assert rec.recommended == "small"  # probe scores 0.901 vs 0.899 are a tie
    assert "because it has fewer dimensions" in text
    assert "equal the exact quotient distance" in text


def test_raw_codes_predicting_better_is_reported():
    m = _results({"a": (0.0, 0.9, 0.9, 0.0, 0.6, 4, 0.9, 1.0)}, raw_probe=0.95)
    text, _ = make_verdict(m)
    assert "The raw codes predict better (0.950 vs 0.600)" in text
    assert np.isfinite(m.invariance["raw"].max_rel)
