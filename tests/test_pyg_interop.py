"""PyG batches become padded node latents whose quotient geometry ignores node order."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pyg_data = pytest.importorskip("torch_geometric.data")

import orbitspace as osp  # noqa: E402
from orbitspace.interop.pyg import node_latents_from_pyg  # noqa: E402


def _batch(sizes, d, seed):
    g = torch.Generator().manual_seed(seed)
    graphs = [pyg_data.Data(x=torch.randn(n, d, generator=g, dtype=torch.float64)) for n in sizes]
    return graphs, pyg_data.Batch.from_data_list(graphs)


def test_padding_and_mask_follow_the_graphs():
    graphs, b = _batch([3, 5, 2], 4, 0)
    X, mask = node_latents_from_pyg(b.x, b.batch)
    assert tuple(X.shape) == (3, 5, 4) and mask.sum(1).tolist() == [3, 5, 2]
    for k, graph in enumerate(graphs):
        n = graph.num_nodes
        assert torch.equal(X[k, :n], graph.x) and float(X[k, n:].abs().sum()) == 0.0


def test_relabelled_graphs_are_at_quotient_distance_zero():
    graphs, b = _batch([4, 6, 5], 3, 1)
    g = torch.Generator().manual_seed(2)
    shuffled = [pyg_data.Data(x=gr.x[torch.randperm(gr.num_nodes, generator=g)]) for gr in graphs]
    b2 = pyg_data.Batch.from_data_list(shuffled)
    X, m = node_latents_from_pyg(b.x, b.batch)
    Y, m2 = node_latents_from_pyg(b2.x, b2.batch)
    action = osp.Permutation(X.shape[1])
    d = osp.quotient_distance(X, Y, action, x_mask=m, y_mask=m2)
    assert float(d.max()) < 1e-12
    assert float(torch.linalg.norm(X - Y, dim=(1, 2)).min()) > 0.1  # raw codes disagree


def test_bad_input_is_named():
    with pytest.raises(TypeError, match="torch tensor"):
        node_latents_from_pyg(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="smaller than the largest graph"):
        _, b = _batch([3, 5], 2, 0)
        node_latents_from_pyg(b.x, b.batch, max_nodes=4)
    with pytest.raises(ValueError, match="sorted"):
        node_latents_from_pyg(torch.zeros(3, 2), torch.tensor([1, 0, 1]))
