"""Inputs that cannot break it (issue 15): limits before allocation, one-line errors, nothing
lost and nothing half-written, numba's cache where nothing is writable, escnn that imports."""

from __future__ import annotations

import ctypes
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import orbitspace as osp
from orbitspace import _io, _numba_cache
from orbitspace._validation import LIMITS, check_limit, shorten
from orbitspace.cli import _guards, main
from orbitspace.cli._guards import clean_stale_partials

SRC = Path(osp.__file__).resolve().parents[1]
HAS_ESCNN = importlib.util.find_spec("escnn") is not None and (
    importlib.util.find_spec("torch") is not None
)


def _env(**extra: str) -> dict:
    env = dict(os.environ, PYTHONPATH=str(SRC), OMP_NUM_THREADS="1")
    env.update(extra)
    return env


# -- limits, checked before anything is allocated ------------------------------------------------
@pytest.mark.parametrize(
    ("make", "limit"),
    [
        (lambda: osp.SO2("100000000x1"), "multiplicity limit 1000000"),
        (lambda: osp.SO2("10x1000000000000"), "frequency limit 1024"),
        (lambda: osp.SO2("600000x1"), "dimension limit 1000000"),
        (lambda: osp.SO2("9" * 5000 + "x1"), "multiplicity limit"),
        (lambda: osp.Cyclic(10**6, "1x1 + 1x0"), "group order limit 4096"),
        (lambda: osp.Cyclic(4096, "300xregular"), "dimension limit"),
        (lambda: osp.SO2("1x0 + " * 20_000 + "1x0"), "spec length limit 10000"),
        (lambda: osp.parse_action("SO2('" + "1x0 + " * 20_000 + "1x0')"), "spec length limit"),
        (
            lambda: osp.invariant_features(
                np.zeros((2, 4)), osp.SO2("2x1"), "align_to_reference", n_references=10**9
            ),
            "references limit 100000",
        ),
        (
            lambda: osp.invariant_features(
                np.zeros((2, 4)), osp.SO2("2x1"), "max_filter", n_templates=10**9
            ),
            "templates limit 100000",
        ),
    ],
)
def test_sizes_beyond_the_stated_limits_are_refused_at_once_in_one_line(make, limit):
    start = time.perf_counter()
    with pytest.raises(ValueError, match=limit) as info:
        make()
    assert time.perf_counter() - start < 1.0
    message = str(info.value)
    assert "\n" not in message and len(message) < 300, message


def test_limits_are_the_stated_ones_and_the_largest_allowed_sizes_work():
    assert LIMITS["group order"] == 4096 and LIMITS["frequency"] == 1024
    assert osp.Cyclic(4096, "1x1 + 1x0").dim == 3
    assert osp.SO2("2x1024").dim == 4
    assert check_limit(4096, "N", "group order") == 4096
    with pytest.raises(ValueError, match="N = 4097 exceeds the group order limit 4096"):
        check_limit(4097, "N", "group order")


def test_shorten_keeps_short_text_and_states_the_length_of_long_text():
    assert shorten("SO2('4x0')") == "SO2('4x0')"
    long = "x" * 120_000
    out = shorten(long, width=80)
    assert len(out) < 110 and "120000 characters" in out


def test_a_malformed_long_representation_is_quoted_shortened():
    with pytest.raises(ValueError) as info:
        osp.SO2("1x0 + " * 1000 + "oops")
    assert len(str(info.value)) < 400 and "6004 characters" in str(info.value)


