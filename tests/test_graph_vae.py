"""The permutation-equivariant graph VAE: exact equivariance, decoding, checkpoints, training."""

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("rdkit")

from orbitspace.datasets.qm9 import load_qm9, permute_graphs  # noqa: E402
from orbitspace.groups import Permutation  # noqa: E402
from orbitspace.models.graph_vae import GraphVAE, load_graph_vae  # noqa: E402
from orbitspace.studies.qm9_train import (  # noqa: E402
    checkpoint_path,
    evaluate_graph_vae,
    train_graph_vae,
)

FIXTURE = Path(__file__).parent / "fixtures" / "qm9_fixture.csv"


@pytest.fixture(scope="module")
def data():
    return load_qm9(csv_paths=[FIXTURE])


@pytest.fixture(scope="module", params=[1, 3])
def model(request):
    torch.manual_seed(0)
    return GraphVAE(latent_dim=request.param, hidden=32).double().eval()


def _graphs(data, n=40):
    return torch.as_tensor(data.atoms[:n]).long(), torch.as_tensor(data.bonds[:n]).long()


def test_encoder_is_exactly_equivariant(model, data):
    a, e = _graphs(data)
    p = Permutation(9).sample(len(a), random_state=0)
    ap, ep = (torch.as_tensor(x).long() for x in permute_graphs(a.numpy(), e.numpy(), p))
    with torch.no_grad():
        mu, logvar = model.encode(a, e)
        mu_p, logvar_p = model.encode(ap, ep)
    idx = torch.as_tensor(p)[..., None].expand_as(mu)
    torch.testing.assert_close(mu_p, torch.gather(mu, 1, idx), rtol=0, atol=1e-12)
    torch.testing.assert_close(logvar_p, torch.gather(logvar, 1, idx), rtol=0, atol=1e-12)


def test_decoder_is_exactly_equivariant(model):
    z = torch.randn(
        16, 9, model.latent_dim, dtype=torch.float64, generator=torch.Generator().manual_seed(1)
    )
    p = torch.as_tensor(Permutation(9).sample(16, random_state=1))
    zp = torch.gather(z, 1, p[..., None].expand_as(z))
    with torch.no_grad():
        al, bl = model.decode(z)
        alp, blp = model.decode(zp)
    torch.testing.assert_close(
        alp, torch.gather(al, 1, p[..., None].expand_as(al)), rtol=0, atol=1e-12
    )
    rows = torch.gather(bl, 1, p[:, :, None, None].expand_as(bl))
    want = torch.gather(rows, 2, p[:, None, :, None].expand_as(bl))
    torch.testing.assert_close(blp, want, rtol=0, atol=1e-12)
    torch.testing.assert_close(bl, bl.transpose(1, 2), rtol=0, atol=1e-12)  # symmetric bonds


def test_a_symmetry_breaking_model_fails_the_same_check(data):
    """The check above is not vacuous: adding a slot embedding breaks it."""
    torch.manual_seed(0)
    m = GraphVAE(latent_dim=1, hidden=32).double().eval()
    a, e = _graphs(data, 10)
    p = Permutation(9).sample(10, random_state=2)
    ap, ep = (torch.as_tensor(x).long() for x in permute_graphs(a.numpy(), e.numpy(), p))
    slot = torch.randn(9, 1, dtype=torch.float64)
    with torch.no_grad():
        mu = m.encode(a, e)[0] + slot
        mu_p = m.encode(ap, ep)[0] + slot
    idx = torch.as_tensor(p)[..., None]
    assert (mu_p - torch.gather(mu, 1, idx)).abs().max() > 1e-3


def test_decoded_graphs_are_well_formed(model):
    z = np.random.default_rng(0).normal(size=(50, 9, model.latent_dim))
    a, b = model.float().decode_numpy(z)
    model.double()
    assert a.shape == (50, 9) and b.shape == (50, 9, 9)
    assert np.array_equal(b, b.transpose(0, 2, 1))
    assert not b[:, np.arange(9), np.arange(9)].any()
    empty = a == 0
    assert not (b * (empty[:, :, None] | empty[:, None, :])).any()


