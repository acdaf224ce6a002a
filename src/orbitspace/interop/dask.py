"""Dask for what outgrows one machine: invariant features, fitted projections and exact quotient
k-NN, block-wise on a ``dask.distributed`` cluster, and codes read from / written to zarr stores.

Each function takes codes as a dask array chunked along the rows (the first axis; the event
axes are made one chunk), fits what has to be fitted **once on the driver**, ships it to the
workers **once** (``client.scatter(..., broadcast=True)`` when a distributed client is given or
running, else one ``dask.delayed`` key in the graph) and maps the in-memory function over the
blocks.  Every row's output depends only on that row and the fitted parameters, so the result
equals the in-memory one exactly (same seeds, same numbers; ``tests/test_dask.py`` checks this
on a real ``LocalCluster`` with worker processes):

- :func:`invariant_features` equals ``orbitspace.invariants.invariant_features`` on the whole
  array.  Maps whose fit reads only the event shape (random references, templates,
  directions) are fitted on the first code, which draws the same parameters as a fit on all
  codes.  ``align_to_reference(reference="data")`` draws its row indices from the same seeded
  generator on the driver and gathers only those rows; ``reference="mean"`` sums the rows in
  order in a chain of small tasks on the workers (the order numpy sums them in), so it is exact
  too.  Any other map whose fit reads the data is fitted on the whole array on the driver.
- :func:`project` is ``InvariantProjection.fit(X).transform(X)`` (or ``transform`` of an
  already fitted estimator), the estimator broadcast once.
- :func:`quotient_knn` sends each block of query rows, with the reference set broadcast once,
  to :func:`orbitspace.quotient_knn`; rows are independent, nothing is merged.  With ``Y=None``
  (search ``X`` itself) each block asks for ``k + 1`` neighbours and drops the row itself, which
  gives the in-memory self-excluded answer (same ordering: distance, then index).  The
  reference set must fit in memory on every worker; the queries need not.

dask, distributed and zarr are optional (``pip install 'orbitspace[dask]'``); they are imported
when a function here is first called.

Examples
--------
>>> import numpy as np
>>> import dask.array as da
>>> import orbitspace as osp
>>> from orbitspace.interop import dask as odask
>>> rho = osp.SO2("1x0 + 2x1")
>>> X = np.random.default_rng(0).normal(size=(10, 5))
>>> F = odask.invariant_features(da.from_array(X, chunks=4), rho, "max_filter", random_state=0)
>>> F.chunks
((4, 4, 2), (10,))
>>> expected = osp.invariant_features(X, rho, "max_filter", random_state=0)
>>> bool(np.array_equal(F.compute(), expected))
True
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from orbitspace.groups import Action, apply_node_mask, parse_action
from orbitspace.invariants import get_map
from orbitspace.quotient import quotient_knn as _quotient_knn

__all__ = [
    "as_dask_codes",
    "local_cluster",
    "fit_params",
    "invariant_features",
    "project",
    "quotient_knn",
    "save_codes_zarr",
    "open_codes_zarr",
    "save_zarr",
]

#: rows per block when a numpy array is wrapped (about 16 MB of float64 codes at dim 20)
DEFAULT_ROWS = 100_000


def _dask():
    try:
        import dask
        import dask.array as da
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError(
            "orbitspace.interop.dask needs dask: pip install 'orbitspace[dask]' "
            "(dask[distributed] and zarr)"
        ) from exc
    return dask, da


# -- inputs -----------------------------------------------------------------------------------
def as_dask_codes(X: Any, ndim: int, *, name: str = "X", rows: int | None = None):
    """``X`` (dask array, zarr array, numpy-like) as a dask array of ``ndim`` axes chunked along
    the rows only (the other axes one chunk each); checked before anything is read.

    Parameters
    ----------
    X : dask array, zarr array or array-like of shape (N, ...)
    ndim : the number of axes expected
    rows : rows per block (a dask array is rechunked to it); default: a dask array's own
        chunks, a zarr array's chunks, else :data:`DEFAULT_ROWS`
    """
    _, da = _dask()
    if not isinstance(X, da.Array):
        if type(X).__module__.startswith("zarr"):
            X = da.from_zarr(X) if rows is None else da.from_zarr(X, chunks=(rows,) + X.shape[1:])
        else:
            X = np.asarray(X)
            X = da.from_array(X, chunks=(rows or DEFAULT_ROWS,) + X.shape[1:])
    if X.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} axes (N, ...event); received shape {X.shape}")
    if any(np.isnan(s) for s in X.shape):
        raise ValueError(f"{name} has unknown chunk sizes {X.shape}; call compute_chunk_sizes()")
    if np.dtype(X.dtype).kind not in "iufb":
        raise TypeError(f"{name} must hold real numbers; received dtype {X.dtype}")
    if rows is not None:
        X = X.rechunk((rows,) + (-1,) * (ndim - 1))
    elif any(len(c) > 1 for c in X.chunks[1:]):
        X = X.rechunk({i: -1 for i in range(1, ndim)})
    return X


def _check_codes(X, action, name="X"):
    """The dask codes checked against ``action``'s event shape (from metadata only)."""
    X = as_dask_codes(X, action.event_ndim + 1, name=name)
    axis = -action.event_ndim
    if X.shape[axis] != action.dim:
        what = "n_nodes" if action.event_ndim == 2 else "dim"
        raise ValueError(
            f"{action!r} has {what} {action.dim} but {name}.shape[{axis}] is {X.shape[axis]} "
            f"({name} has shape {X.shape})"
        )
    try:  # any further check of the action's, on an empty array of the same event shape
        action.check_latents(np.zeros((0,) + tuple(X.shape[1:])), name)
    except ValueError as exc:
        raise ValueError(f"{exc} [{name} has shape {X.shape}]") from None
    return X


