"""Train the e3nn interaction network of ``orbitspace demo qm9-3d`` on QM9 geometries.

``python -m orbitspace.studies.qm9_3d_train --out src/orbitspace/checkpoints/qm9_3d.pt``
(the exact command of the committed checkpoint is in ``checkpoints/qm9_3d.md``).

Data: ``load_qm9_geometries(n=n_train + n_val + n_test, random_state=data_seed)`` (xyz with
hydrogens, from ``qm9pack``); the first ``n_train`` molecules train, the next ``n_val``
validate, the last ``n_test`` are the test set (and the study's molecules).  Targets: ``U0``
and the HOMO-LUMO gap, both in eV; U0 on top of a per-element linear reference fitted on the
training molecules.  Loss: the sum of the two standardised squared errors; Adam with cosine
decay.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["add_arguments", "run", "train_model", "HARTREE_EV", "split_of", "load_split"]

HARTREE_EV = 27.211386245988


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, required=True, help="checkpoint path (.pt)")
    parser.add_argument("--n-train", type=int, default=10000)
    parser.add_argument("--n-val", type=int, default=1000)
    parser.add_argument("--n-test", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=5e-3)
    parser.add_argument("--mul", type=int, default=8, help="K of Kx0e + Kx1o + Kx2e")
    parser.add_argument("--cutoff", type=float, default=5.0, help="neighbour radius (Å)")
    parser.add_argument("--seed", type=int, default=0, help="weights and batch order")
    parser.add_argument("--data-seed", type=int, default=0, help="the molecule subset")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--no-progress", action="store_true")


def split_of(n_train: int, n_val: int, n_test: int) -> dict[str, np.ndarray]:
    """Index ranges of the split (train first, test last) in the loaded subset.

    >>> {k: (int(v[0]), len(v)) for k, v in split_of(3, 1, 2).items()}
    {'train': (0, 3), 'val': (3, 1), 'test': (4, 2)}
    """
    a, b = n_train, n_train + n_val
    return {
        "train": np.arange(a),
        "val": np.arange(a, b),
        "test": np.arange(b, b + n_test),
    }


def load_split(data_meta: dict[str, Any]):
    """``(geometries, split)`` recorded in a checkpoint's ``meta["data"]``."""
    from orbitspace.datasets.qm9_geometry import load_qm9_geometries

    n = data_meta["n_train"] + data_meta["n_val"] + data_meta["n_test"]
    geo = load_qm9_geometries(n=n, random_state=data_meta["data_seed"])
    return geo, split_of(data_meta["n_train"], data_meta["n_val"], data_meta["n_test"])


def targets_ev(geo) -> tuple[np.ndarray, np.ndarray]:
    """``(U0, gap)`` of every molecule in eV."""
    return geo.targets["U0"] * HARTREE_EV, geo.targets["gap"] * HARTREE_EV


def _counts(numbers: np.ndarray) -> np.ndarray:
    from orbitspace.models.e3nn_mpnn import SPECIES

    return np.stack([(numbers == s).sum(1) for s in SPECIES], 1).astype(float)


def evaluate(model, geo, idx: np.ndarray, batch_size: int = 64) -> dict[str, float]:
    """Test MAE (eV) of both heads on the molecules ``idx``."""
    u0, gap = targets_ev(geo)
    out = model.encode_numpy(geo.positions[idx], geo.numbers[idx], batch_size=batch_size)
    return {
        "n": int(len(idx)),
        "u0_mae_ev": float(np.mean(np.abs(out["u0"] - u0[idx]))),
        "gap_mae_ev": float(np.mean(np.abs(out["gap"] - gap[idx]))),
        "gap_mae_of_mean_predictor_ev": float(np.mean(np.abs(gap[idx] - np.mean(gap)))),
    }


