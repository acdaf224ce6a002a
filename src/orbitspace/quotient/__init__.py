"""Exact quotient distances and alignments."""

from orbitspace.quotient._api import AlignResult, align, max_inner_product, quotient_distance
from orbitspace.quotient.exhaustive import max_inner_product_exhaustive
from orbitspace.quotient.pairwise import pairwise_quotient_distances, quotient_knn

__all__ = [
    "AlignResult",
    "align",
    "max_inner_product",
    "max_inner_product_exhaustive",
    "pairwise_quotient_distances",
    "quotient_distance",
    "quotient_knn",
]
