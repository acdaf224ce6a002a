"""Checks every CLI command runs before it does any work: nothing lost, nothing half-written.

- :func:`check_outputs_are_not_inputs`: an output path may not be a file the run reads
  (``project codes.npy -o codes.npy`` would overwrite the latents with features);
- :func:`check_destination_writable`: the output's folder (or its nearest existing ancestor) is
  writable, probed with a real temporary file, *before* a long analysis;
- :func:`clean_stale_partials`: removes the hidden ``.NAME.PID.*.partial`` files and folders that
  runs killed with SIGKILL left next to an output (those of live processes are kept);
- :func:`terminate_cleanly`: SIGTERM (and SIGHUP) raise :class:`Terminated`, so the staged
  writers of :mod:`orbitspace._io` remove their partial files as on any error;
- :func:`input_paths`: the files a run's arguments name.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

from orbitspace._io import Terminated, forget_termination, note_termination, raise_if_terminated

__all__ = [
    "Terminated",
    "check_outputs_are_not_inputs",
    "check_destination_writable",
    "clean_stale_partials",
    "input_paths",
    "terminate_cleanly",
]


def input_paths(args: argparse.Namespace) -> list[Path]:
    """The existing files named by ``latents``, ``--mask``, ``--labels`` and ``--targets``."""
    from orbitspace.datasets.latent_files import split_spec

    paths = []
    for attr in ("latents", "mask", "labels", "targets"):
        value = getattr(args, attr, None)
        if not value:
            continue
        path, _ = split_spec(value)
        if path.exists():
            paths.append(path)
    return paths


def _same(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def check_outputs_are_not_inputs(outputs: Iterable[Path], inputs: Iterable[Path]) -> None:
    """Refuse an output that is (or, for a folder, contains) one of the run's input files.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "codes.npy"
    >>> _ = f.write_bytes(b"")
    >>> check_outputs_are_not_inputs([f], [f])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: the output ... is an input of this run (...); choose another output path
    """
    inputs = list(inputs)
    for out in outputs:
        for inp in inputs:
            if _same(out, inp):
                raise ValueError(
                    f"the output {out} is an input of this run ({inp}); choose another output path"
                )


def check_destination_writable(out: Path) -> None:
    """Refuse an output whose folder (or nearest existing ancestor) cannot be written."""
    folder = out.absolute().parent
    while not folder.exists() and folder.parent != folder:
        folder = folder.parent
    try:
        fd, probe = tempfile.mkstemp(prefix=".orbitspace-write-probe.", dir=folder)
    except OSError as exc:
        raise OSError(
            f"cannot write {out}: folder {folder} is not writable ({exc.strerror or exc})"
        ) from None
    os.close(fd)
    os.unlink(probe)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale_partials(out: Path) -> list[Path]:
    """Remove ``.{out.name}.{pid}.*.partial`` next to ``out`` whose process is gone.

    Returns the removed paths.
    """
    folder = out.absolute().parent
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    prefix = f".{out.name}."
    for item in folder.iterdir():
        name = item.name
        if not (name.startswith(prefix) and name.endswith(".partial")):
            continue
        pid_text = name[len(prefix) :].split(".", 1)[0]
        if not pid_text.isdigit() or _pid_alive(int(pid_text)):
            continue
        if item.is_dir() and not item.is_symlink():
            shutil.rmtree(item, ignore_errors=True)
        else:
            item.unlink(missing_ok=True)
        removed.append(item)
    return removed


#: the outputs of the running command (their partial files are ours to remove)
_OUTPUTS: list[Path] = []
#: seconds after a SIGTERM before the watchdog re-raises it in the main thread, and again
#: before it ends the process itself
GRACE_S = 5.0


def register_outputs(outs: list[Path]) -> None:
    """Remember the run's outputs, so that a forced exit can remove its partial files."""
    _OUTPUTS[:] = [Path(o) for o in outs]


def _remove_own_partials() -> int:
    """Remove this process's partial files of the registered outputs; returns how many."""
    pid = os.getpid()
    removed = 0
    for out in _OUTPUTS:
        folder = out.absolute().parent
        for item in folder.glob(f".{out.name}.{pid}.*.partial"):
            if item.is_dir() and not item.is_symlink():
                shutil.rmtree(item, ignore_errors=True)
            else:
                item.unlink(missing_ok=True)
            removed += 1
    return removed


#: set when the current terminate_cleanly block has ended (the watchdog then stands down)
_BLOCK_DONE: list[threading.Event] = []


def _watchdog(name: str, main_id: int, done: threading.Event) -> None:
    """If the exception raised by the handler was swallowed (signals that arrive inside a
    C callback, e.g. numba's cache writer, are "ignored"), re-raise it in the main thread
    after a grace period, so that the staged writers clean up as on any error.  If the main
    thread is still running after a second grace period (stuck in compiled code, or the
    exception swallowed again), end the process: partial files removed, the usual one-line
    message, exit code 143.  It stands down as soon as the block has ended (``done``)."""
    import ctypes

    if done.wait(GRACE_S):
        return
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(main_id), ctypes.py_object(Terminated)
    )
    if done.wait(GRACE_S):
        return
    # still here: the main thread is in compiled code, which creates no files until it returns
    print(f"orbitspace: terminated ({name}); no output written", file=sys.stderr, flush=True)
    _remove_own_partials()
    os._exit(143)


def _raise_terminated(signum: int, frame: object) -> None:
    name = signal.Signals(signum).name
    note_termination(name)
    main_id = threading.main_thread().ident
    done = _BLOCK_DONE[-1]  # the handler is installed only inside terminate_cleanly
    threading.Thread(target=_watchdog, args=(name, main_id, done), daemon=True).start()
    raise Terminated(name)


@contextlib.contextmanager
def terminate_cleanly() -> Iterator[None]:
    """Within the block, SIGTERM / SIGHUP raise :class:`Terminated` (main thread only).

    The signal is also recorded, so that when its exception is swallowed (inside a C
    callback) no writer of :mod:`orbitspace._io` publishes an output and the block still
    ends with :class:`Terminated`.
    """
    previous_hook = sys.unraisablehook

    def quiet_hook(unraisable: object) -> None:
        # a Terminated swallowed by a C callback is recorded (note_termination): no traceback
        if getattr(unraisable, "exc_type", None) is not Terminated:
            previous_hook(unraisable)

    _BLOCK_DONE.append(threading.Event())  # before the handlers, which hand it to a watchdog
    sys.unraisablehook = quiet_hook
    previous = {}
    try:
        try:
            for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
                if sig is not None:
                    previous[sig] = signal.signal(sig, _raise_terminated)
        except ValueError:  # not the main thread: leave the handlers alone
            pass
        yield
        raise_if_terminated()  # the handler's exception may have been swallowed
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        _BLOCK_DONE.pop().set()  # the block is over: a watchdog has nothing left to do
        sys.unraisablehook = previous_hook
        if not _BLOCK_DONE:
            forget_termination()  # the record served this block; later writes are free
