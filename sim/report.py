"""``report.html``: one self-contained, offline page of a run (``run.report=true``) or, through
``experiments.report``, of a sweep.

The page is the Jinja2 template ``sim/templates/report.html.j2`` (package data) filled with
sections of figures and tables: figures are embedded PNGs (``sim.style.data_uri``), tables are
pandas Styler HTML, the style sheet is inline, there is no script and nothing is fetched.
Nothing on the page changes between regenerations with the same code and seeds (no date, no
random ids, PNGs without software tags), so a published report is byte-identical when
regenerated.

The builder lives in ``sim`` so that a single run can write a report; the sweep report
(``experiments.report``) fills the same template with the sweep's sections.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim import style
from sim.atomic import atomic_write_bytes

REPORT = "report.html"
TEMPLATE = "report.html.j2"


@dataclass
class FigureItem:
    """A figure of the page (PNG bytes, shown embedded)."""

    title: str
    png: bytes
    caption: str = ""
    kind: str = "figure"

    @property
    def uri(self) -> str:
        return style.data_uri(self.png)


@dataclass
class TableItem:
    """A table of the page (HTML from ``styled_table``)."""

    title: str
    html: str
    caption: str = ""
    kind: str = "table"


@dataclass
class Section:
    """A titled part of the page: an introduction, warnings, figures and tables."""

    title: str
    items: list = field(default_factory=list)
    intro: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return re.sub(r"[^a-z0-9]+", "-", self.title.lower()).strip("-")

    def figure(self, title: str, fig, caption: str = "") -> None:
        """Add a matplotlib figure (rendered to PNG and closed)."""
        self.items.append(FigureItem(title, style.png_bytes(fig), caption))

    def table(self, title: str, frame: pd.DataFrame, caption: str = "", **fmt) -> None:
        """Add a table (``styled_table`` of ``frame``)."""
        self.items.append(TableItem(title, styled_table(frame, self.anchor + "-"
                                                        + str(len(self.items)), **fmt),
                                    caption))


def styled_table(frame: pd.DataFrame, name: str, precision: int = 3) -> str:
    """A table as HTML through pandas' Styler: no index, numbers with thousands separators,
    missing values as a dash, no inline styles or random ids (the page's style sheet
    applies; same frame, same bytes)."""
    styler = frame.style.hide(axis="index").format(precision=precision, thousands=",",
                                                   na_rep="—")
    return styler.to_html(table_uuid=re.sub(r"[^A-Za-z0-9_-]", "-", name),
                          exclude_styles=True)


def _environment():
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    return Environment(loader=PackageLoader("sim", "templates"),
                       autoescape=select_autoescape(["html", "j2"]),
                       undefined=StrictUndefined, keep_trailing_newline=True)


def render(title: str, sections: list[Section], subtitle: str = "",
           warnings: list[str] | None = None, meta: dict | None = None) -> str:
    """The page as HTML text."""
    template = _environment().get_template(TEMPLATE)
    return template.render(title=title, subtitle=subtitle, sections=sections,
                           warnings=[w for w in warnings or [] if w], meta=meta or {})


def write_report(path: Path, title: str, sections: list[Section], **kwargs) -> Path:
    """Render the page and write it atomically; return the path."""
    atomic_write_bytes(Path(path), render(title, sections, **kwargs).encode("utf-8"))
    return Path(path)


# --- the report of one run -------------------------------------------------------------------

def _fmt(value) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "—"
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.0f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def run_report(sim, ts: pd.DataFrame, events: pd.DataFrame, government: pd.DataFrame,
               record: dict, out_dir: Path) -> Path:
    """Write ``report.html`` of one finished run into ``out_dir``."""
    from sim.plots import (
        counties_frame,
        county_map,
        run_panels,
        shade_windows,
        spending_panel,
    )
    from sim.results import SUMMARY_DOC, shock_windows

    cfg = sim.cfg
    sections = []
    overview = Section("Indicators", intro="Every indicator of the run's summary.json "
                       "(definitions: sim.results.SUMMARY_DOC, results/README.md).")
    overview.table("Summary", pd.DataFrame(
        [{"indicator": k, "value": _fmt(record.get(k)), "meaning": doc}
         for k, doc in SUMMARY_DOC.items()]))
    sections.append(overview)

    panels = run_panels(ts, events, sim)
    over_time = Section("Over time", intro="Workers by where they work and firms by county "
                        "kind, per year; shock windows shaded.")
    windows = shock_windows(cfg)
    fig, axes = style.figure(1, 1, width=7.5, height=3.4)
    ax = axes[0, 0]
    jobs = ts.groupby(["year", "kind"]).poverty_pop_local_jobs.sum().unstack("kind")
    shade_windows(ax, windows, (jobs.index.min(), jobs.index.max()))
    for i, kind in enumerate(jobs.columns):
        ax.plot(jobs.index, jobs[kind] / 1e3, color=style.colour(i), ls=style.LINESTYLES[i],
                label=kind)
    ax.set(xlabel="year", ylabel="thousand persons",
           title="Poverty-alleviated persons in local jobs, by county kind")
    style.year_axis(ax)
    style.legend_outside(ax)
    over_time.figure("Poverty-alleviated local jobs", fig,
                     "By the kind of county they work in; the grey band is the shock window.")
    over_time.figure("Workers and firms", panels["labor_and_firms.png"])
    sections.append(over_time)

    survival = Section("Survival of firms in poverty counties")
    survival.figure("Kaplan-Meier survival", panels["survival.png"],
                    "Spells from arrival (entry or relocation into a poverty county) and from "
                    "package expiry; 95 % band; dotted: the median package length; numbers at "
                    "risk below.")
    sections.append(survival)

    cuts = Section("By zone and development type")
    zone = {k.removeprefix("poverty_local_job_years_"): record.get(k) for k in SUMMARY_DOC
            if k.startswith("poverty_local_job_years_") and k != "poverty_local_job_years_"
            "discounted"}
    types = {k.removeprefix("local_jobs_poverty_").removesuffix("_end"): record.get(k)
             for k in SUMMARY_DOC if k.startswith("local_jobs_poverty_") and k.endswith("_end")
             and k != "local_jobs_poverty_end"}
    cuts.table("Poverty-alleviated local job-years by zone",
               pd.DataFrame({"zone": list(zone), "job-years": list(zone.values())}),
               precision=0)
    cuts.table("Local jobs in poverty counties by development type, end",
               pd.DataFrame({"type": list(types), "persons": list(types.values())}),
               precision=0)
    sections.append(cuts)

    money = Section("The governments' spending choices")
    if len(government):
        by_kind = government.groupby("kind")[[c for c in government.columns
                                              if c.startswith("spent_")
                                              and c != "spent_total"]].sum()
        fig, axes = style.figure(1, 1, width=7.0, height=2.6)
        spending_panel(axes[0, 0], by_kind)
        axes[0, 0].set_title("County governments' spending over the run, by use")
        style.legend_outside(axes[0, 0])
        money.figure("Spending by use", fig, "Summed over the years and the counties of "
                     "each kind.")
    sections.append(money)

    where = Section("Where: a schematic county map")
    counties = counties_frame(sim.counties)
    spent = (government.groupby("county").spent_total.sum() if len(government)
             else pd.Series(dtype=float))
    counties["spent_total"] = counties.county.map(spent).fillna(0.0)
    fig, axes = style.figure(1, 1, width=8.0, height=3.4)
    county_map(axes[0, 0], counties, "spent_total", "government spending over the run")
    where.figure("Counties", fig, "Each dot a county: west (left) to east by distance to the "
                 "eastern hub, one row per county kind, colour = its primary zone.")
    sections.append(where)

    meta = {"run_id": record.get("run_id"), "world": cfg.world.name,
            "policy": cfg.policy.name, "shock": cfg.shock.name, "seed": cfg.run.seed,
            "years": f"{cfg.run.start_year}-{cfg.run.start_year + cfg.run.years}"}
    return write_report(Path(out_dir) / REPORT,
                        f"Run {cfg.world.name} / {cfg.policy.name} / {cfg.shock.name}, "
                        f"seed {cfg.run.seed}", sections, meta=meta,
                        subtitle="One run of transfer-sim: its indicators, paths, firm "
                                 "survival, the governments' choices and the map.")
