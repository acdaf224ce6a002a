"""Package-level contracts: public names, layering, lint-free imports."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import orbitspace

ROOT = Path(__file__).resolve().parents[1]


def test_every_public_name_resolves():
    for name in orbitspace.__all__:
        assert getattr(orbitspace, name) is not None, name


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        orbitspace.nope  # noqa: B018


def test_layering_contract_holds():
    """import-linter checks DESIGN.md section 3: each module imports only its layer or below."""
    exe = Path(sys.executable).with_name("lint-imports")
    if not exe.exists():
        exe = shutil.which("lint-imports")
    if exe is None:
        pytest.skip("import-linter is not installed in this environment")
    out = subprocess.run(
        [str(exe), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]


def test_core_layers_import_no_heavy_libraries():
    code = (
        "import sys, orbitspace, orbitspace.quotient, orbitspace.invariants, "
        "orbitspace.diagnostics, orbitspace.stats, orbitspace.testing, orbitspace.learned; "
        "heavy = [m for m in ('torch', 'sklearn', 'matplotlib', 'escnn', 'e3nn') "
        "if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
