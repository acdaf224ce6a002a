"""A plain (not equivariant) CNN with the same layout as the steerable models.

Three convolution blocks (28 → 14 → 7), a spatial mean over the last 7×7 map (the *latent*,
``channels[-1]`` dimensions) and a small head.  Its latent has no known group action:
:meth:`PlainCNN.latent_action` returns ``None``; train it with ``--augment rotation`` and
estimate an action from pairs (``orbitspace.learned.estimate_action``) to study augmentation.
"""

from __future__ import annotations

import torch

__all__ = ["PlainCNN"]


class PlainCNN(torch.nn.Module):
    """A plain CNN for 28×28 images.

    Parameters
    ----------
    channels : tuple of 3 ints, default (32, 64, 128)
        Channels of the three convolution blocks; the latent has ``channels[-1]`` dimensions.
    n_classes, hidden : int
        Classes and width of the head.

    Examples
    --------
    >>> model = PlainCNN()
    >>> model.latent(torch.zeros(2, 1, 28, 28)).shape
    torch.Size([2, 128])
    """

    kind = "plain"

    def __init__(
        self, channels: tuple[int, ...] = (32, 64, 128), n_classes: int = 10, hidden: int = 64
    ) -> None:
        super().__init__()
        if len(channels) != 3:
            raise ValueError(f"channels must have 3 entries; received {channels!r}")
        c1, c2, c3 = (int(c) for c in channels)
        self.config = {
            "model": "plain",
            "channels": [c1, c2, c3],
            "n_classes": int(n_classes),
            "hidden": int(hidden),
        }
        nn = torch.nn

        def block(cin: int, cout: int, kernel: int, pool: bool) -> list[torch.nn.Module]:
            layers = [
                nn.Conv2d(cin, cout, kernel, padding=kernel // 2, bias=False),
                nn.BatchNorm2d(cout),
                nn.ReLU(inplace=True),
            ]
            return layers + ([nn.MaxPool2d(2)] if pool else [])

        self.blocks = nn.Sequential(
            *block(1, c1, 5, True), *block(c1, c2, 5, True), *block(c2, c3, 3, False)
        )
        self.head = nn.Sequential(
            nn.Linear(c3, hidden),
            nn.BatchNorm1d(hidden),
            nn.ReLU(inplace=True),
            nn.Linear(hidden, n_classes),
        )

    def _check(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim == 3:
            x = x[:, None]
        if x.ndim != 4 or x.shape[1] != 1:
            raise ValueError(
                f"expected images of shape (n, 28, 28) or (n, 1, 28, 28); received {tuple(x.shape)}"
            )
        return x

    def feature_map(self, x: torch.Tensor) -> torch.Tensor:
        """The last feature map, shape (n, channels[-1], 7, 7)."""
        return self.blocks(self._check(x))

    def latent(self, x: torch.Tensor) -> torch.Tensor:
        """Latent codes of shape (n, channels[-1]): the spatial mean of the last feature map."""
        return self.feature_map(x).mean(dim=(-2, -1))

    def classify_latent(self, z: torch.Tensor) -> torch.Tensor:
        """Class logits from latents ``z`` of shape (n, channels[-1])."""
        return self.head(z)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits of shape (n, n_classes)."""
        return self.classify_latent(self.latent(x))

    def latent_action(self) -> None:
        """``None``: a plain CNN's latent has no known group action."""
        return None
