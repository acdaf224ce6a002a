"""Registry-driven checks: every invariant map x every action in the bank, against its declared
Properties (invariance, separation with colliding pairs shown, isometry / Lipschitz bounds
against the exact quotient distance, cross-sections, output shapes, determinism)."""

from __future__ import annotations

import functools

import numpy as np
import pytest

import orbitspace as osp
from orbitspace.invariants import REGISTRY, available_methods, get_map, so3_hard_pairs
from orbitspace.invariants.so3 import copy_groups, is_3d
from orbitspace.quotient import max_inner_product, quotient_distance


def dihedral4() -> osp.FiniteGroup:
    """D4 acting on R^2 + R^2 (the same 2-D matrices on both planes)."""
    mats = []
    for k in range(4):
        c, s = np.cos(k * np.pi / 2), np.sin(k * np.pi / 2)
        R = np.array([[c, -s], [s, c]]).round(12)
        for F in (np.eye(2), np.diag([1.0, -1.0])):
            M = R @ F
            mats.append(np.kron(np.eye(2), M))
    return osp.FiniteGroup(np.array(mats))


class Relabelled(osp.SO2):
    """SO(2) whose irreps name another group: the maps see neither a planar action nor SO(2)
    and must take their generic, component-driven paths (real Gram power spectrum)."""

    def _irrep(self, kind):
        ir = super()._irrep(kind)
        return osp.groups.Irrep("G", ir.label, ir.dim, ir.degree, ir.trivial)


# (id, action, d): d is the channel count for node latents, None for vector actions
CASES = [
    ("so2-mixed", osp.SO2("2x0 + 2x1 + 1x3"), None),
    ("so2-oneblock", osp.SO2("1x0 + 1x2"), None),
    ("so2-complete", osp.SO2("2x1 + 1x2"), None),
    ("so2-freq13", osp.SO2("1x1 + 1x3"), None),
    ("c4-regular", osp.Cyclic(4, "2xregular"), None),
    ("c8-mixed", osp.Cyclic(8, "1xregular + 1x1 + 1x4"), None),
    ("c4-signs", osp.Cyclic(4, "1x0 + 2x2"), None),
    ("c8-onesign", osp.Cyclic(8, "1x0 + 1x4"), None),
    ("perm5-d1", osp.Permutation(5), 1),
    ("perm5-d2", osp.Permutation(5), 2),
    ("perm5-d3", osp.Permutation(5), 3),
    ("d4", dihedral4(), None),
    ("generic-mixed", Relabelled("1x0 + 2x1 + 1x2"), None),
    ("generic-oneblock", Relabelled("2x0 + 1x3"), None),
    ("so3-mixed", osp.SO3("8x0e + 4x1o + 2x2e"), None),
    ("o3-mixed", osp.O3("1x0o + 2x1e + 1x3o"), None),
    ("so3-2vec", osp.SO3("2x1o"), None),
    ("so3-3vec", osp.SO3("3x1o"), None),
    ("so3-deg2", osp.SO3("1x2e"), None),
    ("so3-vec-deg2", osp.SO3("1x1o + 1x2e"), None),
    ("o3-parity-mix", osp.O3("1x1o + 1x1e"), None),
    # (a single free degree-1 copy, e.g. O3("1x0o + 1x1o"), is checked in
    # test_so3_invariants.py against the Kabsch closed form: the SO(3) grid oracle's Newton
    # step meets a singular Hessian on the circle of maximisers there)
    ("o2-mixed", osp.O2("1x(0,0) + 1x(1,0) + 2x(1,1) + 1x(1,2)"), None),
    ("d4-regular", osp.Dihedral(4, "1xregular + 1x(1,1) + 1x(0,2)"), None),
    ("prod-so2", osp.groups.Product(osp.Permutation(3), osp.SO2("1x1")), None),
    (
        "prod-typed-c4",
        osp.groups.Product(osp.Permutation(4, node_types=(0, 1, 0, 1)), osp.Cyclic(4, "1x1 + 1x2")),
        None,
    ),
    ("prod-trivial", osp.groups.Product(osp.Permutation(3), osp.SO2("2x0")), None),
]
# the template maps run one certified SO(3) alignment per (code, template): on the 3-D cases
# they are checked where the solver has its closed form (degree <= 1: Kabsch), and on a
# branch-and-bound case with small batches in test_so3_invariants.py.
TEMPLATE_MAPS = ("align_to_reference", "max_filter")
TEMPLATE_3D_CASES = {"so3-2vec", "so3-3vec", "o3-parity-mix"}

