"""Exact quotient distances and alignments."""

from orbitspace.quotient._api import (
    AlignResult,
    align,
    max_inner_product,
    pairwise_quotient_distances,
    quotient_distance,
    quotient_knn,
)
from orbitspace.quotient.exhaustive import max_inner_product_exhaustive

__all__ = [
    "AlignResult",
    "align",
    "max_inner_product",
    "max_inner_product_exhaustive",
    "pairwise_quotient_distances",
    "quotient_distance",
    "quotient_knn",
]
