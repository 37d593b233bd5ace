"""Same answers on any number of threads: the parallel kernels split the workers by county
and every draw is counter-based, so a run is bit-identical with 1, 2 or 4 threads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numba
import numpy as np

from sim.codes import LOCAL
from sim.engine import Simulation
from sim.engine.simulation import kernel_threads
from tests.conftest import make_config

REPO = Path(__file__).resolve().parent.parent
CASE = ("world=teaching", "run.years=4", "policy=paper_strategy", "shock=export_2022")


def _fingerprint(sim: Simulation) -> dict:
    events = sim.events_array()
    return {
        "workers": {k: np.asarray(v).tolist() for k, v in sim.workers.arrays().items()},
        "metrics": sim.record.metrics.tobytes().hex(),
        "events": {k: np.asarray(v).tolist() for k, v in events.items()},
        "cash": sim.firms.cash[: sim.n_firms].tobytes().hex(),
    }


def _run(threads: int) -> dict:
    sim = Simulation(make_config(*CASE, f"run.threads={threads}"))
    sim.run()
    assert numba.get_num_threads() == min(threads, numba.config.NUMBA_NUM_THREADS)
    return _fingerprint(sim)


def test_runs_are_identical_on_one_and_two_threads():
    assert _run(1) == _run(2)


def test_runs_are_identical_on_four_threads():
    # numba's thread pool is sized at import: a fresh interpreter with 4 threads.
    script = ("import json, sys; sys.path.insert(0, sys.argv[1]);"
              "from tests.test_threads import _run; print(json.dumps(_run(4)))")
    env = dict(os.environ, NUMBA_NUM_THREADS="4")
    out = subprocess.run([sys.executable, "-c", script, str(REPO)], env=env, cwd=REPO,
                         capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == json.loads(json.dumps(_run(1)))


def test_a_local_job_is_in_the_home_county():
    # What makes the per-county split of the worker loops race-free.
    sim = Simulation(make_config(*CASE))
    for _ in range(36):
        sim.step()
        w = sim.workers
        local = w.status == LOCAL
        assert np.array_equal(sim.firms.county[w.employer[local]], w.home_county[local])


def test_thread_choice():
    pool = numba.config.NUMBA_NUM_THREADS
    assert kernel_threads(1, 10**7) == 1
    assert kernel_threads(0, 1000) == 1
    assert kernel_threads(0, 10**6) == pool
    assert kernel_threads(64, 10) == min(64, pool)
