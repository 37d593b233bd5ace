"""Every preset of every config group runs on the default world (and each world preset runs)."""

from __future__ import annotations

import numpy as np
import pytest

from sim.config import presets
from sim.engine import Simulation
from sim.memory import estimate_peak_bytes
from sim.world import REAL_RURAL_LABOR
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


# The whole country person by person needs ~9 GiB and minutes: the benchmark runs it
# (python -m experiments.bench --full-country); here its shape and its memory estimate.
FULL_COUNTRY = "national_full"


@pytest.mark.parametrize("world", [w for w in presets("world") if w != FULL_COUNTRY])
def test_world_presets_run(world):
    sim = _run(f"world={world}", "run.years=1", steps=2)
    assert sim.workers.n == sim.cfg.world.worker_agents
    assert sim.n_firms > 0


def test_the_whole_country_is_one_person_per_agent_and_fits_in_16_gib():
    cfg = make_config(f"world={FULL_COUNTRY}")
    national = make_config("world=national")
    assert cfg.world.persons_per_agent == 1
    persons = cfg.world.worker_agents * cfg.world.persons_per_agent
    assert persons == pytest.approx(REAL_RURAL_LABOR, rel=0.01)
    assert persons == national.world.worker_agents * national.world.persons_per_agent
    assert cfg.world.n_poverty == 832
    assert estimate_peak_bytes(cfg) < 16 * 2**30
    # The same world at a thousandth of its agents runs (same counties, one person each).
    sim = _run(f"world={FULL_COUNTRY}", "world.worker_agents=300000", "run.years=1", steps=2)
    assert sim.workers.n == 300_000 and sim.n_firms > 0