def train_model(path, *, progress: bool = True, **options) -> dict:
    """Train with the defaults of :func:`add_arguments` overridden by ``options`` (``n_train``,
    ``epochs``, ...); writes the checkpoint at ``path``, returns its test metrics."""
    p = argparse.ArgumentParser()
    add_arguments(p)
    args = p.parse_args(["--out", str(path)] + ([] if progress else ["--no-progress"]))
    for k, v in options.items():
        if not hasattr(args, k):
            raise ValueError(f"unknown training option {k!r}; expected one of {sorted(vars(args))}")
        setattr(args, k, v)
    run(args)
    return json.loads(Path(path).with_suffix(".json").read_text())["test_metrics"]


def run(args: argparse.Namespace) -> int:
    import torch

    from orbitspace.models.e3nn_mpnn import E3nnMPNN

    torch.set_num_threads(max(1, args.threads))
    torch.manual_seed(args.seed)
    t0 = time.time()
    data_meta = {
        "n_train": args.n_train,
        "n_val": args.n_val,
        "n_test": args.n_test,
        "data_seed": args.data_seed,
    }
    geo, split = load_split(data_meta)
    tr = split["train"]
    u0, gap = targets_ev(geo)
    C = _counts(geo.numbers[tr])
    ref, *_ = np.linalg.lstsq(C, u0[tr], rcond=None)
    resid = u0[tr] - C @ ref
    per_atom = resid / geo.n_atoms[tr]
    model = E3nnMPNN(
        mul=args.mul,
        cutoff=args.cutoff,
        u0_ref=tuple(ref),
        u0_scale=float(np.std(per_atom)),
        gap_mean=float(np.mean(gap[tr])),
        gap_std=float(np.std(gap[tr])),
    )
    u0_std, gap_std = float(np.std(resid)), float(np.std(gap[tr]))
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    steps = args.epochs * int(np.ceil(len(tr) / args.batch_size))
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    rng = np.random.default_rng(args.seed)
    pos_t = torch.tensor(geo.positions, dtype=torch.float32)
    z_t = torch.tensor(geo.numbers)
    u0_t, gap_t = torch.tensor(u0, dtype=torch.float32), torch.tensor(gap, dtype=torch.float32)
    history = []
    for epoch in range(args.epochs):
        model.train()
        order = rng.permutation(tr)
        total = 0.0
        for s in range(0, len(order), args.batch_size):
            b = torch.as_tensor(order[s : s + args.batch_size])
            n_max = int((z_t[b] > 0).sum(1).max())
            out = model(pos_t[b, :n_max], z_t[b, :n_max])
            loss = ((out["u0"] - u0_t[b]) / u0_std).pow(2).mean() + (
                (out["gap"] - gap_t[b]) / gap_std
            ).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(b)
        model.eval()
        val = evaluate(model, geo, split["val"])
        history.append({"epoch": epoch + 1, "train_loss": total / len(tr), **val})
        if not args.no_progress:
            print(
                f"[{time.time() - t0:6.0f}s] epoch {epoch + 1}: loss {total / len(tr):.4f} "
                f"val U0 MAE {val['u0_mae_ev']:.4f} eV, gap MAE {val['gap_mae_ev']:.4f} eV",
                file=sys.stderr,
                flush=True,
            )
    test = evaluate(model, geo, split["test"])
    wall = time.time() - t0
    argv = ["--out", str(args.out)] + [
        f"--{k.replace('_', '-')}={getattr(args, k)}"
        for k in ("n_train", "n_val", "n_test", "epochs", "batch_size", "lr", "mul", "cutoff")
        + ("seed", "data_seed", "threads")
    ]
    meta = {
        "command": "python -m orbitspace.studies.qm9_3d_train " + " ".join(argv),
        "data": data_meta,
        "test_metrics": test,
        "history": history,
        "wall_seconds": round(wall, 1),
        "n_parameters": int(sum(p.numel() for p in model.parameters())),
        "torch": str(torch.__version__),
    }
    path = model.save(args.out, **meta)
    path.with_suffix(".json").write_text(json.dumps({"config": model.config, **meta}, indent=2))
    print(json.dumps(test))
    return 0


if __name__ == "__main__":  # pragma: no cover - python -m orbitspace.studies.qm9_3d_train
    p = argparse.ArgumentParser(prog="python -m orbitspace.studies.qm9_3d_train")
    add_arguments(p)
    raise SystemExit(run(p.parse_args()))
