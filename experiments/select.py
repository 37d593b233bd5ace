"""Which industries should each kind of poverty county attract (遴选产业类型, MODEL.md §12.3)?

Measured rather than assumed. Per seed: the configured policy as it is (``baseline``) and one
*targeted arm* per firm-based industry i, in which every poverty county offers attraction
packages to industry i only (a selection table naming i for every poverty class,
``policy.selection=simulated``, ``policy.selection_top=1``). Central counties, the poverty
counties' competitors, keep the configured policy in every arm, as they do when the table
written here is used. Arms of a seed share the world and the exogenous draws (common random
numbers), so for each poverty county class k (``sim.development.county_classes``) and
industry i the differences arm - baseline are paired by seed:

- ``job_years_per_county``: additional poverty-alleviated person-years in local jobs per
  county of class k (its residents, over the run);
- ``survival_2y``: Kaplan-Meier survival 24 months after support ended of the industry-i firm
  spells in class-k counties of the arm (as the run summary's ``post_support_survival_2y``);
- ``package_spending_per_county``, ``spending_per_county``: additional package and total
  spending of the class-k county governments (yuan);
- ``cost_per_job_year``: additional total spending / additional job-years (Fieller interval,
  ``experiments.stats``; empty when the job-years do not rise).

Mean and 95 % interval over seeds. Industries are ranked within a class by
``job_years_per_county`` (rank 1 best). An arm targets industry i in all poverty classes at
once, so a class's effect includes its competition with the other classes for i's firms:
the effect of the whole table when it is used, not of one class choosing alone.

Outputs in ``--out`` (default ``results/select/<world>/``), each written atomically:
``selection.csv``, the table ``policy.selection=simulated policy.selection_table=...`` reads;
``comparison.csv``, per class the simulated top K (``policy.selection_top``) beside the
paper's rule of thumb (``policy.selection=rule``: the K industries it targets most often
among the class's counties over the seeds, and the share of them the simulation also ranks in
its top K); ``selection.png``, the heat map of ``job_years_per_county``.

Budget (15 minutes for the ``default`` world on 2 cores): one 20-year ``default``-world run
takes 3.1 s on one core, plus 0.4 s to compose and build (``Simulation(compose(
["world=default"])).run()``, measured with this command's first model version), so a seed
costs (1 baseline + 10 industries) x 3.4 s. Measured with 2 processes: 22 runs (2 seeds) in
38 s with both cores free; 220 runs (20 seeds) in 630-709 s while another job held about one
core. The default of 16 seeds (176 runs) at the world's own run length (20 years) therefore
takes about 5 minutes with both cores free and under 10 with one. ::

    python -m experiments.select [overrides, e.g. world=teaching run.years=12] [--seeds N]
        [--out DIR] [--jobs N]
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.colors import CenteredNorm

from experiments.stats import SHARE, mean_ci, ratio_of_paired_differences
from sim import style
from sim.atomic import atomic_write
from sim.cli import InputError, preflight
from sim.codes import DEVELOPMENT_TYPES, KINDS, MONTHS_PER_YEAR, POVERTY
from sim.config import compose
from sim.development import SELECTION_COLUMNS, ZONE_PRIORITY, county_classes
from sim.engine import METRICS
from sim.engines import make_simulation
from sim.jobs import code_version
from sim.results import events_frame, government_frame
from sim.survival import (
    post_support_spells,
    poverty_spells,
    retained_spells,
    survival_at,
)
from sim.world import generate

SEEDS = 16
JOBS = 2
OUT_ROOT = Path("results") / "select"
BASELINE = "baseline"
# Every class a poverty county can have (zone x core), so one arm table serves every seed's
# world; a class absent from a world targets nothing there.
POVERTY_CLASSES = tuple(f"{KINDS[POVERTY]}:{zone}:{core}"
                        for zone in (*(z.label for z in ZONE_PRIORITY), "none")
                        for core in ("core", "other"))
OUTCOMES = ("job_years", "package_spending", "spending")  # per class, summed over its counties


# --- one run ------------------------------------------------------------------------------

def write_arm_table(industry: str, path: Path) -> None:
    """The selection table of the arm that sends every poverty class's packages to
    ``industry`` only."""
    rows = pd.DataFrame({"county_class": POVERTY_CLASSES, "industry": industry, "rank": 1})
    atomic_write(path, lambda tmp: rows.to_csv(tmp, index=False))


def arm_overrides(arm: str, tables: Path) -> list[str]:
    """What an arm adds to the common overrides: nothing for the baseline."""
    if arm == BASELINE:
        return []
    return ["policy.selection=simulated", f"policy.selection_table='{tables / f'{arm}.csv'}'",
            "policy.selection_top=1"]


def run_job(job: tuple[int, str, list[str], str]) -> dict[str, list[dict]]:
    """One seed x arm, in a worker process: per poverty class, small rows of outcomes (the
    pool sends no simulation back); the baseline also records the rule of thumb's picks."""
    seed, arm, overrides, tables = job
    # One run per process: one kernel thread each (results do not depend on it).
    common = [*overrides, f"run.seed={seed}", "run.progress=false", "run.threads=1"]
    sim = make_simulation(compose([*common, *arm_overrides(arm, Path(tables))]))
    sim.run()
    picks = []
    if arm == BASELINE:  # the rule acts on the expectations at the start: no run needed
        picks = rule_picks(make_simulation(compose([*common, "policy.selection=rule"])))
    return {"outcomes": class_outcomes(sim, arm), "picks": picks}


