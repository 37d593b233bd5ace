"""Figures of one run (matplotlib, Agg backend, no display needed)."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from sim.atomic import atomic_write_bytes  # noqa: E402
from sim.survival import kaplan_meier, post_expiry_spells, poverty_spells  # noqa: E402


def _save(fig, path: Path) -> None:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())


def _step_curve(ax, durations, observed, label, **kw):
    times, surv = kaplan_meier(durations, observed)
    x = np.concatenate([[0], times]) / 12.0
    y = np.concatenate([[1.0], surv])
    ax.step(x, y, where="post", label=f"{label} (n={len(durations)})", **kw)


def run_figures(ts: pd.DataFrame, events: pd.DataFrame, sim, out_dir: Path) -> list[str]:
    """Write ``labor_and_firms.png`` and ``survival.png`` into ``out_dir``; return their
    names."""
    out_dir = Path(out_dir)
    inland = ts[ts.kind != "origin"].groupby("year")[
        ["workers_local", "workers_outbound", "workers_home", "poverty_pop_local_jobs"]].sum()
    firms = ts.groupby(["year", "kind"]).firms_alive.sum().unstack("kind")
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    ax = axes[0]
    for col, label in (("workers_local", "local jobs"), ("workers_outbound", "outbound"),
                       ("workers_home", "home"),
                       ("poverty_pop_local_jobs", "poverty-alleviated in local jobs")):
        ax.plot(inland.index, inland[col] / 1e6, label=label)
    ax.set(title="Inland workers (central + poverty counties)", xlabel="year",
           ylabel="million persons")
    ax.legend(fontsize=8)
    ax = axes[1]
    for kind in firms.columns:
        ax.plot(firms.index, firms[kind], label=kind)
    ax.set(title="Firms alive by county kind", xlabel="year", ylabel="firms")
    ax.legend(fontsize=8)
    _save(fig, out_dir / "labor_and_firms.png")

    spells = poverty_spells(events, sim.counties.kind, sim.step_index)
    post = post_expiry_spells(spells)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    ax = axes[0]
    if len(spells):
        _step_curve(ax, spells.duration_months, spells.exited, "from arrival")
    if len(post):
        _step_curve(ax, post.duration_months, post.exited, "from package expiry")
    ax.set(title="Kaplan-Meier survival, firms in poverty counties", xlabel="years",
           ylabel="survival", ylim=(0, 1.02))
    ax.legend(fontsize=8)
    ax = axes[1]
    exits = events[events.event == "exit"]
    if len(spells):
        years = np.arange(0, int(spells.duration_months.max() // 12) + 1)
        at_risk = np.array([(spells.duration_months >= 12 * y).sum() for y in years])
        died = np.array([((spells.duration_months >= 12 * y)
                          & (spells.duration_months < 12 * (y + 1)) & spells.exited).sum()
                         for y in years])
        hazard = np.where(at_risk > 0, died / np.maximum(at_risk, 1), np.nan)
        ax.bar(years + 1, hazard, color="tab:red", alpha=0.7)
    ax.set(title=f"Exit hazard by firm age in poverty counties ({len(exits)} exits in all)",
           xlabel="year of life", ylabel="share exiting")
    _save(fig, out_dir / "survival.png")
    return ["labor_and_firms.png", "survival.png"]
