"""``orbitspace demo quotient``: without noise the alignment recovers the applied element and the
quotient distance of x and g·x is zero, for every kind of action."""

from __future__ import annotations

import re

import pytest

from orbitspace.cli import main
from orbitspace.studies.quotient import run_demo


def _blocks(text: str) -> list[dict[str, str]]:
    out = []
    for block in text.strip().split("\n\n")[1:]:
        lines = block.strip().splitlines()
        fields = {"action": lines[0]}
        for line in lines[1:]:
            m = re.match(r"\s+(applied|recovered)\s+(.*)$", line)
            if m:
                fields[m.group(1)] = m.group(2)
            m = re.match(r"\s+d\(\[x\],\[g·x\]\)\s+([0-9.]+)", line)
            if m:
                fields["d"] = m.group(1)
        out.append(fields)
    return out


def test_noise_free_copies_are_recovered(capsys):
    assert run_demo(seed=2, noise=0.0) == 0
    blocks = _blocks(capsys.readouterr().out)
    names = [b["action"].split("(")[0] for b in blocks]
    assert names == ["SO2", "Cyclic", "Permutation", "SO3", "Product"]
    for b in blocks:
        assert float(b["d"]) == pytest.approx(0.0, abs=1e-4)
        if b["action"].startswith("SO2"):
            applied, recovered = (float(b[k].split()[2]) for k in ("applied", "recovered"))
            assert recovered == pytest.approx(applied, abs=1e-5)
        elif b["action"].startswith(("Cyclic", "Permutation")):
            assert b["applied"] == b["recovered"]


def test_noise_makes_the_distance_positive_via_the_cli(capsys):
    assert main(["demo", "quotient", "--seed", "1", "--noise", "0.3"]) == 0
    blocks = _blocks(capsys.readouterr().out)
    assert len(blocks) == 5 and all(float(b["d"]) > 0.01 for b in blocks)


def test_out_writes_metrics(tmp_path, capsys):
    import json

    assert main(["demo", "quotient", "--out", str(tmp_path / "q")]) == 0
    m = json.loads((tmp_path / "q" / "metrics.json").read_text())
    assert len(m["cases"]) == 5
    assert all(c["certified"] and c["quotient"] < 1e-6 < c["raw"] for c in m["cases"])
