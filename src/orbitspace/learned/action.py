"""Estimate a linear orthogonal C_N action on latent codes from rotated-input pairs.

A network trained with rotation augmentation is not built to be equivariant, but its codes of
``x`` and of the rotated ``g·x`` may still be related by a linear map.  :func:`estimate_action`
fits that map as an orthogonal matrix (Procrustes), measures how well it holds on held-out
images and how far it is from a representation of C_N (``‖ρ̂^N − I‖``), snaps it to the nearest
representation, and returns a :class:`LearnedAction`: a ``Cyclic`` action plus the change of
coordinates that puts raw codes into that action's basis, so every quotient tool of orbitspace
applies to ``learned.transform(Z)``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from orbitspace._array import ArrayLike, like
from orbitspace._validation import (
    OrbitspaceWarning,
    check_array,
    check_positive_int,
    check_random_state,
)
from orbitspace.groups import Cyclic
from orbitspace.learned._decompose import decompose_orthogonal
from orbitspace.learned._procrustes import orthogonal_procrustes, principal_subspace

__all__ = ["LearnedAction", "estimate_action", "frequency_content", "relative_error"]


def relative_error(pred: np.ndarray, target: np.ndarray) -> float:
    """``‖pred − target‖_F / ‖target‖_F`` over all rows together (0 when both vanish)."""
    den = float(np.linalg.norm(target))
    num = float(np.linalg.norm(pred - target))
    if den == 0.0:
        return 0.0 if num == 0.0 else float("inf")
    return num / den


@dataclass(frozen=True, eq=False)
class LearnedAction:
    """A C_N action learned on latent codes, with the coordinates it acts in.

    ``action`` acts on ``transform(Z) = (Z - mean) @ basis.T``; on raw codes the learned action
    is ``z ↦ mean + raw_matrix(g) (z - mean)`` (the identity on directions outside the kept
    principal subspace).

    Attributes
    ----------
    action : Cyclic
        The snapped action, irreps in increasing frequency.
    basis : array of shape (r, D)
        Orthonormal rows mapping centred raw codes to the action's coordinates.
    mean : array of shape (D,)
        The centre subtracted before ``basis`` (zeros when ``center=False``).
    generator : array of shape (r, r)
        The Procrustes estimate ρ̂(g) in the action's coordinates (before snapping).
    frequencies : dict
        Multiplicity of each frequency in the snapped action.
    angles, snapping_errors : arrays of shape (n_blocks,)
        Eigen-angle of ρ̂ per irrep copy and its distance to ``2πk/N`` (radians).
    homomorphism_error : float
        ``‖ρ̂^N − I‖`` (spectral norm; 0 for an exact representation, at most 2).
    homomorphism_error_rms : float
        ``‖ρ̂^N − I‖_F / sqrt(r)``: the same gap averaged over directions instead of the worst.
    equivariance_error : float
        Held-out ``‖ρ̂ u − u_g‖ / ‖u_g‖`` in the action's coordinates (Procrustes estimate).
    equivariance_error_snapped : float
        The same for the snapped action (the one returned).
    equivariance_error_raw : float
        Held-out relative error of the snapped action on raw centred codes, including the
        directions outside the principal subspace (on which it acts as the identity).
    invariance_error : float
        Held-out ``‖u − u_g‖ / ‖u_g‖``: the error of the trivial action (baseline).
    train_equivariance_error : float
        ``equivariance_error`` on the fitting pairs.
    explained_variance : float
        Fraction of the variance of the centred codes inside the principal subspace.
    """

    action: Cyclic
    basis: np.ndarray
    mean: np.ndarray
    generator: np.ndarray
    frequencies: dict[int, int]
    angles: np.ndarray
    snapping_errors: np.ndarray
    homomorphism_error: float
    homomorphism_error_rms: float
    equivariance_error: float
    equivariance_error_snapped: float
    equivariance_error_raw: float
    invariance_error: float
    train_equivariance_error: float
    explained_variance: float
    n_train_pairs: int
    n_test_pairs: int
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def N(self) -> int:
        return int(self.action.order)

    @property
    def dim(self) -> int:
        """Dimension of the action's coordinates (the principal subspace)."""
        return self.basis.shape[0]

    @property
    def input_dim(self) -> int:
        """Dimension of the raw codes."""
        return self.basis.shape[1]

    @property
    def max_snapping_error(self) -> float:
        return float(self.snapping_errors.max()) if self.snapping_errors.size else 0.0

    def _check_raw(self, Z: Any, name: str) -> np.ndarray:
        arr = check_array(Z, name)
        if arr.shape[-1] != self.input_dim:
            raise ValueError(
                f"the learned action was fitted on codes of dim {self.input_dim} but "
                f"{name}.shape[-1] is {arr.shape[-1]}"
            )
        return arr

    def transform(self, Z: ArrayLike) -> ArrayLike:
        """Raw codes ``(..., D)`` to the action's coordinates ``(..., r)``.

        Examples
        --------
        >>> import numpy as np
        >>> from orbitspace import Cyclic
        >>> rho = Cyclic(4, "1x0 + 1x1")
        >>> Z0 = np.random.default_rng(0).normal(size=(50, 3))
        >>> learned = estimate_action(Z0, rho.act(1, Z0), N=4, random_state=0)
        >>> learned.transform(Z0).shape
        (50, 3)
        """
        arr = self._check_raw(Z, "Z")
        return like((arr - self.mean) @ self.basis.T, Z)

    def inverse_transform(self, U: ArrayLike) -> ArrayLike:
        """Action coordinates ``(..., r)`` back to raw codes ``(..., D)`` (in the subspace)."""
        arr = check_array(U, "U")
        if arr.shape[-1] != self.dim:
            raise ValueError(f"the action has dim {self.dim} but U.shape[-1] is {arr.shape[-1]}")
        return like(arr @ self.basis + self.mean, U)

    def raw_matrix(self, g: Any = 1) -> np.ndarray:
        """The learned action of ``g`` on centred raw codes, shape ``(..., D, D)``."""
        M = self.action.matrix(g)
        B = self.basis
        return B.T @ M @ B + (np.eye(self.input_dim) - B.T @ B)

    def predict(self, Z: ArrayLike, g: Any = 1) -> ArrayLike:
        """The predicted code of the rotated input: ``mean + raw_matrix(g) (z − mean)``."""
        arr = self._check_raw(Z, "Z")
        centred = arr - self.mean
        M = self.raw_matrix(g)
        out = np.einsum("...ij,...j->...i", M, centred) + self.mean
        return like(out, Z)

    def evaluate(self, Z: ArrayLike, Z_rotated: ArrayLike, g: Any = 1) -> dict[str, float]:
        """Errors of the learned action on new pairs ``(f(x), f(g^k·x))`` with ``k = g``.

        Returns a dict with ``equivariance_error`` (snapped action, action coordinates),
        ``equivariance_error_raw`` (raw centred codes) and ``invariance_error`` (identity).
        """
        Z0 = self._check_raw(Z, "Z")
        Z1 = self._check_raw(Z_rotated, "Z_rotated")
        if Z0.shape != Z1.shape:
            raise ValueError(
                f"Z and Z_rotated must have the same shape; received {Z0.shape} and {Z1.shape}"
            )
        U0, U1 = (Z0 - self.mean) @ self.basis.T, (Z1 - self.mean) @ self.basis.T
        return {
            "equivariance_error": relative_error(self.action.act(g, U0), U1),
            "equivariance_error_raw": relative_error(
                np.asarray(self.predict(Z0, g)) - self.mean, Z1 - self.mean
            ),
            "invariance_error": relative_error(U0, U1),
        }

    def to_dict(self) -> dict[str, Any]:
        """Scalars and small lists for ``metrics.json`` (no matrices)."""
        return {
            "action": repr(self.action),
            "N": self.N,
            "dim": self.dim,
            "input_dim": self.input_dim,
            "frequencies": {str(k): int(m) for k, m in self.frequencies.items()},
            "homomorphism_error": self.homomorphism_error,
            "homomorphism_error_rms": self.homomorphism_error_rms,
            "equivariance_error": self.equivariance_error,
            "equivariance_error_snapped": self.equivariance_error_snapped,
            "equivariance_error_raw": self.equivariance_error_raw,
            "invariance_error": self.invariance_error,
            "train_equivariance_error": self.train_equivariance_error,
            "max_snapping_error": self.max_snapping_error,
            "rms_snapping_error": float(np.sqrt(np.mean(self.snapping_errors**2)))
            if self.snapping_errors.size
            else 0.0,
            "explained_variance": self.explained_variance,
            "n_train_pairs": self.n_train_pairs,
            "n_test_pairs": self.n_test_pairs,
            **self.extra,
        }

    def __repr__(self) -> str:
        return (
            f"LearnedAction({self.action!r}, input_dim={self.input_dim}, "
            f"equivariance_error={self.equivariance_error_snapped:.3g}, "
            f"homomorphism_error={self.homomorphism_error:.3g})"
        )


