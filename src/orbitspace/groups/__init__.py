"""Group actions on latent codes: immutable value types, no arrays held."""

from orbitspace.groups._base import Action, VectorAction
from orbitspace.groups.cyclic import Cyclic
from orbitspace.groups.finite import FiniteGroup
from orbitspace.groups.parse import parse_action
from orbitspace.groups.permutation import Permutation, apply_node_mask, check_node_mask
from orbitspace.groups.so2 import SO2

__all__ = [
    "Action",
    "VectorAction",
    "SO2",
    "Cyclic",
    "Permutation",
    "FiniteGroup",
    "parse_action",
    "apply_node_mask",
    "check_node_mask",
]
