"""A group action defined outside the package joins through the public protocol alone.

``BlockSigns(sizes)`` is the group {±1}^k acting on a vector made of k blocks (block j has
``sizes[j]`` coordinates) by flipping the sign of each block.  It subclasses the public
``VectorAction``, registers its constructor for ``parse_action`` and a lower bound, and is
solved by the library's generic enumeration of a finite group.  ``BlockSignsClosedForm`` is the
same action with a solver of its own (flip each block to make its inner product positive),
registered with ``register_solver``; the two must agree everywhere.  ``UserCircle`` is an
infinite action with no solver: every entry point must say so, naming it.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import orbitspace as osp
from orbitspace.groups import Action, Component, Irrep, VectorAction, register_action
from orbitspace.quotient import (
    align,
    max_inner_product,
    pairwise_quotient_distances,
    quotient_distance,
    quotient_knn,
    register_lower_bound,
    register_solver,
)
from orbitspace.quotient._api import solver_info
from orbitspace.quotient.pruning import lower_bound_distances, lower_bound_features
from orbitspace.testing import check_group_action, check_quotient_metric


@register_action("BlockSigns((2, 3))")
class BlockSigns(VectorAction):
    """{±1}^k flipping the signs of k blocks; an element is a sign vector of shape (k,)."""

    def __init__(self, sizes):
        sizes = tuple(int(s) for s in sizes)
        if not sizes or min(sizes) < 1:
            raise ValueError(f"block sizes must be positive ints; received {sizes!r}")
        object.__setattr__(self, "sizes", sizes)
        object.__setattr__(self, "_owner", np.repeat(np.arange(len(sizes)), sizes))
        self._freeze()

    def __repr__(self):
        return f"{type(self).__name__}({self.sizes!r})"

    def _key(self):
        return self.sizes

    @property
    def dim(self):
        return int(sum(self.sizes))

    @property
    def k(self):
        return len(self.sizes)

    @property
    def element_shape(self):
        return (self.k,)

    @property
    def order(self):
        return 2**self.k

    @property
    def group_name(self):
        return f"{{±1}}^{self.k}"

    def components(self):
        out, start = [], 0
        for j, size in enumerate(self.sizes):
            out.append(Component(Irrep(self.group_name, f"sign{j}", 1, None, False), start, size))
            start += size
        return tuple(out)

    def _signs(self, g):
        s = np.asarray(g, dtype=float)
        if s.shape[-1:] != (self.k,) or not np.all(np.abs(s) == 1):
            raise ValueError(f"{self!r}: an element is a ±1 vector of shape (..., {self.k})")
        return s

    def identity(self):
        return np.ones(self.k)

    def compose(self, g, h):
        return self._signs(g) * self._signs(h)

    def inverse(self, g):
        return self._signs(g).copy()

    def sample(self, n=None, random_state=None):
        rng = np.random.default_rng(random_state)
        size = (self.k,) if n is None else (n, self.k)
        return rng.choice([-1.0, 1.0], size=size)

    def elements(self):
        return np.array(list(itertools.product([1.0, -1.0], repeat=self.k)))

    def matrix(self, g):
        per_coord = self._signs(g)[..., self._owner]
        return per_coord[..., :, None] * np.eye(self.dim)

    def act(self, g, X):
        Xn = self.check_latents(X)
        return self._signs(g)[..., self._owner] * Xn


@register_lower_bound(BlockSigns)
def _block_norms(action, Z):
    """Per-block norms: ‖x − ρ(s) y‖² = Σ_j ‖x_j − s_j y_j‖² >= Σ_j (‖x_j‖ − ‖y_j‖)²."""
    return np.stack([np.linalg.norm(Z[:, c.slice], axis=1) for c in action.components()], 1)


@register_action("BlockSignsClosedForm((2, 3))")
class BlockSignsClosedForm(BlockSigns):
    """The same action, solved in closed form by its own registered solver."""


@register_solver(BlockSignsClosedForm, name="block sign closed form", certified=True)
def _closed_form(X, Y, rows, cols, action):
    """max_s Σ_j s_j <x_j, y_j> = Σ_j |<x_j, y_j>|, s_j = sign(<x_j, y_j>) (+1 on ties)."""
    prods = np.stack(
        [(X[rows][:, c.slice] * Y[cols][:, c.slice]).sum(1) for c in action.components()], 1
    )
    signs = np.where(prods < 0, -1.0, 1.0)
    return np.abs(prods).sum(1), signs, np.zeros(rows.shape[0])


class UserCircle(VectorAction):
    """SO(2) rotating the plane, written by a user who registered no solver for it (nor its
    constructor: it stays out of the action table other tests may iterate over)."""

    def __init__(self):
        self._freeze()

    def __repr__(self):
        return "UserCircle()"

    def _key(self):
        return ()

    @property
    def dim(self):
        return 2

    def identity(self):
        return np.zeros(())

    def compose(self, g, h):
        return np.mod(np.asarray(g, float) + np.asarray(h, float), 2 * np.pi)

    def inverse(self, g):
        return np.mod(-np.asarray(g, float), 2 * np.pi)

    def sample(self, n=None, random_state=None):
        return np.random.default_rng(random_state).uniform(0, 2 * np.pi, size=n)

    def matrix(self, g):
        t = np.asarray(g, float)
        c, s = np.cos(t), np.sin(t)
        return np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2)


SIZES = (2, 1, 3)
PLAIN, FAST = BlockSigns(SIZES), BlockSignsClosedForm(SIZES)
BOTH = [PLAIN, FAST]


def _data(n, seed):
    return np.random.default_rng(seed).normal(size=(n, PLAIN.dim))


# -- the action itself -----------------------------------------------------------------------
@pytest.mark.parametrize("action", BOTH, ids=repr)
def test_user_action_is_a_group_action_and_parses_back(action):
    check_group_action(action, random_state=0)
    assert osp.parse_action(repr(action)) == action
    assert action.is_finite and action.order == 8 and not action.is_trivial
    assert action.element_shape == (3,) and action.node_axis is None
    assert [c.size for c in action.components()] == list(SIZES)


def test_solvers_are_the_generic_enumeration_and_the_registered_closed_form():
    assert solver_info(PLAIN).name == "enumeration" and solver_info(PLAIN).certified
    assert solver_info(FAST).name == "block sign closed form" and solver_info(FAST).certified


# -- every entry point, both solvers, against the exhaustive oracle --------------------------
@pytest.mark.parametrize("action", BOTH, ids=repr)
def test_align_and_quotient_distance_match_enumeration(action):
    X, Y = _data(7, 1), _data(7, 2)
    res = align(X, Y, action)
    slow = align(X, Y, action, method="exhaustive")
    np.testing.assert_allclose(res.distance, slow.distance, atol=1e-12)
    np.testing.assert_array_equal(res.g, slow.g)  # no ties in random data
    np.testing.assert_allclose(res.Y_aligned, action.act(res.g, Y), atol=0)
    assert res.certified and slow.certified
    np.testing.assert_array_equal(res.certificate, 0.0)
    np.testing.assert_allclose(quotient_distance(X, Y, action), res.distance, atol=0)
    # brute force written out here: every sign vector
    brute = np.min([np.linalg.norm(X - PLAIN.act(s, Y), axis=1) for s in PLAIN.elements()], axis=0)
    np.testing.assert_allclose(res.distance, brute, atol=1e-12)


def test_the_two_solvers_agree_on_values_and_group_elements():
    X, Y = _data(20, 3), _data(20, 4)
    v_plain, g_plain = max_inner_product(X[:, None], Y[None], PLAIN)
    v_fast, g_fast = max_inner_product(X[:, None], Y[None], FAST)
    np.testing.assert_allclose(v_fast, v_plain, atol=1e-12)
    np.testing.assert_array_equal(g_fast, g_plain)
    assert g_fast.shape == (20, 20, 3)


@pytest.mark.parametrize("action", BOTH, ids=repr)
def test_pairwise_and_knn_match_between_solvers_and_the_oracle(action):
    rng = np.random.default_rng(5)
    base = _data(5, 6)
    X = PLAIN.act(PLAIN.sample(25, random_state=7), np.repeat(base, 5, axis=0))
    X = X + 0.05 * rng.normal(size=X.shape)
    D = pairwise_quotient_distances(X, action=action, batch_size=13)
    D_oracle = pairwise_quotient_distances(X, action=action, method="exhaustive")
    np.testing.assert_allclose(D, D_oracle, atol=1e-10)
    np.testing.assert_allclose(D, D.T, atol=0)
    assert np.all(np.diag(D) == 0)
    Y = _data(9, 8)
    np.testing.assert_allclose(
        pairwise_quotient_distances(X, Y, action=action),
        np.asarray(quotient_distance(X[:, None], Y[None], PLAIN)),
        atol=1e-10,
    )
    dist, idx = quotient_knn(X, 4, action=action)
    masked = np.where(np.eye(len(X), dtype=bool), np.inf, D_oracle)
    np.testing.assert_allclose(dist, np.sort(masked, axis=1)[:, :4], atol=1e-10)
    np.testing.assert_allclose(np.take_along_axis(masked, idx, 1), dist, atol=1e-10)
    # the nearest neighbours of a noisy copy are the other copies of its orbit
    assert np.all(idx // 5 == np.arange(len(X))[:, None] // 5)


def test_registered_lower_bound_is_used_and_is_a_lower_bound():
    X = _data(30, 9)
    F = lower_bound_features(PLAIN, X)
    assert F.shape == (30, 3)  # the registered block norms, not the fallback norm
    np.testing.assert_allclose(lower_bound_features(FAST, X), F)  # inherited through the MRO
    lower = lower_bound_distances(F, F)
    D = np.asarray(pairwise_quotient_distances(X, action=PLAIN))
    assert np.all(lower <= D + 1e-12)


@pytest.mark.parametrize("action", BOTH, ids=repr)
def test_quotient_metric_axioms(action):
    check_quotient_metric(action, random_state=0)


# -- an infinite user action without a solver ------------------------------------------------
def test_infinite_user_action_without_solver_is_refused_by_name():
    circle = UserCircle()
    check_group_action(circle, random_state=0)  # a fine action, just not solvable
    X, Y = _data(4, 10)[:, :2], _data(4, 11)[:, :2]
    calls = [
        lambda: align(X, Y, circle),
        lambda: quotient_distance(X, Y, circle),
        lambda: pairwise_quotient_distances(X, Y, action=circle),
        lambda: quotient_knn(X, 2, action=circle),
        lambda: solver_info(circle),
        lambda: align(X, Y, circle, method="exhaustive"),
    ]
    for call in calls:
        with pytest.raises(ValueError, match=r"UserCircle\(\).*infinite group"):
            call()


def test_an_action_subclass_outside_the_package_needs_only_the_public_names():
    """The base classes and decorators used above are public names of orbitspace."""
    assert issubclass(BlockSigns, Action) and osp.groups.VectorAction is VectorAction
    assert osp.groups.registered_actions()["BlockSigns"][0] is BlockSigns


# -- invariant maps (made trait-based by another change) -------------------------------------


@pytest.mark.parametrize("action", BOTH, ids=repr)
def test_align_to_reference_on_the_user_action(action):
    from orbitspace.invariants import align_to_reference

    X, R = _data(12, 12), _data(2, 13)
    Z = np.asarray(align_to_reference(X, action, R))
    assert Z.shape == (12, 2 * PLAIN.dim)
    Zg = np.asarray(align_to_reference(PLAIN.act(PLAIN.sample(12, random_state=1), X), action, R))
    np.testing.assert_allclose(Zg, Z, atol=1e-12)  # invariant
    D = np.asarray(pairwise_quotient_distances(X, action=PLAIN))
    Dz = np.linalg.norm(Z[:, None] - Z[None], axis=-1)
    assert np.all(Dz >= D / np.sqrt(2) - 1e-12)  # each block a point of the orbit, / sqrt(K)


@pytest.mark.parametrize("action", BOTH, ids=repr)
def test_max_filter_on_the_user_action(action):
    from orbitspace.invariants import max_filter

    X = _data(12, 14)
    T = _data(5, 15)
    T = T / np.linalg.norm(T, axis=1, keepdims=True)
    F = np.asarray(max_filter(X, action, T))
    assert F.shape == (12, 5)
    expected = np.asarray(max_inner_product(T[None], X[:, None], PLAIN)[0]) / np.sqrt(5)
    np.testing.assert_allclose(F, expected, atol=1e-12)
    Fg = np.asarray(max_filter(PLAIN.act(PLAIN.sample(12, random_state=2), X), action, T))
    np.testing.assert_allclose(Fg, F, atol=1e-12)


# -- the worked example of docs/adding_an_action.md runs as written ---------------------------
def test_the_guide_example_runs():
    from pathlib import Path

    guide = Path(__file__).resolve().parents[1] / "docs" / "adding_an_action.md"
    text = guide.read_text(encoding="utf-8")
    blocks = [b.split("```", 1)[0] for b in text.split("```python\n")[1:]]
    assert len(blocks) == 1, "the guide has one complete example"
    namespace: dict = {"__name__": "adding_an_action_example"}
    exec(compile(blocks[0], str(guide), "exec"), namespace)  # its asserts check the results
    rho = namespace["rho"]
    assert solver_info(rho).name == "coordinate sign closed form"
    assert osp.parse_action(repr(rho)) == rho
