"""Parameter uncertainty in the policy comparison (issue 12, item 5).

::

    python -m experiments.uncertainty [world=default] [--vectors 8] [--seeds 2]
        [--arms baseline kpi_reform special_fund_core] [--out DIR]

Reruns the policy comparison over ``--vectors`` parameter vectors drawn from the calibration's
plausible set (``results/calibration/plausible.csv``) x ``--seeds`` seeds: every arm sees the
same vectors and seeds (common random numbers), so each (vector, seed) gives a paired
difference arm - baseline. The interval of a difference is over the (vector, seed) pairs --
parameter uncertainty and seed noise together -- with the share of its variance that lies
between vectors (the parameter part). Writes ``uncertainty.csv`` and prints the table.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.stats import mean_ci
from sim.atomic import atomic_write_bytes

PLAUSIBLE = Path("results") / "calibration" / "plausible.csv"
INDICATORS = ("poverty_local_job_years", "post_support_survival_2y", "fiscal_cost_total")


def run_indicators(overrides: list[str]) -> dict:
    """The headline indicators of one run (a child process, one kernel thread)."""
    from sim.config import compose
    from sim.engine import Simulation
    from sim.results import events_frame, summary, timeseries_frame

    sim = Simulation(compose([*overrides, "run.threads=1", "run.progress=false"]))
    sim.run()
    result = summary(sim, timeseries_frame(sim, {}), events_frame(sim, {}))
    return {k: result[k] for k in INDICATORS}


def _run(job) -> dict:
    overrides, arm, vector, seed = job
    return run_indicators([*overrides, f"policy={arm}", f"run.seed={seed}", *vector])


def compare(overrides: list[str], arms: list[str], vectors: pd.DataFrame, seeds: int,
            jobs: int) -> pd.DataFrame:
    """Paired differences arm - first arm over (vector, seed), with the between-vector share
    of their variance."""
    records = vectors.to_dict("records")  # column dtypes kept: whole parameters stay ints
    tasks = [(overrides, arm, [f"{k}={v}" for k, v in row.items()], seed)
             for arm in arms for row in records for seed in range(seeds)]
    keys = [(arm, v_index, seed) for arm in arms for v_index in vectors.index
            for seed in range(seeds)]
    with multiprocessing.get_context("spawn").Pool(jobs) as pool:
        results = pool.map(_run, tasks, chunksize=1)
    runs = pd.DataFrame([{"arm": a, "vector": v, "seed": s, **r}
                         for (a, v, s), r in zip(keys, results, strict=True)])
    base = runs[runs.arm == arms[0]].set_index(["vector", "seed"])
    rows = []
    for arm in arms[1:]:
        other = runs[runs.arm == arm].set_index(["vector", "seed"])
        for name in INDICATORS:
            d = (other[name] - base[name]).dropna()
            n = len(d)
            ci = mean_ci(d.to_numpy())
            by_vector = d.groupby(level="vector").mean()
            share = (min(1.0, by_vector.var(ddof=1) / d.var(ddof=1))
                     if n > 1 and d.var(ddof=1) > 0 and len(by_vector) > 1 else np.nan)
            rows.append({"arm": arm, "against": arms[0], "indicator": name, "n": n,
                         "mean_difference": ci["mean"], "lo": ci["ci_low"],
                         "hi": ci["ci_high"], "between_vector_share": share,
                         "vectors": len(by_vector), "seeds": seeds})
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("overrides", nargs="*", help="Hydra overrides of every run")
    ap.add_argument("--vectors", type=int, default=8)
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--arms", nargs="+", default=["baseline", "kpi_reform",
                                                  "special_fund_core"])
    ap.add_argument("--plausible", type=Path, default=PLAUSIBLE)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", type=Path, default=Path("results") / "uncertainty")
    args = ap.parse_args(argv)
    plausible = pd.read_csv(args.plausible)
    vectors = plausible.sample(min(args.vectors, len(plausible)), random_state=0)
    table = compare(list(args.overrides), args.arms, vectors, args.seeds, args.jobs)
    atomic_write_bytes(args.out / "uncertainty.csv",
                       table.to_csv(index=False, float_format="%.6g").encode())
    print(table.to_string(index=False))


if __name__ == "__main__":
    sys.exit(main())
