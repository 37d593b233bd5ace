"""Memory known in advance: a world that does not fit is refused before any allocation, with
one line giving the estimate and the limit."""

from __future__ import annotations

import resource
import subprocess
import sys
import time

import pytest

import sim.engine.simulation
import sim.memory
from sim.cli import InputError, preflight
from sim.config import ConfigError
from sim.engine import Simulation
from sim.memory import check_memory, estimate_peak_bytes
from tests.conftest import make_config


def test_estimate_grows_with_the_worker_agents():
    small = estimate_peak_bytes(make_config("world=national", "world.worker_agents=1000000"))
    large = estimate_peak_bytes(make_config("world=national", "world.worker_agents=9000000"))
    assert large - small >= 8e6 * sim.memory.BYTES_PER_WORKER


def test_a_world_that_does_not_fit_is_refused_in_one_line():
    cfg = make_config("world=national")
    need = check_memory(cfg, available=64 * 2**30)
    with pytest.raises(ConfigError) as info:
        check_memory(cfg, available=need - 1)
    message = str(info.value)
    assert "\n" not in message and "world.worker_agents" in message and "GiB" in message


def test_the_command_line_refuses_it_before_running(monkeypatch):
    monkeypatch.setattr(sim.memory, "available_bytes", lambda: 2**28)  # 256 MiB
    with pytest.raises(InputError, match="GiB available"):
        preflight(["world=national"])
    monkeypatch.setattr(sim.memory, "available_bytes", lambda: 2**40)
    preflight(["world=national"])


# --- issue 13: in-range sizes that ended in MemoryError after allocating several GB ------------

def test_two_hundred_million_workers_are_refused_under_an_address_space_limit(tmp_path):
    """``ulimit -v`` (or a container's limit) is what the run can have, not the host's RAM."""
    out = tmp_path / "run"

    def limit_memory():
        resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))

    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "sim", "world=teaching",
                           "world.worker_agents=200000000", f"hydra.run.dir={out}"],
                          capture_output=True, text=True, timeout=120, preexec_fn=limit_memory)
    assert proc.returncode == 2, proc.stderr[-500:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: world.worker_agents = 200000000")
    assert "GiB available" in lines[0]
    assert not out.exists()
    assert time.perf_counter() - start < 60  # refused up front, nothing generated


def test_long_runs_are_refused_for_their_records_before_allocating(monkeypatch):
    cfg = make_config("world=default", "run.years=200")
    parts = sim.memory.peak_parts(cfg)
    assert parts["records"] > parts["workers"]  # 200 y x 12 months x 1,332 counties
    monkeypatch.setattr(sim.memory, "available_bytes", lambda: parts["records"])
    with pytest.raises(InputError) as info:
        preflight(["run.years=200"])
    assert str(info.value).startswith("run.years = 200 with 1332 counties needs about")

    def generate(*args, **kwargs):
        raise AssertionError("allocated the world before checking memory")

    monkeypatch.setattr(sim.engine.simulation, "generate", generate)
    with pytest.raises(ConfigError, match="run.years = 200"):
        Simulation(cfg)


def test_steps_per_year_is_not_a_setting():
    """One step is one month (sim.codes.MONTHS_PER_YEAR): the reproducer's
    ``run.steps_per_year=365`` names no field and is refused in one line."""
    with pytest.raises(InputError, match="steps_per_year") as info:
        preflight(["run.years=200", "run.steps_per_year=365"])
    assert "\n" not in str(info.value)


def test_available_memory_takes_the_address_space_limit(monkeypatch):
    monkeypatch.setattr(sim.memory, "_limits", lambda: [2**20])
    assert sim.memory.available_bytes() == 2**20
