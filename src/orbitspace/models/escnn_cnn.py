"""Rotation-equivariant CNNs for 28×28 images, built with escnn.

Two models share one layout: three steerable convolution blocks (28 → 14 → 7 with 2×2 pooling
on even grids, so that rotations by multiples of 90° are exact symmetries of the pixel grid), a
spatial mean over the last 7×7 map, and a small invariant head.

- :class:`CNSteerableCNN`: C_N regular fields (N = 8 by default).  The latent is
  ``channels[-1]`` regular fields, acted on by ``Cyclic(N, "<c>xregular")``; the head max-pools
  each regular field over the group (escnn ``GroupPooling``).
- :class:`SO2SteerableCNN`: SO(2).  Hidden layers use band-limited regular fields with Fourier
  ReLUs (escnn ``FourierPointwise``); the last layer outputs irreps fields grouped by frequency,
  ``SO2("<c>x0 + <c>x1 + ... + <c>xL")``; the head takes their norms (escnn ``NormPool``).

The *latent* (:meth:`latent`) is the spatially pooled feature vector before invariant pooling:
``latent(rotate(x, g)) ≈ latent_action().act(g, latent(x))`` — exactly (to float precision) for
multiples of 90°, approximately for other angles (pixel-grid interpolation, and for C_N the
rotations outside the group).
"""

from __future__ import annotations

from typing import Any

import torch

from orbitspace.groups import VectorAction
from orbitspace.interop._escnn_compat import import_escnn
from orbitspace.interop.escnn import from_escnn

__all__ = ["CNSteerableCNN", "SO2SteerableCNN"]