def poverty_classes(sim) -> tuple[np.ndarray, list[str]]:
    """Each county's class, and the classes of the world's poverty counties."""
    classes = np.array(county_classes(sim.counties))
    return classes, sorted(str(c) for c in set(classes[sim.counties.kind == POVERTY]))


def class_outcomes(sim, arm: str) -> list[dict]:
    """Per poverty class: counties, poverty local job-years and spending summed over its
    counties; in a targeted arm, the post-support survival of the targeted industry there."""
    classes, present = poverty_classes(sim)
    m = sim.record.metrics[: sim.step_index, :, METRICS.index("poverty_pop_local_jobs")]
    job_years = m.sum(axis=0) * sim.world.persons_per_agent / MONTHS_PER_YEAR
    spent = (government_frame(sim, {}).groupby("county")[["spent_packages", "spent_total"]]
             .sum().reindex(range(sim.counties.n), fill_value=0.0))
    events = None if arm == BASELINE else events_frame(sim, {})
    rows = []
    for name in present:
        where = classes == name
        row = {"seed": sim.cfg.run.seed, "arm": arm, "county_class": name,
               "n_counties": int(where.sum()), "job_years": float(job_years[where].sum()),
               "package_spending": float(spent.spent_packages.to_numpy()[where].sum()),
               "spending": float(spent.spent_total.to_numpy()[where].sum())}
        if events is not None:
            row["survival_2y"], row["support_spells"] = support_survival(sim, events, where,
                                                                         arm)
        rows.append(row)
    return rows


def support_survival(sim, events: pd.DataFrame, where: np.ndarray,
                     industry: str) -> tuple[float, int]:
    """Survival 24 months after support ended of ``industry``'s packaged spells in the
    counties ``where``, and how many spells it rests on: the run summary's
    ``post_support_survival_2y`` (``sim.results``) restricted to those firms and counties,
    by marking only those counties as poverty counties for ``poverty_spells``."""
    kind = np.where(where, POVERTY, -1)
    spells = poverty_spells(events[events.industry == industry], kind, sim.step_index)
    offers = sim.expiries_array()
    offers = offers[offers[:, 3] == 1][:, :2]
    extension = np.where(retained_spells(spells, offers), int(sim.params.retention_months), 0)
    support = post_support_spells(spells, extension)
    return (survival_at(support.duration_months, support.exited, 24, support.running),
            len(support))


def rule_picks(sim) -> list[dict]:
    """Per poverty class and industry: how many of the class's counties the paper's rule of
    thumb targets it in (``state.targeted`` under ``policy.selection=rule``)."""
    classes, present = poverty_classes(sim)
    rows = []
    for name in present:
        where = classes == name
        picked = sim.state.targeted[where].sum(axis=0)
        rows += [{"seed": sim.cfg.run.seed, "county_class": name, "industry": industry,
                  "n_counties": int(where.sum()), "picked": float(picked[i])}
                 for i, industry in enumerate(sim.world.industry_names)]
    return rows