def test_shapes_are_checked(model):
    with pytest.raises(ValueError, match="z must have shape"):
        model.decode(torch.zeros(2, 8, model.latent_dim, dtype=torch.float64))
    with pytest.raises(ValueError, match="atoms must have shape"):
        model.encode(torch.zeros(2, 8).long(), torch.zeros(2, 8, 8).long())


def test_save_and_load_round_trip(tmp_path, data):
    torch.manual_seed(0)
    m = GraphVAE(latent_dim=2, hidden=16).eval()
    path = m.save(tmp_path / "m.pt", command="test", n_train=3)
    m2, meta = load_graph_vae(path)
    assert meta == {"command": "test", "n_train": 3}
    np.testing.assert_array_equal(
        m.encode_numpy(data.atoms, data.bonds), m2.encode_numpy(data.atoms, data.bonds)
    )
    with pytest.raises(FileNotFoundError):
        load_graph_vae(tmp_path / "missing.pt")


def test_training_reduces_the_loss_and_evaluation_is_sane(data):
    torch.set_num_threads(1)
    model, hist = train_graph_vae(
        data,
        data,
        latent_dim=1,
        hidden=32,
        epochs=4,
        batch_size=32,
        progress=False,
        log=lambda msg: None,
    )
    assert hist[-1]["recon"] < 0.7 * hist[0]["recon"]
    m = evaluate_graph_vae(model, data.subset(slice(0, 50)), data.smiles, n_samples=50)
    for k in ("recon_exact", "recon_node_acc", "recon_edge_acc", "sample_valid", "sample_unique"):
        assert 0.0 <= m[k] <= 1.0
    assert m["recon_node_acc"] > 0.3


@pytest.mark.parametrize("d", [1, 4])
def test_committed_checkpoint_is_equivariant_and_reconstructs(d, data):
    path = checkpoint_path(d)
    if not path.is_file():
        pytest.skip(f"checkpoint {path.name} not committed")
    model, meta = load_graph_vae(path)
    assert meta["command"].startswith("orbitspace train qm9")
    assert model.latent_dim == d
    p = Permutation(9).sample(len(data), random_state=3)
    mu = model.encode_numpy(data.atoms, data.bonds)
    mu_p = model.encode_numpy(*permute_graphs(data.atoms, data.bonds, p))
    np.testing.assert_allclose(mu_p, np.take_along_axis(mu, p[..., None], axis=1), atol=1e-5)
    # decoding the permuted codes gives the permuted graphs
    a0, b0 = permute_graphs(*model.decode_numpy(mu), p)
    a1, b1 = model.decode_numpy(np.take_along_axis(mu, p[..., None], axis=1))
    assert np.mean(np.all(a0 == a1, axis=1) & np.all(b0 == b1, axis=(1, 2))) > 0.99
    # the trained model reconstructs real atoms far better than chance
    a, _ = model.decode_numpy(mu)
    assert (a == data.atoms).mean() > 0.9


def test_train_command_writes_a_loadable_checkpoint(tmp_path, capsys):
    from orbitspace.cli import main

    out = tmp_path / "vae.pt"
    argv = ["train", "qm9", "--csv", str(FIXTURE), "--n-train", "64", "--epochs", "1"]
    argv += ["--hidden", "16", "--threads", "1", "--no-progress", "--n-samples", "20"]
    assert main([*argv, "--out", str(out)]) == 0
    model, meta = load_graph_vae(out)
    assert meta["command"].startswith("orbitspace train qm9 --latent-dim 1")
    assert meta["n_train"] == 64 and len(meta["history"]) == 1
    assert 0 <= meta["test_metrics"]["recon_node_acc"] <= 1
    assert "recon_exact" in capsys.readouterr().out
