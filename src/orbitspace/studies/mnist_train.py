"""Train the rotated-MNIST CNNs: the entry point of ``orbitspace train mnist``.

Exposes ``add_arguments(parser)`` and ``run(args) -> int`` (the convention of the study
modules); torch and escnn are imported inside :func:`run`.

Examples
--------
::

    orbitspace train mnist --model cn --augment rotation --epochs 3 --seed 0 \\
        --out src/orbitspace/checkpoints/mnist_cn
    orbitspace train mnist --model plain --augment rotation
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

__all__ = ["add_arguments", "run", "train_config_from_args", "command_of"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("rotated-MNIST training")
    g.add_argument(
        "--model",
        choices=("cn", "so2", "plain"),
        default="cn",
        help="cn: C_N regular fields; so2: SO(2) irreps latent; plain: ordinary CNN",
    )
    g.add_argument(
        "--augment",
        choices=("none", "rotation"),
        default="none",
        help="rotation: rotate every training image by a fresh uniform angle each "
        "epoch (default: none, upright digits)",
    )
    g.add_argument("--epochs", type=int, default=3)
    g.add_argument("--n-train", type=int, default=20000, help="first N training digits")
    g.add_argument("--batch-size", type=int, default=64)
    g.add_argument("--lr", type=float, default=3e-3, help="peak learning rate (one-cycle)")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--n-test", type=int, default=10000, help="rotated test digits to evaluate")
    g.add_argument("--N", type=int, default=8, help="order of C_N (--model cn)")
    g.add_argument("--max-frequency", type=int, default=3, help="highest irrep (--model so2)")
    g.add_argument(
        "--channels",
        type=int,
        nargs=3,
        default=None,
        metavar="C",
        help="fields (channels for plain) of the three blocks",
    )
    g.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    g.add_argument(
        "--out",
        type=Path,
        default=None,
        help="checkpoint stem: writes OUT.pt + OUT.json "
        "(default runs/mnist_<model>[_aug]_seed<seed>)",
    )
    g.add_argument("--no-progress", action="store_true", help="no progress bars")


def train_config_from_args(args: argparse.Namespace):
    """The :class:`~orbitspace.models.training.TrainConfig` of parsed arguments."""
    from orbitspace.models.training import TrainConfig

    kwargs: dict = {}
    if args.model == "cn":
        kwargs["N"] = args.N
    elif args.model == "so2":
        kwargs["max_frequency"] = args.max_frequency
    if args.channels is not None:
        kwargs["channels"] = tuple(args.channels)
    return TrainConfig(
        model=args.model,
        augment=args.augment,
        epochs=args.epochs,
        n_train=args.n_train,
        batch_size=args.batch_size,
        lr=args.lr,
        seed=args.seed,
        n_test=args.n_test,
        model_kwargs=kwargs,
    )


def command_of(args: argparse.Namespace, out: Path) -> str:
    """The ``orbitspace train mnist`` command line that reproduces ``args``."""
    parts = [
        "orbitspace",
        "train",
        "mnist",
        "--model",
        args.model,
        "--augment",
        args.augment,
        "--epochs",
        str(args.epochs),
        "--n-train",
        str(args.n_train),
        "--batch-size",
        str(args.batch_size),
        "--lr",
        str(args.lr),
        "--seed",
        str(args.seed),
        "--n-test",
        str(args.n_test),
    ]
    if args.model == "cn":
        parts += ["--N", str(args.N)]
    if args.model == "so2":
        parts += ["--max-frequency", str(args.max_frequency)]
    if args.channels is not None:
        parts += ["--channels", *map(str, args.channels)]
    parts += ["--out", str(out)]
    return " ".join(shlex.quote(p) for p in parts)


def run(args: argparse.Namespace) -> int:
    import torch

    from orbitspace.models.training import save_checkpoint, train_mnist

    torch.set_num_threads(max(1, args.threads))
    config = train_config_from_args(args)
    out = args.out
    if out is None:
        tag = "_aug" if args.augment == "rotation" else ""
        out = Path("runs") / f"mnist_{args.model}{tag}_seed{args.seed}"
    out = Path(out)
    if out.suffix in (".pt", ".json"):
        out = out.with_suffix("")
    model, metrics = train_mnist(config, progress=not args.no_progress)
    pt, js = save_checkpoint(
        model, out, train_config=config, metrics=metrics, command=command_of(args, out)
    )
    print(
        f"saved {pt} ({pt.stat().st_size / 1e6:.2f} MB) and {js} after "
        f"{metrics['train_seconds']:.0f} s of training",
        file=sys.stderr,
    )
    print(
        f"test accuracy on {metrics['n_test']} rotated test digits: "
        f"{metrics['test_accuracy_rotated']:.4f} (upright: {metrics['test_accuracy_upright']:.4f})"
    )
    return 0


if __name__ == "__main__":  # pragma: no cover - python -m orbitspace.studies.mnist_train
    p = argparse.ArgumentParser(prog="orbitspace train mnist")
    add_arguments(p)
    sys.exit(run(p.parse_args()))
