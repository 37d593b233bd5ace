"""Figures of runs: the run's own PNGs and the panels the reports share (``sim.report`` for one
run, ``experiments.report`` for a sweep), all in the one style of ``sim.style``.

The panel functions take plain arrays and frames (one group per arm, pooled over seeds by the
caller), so a run and a sweep draw them the same way:

- ``km_panel``: Kaplan-Meier survival by group (lifelines' ``KaplanMeierFitter``, 95 % band,
  distinct line styles), the package-expiry marker and the numbers at risk below the axis
  (lifelines' ``add_at_risk_counts``);
- ``hazard_multiples``: exit hazard by year of firm age, one small panel per group, with the
  SAIC hazard of Chinese firms for reference;
- ``band_panel``: a time series with its band and shaded shock windows;
- ``spending_panel``: the governments' spending by use, stacked, per group;
- ``county_map``: the schematic map (west to east by distance to the eastern hub, one row per
  county kind, colour = primary zone, size = a per-county quantity).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim import style
from sim.codes import KINDS, ZONES
from sim.survival import hazard_by_firm_age, post_expiry_spells, poverty_spells

# SAIC 2013: annual exit probability of Chinese firms by year of age (MODEL.md §9).
SAIC_HAZARD = {1: 0.016, 2: 0.063, 3: 0.095, 4: 0.08, 5: 0.08, 6: 0.08, 7: 0.08}
SPENDING_USES = ("spent_packages", "spent_retention", "spent_training", "spent_infrastructure",
                 "spent_credit", "spent_fund_freight")
ZONE_COLOURS = {"none": "0.75", **{z: style.colour(i) for i, z in enumerate(ZONES)}}


# --- panels shared by the run and sweep reports ------------------------------------------------

def km_panel(ax, groups: dict, styles: dict, expiry_years: dict | None = None,
             at_risk: bool = True, xlabel: str = "years since arrival in the county") -> None:
    """Kaplan-Meier curves of ``groups`` (label -> (durations in years, exited)) on ``ax``.

    Each group keeps its colour and line style (``styles[label]``), so curves that coincide
    stay distinguishable; ``expiry_years`` (label -> years) draws a dotted vertical marker
    where that group's packages expire; ``at_risk`` adds lifelines' table of numbers at risk.
    """
    from lifelines import KaplanMeierFitter
    from lifelines.plotting import add_at_risk_counts

    fitters = []
    for label, (durations, exited) in groups.items():
        durations = np.asarray(durations, dtype=float)
        if durations.size == 0:
            continue
        s = styles[label]
        km = KaplanMeierFitter(label=label).fit(durations, np.asarray(exited, dtype=bool))
        km.plot_survival_function(ax=ax, ci_show=True, color=s["color"], ls=s["ls"], lw=1.4,
                                  ci_alpha=0.15)
        fitters.append(km)
    for label, years in (expiry_years or {}).items():
        if label in styles and np.isfinite(years) and years > 0:
            ax.axvline(years, color=styles[label]["color"], ls=":", lw=1.2)
            ax.annotate(f"package expires ({years:g} y)", (years, 1.0), xytext=(2, -2),
                        textcoords="offset points", fontsize=7, va="top",
                        color=styles[label]["color"])
    ax.set(xlabel=xlabel, ylabel="survival", ylim=(0, 1.05))
    if ax.get_legend() is not None:
        ax.get_legend().remove()
    if fitters and at_risk:
        add_at_risk_counts(*fitters, ax=ax, rows_to_show=["At risk"], fontsize=7)
        ax.set_xlabel(xlabel)


def hazard_multiples(spells: dict, styles: dict, title: str = "", min_exposure: float = 10.0):
    """Exit hazard by year of firm age, one small panel per group (label -> spells frame with
    ``age_start_months``, ``duration_months``, ``exited``), shared axes, the SAIC reference in
    each; age years with fewer than ``min_exposure`` firm-years at risk are left out. Returns
    the figure."""
    labels = [k for k, s in spells.items() if len(s)]
    fig, axes = style.panel_grid(max(len(labels), 1), ncols=4, width=2.9, height=2.3,
                                 sharex=True, sharey=True)
    ref = pd.Series(SAIC_HAZARD)
    for ax, label in zip(axes, labels, strict=False):
        s = spells[label]
        h = hazard_by_firm_age(s.age_start_months, s.duration_months, s.exited, min_exposure)
        st = styles[label]
        ax.plot(ref.index, ref.values, ls="--", color=style.REFERENCE, lw=1,
                label="SAIC 2013, all firms")
        if not h.empty:
            ax.plot(h.age_year, h.hazard, marker=st["marker"], ms=3, color=st["color"],
                    ls=st["ls"], label="model (95% band)")
            ax.fill_between(h.age_year, h.lo, h.hi, color=st["color"], alpha=0.18, lw=0)
        else:
            ax.text(0.5, 0.5, f"fewer than {min_exposure:g} firm-years\nat risk in any age year",
                    transform=ax.transAxes, ha="center", va="center", fontsize=7)
        ax.set_title(label)
        ax.xaxis.set_major_locator(style.MaxNLocator(integer=True))
    for ax in axes:
        ax.set_xlabel("year of firm age")
    axes[0].set_ylabel("annual exit probability")
    if title:
        fig.suptitle(title)
    style.legend_outside(fig, ncol=2)
    return fig


def shade_windows(ax, windows, span=None, label: str = "shock window") -> None:
    """Shade each (start year, end year) window once, clipped to ``span`` (first, last year
    of the data) when given."""
    for i, (start, end) in enumerate(sorted(set(windows))):
        if span is not None:
            start, end = max(start, span[0]), min(end, span[1])
            if start >= end:
                continue
        ax.axvspan(start, end, color=style.SHADE, zorder=0, lw=0, label=label if i == 0 else None)


def band_panel(ax, series: dict, styles: dict, windows=(), ylabel: str = "",
               scale: float = 1.0, zero_line: bool = False) -> None:
    """Time series with bands: ``series[label]`` is a frame with index year and columns
    ``mean``, ``lo``, ``hi`` (bands drawn where finite); shock windows shaded."""
    years = [f.index for f in series.values() if len(f)]
    span = (min(y.min() for y in years), max(y.max() for y in years)) if years else None
    shade_windows(ax, windows, span)
    if zero_line:
        ax.axhline(0, color=style.REFERENCE, lw=0.8)
    for label, frame in series.items():
        st = styles[label]
        ax.plot(frame.index, frame["mean"] / scale, color=st["color"], ls=st["ls"], lw=1.4,
                label=label)
        ok = np.isfinite(frame["lo"].to_numpy(dtype=float))
        if ok.any():
            ax.fill_between(frame.index[ok], frame["lo"][ok] / scale, frame["hi"][ok] / scale,
                            color=st["color"], alpha=0.18, lw=0)
    ax.set(xlabel="year", ylabel=ylabel)
    style.year_axis(ax)


def spending_panel(ax, spending: pd.DataFrame, scale: float = 1e6) -> None:
    """Stacked bars of spending by use: ``spending`` has one row per bar (index: its label)
    and one column per use (``SPENDING_USES`` present), in yuan."""
    uses = [u for u in SPENDING_USES if u in spending.columns and spending[u].abs().sum() > 0]
    bottom = np.zeros(len(spending))
    y = np.arange(len(spending))
    for i, use in enumerate(uses):
        values = spending[use].to_numpy(dtype=float) / scale
        ax.barh(y, values, left=bottom, color=style.colour(i), label=use.removeprefix("spent_"),
                height=0.7)
        bottom += values
    ax.set_yticks(y, [str(i) for i in spending.index])
    ax.invert_yaxis()
    ax.set_xlabel("million yuan" if scale == 1e6 else f"yuan / {scale:g}")


def county_map(ax, counties: pd.DataFrame, size_column: str | None = None,
               size_label: str = "") -> None:
    """The schematic county map: x = west (left) to east by distance to the eastern hub, one
    row per county kind, colour = the county's primary zone, marker size = ``size_column``
    (counties: ``distance_km``, ``kind``, ``primary_zone``, and that column)."""
    x = -counties.distance_km.to_numpy(dtype=float)
    row = counties.kind.map({k: i for i, k in enumerate(KINDS)}).to_numpy(dtype=float)
    jitter = ((np.arange(len(counties)) * 7919) % 11 - 5) / 5 * 0.28  # fixed, not random
    y = (len(KINDS) - 1 - row) + jitter
    if size_column is not None and counties[size_column].max() > 0:
        size = 6 + 120 * counties[size_column].to_numpy(dtype=float) / counties[
            size_column].max()
    else:
        size = np.full(len(counties), 14.0)
    for zone, colour in ZONE_COLOURS.items():
        sel = (counties.primary_zone == zone).to_numpy()
        if sel.any():
            ax.scatter(x[sel], y[sel], s=size[sel], color=colour, alpha=0.75, lw=0.3,
                       edgecolors="white", label=zone.replace("_", " "))
    ax.set_yticks(len(KINDS) - 1 - np.arange(len(KINDS)), list(KINDS))
    ax.set_xlabel("west <-   km from the eastern hub   -> east")
    if size_label:
        ax.set_title(f"marker size: {size_label}", fontsize=8, loc="right")
    style.legend_outside(ax, title="primary zone")


def counties_frame(counties) -> pd.DataFrame:
    """The columns ``county_map`` needs from a county table (``sim.state.Table``)."""
    from sim.development import primary_zone

    return pd.DataFrame({"county": np.arange(counties.n),
                         "distance_km": np.asarray(counties.distance_km, dtype=float),
                         "kind": [KINDS[k] for k in counties.kind],
                         "primary_zone": primary_zone(counties)})


# --- one run's PNGs ----------------------------------------------------------------------------

def run_panels(ts: pd.DataFrame, events: pd.DataFrame, sim) -> dict:
    """The figures of one run, by file name (matplotlib figures, not yet saved)."""
    figures = {}
    inland = ts[ts.kind != "origin"].groupby("year")[
        ["workers_local", "workers_outbound", "workers_home", "poverty_pop_local_jobs"]].sum()
    firms = ts.groupby(["year", "kind"]).firms_alive.sum().unstack("kind")
    fig, axes = style.figure(1, 2, width=5.0, height=3.3)
    ax = axes[0, 0]
    for i, (col, label) in enumerate((
            ("workers_local", "local jobs"), ("workers_outbound", "outbound"),
            ("workers_home", "home"), ("poverty_pop_local_jobs", "poverty-alleviated local"))):
        ax.plot(inland.index, inland[col] / 1e3, label=label, color=style.colour(i),
                ls=style.LINESTYLES[i])
    ax.set(title="Inland workers (central + poverty counties)", xlabel="year",
           ylabel="thousand persons")
    style.year_axis(ax)
    style.legend_outside(ax)
    ax = axes[0, 1]
    for i, kind in enumerate(firms.columns):
        ax.plot(firms.index, firms[kind], label=kind, color=style.colour(i),
                ls=style.LINESTYLES[i])
    ax.set(title="Firms alive by county kind", xlabel="year", ylabel="firms")
    style.year_axis(ax)
    style.legend_outside(ax)
    figures["labor_and_firms.png"] = fig

    spells = poverty_spells(events, sim.counties.kind, sim.step_index)
    post = post_expiry_spells(spells)
    groups = {}
    if len(spells):
        groups["from arrival"] = (spells.duration_months / 12.0, spells.exited)
    if len(post):
        groups["from package expiry"] = (post.duration_months / 12.0, post.exited)
    styles = style.arm_styles(["from arrival", "from package expiry"])
    fig, axes = style.figure(1, 1, width=6.0, height=3.6)
    ax = axes[0, 0]
    packaged = spells.package_months[spells.package_months > 0]
    expiry = {"from arrival": float(np.median(packaged)) / 12.0} if len(packaged) else {}
    km_panel(ax, groups, styles, expiry, xlabel="years")
    ax.set_title("Kaplan-Meier survival, firms in poverty counties (95% band)")
    style.legend_outside(ax, *_handles(ax))
    figures["survival.png"] = fig
    return figures


def _handles(ax):
    handles, labels = ax.get_legend_handles_labels()
    keep = [(h, lab) for h, lab in zip(handles, labels, strict=True) if not lab.startswith("_")]
    return [h for h, _ in keep], [lab for _, lab in keep]


def run_figures(ts: pd.DataFrame, events: pd.DataFrame, sim, out_dir: Path) -> list[Path]:
    """Write ``labor_and_firms.png`` and ``survival.png`` into ``out_dir``."""
    return [style.save_png(fig, Path(out_dir) / name)
            for name, fig in run_panels(ts, events, sim).items()]
