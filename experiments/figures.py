"""Figures of a sweep: survival and hazard of firms in poverty counties, local jobs over time.

Panels are the scenarios of the sweep (combinations of varying parameters other than the
policy arm, e.g. ``shock``); lines are the policy arms. Spells are pooled over seeds:

- ``km_survival.png``: Kaplan-Meier survival of firm spells that began in a poverty county
  (entry or relocation in; moving away censors), lifelines' estimate with its 95 % band;
- ``hazard_by_age.png``: yearly exit hazard by year of the spell (life table: exits in the year
  / spells at risk at its start less half the censored), 95 % normal band, with the SAIC
  hazard of Chinese firms by age for reference (MODEL.md §9);
- ``poverty_local_jobs.png``: poverty-alleviated persons in local jobs each month, mean over
  seeds and the 95 % t interval of the mean.
"""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import stats  # noqa: E402

MAX_PANELS = 6
MAX_ARMS = 10
SAIC_HAZARD = {1: 0.016, 2: 0.063, 3: 0.095, 4: 0.08, 5: 0.08, 6: 0.08, 7: 0.08}
EVENT_COLUMNS = ["step", "firm_id", "event", "county", "kind", "package_months"]


def run_spells(job_dir: Path, end_step: int) -> pd.DataFrame:
    """Poverty-county spells of one run, rebuilt from its ``firm_events.parquet``."""
    from sim.config import KINDS
    from sim.results import poverty_spells
    from sim.state import EVENT_NAMES

    ev = pd.read_parquet(Path(job_dir) / "firm_events.parquet", columns=EVENT_COLUMNS)
    if ev.empty:
        return poverty_spells(ev.assign(event_code=[]), np.zeros(1, dtype=int), end_step)
    ev["event_code"] = ev.event.astype(str).map(EVENT_NAMES.index).astype(int)
    county_kind = np.full(int(ev.county.max()) + 1, -1, dtype=int)
    county_kind[ev.county.to_numpy()] = ev.kind.astype(str).map(KINDS.index).to_numpy()
    return poverty_spells(ev, county_kind, end_step)


def run_local_jobs(job_dir: Path) -> pd.Series:
    """Poverty-alleviated persons in local jobs per month (all county groups), by year."""
    ts = pd.read_parquet(Path(job_dir) / "timeseries.parquet",
                         columns=["step", "year", "poverty_pop_local_jobs"])
    return ts.groupby("year").poverty_pop_local_jobs.sum()


def life_table_hazard(durations: np.ndarray, exited: np.ndarray, months: int = 12) -> pd.DataFrame:
    """Exit hazard per period of life (actuarial estimate) with a 95 % normal interval."""
    durations = np.asarray(durations, dtype=float)
    exited = np.asarray(exited, dtype=bool)
    if durations.size == 0:
        return pd.DataFrame(columns=["period", "at_risk", "hazard", "lo", "hi"])
    rows = []
    for k in range(int(durations.max() // months)):  # periods with full follow-up only
        lo, hi = k * months, (k + 1) * months
        at_start = np.count_nonzero(durations >= lo)
        in_period = (durations >= lo) & (durations < hi)
        deaths = np.count_nonzero(in_period & exited)
        censored = np.count_nonzero(in_period & ~exited)
        at_risk = at_start - censored / 2.0
        if at_risk <= 0:
            continue
        h = deaths / at_risk
        half = 1.96 * np.sqrt(max(h * (1 - h), 0.0) / at_risk)
        rows.append((k + 1, at_risk, h, max(h - half, 0.0), h + half))
    return pd.DataFrame(rows, columns=["period", "at_risk", "hazard", "lo", "hi"])


def _save(fig, path: Path) -> Path:
    from sim.results import atomic_write_bytes

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())
    return path


def _panels(runs: pd.DataFrame, design: list[str]) -> tuple[list[str], list]:
    scenario = [c for c in design if c != "policy" and runs[c].nunique(dropna=False) > 1]
    if not scenario:
        return [], [((), runs)]
    groups = runs.groupby(scenario, sort=True, dropna=False)
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
    from lifelines import KaplanMeierFitter

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
    arms = sorted(done.policy.unique(), key=lambda a: (a != "baseline", a))
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
            kmf = KaplanMeierFitter(label=f"{arm} ({len(jobs_)} runs, {len(s)} spells)")
            kmf.fit(s.duration_months / 12.0, s.exited.astype(bool))
            kmf.plot_survival_function(ax=ax, ci_show=True, color=colors[arm], lw=1.4)
        ax.set(title=_title(scenario, key), xlabel="years since arrival in the county",
               ylabel="survival", ylim=(0, 1.02))
        ax.legend(fontsize=7)
    written.append(_save(fig, sweep_dir / "km_survival.png"))

    fig, axes = _grid(len(panels), "Exit hazard by year of life in a poverty county "
                                   "(life table, 95% band)")
    for ax, (key, g) in zip(axes, panels, strict=False):
        for arm in arms:
            jobs_ = g[g.policy == arm].job
            if not len(jobs_):
                continue
            s = pd.concat([spells[j] for j in jobs_])
            h = life_table_hazard(s.duration_months.to_numpy(), s.exited.to_numpy())
            h = h[h.at_risk >= 20]
            ax.plot(h.period, h.hazard, marker="o", ms=3, color=colors[arm], label=arm)
            ax.fill_between(h.period, h.lo, h.hi, color=colors[arm], alpha=0.15)
        ref = pd.Series(SAIC_HAZARD)
        ax.plot(ref.index, ref.values, ls="--", color="grey", label="SAIC 2013, all firms")
        ax.set(title=_title(scenario, key), xlabel="year of life in the county",
               ylabel="share exiting in the year")
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