def _check_mask(mask, X, action):
    if mask is None:
        return None
    if action.node_axis is None:
        raise ValueError(f"node masks apply to actions on node sets only; received {action!r}")
    mask = as_dask_codes(mask, 2, name="mask")
    if tuple(mask.shape) != tuple(X.shape[:2]):
        raise ValueError(f"mask must have shape {X.shape[:2]}; received {mask.shape}")
    return mask.rechunk((X.chunks[0], -1))


def _broadcast(obj, client):
    """``obj`` sent once to every worker (a Future) or, with ``client=False`` or no client
    running, one delayed key in the graph."""
    dask, _ = _dask()
    if client is False:
        client = None
    elif client is None:
        try:
            from distributed import default_client

            client = default_client()
        except (ImportError, ValueError):
            client = None
    if client is not None:
        # a list of one: scatter sends a dict's (or list's) items as separate objects
        return client.scatter([obj], broadcast=True, hash=False)[0]
    return dask.delayed(obj, pure=True)


def local_cluster(n_workers: int = 2, *, malloc_trim: bool = False, **kwargs: Any):
    """A ``distributed.LocalCluster`` of ``n_workers`` processes with one thread each, started
    without distributed's ``MALLOC_TRIM_THRESHOLD_=65536`` worker setting unless
    ``malloc_trim``: that setting turns off glibc's adaptive mmap threshold, so every large
    temporary array is mapped and zero-filled afresh, and the maps here then use up to twice
    the CPU time in a worker that they use in memory (``align_to_reference`` on 10⁷ codes:
    1.6×; ``docs/dask.md``).

    ``kwargs`` go to ``LocalCluster`` (``dashboard_address=":0"``, a free port, unless given).  Use it as a
    context manager or close it when done.
    """
    dask, _ = _dask()
    from distributed import LocalCluster

    env = dict(dask.config.get("distributed.nanny.pre-spawn-environ", {}))
    if not malloc_trim:
        env.pop("MALLOC_TRIM_THRESHOLD_", None)
    kwargs.setdefault("dashboard_address", ":0")  # any free port: clusters side by side
    with dask.config.set({"distributed.nanny.pre-spawn-environ": env}):
        return LocalCluster(n_workers=n_workers, processes=True, threads_per_worker=1, **kwargs)


