"""Training, evaluation and checkpoints of the MNIST CNNs (cn, so2, plain).

A checkpoint is two files side by side: ``<name>.pt``, the model's ``state_dict`` (tensors
only, read back with ``torch.load(weights_only=True)``; escnn's derived buffers — expanded
filters and sampled bases, recomputed from the weights — are left out to keep it small), and
``<name>.json``, the model and training configuration with the measured accuracies.

Training images: the first ``n_train`` digits of the training split.  With
``augment="rotation"`` every image is rotated by a fresh angle drawn uniformly in [0, 2π) each
time it is seen (online augmentation, angles from the seed).  Test accuracy is measured on the
first ``n_test`` test digits rotated uniformly at random with ``test_seed``.
"""

from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from orbitspace._io import atomic_write_bytes, write_json_atomic
from orbitspace._progress import progress_bar

__all__ = [
    "MODELS",
    "TrainConfig",
    "build_model",
    "train_mnist",
    "evaluate",
    "encode",
    "save_checkpoint",
    "load_checkpoint",
    "checkpoint_dir",
]

MODELS = ("cn", "so2", "plain")
AUGMENTS = ("none", "rotation")
# escnn buffers recomputed from the weights when the model is built / put in eval mode
_DERIVED = ("_basisexpansion.", ".filter", ".expanded_bias")


