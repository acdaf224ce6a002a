"""Invariant codes by aligning inputs: among rotations of an image, keep the one whose code is
nearest a reference.

For a network with no known latent action (a plain CNN, trained with or without augmentation),
an invariant code can still be made in input space: rotate the image by each candidate angle
``θ_j = 2πj/K``, encode every rotation, and keep the code closest to a reference code ``r``:

    π(x) = f(R_{θ*} x),   θ* = argmin_j ‖f(R_{θ_j} x) − r‖.

If the rotations of the grid composed exactly (``R_φ R_θ = R_{φ+θ}``), rotating the input by a
grid angle would only relabel the candidates and π would be exactly invariant to it (ties
aside).  On pixels they compose exactly only for quarter turns; other grid angles, and angles
off the grid, leave an error that :func:`alignment_invariance` measures.

>>> import torch
>>> from orbitspace.models.input_alignment import InputAlignment
>>> encode = lambda x: x.flatten(1)[:, :5]  # any images -> codes callable
>>> aligner = InputAlignment(encode, n_angles=4).fit(torch.rand(8, 1, 6, 6), random_state=0)
>>> aligner.transform(torch.rand(3, 1, 6, 6)).shape
torch.Size([3, 5])
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from orbitspace._array import is_torch, like, to_numpy
from orbitspace._validation import check_positive_int, check_random_state
from orbitspace.datasets.rotation import rotate_images

__all__ = ["InputAlignment", "AlignedCodes", "AlignmentInvariance", "alignment_invariance"]


def _as_images(images: Any) -> torch.Tensor:
    x = images if is_torch(images) else torch.from_numpy(np.ascontiguousarray(to_numpy(images)))
    if x.ndim == 3:
        x = x[:, None]
    if x.ndim != 4:
        raise ValueError(
            f"images must have shape (n, H, W) or (n, C, H, W); received shape {tuple(x.shape)}"
        )
    return x.float()


@dataclass(frozen=True)
class AlignedCodes:
    """Result of :meth:`InputAlignment.align`.

    Attributes
    ----------
    codes : array of shape (n, n_references * D)
        The code of the chosen rotation per reference, concatenated.
    angles : array of shape (n, n_references)
        The chosen input rotation (radians) per reference.
    distances : array of shape (n, n_references)
        ``‖f(R_{θ*} x) − r‖``.
    """

    codes: Any
    angles: np.ndarray
    distances: np.ndarray


class InputAlignment:
    """Align inputs by rotation so that their codes come nearest reference codes.

    Parameters
    ----------
    encode : callable
        Maps a float tensor of images ``(n, C, H, W)`` to codes ``(n, D)`` (torch or numpy).
        Called under ``torch.no_grad()``.
    n_angles : int
        Candidate rotations ``2πj / n_angles``, ``j = 0..n_angles-1``.
    references : array of shape (D,) or (n_references, D), optional
        Reference codes; otherwise :meth:`fit` chooses them.
    batch_size : int
        Images encoded at once.

    Examples
    --------
    >>> import numpy as np
    >>> enc = lambda x: x.flatten(1)
    >>> aligner = InputAlignment(enc, n_angles=4, references=np.zeros(16))
    >>> aligner.align(np.ones((2, 4, 4), np.float32)).angles.shape
    (2, 1)
    """

    def __init__(
        self,
        encode: Callable[[torch.Tensor], Any],
        n_angles: int = 16,
        *,
        references: Any = None,
        batch_size: int = 512,
    ) -> None:
        if not callable(encode):
            raise TypeError(f"encode must be callable (images -> codes); received {encode!r}")
        self.encode = encode
        self.n_angles = check_positive_int(n_angles, "n_angles")
        self.batch_size = check_positive_int(batch_size, "batch_size")
        self.references = None if references is None else self._check_refs(references)

    @property
    def candidate_angles(self) -> np.ndarray:
        return 2 * np.pi * np.arange(self.n_angles) / self.n_angles

    @staticmethod
    def _check_refs(references: Any) -> np.ndarray:
        refs = np.asarray(to_numpy(references), dtype=np.float64)
        if refs.ndim == 1:
            refs = refs[None]
        if refs.ndim != 2:
            raise ValueError(
                f"references must have shape (D,) or (n_references, D); received {refs.shape}"
            )
        return refs

    def encode_numpy(self, images: Any) -> np.ndarray:
        """Codes ``(n, D)`` of images, in batches, as float64 numpy."""
        x = _as_images(images)
        out = []
        with torch.no_grad():
            for start in range(0, x.shape[0], self.batch_size):
                code = self.encode(x[start : start + self.batch_size])
                out.append(np.asarray(to_numpy(code), dtype=np.float64).reshape(code.shape[0], -1))
        return np.concatenate(out, axis=0)

    def rotated_codes(self, images: Any) -> np.ndarray:
        """Codes of every candidate rotation: shape ``(n, n_angles, D)``."""
        x = _as_images(images)
        n = x.shape[0]
        codes = [self.encode_numpy(rotate_images(x, np.full(n, a))) for a in self.candidate_angles]
        return np.stack(codes, axis=1)

    def fit(
        self,
        images: Any,
        *,
        n_references: int = 1,
        reference: str = "data",
        random_state: Any = None,
    ) -> InputAlignment:
        """Choose reference codes from ``images``.

        ``reference="data"``: codes of ``n_references`` random images (unrotated), the paper's
        random-data-point reference.  ``"mean"``: the mean code of the images over all candidate
        rotations (rotation-averaged, so nearly invariant itself).
        """
        rng = check_random_state(random_state)
        n_references = check_positive_int(n_references, "n_references")
        x = _as_images(images)
        if reference == "data":
            if n_references > x.shape[0]:
                raise ValueError(
                    f"n_references ({n_references}) exceeds the number of images ({x.shape[0]})"
                )
            idx = rng.choice(x.shape[0], size=n_references, replace=False)
            self.references = self.encode_numpy(x[torch.as_tensor(idx)])
        elif reference == "mean":
            self.references = self.rotated_codes(x).mean(axis=(0, 1))[None]
        else:
            raise ValueError(f"reference must be 'data' or 'mean'; received {reference!r}")
        return self

    def align(self, images: Any) -> AlignedCodes:
        """Choose, per image and reference, the candidate rotation whose code is nearest."""
        if self.references is None:
            raise ValueError("no reference codes: call fit(images) or pass references=")
        C = self.rotated_codes(images)  # (n, K, D)
        if C.shape[-1] != self.references.shape[-1]:
            raise ValueError(
                f"references have dim {self.references.shape[-1]} but the codes have dim "
                f"{C.shape[-1]}"
            )
        dist = np.linalg.norm(C[:, :, None, :] - self.references[None, None], axis=-1)  # n,K,R
        best = np.argmin(dist, axis=1)  # (n, R)
        n = C.shape[0]
        chosen = C[np.arange(n)[:, None], best]  # (n, R, D)
        return AlignedCodes(
            codes=like(chosen.reshape(n, -1), images),
            angles=self.candidate_angles[best],
            distances=np.take_along_axis(dist, best[:, None, :], axis=1)[:, 0],
        )

    def transform(self, images: Any) -> Any:
        """The aligned (approximately invariant) codes, shape ``(n, n_references * D)``."""
        return self.align(images).codes


@dataclass(frozen=True)
class AlignmentInvariance:
    """How far input alignment is from invariant, per test rotation.

    Attributes
    ----------
    angles : array of shape (n_test_angles,)
        The rotations φ applied to the inputs.
    relative_error : array of shape (n_test_angles,)
        ``‖π(R_φ x) − π(x)‖_F / ‖π(x)‖_F`` over the images.
    consistency : array of shape (n_test_angles,)
        Fraction of images whose chosen angle moved by exactly −φ (mod 2π; only meaningful for
        φ on the candidate grid, NaN otherwise).
    raw_relative_error : array of shape (n_test_angles,)
        The same error for the unaligned codes ``f(R_φ x)`` vs ``f(x)`` (the baseline).
    """

    angles: np.ndarray
    relative_error: np.ndarray
    consistency: np.ndarray
    raw_relative_error: np.ndarray

    def to_dict(self) -> dict[str, Any]:
        on_grid = ~np.isnan(self.consistency)
        return {
            "angles": self.angles.tolist(),
            "relative_error": self.relative_error.tolist(),
            "consistency": [None if np.isnan(c) else float(c) for c in self.consistency],
            "raw_relative_error": self.raw_relative_error.tolist(),
            "mean_relative_error": float(self.relative_error.mean()),
            "mean_raw_relative_error": float(self.raw_relative_error.mean()),
            "mean_consistency_on_grid": float(self.consistency[on_grid].mean())
            if on_grid.any()
            else None,
        }


def alignment_invariance(aligner: InputAlignment, images: Any, angles: Any) -> AlignmentInvariance:
    """Measure the invariance of input alignment to rotations of the inputs by ``angles``.

    Parameters
    ----------
    aligner : InputAlignment
        A fitted aligner.
    images : array of shape (n, H, W) or (n, C, H, W)
    angles : array of shape (n_test_angles,)
        Rotations φ (radians) applied to every image.

    Returns
    -------
    AlignmentInvariance
    """
    x = _as_images(images)
    n = x.shape[0]
    phis = np.atleast_1d(np.asarray(angles, dtype=np.float64))
    base = aligner.align(x)
    base_codes = np.asarray(to_numpy(base.codes))
    raw_base = aligner.encode_numpy(x)
    step = 2 * np.pi / aligner.n_angles
    rel, cons, raw = [], [], []
    for phi in phis:
        xr = rotate_images(x, np.full(n, phi))
        res = aligner.align(xr)
        codes = np.asarray(to_numpy(res.codes))
        rel.append(np.linalg.norm(codes - base_codes) / max(np.linalg.norm(base_codes), 1e-300))
        raw_codes = aligner.encode_numpy(xr)
        raw.append(np.linalg.norm(raw_codes - raw_base) / max(np.linalg.norm(raw_base), 1e-300))
        j = phi / step
        if abs(j - np.rint(j)) < 1e-9:
            moved = np.mod(np.rint((base.angles - res.angles) / step), aligner.n_angles)
            cons.append(float(np.mean(moved == np.mod(np.rint(j), aligner.n_angles))))
        else:
            cons.append(float("nan"))
    return AlignmentInvariance(
        angles=phis,
        relative_error=np.array(rel),
        consistency=np.array(cons),
        raw_relative_error=np.array(raw),
    )
