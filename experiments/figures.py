"""Figures of a sweep: survival and hazard of firms in poverty counties, local jobs over time.

Panels are the scenarios of the sweep (combinations of varying parameters other than the
policy arm, e.g. ``shock``); lines are the policy arms. Spells are pooled over seeds:

- ``km_survival.png``: Kaplan-Meier survival of firm spells that began in a poverty county
  (entry or relocation in; moving away censors), with the exponential Greenwood 95 % band
  (``sim.survival.kaplan_meier_band``);
- ``hazard_by_age.png``: exit hazard of those firms by year of firm age (exits / firm-years at
  risk in the age year, firms entering the poverty county at any age: left truncation),
  as an annual probability with an exact Poisson 95 % band, and the SAIC hazard of Chinese
  firms by age for reference (MODEL.md §9);
- ``poverty_local_jobs.png``: poverty-alleviated persons in local jobs each month, mean over
  seeds and the 95 % t interval of the mean;
- ``frontier.png`` (``frontier_figure``): the cost-effect view, one point per arm: total
  public spending against poverty-alleviated local job-years, mean over seeds with 95 %
  whiskers on both, the arms on the efficient frontier filled and joined;
- ``shock_path.png`` (``shock_path_figure``): poverty-alleviated persons in local jobs under
  each shock minus the same arm and seed without it, mean of the paired differences with its
  95 % band, the shock's window shaded.
"""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib
import yaml

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import stats  # noqa: E402

from experiments.stats import MIN_SEEDS_FOR_INTERVAL, mean_ci  # noqa: E402
from sim.atomic import atomic_write_bytes  # noqa: E402
from sim.codes import EV_ENTER, EV_RELOCATE, EVENT_NAMES, KINDS, MONTHS_PER_YEAR  # noqa: E402
from sim.survival import kaplan_meier_band, poverty_spells  # noqa: E402

MAX_PANELS = 6
MAX_ARMS = 10
SAIC_HAZARD = {1: 0.016, 2: 0.063, 3: 0.095, 4: 0.08, 5: 0.08, 6: 0.08, 7: 0.08}
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


# Shocks of ``sim.config.ShockConfig``: each is on when its ``<name>_years`` is > 0.
SHOCK_KINDS = ("export", "sanction", "pandemic", "downturn")


def shock_window(job_dir: Path) -> tuple[int, int] | None:
    """First step and the step after the last of the run's shocks (their union), from the
    run's ``config.yaml``; None if the run has no shock."""
    cfg = yaml.safe_load((Path(job_dir) / "config.yaml").read_text())
    shock, start_year = cfg["shock"], float(cfg["run"]["start_year"])
    spans = [(shock[f"{k}_start"], shock[f"{k}_start"] + shock[f"{k}_years"])
             for k in SHOCK_KINDS if float(shock.get(f"{k}_years", 0) or 0) > 0]
    if not spans:
        return None
    first = min(a for a, _ in spans)
    last = max(b for _, b in spans)
    return (max(0, round((first - start_year) * MONTHS_PER_YEAR)),
            max(0, round((last - start_year) * MONTHS_PER_YEAR)))


