"""Shared fixtures: configs composed through Hydra exactly as the command line does."""

from __future__ import annotations

import copy
import functools

import pytest

from sim.config import compose
from sim.engine import Simulation


@functools.lru_cache(maxsize=64)
def _cached(overrides: tuple[str, ...]):
    return compose(list(overrides))


def make_config(*overrides: str):
    """A validated Config from Hydra overrides (a fresh copy each call)."""
    return copy.deepcopy(_cached(tuple(overrides)))


TEACHING = ("world=teaching",)


@functools.lru_cache(maxsize=16)
def _run(overrides: tuple[str, ...]) -> Simulation:
    sim = Simulation(make_config(*overrides))
    sim.run()
    return sim


def run_sim(*overrides: str) -> Simulation:
    """A finished run (cached per override tuple; treat as read-only)."""
    return _run(tuple(overrides))


@pytest.fixture
def teaching_config():
    return make_config(*TEACHING, "run.years=3")