@dataclass
class TrainConfig:
    """Everything that determines a training run (saved next to the weights)."""

    model: str = "cn"
    augment: str = "none"
    epochs: int = 3
    n_train: int = 20000
    batch_size: int = 64
    lr: float = 3e-3
    weight_decay: float = 1e-4
    seed: int = 0
    n_test: int = 10000
    test_seed: int = 12345
    model_kwargs: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.model not in MODELS:
            raise ValueError(f"model must be one of {MODELS}; received {self.model!r}")
        if self.augment not in AUGMENTS:
            raise ValueError(f"augment must be one of {AUGMENTS}; received {self.augment!r}")
        for name in ("epochs", "n_train", "batch_size", "n_test"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1; received {getattr(self, name)}")


def build_model(model: str, **kwargs: Any) -> torch.nn.Module:
    """A fresh model: ``"cn"`` (C_N regular fields), ``"so2"`` (SO(2) irreps) or ``"plain"``."""
    if model == "cn":
        from orbitspace.models.escnn_cnn import CNSteerableCNN

        return CNSteerableCNN(**kwargs)
    if model == "so2":
        from orbitspace.models.escnn_cnn import SO2SteerableCNN

        return SO2SteerableCNN(**kwargs)
    if model == "plain":
        from orbitspace.models.plain_cnn import PlainCNN

        return PlainCNN(**kwargs)
    raise ValueError(f"model must be one of {MODELS}; received {model!r}")


@torch.no_grad()
def encode(model: torch.nn.Module, images: Any, *, batch_size: int = 500) -> np.ndarray:
    """Latent codes of ``images`` (n, 28, 28) as float64 numpy of shape (n, D), in eval mode."""
    model.eval()
    x = torch.from_numpy(np.array(images, dtype=np.float32))
    out = [model.latent(x[i : i + batch_size]).double() for i in range(0, len(x), batch_size)]
    return torch.cat(out).numpy()


@torch.no_grad()
def evaluate(model: torch.nn.Module, images: Any, labels: Any, *, batch_size: int = 500) -> float:
    """Classification accuracy on ``images`` (n, 28, 28) with integer ``labels``."""
    model.eval()
    x = torch.from_numpy(np.array(images, dtype=np.float32))
    y = torch.from_numpy(np.array(labels, dtype=np.int64))
    correct = 0
    for i in range(0, len(x), batch_size):
        correct += int((model(x[i : i + batch_size]).argmax(1) == y[i : i + batch_size]).sum())
    return correct / max(len(x), 1)


def train_mnist(
    config: TrainConfig,
    *,
    data: tuple[np.ndarray, np.ndarray] | None = None,
    test_data: tuple[np.ndarray, np.ndarray] | None = None,
    progress: bool = True,
) -> tuple[torch.nn.Module, dict[str, Any]]:
    """Train a model on MNIST and measure its accuracy on rotated test digits.

    Parameters
    ----------
    config : TrainConfig
    data, test_data : (images (n, 28, 28), labels (n,)), optional
        Override the packaged training split / test split (tests use a small fixture).
    progress : bool
        Show a progress bar per epoch.

    Returns
    -------
    model : the trained model, in eval mode
    metrics : dict with ``test_accuracy_rotated``, ``test_accuracy_upright``, ``train_seconds``
    """
    from orbitspace.datasets.mnist import load_mnist, rotated_mnist
    from orbitspace.datasets.rotation import rotate_images

    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    images, labels = data if data is not None else load_mnist("train", config.n_train)
    images = torch.from_numpy(np.array(images[: config.n_train], dtype=np.float32))
    labels = torch.from_numpy(np.array(labels[: config.n_train], dtype=np.int64))
    model = build_model(config.model, **config.model_kwargs)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    steps_per_epoch = -(-len(images) // config.batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=config.lr, total_steps=config.epochs * steps_per_epoch, pct_start=0.15
    )
    start = time.perf_counter()
    history = []
    for epoch in range(config.epochs):
        model.train()
        order = rng.permutation(len(images))
        bar = progress_bar(
            range(steps_per_epoch),
            total=steps_per_epoch,
            desc=f"{config.model} epoch {epoch + 1}/{config.epochs}",
            disable=not progress,
        )
        total, count = 0.0, 0
        for step in bar:
            idx = order[step * config.batch_size : (step + 1) * config.batch_size]
            x, y = images[idx], labels[idx]
            if config.augment == "rotation":
                x = rotate_images(x, rng.uniform(0.0, 2 * np.pi, size=len(idx)))
            loss = torch.nn.functional.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
            count += len(idx)
            if hasattr(bar, "set_postfix") and step % 20 == 0:
                bar.set_postfix(loss=f"{total / count:.3f}")
        history.append(total / count)
    train_seconds = time.perf_counter() - start
    model.eval()
    if test_data is None:
        test_data = load_mnist("test", config.n_test)
    test_images = np.asarray(test_data[0][: config.n_test], dtype=np.float32)
    test_labels = np.asarray(test_data[1][: config.n_test])
    rotated = rotated_mnist(images=test_images, labels=test_labels, random_state=config.test_seed)
    metrics = {
        "test_accuracy_rotated": evaluate(model, rotated.images, rotated.labels),
        "test_accuracy_upright": evaluate(model, test_images, test_labels),
        "n_test": len(test_labels),
        "train_loss_per_epoch": history,
        "train_seconds": train_seconds,
        "torch_threads": torch.get_num_threads(),
    }
    return model, metrics


def checkpoint_dir() -> Path:
    """The folder of the checkpoints shipped with orbitspace (``orbitspace/checkpoints``)."""
    return Path(__file__).resolve().parent.parent / "checkpoints"


def save_checkpoint(
    model: torch.nn.Module,
    path: str | os.PathLike,
    *,
    train_config: TrainConfig | None = None,
    metrics: dict[str, Any] | None = None,
    command: str | None = None,
) -> tuple[Path, Path]:
    """Write ``<path>.pt`` (state_dict without derived buffers) and ``<path>.json`` (config).

    Returns the two paths.
    """
    import io

    base = Path(path)
    if base.suffix in (".pt", ".json"):
        base = base.with_suffix("")
    base.parent.mkdir(parents=True, exist_ok=True)
    state = {
        k: v.detach().cpu().clone()
        for k, v in model.state_dict().items()
        if not any(tag in k for tag in _DERIVED)
    }
    buf = io.BytesIO()
    torch.save(state, buf)
    pt = atomic_write_bytes(base.with_suffix(".pt"), buf.getvalue())
    meta = {
        "format": "orbitspace-mnist-checkpoint/1",
        "model": model.config,
        "train": asdict(train_config) if train_config is not None else None,
        "metrics": metrics or {},
        "command": command,
        "versions": {
            "torch": torch.__version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
        },
    }
    js = write_json_atomic(base.with_suffix(".json"), meta)
    return pt, js


def load_checkpoint(path: str | os.PathLike) -> tuple[torch.nn.Module, dict[str, Any]]:
    """Load a checkpoint written by :func:`save_checkpoint`; returns (model in eval mode, meta).

    ``path`` may name the ``.pt`` or ``.json`` file or their common stem; a bare name such as
    ``"mnist_cn"`` is looked up in :func:`checkpoint_dir`.
    """
    base = Path(path)
    if base.suffix in (".pt", ".json"):
        base = base.with_suffix("")
    if not base.with_suffix(".json").exists() and base.parent == Path("."):
        base = checkpoint_dir() / base.name
    meta_path, weights_path = base.with_suffix(".json"), base.with_suffix(".pt")
    for p in (meta_path, weights_path):
        if not p.is_file():
            raise FileNotFoundError(f"checkpoint file {p} not found (expected {base}.pt + .json)")
    meta = json.loads(meta_path.read_text())
    config = dict(meta.get("model") or {})
    kind = config.pop("model", None)
    if kind not in MODELS:
        raise ValueError(f"{meta_path}: model must be one of {MODELS}; received {kind!r}")
    config = {k: (tuple(v) if isinstance(v, list) else v) for k, v in config.items()}
    model = build_model(kind, **config)
    state = torch.load(weights_path, map_location="cpu", weights_only=True)
    missing, unexpected = model.load_state_dict(state, strict=False)
    bad_missing = [k for k in missing if not any(tag in k for tag in _DERIVED)]
    if bad_missing or unexpected:
        raise ValueError(
            f"{weights_path} does not match a {kind} model {config}: missing {bad_missing}, "
            f"unexpected {list(unexpected)}"
        )
    model.train()
    model.eval()  # escnn recomputes its expanded filters from the loaded weights
    return model, meta
