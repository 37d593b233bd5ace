"""Memory known in advance: a world that does not fit is refused before any allocation, with
one line giving the estimate and the limit."""

from __future__ import annotations

import pytest

import sim.memory
from sim.cli import InputError, preflight
from sim.config import ConfigError
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
