"""Figures of a sweep: survival and hazard of firms in poverty counties, local jobs over time.

Panels are the scenarios of the sweep (combinations of varying parameters other than the
policy arm, e.g. ``shock``); lines are the policy arms, each with its own colour (Okabe-Ito)
and line style (``sim.style``; the panels themselves are ``sim.plots``'). Spells are pooled
over seeds:

- ``km_survival.png``: Kaplan-Meier survival of firm spells that began in a poverty county
  (entry or relocation in; moving away censors), lifelines' estimate with its 95 % band, a
  dotted marker where each arm's packages expire and the numbers at risk below each panel;
- ``hazard_by_age.png``: small multiples, one panel per arm (and scenario): exit hazard of
  those firms by year of firm age (exits / firm-years at risk in the age year, firms entering
  the poverty county at any age: left truncation), as an annual probability with an exact
  Poisson 95 % band, and the SAIC hazard of Chinese firms by age for reference (MODEL.md §9);
- ``poverty_local_jobs.png``: poverty-alleviated persons in local jobs each month, mean over
  seeds and its 95 % interval (top row), and each arm minus ``baseline`` paired by seed
  (bottom row); shock windows shaded;
- ``frontier.png`` (``frontier_figure``): the cost-effect view, one point per arm: total
  public spending against poverty-alleviated local job-years, mean over seeds with 95 %
  whiskers on both, the arms on the efficient frontier filled and joined;
- ``shock_path.png`` (``shock_path_figure``): poverty-alleviated persons in local jobs under
  each shock minus the same arm and seed without it, mean of the paired differences with its
  95 % band, the shock's window shaded.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from experiments.stats import COUNT, MIN_SEEDS_FOR_INTERVAL, REAL, mean_ci
from sim import style
from sim.codes import EV_ENTER, EV_RELOCATE, EVENT_NAMES, KINDS, MONTHS_PER_YEAR
from sim.plots import SAIC_HAZARD, band_panel, hazard_multiples, km_panel
from sim.results import shock_windows
from sim.survival import hazard_by_firm_age, poverty_spells

__all__ = ["SAIC_HAZARD", "hazard_by_firm_age"]  # re-exported: older imports keep working
MAX_PANELS = 6
MAX_ARMS = 10
EVENT_COLUMNS = ["step", "firm_id", "event", "county", "kind", "package_months", "age_months"]


def run_spells(job_dir: Path, end_step: int) -> pd.DataFrame:
    """Poverty-county spells of one run, rebuilt from its ``firm_events.parquet``, with the
    firm's age when the spell began (``age_start_months``)."""
    ev = pd.read_parquet(Path(job_dir) / "firm_events.parquet", columns=EVENT_COLUMNS)
    if ev.empty:
        spells = poverty_spells(ev.assign(event_code=[]), np.zeros(1, dtype=int), end_step)
        return _typed(spells.assign(age_start_months=pd.Series(dtype=float)))
    ev["event_code"] = ev.event.astype(str).map(EVENT_NAMES.index).astype(int)
    county_kind = np.full(int(ev.county.max()) + 1, -1, dtype=int)
    county_kind[ev.county.to_numpy()] = ev.kind.astype(str).map(KINDS.index).to_numpy()
    spells = poverty_spells(ev, county_kind, end_step)
    starts = ev[ev.event_code.isin([EV_ENTER, EV_RELOCATE]) & (ev.kind.astype(str) == "poverty")]
    starts = (starts.sort_values(["firm_id", "step", "event_code"], kind="stable")
              .drop_duplicates(["firm_id", "step"], keep="last")  # the event that opened it
              .rename(columns={"step": "start_step", "age_months": "age_start_months"}))
    spells = spells.merge(starts[["firm_id", "start_step", "age_start_months"]],
                          on=["firm_id", "start_step"], how="left")
    return _typed(spells)


def _typed(spells: pd.DataFrame) -> pd.DataFrame:
    # An empty spell table has object columns, which would spoil a concatenation.
    return spells.astype({"duration_months": float, "exited": bool, "age_start_months": float})


def run_local_jobs(job_dir: Path) -> pd.Series:
    """Poverty-alleviated persons in local jobs per month (all county groups), by year."""
    ts = pd.read_parquet(Path(job_dir) / "timeseries.parquet",
                         columns=["step", "year", "poverty_pop_local_jobs"])
    return ts.groupby("year").poverty_pop_local_jobs.sum()


def run_paths(job_dir: Path) -> pd.DataFrame:
    """Monthly paths of one run, by step: poverty-alleviated persons in local jobs (all
    counties) and firm exits in poverty counties."""
    ts = pd.read_parquet(Path(job_dir) / "timeseries.parquet",
                         columns=["step", "year", "kind", "poverty_pop_local_jobs", "exits"])
    poverty_exits = ts.exits.where(ts.kind.astype(str) == "poverty", 0)
    paths = ts.assign(exits_poverty=poverty_exits).groupby("step").agg(
        year=("year", "first"), poverty_local_jobs=("poverty_pop_local_jobs", "sum"),
        exits_poverty=("exits_poverty", "sum"))
    return paths