# -- fitting on the driver --------------------------------------------------------------------
def fit_params(
    X: Any,
    action: Action | str,
    method: str,
    *,
    random_state: Any = None,
    mask: Any = None,
    **fit_options: Any,
) -> dict[str, np.ndarray]:
    """The parameters ``get_map(method).fit`` would draw from all of ``X``, computed on the driver
    without gathering ``X`` (see the module notes); ``X`` a dask array of shape (N, ...event).

    >>> import numpy as np, dask.array as da, orbitspace as osp
    >>> rho = osp.SO2("2x1")
    >>> X = np.random.default_rng(1).normal(size=(9, 4))
    >>> p = fit_params(da.from_array(X, chunks=4), rho, "align_to_reference", reference="mean")
    >>> bool(np.array_equal(p["references"], X.mean(0, keepdims=True)))
    True
    """
    action = parse_action(action)
    imap = get_map(method)
    X = _check_codes(X, action)
    mask = _check_mask(mask, X, action)
    if len(X) == 0:
        raise ValueError(f"X holds no codes (shape {X.shape})")
    if not imap.fit_reads_data(**fit_options):
        head, head_mask = _head(X, mask)
        return imap.fit(head, action, random_state=random_state, mask=head_mask, **fit_options)
    reference = fit_options.get("reference")
    if imap.name == "align_to_reference" and reference in ("data", "mean"):
        return _fit_reference(X, action, mask, reference, random_state, fit_options)
    gathered = None if mask is None else np.asarray(mask.compute())
    return imap.fit(
        np.asarray(X.compute()), action, random_state=random_state, mask=gathered, **fit_options
    )


def _head(X, mask):
    """The first code (and its mask) in one compute: what shape-only fits and probes read."""
    dask, _ = _dask()
    head, head_mask = dask.compute(X[:1], None if mask is None else mask[:1])
    return np.asarray(head), None if head_mask is None else np.asarray(head_mask)


def _fit_reference(X, action, mask, reference, random_state, fit_options):
    """``align_to_reference`` with data references, replayed exactly without gathering ``X``."""
    from orbitspace._validation import check_positive_int, check_random_state

    dask, _ = _dask()
    K = check_positive_int(fit_options.get("n_references", 1), "n_references")
    N = len(X)
    if reference == "data":
        if N < K:
            raise ValueError(
                f"reference='data' needs at least n_references={K} latents; received {N}"
            )
        idx = check_random_state(random_state).choice(N, size=K, replace=False)
        rows = np.asarray(X[np.sort(idx)].compute(), dtype=float)
        order = np.searchsorted(np.sort(idx), idx)
        R = rows[order]
        if mask is not None:
            R = apply_node_mask(R, np.asarray(mask[np.sort(idx)].compute())[order])
        return {"references": R.copy()}
    if K != 1:
        raise ValueError(f"reference='mean' gives one reference; received n_references={K}")
    blocks = X.to_delayed().ravel()
    masks = [None] * len(blocks) if mask is None else mask.to_delayed().ravel()
    total = dask.delayed(np.zeros(X.shape[1:]))
    for block, m in zip(blocks, masks):
        total = dask.delayed(_running_sum)(total, block, m, action)
    return {"references": (total.compute() / N)[None]}


def _running_sum(total, block, mask, action):
    """``total`` plus the rows of ``block`` added one after another (numpy's order for axis 0)."""
    Z = action.check_latents(block)
    if mask is not None:
        Z = apply_node_mask(Z, mask)
    return np.concatenate([total[None], Z]).sum(axis=0)


