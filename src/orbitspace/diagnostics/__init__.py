"""Diagnostics of invariant representations: invariance error, distortion against the exact
quotient distance, and cross-validated probes.

>>> import numpy as np
>>> from orbitspace import Permutation
>>> from orbitspace.diagnostics import invariance_error
>>> X = np.random.default_rng(0).normal(size=(10, 4, 1))
>>> invariance_error(lambda Z: np.sort(Z[..., 0], axis=1), X, Permutation(4)).max_abs
0.0
"""

from orbitspace.diagnostics.distortion import Distortion, distortion
from orbitspace.diagnostics.invariance import InvarianceError, invariance_error
from orbitspace.diagnostics.probes import ProbeResult, probe

__all__ = [
    "InvarianceError",
    "invariance_error",
    "Distortion",
    "distortion",
    "ProbeResult",
    "probe",
]
