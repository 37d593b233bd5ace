"""The classroom demo: the teaching world in the browser (Mesa SolaraViz).

Start it with ``.venv/bin/python -m sim.app`` and open http://127.0.0.1:8765 (for a class:
``--host 0.0.0.0``; see :func:`server_command`). The sidebar holds the levers -- KPI regime,
package length, special fund and its allocation, training budget, credibility, which
industries packages target (all, or the paper's rule of thumb), township workshops, shock and
seed -- which take effect on **Reset**, and the Step / play / Reset buttons. The page shows a
schematic map of the counties from west to east with their zones, the workers of inland
counties (local jobs, outbound, home), jobs of poverty-county residents by development type,
firms by region, the Kaplan-Meier survival of transferred firms and what poverty-county
governments spent their money on (packages, retention at expiry, training, infrastructure,
returned).

The plots are ECharts charts drawn by the browser: the server only sends their data (0.04 s
of CPU a step, against 0.78 s for the matplotlib PNGs before), so a step at render interval 1
takes about 0.1 s on a 2-core machine (``scripts/bench_app.py``). Nothing is fetched from
the network: Solara's telemetry and version check are off, its assets (scripts, fonts,
ECharts) come from the local ``solara-assets`` package, nothing on the page uses KaTeX (which
that package lacks), and the asset proxy's upstream is a dead loopback address, so a missing
asset fails instead of being downloaded.

Each browser session gets its own model; on a non-loopback address the number of sessions is
capped and sessions whose tab has gone are closed after a few idle minutes.
"""

from __future__ import annotations

import ipaddress
import os
import sys
import threading
from pathlib import Path

# Solara reads these when its settings are first imported, so they are set before any solara
# import (the server process is started by `main` with them in its environment as well).
OFFLINE_ENVIRONMENT = {
    "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",   # usage analytics (and its IP look-up)
    "SOLARA_TELEMETRY_SENTRY_ENABLE": "False",     # error reports, in newer Solara releases
    # Upstream of Solara's asset proxy: every asset the page uses is in solara-assets, so
    # anything else must fail here rather than be fetched from a CDN.
    "SOLARA_ASSETS_CDN": "http://127.0.0.1:9/offline/",
}
os.environ.update(OFFLINE_ENVIRONMENT)

import numpy as np  # noqa: E402
import solara  # noqa: E402
import solara.server.settings  # noqa: E402
import solara.settings  # noqa: E402

from sim.agents import import_mesa  # noqa: E402
from sim.codes import (  # noqa: E402
    DEVELOPMENT_TYPES,
    KINDS,
    MONTHS_PER_YEAR,
    OUTBOUND,
    POVERTY,
    Zone,
)
from sim.config import FUND_ALLOCATIONS, presets  # noqa: E402
from sim.development import ZONE_PRIORITY, primary_zone  # noqa: E402
from sim.mesa_model import TransferModel  # noqa: E402

# `solara run sim/app.py` imports solara's settings before this file: switch them off here too.
solara.server.settings.telemetry.mixpanel_enable = False
solara.settings.assets.cdn = OFFLINE_ENVIRONMENT["SOLARA_ASSETS_CDN"]

import_mesa()  # keeps the multiprocessing start method (see sim.agents)
from mesa.visualization import SolaraViz  # noqa: E402
from mesa.visualization.utils import update_counter  # noqa: E402

TITLE = "Industrial transfer to poverty-alleviated counties"
REGION_COLOURS = {"east": "#1f77b4", "central": "#ff7f0e", "west": "#2ca02c"}
# The paper's zones (sim.codes.Zone): a letter and a colour each, most specific first.
ZONE_STYLE = {Zone.BORDER.label: ("B", "#1f3fbf"), Zone.ETHNIC.label: ("E", "#9467bd"),
              Zone.REVOLUTIONARY_BASE.label: ("R", "#d62728"),
              Zone.TRANSFER_RECEIVING.label: ("T", "#8c564b"),
              Zone.SERVICE_HUB.label: ("H", "#e377c2")}