def hazard_by_firm_age(age_start, duration, exited,
                       min_exposure: float = 50.0) -> pd.DataFrame:
    """Exit hazard by year of firm age from spells that may begin at any age.

    Each spell is at risk from ``age_start`` to ``age_start + duration`` (months); the rate in
    age year k is exits at an age in [12k, 12k + 12) over the firm-years at risk there, shown
    as the annual probability 1 - exp(-rate) with an exact Poisson 95 % interval.

    Args:
        age_start: firm age when the spell began (months).
        duration: spell length (months).
        exited: whether the spell ended in an exit (else censored).
        min_exposure: omit age years with fewer firm-years at risk.

    Returns:
        columns ``age_year`` (1 = first year of life), ``exposure`` (firm-years), ``exits``,
        ``hazard``, ``lo``, ``hi``.
    """
    a0 = np.asarray(age_start, dtype=float)
    a1 = a0 + np.asarray(duration, dtype=float)
    exited = np.asarray(exited, dtype=bool)
    cols = ["age_year", "exposure", "exits", "hazard", "lo", "hi"]
    keep = np.isfinite(a0)
    a0, a1, exited = a0[keep], a1[keep], exited[keep]
    if a0.size == 0:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in cols})
    rows = []
    for k in range(int(a1.max() // 12) + 1):
        lo, hi = 12.0 * k, 12.0 * (k + 1)
        exposure = np.clip(np.minimum(a1, hi) - np.maximum(a0, lo), 0, None).sum() / 12.0
        exits = int(np.count_nonzero(exited & (a1 >= lo) & (a1 < hi)))
        if exposure < min_exposure:
            continue
        r_lo = stats.chi2.ppf(0.025, 2 * exits) / 2 / exposure if exits else 0.0
        r_hi = stats.chi2.ppf(0.975, 2 * exits + 2) / 2 / exposure
        rows.append((k + 1, exposure, exits, 1 - np.exp(-exits / exposure),
                     1 - np.exp(-r_lo), 1 - np.exp(-r_hi)))
    return pd.DataFrame(rows, columns=cols).astype(float)


def _save(fig, path: Path) -> Path:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())
    return path


def _plot_km(ax, durations, observed, color, label: str) -> None:
    """A Kaplan-Meier step curve from time 0 to the longest spell, with its 95 % band."""
    km = kaplan_meier_band(durations, observed)
    x = np.concatenate([[0.0], km.times, [np.max(durations)]])

    def steps(values):  # 1 until the first exit; the last value held to the longest spell
        return np.concatenate([[1.0], values, values[-1:] if values.size else [1.0]])

    ax.step(x, steps(km.survival), where="post", color=color, lw=1.4, label=label)
    ax.fill_between(x, steps(km.lower), steps(km.upper), step="post", color=color,
                    alpha=0.25, lw=0)


def _panels(runs: pd.DataFrame, design: list[str]) -> tuple[list[str], list]:
    scenario = [c for c in design if c != "policy" and runs[c].nunique(dropna=False) > 1]
    if not scenario:
        return [], [((), runs)]
    groups = runs.groupby(scenario, sort=False, dropna=False)  # in the sweep's order
    return scenario, [((k if isinstance(k, tuple) else (k,)), g) for k, g in groups]


def _title(scenario: list[str], key: tuple) -> str:
    return ", ".join(f"{c}={v}" for c, v in zip(scenario, key, strict=True)) or "all runs"


def _grid(n: int, title: str):
    ncols = min(n, 3)
    nrows = (n + ncols - 1) // ncols
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.2 * ncols, 3.9 * nrows), squeeze=False,
                             sharey=True)
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    fig.suptitle(title)
    return fig, axes.ravel()


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
    arms = sorted(pd.unique(done.policy), key=lambda a: a != "baseline")  # stable: sweep order
    colors = {a: plt.cm.tab10(i % 10) for i, a in enumerate(arms)}
    written = []

    fig, axes = _grid(len(panels), "Kaplan-Meier survival of firms that entered poverty "
                                   "counties (pooled over seeds, 95% band)")
    for ax, (key, g) in zip(axes, panels, strict=False):
        for arm in arms:
            jobs_ = g[g.policy == arm].job
            s = pd.concat([spells[j] for j in jobs_]) if len(jobs_) else None
            if s is None or s.empty:
                continue
            _plot_km(ax, s.duration_months.to_numpy(dtype=float) / 12.0,
                     s.exited.to_numpy(dtype=bool), color=colors[arm],
                     label=f"{arm} ({len(jobs_)} runs, {len(s)} spells)")
        ax.set(title=_title(scenario, key), xlabel="years since arrival in the county",
               ylabel="survival", ylim=(0, 1.02))
        ax.legend(fontsize=7)
    written.append(_save(fig, sweep_dir / "km_survival.png"))

    fig, axes = _grid(len(panels), "Exit hazard by firm age, firms in poverty counties "
                                   "(pooled over seeds, exact 95% band)")
    for ax, (key, g) in zip(axes, panels, strict=False):
        for arm in arms:
            jobs_ = g[g.policy == arm].job
            if not len(jobs_):
                continue
            s = pd.concat([spells[j] for j in jobs_])
            h = hazard_by_firm_age(s.age_start_months, s.duration_months, s.exited)
            if h.empty:
                continue
            ax.plot(h.age_year, h.hazard, marker="o", ms=3, color=colors[arm], label=arm)
            ax.fill_between(h.age_year, h.lo, h.hi, color=colors[arm], alpha=0.15)
        ref = pd.Series(SAIC_HAZARD)
        ax.plot(ref.index, ref.values, ls="--", color="grey", label="SAIC 2013, all firms")
        ax.set(title=_title(scenario, key), xlabel="year of firm age",
               ylabel="annual exit probability")
        ax.legend(fontsize=7)
    written.append(_save(fig, sweep_dir / "hazard_by_age.png"))

    fig, axes = _grid(len(panels), "Poverty-alleviated persons in local jobs "
                                   "(mean over seeds, 95% CI)")
    for ax, (key, g) in zip(axes, panels, strict=False):
        for arm in arms:
            jobs_ = g[g.policy == arm].job
            if not len(jobs_):
                continue
            m = pd.concat([jobs_ts[j] for j in jobs_], axis=1)
            mean = m.mean(axis=1)
            n = m.notna().sum(axis=1)
            sem = m.std(axis=1, ddof=1) / np.sqrt(n)
            t = stats.t.ppf(0.975, np.maximum(n - 1, 1))
            ax.plot(mean.index, mean / 1e3, color=colors[arm], lw=1.3,
                    label=f"{arm} ({len(jobs_)} seeds)")
            if len(jobs_) > 1:
                ax.fill_between(mean.index, np.maximum(mean - t * sem, 0) / 1e3,
                                (mean + t * sem) / 1e3,
                                color=colors[arm], alpha=0.2)
        ax.set(title=_title(scenario, key), xlabel="year", ylabel="thousand persons")
        ax.legend(fontsize=7)
    written.append(_save(fig, sweep_dir / "poverty_local_jobs.png"))
    return written