# -- block functions (run on the workers) -----------------------------------------------------
def _features_block(block, *rest, method, action, transform_options):
    params, mask = (rest[0], None) if len(rest) == 1 else (rest[1], rest[0])
    F = get_map(method).transform(block, action, params, mask=mask, **transform_options)
    return np.asarray(F).reshape(len(block), -1)


def _project_block(block, estimator):
    return np.asarray(estimator.transform(block))


def _knn_block(block, reference, *, k, action, offset, exclude_self, options):
    if not exclude_self:
        return _quotient_knn(block, k, action=action, Y=reference, **options)
    dist, idx = _quotient_knn(block, k + 1, action=action, Y=reference, **options)
    own = offset + np.arange(len(block))[:, None]
    is_self = idx == own
    # drop the row itself where it is among the k + 1, else the last neighbour
    drop = np.where(is_self.any(1), is_self.argmax(1), k)
    keep = np.ones(idx.shape, dtype=bool)
    keep[np.arange(len(block)), drop] = False
    return dist[keep].reshape(-1, k), idx[keep].reshape(-1, k)


def _event_letters(action):
    return "abcdefgh"[: action.event_ndim]


# -- the public functions ---------------------------------------------------------------------
def invariant_features(
    X: Any,
    action: Action | str,
    method: str,
    *,
    random_state: Any = None,
    mask: Any = None,
    client: Any = None,
    params: dict | None = None,
    **options: Any,
):
    """Block-wise ``orbitspace.invariants.invariant_features``: a lazy dask array.

    Parameters
    ----------
    X : dask array (or zarr / numpy array) of shape (N, ...event), chunked along the rows
    action, method, random_state, options : as for the in-memory function
    mask : dask array of shape (N, n_nodes), node masks (actions on node sets only)
    client : ``distributed.Client`` to broadcast the fitted parameters with; None (default):
        the running client, if any; False, or no client running: they travel as one delayed
        key in the graph (any scheduler computes it)
    params : parameters fitted already (skips the fit on the driver)

    Returns
    -------
    dask array of shape (N, output_dim), chunked like ``X`` along the rows; equal to the
    in-memory result.
    """
    _, da = _dask()
    action = parse_action(action)
    X = _check_codes(X, action)
    mask = _check_mask(mask, X, action)
    imap = get_map(method)
    d = X.shape[-1] if action.node_axis is not None else None
    imap.properties(action, d=d, **options)  # unknown options / unsupported action: raise now
    fit_opts, transform_opts = imap.split_options(options)
    if len(X) == 0:
        raise ValueError(f"X holds no codes (shape {X.shape})")
    head, head_mask = _head(X, mask)  # fits the shape-only maps and gives the output's width
    if params is None and not imap.fit_reads_data(**fit_opts):
        params = imap.fit(head, action, random_state=random_state, mask=head_mask, **fit_opts)
    elif params is None:
        params = fit_params(X, action, method, random_state=random_state, mask=mask, **fit_opts)
    probe = _features_block(
        head,
        *([head_mask] if mask is not None else []),
        params,
        method=method,
        action=action,
        transform_options=transform_opts,
    )
    shared = _broadcast(params, client)
    ev = _event_letters(action)
    args = [X, "i" + ev]
    if mask is not None:
        args += [mask, "i" + ev[0]]
    return da.blockwise(
        _features_block,
        "iz",
        *args,
        shared,
        None,
        new_axes={"z": probe.shape[1]},
        concatenate=True,
        dtype=probe.dtype,
        method=method,
        action=action,
        transform_options=transform_opts,
        meta=np.empty((0, 0), dtype=probe.dtype),
    )


