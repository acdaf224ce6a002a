"""Actions learned from data: a linear C_N action on the codes of a network that was not built
equivariant (e.g. trained with rotation augmentation).

>>> from orbitspace.learned import estimate_action
"""

from orbitspace.learned._decompose import FrequencyDecomposition, decompose_orthogonal
from orbitspace.learned._procrustes import orthogonal_procrustes, principal_subspace
from orbitspace.learned.action import (
    LearnedAction,
    estimate_action,
    frequency_content,
    relative_error,
)
from orbitspace.learned.orbits import OrbitAccumulator, OrbitStatistics, orbit_statistics

__all__ = [
    "LearnedAction",
    "estimate_action",
    "frequency_content",
    "FrequencyDecomposition",
    "decompose_orthogonal",
    "orthogonal_procrustes",
    "principal_subspace",
    "relative_error",
    "OrbitAccumulator",
    "OrbitStatistics",
    "orbit_statistics",
]
