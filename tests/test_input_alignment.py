"""Input-space alignment: exact for quarter turns, measured (not assumed) for other angles."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from orbitspace.datasets.rotation import rotate_images  # noqa: E402
from orbitspace.models.input_alignment import (  # noqa: E402
    InputAlignment,
    alignment_invariance,
)

FIXTURE = Path(__file__).parent / "fixtures" / "mnist_test_300.npz"


@pytest.fixture(scope="module")
def digits():
    data = np.load(FIXTURE)
    return data["images"][:40].astype(np.float32) / 255.0


def random_relu_encoder(seed: int = 0, dim: int = 12):
    """A fixed non-equivariant encoder: random projection of the pixels, then ReLU."""
    gen = torch.Generator().manual_seed(seed)
    W = torch.randn(28 * 28, dim, generator=gen) / 28.0

    def encode(x):
        return torch.relu(x.flatten(1) @ W)

    return encode


def test_quarter_turns_are_exactly_invariant_with_a_four_angle_grid(digits):
    aligner = InputAlignment(random_relu_encoder(), n_angles=4).fit(digits, random_state=0)
    inv = alignment_invariance(aligner, digits, np.pi / 2 * np.arange(1, 4))
    np.testing.assert_allclose(inv.relative_error, 0.0, atol=1e-12)
    np.testing.assert_allclose(inv.consistency, 1.0)
    assert np.all(inv.raw_relative_error > 0.1)  # the encoder itself is far from invariant


def test_chosen_rotation_is_the_nearest_candidate(digits):
    """The fast path against a brute-force loop over candidates and references."""
    encode = random_relu_encoder(1)
    aligner = InputAlignment(encode, n_angles=8).fit(digits, n_references=2, random_state=1)
    res = aligner.align(digits[:10])
    x = torch.from_numpy(digits[:10])[:, None]
    for i in range(10):
        for r, ref in enumerate(aligner.references):
            best = (np.inf, None, None)
            for a in aligner.candidate_angles:
                code = encode(rotate_images(x[i : i + 1], a)).numpy()[0].astype(np.float64)
                d = np.linalg.norm(code - ref)
                if d < best[0]:
                    best = (d, a, code)
            assert res.angles[i, r] == pytest.approx(best[1])
            assert res.distances[i, r] == pytest.approx(best[0], rel=1e-6)
            D = ref.shape[0]
            np.testing.assert_allclose(
                res.codes[i, r * D : (r + 1) * D], best[2], rtol=1e-5, atol=1e-6
            )


def test_off_grid_rotations_leave_a_measured_error(digits):
    aligner = InputAlignment(random_relu_encoder(2), n_angles=8).fit(digits, random_state=2)
    inv = alignment_invariance(aligner, digits, [np.pi / 4, 0.3])
    assert np.isnan(inv.consistency[1])  # 0.3 rad is not on the grid
    assert np.all(inv.relative_error > 0)  # bilinear interpolation: not exactly invariant
    d = inv.to_dict()
    assert d["mean_relative_error"] == pytest.approx(inv.relative_error.mean())
    assert d["consistency"][1] is None


def test_alignment_improves_on_raw_codes_for_grid_rotations(digits):
    aligner = InputAlignment(random_relu_encoder(3), n_angles=8).fit(digits, random_state=3)
    inv = alignment_invariance(aligner, digits, 2 * np.pi / 8 * np.arange(1, 8))
    assert inv.relative_error.mean() < inv.raw_relative_error.mean()


def test_numpy_in_numpy_out_and_torch_in_torch_out(digits):
    aligner = InputAlignment(random_relu_encoder(), n_angles=4, references=np.zeros(12))
    assert isinstance(aligner.transform(digits[:3]), np.ndarray)
    assert isinstance(aligner.transform(torch.from_numpy(digits[:3])), torch.Tensor)


def test_mean_reference_is_one_code(digits):
    aligner = InputAlignment(random_relu_encoder(), n_angles=4).fit(digits, reference="mean")
    assert aligner.references.shape == (1, 12)


def test_bad_input():
    enc = random_relu_encoder()
    with pytest.raises(TypeError, match="callable"):
        InputAlignment("not a function")
    with pytest.raises(ValueError, match="call fit"):
        InputAlignment(enc).align(np.zeros((2, 28, 28), np.float32))
    with pytest.raises(ValueError, match="references have dim 3 but the codes have dim 12"):
        InputAlignment(enc, references=np.zeros(3)).align(np.zeros((2, 28, 28), np.float32))
    with pytest.raises(ValueError, match="shape \\(n, H, W\\) or \\(n, C, H, W\\)"):
        InputAlignment(enc, references=np.zeros(12)).align(np.zeros((28, 28), np.float32))
    with pytest.raises(ValueError, match="'data' or 'mean'"):
        InputAlignment(enc).fit(np.zeros((2, 28, 28), np.float32), reference="median")