def project(X: Any, estimator: Any, *, client: Any = None):
    """``estimator.transform(X)`` block-wise for an ``InvariantProjection``, fitted on the driver
    first when it is not fitted yet (as ``estimator.fit(X)`` would; see :func:`fit_params`).

    Parameters
    ----------
    X : dask array of shape (N, ...latent) or (N, n_features), chunked along the rows
    estimator : ``orbitspace.estimators.InvariantProjection`` (fitted in place when needed)
    client : as for :func:`invariant_features`

    Returns
    -------
    dask array of shape (N, n_features_out), float64
    """
    _, da = _dask()
    if not all(hasattr(estimator, a) for a in ("fit", "transform", "get_params")):
        raise TypeError(f"expected an InvariantProjection; received {type(estimator).__name__}")
    X = as_dask_codes(X, getattr(X, "ndim", np.ndim(X)))
    if len(X) == 0:
        raise ValueError(f"X holds no codes (shape {X.shape})")
    if not hasattr(estimator, "params_"):
        _fit_estimator(estimator, X)
    probe = _project_block(np.asarray(X[:1].compute()), estimator)
    shared = _broadcast(estimator, client)
    ev = "abcdefgh"[: X.ndim - 1]
    return da.blockwise(
        _project_block,
        "iz",
        X,
        "i" + ev,
        shared,
        None,
        new_axes={"z": probe.shape[1]},
        concatenate=True,
        dtype=probe.dtype,
        meta=np.empty((0, 0), dtype=probe.dtype),
    )