NO_ZONE_COLOUR = "#c7c7c7"
LOCAL_SHARE_COLOURS = ["#ffffe5", "#d9f0a3", "#78c679", "#238443", "#004529"]  # YlGn
LOCAL_SHARE_MAX = 0.6
# "Target packages at" (policy.selection): the values the sidebar shows.
SELECTIONS = {"all industries": "none", "the rule of thumb": "rule"}
# "Township workshops" (policy.node_workshop_rate, 1/year per inland headquarters).
WORKSHOPS = {"none": 0.0, "5 % of HQs a year": 0.05, "10 % of HQs a year": 0.1}

# Sessions on a non-loopback address (a class): defaults of `--max-sessions` and
# `--idle-minutes`. One session (its model and page) holds about 10 MB.
CLASS_MAX_SESSIONS = 40
CLASS_IDLE_MINUTES = 10
MAX_SESSIONS_ENV = "TSIM_APP_MAX_SESSIONS"


class ClassroomModel(TransferModel):
    """The teaching world with the levers a class plays with, in classroom units.

    Args:
        kpi_regime: ``count`` (status quo: count new firms) or ``reform`` (the
            ``kpi_reform`` preset: officials scored on survival, growth and chain matches,
            who may retain firms at expiry).
        package_years: length of attraction packages (years).
        special_fund_bn: national special fund (billion yuan per year).
        fund_allocation: ``core`` (key-assistance counties and resettlement sites), ``even``
            or ``need``.
        training_budget: national training budget (yuan per person-year, poverty counties).
        credibility: chance a promised subsidy payment is made.
        target_packages_at: ``all industries`` (``policy.selection=none``) or ``the rule of
            thumb`` (``rule``: each county targets the industries the paper's rule selects);
            ``none`` and ``rule`` are accepted too.
        township_workshops: township workshops opened a year per inland headquarters
            (``policy.node_workshop_rate``; the ``build_nodes`` preset uses 0.05), a key of
            :data:`WORKSHOPS` or a number.
        shock: shock preset (``none``, ``export_2022``, ``pandemic_2020``, ``sanctions``).
        seed: the run's seed.
        years: length of the run.
        engine: ``numba`` or ``reference``.
    """

    def __init__(self, kpi_regime: str = "count", package_years: int = 3,
                 special_fund_bn: float = 0.0, fund_allocation: str = "core",
                 training_budget: float = 0.0, credibility: float = 0.85,
                 target_packages_at: str = "all industries",
                 township_workshops: str | float = "none",
                 shock: str = "none", seed: int = 0, years: int = 20, engine: str = "numba"):
        selection = SELECTIONS.get(target_packages_at, target_packages_at)
        workshop_rate = float(WORKSHOPS.get(township_workshops, township_workshops))
        super().__init__(world="teaching",
                         policy="kpi_reform" if kpi_regime == "reform" else "baseline",
                         shock=shock, engine=engine, seed=int(seed), years=int(years),
                         policy_years=float(package_years),
                         special_fund=float(special_fund_bn) * 1e9,
                         fund_allocation=fund_allocation,
                         training_budget=float(training_budget),
                         credibility=float(credibility),
                         overrides=(f"policy.selection={selection}",
                                    f"policy.node_workshop_rate={workshop_rate:g}"),
                         # the class sees the charts, not per-agent tables (saves ~8 ms a step)
                         agent_reporters=False)
        # While playing, the model steps in a task thread and the page may re-render from
        # the websocket thread: charts read the model only between steps.
        self.lock = threading.RLock()

    def step(self) -> None:
        with self.lock:
            super().step()


MODEL_PARAMS = {
    "kpi_regime": {"type": "Select", "value": "count", "values": ["count", "reform"],
                   "label": "KPI regime"},
    "package_years": {"type": "SliderInt", "value": 3, "min": 0, "max": 8, "step": 1,
                      "label": "Package length (years)"},
    "special_fund_bn": {"type": "SliderInt", "value": 0, "min": 0, "max": 100, "step": 10,
                        "label": "Special fund (bn yuan/year)"},
    "fund_allocation": {"type": "Select", "value": "core", "values": list(FUND_ALLOCATIONS),
                        "label": "Fund allocation"},
    "training_budget": {"type": "SliderInt", "value": 0, "min": 0, "max": 1000, "step": 50,
                        "label": "Training budget (yuan/person-year)"},
    "credibility": {"type": "SliderFloat", "value": 0.85, "min": 0.0, "max": 1.0,
                    "step": 0.05, "label": "Credibility of promises"},
    "target_packages_at": {"type": "Select", "value": "all industries",
                           "values": list(SELECTIONS), "label": "Target packages at"},
    "township_workshops": {"type": "Select", "value": "none", "values": list(WORKSHOPS),
                           "label": "Township workshops (from inland HQs)"},
    "shock": {"type": "Select", "value": "none", "values": presets("shock"), "label": "Shock"},
    "seed": {"type": "SliderInt", "value": 0, "min": 0, "max": 20, "step": 1, "label": "Seed"},
}

