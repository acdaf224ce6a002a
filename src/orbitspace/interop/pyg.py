"""PyTorch Geometric adapter: node latents of a PyG batch as padded ``(n_graphs, n_nodes, d)``.

Graph networks in PyG return node features stacked over a batch, ``x`` of shape
``(total_nodes, d)`` with a ``batch`` vector naming each node's graph.  orbitspace's
``Permutation(n_nodes)`` acts on padded node latents with a node mask; this is the one step
between the two.

Examples
--------
>>> import torch
>>> from torch_geometric.data import Batch, Data
>>> graphs = [Data(x=torch.randn(3, 2)), Data(x=torch.randn(5, 2))]
>>> b = Batch.from_data_list(graphs)
>>> X, mask = node_latents_from_pyg(b.x, b.batch)
>>> tuple(X.shape), mask.sum(1).tolist()
((2, 5, 2), [3, 5])
"""

from __future__ import annotations

from typing import Any

from orbitspace._validation import describe

__all__ = ["node_latents_from_pyg"]


def node_latents_from_pyg(x: Any, batch: Any = None, *, max_nodes: int | None = None):
    """Pad PyG node features into ``(n_graphs, n_nodes, d)`` latents and a node mask.

    Parameters
    ----------
    x : tensor of shape (total_nodes, d) or (total_nodes,)
        Node features (one scalar per node is read as d = 1).
    batch : int tensor of shape (total_nodes,), optional
        The graph of each node, sorted as PyG's ``Batch`` makes it; None for one graph.
    max_nodes : int, optional
        Pad to this many nodes (default: the largest graph).  Must be at least the largest graph.

    Returns
    -------
    X : tensor of shape (n_graphs, n_nodes, d), padded rows zero
    mask : bool tensor of shape (n_graphs, n_nodes), True for real nodes

    Pass ``action=Permutation(X.shape[1])`` and the mask (``x_mask=`` / ``mask=``) to the
    quotient and invariant functions.
    """
    import torch
    from torch_geometric.utils import to_dense_batch

    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch tensor of node features; received {describe(x)}")
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise ValueError(f"x must have shape (total_nodes, d); received shape {tuple(x.shape)}")
    if batch is not None:
        if not isinstance(batch, torch.Tensor) or batch.dtype not in (torch.int64, torch.int32):
            raise TypeError(f"batch must be an integer tensor; received {describe(batch)}")
        if batch.shape != (x.shape[0],):
            raise ValueError(
                f"batch must have shape ({x.shape[0]},) like x's first axis; received shape "
                f"{tuple(batch.shape)}"
            )
        if batch.numel() > 1 and bool((batch[1:] < batch[:-1]).any()):
            raise ValueError("batch must be sorted (nodes grouped by graph, as in a PyG Batch)")
        largest = int(torch.bincount(batch.long()).max()) if batch.numel() else 0
    else:
        largest = x.shape[0]
    if max_nodes is not None and max_nodes < largest:
        raise ValueError(
            f"max_nodes={max_nodes} is smaller than the largest graph ({largest} nodes)"
        )
    X, mask = to_dense_batch(x, batch, max_num_nodes=max_nodes)
    return X, mask
