"""Sobol indices of the headline indicators, with the sample size doubled until they rank.

::

    python -m experiments.sensitivity [world=teaching] [--max-n 256] [--out DIR]

Inputs: the policy levers of ``experiments.design.DEFAULT_LEVERS`` and the estimated
parameters over their plausible ranges (``results/calibration/estimate.json``). Outputs: the
headline indicators of ``experiments.uncertainty.INDICATORS``. One Saltelli sample
(``SALib.sample.sobol``) of the largest base size is drawn; its first ``N (k + 2)`` rows are
the design of base size N (each base row's block depends on that row only), so N = 32, 64,
128, ... reuse every run made before. After each doubling the first-order and total indices
(``SALib.analyze.sobol``) and their 95 % bootstrap half-widths are computed; the analysis
stops at the first N whose largest total-index half-width is at most :data:`TIGHT` for every
indicator (then adjacent inputs whose totals differ by more than twice that are ranked), or at
``--max-n``. Writes ``sensitivity.csv`` (every N: output, input, S1, ST and half-widths) and
``sensitivity.md`` (the table at the final N, the N it took, whether it met the target) and
``runs.csv`` (every run's inputs and outputs). An output undefined in some runs (null in
``summary.json``) is reported as not analysed, never as zero indices.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.design import DEFAULT_LEVERS, make_design
from experiments.uncertainty import INDICATORS, run_indicators
from sim.atomic import atomic_write_bytes

ESTIMATE = Path("results") / "calibration" / "estimate.json"
OUT = Path("results") / "sensitivity"
TIGHT = 0.1  # largest acceptable 95 % half-width of a total index
FIRST_N = 32


def inputs(estimate_path: Path) -> dict[str, tuple[float, float]]:
    """Policy levers and the estimated parameters' plausible ranges (constant ones dropped)."""
    ranges = dict(DEFAULT_LEVERS)
    if estimate_path.exists():
        plausible = json.loads(estimate_path.read_text())["plausible_ranges"]
        ranges.update({k: (float(lo), float(hi)) for k, (lo, hi) in plausible.items()
                       if hi > lo})
    return ranges


def analyse(problem: dict, y: np.ndarray, n: int, seed: int) -> pd.DataFrame:
    """Indices of one output; NaN (and ``undefined`` > 0) when some runs left it undefined
    (e.g. no firm outlived its support in a small world): SALib would return zeros."""
    from SALib.analyze import sobol

    undefined = int((~np.isfinite(y)).sum())
    if undefined:
        nan = np.full(problem["num_vars"], np.nan)
        si = {"S1": nan, "S1_conf": nan, "ST": nan, "ST_conf": nan}
    else:
        si = sobol.analyze(problem, y, calc_second_order=False, seed=seed + 1)
    return pd.DataFrame({"input": problem["names"], "N": n, "S1": si["S1"],
                         "S1_conf": si["S1_conf"], "ST": si["ST"], "ST_conf": si["ST_conf"],
                         "undefined": undefined})


def run(base: list[str], ranges: dict, max_n: int, jobs: int, seed: int = 0,
        first_n: int = FIRST_N) -> tuple[pd.DataFrame, int, bool, pd.DataFrame]:
    """Sobol indices at N = first_n, 2 first_n, ... until tight or ``max_n``; every run of
    the smaller designs is reused. Common random numbers: every design point has the same
    seed, so the indices are about the inputs, not about seed noise."""
    design = make_design("sobol", ranges, max_n, seeds=1, sample_seed=seed)
    problem, x = design.problem, design.samples
    block = len(design.names) + 2
    results: list[dict] = []
    tables = []
    n = first_n
    with multiprocessing.get_context("spawn").Pool(jobs) as pool:
        while True:
            todo = [[*base, f"run.seed={seed}", *design.point_overrides(i)]
                    for i in range(len(results), n * block)]
            results += pool.map(run_indicators, todo, chunksize=1)
            frame = pd.DataFrame(results)
            table = pd.concat([analyse(problem, frame[k].to_numpy(dtype=float), n, seed)
                               .assign(output=k) for k in INDICATORS], ignore_index=True)
            tables.append(table)
            analysed = table[table.undefined == 0]
            tight = bool(len(analysed)) and bool((analysed.ST_conf <= TIGHT).all())
            print(f"N = {n}: {n * block} runs, largest ST half-width "
                  f"{table.ST_conf.max():.3f}", flush=True)
            runs = pd.DataFrame(x[:len(results)], columns=design.names).join(
                pd.DataFrame(results))
            if tight or n >= max_n:
                return pd.concat(tables, ignore_index=True), n, tight, runs
            n *= 2


def report(table: pd.DataFrame, n: int, tight: bool, base: list[str], runs: int) -> str:
    final = table[table.N == n].sort_values(["output", "ST"], ascending=[True, False])
    lines = ["# Sobol indices of the headline indicators", "",
             f"Command: `python -m experiments.sensitivity {' '.join(base)}`. Saltelli design, "
             f"N = {n} ({runs} runs, one seed per point: common random numbers); 95 % "
             "bootstrap half-widths. "
             + (f"Every total index's half-width is at most {TIGHT}: the inputs rank."
                if tight else f"Warning: some total-index half-widths exceed {TIGHT} at the "
                "largest N tried; rank only inputs whose intervals do not overlap."), ""]
    for output, rows in final.groupby("output", sort=False):
        lines += [f"## {output}", ""]
        if rows.undefined.iloc[0]:
            lines += [f"Not analysed: undefined in {rows.undefined.iloc[0]} of {runs} runs "
                      "(`summary.json` says why).", ""]
            continue
        lines += ["| input | S1 | ST |", "|---|---|---|"]
        lines += [f"| `{r.input}` | {r.S1:.3f} ± {r.S1_conf:.3f} | {r.ST:.3f} ± "
                  f"{r.ST_conf:.3f} |" for r in rows.itertuples()]
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("overrides", nargs="*", help="Hydra overrides of every run")
    ap.add_argument("--max-n", type=int, default=256, help="largest base size (power of 2)")
    ap.add_argument("--first-n", type=int, default=FIRST_N)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--estimate", type=Path, default=ESTIMATE)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    if args.max_n & (args.max_n - 1) or args.first_n & (args.first_n - 1):
        ap.error("--max-n and --first-n must be powers of 2 (Sobol sequence)")
    base = list(args.overrides) or ["world=teaching"]
    ranges = inputs(args.estimate)
    table, n, tight, runs = run(base, ranges, args.max_n, args.jobs, first_n=args.first_n)
    atomic_write_bytes(args.out / "sensitivity.csv",
                       table.to_csv(index=False, float_format="%.6g").encode())
    atomic_write_bytes(args.out / "runs.csv", runs.to_csv(index=False, float_format="%.8g")
                       .encode())
    text = report(table, n, tight, base, n * (len(ranges) + 2))
    atomic_write_bytes(args.out / "sensitivity.md", (text + "\n").encode())
    print(text)


if __name__ == "__main__":
    sys.exit(main())
