"""Peak memory of a run, known before anything is allocated (MODEL.md §8; issue 11).

The estimate is linear in the worker agents, measured on this code: world generation is the
peak (the draws of a worker's attributes are float64 temporaries next to the table, about
76 bytes per worker agent at 2 and 8 million), plus the interpreter with numba and the
compiled kernels (about 300 MB), the monthly records (steps x counties x metrics) and the
firm table (grown by doubling). ``scripts``/``experiments.bench`` report the measured peak
next to the estimate, so a drift shows.
"""

from __future__ import annotations

import os

from sim.codes import MONTHS_PER_YEAR
from sim.config import Config, ConfigError

BASE_BYTES = 300 * 2**20            # interpreter, numpy, numba and the compiled kernels
BYTES_PER_WORKER = 80               # generation peak per worker agent (measured 76)
BYTES_PER_FIRM = 2 * 2 * 170        # firm table (170 B a row), doubled on growth, and a copy
METRIC_COLUMNS = 40                 # monthly per-county records (float64), a safe bound


def estimate_peak_bytes(cfg: Config) -> int:
    """Peak resident memory of a run of ``cfg`` (bytes), before it starts."""
    w = cfg.world
    n_counties = w.n_origin + w.n_central + w.n_poverty
    persons = w.worker_agents * w.persons_per_agent
    density = max(w.firms_per_1000_persons_origin, w.firms_per_1000_persons_central,
                  w.firms_per_1000_persons_poverty)
    firms = 4 * density * persons / 1000.0  # initial firms, and entry over the run
    records = cfg.run.years * MONTHS_PER_YEAR * n_counties * METRIC_COLUMNS * 8
    return int(BASE_BYTES + BYTES_PER_WORKER * w.worker_agents + BYTES_PER_FIRM * firms
               + records)


def available_bytes() -> int | None:
    """Memory the system can give a new process now (``MemAvailable``), None if unknown."""
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        return None


def check_memory(cfg: Config, available: int | None = None) -> int:
    """Refuse a world that does not fit (one line: the estimate and the limit); return the
    estimate."""
    need = estimate_peak_bytes(cfg)
    limit = available_bytes() if available is None else available
    if limit is not None and need > limit:
        raise ConfigError(f"world.worker_agents = {cfg.world.worker_agents} needs about "
                          f"{need / 2**30:.1f} GiB at peak, more than the {limit / 2**30:.1f} "
                          "GiB available; lower world.worker_agents (raise "
                          "world.persons_per_agent to keep the population)")
    return need
