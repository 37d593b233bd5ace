"""Choosing an engine: the numba ``Simulation`` or the per-agent ``ReferenceSimulation``."""

from __future__ import annotations

from sim.config import Config
from sim.engine import Simulation
from sim.world import World


def make_simulation(cfg: Config, world: World | None = None) -> Simulation:
    """The simulation for ``cfg.engine``: the numba engine or the per-agent reference."""
    if cfg.engine == "reference":
        # Deferred: the reference engine imports Mesa (slow to import), which numba runs
        # never need.
        from sim.reference import ReferenceSimulation

        return ReferenceSimulation(cfg, world)
    return Simulation(cfg, world)
