"""``report.html`` of a sweep: the analyst's page, written by every aggregation.

One self-contained, offline page (``sim.report``: Jinja2 template, Styler tables, embedded
PNGs) with, in order:

1. warnings: too few seeds for intervals (``experiments.stats.seed_warning``), unstable
   sensitivity indices (``index_warning``), the aggregation's notes;
2. the comparison: per scenario and arm, mean [95 % CI] of the headline indicators, the
   difference from ``baseline`` paired by seed [95 % CI], the marginal cost; the equal-budget
   view (frontier) and the shock paths;
3. a forest plot of the differences from baseline;
4. firm survival: Kaplan-Meier by arm with the package-expiry marker and the numbers at risk;
   hazard by firm age as small multiples;
5. poverty-alleviated local jobs over time with bands, shock windows shaded, and the
   difference from baseline;
6. results cut by zone (job-years of residents of each zone) and by county kind (job-years of
   poverty-alleviated persons working in poverty, central and origin counties);
7. the county governments' spending choices by use;
8. a schematic county map of one run's world.

Figures that the aggregation already wrote (``km_survival.png`` ...) are embedded as they
are, so the page and the PNGs never disagree.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from experiments.aggregate import (
    BASELINE_ARM,
    FRONTIER_TITLE,
    HEADLINE,
    MARGINAL_LABEL,
    SHOCK_TITLE,
    SweepAggregate,
    _fmt_ci,
    _headline_parts,
    compare,
    frontier_view,
    shock_view,
)
from experiments.figures import _panels, _title, arm_order
from experiments.stats import COUNT, MIN_SEEDS_FOR_INTERVAL, seed_warning
from sim import style
from sim.codes import KINDS, MONTHS_PER_YEAR, ZONES
from sim.plots import SPENDING_USES, counties_frame, county_map, spending_panel
from sim.report import REPORT, FigureItem, Section, write_report

ZONE_METRICS = {f"poverty_local_job_years_{z}": (z.replace("_", " "), 1.0) for z in ZONES}
KIND_METRICS = {f"poverty_local_job_years_in_{k}": (f"in {k} counties", 1.0) for k in KINDS}
SWEEP_FIGURES = {
    "km_survival.png": ("Kaplan-Meier survival by arm",
                        "Firms that entered (or moved into) a poverty county, spells pooled over "
                        "seeds, 95 % band; the dotted line marks where packages expire; the "
                        "numbers at risk are below each panel."),
    "hazard_by_age.png": ("Exit hazard by firm age",
                          "One panel per arm: exits per firm-year at risk while in a poverty "
                          "county, as an annual probability with an exact 95 % band; dashed: "
                          "the SAIC 2013 hazard of Chinese firms."),
    "poverty_local_jobs.png": ("Poverty-alleviated persons in local jobs",
                               "Top: mean over seeds with its 95 % band; bottom: each arm "
                               "minus baseline, paired by seed. Shock windows shaded."),
    "frontier.png": ("Cost and effect",
                     "Total public spending against poverty-alleviated local job-years, one "
                     "point per arm (95 % whiskers); filled and joined: the efficient "
                     "frontier."),
    "shock_path.png": ("The shock's path",
                       "Poverty-alleviated local jobs under the shock minus the same arm and "
                       "seed without it; mean of the paired differences and its 95 % band."),
}


# --- the comparison ----------------------------------------------------------------------------

def forest_figure(comparison: pd.DataFrame, design: list[str], metrics: dict,
                  ncols: int = 3):
    """Differences from baseline (paired by seed, 95 % CI) of ``metrics`` (metric -> (label,
    divisor)), one panel per metric, one row per non-baseline arm and scenario, a line at 0.
    Returns the figure, or None when no arm has a baseline to differ from."""
    rows = comparison[comparison.metric.isin(list(metrics)) & (comparison.n_pairs > 0)]
    if rows.empty:
        return None
    scenario = [c for c in design if c != "policy" and comparison[c].nunique(dropna=False) > 1]
    arms = [a for a in arm_order(comparison) if a != BASELINE_ARM]
    styles = style.arm_styles([BASELINE_ARM, *arms])
    keys = rows[scenario].drop_duplicates() if scenario else pd.DataFrame(index=[0])
    labels = []
    for _, k in keys.iterrows():
        for arm in arms:
            labels.append((arm, tuple(k[c] for c in scenario)))
    shown = [m for m in metrics if (rows.metric == m).any()]
    fig, axes = style.panel_grid(len(shown), ncols=ncols, width=3.6,
                                 height=1.4 + 0.3 * len(labels), sharey=True)
    markers = ("o", "s", "^", "D")
    for ax, metric in zip(axes, shown, strict=False):
        label, scale = metrics[metric]
        ax.axvline(0, color=style.REFERENCE, lw=0.8)
        sub = rows[rows.metric == metric]
        for y, (arm, key) in enumerate(labels):
            match = sub.policy == arm
            for c, v in zip(scenario, key, strict=True):
                match &= sub[c].astype(str) == str(v)
            if not match.any():
                continue
            r = sub[match].iloc[0]
            si = list(keys.itertuples(index=False)).index(tuple(key)) if scenario else 0
            xerr = None
            if r.n_pairs >= MIN_SEEDS_FOR_INTERVAL and np.isfinite(r.diff_ci_low):
                xerr = [[(r.diff_mean - r.diff_ci_low) / scale],
                        [(r.diff_ci_high - r.diff_mean) / scale]]
            ax.errorbar(r.diff_mean / scale, y, xerr=xerr, fmt=markers[si % len(markers)],
                        color=styles[arm]["color"], ms=5, capsize=2,
                        mfc=styles[arm]["color"] if si == 0 else "white")
        ax.set_title(label, fontsize=9)
        ax.set_yticks(range(len(labels)),
                      [a if not scenario else f"{a} ({', '.join(map(str, k))})"
                       for a, k in labels])
        ax.set_ylim(len(labels) - 0.5, -0.5)  # first row on top (axes share y: set, not flip)
    for ax in axes:
        ax.tick_params(axis="y", labelsize=7)
    return fig


def _comparison_section(result: SweepAggregate, table: pd.DataFrame, frontier: pd.DataFrame,
                        warnings: list[str]) -> Section:
    section = Section("The comparison", warnings=warnings,
                      intro="Per scenario and policy arm: the mean over seeds and its 95 % "
                            "interval (shares: Wilson-type, counts: log scale, so both stay "
                            "in range), and the difference from the baseline arm under the "
                            "same scenario, paired by seed (every arm sees the same world and "
                            "draws for a seed).")
    if not table.empty:
        keys, levels, diffs = _headline_parts(table)
        section.table("Mean [95 % CI] over seeds", table[keys + ["n"] + levels])
        if (table[diffs] != "—").any().any():
            section.table("Difference from the baseline arm, paired by seed [95 % CI]",
                          table[keys + diffs],
                          caption=f"{MARGINAL_LABEL}: mean paired Δ spending / mean paired Δ "
                                  "job-years (Fieller interval); n/a when the arm adds none.")
    view = frontier_view(frontier)
    if not view.empty:
        section.table("Equal-budget comparison", view, caption=FRONTIER_TITLE)
    shocks = shock_view(result.comparison)
    if not shocks.empty:
        section.table("Shock paths", shocks, caption=SHOCK_TITLE)
    return section


# --- cuts by zone and county kind -------------------------------------------------------------

def kind_job_years(job_dir: Path) -> dict:
    """Poverty-alleviated local job-years of one run by the kind of county the jobs are in."""
    ts = pd.read_parquet(Path(job_dir) / "timeseries.parquet",
                         columns=["kind", "poverty_pop_local_jobs"])
    by_kind = ts.groupby(ts.kind.astype(str)).poverty_pop_local_jobs.sum() / MONTHS_PER_YEAR
    return {m: float(by_kind.get(k, 0.0)) for m, k in zip(KIND_METRICS, KINDS, strict=True)}


def cut_table(comparison: pd.DataFrame, design: list[str], metrics: dict) -> pd.DataFrame:
    """Per scenario and arm: mean [95 % CI] and Δ from baseline of each of ``metrics``."""
    scenario = [c for c in design if c != "policy" and comparison[c].nunique(dropna=False) > 1]
    rows = []
    sub = comparison[comparison.metric.isin(list(metrics))]
    for key, g in sub.groupby([*scenario, "policy"], sort=False, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        row = dict(zip([*scenario, "policy"], key, strict=True))
        for metric, (label, scale) in metrics.items():
            r = g[g.metric == metric]
            if r.empty:
                continue
            r = r.iloc[0]
            row[label] = _fmt_ci("{:,.0f}", r["mean"], r.ci_low, r.ci_high, n=int(r.n),
                                 scale=scale)
            if r.n_pairs > 0:
                row[f"Δ {label}"] = _fmt_ci("{:,.0f}", r.diff_mean, r.diff_ci_low,
                                            r.diff_ci_high, signed=True, n=int(r.n_pairs),
                                            scale=scale)
        rows.append(row)
    return pd.DataFrame(rows).fillna("—")


def _cuts_section(result: SweepAggregate) -> Section:
    section = Section("By zone and county kind",
                      intro="Poverty-alleviated local job-years over the run of residents of "
                            "each of the paper's zones (a county may be in several), and by "
                            "the kind of county the jobs are in.")
    comparison, design = result.comparison, result.design_columns
    if any(m in set(comparison.metric) for m in ZONE_METRICS):
        section.table("By zone", cut_table(comparison, design, ZONE_METRICS))
        fig = forest_figure(comparison, design, ZONE_METRICS, ncols=3)
        if fig is not None:
            section.figure("Differences from baseline by zone", fig,
                           "Paired by seed, 95 % CI (whiskers shown from "
                           f"{MIN_SEEDS_FOR_INTERVAL} seeds).")
    done = result.runs[result.runs.status == "complete"]
    if not done.empty:
        extra = pd.DataFrame([kind_job_years(result.sweep_dir / j) for j in done.job],
                             index=done.index)
        kinds = compare(done.join(extra), design, metrics=list(KIND_METRICS),
                        kind_of=lambda metric: COUNT)
        section.table("By county kind", cut_table(kinds, design, KIND_METRICS))
    return section


# --- the governments' spending -------------------------------------------------------------------

def spending_by_arm(result: SweepAggregate, runs: pd.DataFrame) -> pd.DataFrame:
    """Mean over seeds of the county governments' spending by use and county kind, per arm
    (index: "arm, kind")."""
    frames = []
    for r in runs.itertuples():
        gov = pd.read_parquet(result.sweep_dir / r.job / "government.parquet")
        uses = [u for u in SPENDING_USES if u in gov.columns]
        frames.append(gov.groupby(gov.kind.astype(str))[uses].sum().assign(
            policy=r.policy, seed=r.seed))
    table = pd.concat(frames).reset_index(names="kind")
    uses = [u for u in SPENDING_USES if u in table.columns]
    mean = table.groupby(["policy", "kind"], sort=False)[uses].mean()
    order = arm_order(runs)
    mean = mean.reindex([(a, k) for a in order for k in KINDS if (a, k) in mean.index])
    mean.index = [f"{a}, {k}" for a, k in mean.index]
    return mean


def _spending_section(result: SweepAggregate) -> Section:
    section = Section("The governments' spending choices",
                      intro="What the county governments spent their budgets on over the run "
                            "(packages to attract firms, retention offers at expiry, training, "
                            "infrastructure, credit, the special fund's freight subsidy), "
                            "summed over counties and years, mean over seeds.")
    done = result.runs[result.runs.status == "complete"]
    scenario, panels = _panels(done, result.design_columns)
    key, first = panels[0]
    spending = spending_by_arm(result, first)
    if spending.empty:
        return section
    fig, axes = style.figure(1, 1, width=8.0, height=0.8 + 0.32 * len(spending))
    spending_panel(axes[0, 0], spending)
    style.legend_outside(axes[0, 0], title="use")
    section.figure("Spending by use, arm and county kind", fig,
                   f"Scenario: {_title(scenario, key)}.")
    shares = spending.div(spending.sum(axis=1).replace(0, np.nan), axis=0)
    shares.columns = [c.removeprefix("spent_") for c in shares.columns]
    section.table("Share of spending by use", shares.reset_index(names="arm, kind"),
                  precision=2)
    return section


# --- the map ------------------------------------------------------------------------------------

def _map_section(result: SweepAggregate) -> Section:
    from omegaconf import OmegaConf

    from sim.config import Config, to_config
    from sim.world import generate

    section = Section("Where: a schematic county map")
    done = result.runs[result.runs.status == "complete"]
    base = done[done.policy == BASELINE_ARM] if (done.policy == BASELINE_ARM).any() else done
    run = base.sort_values("seed", kind="stable").iloc[0]
    job_dir = result.sweep_dir / run.job
    saved = yaml.safe_load((job_dir / "config.yaml").read_text())
    cfg = to_config(OmegaConf.merge(OmegaConf.structured(Config), saved))
    counties = counties_frame(generate(cfg).counties)
    gov = pd.read_parquet(job_dir / "government.parquet", columns=["county", "spent_total"])
    counties["spent_total"] = counties.county.map(gov.groupby("county").spent_total.sum()
                                                  ).fillna(0.0)
    fig, axes = style.figure(1, 1, width=8.5, height=3.6)
    county_map(axes[0, 0], counties, "spent_total", "government spending over the run")
    section.figure("Counties", fig,
                   f"The world of seed {run.seed} (every arm of a seed shares it), sizes from "
                   f"its {run.policy} run"
                   + (f" under shock={run.shock}" if "shock" in run else "") + ": "
                   "each dot a county, west (left) to east by distance to the eastern hub, one "
                   "row per county kind, colour = its primary zone.")
    return section


# --- the page -------------------------------------------------------------------------------------

def sweep_warnings(result: SweepAggregate) -> list[str]:
    """The page's warnings: seeds, sensitivity indices, the aggregation's notes."""
    done = result.runs[result.runs.status == "complete"]
    warnings = []
    if not done.empty:
        per_point = done.groupby([c for c in result.design_columns if c in done.columns] or
                                 [done.status], dropna=False).size()
        warnings.append(seed_warning(int(per_point.min())))
    bad = result.runs.status.isin(["failed", "missing"]).sum()
    if bad:
        warnings.append(f"warning: {bad} run(s) failed or missing; the tables use the rest")
    warnings += [n if n.startswith("warning") else f"note: {n}" for n in result.notes]
    return [w for w in warnings if w]


def sweep_report(result: SweepAggregate, table: pd.DataFrame, frontier: pd.DataFrame,
                 meta: dict | None = None) -> Path:
    """Write ``report.html`` into the sweep directory; return its path."""
    warnings = sweep_warnings(result)
    sections = [_comparison_section(result, table, frontier, warnings[:1])]
    forest = forest_figure(result.comparison, result.design_columns,
                           {m: (label, scale) for m, (label, _, scale) in HEADLINE.items()})
    if forest is not None:
        section = Section("Differences from baseline")
        section.figure("Forest plot", forest,
                       "Each arm minus baseline under the same scenario, paired by seed: mean "
                       f"and 95 % CI (whiskers from {MIN_SEEDS_FOR_INTERVAL} seeds); filled: "
                       "the first scenario, open: the others.")
        sections.append(section)
    figures = {name: (result.sweep_dir / name) for name in SWEEP_FIGURES
               if (result.sweep_dir / name).exists()}
    groups = (("Survival of firms in poverty counties", ("km_survival.png",
                                                          "hazard_by_age.png")),
              ("Local jobs over time", ("poverty_local_jobs.png", "shock_path.png")),
              ("Cost and effect", ("frontier.png",)))
    for title, names in groups:
        present = [n for n in names if n in figures]
        if present:
            section = Section(title)
            for name in present:
                section.items.append(FigureItem(SWEEP_FIGURES[name][0],
                                                figures[name].read_bytes(),
                                                SWEEP_FIGURES[name][1]))
            sections.append(section)
    sensitivity = result.sweep_dir / "sensitivity.csv"
    if sensitivity.exists():
        section = Section("Sensitivity indices", intro="Indices of the means over seeds per "
                          "design point (S1 first order, ST total; _conf: 95 % half-width).")
        section.table("sensitivity.csv", pd.read_csv(sensitivity))
        sections.append(section)
    done = result.runs[result.runs.status == "complete"]
    if not done.empty:
        for build in (_cuts_section, _spending_section, _map_section):
            try:
                sections.append(build(result))
            except Exception as exc:  # a part that fails is noted on the page, not raised
                sections.append(Section(build.__name__.strip("_").replace("_", " "),
                                        warnings=[f"not drawn: {type(exc).__name__}: {exc}"]))
    varying = [c for c in result.design_columns if result.runs[c].nunique(dropna=False) > 1]
    subtitle = (f"{len(result.runs)} runs" + (f" over {', '.join(varying)}" if varying else "")
                + "; seeds are paired across arms (same world and draws).")
    return write_report(result.sweep_dir / REPORT, "Sweep report: " + result.sweep_dir.name,
                        sections, warnings=warnings, subtitle=subtitle, meta=meta or {})
