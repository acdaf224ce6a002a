"""The analysis pipeline's typed results, its public stages, and the action descriptions."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import numpy as np
import pytest

import orbitspace
from orbitspace import SO2, Cyclic, FiniteGroup, Permutation
from orbitspace._io import to_jsonable
from orbitspace.diagnostics import Distortion, InvarianceError, ProbeResult, distortion, probe
from orbitspace.report import Report
from orbitspace.report.analysis import (
    QUICK,
    SETTINGS,
    add_analysis_to_report,
    analyze_latents,
    measure_distortion,
    measure_probes,
)
from orbitspace.report.layout import describe_action
from orbitspace.report.results import AnalysisResult, MethodResult, ProbeBlock, Recommendation

SRC = Path(orbitspace.__file__).parent


def _codes(action, n=60, seed=0, d=1):
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 3
    event = (action.n_nodes, d) if action.node_axis is not None else (action.dim,)
    base = 2.0 * rng.normal(size=(3, *event))[labels] + 0.3 * rng.normal(size=(n, *event))
    X = np.asarray(action.act(action.sample(n, random_state=seed + 1), base))
    return X, labels, np.linalg.norm(base.reshape(n, -1), axis=1)


# -- describe_action ----------------------------------------------------------------------------
def test_describe_action_is_the_actions_own_description():
    for action in (
        SO2("4x0 + 8x1"),
        Cyclic(8, "2xregular + 1x1"),
        Permutation(5),
        FiniteGroup(np.stack([np.eye(2), -np.eye(2)])),
    ):
        assert describe_action(action) == action.describe()
        assert describe_action(repr(action)) == action.describe()


def test_describe_action_sign_irrep_of_cyclic_is_one_dimensional():
    """C_4's irrep '2' is the 1-D sign irrep: not a 2-D block rotating at frequency 2."""
    text = describe_action(Cyclic(4, "1x2 + 1x1"))
    assert "3-dimensional codes" in text
    assert "1 1-D block of irrep 2" in text
    assert "1 2-D block of irrep 1" in text
    assert "2-D block(s) rotating at frequency 2" not in text


def test_report_files_ask_traits_not_concrete_action_classes():
    """No isinstance(..., SO2 / Cyclic / Permutation / FiniteGroup) in the report, the studies
    or the analyze / demo / info commands (they ask the action's traits)."""
    concrete = {"SO2", "Cyclic", "Permutation", "FiniteGroup", "BlockAction", "VectorAction"}
    files = [
        *sorted((SRC / "report").glob("*.py")),
        *sorted((SRC / "studies").glob("*.py")),
        *(SRC / "cli" / f"{name}.py" for name in ("analyze", "demo", "info")),
    ]
    assert len(files) > 10
    found = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "isinstance":
                names = {n.id for n in ast.walk(node.args[1]) if isinstance(n, ast.Name)}
                names |= {n.attr for n in ast.walk(node.args[1]) if isinstance(n, ast.Attribute)}
                if names & concrete:
                    found.append(f"{path.name}:{node.lineno}")
    assert found == []


# -- typed results until the edge ---------------------------------------------------------------
@pytest.fixture(scope="module")
def result():
    action = Permutation(5)
    X, labels, targets = _codes(action)
    return X, analyze_latents(
        X,
        action,
        labels=labels,
        targets=targets,
        methods=["sort", "node_pool"],
        quick=True,
        maps=(),
        progress=False,
    )


def test_analysis_result_is_typed(result):
    _, res = result
    assert isinstance(res, AnalysisResult)
    assert isinstance(res.recommendation, Recommendation)
    assert set(res.invariance) == {"raw", "sort", "node_pool"}
    assert all(isinstance(v, InvarianceError) for v in res.invariance.values())
    assert all(isinstance(v, Distortion) for v in res.distortion.values())
    assert all(isinstance(v, MethodResult) for v in res.methods.values())
    assert isinstance(res.probes["labels"], ProbeBlock)
    assert all(isinstance(r, ProbeResult) for r in res.probes["target"].results.values())
    assert res.settings.n_distortion == 60 and res.settings.probes == QUICK.probes
    # d = 1: sort is an isometric cross-section, measured as such, and recommended
    assert res.distortion["sort"].lower == pytest.approx(1.0, abs=1e-9)
    assert res.recommendation.recommended == "sort"
    assert res.recommendation.criteria["sort"].mean_rank is not None
    assert res.verdict.startswith("**Use `sort`.**")


