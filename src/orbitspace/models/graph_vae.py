"""A permutation-equivariant graph VAE on padded dense graphs (plain torch).

Graphs have ``n_nodes`` slots (9 for QM9): node classes ``atoms`` of shape ``(B, n)`` (class 0
is an empty slot) and edge classes ``bonds`` of shape ``(B, n, n)`` (class 0 is no bond).  The
encoder gives one latent vector per slot, ``z`` of shape ``(B, n, d)``; ``d = 1`` by default.
Every layer treats slots alike (shared per-node maps, sums over neighbours, means over all
slots, attention without positional encoding), so for any permutation ``p`` of the slots
(``Permutation`` convention ``x'[i] = x[p[i]]``)::

    encode(atoms[:, p], bonds[:, p][:, :, p]) == encode(atoms, bonds)[:, p]
    decode(z[:, p]) == (atom_logits[:, p], bond_logits[:, p][:, :, p])

exactly, up to floating-point summation order.  Because the reconstruction loss compares slot
``i`` of the output with slot ``i`` of the input, no graph matching is needed.

Examples
--------
>>> import torch
>>> model = GraphVAE(latent_dim=1).eval()
>>> atoms = torch.tensor([[1, 1, 3, 0, 0, 0, 0, 0, 0]])       # C-C-O, padded to 9 slots
>>> bonds = torch.zeros(1, 9, 9, dtype=torch.long)
>>> bonds[0, 0, 1] = bonds[0, 1, 0] = bonds[0, 1, 2] = bonds[0, 2, 1] = 1
>>> mu, logvar = model.encode(atoms, bonds)
>>> tuple(mu.shape)
(1, 9, 1)
>>> atom_logits, bond_logits = model.decode(mu)
>>> tuple(atom_logits.shape), tuple(bond_logits.shape)
((1, 9, 9), (1, 9, 9, 4))
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["GraphVAE", "load_graph_vae"]


class _EncoderLayer(nn.Module):
    """h_i <- LN(h_i + MLP[h_i, sum_k sum_j E_ijk W_k h_j, mean_j h_j])."""

    def __init__(self, hidden: int, n_edge_kinds: int) -> None:
        super().__init__()
        self.n_edge_kinds = n_edge_kinds
        self.message = nn.Linear(hidden, hidden * n_edge_kinds)
        self.update = nn.Sequential(
            nn.Linear(3 * hidden, hidden), nn.SiLU(), nn.Linear(hidden, hidden)
        )
        self.norm = nn.LayerNorm(hidden)

    def forward(self, h: torch.Tensor, edges: torch.Tensor) -> torch.Tensor:
        b, n, hid = h.shape
        w = self.message(h).view(b, n, self.n_edge_kinds, hid)
        m = torch.einsum("bijk,bjkh->bih", edges, w)
        g = h.mean(dim=1, keepdim=True).expand(b, n, hid)
        return self.norm(h + self.update(torch.cat([h, m, g], dim=-1)))


class GraphVAE(nn.Module):
    """Permutation-equivariant VAE for padded graphs with one ``d``-vector per slot.

    Parameters
    ----------
    latent_dim : int, default 1
        ``d``, latent channels per node.
    n_nodes : int, default 9
    n_atom_types : int, default 9
        Node classes including the empty class 0.
    n_bond_types : int, default 4
        Edge classes including "no bond" (class 0).
    hidden : int, default 128
    encoder_layers, decoder_layers : int, default 3
    heads : int, default 4
        Attention heads of the decoder's (position-free) transformer layers.
    n_fourier : int, default 16
        Fixed random Fourier features of each node's code fed to the decoder.
    """

    def __init__(
        self,
        *,
        latent_dim: int = 1,
        n_nodes: int = 9,
        n_atom_types: int = 9,
        n_bond_types: int = 4,
        hidden: int = 128,
        encoder_layers: int = 3,
        decoder_layers: int = 3,
        heads: int = 4,
        n_fourier: int = 16,
    ) -> None:
        super().__init__()
        for name, v in [("latent_dim", latent_dim), ("n_nodes", n_nodes), ("hidden", hidden)]:
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive int; received {v!r}")
        if hidden % heads:
            raise ValueError(f"hidden ({hidden}) must be divisible by heads ({heads})")
        self.config = dict(
            latent_dim=latent_dim,
            n_nodes=n_nodes,
            n_atom_types=n_atom_types,
            n_bond_types=n_bond_types,
            hidden=hidden,
            encoder_layers=encoder_layers,
            decoder_layers=decoder_layers,
            heads=heads,
            n_fourier=n_fourier,
        )
        self.latent_dim, self.n_nodes = latent_dim, n_nodes
        self.n_atom_types, self.n_bond_types = n_atom_types, n_bond_types
        # encoder
        self.atom_embed = nn.Embedding(n_atom_types, hidden)
        self.encoder = nn.ModuleList(
            [_EncoderLayer(hidden, n_bond_types - 1) for _ in range(encoder_layers)]
        )
        self.to_mu = nn.Linear(hidden, latent_dim)
        self.to_logvar = nn.Linear(hidden, latent_dim)
        # decoder
        gen = torch.Generator().manual_seed(0)
        self.register_buffer("freqs", 3.0 * torch.randn(latent_dim, n_fourier, generator=gen))
        self.lift = nn.Sequential(
            nn.Linear(latent_dim + 2 * n_fourier, hidden), nn.SiLU(), nn.Linear(hidden, hidden)
        )
        self.decoder = nn.ModuleList(
            [
                nn.TransformerEncoderLayer(
                    hidden, heads, 2 * hidden, dropout=0.0, batch_first=True, norm_first=True
                )
                for _ in range(decoder_layers)
            ]
        )
        self.final_norm = nn.LayerNorm(hidden)
        self.atom_head = nn.Linear(hidden, n_atom_types)
        pair_hidden = max(hidden // 4, 8)
        self.pair_proj = nn.Linear(hidden, pair_hidden)
        self.bond_head = nn.Sequential(
            nn.Linear(2 * pair_hidden, pair_hidden), nn.SiLU(), nn.Linear(pair_hidden, n_bond_types)
        )

    # ------------------------------------------------------------------ encoder / decoder
    def _check_graphs(self, atoms: torch.Tensor, bonds: torch.Tensor) -> None:
        n = self.n_nodes
        if atoms.ndim != 2 or atoms.shape[1] != n:
            raise ValueError(f"atoms must have shape (B, {n}); received {tuple(atoms.shape)}")
        if bonds.shape != (atoms.shape[0], n, n):
            raise ValueError(
                f"bonds must have shape ({atoms.shape[0]}, {n}, {n}); received {tuple(bonds.shape)}"
            )

    def encode(self, atoms: torch.Tensor, bonds: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior mean and log-variance, each of shape ``(B, n_nodes, latent_dim)``."""
        self._check_graphs(atoms, bonds)
        atoms, bonds = atoms.long(), bonds.long()
        edges = F.one_hot(bonds, self.n_bond_types)[..., 1:].to(self.atom_embed.weight.dtype)
        h = self.atom_embed(atoms)
        for layer in self.encoder:
            h = layer(h, edges)
        return self.to_mu(h), self.to_logvar(h).clamp(-12.0, 6.0)

    def decode(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits of node classes ``(B, n, n_atom_types)`` and edge classes ``(B, n, n, n_bond_types)``.

        Edge logits are symmetric in the two slots.
        """
        if z.ndim != 3 or z.shape[1:] != (self.n_nodes, self.latent_dim):
            raise ValueError(
                f"z must have shape (B, {self.n_nodes}, {self.latent_dim}); received {tuple(z.shape)}"
            )
        proj = z @ self.freqs
        h = self.lift(torch.cat([z, torch.sin(proj), torch.cos(proj)], dim=-1))
        for layer in self.decoder:
            h = layer(h)
        h = self.final_norm(h)
        q = self.pair_proj(h)
        hi, hj = q[:, :, None, :], q[:, None, :, :]
        pair = torch.cat(torch.broadcast_tensors(hi + hj, hi * hj), dim=-1)
        return self.atom_head(h), self.bond_head(pair)

    def forward(
        self, atoms: torch.Tensor, bonds: torch.Tensor, *, beta: float = 1.0
    ) -> dict[str, torch.Tensor]:
        """Sampled ELBO terms (per molecule, batch mean): ``loss = recon + beta * kl``."""
        mu, logvar = self.encode(atoms, bonds)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if self.training else mu
        atom_logits, bond_logits = self.decode(z)
        recon_atoms = F.cross_entropy(
            atom_logits.reshape(-1, self.n_atom_types), atoms.long().reshape(-1), reduction="sum"
        )
        iu = torch.triu_indices(self.n_nodes, self.n_nodes, 1, device=bonds.device)
        recon_bonds = F.cross_entropy(
            bond_logits[:, iu[0], iu[1]].reshape(-1, self.n_bond_types),
            bonds.long()[:, iu[0], iu[1]].reshape(-1),
            reduction="sum",
        )
        b = atoms.shape[0]
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum() / b
        recon = (recon_atoms + recon_bonds) / b
        return {"loss": recon + beta * kl, "recon": recon, "kl": kl}

    # ----------------------------------------------------------------------- numpy helpers
    @torch.no_grad()
    def encode_numpy(self, atoms: Any, bonds: Any, *, batch_size: int = 2048) -> np.ndarray:
        """Posterior means of shape ``(n, n_nodes, latent_dim)`` (float64) for numpy graphs."""
        self.eval()
        out = []
        for s in range(0, len(atoms), batch_size):
            a = torch.as_tensor(np.asarray(atoms[s : s + batch_size]), dtype=torch.long)
            e = torch.as_tensor(np.asarray(bonds[s : s + batch_size]), dtype=torch.long)
            out.append(self.encode(a, e)[0].double().numpy())
        return np.concatenate(out) if out else np.zeros((0, self.n_nodes, self.latent_dim))

    @torch.no_grad()
    def decode_numpy(self, z: Any, *, batch_size: int = 2048) -> tuple[np.ndarray, np.ndarray]:
        """Most likely graphs for codes ``z (n, n_nodes, d)``: ``atoms (n, n)``, ``bonds (n, n, n)``.

        Bonds are symmetric, zero on the diagonal and on pairs touching an empty slot.
        """
        self.eval()
        z = np.asarray(z, dtype=np.float32)
        atoms, bonds = [], []
        for s in range(0, len(z), batch_size):
            al, bl = self.decode(torch.as_tensor(z[s : s + batch_size]))
            a = al.argmax(-1)
            e = bl.argmax(-1)
            real = a > 0
            e = e * (real[:, :, None] & real[:, None, :])
            e = e * (1 - torch.eye(self.n_nodes, dtype=e.dtype))
            atoms.append(a.numpy().astype(np.int8))
            bonds.append(e.numpy().astype(np.int8))
        n = self.n_nodes
        if not atoms:
            return np.zeros((0, n), np.int8), np.zeros((0, n, n), np.int8)
        return np.concatenate(atoms), np.concatenate(bonds)

    # ------------------------------------------------------------------------- checkpoints
    def save(self, path: str | Path, **meta: Any) -> Path:
        """Save config, weights and plain-typed ``meta`` (command, metrics) with ``torch.save``."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        state = {k: v.detach().cpu() for k, v in self.state_dict().items()}
        tmp = path.with_suffix(path.suffix + ".tmp")
        torch.save({"config": self.config, "state_dict": state, "meta": meta}, tmp)
        tmp.replace(path)
        return path


def load_graph_vae(path: str | Path) -> tuple[GraphVAE, dict[str, Any]]:
    """Load a :meth:`GraphVAE.save` checkpoint (``weights_only``); returns ``(model.eval(), meta)``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"graph VAE checkpoint {path} does not exist")
    blob = torch.load(path, map_location="cpu", weights_only=True)
    model = GraphVAE(**blob["config"])
    model.load_state_dict(blob["state_dict"])
    return model.eval(), dict(blob.get("meta", {}))
