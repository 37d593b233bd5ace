"""Benchmark: wall time and worker-steps per second of the numba engine.

Runs each size once after a warm-up (compilation is cached on disk), in one process, so the
ratios between sizes are measured under the same machine load:

    python scripts/benchmark.py                 # default world at 1/2, 1 and 2 x its agents
    python scripts/benchmark.py --years 20 --scales 1
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sim.config import compose  # noqa: E402
from sim.engine import Simulation  # noqa: E402


def measure(world: str, years: int, agents: int | None) -> dict:
    overrides = [f"world={world}", f"run.years={years}"]
    if agents:
        overrides.append(f"world.worker_agents={agents}")
    cfg = compose(overrides)
    t0 = time.perf_counter()
    sim = Simulation(cfg)
    t1 = time.perf_counter()
    sim.run()
    t2 = time.perf_counter()
    worker_steps = sim.workers.n * sim.n_steps
    return {"world": world, "years": years, "worker_agents": sim.workers.n,
            "firms_created": sim.n_firms, "init_s": round(t1 - t0, 3),
            "run_s": round(t2 - t1, 3), "worker_steps_per_s": round(worker_steps / (t2 - t1)),
            "ns_per_worker_step": round(1e9 * (t2 - t1) / worker_steps, 2),
            "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--world", default="default")
    ap.add_argument("--years", type=int, default=20)
    ap.add_argument("--scales", type=float, nargs="+", default=[0.5, 1.0, 2.0])
    args = ap.parse_args()
    measure("teaching", 1, None)  # warm-up: load the kernels' compile cache
    base = compose([f"world={args.world}"]).world.worker_agents
    rows = [measure(args.world, args.years, int(base * s)) for s in args.scales]
    for row in rows:
        print(json.dumps(row))
    if len(rows) > 1:
        ref = rows[0]["ns_per_worker_step"]
        print("cost per worker-step relative to the smallest:",
              [round(r["ns_per_worker_step"] / ref, 2) for r in rows])


if __name__ == "__main__":
    main()