def shock_window(job_dir: Path) -> tuple[int, int] | None:
    """First step and the step after the last of the run's shocks (their union), from the
    run's ``config.yaml``; None if the run has no shock."""
    cfg = yaml.safe_load((Path(job_dir) / "config.yaml").read_text())
    start_year = float(cfg["run"]["start_year"])
    spans = shock_windows(cfg["shock"])
    if not spans:
        return None
    first = min(a for a, _ in spans)
    last = max(b for _, b in spans)
    return (max(0, round((first - start_year) * MONTHS_PER_YEAR)),
            max(0, round((last - start_year) * MONTHS_PER_YEAR)))


def _panels(runs: pd.DataFrame, design: list[str]) -> tuple[list[str], list]:
    scenario = [c for c in design if c != "policy" and runs[c].nunique(dropna=False) > 1]
    if not scenario:
        return [], [((), runs)]
    groups = runs.groupby(scenario, sort=False, dropna=False)  # in the sweep's order
    return scenario, [((k if isinstance(k, tuple) else (k,)), g) for k, g in groups]


def _title(scenario: list[str], key: tuple) -> str:
    return ", ".join(f"{c}={v}" for c, v in zip(scenario, key, strict=True)) or "all runs"


def arm_order(runs: pd.DataFrame) -> list[str]:
    """The arms in the sweep's order, ``baseline`` first."""
    return sorted(pd.unique(runs.policy), key=lambda a: a != "baseline")  # stable sort


def time_band(frame: pd.DataFrame, kind: str = COUNT) -> pd.DataFrame:
    """Per row of ``frame`` (time x seed): ``mean``, ``lo``, ``hi`` (``mean_ci`` of the
    row; no band with fewer than MIN_SEEDS_FOR_INTERVAL seeds)."""
    rows = [mean_ci(v, kind=kind) for v in frame.to_numpy(dtype=float)]
    out = pd.DataFrame({"mean": [r["mean"] for r in rows], "lo": [r["ci_low"] for r in rows],
                        "hi": [r["ci_high"] for r in rows]}, index=frame.index)
    if frame.shape[1] < MIN_SEEDS_FOR_INTERVAL:
        out[["lo", "hi"]] = np.nan
    return out


def run_windows(sweep_dir: Path, jobs) -> list[tuple[float, float]]:
    """The shock windows (years) of the given runs, each once."""
    windows = set()
    for job in jobs:
        cfg = yaml.safe_load((Path(sweep_dir) / job / "config.yaml").read_text())
        windows.update(shock_windows(cfg["shock"]))
    return sorted(windows)


def package_years(spells: pd.DataFrame) -> float:
    """The median package length of the packaged spells (years; NaN if none)."""
    packaged = spells.package_months[spells.package_months > 0]
    return float(np.median(packaged)) / 12.0 if len(packaged) else float("nan")


def sweep_figures(sweep_dir: Path, runs: pd.DataFrame, design: list[str],
                  notes: list[str] | None = None) -> list[Path]:
    """Draw the three sweep figures into ``sweep_dir``; return the files written."""
    notes = notes if notes is not None else []
    sweep_dir = Path(sweep_dir)
    done = runs[runs.status == "complete"]
    if done.empty:
        notes.append("no complete run: no figures")
        return []
    scenario, panels = _panels(done, design)
    n_arms = done.policy.nunique() if "policy" in done else 1
    if len(panels) > MAX_PANELS or n_arms > MAX_ARMS:
        notes.append(f"{len(panels)} scenarios x {n_arms} arms is too many to draw; "
                     "figures skipped (compare with runs.parquet)")
        return []
    spells, jobs_ts = {}, {}
    for _, r in done.iterrows():
        spells[r.job] = run_spells(sweep_dir / r.job, int(r.steps))
        jobs_ts[r.job] = run_local_jobs(sweep_dir / r.job)
    arms = arm_order(done)
    styles = style.arm_styles(arms)

    def pooled(g, arm):
        jobs_ = g[g.policy == arm].job
        return pd.concat([spells[j] for j in jobs_]) if len(jobs_) else None

    written = []
    fig, axes = style.panel_grid(len(panels), ncols=2, width=5.6, height=4.2)
    for ax, (key, g) in zip(axes, panels, strict=False):
        groups, expiry = {}, {}
        for arm in arms:
            s = pooled(g, arm)
            if s is None or s.empty:
                continue
            groups[arm] = (s.duration_months.to_numpy(dtype=float) / 12.0,
                           s.exited.to_numpy(dtype=bool))
            expiry[arm] = package_years(s)
        # one marker per distinct package length, in the colour of the first arm with it
        expiry = {arm: y for arm, y in expiry.items()
                  if y not in [expiry[a] for a in list(expiry)[:list(expiry).index(arm)]]}
        km_panel(ax, groups, styles, expiry)
        ax.set_title(_title(scenario, key))
    style.legend_outside(fig, *_arm_handles(fig))
    written.append(style.save_png(fig, sweep_dir / "km_survival.png"))

    hazard_spells, hazard_styles = {}, {}
    for key, g in panels:
        for arm in arms:
            s = pooled(g, arm)
            if s is None:
                continue
            label = arm if not scenario else f"{arm}\n{_title(scenario, key)}"
            hazard_spells[label], hazard_styles[label] = s, styles[arm]
    fig = hazard_multiples(hazard_spells, hazard_styles)
    written.append(style.save_png(fig, sweep_dir / "hazard_by_age.png"))

    fig, axes = style.figure(2, len(panels), width=min(5.0, 15.0 / len(panels)), height=3.2,
                             sharex=True)
    for i, (key, g) in enumerate(panels):
        level, diff = {}, {}
        base = {r.seed: jobs_ts[r.job] for r in g[g.policy == arms[0]].itertuples()}
        for arm in arms:
            runs_ = list(g[g.policy == arm].itertuples())
            if not runs_:
                continue
            level[arm] = time_band(pd.concat([jobs_ts[r.job] for r in runs_], axis=1), COUNT)
            pairs = [jobs_ts[r.job] - base[r.seed] for r in runs_ if r.seed in base]
            if arm != arms[0] and pairs:
                diff[arm] = time_band(pd.concat(pairs, axis=1), REAL)
        windows = run_windows(sweep_dir, g.job)
        band_panel(axes[0, i], level, styles, windows, ylabel="thousand persons", scale=1e3)
        axes[0, i].set(title=_title(scenario, key), xlabel="")  # the bottom row says "year"
        band_panel(axes[1, i], diff, styles, windows, scale=1e3, zero_line=True,
                   ylabel=f"minus {arms[0]} (thousand)")
        axes[1, i].set_title("difference from baseline, paired by seed", fontsize=9)
    style.legend_outside(fig, *_arm_handles(fig, extra=("shock window",)))
    written.append(style.save_png(fig, sweep_dir / "poverty_local_jobs.png"))
    return written