def test_to_metrics_is_json_and_matches_the_fields(result):
    _, res = result
    m = res.to_metrics()
    assert json.loads(json.dumps(to_jsonable(m))) == to_jsonable(m)
    assert m == res.metrics
    assert m["settings"]["n_probe"] == res.settings.n_probe
    assert m["settings"]["seed"] == 0 and m["settings"]["quick"] is True
    assert m["invariance"]["sort"] == res.invariance["sort"].to_dict()
    assert m["distortion"]["node_pool"] == res.distortion["node_pool"].to_dict()
    assert m["probes"]["labels"]["results"]["raw"] == res.probes["labels"].results["raw"].to_dict()
    assert m["methods"]["sort"]["file"] == res.methods["sort"].file
    assert m["recommendation"]["recommended"] == "sort"
    assert "mean_rank" not in m["recommendation"]["criteria"]["raw"]  # raw is never ranked
    assert m["data"]["targets"] == {"names": ["target"], "n_targets": 1}
    assert "maps" not in m  # none drawn
    assert SETTINGS["quick"] == QUICK.to_dict()


def test_report_gets_the_metrics_once(result):
    _, res = result
    rep = add_analysis_to_report(Report("t"), res, title_prefix="A: ")
    assert rep.metrics["A:"]["distortion"] == res.to_metrics()["distortion"]
    assert rep.metrics["verdict"] == res.verdict
    html = rep.to_html()
    assert "A: Invariance" in html and describe_action(res.action)[:30] in html


# -- the stages the studies share ---------------------------------------------------------------
def test_stages_equal_the_diagnostics_they_call(result):
    X, res = result
    action = res.action
    F = {"raw": X.reshape(len(X), -1), "sort": np.sort(X[..., 0], axis=1)}
    got = measure_distortion(F, X, action, n_pairs=300, k=5, random_state=3, max_queries=40)
    for label, feats in F.items():
        want = distortion(feats, X, action, n_pairs=300, k=5, random_state=3, max_queries=40)
        assert got[label] == want
    y = np.arange(len(X)) % 3
    block = measure_probes(F, y, task="classification", probes=("knn",), cv=3, random_state=1)
    want = probe(F["sort"], y, task="classification", probes=("knn",), cv=3, random_state=1)
    assert block.results["sort"].scores == want.scores
    assert block.headline("sort") == ("knn", want.scores["knn"]["accuracy"][0])


def test_measure_probes_clamps_folds_and_records_or_raises_errors():
    rng = np.random.default_rng(0)
    F = {"a": rng.normal(size=(12, 3))}
    y = np.array([0] * 10 + [1] * 2)  # the smallest class has 2 samples
    block = measure_probes(F, y, task="classification", probes=("linear",), cv=5, random_state=0)
    assert block.results["a"].cv == 2
    bad = {"a": np.full((12, 3), np.nan)}
    block = measure_probes(bad, y, task="classification", probes=("linear",), cv=2, random_state=0)
    assert "a" in block.errors and block.results == {}
    assert "errors" in block.to_dict()
    with pytest.raises(ValueError):
        measure_probes(
            bad,
            y,
            task="classification",
            probes=("linear",),
            cv=2,
            random_state=0,
            catch_errors=False,
        )


def test_a_mask_on_vector_latents_is_a_one_line_error():
    action = SO2("1x0 + 1x1")
    X, _, _ = _codes(action, n=20)
    with pytest.raises(ValueError, match="node sets only; received SO2"):
        analyze_latents(X, action, mask=np.ones((20, 3), bool), maps=(), progress=False)


def test_masked_node_latents_run_through_every_stage():
    rng = np.random.default_rng(0)
    n, k = 40, 5
    X = rng.normal(size=(n, k, 2))
    mask = np.arange(k)[None, :] < rng.integers(3, 6, n)[:, None]
    X[~mask] = 0.0
    res = analyze_latents(
        X,
        Permutation(k),
        labels=np.arange(n) % 2,
        mask=mask,
        methods=["lexsort"],
        quick=True,
        maps=(),
        progress=False,
    )
    assert res.data.masked and res.to_metrics()["data"]["masked"] is True
    assert res.invariance["lexsort"].max_rel < 1e-6 < res.invariance["raw"].max_rel
    assert res.recommendation.recommended == "lexsort"