def run_all(jobs: list[tuple], processes: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every job, on ``processes`` worker processes; the rows come back in job order, so the
    results do not depend on the number of processes. Workers are spawned, not forked: each
    starts from a clean interpreter instead of a copy of the parent's Hydra state."""
    start = time.perf_counter()
    results = []
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        for done, result in enumerate(pool.imap(run_job, jobs), start=1):
            results.append(result)
            print(f"\r  {done}/{len(jobs)} runs, {time.perf_counter() - start:.0f} s",
                  end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    outcomes = pd.DataFrame([row for r in results for row in r["outcomes"]])
    picks = pd.DataFrame([row for r in results for row in r["picks"]])
    return outcomes, picks


# --- over seeds ---------------------------------------------------------------------------

def interval(prefix: str, ci: dict) -> dict:
    """``mean_ci``'s mean and interval as ``<prefix>_mean``, ``_lo`` and ``_hi``."""
    return {f"{prefix}_mean": ci["mean"], f"{prefix}_lo": ci["ci_low"],
            f"{prefix}_hi": ci["ci_high"]}


def selection_table(outcomes: pd.DataFrame, development: dict[str, str],
                    meta: dict) -> pd.DataFrame:
    """One row per poverty class x industry: the paired differences from the baseline per
    county over seeds, ranked within the class by additional job-years (rank 1 best)."""
    per_county = outcomes.assign(**{o: outcomes[o] / outcomes.n_counties for o in OUTCOMES})
    base = per_county[per_county.arm == BASELINE].set_index(["county_class", "seed"])
    rows = []
    for (name, industry), arm in per_county[per_county.arm != BASELINE].groupby(
            ["county_class", "arm"]):
        arm = arm.set_index("seed")
        b = base.loc[name].loc[arm.index]
        cost = ratio_of_paired_differences(arm.spending.to_dict(), b.spending.to_dict(),
                                           arm.job_years.to_dict(), b.job_years.to_dict())
        rows.append({
            "county_class": name, "industry": industry,
            "development_type": development[industry],
            "n_counties": float(arm.n_counties.mean()), "n_seeds": len(arm),
            **interval("job_years_per_county", mean_ci(arm.job_years - b.job_years)),
            **interval("survival_2y", mean_ci(arm.survival_2y, kind=SHARE)),
            "support_spells": float(arm.support_spells.mean()),
            **interval("package_spending_per_county",
                       mean_ci(arm.package_spending - b.package_spending)),
            **interval("spending_per_county", mean_ci(arm.spending - b.spending)),
            "cost_per_job_year_mean": cost["ratio"], "cost_per_job_year_lo": cost["ci_low"],
            "cost_per_job_year_hi": cost["ci_high"],
            "baseline_job_years_per_county": float(b.job_years.mean()),
            **meta})
    table = pd.DataFrame(rows).sort_values(
        ["county_class", "job_years_per_county_mean"], ascending=[True, False], kind="stable")
    table["rank"] = table.groupby("county_class").cumcount() + 1
    rest = [c for c in table.columns if c not in SELECTION_COLUMNS]
    return table[[*SELECTION_COLUMNS, *rest]].reset_index(drop=True)


def comparison_table(table: pd.DataFrame, picks: pd.DataFrame, k: int) -> pd.DataFrame:
    """Per class, the simulated top ``k`` beside the rule of thumb's: the ``k`` industries
    the rule targets in the largest share of the class's counties (over seeds), and the
    share of the rule's picks that the simulation also ranks in its top ``k``."""
    totals = picks.groupby(["county_class", "industry"], sort=False)[
        ["picked", "n_counties"]].sum()
    share = totals.picked / totals.n_counties
    rows = []
    for name, group in table.groupby("county_class"):
        simulated = list(group.sort_values("rank").industry[:k])
        ruled = share.loc[name]
        ruled = ruled[ruled > 0].sort_values(ascending=False, kind="stable")[:k]
        rows.append({"county_class": name, "n_counties": group.n_counties.iloc[0],
                     "simulated_top": "; ".join(simulated),
                     "rule_top": "; ".join(ruled.index),
                     "rule_share_of_counties": "; ".join(f"{v:.2f}" for v in ruled),
                     "overlap": (len(set(ruled.index) & set(simulated)) / len(ruled)
                                 if len(ruled) else float("nan"))})
    return pd.DataFrame(rows)


# --- outputs ------------------------------------------------------------------------------

def write_csv(df: pd.DataFrame, path: Path) -> None:
    atomic_write(path, lambda tmp: df.to_csv(tmp, index=False))


def heat_map(table: pd.DataFrame, industries: list[str], k: int, path: Path,
             title: str) -> None:
    """Additional job-years per county, class x industry, each cell labelled with its value
    and rank (the top ``k`` in bold); blue: more jobs than the baseline, red: fewer."""
    grid = table.pivot(index="county_class", columns="industry",
                       values="job_years_per_county_mean")[industries]
    ranks = table.pivot(index="county_class", columns="industry", values="rank")[industries]
    fig, axes = style.figure(1, 1, width=2.5 + 0.9 * len(industries),
                             height=1.5 + 0.45 * len(grid))
    ax = axes[0, 0]
    image = ax.imshow(grid.to_numpy(), cmap="RdBu", norm=CenteredNorm(), aspect="auto")
    for r, c in np.ndindex(grid.shape):
        value, rank = grid.iat[r, c], ranks.iat[r, c]
        if np.isfinite(value):
            ax.text(c, r, f"{value:+,.0f}\n#{rank:.0f}", ha="center", va="center", fontsize=7,
                    fontweight="bold" if rank <= k else "normal")
    ax.set_xticks(range(len(industries)), industries, rotation=40, ha="right", fontsize=8)
    ax.set_yticks(range(len(grid)), grid.index, fontsize=8)
    fig.colorbar(image, ax=ax, label="additional poverty-alleviated\nlocal job-years per county")
    ax.set_title(title, fontsize=9)
    style.save_png(fig, path, dpi=110)


def print_top(table: pd.DataFrame, n: int = 3) -> None:
    """The best ``n`` industries of each class with their intervals."""
    for name, group in table.groupby("county_class"):
        print(f"{name} ({group.n_counties.iloc[0]:.1f} counties a seed):")
        for row in group.sort_values("rank").head(n).itertuples():
            cost = (f"{row.cost_per_job_year_mean:,.0f} yuan/job-year"
                    if np.isfinite(row.cost_per_job_year_mean) else "cost undefined")
            print(f"  {row.rank}. {row.industry:<22} {row.job_years_per_county_mean:+9.1f} "
                  f"[{row.job_years_per_county_lo:.1f}, {row.job_years_per_county_hi:.1f}] "
                  f"job-years/county, survival 2y {row.survival_2y_mean:.2f}, {cost}")


# --- command line -------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    """``python -m experiments.select [overrides] [--seeds N] [--out DIR] [--jobs N]``."""
    parser = argparse.ArgumentParser(prog="python -m experiments.select",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("overrides", nargs="*", help="Hydra overrides for every run")
    parser.add_argument("--seeds", type=int, default=SEEDS,
                        help=f"seeds 0..N-1 (default {SEEDS})")
    parser.add_argument("--out", type=Path, default=None,
                        help=f"output folder (default {OUT_ROOT}/<world>/)")
    parser.add_argument("--jobs", type=int, default=JOBS,
                        help=f"worker processes (default {JOBS})")
    args = parser.parse_intermixed_args(argv)
    if args.seeds < 1 or args.jobs < 1:
        parser.error("--seeds and --jobs must be at least 1")
    if any(o.split("=", 1)[0] == "run.seed" for o in args.overrides):
        parser.error("run.seed is set by --seeds")
    try:
        preflight(args.overrides)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    start = time.perf_counter()
    cfg = compose(args.overrides)
    world = generate(cfg)
    industries = [name for name, firm_based in zip(world.industry_names,
                                                   world.industry.firm_based, strict=True)
                  if firm_based > 0]
    development = {name: DEVELOPMENT_TYPES[t] for name, t in zip(
        world.industry_names, world.industry.development_type, strict=True)}
    out = args.out if args.out is not None else OUT_ROOT / cfg.world.name
    k = cfg.policy.selection_top
    print(f"select: {args.seeds} seeds x (baseline + {len(industries)} industries) on the "
          f"{cfg.world.name} world, {cfg.run.years} years, {args.jobs} processes", flush=True)
    with tempfile.TemporaryDirectory(prefix="select-") as tables:
        for industry in industries:
            write_arm_table(industry, Path(tables) / f"{industry}.csv")
        jobs = [(seed, arm, args.overrides, tables) for seed in range(args.seeds)
                for arm in (BASELINE, *industries)]
        outcomes, picks = run_all(jobs, args.jobs)
    meta = {"seeds": args.seeds, "world": cfg.world.name, "years": cfg.run.years,
            "policy": cfg.policy.name, "selection_top": k,
            "overrides": " ".join(args.overrides), "code_version": code_version()}
    table = selection_table(outcomes, development, meta)
    write_csv(table, out / "selection.csv")
    write_csv(comparison_table(table, picks, k), out / "comparison.csv")
    heat_map(table, industries, k, out / "selection.png",
             f"Targeting one industry vs the baseline: {cfg.world.name} world, "
             f"{cfg.run.years} years, mean of {args.seeds} seeds (#rank within class)")
    print_top(table)
    print(f"select: {len(jobs)} runs in {time.perf_counter() - start:.0f} s wall time; "
          f"{out}/selection.csv, comparison.csv, selection.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
