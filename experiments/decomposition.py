"""Which of a reform government's choices carry the gap to a count government (issue 9,
item 2; MODEL.md §11.1)?

Arms, per seed, on one world (common random numbers): ``count`` (policy=baseline),
``reform`` (policy=kpi_reform), and ``count+retention``, ``count+packages`` (shares,
generosity and chain screening) and ``count+development`` (training and infrastructure):
count runs into which one dimension of the same seed's reform choices is replayed
(``Simulation(cfg, replay=(dimension, choices))``). Reports, per arm, the post-expiry exit
hazard (exits per firm-year in the 24 months after a package expires, poverty counties), poverty
local job-years and the share of spending on retention: mean and 95 % CI over seeds, and
each arm's paired difference from ``count`` as a share of the reform-count gap.

    python experiments/decomposition.py --seeds 10 --years 12 [--world default] [overrides]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from experiments.stats import mean_ci, paired_difference  # noqa: E402
from sim.decomposition import ARMS, arm_outcomes, run_arms  # noqa: E402

OUTCOMES = ("post_expiry_hazard_2y", "poverty_local_job_years", "retention_budget_share")


def decompose(world: str, seeds: int, years: int, extra: list[str]) -> pd.DataFrame:
    """One row per seed x arm with the outcomes."""
    rows = []
    for seed in range(seeds):
        overrides = [f"world={world}", f"run.years={years}", f"run.seed={seed}",
                     "run.progress=false", *extra]
        for arm, sim in run_arms(overrides).items():
            rows.append({"seed": seed, "arm": arm, **arm_outcomes(sim)})
    return pd.DataFrame(rows)


def report(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean and 95 % CI per arm, and the paired share of the reform-count gap."""
    out = []
    wide = {o: runs.pivot(index="seed", columns="arm", values=o) for o in OUTCOMES}
    for arm in ARMS:
        row = {"arm": arm}
        for o in OUTCOMES:
            ci = mean_ci(wide[o][arm])
            row[f"{o}_mean"] = ci["mean"]
            row[f"{o}_ci"] = f"[{ci['ci_low']:.4g}, {ci['ci_high']:.4g}]"
            if o != "retention_budget_share":
                d = paired_difference(wide[o][arm].to_dict(), wide[o]["count"].to_dict())
                row[f"{o}_diff_vs_count"] = d["diff_mean"]
                row[f"{o}_diff_ci"] = f"[{d['diff_ci_low']:.4g}, {d['diff_ci_high']:.4g}]"
                gap = (wide[o]["reform"] - wide[o]["count"]).mean()
                row[f"{o}_share_of_gap"] = ((wide[o][arm] - wide[o]["count"]).mean() / gap
                                            if gap != 0 else float("nan"))
        out.append(row)
    return pd.DataFrame(out)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--world", default="default")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--years", type=int, default=12)
    parser.add_argument("--out", type=Path, default=None, help="CSV of the per-seed runs")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides for every arm")
    args = parser.parse_args(argv)
    t0 = time.time()
    runs = decompose(args.world, args.seeds, args.years, args.overrides)
    if args.out is not None:
        runs.to_csv(args.out, index=False)
    pd.set_option("display.width", 200)
    pd.set_option("display.max_columns", 20)
    table = report(runs)
    print(table.T.to_string(header=False, float_format=lambda x: f"{x:.4g}"))
    print(f"{args.seeds} seeds, {args.world} world, {args.years} years, "
          f"{time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
