"""The built wheel, installed by pip into a fresh virtual environment, works as the README says.

Builds the wheel, creates a virtual environment without the project's packages, installs the
wheel with no extras (numpy, scipy, numba from the package index, pinned to the versions of
``requirements/`` as constraints, so pip's cache serves them), runs the README's first Python
example there, then installs the ``report`` extra and runs ``orbitspace analyze --quick`` on
generated codes.  It needs the package index (or a warm pip cache) and about a minute and a half
with a warm cache, so it runs when ``ORBITSPACE_TEST_INSTALL=1`` (``make test`` sets it).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

pytestmark = pytest.mark.skipif(
    os.environ.get("ORBITSPACE_TEST_INSTALL") != "1",
    reason="builds and installs the wheel into a fresh venv: set ORBITSPACE_TEST_INSTALL=1 "
    "(make test does)",
)


def _run(cmd: list[str], cwd: Path, env: dict | None = None, timeout: int = 600) -> str:
    proc = subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert proc.returncode == 0, (
        f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n"
        f"{proc.stderr[-3000:]}"
    )
    return proc.stdout


def _clean_env(tmp: Path) -> dict:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "PIP_"))
    }
    env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env["HOME"] = os.environ.get("HOME", str(tmp))
    return env


def readme_core_example() -> str:
    """The README's first Python block (numpy, scipy and numba only)."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    assert blocks, "README has no python example"
    return blocks[0]


def test_wheel_installs_and_runs_the_readme_example_and_analyze(tmp_path):
    env = _clean_env(tmp_path)
    wheels = tmp_path / "wheels"
    _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
        + ["-w", str(wheels), str(ROOT)],
        cwd=tmp_path,
        env=env,
    )
    (wheel,) = wheels.glob("orbitspace-*.whl")
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=tmp_path, env=env)
    py = venv / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--python", str(py), "install", "-q"]
    pip += ["--disable-pip-version-check", "-c", str(ROOT / "requirements" / "base.txt")]
    _run([*pip, str(wheel)], cwd=tmp_path, env=env)

    # no extras: only the core dependencies are there, and the README's example runs
    probe = (
        "import importlib.util as u, json; print(json.dumps({m: u.find_spec(m) is not None "
        "for m in ['numpy', 'scipy', 'numba', 'torch', 'sklearn', 'matplotlib']}))"
    )
    found = json.loads(_run([str(py), "-c", probe], cwd=tmp_path, env=env))
    assert found == {
        "numpy": True,
        "scipy": True,
        "numba": True,
        "torch": False,
        "sklearn": False,
        "matplotlib": False,
    }
    example = tmp_path / "readme_example.py"
    example.write_text(
        readme_core_example()
        + "\nassert float(osp.quotient_distance(x, y, rho).max()) < 1e-9\nprint('README ok')\n"
    )
    assert "README ok" in _run([str(py), str(example)], cwd=tmp_path, env=env)

    # the report extra: orbitspace analyze --quick on generated codes
    _run([*pip, f"{wheel}[report]"], cwd=tmp_path, env=env)
    gen = (
        "import numpy as np, orbitspace as osp\n"
        "rho = osp.SO2('2x0 + 3x1 + 1x2')\n"
        "rng = np.random.default_rng(0)\n"
        "y = rng.integers(0, 3, 300)\n"
        "z = rng.standard_normal((3, rho.dim))[y] + 0.1 * rng.standard_normal((300, rho.dim))\n"
        "z = rho.act(rho.sample(300, random_state=1), z)\n"
        "np.savez('codes.npz', z=z, y=y)\n"
    )
    _run([str(py), "-c", gen], cwd=tmp_path, env=env)
    cli = venv / "bin" / "orbitspace"
    _run(
        [str(cli), "analyze", "codes.npz:z", "--action", "SO2('2x0 + 3x1 + 1x2')"]
        + ["--labels", "y", "--quick", "--maps", "pca", "--no-progress", "-o", "out"],
        cwd=tmp_path,
        env=env,
    )
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert (tmp_path / "out" / "report.html").stat().st_size > 10_000
    assert metrics["methods"], metrics.keys()
