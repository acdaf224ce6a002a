"""Read latent codes, labels and targets from files, safely (no pickles, no code execution).

Latents: ``.npy`` (optionally memory-mapped), ``.npz`` (choose an array with ``FILE:KEY`` or
``key=``), ``.pt`` / ``.pth`` (``torch.load(weights_only=True)``: a tensor or a dict of tensors).
Labels and targets: ``.npy``, ``.csv`` / ``.txt`` / ``.tsv`` (one column, or several for
targets, an optional header row), or the name of another array in the latents' ``.npz`` / ``.pt``.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> np.savez(d / "lat.npz", codes=np.zeros((3, 2)), y=np.arange(3))
>>> load_array(f"{d / 'lat.npz'}:codes").shape
(3, 2)
>>> load_column("y", n_rows=3, container=d / "lat.npz").tolist()
[0, 1, 2]
"""

from __future__ import annotations

import csv
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from orbitspace._validation import shorten

__all__ = [
    "split_spec",
    "load_array",
    "load_column",
    "load_column_with_names",
    "array_keys",
    "LATENT_SUFFIXES",
]

LATENT_SUFFIXES = (".npy", ".npz", ".pt", ".pth")
TABLE_SUFFIXES = (".csv", ".tsv", ".txt")


def split_spec(spec: str | os.PathLike) -> tuple[Path, str | None]:
    """Split ``"latents.npz:codes"`` into ``(Path("latents.npz"), "codes")``.

    A path that exists as written is never split (file names may contain colons).
    """
    text = os.fspath(spec)
    if Path(text).exists() or ":" not in text:
        return Path(text), None
    head, key = text.rsplit(":", 1)
    if not head or not key or "/" in key or "\\" in key:
        return Path(text), None
    return Path(head), key


def _check_file(path: Path) -> None:
    if not path.exists():
        raise FileNotFoundError(f"no such file: {path}")
    if path.is_dir():
        raise ValueError(f"{path} is a folder; expected a .npy, .npz or .pt file")


def _pickle_error(path: Path, what: str = "array") -> ValueError:
    return ValueError(
        f"{path} holds a pickled (object) {what}; orbitspace only reads plain numeric arrays "
        "(np.load with allow_pickle=False): save it with np.save(..., arr.astype(float))"
    )


def array_keys(path: str | os.PathLike) -> list[str]:
    """Names of the arrays in an ``.npz`` file or of the tensors in a ``.pt`` dict."""
    path = Path(path)
    _check_file(path)
    if path.suffix == ".npz":
        with _open_npz(path) as z:
            return list(z.files)
    if path.suffix in (".pt", ".pth"):
        obj = _torch_load(path)
        return list(obj) if isinstance(obj, dict) else []
    return []