# Mesa's sliders show their value only while dragged; Vuetify keeps the value bubble in the
# page, hidden, so it is shown always (with room above each slider for it).
PAGE_CSS = """
.v-slider__thumb-label-container { display: block !important; }
.v-navigation-drawer .v-input__slider { padding-top: 22px; }
.tsim-caption { font-size: 0.8em; margin: 0 0 4px 8px; }
.tsim-plots { display: grid; grid-template-columns: repeat(auto-fill, minmax(480px, 1fr));
              gap: 12px; width: 100%; }
.tsim-plots > div { background: white; border-radius: 4px; padding: 4px; }
.tsim-plots > .tsim-map { grid-column: 1 / -1; }
"""
CHART_HEIGHT = "330px"


# --- what the charts show (plain data: no plotting library on the server) -------------------

def county_zones(model: TransferModel) -> tuple[list[str], list[str]]:
    """Each county's primary zone (``sim.development.primary_zone``, or ``none``) and the
    letters of all its zones (:data:`ZONE_STYLE`, most specific first; ``""`` for none)."""
    counties = model.sim.counties
    letters = ["".join(ZONE_STYLE[zone.label][0] for zone in ZONE_PRIORITY
                       if getattr(counties, zone.label)[c]) for c in range(counties.n)]
    return primary_zone(counties), letters


