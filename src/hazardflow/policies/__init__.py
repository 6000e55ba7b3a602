"""Jurisdiction policies: the national baseline, the registry, and the building blocks of a policy."""

from .base import ListingRule, NationalBaseline, Permission, ReportingObligation, Rung, amend
from .registry import PolicyRegistry

__all__ = [
    "ListingRule",
    "NationalBaseline",
    "Permission",
    "PolicyRegistry",
    "ReportingObligation",
    "Rung",
    "amend",
]
