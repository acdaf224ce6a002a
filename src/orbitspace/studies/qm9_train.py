"""Train and evaluate the QM9 graph VAE: the entry point of ``orbitspace train qm9``.

Exposes ``add_arguments(parser)`` and ``run(args) -> int`` (the convention of the study
modules), plus the library functions :func:`train_graph_vae` and :func:`evaluate_graph_vae`.
torch and RDKit are imported inside the functions.

Examples
--------
::

    orbitspace train qm9 --latent-dim 1 --n-train 25000 --epochs 20 \\
        --out src/orbitspace/checkpoints/qm9_graph_vae_d1.pt
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "add_arguments",
    "checkpoint_path",
    "evaluate_graph_vae",
    "run",
    "train_graph_vae",
]

CHECKPOINT_DIR = Path(__file__).resolve().parent.parent / "checkpoints"


def checkpoint_path(latent_dim: int = 1) -> Path:
    """The committed checkpoint for ``latent_dim`` channels per node (may not exist)."""
    return CHECKPOINT_DIR / f"qm9_graph_vae_d{latent_dim}.pt"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("QM9 graph VAE training")
    g.add_argument("--latent-dim", type=int, default=1, help="latent channels per node (d)")
    g.add_argument("--n-train", type=int, default=25_000, help="training molecules (subset)")
    g.add_argument("--epochs", type=int, default=20)
    g.add_argument("--batch-size", type=int, default=128)
    g.add_argument("--lr", type=float, default=3e-3)
    g.add_argument("--beta", type=float, default=0.01, help="KL weight (annealed from 0)")
    g.add_argument("--hidden", type=int, default=64, help="hidden width")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    g.add_argument(
        "--out",
        type=Path,
        default=None,
        help="checkpoint file (default: <cache>/qm9_graph_vae_d<D>.pt)",
    )
    g.add_argument("--no-progress", action="store_true", help="no progress bars")
    g.add_argument(
        "--csv", type=Path, nargs="+", default=None, help="QM9-format CSV(s) instead of qm9pack"
    )
    g.add_argument("--n-samples", type=int, default=2000, help="prior samples evaluated")


def train_graph_vae(
    train: Any,
    val: Any | None = None,
    *,
    latent_dim: int = 1,
    hidden: int = 128,
    epochs: int = 20,
    batch_size: int = 128,
    lr: float = 2e-3,
    beta: float = 0.05,
    random_state: int = 0,
    progress: bool = True,
    log: Any = None,
) -> tuple[Any, list[dict[str, float]]]:
    """Fit a :class:`~orbitspace.models.graph_vae.GraphVAE` on ``train`` (a ``QM9Graphs``).

    Adam with cosine learning-rate decay; the KL weight grows linearly from 0 to ``beta`` over
    the first third of the epochs.  Returns ``(model in eval mode, history)``, one history row
    per epoch (train loss, recon, KL; validation recon and exact-reconstruction rate).
    """
    import torch

    from orbitspace._progress import progress_bar
    from orbitspace.models.graph_vae import GraphVAE

    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    torch.manual_seed(random_state)
    rng = np.random.default_rng(random_state)
    model = GraphVAE(latent_dim=latent_dim, hidden=hidden)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    atoms = torch.as_tensor(train.atoms, dtype=torch.long)
    bonds = torch.as_tensor(train.bonds, dtype=torch.long)
    n = len(train)
    steps_per_epoch = max(1, n // batch_size)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs * steps_per_epoch)
    warm = max(1, epochs // 3) * steps_per_epoch
    history = []
    step = 0
    for epoch in range(epochs):
        model.train()
        order = rng.permutation(n)
        sums = np.zeros(3)
        batches = range(steps_per_epoch)
        if progress:
            batches = progress_bar(batches, total=steps_per_epoch, desc=f"epoch {epoch + 1}")
        for k in batches:
            idx = torch.as_tensor(order[k * batch_size : (k + 1) * batch_size])
            b = beta * min(1.0, step / warm)
            out = model(atoms[idx], bonds[idx], beta=b)
            opt.zero_grad()
            out["loss"].backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            sched.step()
            step += 1
            sums += [out["loss"].item(), out["recon"].item(), out["kl"].item()]
        row = dict(zip(["loss", "recon", "kl"], (sums / steps_per_epoch).tolist()))
        row["epoch"] = epoch + 1
        if val is not None and len(val):
            row.update(_val_scores(model, val))
        history.append(row)
        log(
            f"epoch {epoch + 1}/{epochs}  loss {row['loss']:.3f}  recon {row['recon']:.3f}  "
            f"kl {row['kl']:.2f}"
            + (f"  val exact {row['val_exact']:.3f}" if "val_exact" in row else "")
        )
    return model.eval(), history


def _val_scores(model: Any, val: Any, limit: int = 2000) -> dict[str, float]:
    import torch

    model.eval()
    rows = slice(
        None, None, max(1, len(val) // limit)
    )  # spread over the split (QM9 is sorted by size)
    atoms, bonds = val.atoms[rows], val.bonds[rows]
    with torch.no_grad():
        a = torch.as_tensor(atoms, dtype=torch.long)
        e = torch.as_tensor(bonds, dtype=torch.long)
        recon = model(a, e)["recon"].item()
    ra, rb = model.decode_numpy(model.encode_numpy(atoms, bonds))
    exact = _exact_match(ra, rb, atoms, bonds)
    return {"val_recon": recon, "val_exact": float(exact.mean())}


def _exact_match(a1, b1, a2, b2) -> np.ndarray:
    return np.all(a1 == a2, axis=1) & np.all(b1 == b2, axis=(1, 2))


def evaluate_graph_vae(
    model: Any,
    test: Any,
    train_smiles: Any,
    *,
    n_samples: int = 2000,
    random_state: Any = 0,
) -> dict[str, float]:
    """Reconstruction on ``test`` and validity / uniqueness / novelty of prior samples.

    Returns a dict with
    ``recon_exact`` (decoded graph equal to the input, every atom and bond),
    ``recon_node_acc`` / ``recon_edge_acc`` (per slot / per slot pair),
    ``recon_valid`` (decoded posterior means that RDKit sanitises),
    ``sample_valid`` (prior samples z ~ N(0, I) that RDKit sanitises),
    ``sample_connected`` (valid and one fragment), ``sample_unique`` (distinct canonical SMILES
    among valid samples), ``sample_novel`` (unique valid samples absent from ``train_smiles``).
    """
    from orbitspace.datasets.qm9 import graph_to_smiles

    mu = model.encode_numpy(test.atoms, test.bonds)
    ra, rb = model.decode_numpy(mu)
    iu = np.triu_indices(test.atoms.shape[1], 1)
    out = {
        "n_test": len(test),
        "recon_exact": float(_exact_match(ra, rb, test.atoms, test.bonds).mean()),
        "recon_node_acc": float((ra == test.atoms).mean()),
        "recon_edge_acc": float((rb[:, iu[0], iu[1]] == test.bonds[:, iu[0], iu[1]]).mean()),
    }
    recon_smiles = [graph_to_smiles(a, b) for a, b in zip(ra, rb)]
    out["recon_valid"] = float(np.mean([s is not None for s in recon_smiles]))
    rng = np.random.default_rng(random_state)
    z = rng.standard_normal((n_samples, model.n_nodes, model.latent_dim))
    sa, sb = model.decode_numpy(z)
    smiles = [graph_to_smiles(a, b) for a, b in zip(sa, sb)]
    valid = [s for s in smiles if s is not None]
    unique = set(valid)
    known = set(np.asarray(train_smiles).tolist())
    out.update(
        n_samples=n_samples,
        sample_valid=len(valid) / n_samples,
        sample_connected=sum("." not in s for s in valid) / n_samples,
        sample_unique=len(unique) / max(len(valid), 1),
        sample_novel=len(unique - known) / max(len(unique), 1),
    )
    return out


def run(args: argparse.Namespace) -> int:
    import torch

    from orbitspace.datasets.qm9 import cache_dir, load_qm9, split_indices

    torch.set_num_threads(max(1, args.threads))
    progress = not args.no_progress
    t0 = time.time()
    data = load_qm9(csv_paths=args.csv) if args.csv else load_qm9(progress=progress)
    split = split_indices(len(data), random_state=0)
    rng = np.random.default_rng(args.seed)
    train_idx = np.sort(rng.permutation(split["train"])[: args.n_train])
    train, val, test = data.subset(train_idx), data.subset(split["val"]), data.subset(split["test"])
    print(
        f"QM9: {len(data)} molecules; training on {len(train)}, val {len(val)}, test {len(test)}",
        file=sys.stderr,
    )
    model, history = train_graph_vae(
        train,
        val,
        latent_dim=args.latent_dim,
        hidden=args.hidden,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        beta=args.beta,
        random_state=args.seed,
        progress=progress,
    )
    train_seconds = time.time() - t0
    metrics = evaluate_graph_vae(
        model, test, data.smiles[split["train"]], n_samples=args.n_samples, random_state=args.seed
    )
    out = args.out or cache_dir() / f"qm9_graph_vae_d{args.latent_dim}.pt"
    command = "orbitspace train qm9 " + " ".join(shlex.quote(a) for a in _argv_of(args))
    model.save(
        out,
        command=command,
        train_seconds=round(train_seconds, 1),
        n_train=len(train),
        seed=args.seed,
        beta=args.beta,
        epochs=args.epochs,
        history=history,
        test_metrics=metrics,
    )
    print(f"saved {out} ({Path(out).stat().st_size / 1e6:.1f} MB) after {train_seconds:.0f} s")
    for k, v in metrics.items():
        print(f"  {k:18s} {v:.4f}" if isinstance(v, float) else f"  {k:18s} {v}")
    return 0


def _argv_of(args: argparse.Namespace) -> list[str]:
    flags = [
        ("--latent-dim", args.latent_dim),
        ("--n-train", args.n_train),
        ("--epochs", args.epochs),
        ("--batch-size", args.batch_size),
        ("--lr", args.lr),
        ("--beta", args.beta),
        ("--hidden", args.hidden),
        ("--seed", args.seed),
    ]
    out = [f"{k} {v}" for k, v in flags]
    if args.csv:
        out.append("--csv " + " ".join(map(str, args.csv)))
    if args.out is not None:
        out.append(f"--out {args.out}")
    return " ".join(out).split()


if __name__ == "__main__":  # pragma: no cover - python -m orbitspace.studies.qm9_train
    p = argparse.ArgumentParser(prog="orbitspace train qm9")
    add_arguments(p)
    sys.exit(run(p.parse_args()))
