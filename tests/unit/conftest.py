"""Fixtures for unit tests: a township world on the national baseline and one under a stricter county."""

from __future__ import annotations

import pytest

from hazard_world import StrictCounty, World, new_engine


@pytest.fixture
def world() -> World:
    engine, clock = new_engine()
    return World(engine, clock)


@pytest.fixture
def strict() -> World:
    """A world under :class:`hazard_world.StrictCounty` (two-level confirmation, listing, 重患必停, ...)."""
    engine, clock = new_engine([StrictCounty()])
    return World(engine, clock)