def _pairs(Z: Any, Z_rotated: Any, N: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (orbits, pair_index): orbits (n, m, D) and the (j, j+1) index pairs used."""
    if Z_rotated is not None:
        Z0 = check_array(Z, "Z", min_ndim=2)
        Z1 = check_array(Z_rotated, "Z_rotated", min_ndim=2)
        if Z0.ndim != 2 or Z0.shape != Z1.shape:
            raise ValueError(
                "Z and Z_rotated must both have shape (n_samples, dim); received "
                f"{Z0.shape} and {Z1.shape}"
            )
        return np.stack([Z0, Z1], axis=1), np.array([[0, 1]])
    orbits = check_array(Z, "Z", min_ndim=1)
    if orbits.ndim != 3:
        raise ValueError(
            "without Z_rotated, Z must have shape (n_samples, n_rotations, dim) holding the codes "
            f"of g^0 x, g^1 x, ...; received shape {orbits.shape}"
        )
    m = orbits.shape[1]
    if not 2 <= m <= N:
        raise ValueError(
            f"Z.shape[1] (consecutive rotations per sample) must be between 2 and N = {N}; "
            f"received {m}"
        )
    idx = [[j, j + 1] for j in range(m - 1)]
    if m == N:
        idx.append([N - 1, 0])
    return orbits, np.array(idx)


def _fixed_point_shift(R: np.ndarray, m0: np.ndarray, m1: np.ndarray, cutoff: float) -> np.ndarray:
    """Least-squares ``c`` with ``(I - R) c = m1 - R m0``, ignoring directions R nearly fixes."""
    A = np.eye(R.shape[0]) - R
    W, s, Vt = np.linalg.svd(A)
    keep = s > cutoff
    rhs = W.T @ (m1 - R @ m0)
    return Vt[keep].T @ (rhs[keep] / s[keep])


def estimate_action(
    Z: ArrayLike,
    Z_rotated: ArrayLike | None = None,
    *,
    N: int,
    n_components: int | float | None = None,
    center: bool = True,
    test_size: float = 0.25,
    random_state: Any = None,
) -> LearnedAction:
    """Learn an orthogonal C_N action on latent codes from codes of rotated inputs.

    Parameters
    ----------
    Z : array of shape (n_samples, D), or (n_samples, m, D)
        Codes ``f(x)``; or, without ``Z_rotated``, the codes ``f(g^j x)`` of each input at
        ``m >= 2`` consecutive powers ``j = 0..m-1`` of the generator (all consecutive pairs are
        used, and the pair ``(N-1, 0)`` too when ``m == N``).
    Z_rotated : array of shape (n_samples, D), optional
        Codes ``f(g x)`` of the inputs rotated by the generator (``2π/N``).
    N : int
        Order of the cyclic group.
    n_components : int, float or None
        Principal subspace the action is fitted in: an int keeps that many directions, a float
        the fewest explaining that fraction of the variance, None every direction of non-zero
        variance.  The action is the identity outside it.
    center : bool
        Subtract the mean code of the fitting samples first (an invariant offset, such as the
        positive mean of ReLU features, is then not counted as signal).
    test_size : float in [0, 1)
        Fraction of the samples (whole orbits) held out to measure the equivariance error.
    random_state : int, Generator or None
        Seeds the train / test split.

    Returns
    -------
    LearnedAction
        ``result.action`` (a :class:`~orbitspace.Cyclic`) acts on ``result.transform(Z)``.

    Examples
    --------
    >>> import numpy as np
    >>> from orbitspace import Cyclic
    >>> rho = Cyclic(8, "2x0 + 1x1 + 1x3")
    >>> rng = np.random.default_rng(0)
    >>> basis_change = np.linalg.qr(rng.normal(size=(6, 6)))[0]
    >>> U = rng.normal(size=(200, 6))
    >>> learned = estimate_action(U @ basis_change.T, rho.act(1, U) @ basis_change.T, N=8,
    ...                           random_state=0)
    >>> learned.action
    Cyclic(8, '2x0 + 1x1 + 1x3')
    >>> learned.equivariance_error_snapped < 1e-8
    True
    """
    N = check_positive_int(N, "N", minimum=2)
    if not 0.0 <= float(test_size) < 1.0:
        raise ValueError(f"test_size must be in [0, 1); received {test_size}")
    orbits, pair_idx = _pairs(Z, Z_rotated, N)
    n = orbits.shape[0]
    rng = check_random_state(random_state)
    n_test = int(round(test_size * n))
    if n - n_test < 2:
        raise ValueError(
            f"need at least 2 fitting samples; received {n} samples with test_size={test_size}"
        )
    perm = rng.permutation(n)
    test, train = perm[:n_test], perm[n_test:]

    used = np.unique(pair_idx)
    fit_codes = orbits[train][:, used].reshape(-1, orbits.shape[-1])
    mean = fit_codes.mean(axis=0) if center else np.zeros(orbits.shape[-1])
    P, explained = principal_subspace(fit_codes - mean, n_components)

    def coords(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        U = (orbits[rows] - mean) @ P.T  # (n_rows, m, r)
        return U[:, pair_idx[:, 0]].reshape(-1, P.shape[0]), U[:, pair_idx[:, 1]].reshape(
            -1, P.shape[0]
        )

    U0, U1 = coords(train)
    if center:
        # Affine Procrustes: v = R u + t with each side centred on its own mean.  The pooled mean
        # is a fixed point of the action for full orbits, not for unpaired codes, so the centre
        # moves by the c solving (I - R) c = t on the directions R does not (nearly) fix.
        m0, m1 = U0.mean(axis=0), U1.mean(axis=0)
        R = orthogonal_procrustes(U0 - m0, U1 - m1)
        c = _fixed_point_shift(R, m0, m1, np.sin(np.pi / (2 * N)))
        mean = mean + c @ P
        U0, U1 = U0 - c, U1 - c
    else:
        R = orthogonal_procrustes(U0, U1)
    dec = decompose_orthogonal(R, N)
    Q = dec.basis
    action = Cyclic(N, dec.rep)
    G = action.matrix(1)
    R_act = Q @ R @ Q.T

    eigs = np.linalg.eigvals(R)
    gaps = np.abs(eigs**N - 1.0)
    homomorphism_error = float(gaps.max()) if eigs.size else 0.0
    homomorphism_error_rms = float(np.sqrt(np.mean(gaps**2))) if eigs.size else 0.0
    basis = Q @ P

    V0, V1 = U0 @ Q.T, U1 @ Q.T
    train_err = relative_error(V0 @ R_act.T, V1)
    if n_test:
        T0, T1 = coords(test)
        T0, T1 = T0 @ Q.T, T1 @ Q.T
        eq = relative_error(T0 @ R_act.T, T1)
        eq_snap = relative_error(T0 @ G.T, T1)
        inv = relative_error(T0, T1)
        raw0 = orbits[test][:, pair_idx[:, 0]].reshape(-1, orbits.shape[-1]) - mean
        raw1 = orbits[test][:, pair_idx[:, 1]].reshape(-1, orbits.shape[-1]) - mean
        full = basis.T @ G @ basis + (np.eye(basis.shape[1]) - basis.T @ basis)
        eq_raw = relative_error(raw0 @ full.T, raw1)
    else:
        eq = eq_snap = inv = eq_raw = float("nan")

    freqs = {
        int(k): int(np.count_nonzero(dec.frequencies == k)) for k in np.unique(dec.frequencies)
    }
    result = LearnedAction(
        action=action,
        basis=basis,
        mean=mean,
        generator=R_act,
        frequencies=freqs,
        angles=dec.angles,
        snapping_errors=dec.snapping_errors,
        homomorphism_error=homomorphism_error,
        homomorphism_error_rms=homomorphism_error_rms,
        equivariance_error=eq,
        equivariance_error_snapped=eq_snap,
        equivariance_error_raw=eq_raw,
        invariance_error=inv,
        train_equivariance_error=train_err,
        explained_variance=float(explained.sum()),
        n_train_pairs=int(U0.shape[0]),
        n_test_pairs=int(n_test * len(pair_idx)),
    )
    if result.max_snapping_error > np.pi / (2 * N):
        warnings.warn(
            f"some eigen-angles of the estimated action lie more than π/(2N) from every "
            f"frequency 2πk/N (max {result.max_snapping_error:.3f} rad, N = {N}): the codes "
            f"are far from carrying a linear C_{N} action; the snapped action is a poor fit",
            OrbitspaceWarning,
            stacklevel=2,
        )
    return result


def frequency_content(action: Any, N: int) -> dict[int, int]:
    """Copies of each C_N irrep in a known planar action restricted to rotations by 2π/N.

    The frequency-k block rotates by ``2πk/N`` under the generator, which is the C_N frequency
    ``k mod N`` folded into ``0..N//2``; a 2-dimensional block that lands on 0 or N/2 counts as
    two 1-dimensional copies, as :func:`estimate_action` counts them.  A regular block of C_M
    holds each frequency ``0..M//2`` once.  The action is read through its typed
    :meth:`~orbitspace.groups.Action.components`.

    Parameters
    ----------
    action : Action
        A planar rotation action given by its irreps: SO(2), or C_M with ``M`` divisible by
        ``N`` (any action whose components are frequencies of SO(2) or C_M).
    N : int

    Examples
    --------
    >>> from orbitspace import Cyclic, SO2
    >>> frequency_content(Cyclic(8, "1xregular"), 4)
    {0: 2, 1: 2, 2: 2}
    >>> frequency_content(SO2("1x0 + 2x3"), 8)
    {0: 1, 3: 2}
    """
    N = check_positive_int(N, "N", minimum=2)
    components = action.components() if _is_planar(action) else None
    if components is None:
        raise TypeError(
            "frequency_content needs a planar rotation action given by its irreps (SO(2) or "
            f"C_M frequencies); received {action!r}"
        )
    if action.is_finite:
        M = int(action.order)
        if M % N:
            raise ValueError(f"{action!r} does not contain rotations by 2π/{N} (N must divide {M})")
    # the generator of C_N is the element M/N of C_M (or the angle 2π/N of SO(2)):
    # frequency k turns by 2πk/N
    blocks: list[tuple[int, int]] = []
    for comp in components:
        irrep = comp.irrep
        if irrep.kind == "regular":
            M = irrep.dim
            one = [(k, 1 if k == 0 or 2 * k == M else 2) for k in range(M // 2 + 1)]
            blocks += one * comp.multiplicity
        else:
            blocks += [(int(irrep.degree), irrep.dim)] * comp.multiplicity
    counts: dict[int, int] = {}
    for k, size in blocks:
        f = k % N
        f = min(f, N - f)
        copies = 2 if size == 2 and (f == 0 or 2 * f == N) else 1
        counts[f] = counts.get(f, 0) + copies
    return dict(sorted(counts.items()))


def _is_planar(action: Any) -> bool:
    """Whether ``action`` is a sum of irreps of SO(2) or C_M (frequencies, regular blocks)."""
    has = getattr(action, "has_components", None)
    if has is None or not has():
        return False
    return all(
        c.irrep.group == "SO(2)" or c.irrep.group.startswith("C_") for c in action.components()
    )