# -- the command line: one line, the option named, nothing lost ------------------------------------
def _cli(capsys, *argv: str) -> tuple[int, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse errors
        code = int(exc.code)
    err = capsys.readouterr().err
    return code, err


def _one_line(err: str) -> str:
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, err
    return lines[0]


@pytest.fixture
def codes(tmp_path):
    rng = np.random.default_rng(0)
    z = rng.standard_normal((40, 4))
    np.save(tmp_path / "codes.npy", z)
    np.savez(tmp_path / "codes.npz", z=z, w=z[:, :2], y=rng.integers(0, 2, 40))
    return tmp_path


def test_project_refuses_to_overwrite_its_input(codes, capsys):
    before = (codes / "codes.npy").read_bytes()
    code, err = _cli(
        capsys, "project", str(codes / "codes.npy"), "--action", "SO2('2x1')", "--method",
        "norms", "-o", str(codes / "codes.npy"),
    )  # fmt: skip
    assert code == 2 and "is an input of this run" in _one_line(err)
    assert (codes / "codes.npy").read_bytes() == before


def test_distances_refuses_an_indices_output_that_is_an_input(codes, capsys):
    np.save(codes / "knn.indices.npy", np.zeros(3))
    code, err = _cli(
        capsys, "distances", str(codes / "codes.npy"), "--action", "SO2('2x1')", "--knn", "3",
        "--mask", str(codes / "knn.indices.npy"), "-o", str(codes / "knn.npy"),
    )  # fmt: skip
    assert code == 2 and "knn.indices.npy is an input" in _one_line(err)


def test_bad_seed_names_the_option_in_one_line(codes, capsys):
    code, err = _cli(
        capsys, "analyze", str(codes / "codes.npy"), "--action", "SO2('2x1')", "--seed", "abc",
        "-o", str(codes / "out"),
    )  # fmt: skip
    assert code == 2 and "--seed" in _one_line(err) and "'abc'" in err


def test_key_conflicting_with_file_key_is_an_error(codes, capsys):
    code, err = _cli(
        capsys, "project", f"{codes / 'codes.npz'}:z", "--key", "w", "--action", "SO2('2x1')",
        "--method", "norms", "-o", str(codes / "f.npy"),
    )  # fmt: skip
    assert code == 2 and "two array names" in _one_line(err)
    assert not (codes / "f.npy").exists()


def test_a_120_kb_spec_is_refused_in_one_short_line(codes, capsys):
    spec = "SO2('" + "1x0 + " * 20_000 + "1x0')"
    code, err = _cli(
        capsys, "project", str(codes / "codes.npy"), "--action", spec, "--method", "norms",
        "-o", str(codes / "f.npy"),
    )  # fmt: skip
    line = _one_line(err)
    assert code == 2 and "spec length limit" in line and len(line) < 300


def test_all_false_mask_is_refused(tmp_path, capsys):
    np.save(tmp_path / "g.npy", np.random.default_rng(1).random((6, 3, 2)))
    mask = np.ones((6, 3), bool)
    mask[4] = False
    np.save(tmp_path / "m.npy", mask)
    code, err = _cli(
        capsys, "project", str(tmp_path / "g.npy"), "--action", "Permutation(3)", "--mask",
        str(tmp_path / "m.npy"), "--method", "sort", "-o", str(tmp_path / "f.npy"),
    )  # fmt: skip
    assert code == 2 and "graph 4 has no real node" in _one_line(err)
    assert not (tmp_path / "f.npy").exists()


@pytest.mark.skipif(not HAS_ESCNN, reason="needs torch")
def test_a_malicious_pt_is_refused_in_one_line_without_running_it(tmp_path, capsys):
    import torch

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {tmp_path / 'pwned'}",))

    torch.save({"z": Evil()}, tmp_path / "evil.pt")
    code, err = _cli(
        capsys, "project", str(tmp_path / "evil.pt"), "--action", "SO2('2x1')", "--method",
        "norms", "-o", str(tmp_path / "f.npy"),
    )  # fmt: skip
    line = _one_line(err)
    assert code == 2 and "weights_only=True" in line and "nothing was unpickled" in line
    assert "system" in line and not line.endswith(("the", "a", "of"))
    assert not (tmp_path / "pwned").exists()


def test_analyze_finds_an_unwritable_destination_before_the_analysis(codes, capsys):
    blocker = codes / "a_file"
    blocker.write_text("")
    start = time.perf_counter()
    code, err = _cli(
        capsys, "analyze", str(codes / "codes.npy"), "--action", "SO2('2x1')", "-o",
        str(blocker / "out"),
    )  # fmt: skip
    assert code == 2 and "cannot write" in _one_line(err)
    assert time.perf_counter() - start < 5  # no analysis ran


def test_stale_partials_of_dead_runs_are_removed_and_live_ones_kept(tmp_path):
    out = tmp_path / "feats.npy"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".feats.npy.{dead.pid}.abc123.partial"
    stale.write_bytes(b"x" * 100)
    stale_dir = tmp_path / f".feats.npy.{dead.pid}.def456.partial"
    stale_dir.mkdir()
    live = tmp_path / f".feats.npy.{os.getpid()}.ghi789.partial"
    live.write_bytes(b"y")
    other = tmp_path / f".other.npy.{dead.pid}.abc.partial"
    other.write_bytes(b"z")
    removed = clean_stale_partials(out)
    assert sorted(removed) == sorted([stale, stale_dir])
    assert live.exists() and other.exists() and not stale.exists() and not stale_dir.exists()


def test_a_terminated_project_leaves_no_partial_file(tmp_path):
    rng = np.random.default_rng(2)
    np.save(tmp_path / "big.npy", rng.standard_normal((200_000, 8)))
    cmd = [
        sys.executable, "-m", "orbitspace.cli", "project", "big.npy", "--action", "SO2('4x1')",
        "--method", "max_filter(n_templates=64)", "--chunk-size", "256", "--no-progress",
        "-o", "feats.npy",
    ]  # fmt: skip
    proc = subprocess.Popen(
        cmd, cwd=tmp_path, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(".feats.npy.*.partial")):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert "terminated" in err and len(err.strip().splitlines()) == 1, err
    assert not list(tmp_path.glob(".feats.npy.*")) and not (tmp_path / "feats.npy").exists()


def test_a_signal_swallowed_by_a_c_callback_still_stops_every_output(tmp_path, capsys, monkeypatch):
    # the CI failure this guards: SIGTERM arrived inside numba's ctypes cache callback, its
    # exception was "ignored", and the run finished and published its output with exit 0
    monkeypatch.setattr(_io, "_TERMINATION", [])
    monkeypatch.setattr(_guards, "GRACE_S", 0.2)  # the watchdog must stand down (see the end)
    callback = ctypes.CFUNCTYPE(None)(lambda: _guards._raise_terminated(signal.SIGTERM, None))
    out = tmp_path / "feats.npy"
    with pytest.raises(_io.Terminated):
        with _guards.terminate_cleanly():
            callback()  # the handler raised inside C: swallowed
            _io.save_npy_atomic(out, np.zeros(3))
    assert not out.exists() and not list(tmp_path.iterdir())
    assert "Traceback" not in capsys.readouterr().err  # no "Exception ignored" noise
    with pytest.raises(_io.Terminated):  # and a block that writes nothing still ends so
        with _guards.terminate_cleanly():
            callback()
    time.sleep(1.0)  # a watchdog that did not stand down would now raise here or end pytest
    _io.save_npy_atomic(out, np.zeros(3))  # once the block is over, writes are free again
    assert out.exists()


_SWALLOWED = """
import ctypes, signal, sys, time
from orbitspace._io import Terminated, staged_file
from orbitspace.cli import _guards
_guards.GRACE_S = 0.5
_guards.register_outputs(["feats.npy"])
try:
    with _guards.terminate_cleanly():
        ctypes.CFUNCTYPE(None)(lambda: _guards._raise_terminated(signal.SIGTERM, None))()
        with staged_file("feats.npy") as tmp:
            end = time.monotonic() + 30
            while time.monotonic() < end:
                {work}
except Terminated as exc:
    print(f"orbitspace: terminated ({{exc}}); no output written", file=sys.stderr)
    sys.exit(143)
"""


@pytest.mark.parametrize(
    "work",
    [
        "tmp.write_bytes(b'x')",  # Python that keeps (re)creating its partial file: re-raised
        "time.sleep(30)",  # a call that never returns to Python: the process is ended
    ],
)
def test_the_watchdog_ends_a_run_that_ignores_a_swallowed_signal(tmp_path, work):
    script = _SWALLOWED.format(work=work)
    proc = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=_env(), capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert proc.returncode == 143, proc.stderr
    assert proc.stderr.strip() == "orbitspace: terminated (SIGTERM); no output written"
    assert not list(tmp_path.glob(".feats.npy.*")) and not (tmp_path / "feats.npy").exists()


# -- numba's cache ---------------------------------------------------------------------------------
def test_numba_cache_falls_back_to_a_temporary_folder_then_to_no_cache(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    unwritable = blocker / "sub"  # under a regular file: cannot be created, even by root
    env = {"HOME": str(unwritable), "NUMBA_CACHE_DIR": str(unwritable / "n")}
    env["TMPDIR"] = str(tmp_path)
    assert _numba_cache.configure(env, in_tree=unwritable).startswith("temporary:")
    assert env["NUMBA_CACHE_DIR"].startswith(str(tmp_path))
    env = {"HOME": str(unwritable), "TMPDIR": str(unwritable)}
    assert _numba_cache.configure(env, in_tree=unwritable) == "disabled"
    assert "NUMBA_CACHE_DIR" not in env
    env = {"HOME": str(tmp_path / "home")}
    assert _numba_cache.configure(env, in_tree=unwritable) == "user-wide"
    assert _numba_cache.configure({}, in_tree=tmp_path) == "in-tree"


def _read_only_run(tmp_path: Path, tmpdir: str) -> subprocess.CompletedProcess:
    """Run the solvers from a read-only copy of the package, with no writable home."""
    ro = tmp_path / "ro"
    ro.mkdir()
    shutil.copytree(
        SRC / "orbitspace",
        tmp_path / "pkg" / "orbitspace",
        ignore=shutil.ignore_patterns("__pycache__", "*.pt"),
    )
    script = (
        f"mount --bind {tmp_path / 'pkg'} {ro} && mount -o remount,bind,ro {ro} && "
        f'{sys.executable} -c "import orbitspace as osp, numpy as np; '
        "from orbitspace import _numba_cache as c; print(c.CHOICE); "
        "print(float(osp.quotient_distance(np.ones(4), np.ones(4), osp.SO2('2x1'))))\""
    )
    env = _env(PYTHONPATH=str(ro), HOME=str(ro / "home"), TMPDIR=tmpdir)
    env.pop("NUMBA_CACHE_DIR", None)
    env.pop("XDG_CACHE_HOME", None)
    return subprocess.run(
        ["unshare", "-m", "sh", "-c", script], env=env, capture_output=True, text=True, timeout=300
    )


def test_solvers_run_from_a_read_only_install_with_no_writable_home(tmp_path):
    if shutil.which("unshare") is None:
        pytest.skip("needs unshare to mount a read-only copy")
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("unshare -m is not permitted here")
    run = _read_only_run(tmp_path, str(tmp_path / "ro" / "tmp"))
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split() == ["disabled", "0.0"], run.stdout
    tmp = tmp_path / "writable_tmp"
    tmp.mkdir()
    shutil.rmtree(tmp_path / "ro")
    shutil.rmtree(tmp_path / "pkg")
    run = _read_only_run(tmp_path, str(tmp))
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split()[0] == f"temporary:{tmp}/orbitspace-numba-cache-{os.getuid()}"


# -- escnn that imports ----------------------------------------------------------------------------
needs_escnn = pytest.mark.skipif(not HAS_ESCNN, reason="escnn not installed")


@needs_escnn
def test_a_failed_escnn_import_can_be_retried_after_enable_escnn():
    code = (
        "import orbitspace as osp\n"
        "try:\n"
        "    from escnn import gspaces\n"
        "    print('imported without the hook')\n"
        "except ImportError:\n"
        "    print('failed first')\n"
        "osp.interop.enable_escnn()\n"
        "from escnn import gspaces, nn\n"
        "gs = gspaces.rot2dOnR2(N=8)\n"
        "print(repr(osp.from_escnn(nn.FieldType(gs, 2 * [gs.regular_repr]))))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], env=_env(), capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr[-2000:]
    lines = run.stdout.split("\n")
    assert lines[0] in ("failed first", "imported without the hook")
    assert "Cyclic(8, '2xregular')" in run.stdout


@needs_escnn
def test_the_pth_line_makes_a_plain_escnn_import_work(tmp_path):
    from orbitspace.interop._escnn_compat import _install_pth

    _install_pth(str(tmp_path))
    code = (
        f"import site, sys; site.addsitedir({str(tmp_path)!r}); "
        "assert 'numpy' not in sys.modules, 'the hook must not import numpy'; "
        "from escnn import gspaces, nn; gs = gspaces.rot2dOnR2(N=-1, maximum_frequency=3); "
        "nn.R2Conv(nn.FieldType(gs, [gs.trivial_repr]), nn.FieldType(gs, 2 * [gs.irrep(1)]), 3); "
        "print('escnn ok')"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], env=_env(), capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert "escnn ok" in run.stdout


@needs_escnn
def test_geometric_tensors_are_accepted_and_spatial_axes_pooled_or_refused():
    import torch

    from orbitspace.interop._escnn_compat import import_escnn
    from orbitspace.interop.escnn import from_escnn, latents_from_escnn

    enn = import_escnn().nn
    gs = import_escnn().gspaces.rot2dOnR2(N=8)
    ft = enn.FieldType(gs, 2 * [gs.regular_repr] + [gs.irrep(1)])
    t = torch.randn(4, ft.size, 1, 1, requires_grad=True)
    gt = enn.GeometricTensor(t, ft)
    assert repr(from_escnn(gt)) == "Cyclic(8, '2xregular + 1x1')"
    z, action = latents_from_escnn(gt)
    assert z.shape == (4, 18) and z.requires_grad and action == from_escnn(ft)
    spatial = enn.GeometricTensor(torch.randn(4, ft.size, 5, 5, dtype=torch.float64), ft)
    with pytest.raises(ValueError, match=r"spatial axes \(5, 5\).*pool them first"):
        latents_from_escnn(spatial)
    z, _ = latents_from_escnn(spatial, pool="mean")
    rotated, _ = latents_from_escnn(spatial.transform(gs.fibergroup.element(2)), pool="mean")
    np.testing.assert_allclose(rotated.numpy(), action.act(2, z.numpy()), atol=1e-10)
    with pytest.raises(TypeError, match="field_type"):
        latents_from_escnn(t)
    with pytest.raises(ValueError, match=r"shape \(B, 18, \.\.\.\)"):
        latents_from_escnn(torch.randn(4, 17), ft)


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="needs torch")
def test_a_tensor_that_requires_grad_is_not_detached_silently():
    """Issue 15: the distance and torch-native maps carry the gradient; a map that cannot
    (no torch implementation) refuses with a TypeError; no warning-and-detach anywhere."""
    import warnings

    import torch

    rho = osp.SO2("1x0 + 2x1")
    x = torch.randn(3, rho.dim, dtype=torch.float64, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = osp.quotient_distance(x, x.flip(0), rho)
        feats = osp.invariants.invariant_features(x, rho, "norms")
    assert out.requires_grad and feats.requires_grad
    with pytest.raises(TypeError, match="no torch implementation.*requires grad"):
        osp.invariants.invariant_features(x, rho, "bispectrum")