# option variants per map (the first is the default)
VARIANTS = {
    "sorted_projections": [{}, {"n_projections": 1}, {"n_projections": 12}],
    "node_pool": [{}, {"reduction": "mean"}, {"reduction": "max"}],
    "align_to_reference": [
        {},
        {"n_references": 3},
        {"reference": "data"},
        {"reference": "mean"},
    ],
    "max_filter": [{}, {"n_templates": 1}],
    "bispectrum": [{}, {"copies": "all"}],
    "group_pool": [{}, {"reduction": "mean"}],
    "node_sorted_invariants": [{}, {"invariant": "power_spectrum"}],
    "node_sorted_projections": [{}, {"invariant": "power_spectrum"}, {"n_projections": 1}],
    "node_pooled_invariants": [
        {},
        {"reduction": "mean"},
        {"reduction": "max"},
        {"invariant": "power_spectrum"},
    ],
}


def _split(imap, options):
    fit = {k: v for k, v in options.items() if k in imap.fit_options}
    return fit, {k: v for k, v in options.items() if k not in imap.fit_options}


def _combos():
    out = []
    for name, imap in REGISTRY.items():
        for cid, action, d in CASES:
            if not imap.supports(action, d=d):
                continue
            if name in TEMPLATE_MAPS and is_3d(action) and cid not in TEMPLATE_3D_CASES:
                continue
            for opts in VARIANTS.get(name, [{}]):
                tag = ",".join(f"{k}={v}" for k, v in opts.items())
                out.append(
                    pytest.param(name, cid, opts, id=f"{name}-{cid}" + (f"-{tag}" if tag else ""))
                )
    return out


COMBOS = _combos()
CASE = {cid: (action, d) for cid, action, d in CASES}


def event_shape(action, d):
    return tuple(d if size is None else size for size in action.event_shape)


def sample(action, d, n, rng):
    return rng.normal(size=(n,) + event_shape(action, d))


# -- hard pairs --------------------------------------------------------------------------------
def _rotate_block(x, start, angle):
    a, b = x[..., start].copy(), x[..., start + 1].copy()
    x[..., start] = np.cos(angle) * a - np.sin(angle) * b
    x[..., start + 1] = np.sin(angle) * a + np.cos(angle) * b


def _shift_regular_frequency(x, start, N, k, angle):
    V = np.fft.fft(x[start : start + N])
    V[k] *= np.exp(1j * angle)
    V[(N - k) % N] = np.conj(V[k]) if (N - k) % N != k else V[k]
    x[start : start + N] = np.fft.ifft(V).real


def component_hard_pairs(action, rng):
    """For actions given only by components (O(2), D_N): each 2-D copy turned alone, each
    1-D non-trivial copy flipped alone — the other copies stay, so the orbit changes while
    norms, per-irrep Gram matrices and group pooling do not."""
    pairs = []
    x = rng.normal(size=action.dim)
    for comp in action.components():
        if comp.irrep.kind != "irrep" or comp.irrep.trivial:
            continue
        for sl in comp.copy_slices():
            y = x.copy()
            if comp.irrep.dim == 2:
                _rotate_block(y, sl.start, 1.3)
            else:
                y[sl.start] = -y[sl.start]
            pairs.append((x, y))
    return pairs