def frontier_figure(points: pd.DataFrame, path: Path, title: str = "") -> Path:
    """Cost-effect frontier: one point per arm (rows of ``points``: ``panel``, ``policy``,
    ``cost``, ``cost_low``, ``cost_high``, ``effect``, ``effect_low``, ``effect_high``,
    ``efficient``), 95 % whiskers; frontier arms filled and joined."""
    panels = list(pd.unique(points.panel))
    fig, axes = _grid(len(panels), title or "Cost and effect of each arm (mean over seeds, "
                                             "95% CI); filled: on the efficient frontier")
    arms = list(pd.unique(points.policy))
    colors = {a: plt.cm.tab10(i % 10) for i, a in enumerate(arms)}
    for ax, panel in zip(axes, panels, strict=False):
        g = points[points.panel == panel].sort_values("cost")
        for _, r in g.iterrows():
            wide = r.n < MIN_SEEDS_FOR_INTERVAL  # too few seeds: no whiskers
            xerr = None if wide else _whisker(r.cost, r.cost_low, r.cost_high, 1e9)
            yerr = None if wide else _whisker(r.effect, r.effect_low, r.effect_high, 1e3)
            ax.errorbar(r.cost / 1e9, r.effect / 1e3, xerr=xerr, yerr=yerr, fmt="o",
                        color=colors[r.policy], mfc=colors[r.policy] if r.efficient else "white",
                        ms=7, capsize=3, label=r.policy + (" (frontier)" if r.efficient else ""))
        front = g[g.efficient]
        ax.plot(front.cost / 1e9, front.effect / 1e3, color="grey", lw=1, ls="--", zorder=0)
        ax.set(title=str(panel), xlabel="total public spending (bn yuan)",
               ylabel="poverty-alleviated local job-years (thousand)")
        ax.legend(fontsize=7)
    return _save(fig, path)


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
    colors = {a: plt.cm.tab10(i % 10) for i, a in enumerate(arms)}
    fig, axes = _grid(len(panels), "Poverty-alleviated persons in local jobs: shock minus no "
                                   "shock, paired by seed (mean, 95% CI); window shaded")
    for ax, panel in zip(axes, panels, strict=False):
        start, end = windows[panel]
        ax.axvspan(start, end, color="0.85", zorder=0, label="shock window")
        ax.axhline(0, color="grey", lw=0.8)
        for arm in arms:
            if (panel, arm) not in gaps:
                continue
            m = gaps[(panel, arm)]
            rows = [mean_ci(v) for v in m.to_numpy()]
            mean = np.array([r["mean"] for r in rows])
            ax.plot(m.index, mean, color=colors[arm], lw=1.3,
                    label=f"{arm} ({m.shape[1]} seeds)")
            if m.shape[1] >= MIN_SEEDS_FOR_INTERVAL:
                ax.fill_between(m.index, [r["ci_low"] for r in rows],
                                [r["ci_high"] for r in rows], color=colors[arm], alpha=0.2)
        ax.set(title=str(panel), xlabel="year", ylabel="persons (shock - no shock)")
        ax.legend(fontsize=7)
    return _save(fig, path)