def _arm_handles(fig, extra=()):
    """Each labelled line (an arm) once, plus the ``extra`` labels present."""
    seen = {}
    for ax in fig.axes:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            if not lab.startswith("_") and (hasattr(h, "get_linestyle") or lab in extra):
                seen.setdefault(lab, h)
    return list(seen.values()), list(seen)


def frontier_figure(points: pd.DataFrame, path: Path, title: str = "") -> Path:
    """Cost-effect frontier: one point per arm (rows of ``points``: ``panel``, ``policy``,
    ``cost``, ``cost_low``, ``cost_high``, ``effect``, ``effect_low``, ``effect_high``,
    ``efficient``), 95 % whiskers; frontier arms filled and joined."""
    panels = list(pd.unique(points.panel))
    fig, axes = style.panel_grid(len(panels), ncols=2, width=5.2, height=3.8)
    styles = style.arm_styles(list(pd.unique(points.policy)))
    for ax, panel in zip(axes, panels, strict=False):
        g = points[points.panel == panel].sort_values("cost")
        for _, r in g.iterrows():
            wide = r.n < MIN_SEEDS_FOR_INTERVAL  # too few seeds: no whiskers
            xerr = None if wide else _whisker(r.cost, r.cost_low, r.cost_high, 1e9)
            yerr = None if wide else _whisker(r.effect, r.effect_low, r.effect_high, 1e3)
            st = styles[r.policy]
            ax.errorbar(r.cost / 1e9, r.effect / 1e3, xerr=xerr, yerr=yerr, fmt=st["marker"],
                        color=st["color"], mfc=st["color"] if r.efficient else "white",
                        ms=7, capsize=3, label=r.policy)
        front = g[g.efficient]
        ax.plot(front.cost / 1e9, front.effect / 1e3, color=style.REFERENCE, lw=1, ls="--",
                zorder=0, label="frontier")
        ax.set(title=str(panel), xlabel="total public spending (bn yuan)",
               ylabel="poverty local job-years (thousand)")
    style.legend_outside(fig, title=title or "filled: on the efficient frontier")
    return style.save_png(fig, path)


def _whisker(mean, low, high, scale):
    if not (np.isfinite(low) and np.isfinite(high)):
        return None
    return [[max(mean - low, 0) / scale], [max(high - mean, 0) / scale]]


def shock_path_figure(gaps: dict, windows: dict, path: Path) -> Path:
    """Paired paths of shocks: ``gaps[(panel, arm)]`` is a frame (index: year, one column per
    seed) of shocked minus no-shock poverty-alleviated local jobs; ``windows[panel]`` is the
    shock's window in years (start, end)."""
    panels = list(dict.fromkeys(panel for panel, _ in gaps))
    arms = list(dict.fromkeys(arm for _, arm in gaps))
    styles = style.arm_styles(arms)
    fig, axes = style.panel_grid(len(panels), ncols=2, width=5.6, height=3.6)
    for ax, panel in zip(axes, panels, strict=False):
        series = {arm: time_band(gaps[(panel, arm)], REAL) for arm in arms
                  if (panel, arm) in gaps}
        band_panel(ax, series, styles, [windows[panel]], zero_line=True,
                   ylabel="persons (shock - no shock)")
        ax.set_title(str(panel))
    style.legend_outside(fig)
    return style.save_png(fig, path)
