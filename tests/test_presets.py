"""Every preset of every config group runs on the default world (and each world preset runs)."""

from __future__ import annotations

import numpy as np
import pytest

from sim.config import presets
from sim.engine import Simulation
from tests.conftest import make_config


def _run(*overrides: str, steps: int) -> Simulation:
    sim = Simulation(make_config(*overrides))
    for _ in range(steps):
        sim.step()
    return sim


@pytest.mark.parametrize("group", ["policy", "shock"])
def test_policy_and_shock_presets_run_on_the_default_world(group):
    for name in presets(group):
        sim = _run(f"{group}={name}", "run.years=1", steps=12)
        row = sim.record.metrics[11]
        assert row.sum() > 0
        assert np.all(np.isfinite(row)), name


@pytest.mark.parametrize("world", presets("world"))
def test_world_presets_run(world):
    sim = _run(f"world={world}", "run.years=1", steps=2)
    assert sim.workers.n == sim.cfg.world.worker_agents
    assert sim.n_firms > 0