def jobs_by_type(model: TransferModel) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Jobs of poverty-county residents by development type this month (persons).

    Returns ``local`` (zone, type): employment by firms in poverty counties grouped by the
    county's primary zone (the zones in :data:`ZONE_STYLE` order, then ``none``);
    ``outbound`` (women / men, type): residents of poverty counties in outbound jobs, by the
    trade of the job (labour export: domestic service, catering stores, factory work); and
    the zone labels of the rows of ``local``.
    """
    sim = model.sim
    per = sim.world.persons_per_agent
    n_types = len(DEVELOPMENT_TYPES)
    types = np.asarray(sim.ind.development_type, dtype=np.int64)
    poverty = sim.counties.kind == POVERTY
    zones = [*ZONE_STYLE, "none"]
    primary = np.array(primary_zone(sim.counties))
    by_county = np.zeros((sim.counties.n, n_types))
    np.add.at(by_county.T, types, sim.state.industry_employment.T)
    local = np.array([by_county[poverty & (primary == zone)].sum(axis=0) for zone in zones])
    w = sim.workers
    out = (w.status == OUTBOUND) & poverty[w.home_county]
    trade = types[w.outbound_industry[out].astype(np.int64)]
    female = w.female[out].astype(bool)
    outbound = np.array([np.bincount(trade[female], minlength=n_types),
                         np.bincount(trade[~female], minlength=n_types)], dtype=float)
    return local * per, outbound * per, zones


# --- ECharts options (JSON-ready dicts; the browser draws them) -----------------------------

TEXT_STYLE = {"fontSize": 13}


def _title(text: str, subtext: str = "") -> dict:
    return {"text": text, "subtext": subtext, "left": "center", "top": 0,
            "textStyle": TEXT_STYLE, "subtextStyle": {"fontSize": 11}}


def _run_years(model: TransferModel) -> tuple[float, float]:
    start = model.cfg.run.start_year
    return start, start + model.cfg.run.years


YEAR_MS = 365.25 * 24 * 3600 * 1000


def _month_stamps(years) -> np.ndarray:
    """Calendar years (2017.25 = April 2017) as the first of their month in ms since 1970,
    the unit of ECharts' time axis (whose labels, unlike a value axis's, read 2019, not
    2,019)."""
    months = np.rint((np.asarray(years, dtype=float) - 1970) * MONTHS_PER_YEAR).astype(np.int64)
    return months.astype("datetime64[M]").astype("datetime64[ms]").astype(np.int64)


def _year_axis(model: TransferModel) -> dict:
    start, end = _month_stamps(_run_years(model))
    return {"type": "time", "name": "year", "nameLocation": "middle", "nameGap": 24,
            "min": int(start), "max": int(end), "minInterval": YEAR_MS,
            "splitLine": {"show": False}, "axisLabel": {"formatter": "{yyyy}"}}


def _value_axis(name: str, **extra) -> dict:
    return {"type": "value", "name": name, "nameLocation": "middle", "nameGap": 42,
            "min": 0, **extra}


def _placeholder(text: str) -> dict:
    """A grey note in the middle of an empty plot."""
    return {"type": "text", "left": "center", "top": "middle",
            "style": {"text": text, "fill": "#888", "fontSize": 13}}


STEP_ZERO_NOTE = "the start of the run: press Step or ▶"


def _line(name: str, x, y, colour: str | None = None, dashed: bool = False) -> dict:
    points = [[round(float(a), 4), round(float(b), 3)] for a, b in zip(x, y, strict=True)]
    series = {"type": "line", "name": name, "data": points, "showSymbol": len(points) < 2,
              "symbolSize": 6, "lineStyle": {"width": 2}}
    if colour:
        series["itemStyle"] = {"color": colour}
    if dashed:
        series["lineStyle"]["type"] = "dashed"
    return series


def _base(title: dict, legend: list[str] | None = None, **extra) -> dict:
    option = {"animation": False, "title": title, "tooltip": {"trigger": "axis"},
              "grid": {"left": 62, "right": 18, "top": 58, "bottom": 44}, **extra}
    if legend:
        option["legend"] = {"data": legend, "top": 22, "textStyle": {"fontSize": 11}}
    return option


def map_option(model: TransferModel) -> dict:
    """Counties from west (left) to east (right) by distance to the eastern hub, one row per
    county kind; colour = share of residents in local jobs, size and number = firms, square =
    resettlement site, bold ring = key assistance, letters = the county's zones (coloured by
    its primary zone)."""
    counties = model.county_frame()
    primary, letters = county_zones(model)
    x = -counties.distance_km.to_numpy()
    rows = [KINDS[POVERTY - r] for r in range(len(KINDS))]  # bottom to top: poverty first
    share = (counties.local_jobs / counties.residents.clip(lower=1)).to_numpy()
    points = {False: [], True: []}
    zone_points: dict[str, list] = {label: [] for label in ZONE_STYLE}
    for c in range(len(counties)):
        kind = counties.kind.iat[c]
        firms = int(counties.firms.iat[c])
        key = bool(counties.key_assistance.iat[c])
        # A small vertical offset (pixels) so neighbours in one row do not hide each other.
        dy = 7 * ((c * 7) % 5 - 2)
        points[bool(counties.resettlement_site.iat[c])].append({
            "value": [round(float(x[c]), 1), kind, round(float(share[c]), 3)],
            "name": f"county {c} ({counties.region.iat[c]}, {kind})",
            "symbolSize": round(float(np.sqrt(80 + 45 * firms) * 1.25), 1),
            "symbolOffset": [0, dy],
            "label": {"show": True, "formatter": str(firms), "offset": [0, dy]},
            "itemStyle": {"borderColor": "black" if key else "#888",
                          "borderWidth": 2.5 if key else 0.8},
        })
        if letters[c]:
            zone_points[primary[c]].append({
                "value": [round(float(x[c]), 1), kind],
                "label": {"formatter": letters[c],
                          "offset": [0.6 * np.sqrt(80 + 45 * firms) + 4, dy - 10]}})
    bands = []
    for region, colour in REGION_COLOURS.items():
        sel = (counties.region == region).to_numpy()
        if sel.any():
            bands.append([{"name": region, "xAxis": float(x[sel].min() - 40),
                           "itemStyle": {"color": colour, "opacity": 0.08},
                           "label": {"color": colour, "position": "insideTop"}},
                          {"xAxis": float(x[sel].max() + 40)}])
    series = []
    for resettlement, symbol in ((False, "circle"), (True, "rect")):
        series.append({"type": "scatter", "name": "resettlement site" if resettlement
                       else "county", "symbol": symbol, "data": points[resettlement],
                       "label": {"position": "inside", "fontSize": 10, "color": "#222"},
                       **({"markArea": {"silent": True, "data": bands}} if not resettlement
                          else {})})
    present = [label for label in ZONE_STYLE if zone_points[label]]
    for label in present:
        letter, colour = ZONE_STYLE[label]
        series.append({"type": "scatter", "name": f"{letter} {label.replace('_', ' ')}",
                       "data": zone_points[label], "symbolSize": 0, "silent": True,
                       "itemStyle": {"color": colour},
                       "label": {"show": True, "position": "inside", "fontSize": 10,
                                 "fontWeight": "bold", "color": colour}})
    return {
        "animation": False,
        "title": _title(f"Counties in {model.year:.1f}",
                        "number = firms · square = resettlement site · bold ring = key "
                        "assistance · letters = zones"),
        "tooltip": {"trigger": "item", "formatter": "{b}: share in local jobs {@[2]}"},
        "grid": {"left": 70, "right": 80, "top": 62, "bottom": 66},
        "legend": {"data": [s["name"] for s in series[2:]], "bottom": 0,
                   "textStyle": {"fontSize": 10}, "itemWidth": 0, "itemHeight": 0},
        "xAxis": {"type": "value", "name": "west ←   km from the eastern hub   → east",
                  "nameLocation": "middle", "nameGap": 24, "scale": True,
                  "splitLine": {"show": False}},
        "yAxis": {"type": "category", "data": rows, "splitLine": {"show": True}},
        "visualMap": {"type": "continuous", "min": 0.0, "max": LOCAL_SHARE_MAX,
                      "dimension": 2, "seriesIndex": [0, 1], "inRange":
                      {"color": LOCAL_SHARE_COLOURS}, "right": 14, "top": 92,
                      "itemHeight": 140, "text": [f"{LOCAL_SHARE_MAX:g}", "0"],
                      "textStyle": {"fontSize": 10}, "calculable": False},
        "graphic": [{"type": "text", "right": 4, "top": 52,
                     "style": {"text": "share in\nlocal jobs", "fontSize": 10,
                               "lineHeight": 13, "fill": "#444", "align": "center"}}],
        "series": series,
    }


def workers_option(model: TransferModel) -> dict:
    """Inland workers (central and poverty counties) by where they work."""
    data = model.datacollector.get_model_vars_dataframe()
    columns = ("Local jobs", "Outbound", "Home", "Poverty-alleviated in local jobs")
    when = _month_stamps(data["Year"])
    series = [_line(column, when, data[column] / 1e3) for column in columns]
    option = _base(_title("Inland workers"), list(columns), xAxis=_year_axis(model),
                   yAxis=_value_axis("thousand persons"), series=series)
    if len(data) < 2:
        option["graphic"] = [_placeholder(STEP_ZERO_NOTE)]
    return option


def firms_option(model: TransferModel) -> dict:
    """Firms alive by region, and those in poverty counties."""
    data = model.datacollector.get_model_vars_dataframe()
    when = _month_stamps(data["Year"])
    series = [_line(region, when, data[f"Firms {region}"], colour)
              for region, colour in REGION_COLOURS.items()]
    series.append(_line("in poverty counties", when, data["Firms in poverty counties"],
                        "black", dashed=True))
    # At step 0 the lines are single points: the axis still counts whole firms from 0.
    option = _base(_title("Firms by region"), [s["name"] for s in series],
                   xAxis=_year_axis(model),
                   yAxis=_value_axis("firms alive", minInterval=1), series=series)
    if len(data) < 2:
        option["graphic"] = [_placeholder(STEP_ZERO_NOTE)]
    return option


def survival_option(model: TransferModel) -> dict:
    """Kaplan-Meier survival of firm spells in poverty counties that began in the run."""
    curve = model.survival()
    expiry = model.cfg.policy.policy_years
    # Wide enough to show the package expiry from the start (the question is whether the
    # curve drops before or after it).
    horizon = max(model.sim.step_index / MONTHS_PER_YEAR, expiry + 0.5, 1.0)
    option = _base(_title(f"Survival of transferred firms ({curve.spells} arrivals)"),
                   xAxis={"type": "value", "name": "years since arrival",
                          "nameLocation": "middle", "nameGap": 24, "min": 0,
                          "max": round(horizon, 3), "splitLine": {"show": False}},
                   yAxis=_value_axis("share still operating", max=1.0, interval=0.2),
                   series=[])
    if curve.spells == 0:
        option["graphic"] = [_placeholder("no firm has arrived in a poverty county yet")]
        return option
    x = np.concatenate([[0.0], curve.years, [curve.longest_years]])
    last = curve.survival[-1] if curve.survival.size else 1.0
    y = np.concatenate([[1.0], curve.survival, [last]])
    line = _line("survival", x, y, "#d62728")
    line["step"] = "end"
    if expiry > 0:
        line["markLine"] = {"silent": True, "symbol": "none", "data": [{"xAxis": expiry}],
                            "lineStyle": {"color": "grey", "type": "dotted"},
                            "label": {"formatter": "package expires", "position": "end",
                                      "color": "grey"}}
    option["series"] = [line]
    return option


SPENDING_USES = {"spent_packages": "packages", "spent_retention": "retention at expiry",
                 "spent_training": "training", "spent_infrastructure": "infrastructure",
                 "returned": "returned unspent"}


def governments_option(model: TransferModel) -> dict:
    """What poverty-county governments did with their money in each year completed so far
    (million yuan); a year's bar appears when the year ends."""
    start, end = _run_years(model)
    years = list(range(int(start), int(end)))
    done = int(model.sim.step_index // MONTHS_PER_YEAR)
    option = _base(_title(f"Poverty-county governments' money (KPI {model.cfg.policy.kpi})"),
                   list(SPENDING_USES.values()),
                   xAxis={"type": "category", "data": [str(y) for y in years],
                          "name": "year", "nameLocation": "middle", "nameGap": 24},
                   yAxis=_value_axis("million yuan"), series=[])
    option["tooltip"]["axisPointer"] = {"type": "shadow"}
    option["grid"]["top"] = 76  # the legend takes two lines
    if done == 0:
        option["graphic"] = [_placeholder("each year's spending appears when the year ends")]
        by_year = None
    else:
        table = model.government_frame()
        table = table[(table.kind == KINDS[POVERTY]) & (table.year < start + done)]
        by_year = table.groupby("year")[list(SPENDING_USES)].sum() / 1e6
    for column, label in SPENDING_USES.items():
        values = [None if by_year is None or y not in by_year.index
                  else round(float(by_year.at[y, column]), 2) for y in years]
        option["series"].append({"type": "bar", "name": label, "stack": "money",
                                 "data": values, "barWidth": "70%"})
    return option


def types_option(model: TransferModel) -> dict:
    """Jobs of poverty-county residents by development type this month: at home (stacked by
    the county's primary zone, coloured as on the map) and outbound (women / men)."""
    local, outbound, zones = jobs_by_type(model)
    names = [t.replace("_", " ") for t in DEVELOPMENT_TYPES]
    series = []
    for zone, row in zip(zones, local / 1e3, strict=True):
        if row.any():
            colour = ZONE_STYLE[zone][1] if zone in ZONE_STYLE else NO_ZONE_COLOUR
            series.append({"type": "bar", "name": zone.replace("_", " "), "stack": "local",
                           "xAxisIndex": 0, "yAxisIndex": 0, "itemStyle": {"color": colour},
                           "data": [round(float(v), 3) for v in row]})
    # Totals at the bar ends: a stacked series of zeros whose labels carry the sums.
    totals = local.sum(axis=0) / 1e3
    series.append({"type": "bar", "name": "total", "stack": "local", "xAxisIndex": 0,
                   "yAxisIndex": 0, "silent": True, "tooltip": {"show": False},
                   "data": [{"value": 0, "label": {"show": True, "position": "right",
                                                   "formatter": f"{t:.1f}", "fontSize": 10}}
                            for t in totals]})
    for sex, row, colour in (("women", outbound[0], "#e7969c"),
                             ("men", outbound[1], "#9ecae1")):
        series.append({"type": "bar", "name": sex, "stack": "outbound", "xAxisIndex": 1,
                       "yAxisIndex": 1, "itemStyle": {"color": colour},
                       "data": [round(float(v) / 1e3, 3) for v in row]})
    selection = model.cfg.policy.selection
    target = next((k for k, v in SELECTIONS.items() if v == selection), selection)
    category = {"type": "category", "data": names, "inverse": True}
    legend = [s["name"] for s in series if s["name"] != "total"]
    return {
        "animation": False,
        "title": [_title(f"Jobs of poverty-county residents by development type, "
                         f"{model.year:.1f}", f"packages target: {target}"),
                  {"text": "local jobs (firms at home)", "left": "22%", "top": 40,
                   "textStyle": {"fontSize": 11}},
                  {"text": "outbound jobs (by trade)", "left": "68%", "top": 40,
                   "textStyle": {"fontSize": 11}}],
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "legend": {"data": legend, "bottom": 0, "textStyle": {"fontSize": 10},
                   "itemWidth": 14},
        "grid": [{"left": 120, "width": "36%", "top": 62, "bottom": 80},
                 {"left": "66%", "right": 16, "top": 62, "bottom": 80}],
        # Room on the right of the local bars for their totals; 0..1 while still empty.
        "xAxis": [{**_value_axis("thousand persons", nameGap=22), "gridIndex": 0,
                   "boundaryGap": [0, "25%"], **({} if totals.any() else {"max": 1})},
                  {**_value_axis("thousand persons", nameGap=22), "gridIndex": 1,
                   **({} if outbound.any() else {"max": 1})}],
        "yAxis": [{**category, "gridIndex": 0},
                  {**category, "gridIndex": 1, "axisLabel": {"show": False}}],
        "series": series,
    }


# --- page ----------------------------------------------------------------------------------

def _chart(option: dict, css_class: str):
    return solara.Div(classes=[css_class], children=[solara.FigureEcharts(
        option=option, attributes={"style": f"height: {CHART_HEIGHT}; width: 100%;"},
        responsive=True)])


def run_caption(model: TransferModel) -> str:
    """One line on what the running model uses (the levers apply on Reset)."""
    p = model.cfg.policy
    return (f"{model.year:.2f} · policy {p.name} (KPI {p.kpi}) · package "
            f"{p.policy_years:g} y · fund {p.special_fund / 1e9:g} bn ({p.fund_allocation})"
            f" · training {p.training_budget:g} · credibility {p.credibility:g} · "
            f"targets {p.selection} · workshops {p.node_workshop_rate:g} · shock "
            f"{model.cfg.shock.name} · seed {model.cfg.run.seed} (levers apply on Reset)")


@solara.component
def Charts(model: ClassroomModel):  # noqa: N802  (a Solara component function)
    """The caption and the six charts; redrawn on every step (Mesa's update counter)."""
    update_counter.get()
    with model.lock:
        options = {"tsim-map": map_option(model), "tsim-workers": workers_option(model),
                   "tsim-types": types_option(model), "tsim-firms": firms_option(model),
                   "tsim-survival": survival_option(model)}
        caption = run_caption(model)
        # Changes once a year: rebuilt only when a year has ended.
        money = solara.use_memo(lambda: governments_option(model),
                                [model, model.sim.step_index // MONTHS_PER_YEAR])
    options["tsim-governments"] = money
    with solara.Column(style={"width": "100%"}) as main:
        # Plain text, not Markdown: Solara's Markdown loads KaTeX, which is not local.
        solara.Text(caption, classes=["tsim-caption"])
        with solara.Div(classes=["tsim-plots"]):
            for css_class, option in options.items():
                _chart(option, css_class)
    return main


# --- sessions --------------------------------------------------------------------------------

class SessionGate:
    """At most ``capacity`` live sessions (browser tabs with a model); ``None`` = no cap.

    A session is admitted when its page first renders and released when Solara closes its
    kernel (the tab closed, or culled after the idle timeout).
    """

    def __init__(self, capacity: int | None):
        self.capacity = capacity
        self._live: set[str] = set()
        self._lock = threading.Lock()

    def admit(self, session: str) -> bool:
        with self._lock:
            if session in self._live:
                return True
            if self.capacity is not None and len(self._live) >= self.capacity:
                return False
            self._live.add(session)
            return True

    def release(self, session: str) -> None:
        with self._lock:
            self._live.discard(session)

    @property
    def live(self) -> int:
        return len(self._live)


def _capacity_from_environment() -> int | None:
    value = os.environ.get(MAX_SESSIONS_ENV, "")
    return int(value) if value else None


SESSIONS = SessionGate(_capacity_from_environment())


def _admit_current_session() -> bool:
    """Admit this browser session (its Solara kernel) and release it when the kernel closes."""
    from solara.server import kernel_context

    if not kernel_context.has_current_context():  # e.g. rendered outside a server
        return True
    context = kernel_context.get_current_context()
    if not SESSIONS.admit(context.id):
        return False
    context.on_close(lambda: SESSIONS.release(context.id))
    return True


@solara.component
def Page():
    """The app: one model per browser session."""
    admitted = solara.use_memo(_admit_current_session, [])
    first_model = solara.use_memo(lambda: ClassroomModel() if admitted else None, [])
    model = solara.use_reactive(first_model)
    with solara.Column(style={"width": "100%"}) as main:
        solara.Title(TITLE)
        solara.Style(PAGE_CSS)
        if not admitted:
            solara.Error(f"The class is full: all {SESSIONS.capacity} places on this server "
                         "are taken. Close a tab you no longer use, or try again in a few "
                         "minutes.")
            return main
        SolaraViz(model, components=[], model_params=MODEL_PARAMS, name=TITLE,
                  play_interval=61)
        Charts(model.value)
    return main


# --- serving -----------------------------------------------------------------------------------

def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address) is this machine's loopback."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _pop_option(args: list[str], name: str) -> str | None:
    if name not in args:
        return None
    i = args.index(name)
    if i + 1 >= len(args):
        raise ValueError(f"{name} needs a value")
    value = args[i + 1]
    del args[i:i + 2]
    return value


def _positive_int(name: str, value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise ValueError(f"{name} = {value!r}; allowed: a whole number >= 1")
    return number


def server_command(argv: list[str]) -> tuple[list[str], dict[str, str]]:
    """The ``solara run`` command line and environment that serve the app.

    ``python -m sim.app [--port N] [--host H] [--max-sessions N] [--idle-minutes M] [solara
    run options]``. On a non-loopback host (``--host 0.0.0.0`` for a class) at most
    ``--max-sessions`` (default :data:`CLASS_MAX_SESSIONS`) tabs run a model at once and a
    session whose tab has gone is closed after ``--idle-minutes`` (default
    :data:`CLASS_IDLE_MINUTES`; Solara's ``SOLARA_KERNEL_CULL_TIMEOUT``, otherwise 24 h). On
    loopback both apply only when given. Telemetry, the version check and CDN downloads are
    always off.

    Raises:
        ValueError: a session option without a value, or not a whole number >= 1.
    """
    args = list(argv)
    max_sessions = _pop_option(args, "--max-sessions")
    idle_minutes = _pop_option(args, "--idle-minutes")
    if "--port" not in args:
        args += ["--port", "8765"]
    if "--host" not in args:
        args += ["--host", "127.0.0.1"]
    host = args[args.index("--host") + 1]
    env = dict(os.environ, **OFFLINE_ENVIRONMENT)
    env.pop(MAX_SESSIONS_ENV, None)
    if not is_loopback(host):
        max_sessions = max_sessions or str(CLASS_MAX_SESSIONS)
        idle_minutes = idle_minutes or str(CLASS_IDLE_MINUTES)
    if max_sessions is not None:
        env[MAX_SESSIONS_ENV] = str(_positive_int("--max-sessions", max_sessions))
    if idle_minutes is not None:
        env["SOLARA_KERNEL_CULL_TIMEOUT"] = f"{_positive_int('--idle-minutes', idle_minutes)}m"
    cmd = [sys.executable, "-m", "solara", "run", str(Path(__file__).resolve()),
           "--production", "--no-open", "--no-check-version", *args]
    return cmd, env


def main(argv: list[str] | None = None) -> None:
    """``python -m sim.app [options]``: serve the app (see :func:`server_command`)."""
    try:
        cmd, env = server_command(sys.argv[1:] if argv is None else argv)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    os.execve(sys.executable, cmd, env)


if __name__ == "__main__" and "solara.server.server" not in sys.modules:
    main()  # `python -m sim.app`; solara itself also runs this file as __main__