def planar_hard_pairs(action, rng):
    """Pairs of different orbits that lossy planar invariants cannot tell apart."""
    if not hasattr(action, "layout"):
        return component_hard_pairs(action, rng)
    pairs = []
    x = rng.normal(size=action.dim)
    blocks = action.blocks()
    freqs = sorted({k for kind, k, _, s in blocks if kind == "irrep" and s == 2})
    regular = [(start, size) for kind, _, start, size in blocks if kind == "regular"]
    if regular:
        freqs = sorted(set(freqs) | set(range(1, (regular[0][1] - 1) // 2 + 1)))
    for k in freqs:  # one whole frequency turned by 0.9 rad: power spectrum and norms blind
        y = x.copy()
        for kind, kk, start, size in blocks:
            if kind == "irrep" and size == 2 and kk == k:
                _rotate_block(y, start, 0.9)
        for start, N in regular:
            if k <= (N - 1) // 2:
                _shift_regular_frequency(y, start, N, k, 0.9)
        pairs.append((x, y))
    for kind, _, start, size in blocks:  # one block alone: norms blind
        y = x.copy()
        if kind == "irrep" and size == 2:
            _rotate_block(y, start, 1.3)
        elif kind == "irrep" and size == 1:
            y[start] = -y[start]
        else:
            y[start], y[start + 1] = y[start + 1], y[start]  # not a cyclic shift
        pairs.append((x, y))
    return pairs


def _orthogonal(n, rng, det=None):
    Q, R = np.linalg.qr(rng.normal(size=(n, n)))
    Q = Q * np.sign(np.diag(R))
    if det is not None and np.linalg.det(Q) * det < 0:
        Q[:, 0] = -Q[:, 0]
    return Q


def _turn_copies(x, action, rng, how):
    """``x`` with the copies of each group of :func:`copy_groups` moved by orthogonal maps
    that are not group elements: ``"copy"`` one per copy (norms blind), ``"group"`` one
    reflection per group (power spectrum blind), ``"first"`` per group a reflection fixing its
    first copy (power spectrum and first-copy bispectrum blind)."""
    y = x.copy()
    for (ell, _), starts in copy_groups(action):
        n = 2 * ell + 1
        if how == "group":
            Q = _orthogonal(n, rng, det=-1.0)
        elif how == "first" and n == 1:
            Q = np.eye(1)  # a pseudoscalar: only -1 moves it, which does not fix it
        elif how == "first":
            u = rng.normal(size=n)
            first = x[starts[0] : starts[0] + n]
            u -= first * (u @ first) / (first @ first)
            u /= np.linalg.norm(u)
            Q = np.eye(n) - 2 * np.outer(u, u)
        for s in starts:
            Qs = _orthogonal(n, rng) if how == "copy" else Q
            y[s : s + n] = Qs @ x[s : s + n]
    return y


def so3_bank_hard_pairs(action, rng):
    """Pairs that the SO(3) / O(3) invariants cannot tell apart (different orbits unless the
    exact distance says otherwise), plus the bank's pairs for this action."""
    x = rng.normal(size=action.dim)
    pairs = [(x, _turn_copies(x, action, rng, how)) for how in ("copy", "group", "first")]
    mirror = x.copy()  # each degree-l copy times (-1)^l: -I of O(3) on natural parity
    for c in action.components():
        if c.irrep.degree % 2:
            mirror[c.start : c.stop] *= -1
    pairs.append((x, mirror))
    pairs += [(p.x, p.y) for p in so3_hard_pairs() if p.action == action]
    return [(a, b) for a, b in pairs if not np.array_equal(a, b)]


def node_hard_pairs(n, d, rng):
    pairs = []
    X = rng.normal(size=(n, d))
    if d >= 2:  # the design brief's channel-sort collision, padded with random rows
        A = X.copy()
        A[:2, :2] = [[0.0, 0.0], [1.0, 1.0]]
        B = A.copy()
        B[:2, :2] = [[0.0, 1.0], [1.0, 0.0]]
        pairs.append((A, B))
        Y = X.copy()
        Y[[0, 1], 1] = Y[[1, 0], 1]  # swap one channel between two rows
        pairs.append((X, Y))
    Y = X.copy()
    Y[0] += 0.4
    Y[1] -= 0.4  # same sum and mean
    pairs.append((X, Y))
    Y = X.copy()
    Y[np.argmin(X, axis=0), np.arange(d)] -= 0.7  # same channel maxima
    pairs.append((X, Y))
    T = X.copy()
    T[1] = T[0]  # a repeated row (nontrivial stabiliser) against a nearby code
    pairs.append((T, T + 0.01 * rng.normal(size=T.shape)))
    return pairs


def product_hard_pairs(action, rng):
    """S_n × G: one node turned alone (per-node invariants are blind) and, for a trivial G,
    the permutation bank (the channel-sort collision, same sums, same maxima)."""
    n, d = action.event_shape
    G = action.feature_action
    if G.is_trivial:
        return node_hard_pairs(n, d, rng)
    X = rng.normal(size=(n, d))
    for h in G.sample(16, rng):
        Y = X.copy()
        Y[0] = np.asarray(G.act(h, X[0]))
        if np.linalg.norm(Y[0] - X[0]) > 0.5:
            break
    T = X.copy()
    T[2] = T[0]  # a repeated node (same type in the bank's cases) against a nearby code
    return [(X, Y), (T, T + 0.01 * rng.normal(size=T.shape))]


def finite_hard_pairs(action, rng):
    x = rng.normal(size=action.dim)
    M = action.matrix(action.elements())
    fixed = 0.5 * (x + M[1] @ x)  # fixed by the reflection M[1]
    return [(fixed, fixed + 0.01 * rng.normal(size=x.shape)), (fixed, M[2] @ fixed + 0.3)]


@functools.cache
def pair_bank(cid):
    """Hard pairs + random pairs + near pairs + same-orbit pairs, with exact distances."""
    action, d = CASE[cid]
    rng = np.random.default_rng(1)
    if isinstance(action, osp.Permutation):
        pairs = node_hard_pairs(action.n_nodes, d, rng)
    elif isinstance(action, osp.groups.Product):
        pairs = product_hard_pairs(action, rng)
    elif isinstance(action, osp.FiniteGroup):
        pairs = finite_hard_pairs(action, rng)
    elif is_3d(action):
        pairs = so3_bank_hard_pairs(action, rng)
    else:
        pairs = planar_hard_pairs(action, rng)
    X = sample(action, d, 16, rng)
    Y = sample(action, d, 16, rng)
    g = action.sample(16, rng)
    near = np.asarray(action.act(g, X + 0.05 * rng.normal(size=X.shape)))
    same = np.asarray(action.act(action.sample(4, rng), X[:4]))
    A = np.concatenate([np.stack([p[0] for p in pairs]), X, X, X[:4]])
    B = np.concatenate([np.stack([p[1] for p in pairs]), Y, near, same])
    D = np.asarray(quotient_distance(A, B, action, method="exhaustive"))
    return A, B, D


def fitted(name, cid, opts, seed=0):
    action, d = CASE[cid]
    imap = get_map(name)
    fit_opts, tr_opts = _split(imap, opts)
    X = sample(action, d, 12, np.random.default_rng(2))
    params = imap.fit(X, action, random_state=seed, **fit_opts)
    props = imap.properties(action, d=d, **opts)
    return imap, action, d, params, tr_opts, props


def features(imap, action, params, tr_opts, X):
    return np.asarray(imap.transform(X, action, params, **tr_opts))


def parametric_collisions(name, action, params, rng):
    """Colliding pairs built from the fitted parameters (maps below their separation bound)."""
    if name == "sorted_projections":
        A = params["directions"]  # (d, m)
        if A.shape[1] >= A.shape[0]:
            return []
        X = rng.normal(size=(action.n_nodes, A.shape[0]))
        Q, _ = np.linalg.qr(np.concatenate([A, rng.normal(size=(A.shape[0], A.shape[0]))], 1))
        b = Q[:, A.shape[1]]  # orthogonal to every direction
        return [(X, X + np.outer(rng.normal(size=action.n_nodes), b))]
    if name == "node_sorted_projections" and action.feature_action.is_trivial:
        A = params["directions"]  # (F, m); G trivial: the per-node invariants are the channels
        if A.shape[1] >= A.shape[0]:
            return []
        X = rng.normal(size=action.event_shape)
        Q, _ = np.linalg.qr(np.concatenate([A, rng.normal(size=(A.shape[0], A.shape[0]))], 1))
        return [(X, X + np.outer(rng.normal(size=action.n_nodes), Q[:, A.shape[1]]))]
    if name == "max_filter":
        T = params["templates"]
        if T.shape[0] != 1:
            return []
        x = T[0] + 0.3 * rng.normal(size=T[0].shape)
        w = T[0] + 0.3 * rng.normal(size=T[0].shape)
        fx = np.asarray(max_inner_product(T[0], x, action)[0])
        fw = np.asarray(max_inner_product(T[0], w, action)[0])
        return [(x, w * (fx / fw))]
    return []


# -- the checks --------------------------------------------------------------------------------
@pytest.mark.parametrize("name,cid,opts", COMBOS)
def test_output_shape_matches_declared_dim(name, cid, opts):
    imap, action, d, params, tr_opts, props = fitted(name, cid, opts)
    X = sample(action, d, 12, np.random.default_rng(3)).reshape((3, 4) + event_shape(action, d))
    F = features(imap, action, params, tr_opts, X)
    assert F.shape == (3, 4, props.output_dim)
    single = features(imap, action, params, tr_opts, X[0, 0])
    assert single.shape == (props.output_dim,)
    np.testing.assert_allclose(single, F[0, 0], atol=1e-10)
    assert props.to_dict()["output_dim"] == props.output_dim


@pytest.mark.parametrize("name,cid,opts", COMBOS)
def test_invariant_under_sampled_group_elements(name, cid, opts):
    imap, action, d, params, tr_opts, props = fitted(name, cid, opts)
    assert props.invariant
    rng = np.random.default_rng(4)
    X = sample(action, d, 20, rng)
    moved = np.asarray(action.act(action.sample(20, rng), X))
    F, G = (
        features(imap, action, params, tr_opts, X),
        features(imap, action, params, tr_opts, moved),
    )
    np.testing.assert_allclose(G, F, atol=1e-7, rtol=1e-7)


@pytest.mark.parametrize("name,cid,opts", COMBOS)
def test_torch_in_torch_out_same_values(name, cid, opts):
    torch = pytest.importorskip("torch")
    imap, action, d, params, tr_opts, _ = fitted(name, cid, opts)
    rng = np.random.default_rng(5)
    X = sample(action, d, 6, rng)
    moved = np.asarray(action.act(action.sample(6, rng), X))
    F = features(imap, action, params, tr_opts, X)
    T = imap.transform(torch.from_numpy(moved), action, params, **tr_opts)
    assert isinstance(T, torch.Tensor) and T.dtype == torch.float64
    np.testing.assert_allclose(T.numpy(), F, atol=1e-7, rtol=1e-7)
    T32 = imap.transform(torch.from_numpy(X).float(), action, params, **tr_opts)
    assert T32.dtype == torch.float32


@pytest.mark.parametrize("name,cid,opts", COMBOS)
def test_metric_declarations_against_exact_quotient_distance(name, cid, opts):
    imap, action, d, params, tr_opts, props = fitted(name, cid, opts)
    A, B, D = pair_bank(cid)
    fd = np.linalg.norm(
        features(imap, action, params, tr_opts, A) - features(imap, action, params, tr_opts, B),
        axis=-1,
    )
    tol = 1e-7 * (1 + D)
    if props.isometric:
        np.testing.assert_allclose(fd, D, atol=1e-6)
    else:  # the declaration is tight: some pair is distorted
        assert np.max(np.abs(fd - D)) > 1e-3
    if props.lipschitz is not None:
        assert np.all(fd <= props.lipschitz * D + tol), np.max(fd / np.maximum(D, 1e-12))
    if props.lower_lipschitz is not None:
        assert np.all(fd >= props.lower_lipschitz * D - tol), np.min(fd / np.maximum(D, 1e-12))


@pytest.mark.parametrize("name,cid,opts", COMBOS)
def test_separation_claims_on_hard_and_random_pairs(name, cid, opts):
    imap, action, d, params, tr_opts, props = fitted(name, cid, opts)
    A, B, D = pair_bank(cid)
    extra = parametric_collisions(name, action, params, np.random.default_rng(6))
    if extra:
        A2 = np.stack([p[0] for p in extra])
        B2 = np.stack([p[1] for p in extra])
        A, B = np.concatenate([A, A2]), np.concatenate([B, B2])
        D = np.concatenate([D, np.asarray(quotient_distance(A2, B2, action, method="exhaustive"))])
    fd = np.linalg.norm(
        features(imap, action, params, tr_opts, A) - features(imap, action, params, tr_opts, B),
        axis=-1,
    )
    different = D > 1e-2
    if props.separating in ("yes", "generic"):
        assert np.all(fd[different] > 1e-8), (
            fd[different].min(),
            D[different][fd[different].argmin()],
        )
    else:  # a lossy map: the bank shows a collision of two different orbits
        assert np.any(different & (fd < 1e-9 * (1 + D))), "no collision shown for a lossy map"


@pytest.mark.parametrize("name,cid,opts", COMBOS)
def test_cross_section_claims(name, cid, opts):
    imap, action, d, params, tr_opts, props = fitted(name, cid, opts)
    X = sample(action, d, 10, np.random.default_rng(7))
    F = features(imap, action, params, tr_opts, X)
    if props.cross_section:
        P = F.reshape(X.shape)
        # the SO(3) oracle's Newton polish leaves ~1e-8 in the rotation (so in the distance)
        atol = 1e-6 if is_3d(action) else 1e-8
        np.testing.assert_allclose(
            np.asarray(quotient_distance(P, X, action, method="exhaustive")), 0.0, atol=atol
        )
    elif not params and F.shape[-1] == int(np.prod(X.shape[1:])):
        # (parametric maps are exempt: sorted projections on d = 1 with the single direction
        # +1 happens to be sort, a cross-section the declaration cannot know about)
        dist = np.asarray(quotient_distance(F.reshape(X.shape), X, action, method="exhaustive"))
        assert np.max(dist) > 1e-6  # the declaration is tight


@pytest.mark.parametrize("name,cid,opts", COMBOS)
def test_continuity_claims(name, cid, opts):
    imap, action, d, params, tr_opts, props = fitted(name, cid, opts)
    if not props.continuous:
        pytest.skip("not declared continuous")
    rng = np.random.default_rng(8)
    X = sample(action, d, 10, rng)
    step = 1e-7 * rng.normal(size=X.shape)
    F = features(imap, action, params, tr_opts, X)
    G = features(imap, action, params, tr_opts, X + step)
    assert np.max(np.abs(F - G)) < 1e-4


@pytest.mark.parametrize("name,cid,opts", COMBOS)
def test_deterministic_under_a_seed(name, cid, opts):
    imap, action, d, params, tr_opts, _ = fitted(name, cid, opts, seed=11)
    _, _, _, again, _, _ = fitted(name, cid, opts, seed=11)
    assert params.keys() == again.keys()
    for key in params:
        np.testing.assert_array_equal(params[key], again[key])
    X = sample(action, d, 5, np.random.default_rng(9))
    np.testing.assert_array_equal(
        features(imap, action, params, tr_opts, X), features(imap, action, again, tr_opts, X)
    )
    if params and opts.get("reference") != "mean":
        _, _, _, other, _, _ = fitted(name, cid, opts, seed=12)
        assert any(not np.array_equal(params[k], other[k]) for k in params)


def test_every_map_is_exercised_and_every_case_has_maps():
    names = {p.values[0] for p in COMBOS}
    assert names == set(REGISTRY)
    for cid, action, d in CASES:
        assert available_methods(action, d=d), cid


# -- the SO(3) / O(3) bank of hard pairs against the declarations ---------------------------
# a name in HardPair.blind -> the (map, options) it stands for ("bispectrum": copies="all",
# hence also the first copies only)
BLIND = {
    "norms": [("norms", ())],
    "power_spectrum": [("power_spectrum", ())],
    "bispectrum(copies='first')": [("bispectrum", ())],
    "bispectrum": [("bispectrum", ()), ("bispectrum", (("copies", "all"),))],
}
SO3_MAPS = [
    ("norms", {}),
    ("power_spectrum", {}),
    ("bispectrum", {}),
    ("bispectrum", {"copies": "all"}),
]


@pytest.mark.parametrize("pair", so3_hard_pairs(), ids=lambda p: p.name)
@pytest.mark.parametrize("name,opts", SO3_MAPS, ids=lambda v: v if isinstance(v, str) else "")
def test_so3_hard_pairs_collide_exactly_where_the_declaration_is_lossy(pair, name, opts):
    imap = get_map(name)
    props = imap.properties(pair.action, **opts)
    fx, fy = (np.asarray(imap.transform(z, pair.action, {}, **opts)) for z in (pair.x, pair.y))
    fd = float(np.linalg.norm(fx - fy))
    D = float(np.asarray(quotient_distance(pair.x, pair.y, pair.action, method="exhaustive")))
    assert D > 1e-2  # different orbits, by the exact distance
    blind = {entry for b in pair.blind for entry in BLIND[b]}
    if (name, tuple(opts.items())) in blind:
        assert props.separating == "no", props.notes
        assert fd < 1e-9 * (1 + D)
    else:  # what the pair says tells them apart does
        assert fd > 1e-6
