"""Jurisdiction policies: the national baseline, the registry, and the building blocks of a policy.

* :class:`NationalBaseline` - the national rules (16号令, 安全生产法), each tagged with its source.
* :class:`Layer` - a jurisdiction's layer: it states only what its documents change (:func:`extend` adds to the
  parent's value); the registry composes the layers in force from the national baseline down, at resolve time.
* :class:`PolicyRegistry` - every version an engine knows; a new case resolves to the nearest policy up the
  administrative-division tree, an open case keeps the version it pinned. :func:`discover` loads installed
  policy packages (entry-point group ``hazardflow.policies``) when asked, never at import.
* :class:`FireSafetyRules` - the working-day limits of 《消防监督检查规定》 §19-22 for fire cases.
* :class:`~hazardflow.policies.migration.MigrationPlan` - move open cases to a new version: dry run, then
  audited events.
* :mod:`~hazardflow.policies.criteria` - the industry criteria lists (一行业一清单) as versioned data.
"""

from .base import ListingRule, Milestone, NationalBaseline, Permission, ReportingObligation, Rung, Separation, amend
from .criteria import NATIONAL_CRITERIA, CriteriaCatalog, CriteriaSet, Criterion
from .fire import FireSafetyRules
from .layers import Layer, extend
from .migration import MigrationPlan, MigrationReport, MigrationResult
from .registry import ENTRY_POINT_GROUP, PolicyRegistry, discover

__all__ = [
    "ENTRY_POINT_GROUP",
    "NATIONAL_CRITERIA",
    "CriteriaCatalog",
    "CriteriaSet",
    "Criterion",
    "FireSafetyRules",
    "Layer",
    "ListingRule",
    "MigrationPlan",
    "MigrationReport",
    "MigrationResult",
    "Milestone",
    "NationalBaseline",
    "Permission",
    "PolicyRegistry",
    "ReportingObligation",
    "Rung",
    "Separation",
    "amend",
    "discover",
    "extend",
]