class _SteerableBase(torch.nn.Module):
    """Shared forward logic: blocks -> spatial mean (latent) -> invariant pool -> head."""

    kind = ""

    def _finish(self, latent_type: Any, n_invariant: int, n_classes: int, hidden: int) -> None:
        self.latent_type = latent_type
        self.head = torch.nn.Sequential(
            torch.nn.Linear(n_invariant, hidden),
            torch.nn.BatchNorm1d(hidden),
            torch.nn.ReLU(inplace=True),
            torch.nn.Linear(hidden, n_classes),
        )
        self._action = from_escnn(latent_type)

    def _wrap(self, x: torch.Tensor) -> Any:
        if x.ndim == 3:
            x = x[:, None]
        if x.ndim != 4 or x.shape[1] != 1:
            raise ValueError(
                f"expected images of shape (n, 28, 28) or (n, 1, 28, 28); received {tuple(x.shape)}"
            )
        escnn = import_escnn()
        return escnn.nn.GeometricTensor(x, self.in_type)

    def feature_map(self, x: torch.Tensor) -> Any:
        """The last feature map as an escnn ``GeometricTensor`` of shape (n, D, 7, 7)."""
        return self.blocks(self._wrap(x))

    def latent(self, x: torch.Tensor) -> torch.Tensor:
        """Latent codes of shape (n, D): the spatial mean of the last feature map."""
        return self.feature_map(x).tensor.mean(dim=(-2, -1))

    def invariant(self, z: torch.Tensor) -> torch.Tensor:
        """The invariant pooling of latents ``z`` of shape (n, D)."""
        escnn = import_escnn()
        pooled = self.invariant_pool(
            escnn.nn.GeometricTensor(z[:, :, None, None], self.latent_type)
        )
        return pooled.tensor[:, :, 0, 0]

    def classify_latent(self, z: torch.Tensor) -> torch.Tensor:
        """Class logits from latents ``z`` of shape (n, D)."""
        return self.head(self.invariant(z))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits of shape (n, n_classes) for images of shape (n, 1, 28, 28)."""
        return self.classify_latent(self.latent(x))

    def latent_action(self) -> VectorAction:
        """The orbitspace action on the latent (``from_escnn`` of the latent field type)."""
        return self._action


def _conv_block(escnn: Any, in_type: Any, out_type: Any, kernel: int, pool: bool, act: Any) -> Any:
    nn = escnn.nn
    layers = [nn.R2Conv(in_type, out_type, kernel_size=kernel, padding=kernel // 2, bias=False)]
    if act is None:
        layers += [nn.InnerBatchNorm(out_type), nn.ReLU(out_type, inplace=True)]
    else:
        layers += [nn.IIDBatchNorm2d(out_type), act]
    if pool:
        layers.append(
            nn.PointwiseMaxPool2D(out_type, 2)
            if act is None
            else nn.PointwiseAvgPool2D(out_type, 2)
        )
    return layers


class CNSteerableCNN(_SteerableBase):
    """A C_N steerable CNN with regular fields.

    Parameters
    ----------
    N : int, default 8
        Order of the rotation group.
    channels : tuple of 3 ints, default (8, 16, 16)
        Regular fields per block; the latent has ``channels[-1] * N`` dimensions.
    n_classes, hidden : int
        Classes and width of the invariant head.

    Examples
    --------
    >>> model = CNSteerableCNN(N=8)  # doctest: +SKIP
    >>> model.latent_action()  # doctest: +SKIP
    Cyclic(8, '16xregular')
    """

    kind = "cn"

    def __init__(
        self,
        N: int = 8,
        channels: tuple[int, ...] = (8, 16, 16),
        n_classes: int = 10,
        hidden: int = 64,
    ) -> None:
        super().__init__()
        if len(channels) != 3:
            raise ValueError(f"channels must have 3 entries; received {channels!r}")
        escnn = import_escnn()
        nn = escnn.nn
        self.config = {
            "model": "cn",
            "N": int(N),
            "channels": [int(c) for c in channels],
            "n_classes": int(n_classes),
            "hidden": int(hidden),
        }
        gs = escnn.gspaces.rot2dOnR2(N=int(N))
        self.in_type = nn.FieldType(gs, [gs.trivial_repr])
        types = [nn.FieldType(gs, int(c) * [gs.regular_repr]) for c in channels]
        layers = []
        layers += _conv_block(escnn, self.in_type, types[0], 5, True, None)
        layers += _conv_block(escnn, types[0], types[1], 5, True, None)
        layers += _conv_block(escnn, types[1], types[2], 3, False, None)
        self.blocks = nn.SequentialModule(*layers)
        self.invariant_pool = nn.GroupPooling(types[2])
        self._finish(types[2], int(channels[2]), n_classes, hidden)


class SO2SteerableCNN(_SteerableBase):
    """An SO(2) steerable CNN whose latent is made of irreps fields.

    Parameters
    ----------
    max_frequency : int, default 3
        Highest frequency L of the hidden band-limited fields and of the latent irreps.
    channels : tuple of 3 ints, default (8, 16, 16)
        Fields per block; the last is the number of copies of each frequency 0..L in the latent
        (latent dimension ``channels[-1] * (2L + 1)``).
    fourier_samples : int, default 16
        Rotations at which the Fourier ReLU is evaluated.

    Examples
    --------
    >>> SO2SteerableCNN(max_frequency=3, channels=(4, 8, 16)).latent_action()  # doctest: +SKIP
    SO2('16x0 + 16x1 + 16x2 + 16x3')
    """

    kind = "so2"

    def __init__(
        self,
        max_frequency: int = 3,
        channels: tuple[int, ...] = (8, 16, 16),
        n_classes: int = 10,
        hidden: int = 64,
        fourier_samples: int = 16,
    ) -> None:
        super().__init__()
        if len(channels) != 3:
            raise ValueError(f"channels must have 3 entries; received {channels!r}")
        escnn = import_escnn()
        nn = escnn.nn
        L = int(max_frequency)
        self.config = {
            "model": "so2",
            "max_frequency": L,
            "channels": [int(c) for c in channels],
            "n_classes": int(n_classes),
            "hidden": int(hidden),
            "fourier_samples": int(fourier_samples),
        }
        gs = escnn.gspaces.rot2dOnR2(N=-1, maximum_frequency=max(2 * L, 6))
        G = gs.fibergroup
        self.in_type = nn.FieldType(gs, [gs.trivial_repr])
        acts = [
            nn.FourierPointwise(
                gs, int(c), G.bl_irreps(L), function="p_relu", N=int(fourier_samples)
            )
            for c in channels[:2]
        ]
        latent_type = nn.FieldType(
            gs, [G.irrep(k) for k in range(L + 1) for _ in range(int(channels[2]))]
        )
        layers = []
        layers += _conv_block(escnn, self.in_type, acts[0].in_type, 5, True, acts[0])
        layers += _conv_block(escnn, acts[0].in_type, acts[1].in_type, 5, True, acts[1])
        layers += [
            nn.R2Conv(acts[1].in_type, latent_type, kernel_size=3, padding=1, bias=False),
            nn.IIDBatchNorm2d(latent_type),  # unit-scale norms, so the norm-ReLU starts alive
            nn.NormNonLinearity(latent_type, "n_relu"),
        ]
        self.blocks = nn.SequentialModule(*layers)
        self.invariant_pool = nn.NormPool(latent_type)
        self._finish(latent_type, len(latent_type.representations), n_classes, hidden)
