"""A small E(3)-equivariant interaction network in e3nn (NequIP-like) for QM9 geometries.

Each atom starts from a learned embedding of its element (``K x 0e``).  An interaction layer

1. takes every edge ``i <- j`` with ``|r_ij| < cutoff`` (all atoms of a molecule, hydrogens
   included), its spherical harmonics ``Y^l(r_ij / |r_ij|)`` for ``l <= 2`` and a Bessel radial
   basis times a smooth polynomial cutoff envelope;
2. forms the message ``TP_w(x_j, Y(r_ij))`` (an ``uvu`` tensor product whose path weights
   ``w`` are an MLP of the radial basis), sums the messages at ``i``;
3. mixes channels (``o3.Linear``), applies a gated nonlinearity (SiLU on scalars, sigmoid gates
   on the ``l = 1, 2`` features) and adds a linear self-connection.

After two layers every atom carries ``K x 0e + K x 1o + K x 2e`` (the per-atom latent, acted on
by ``Product(Permutation(n), SO3(irreps))``); their sum over atoms is the per-molecule latent
(acted on by ``SO3(irreps)``).  Heads: ``U0`` as a sum of per-atom energies read from the
scalars (eV, on top of a per-element linear reference), and the HOMO-LUMO gap (eV) from the
mean of the scalars over atoms.  The network is exactly E(3)-equivariant by construction; the
measured error is float round-off (see ``checkpoints/qm9_3d.md``).

torch and e3nn are imported at module level: import this module only where they are wanted.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import torch
from e3nn import nn as enn
from e3nn import o3

__all__ = ["E3nnMPNN", "build", "load_e3nn_mpnn", "SPECIES", "species_index"]

#: atomic numbers the model knows, in embedding order
SPECIES = (1, 6, 7, 8, 9)
#: default checkpoint (committed)
DEFAULT_CHECKPOINT = Path(__file__).resolve().parent.parent / "checkpoints" / "qm9_3d.pt"


def species_index(numbers: Any) -> np.ndarray:
    """Embedding index of each atomic number (``-1`` for padding, ``Z = 0``).

    >>> species_index([[6, 1, 0]]).tolist()
    [[1, 0, -1]]
    """
    z = np.asarray(numbers)
    out = np.full(z.shape, -1, np.int64)
    for k, s in enumerate(SPECIES):
        out[z == s] = k
    bad = (out < 0) & (z != 0)
    if bad.any():
        raise ValueError(f"atomic numbers must be among {SPECIES} or 0; received {np.unique(z)}")
    return out


def _bessel(r: torch.Tensor, n: int, cutoff: float) -> torch.Tensor:
    """``sqrt(2/c) sin(k pi r / c) / r`` for k = 1..n, times the p = 6 polynomial envelope."""
    k = torch.arange(1, n + 1, dtype=r.dtype, device=r.device)
    x = (r / cutoff).unsqueeze(-1)
    basis = math.sqrt(2.0 / cutoff) * torch.sin(k * math.pi * x) / r.unsqueeze(-1)
    p = 6.0
    env = (
        1
        - (p + 1) * (p + 2) / 2 * x**p
        + p * (p + 2) * x ** (p + 1)
        - p * (p + 1) / 2 * x ** (p + 2)
    )
    return basis * env * (x < 1)


class _Interaction(torch.nn.Module):
    def __init__(self, irreps_in: o3.Irreps, irreps_out: o3.Irreps, n_basis: int, radial: int):
        super().__init__()
        irreps_sh = o3.Irreps.spherical_harmonics(2)
        wanted = {ir for _, ir in irreps_out}
        mid, instructions = [], []
        for i, (mul, ir_in) in enumerate(irreps_in):
            for j, (_, ir_edge) in enumerate(irreps_sh):
                for ir_out in ir_in * ir_edge:
                    if ir_out in wanted:
                        instructions.append((i, j, len(mid), "uvu", True))
                        mid.append((mul, ir_out))
        irreps_mid = o3.Irreps(mid)
        irreps_mid, perm, _ = irreps_mid.sort()
        instructions = [(a, b, perm[c], m, t) for a, b, c, m, t in instructions]
        self.lin_in = o3.Linear(irreps_in, irreps_in)
        self.tp = o3.TensorProduct(
            irreps_in,
            irreps_sh,
            irreps_mid,
            instructions,
            shared_weights=False,
            internal_weights=False,
        )
        self.radial = enn.FullyConnectedNet(
            [n_basis, radial, self.tp.weight_numel], torch.nn.functional.silu
        )
        scalars = o3.Irreps([(m, ir) for m, ir in irreps_out if ir.l == 0])
        gated = o3.Irreps([(m, ir) for m, ir in irreps_out if ir.l > 0])
        gates = o3.Irreps(f"{gated.num_irreps}x0e")
        self.gate = enn.Gate(scalars, [torch.nn.functional.silu], gates, [torch.sigmoid], gated)
        self.lin_out = o3.Linear(irreps_mid, self.gate.irreps_in)
        self.skip = o3.Linear(irreps_in, irreps_out)

    def forward(self, x, sh, basis, src, dst, n_nodes: int, avg_neighbors: float):
        h = self.lin_in(x)
        msg = self.tp(h[src], sh, self.radial(basis))
        agg = torch.zeros(n_nodes, msg.shape[-1], dtype=msg.dtype, device=msg.device)
        agg.index_add_(0, dst, msg)
        agg = agg / math.sqrt(avg_neighbors)
        return self.gate(self.lin_out(agg)) + self.skip(x)


class E3nnMPNN(torch.nn.Module):
    """Two (or more) e3nn interaction layers over atoms within ``cutoff`` Å, with heads.

    Parameters
    ----------
    mul : int
        ``K``: the per-atom features are ``K x 0e + K x 1o + K x 2e``.
    n_layers : int
    cutoff : float
        Radius of the neighbourhood in Å.
    n_basis : int
        Bessel radial functions.
    radial : int
        Hidden width of the radial MLP.
    avg_neighbors : float
        Messages are summed and divided by ``sqrt(avg_neighbors)``.
    u0_ref : sequence of 5 floats
        Per-element reference energy (eV) for ``SPECIES``; the head predicts the rest.
    u0_scale, gap_mean, gap_std : float
        Target scales (eV).

    Examples
    --------
    >>> m = E3nnMPNN(mul=2)
    >>> out = m(torch.zeros(1, 2, 3).double() + torch.tensor([[[0.0], [1.1]]]).double(),
    ...         torch.tensor([[6, 1]]))  # doctest: +SKIP
    >>> m.irreps_latent
    2x0e+2x1o+2x2e
    """

    def __init__(
        self,
        *,
        mul: int = 8,
        n_layers: int = 2,
        cutoff: float = 5.0,
        n_basis: int = 8,
        radial: int = 32,
        avg_neighbors: float = 12.0,
        u0_ref: tuple = (0.0,) * 5,
        u0_scale: float = 1.0,
        gap_mean: float = 0.0,
        gap_std: float = 1.0,
    ) -> None:
        super().__init__()
        if mul < 1 or n_layers < 1 or cutoff <= 0:
            raise ValueError(
                f"need mul >= 1, n_layers >= 1, cutoff > 0; received {mul}, {n_layers}, {cutoff}"
            )
        self.config = {
            "mul": int(mul),
            "n_layers": int(n_layers),
            "cutoff": float(cutoff),
            "n_basis": int(n_basis),
            "radial": int(radial),
            "avg_neighbors": float(avg_neighbors),
            "u0_ref": [float(v) for v in u0_ref],
            "u0_scale": float(u0_scale),
            "gap_mean": float(gap_mean),
            "gap_std": float(gap_std),
        }
        self.irreps_latent = o3.Irreps(f"{mul}x0e + {mul}x1o + {mul}x2e")
        self.embed = torch.nn.Embedding(len(SPECIES), mul)
        layers, irreps_in = [], o3.Irreps(f"{mul}x0e")
        for _ in range(n_layers):
            layers.append(_Interaction(irreps_in, self.irreps_latent, n_basis, radial))
            irreps_in = self.irreps_latent
        self.layers = torch.nn.ModuleList(layers)
        self.u0_head = torch.nn.Sequential(
            torch.nn.Linear(mul, 32), torch.nn.SiLU(), torch.nn.Linear(32, 1)
        )
        self.gap_head = torch.nn.Sequential(
            torch.nn.Linear(mul, 32), torch.nn.SiLU(), torch.nn.Linear(32, 1)
        )
        self.register_buffer("u0_ref", torch.tensor(self.config["u0_ref"], dtype=torch.float32))

    @property
    def latent_irreps(self) -> str:
        """The per-atom (and pooled) latent irreps as a string, e.g. ``'8x0e+8x1o+8x2e'``."""
        return str(self.irreps_latent)

    def latent_action(self):
        """``orbitspace.from_e3nn(irreps)``: the SO(3) action on one atom's (or the pooled)
        latent."""
        from orbitspace.interop.e3nn import from_e3nn

        return from_e3nn(self.latent_irreps)

    def forward(self, positions: torch.Tensor, numbers: torch.Tensor) -> dict[str, torch.Tensor]:
        """Run the network on a padded batch.

        Parameters
        ----------
        positions : tensor of shape (B, n, 3), Å
        numbers : int tensor of shape (B, n); 0 marks padding

        Returns
        -------
        dict with ``node`` (B, n, D) per-atom latents (zero at padding), ``pooled`` (B, D)
        their sum, ``u0`` (B,) and ``gap`` (B,) in eV.
        """
        if positions.ndim != 3 or positions.shape[-1] != 3:
            raise ValueError(f"positions must be (B, n, 3); received {tuple(positions.shape)}")
        if numbers.shape != positions.shape[:2]:
            raise ValueError(
                f"numbers must be {tuple(positions.shape[:2])}; received {tuple(numbers.shape)}"
            )
        B, n, _ = positions.shape
        mask = numbers > 0
        idx = torch.full_like(numbers, -1)
        for k, s in enumerate(SPECIES):
            idx[numbers == s] = k
        if bool(((idx < 0) & mask).any()):
            raise ValueError(f"atomic numbers must be among {SPECIES} or 0")
        flat = mask.reshape(-1).nonzero().squeeze(-1)  # real atoms in (B*n) order
        n_real = len(flat)
        slot = torch.full((B * n,), -1, dtype=torch.long, device=positions.device)
        slot[flat] = torch.arange(n_real, device=positions.device)
        cutoff = self.config["cutoff"]
        with torch.no_grad():
            dist = torch.cdist(positions, positions)
            pair = mask[:, :, None] & mask[:, None, :] & (dist < cutoff)
            pair &= ~torch.eye(n, dtype=torch.bool, device=positions.device)
            b, i, j = pair.nonzero(as_tuple=True)
        dst, src = slot[b * n + i], slot[b * n + j]
        pos = positions.reshape(B * n, 3)[flat]
        vec = pos[src] - pos[dst]
        r = vec.norm(dim=-1)
        sh = o3.spherical_harmonics([0, 1, 2], vec, normalize=True, normalization="component")
        basis = _bessel(r, self.config["n_basis"], cutoff)
        x = self.embed(idx.reshape(-1)[flat]).to(positions.dtype)
        for layer in self.layers:
            x = layer(x, sh, basis, src, dst, n_real, self.config["avg_neighbors"])
        K = self.config["mul"]
        node = torch.zeros(B * n, x.shape[-1], dtype=x.dtype, device=x.device)
        node[flat] = x
        node = node.reshape(B, n, -1)
        scal = node[..., :K]
        e_atom = self.u0_head(scal).squeeze(-1) * self.config["u0_scale"]
        ref = self.u0_ref.to(x.dtype)[idx.clamp(min=0)]
        u0 = ((e_atom + ref) * mask).sum(1)
        counts = mask.sum(1, keepdim=True).clamp(min=1)
        mean_scal = scal.sum(1) / counts
        gap = (
            self.gap_head(mean_scal).squeeze(-1) * self.config["gap_std"] + self.config["gap_mean"]
        )
        return {"node": node, "pooled": node.sum(1), "u0": u0, "gap": gap}

    @torch.no_grad()
    def encode_numpy(
        self, positions: Any, numbers: Any, *, batch_size: int = 64
    ) -> dict[str, np.ndarray]:
        """Run :meth:`forward` in batches on numpy input (in the model's dtype); numpy float64
        arrays out, keyed as :meth:`forward`'s."""
        pos = np.asarray(positions)
        z = np.asarray(numbers)
        outs: dict[str, list] = {"node": [], "pooled": [], "u0": [], "gap": []}
        dtype = self.u0_ref.dtype
        for s in range(0, len(pos), batch_size):
            o = self(
                torch.as_tensor(pos[s : s + batch_size], dtype=dtype),
                torch.as_tensor(z[s : s + batch_size], dtype=torch.long),
            )
            for k in outs:
                outs[k].append(o[k].double().numpy())
        return {k: np.concatenate(v) for k, v in outs.items()}

    def save(self, path: str | Path, **meta: Any) -> Path:
        """Save config, weights and plain-typed ``meta`` (command, metrics) with ``torch.save``."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        # parameters and our own buffer only: e3nn's buffers (Clebsch-Gordan tables) are
        # rebuilt by the constructor in the dtype of the load
        keep = {k for k, _ in self.named_parameters()} | {"u0_ref"}
        state = {k: v.detach().float().cpu() for k, v in self.state_dict().items() if k in keep}
        torch.save({"config": self.config, "state_dict": state, "meta": meta}, path)
        return path


def build(config: dict, dtype: torch.dtype = torch.float32) -> E3nnMPNN:
    """An :class:`E3nnMPNN` built in ``dtype``.

    e3nn computes its Clebsch-Gordan tables in the default dtype when a module is built;
    casting a float32-built model to float64 keeps float32 tables (equivariant only to
    ~1e-10).  Building under ``dtype`` gives tables exact in that precision.
    """
    if dtype not in (torch.float32, torch.float64):
        raise ValueError(f"dtype must be torch.float32 or torch.float64; received {dtype}")
    old = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        return E3nnMPNN(**config).to(dtype)
    finally:
        torch.set_default_dtype(old)


def load_e3nn_mpnn(
    path: str | Path | None = None, *, dtype: torch.dtype = torch.float32
) -> tuple[E3nnMPNN, dict[str, Any]]:
    """Load an :meth:`E3nnMPNN.save` checkpoint (``weights_only``); returns ``(model, meta)``.

    ``path`` defaults to the committed ``orbitspace/checkpoints/qm9_3d.pt``; ``dtype`` as in
    :func:`build`.
    """
    path = Path(path) if path is not None else DEFAULT_CHECKPOINT
    if not path.is_file():
        raise FileNotFoundError(f"no e3nn checkpoint at {path}")
    blob = torch.load(path, map_location="cpu", weights_only=True)
    model = build(blob["config"], dtype)
    state = model.state_dict()
    keep = {k for k, _ in model.named_parameters()} | {"u0_ref"}
    missing = keep - set(blob["state_dict"])
    if missing:
        raise ValueError(f"checkpoint {path} lacks parameters {sorted(missing)[:3]}...")
    state.update({k: v.to(dtype) for k, v in blob["state_dict"].items() if k in keep})
    model.load_state_dict(state)
    return model.eval(), blob.get("meta", {})