def _fit_estimator(estimator, X):
    """Fit on the first block (shapes, checks), then put in the parameters drawn from all rows
    when the map's fit reads the data."""
    params = estimator.get_params()
    action = parse_action(params["action"])
    n_head = max(X.chunks[0][0], int(params.get("n_references", 1) or 1))  # 'data' needs K rows
    estimator.fit(np.asarray(X[: min(len(X), n_head)].compute()))
    imap = get_map(params["method"])
    fit_opts, _ = imap.split_options(
        {k: v for k, v in params.items() if k not in ("action", "method", "random_state")}
    )
    if imap.fit_reads_data(**fit_opts):
        Z = X
        if action.node_axis is not None and X.ndim == 2:  # flat rows: n_nodes blocks of d
            Z = X.reshape(len(X), action.n_nodes, X.shape[1] // action.n_nodes)
        estimator.params_ = fit_params(
            Z, action, params["method"], random_state=params["random_state"], **fit_opts
        )
    return estimator


def quotient_knn(
    X: Any,
    k: int,
    *,
    action: Action | str,
    Y: Any = None,
    client: Any = None,
    **options: Any,
):
    """Block-wise exact ``orbitspace.quotient_knn``: each block of query rows of ``X`` against
    the whole reference set ``Y`` (default: ``X`` itself, each row excluded).

    Parameters
    ----------
    X : dask array (or zarr / numpy array) of shape (N, ...event), the queries
    k : number of neighbours
    action : Action or its repr string
    Y : array of shape (M, ...event), in memory or dask (gathered once on the driver and
        broadcast: it must fit in each worker's memory); None for ``X`` itself
    client : as for :func:`invariant_features`
    options : passed on to :func:`orbitspace.quotient_knn` (``method="exhaustive"``, ...)

    Returns
    -------
    distances : dask array of shape (N, k), float64, ascending (ties broken by index)
    indices : dask array of shape (N, k), int64; compute both at once with ``dask.compute``
    """
    dask, da = _dask()
    action = parse_action(action)
    X = _check_codes(X, action)
    exclude_self = Y is None
    Yd = X if exclude_self else _check_codes(Y, action, "Y")
    M = len(Yd)
    available = M - (1 if exclude_self else 0)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= available:
        raise ValueError(f"k must be an int in 1..{available}; received {k!r}")
    reference = action.check_latents(np.asarray(Yd.compute()), "Y")
    shared = _broadcast(reference, client)
    offsets = np.concatenate([[0], np.cumsum(X.chunks[0])])
    dists, idxs = [], []
    for b, block in enumerate(X.to_delayed().ravel()):
        n_b = X.chunks[0][b]
        if n_b == 0:
            continue
        part = dask.delayed(_knn_block, nout=2)(
            block,
            shared,
            k=int(k),
            action=action,
            offset=int(offsets[b]),
            exclude_self=exclude_self,
            options=options,
        )
        dists.append(da.from_delayed(part[0], shape=(n_b, int(k)), dtype=np.float64))
        idxs.append(da.from_delayed(part[1], shape=(n_b, int(k)), dtype=np.int64))
    return da.concatenate(dists), da.concatenate(idxs)


# -- zarr -------------------------------------------------------------------------------------
def save_codes_zarr(
    store: str | os.PathLike,
    X: Any,
    *,
    action: Action | str | None = None,
    mask: Any = None,
    rows: int = DEFAULT_ROWS,
):
    """Write codes (numpy or dask, shape (N, ...event)) to the zarr group ``store`` as
    ``codes`` (and ``mask``), with the action's repr in the attribute ``action``.

    The group is written to a hidden folder next to ``store`` and renamed into place only when
    complete.  Returns the path of the store.
    """
    import zarr

    from orbitspace._io import staged_dir

    _, da = _dask()
    ndim = getattr(X, "ndim", np.ndim(X))
    X = as_dask_codes(X, ndim, rows=rows)
    if action is not None:
        action = parse_action(action)
        X = _check_codes(X, action)
        mask = _check_mask(mask, X, action)
    store = os.fspath(store)
    if os.path.exists(store):
        raise FileExistsError(f"zarr store {store} exists already; choose a new path")
    with staged_dir(store) as tmp:
        group = zarr.open_group(str(tmp), mode="w")
        if action is not None:
            group.attrs["action"] = repr(action)
        da.to_zarr(X, str(tmp), component="codes", overwrite=True)
        if mask is not None:
            da.to_zarr(mask, str(tmp), component="mask", overwrite=True)
    return store


def open_codes_zarr(store: str | os.PathLike, *, rows: int | None = None):
    """Open a store written by :func:`save_codes_zarr`: ``(codes, mask, action)`` with ``codes``
    and ``mask`` dask arrays (``mask`` None when absent) and ``action`` parsed from the
    attribute (None when absent).  Nothing is read until computed.

    >>> import tempfile, pathlib, numpy as np, orbitspace as osp
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "codes.zarr"
    >>> _ = save_codes_zarr(path, np.zeros((5, 2)), action=osp.SO2("1x1"), rows=2)
    >>> codes, mask, action = open_codes_zarr(path)
    >>> codes.chunks, mask, action
    (((2, 2, 1), (2,)), None, SO2('1x1'))
    """
    import zarr

    _, da = _dask()
    store = os.fspath(store)
    if not os.path.isdir(store):
        raise FileNotFoundError(f"no zarr store at {store}")
    group = zarr.open_group(store, mode="r")
    if "codes" not in group:
        raise ValueError(f"zarr store {store} has no array 'codes'; found {sorted(group)}")
    text = group.attrs.get("action")
    action = parse_action(text) if text is not None else None
    codes = as_dask_codes(
        da.from_zarr(store, component="codes"), group["codes"].ndim, rows=rows, name="codes"
    )
    mask = None
    if "mask" in group:
        mask = da.from_zarr(store, component="mask").rechunk((codes.chunks[0], -1))
    return codes, mask, action


def save_zarr(store: str | os.PathLike, array: Any, *, component: str = "features"):
    """Compute a dask array block-wise into ``store`` (array ``component``), written to a hidden
    folder and renamed into place when complete (each worker writes its own blocks).  Returns
    the path of the store."""
    from orbitspace._io import staged_dir

    _, da = _dask()
    store = os.fspath(store)
    if os.path.exists(os.path.join(store, component)):
        raise FileExistsError(f"{store} holds an array {component!r} already")
    if os.path.exists(store):
        da.to_zarr(array, store, component=component)
        return store
    with staged_dir(store) as tmp:
        da.to_zarr(array, str(tmp), component=component)
    return store
