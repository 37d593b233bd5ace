"""Peak memory of a run, known before anything is allocated (MODEL.md §8; issue 11).

The estimate is linear in the worker agents, measured on this code: the worker table (its
registry's bytes per row), plus one byte per worker for the set-up's masks (a run allocates
nothing else per worker: world generation draws in chunks of ``sim.world.GENERATION_CHUNK``
workers, a fixed cost), the interpreter with numba and the compiled kernels (up to 500 MB
while compiling), the monthly records (steps x counties x metrics) and the firm table (grown
by doubling); the reference engine adds its Python agents.
``experiments.bench`` reports the measured peak next to the estimate, so a drift shows.
"""

from __future__ import annotations

import os

import numpy as np

from sim.codes import MONTHS_PER_YEAR
from sim.config import Config, ConfigError
from sim.state import WORKER_FIELDS
from sim.world import GENERATION_CHUNK

# The interpreter, numpy and numba with the compiled kernels; compiling them on an empty
# cache takes about 500 MB at its peak (measured), so the base allows for it.
BASE_BYTES = 512 * 2**20
WORKER_TABLE_BYTES = sum(np.dtype(f.dtype).itemsize for f in WORKER_FIELDS)
BYTES_PER_WORKER = WORKER_TABLE_BYTES + 1  # and a boolean mask at a time in the set-up
GENERATION_BYTES_PER_WORKER = 80   # float64 temporaries of a chunk of world generation
REFERENCE_BYTES_PER_WORKER = 1024  # the reference engine's Python agent (about 600 measured)
BYTES_PER_FIRM = 2 * 2 * 170        # firm table (170 B a row), doubled on growth, and a copy
METRIC_COLUMNS = 40                 # monthly per-county records (float64), a safe bound


def peak_parts(cfg: Config) -> dict[str, int]:
    """The estimate's parts (bytes): ``workers`` (with the interpreter and the firm table),
    growing with world.worker_agents, and ``records``, growing with run.years x counties."""
    w = cfg.world
    n_counties = w.n_origin + w.n_central + w.n_poverty
    persons = w.worker_agents * w.persons_per_agent
    density = max(w.firms_per_1000_persons_origin, w.firms_per_1000_persons_central,
                  w.firms_per_1000_persons_poverty)
    firms = 4 * density * persons / 1000.0  # initial firms, and entry over the run
    records = cfg.run.years * MONTHS_PER_YEAR * n_counties * METRIC_COLUMNS * 8
    generation = GENERATION_BYTES_PER_WORKER * min(w.worker_agents, GENERATION_CHUNK)
    per_worker = BYTES_PER_WORKER + (REFERENCE_BYTES_PER_WORKER if cfg.engine == "reference"
                                     else 0)
    return {"workers": int(BASE_BYTES + generation + per_worker * w.worker_agents
                           + BYTES_PER_FIRM * firms),
            "records": int(records)}


def estimate_peak_bytes(cfg: Config) -> int:
    """Peak resident memory of a run of ``cfg`` (bytes), before it starts."""
    return sum(peak_parts(cfg).values())


def _read_int(path: str) -> int | None:
    try:
        with open(path) as handle:
            text = handle.read().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None  # "max": no limit


def _limits() -> list[int]:
    """What a new allocation may use besides MemAvailable: a container's memory limit (cgroup
    v2 or v1) and the address-space limit (``ulimit -v``), each less what is in use."""
    limits = []
    for limit_file, usage_file in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                                   ("/sys/fs/cgroup/memory/memory.limit_in_bytes",
                                    "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        limit, usage = _read_int(limit_file), _read_int(usage_file)
        if limit is not None and usage is not None and limit < 2**60:
            limits.append(max(limit - usage, 0))
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_AS)[0]
        if soft != resource.RLIM_INFINITY:
            with open("/proc/self/statm") as handle:
                in_use = int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
            limits.append(max(soft - in_use, 0))
    except (ImportError, OSError, ValueError):
        pass
    return limits


def available_bytes() -> int | None:
    """Memory a run in this process can get now (bytes), None if unknown: the least of the
    system's ``MemAvailable``, a container's limit and ``ulimit -v``."""
    found = _limits()
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    found.append(int(line.split()[1]) * 1024)
                    break
    except OSError:
        pass
    if not found:
        try:
            found.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (ValueError, OSError):
            return None
    return min(found)


def check_memory(cfg: Config, available: int | None = None) -> int:
    """Refuse a run that does not fit (one line: the field that makes it big, the estimate and
    the limit); return the estimate."""
    parts = peak_parts(cfg)
    need = sum(parts.values())
    limit = available_bytes() if available is None else available
    if limit is not None and need > limit:
        sizes = f"needs about {need / 2**30:.1f} GiB at peak, more than the " \
                f"{limit / 2**30:.1f} GiB available"
        w = cfg.world
        if parts["records"] > parts["workers"]:
            n_counties = w.n_origin + w.n_central + w.n_poverty
            raise ConfigError(f"run.years = {cfg.run.years} with {n_counties} counties {sizes}"
                              " (monthly records); lower run.years or the counties")
        raise ConfigError(f"world.worker_agents = {w.worker_agents} {sizes}; lower "
                          "world.worker_agents (raise world.persons_per_agent to keep the "
                          "population)")
    return need
