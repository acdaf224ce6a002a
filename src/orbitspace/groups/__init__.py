"""Group actions on latent codes: immutable value types, no arrays held."""

from orbitspace.groups._base import Action, BlockAction, VectorAction
from orbitspace.groups._components import Component, Irrep
from orbitspace.groups._elements import ProductElement
from orbitspace.groups._registry import register_action, registered_actions
from orbitspace.groups.cyclic import Cyclic
from orbitspace.groups.dihedral import Dihedral
from orbitspace.groups.finite import FiniteGroup
from orbitspace.groups.o2 import O2
from orbitspace.groups.parse import parse_action
from orbitspace.groups.permutation import (
    Permutation,
    apply_node_mask,
    check_node_mask,
    sort_nodes_by_type,
)
from orbitspace.groups.product import Product
from orbitspace.groups.so2 import SO2
from orbitspace.groups.so3 import O3, SO3

__all__ = [
    "Action",
    "VectorAction",
    "BlockAction",
    "Component",
    "Irrep",
    "register_action",
    "registered_actions",
    "SO2",
    "SO3",
    "O3",
    "Cyclic",
    "O2",
    "Dihedral",
    "Permutation",
    "FiniteGroup",
    "parse_action",
    "Product",
    "ProductElement",
    "sort_nodes_by_type",
    "apply_node_mask",
    "check_node_mask",
]