def _open_npz(path: Path):
    try:
        return np.load(path, allow_pickle=False)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise ValueError(f"cannot read {path} as an .npz archive: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return shorten(text.splitlines()[0], 200) if text else type(exc).__name__


def _refusal_reason(message: str) -> str:
    """The one telling clause of torch's multi-paragraph weights_only refusal."""
    import re

    found = re.search(r"(?:unsupported|blocked|not allowed)[^\n]*", message, flags=re.I)
    if found:
        clause = found.group(0).strip().rstrip(".:")
        return re.sub(r"^Trying to load ", "", clause)
    lines = [ln.strip() for ln in message.strip().splitlines() if ln.strip()]
    return lines[0] if lines else "unsafe content"


def _torch_load(path: Path) -> Any:
    import pickle
    import warnings

    try:
        import torch
    except ImportError:
        raise ImportError(
            f"reading {path} needs torch (pip install 'orbitspace[torch]'); or save the codes "
            "with np.save / np.savez"
        ) from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's FutureWarnings would add lines
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise ValueError(
            f"{path} is not a plain tensor file: torch.load(weights_only=True) refused it "
            f"({shorten(_refusal_reason(str(exc)), 160)}); nothing was unpickled"
        ) from None
    except Exception as exc:  # noqa: BLE001 - torch's unpickler raises anything on garbage
        raise ValueError(
            f"cannot read {path} with torch.load: {type(exc).__name__}: {_first_line(exc)}"
        ) from None


def _tensor_to_numpy(obj: Any, where: str) -> np.ndarray:
    if type(obj).__module__.startswith("torch") and hasattr(obj, "detach"):
        return obj.detach().cpu().numpy()
    if isinstance(obj, np.ndarray):
        return obj
    raise ValueError(f"{where} is a {type(obj).__name__}, not a tensor")


def _pick(container: dict | Any, keys: list[str], key: str | None, path: Path) -> Any:
    if key is None:
        if len(keys) == 1:
            return container[keys[0]]
        raise ValueError(
            f"{path} holds {len(keys)} arrays ({', '.join(keys[:12])}); choose one with "
            f"{path}:KEY or --key"
        )
    if key not in keys:
        raise ValueError(f"{path} has no array {key!r}; it holds: {', '.join(keys[:20]) or 'none'}")
    return container[key]


def load_array(
    spec: str | os.PathLike, *, key: str | None = None, mmap: bool = False
) -> np.ndarray:
    """Load one array from ``.npy``, ``.npz`` (``FILE:KEY`` or ``key``) or ``.pt``.

    Parameters
    ----------
    spec : path, optionally ``path:KEY``
    key : str, optional
        Array name inside an ``.npz`` / ``.pt`` dict; a different ``:KEY`` suffix is an error.
    mmap : bool
        Memory-map a ``.npy`` file (read-only) instead of reading it into memory.

    Returns
    -------
    numpy array (never an object array)
    """
    path, spec_key = split_spec(spec)
    if key is not None and spec_key is not None and key != spec_key:
        raise ValueError(
            f"two array names for {path}: {spec_key!r} (from {os.fspath(spec)}) and {key!r} "
            "(from --key / key=); give one"
        )
    key = key if key is not None else spec_key
    _check_file(path)
    suffix = path.suffix.lower()
    if suffix == ".npy":
        if key is not None:
            raise ValueError(f"{path} is a single-array .npy file; it has no key {key!r}")
        with open(path, "rb") as f:
            if f.read(6) != b"\x93NUMPY":
                raise ValueError(f"cannot read {path}: it is not a .npy file (no NumPy header)")
        try:
            arr = np.load(path, allow_pickle=False, mmap_mode="r" if mmap else None)
        except ValueError as exc:
            if "pickle" in str(exc).lower():
                raise _pickle_error(path) from None
            raise ValueError(f"cannot read {path} as .npy: {_first_line(exc)}") from None
        except Exception as exc:  # noqa: BLE001 - a corrupt header raises SyntaxError & co.
            raise ValueError(
                f"cannot read {path} as .npy: {type(exc).__name__}: {_first_line(exc)}"
            ) from None
    elif suffix == ".npz":
        with _open_npz(path) as z:
            try:
                arr = np.asarray(_pick(z, list(z.files), key, path))
            except ValueError as exc:
                if "pickle" in str(exc).lower():
                    raise _pickle_error(path) from None
                if str(exc).startswith(str(path)):
                    raise  # our own message (no such key, several arrays)
                raise ValueError(f"cannot read {path}: {_first_line(exc)}") from None
            except Exception as exc:  # noqa: BLE001 - corrupt members raise anything
                raise ValueError(
                    f"cannot read {path}: {type(exc).__name__}: {_first_line(exc)}"
                ) from None
    elif suffix in (".pt", ".pth"):
        obj = _torch_load(path)
        if isinstance(obj, dict):
            obj = _pick(obj, [str(k) for k in obj], key, path)
        elif key is not None:
            raise ValueError(f"{path} holds a single tensor; it has no key {key!r}")
        arr = _tensor_to_numpy(obj, f"{path}" + (f":{key}" if key else ""))
    else:
        raise ValueError(
            f"unsupported latent file type {path.suffix or '(none)'!r} for {path}; "
            f"expected one of {', '.join(LATENT_SUFFIXES)}"
        )
    if arr.dtype == object:
        raise _pickle_error(path)
    return arr


def _read_table(path: Path, n_rows: int | None = None) -> tuple[np.ndarray, list[str] | None]:
    delimiter = "\t" if path.suffix.lower() == ".tsv" else None
    with open(path, newline="", encoding="utf-8-sig") as f:
        text = f.read()
    if delimiter is None:
        try:
            delimiter = csv.Sniffer().sniff(text[:4096], delimiters=",;\t ").delimiter
        except csv.Error:
            delimiter = ","
    rows = [
        r for r in csv.reader(text.splitlines(), delimiter=delimiter) if any(c.strip() for c in r)
    ]
    if delimiter == " ":
        rows = [[c for c in r if c] for r in rows]
    if not rows:
        raise ValueError(f"{path} is empty")
    width = len(rows[0])
    for i, r in enumerate(rows):
        if len(r) != width:
            raise ValueError(f"{path}: row {i + 1} has {len(r)} columns but row 1 has {width}")
    header = None
    if (
        not all(_is_number(c) for c in rows[0])
        and len(rows) > 1
        and all(_is_number(c) for c in rows[1])
    ):
        header, rows = [c.strip() for c in rows[0]], rows[1:]
    elif header is None and n_rows is not None and len(rows) == n_rows + 1:
        header, rows = [c.strip() for c in rows[0]], rows[1:]  # a header over text values
    cells = np.array([[c.strip() for c in r] for r in rows], dtype=str)
    return cells, header


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _numeric(cells: np.ndarray) -> np.ndarray | None:
    try:
        values = cells.astype(float)
    except ValueError:
        return None
    if (
        np.all(np.isfinite(values))
        and np.all(values == np.round(values))
        and all("." not in c and "e" not in c.lower() for c in cells.ravel())
    ):
        return values.astype(np.int64)
    return values


def load_column(
    spec: str | os.PathLike,
    *,
    n_rows: int,
    container: str | os.PathLike | None = None,
    what: str = "labels",
    numeric: bool = False,
    column: str | None = None,
) -> np.ndarray:
    """Load labels or targets with one row per latent code.

    Parameters
    ----------
    spec : str
        A ``.npy`` / ``.csv`` / ``.tsv`` / ``.txt`` file (``FILE:KEY`` into an ``.npz``), or the
        name of an array inside ``container`` (the latents' ``.npz`` / ``.pt``).
    n_rows : int
        Number of latent codes; the result must have this many rows.
    container : path, optional
        The latents' file, searched for ``spec`` when ``spec`` is not a file.
    what : str
        "labels" or "targets", for error messages.
    numeric : bool
        Require numbers (targets).
    column : str, optional
        For a table with a header, the column to use (default: all columns).

    Returns
    -------
    array of shape (n_rows,) or (n_rows, n_columns)
        (:func:`load_column_with_names` also returns the column names of a table header).
    """
    arr, _ = load_column_with_names(
        spec, n_rows=n_rows, container=container, what=what, numeric=numeric, column=column
    )
    return arr


def load_column_with_names(
    spec: str | os.PathLike,
    *,
    n_rows: int,
    container: str | os.PathLike | None = None,
    what: str = "labels",
    numeric: bool = False,
    column: str | None = None,
) -> tuple[np.ndarray, list[str] | None]:
    """Like :func:`load_column`, also returning column names from a table header (or None)."""
    text = os.fspath(spec)
    path, key = split_spec(text)
    names: list[str] | None = None
    if (
        path.exists()
        or key is not None
        or path.suffix.lower() in (*LATENT_SUFFIXES, *TABLE_SUFFIXES)
    ):
        _check_file(path)
        if path.suffix.lower() in TABLE_SUFFIXES:
            cells, names = _read_table(path, n_rows)
            if column is not None:
                if names is None or column not in names:
                    raise ValueError(f"{path} has no column {column!r}; header: {names}")
                cells, names = cells[:, [names.index(column)]], [column]
            arr = _numeric(cells)
            if arr is None:
                if numeric:
                    raise ValueError(f"{what} in {path} must be numbers; found text values")
                arr = cells
            if arr.shape[1] == 1:
                arr = arr[:, 0]
        else:
            arr = load_array(path, key=key)
            names = [key] if key else None
    elif container is not None and Path(container).suffix.lower() in (".npz", ".pt", ".pth"):
        keys = array_keys(container)
        if text not in keys:
            raise FileNotFoundError(
                f"{what} {text!r} is neither a file nor an array in {container} "
                f"(it holds: {', '.join(keys[:20])})"
            )
        arr = load_array(container, key=text)
        names = [text]
    else:
        raise FileNotFoundError(f"no such {what} file: {text}")
    arr = np.asarray(arr)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim not in (1, 2) or arr.shape[0] != n_rows:
        raise ValueError(
            f"{what} from {text} have shape {arr.shape} but there are {n_rows} latent codes "
            f"(expected {n_rows} rows)"
        )
    if numeric:
        if arr.dtype.kind not in "iufb":
            raise ValueError(f"{what} from {text} must be numbers; received dtype {arr.dtype}")
        arr = arr.astype(float)
        bad = ~np.isfinite(arr.reshape(n_rows, -1)).all(axis=1)
        if bad.any():
            raise ValueError(
                f"{what} from {text} have {int(bad.sum())} row(s) with NaN or inf "
                f"(first: row {int(np.flatnonzero(bad)[0])})"
            )
    elif arr.ndim != 1:
        raise ValueError(f"{what} from {text} must be one column; received shape {arr.shape}")
    return arr, names
