"""estimate_action on real networks.

An escnn C_8 CNN (random weights: equivariance does not depend on training) is exactly
equivariant to quarter turns of the input, with a known latent action: estimate_action must
recover its frequency content for C_4 and predict rotated codes to float32 precision.  A plain
CNN is measured, not assumed: on the committed augmentation-trained checkpoint, the learned
action must at least beat the trivial one on held-out digits.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from orbitspace.datasets.rotation import rotate_images  # noqa: E402
from orbitspace.learned import estimate_action, frequency_content  # noqa: E402

FIXTURE = Path(__file__).parent / "fixtures" / "mnist_test_300.npz"


@pytest.fixture(scope="module")
def digits():
    data = np.load(FIXTURE)
    return data["images"][:120].astype(np.float32) / 255.0, data["labels"][:120]


def orbit_codes(model, images, N):
    x = torch.from_numpy(images)[:, None]
    with torch.no_grad():
        codes = [
            model.latent(rotate_images(x, np.full(len(x), 2 * np.pi * j / N))).double().numpy()
            for j in range(N)
        ]
    return np.stack(codes, axis=1)


@pytest.mark.skipif(importlib.util.find_spec("escnn") is None, reason="escnn not installed")
def test_escnn_latent_action_is_recovered_for_quarter_turns(digits):
    from orbitspace.models.escnn_cnn import CNSteerableCNN

    torch.manual_seed(0)
    model = CNSteerableCNN(N=8, channels=(4, 4, 4)).eval()
    codes = orbit_codes(model, digits[0], 4)
    learned = estimate_action(codes, N=4, random_state=0)
    known = model.latent_action()
    # only directions the data excite can be found: compare on the span of the codes
    assert learned.dim <= known.dim
    expected = frequency_content(known, 4)
    if learned.dim == known.dim:
        assert learned.frequencies == expected
    assert learned.equivariance_error_snapped < 1e-4
    assert learned.homomorphism_error < 1e-3
    # the learned action predicts the code of every quarter turn of held-out digits
    held = codes[-20:]
    for k in range(4):
        pred = learned.predict(held[:, 0], k)
        rel = np.linalg.norm(pred - held[:, k]) / np.linalg.norm(held[:, k] - learned.mean)
        assert rel < 1e-4


@pytest.mark.filterwarnings("ignore::orbitspace.OrbitspaceWarning")
def test_learned_action_on_the_augmented_plain_cnn_beats_the_trivial_action(digits):
    from orbitspace.models.training import checkpoint_dir, load_checkpoint

    path = checkpoint_dir() / "plain_rotation"
    if not path.with_suffix(".json").exists():
        pytest.skip("plain_rotation checkpoint not shipped")
    model, _ = load_checkpoint(path)
    codes = orbit_codes(model, digits[0], 4)
    learned = estimate_action(codes, N=4, n_components=0.95, random_state=0)
    # measured, not assumed: the action is far from exact, but better than no action
    assert learned.equivariance_error_snapped < learned.invariance_error
    assert 0.05 < learned.equivariance_error_snapped
