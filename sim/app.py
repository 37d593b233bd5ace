"""The classroom demo: the teaching world in the browser (Mesa SolaraViz).

Start it with ``.venv/bin/python -m sim.app`` (or ``.venv/bin/solara run sim/app.py``) and open
http://localhost:8765. The sidebar holds the levers -- KPI regime, package length, special
fund and its allocation, training budget, credibility, which industries packages target
(all, or the paper's rule of thumb), township workshops, shock and seed -- which take effect
on **Reset**, and the Step / play / Reset buttons. The page shows a schematic map of the
counties from west to east with their zones, the workers of inland counties (local jobs,
outbound, home), jobs of poverty-county residents by development type, firms by region, the
Kaplan-Meier survival of transferred firms and what poverty-county governments spent their
money on (packages, retention at expiry, training, infrastructure, returned). Nothing is
fetched from the network: the map is drawn from the counties' region and distance alone.

Each browser session gets its own model.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import solara
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from sim.agents import import_mesa
from sim.codes import DEVELOPMENT_TYPES, KINDS, MONTHS_PER_YEAR, OUTBOUND, POVERTY, Kind, Zone
from sim.config import FUND_ALLOCATIONS, presets
from sim.development import ZONE_PRIORITY, primary_zone
from sim.mesa_model import TransferModel

import_mesa()  # keeps the multiprocessing start method (see sim.agents)
from mesa.visualization import SolaraViz  # noqa: E402

TITLE = "Industrial transfer to poverty-alleviated counties"
REGION_COLOURS = {"east": "#1f77b4", "central": "#ff7f0e", "west": "#2ca02c"}
DPI = 80
# The paper's zones (sim.codes.Zone): a letter and a colour each, most specific first.
ZONE_STYLE = {Zone.BORDER.label: ("B", "#1f3fbf"), Zone.ETHNIC.label: ("E", "#9467bd"),
              Zone.REVOLUTIONARY_BASE.label: ("R", "#d62728"),
              Zone.TRANSFER_RECEIVING.label: ("T", "#8c564b"),
              Zone.SERVICE_HUB.label: ("H", "#e377c2")}
NO_ZONE_COLOUR = "#c7c7c7"
# "Target packages at" (policy.selection): the values the sidebar shows.
SELECTIONS = {"all industries": "none", "the rule of thumb": "rule"}
# "Township workshops" (policy.node_workshop_rate, 1/year per inland headquarters).
WORKSHOPS = {"none": 0.0, "5 % of HQs a year": 0.05, "10 % of HQs a year": 0.1}


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
                                    f"policy.node_workshop_rate={workshop_rate:g}"))


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


# --- figures (plain matplotlib Figures: no pyplot state shared between sessions) -------------

def county_zones(model: TransferModel) -> tuple[list[str], list[str]]:
    """Each county's primary zone (``sim.development.primary_zone``, or ``none``) and the
    letters of all its zones (:data:`ZONE_STYLE`, most specific first; ``""`` for none)."""
    counties = model.sim.counties
    letters = ["".join(ZONE_STYLE[zone.label][0] for zone in ZONE_PRIORITY
                       if getattr(counties, zone.label)[c]) for c in range(counties.n)]
    return primary_zone(counties), letters


def map_figure(model: TransferModel) -> Figure:
    """Counties from west (left) to east (right) by distance to the eastern hub, one row per
    county kind; colour = share of residents in local jobs, size and number = firms, letters
    = the county's zones (coloured by its primary zone)."""
    counties = model.county_frame()
    primary, letters = county_zones(model)
    fig = Figure(figsize=(6.4, 4.0), dpi=DPI)
    ax = fig.add_axes((0.13, 0.24, 0.72, 0.68))
    colour_axis = fig.add_axes((0.87, 0.24, 0.025, 0.68))
    x = -counties.distance_km.to_numpy()
    row = np.array([Kind[k.upper()] for k in counties.kind], dtype=int)
    y = (POVERTY - row) + 0.22 * ((counties.county.to_numpy() * 7) % 5 - 2) / 2
    share = counties.local_jobs / counties.residents.clip(lower=1)
    size = 80 + 45 * counties.firms
    for resettlement, marker in ((False, "o"), (True, "s")):
        sel = (counties.resettlement_site == resettlement).to_numpy()
        points = ax.scatter(x[sel], y[sel], c=share[sel], s=size[sel], marker=marker,
                            cmap="YlGn", vmin=0.0, vmax=0.6,
                            edgecolors=np.where(counties.key_assistance[sel], "black", "grey"),
                            linewidths=np.where(counties.key_assistance[sel], 2.0, 0.6))
    for xi, yi, n in zip(x, y, counties.firms, strict=True):
        ax.annotate(str(n), (xi, yi), ha="center", va="center", fontsize=7)
    # Zone letters just above-right of each marker (its radius in points is sqrt(size) / 2).
    for xi, yi, area, zone, text in zip(x, y, size, primary, letters, strict=True):
        if text:
            offset = 0.7 * np.sqrt(area) / 2 + 1
            ax.annotate(text, (xi, yi), xytext=(offset, offset), textcoords="offset points",
                        ha="left", va="bottom", fontsize=7, fontweight="bold",
                        color=ZONE_STYLE[zone][1])
    for region, colour in REGION_COLOURS.items():
        sel = (counties.region == region).to_numpy()
        if sel.any():
            ax.axvspan(x[sel].min() - 40, x[sel].max() + 40, color=colour, alpha=0.08, lw=0)
            ax.text(x[sel].mean(), 2.55, region, ha="center", color=colour, fontsize=9)
    present = [label for label, (letter, _) in ZONE_STYLE.items()
               if any(letter in text for text in letters)]
    if present:
        handles = [Line2D([], [], ls="", marker=f"${ZONE_STYLE[label][0]}$", markersize=7,
                          color=ZONE_STYLE[label][1], label=label.replace("_", " "))
                   for label in present]
        fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=7,
                   title="zones (letters by a county; colour = its first zone)",
                   title_fontsize=7, frameon=False, handletextpad=0.1, columnspacing=1.2,
                   borderaxespad=0.2)
    fig.colorbar(points, cax=colour_axis, label="share in local jobs")
    ax.set_yticks(POVERTY - np.arange(len(KINDS)), KINDS)  # origin on top, poverty at 0
    ax.set_ylim(-0.6, 2.8)
    ax.set_xlabel("west ←   km from the eastern hub   → east")
    ax.set_title(f"Counties in {model.year:.1f} (number = firms; square = resettlement "
                 "site; bold = key assistance)", fontsize=9)
    return fig


def _run_years(model: TransferModel) -> tuple[float, float]:
    start = model.cfg.run.start_year
    return start, start + model.cfg.run.years


def _year_axis(ax) -> None:
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def workers_figure(model: TransferModel) -> Figure:
    """Inland workers (central and poverty counties) by where they work."""
    data = model.datacollector.get_model_vars_dataframe()
    fig = Figure(figsize=(6.4, 3.4), dpi=DPI)
    fig.subplots_adjust(left=0.11, right=0.97, bottom=0.15, top=0.9)
    ax = fig.subplots()
    for column in ("Local jobs", "Outbound", "Home", "Poverty-alleviated in local jobs"):
        ax.plot(data["Year"], data[column] / 1e3, label=column)
    ax.set(xlabel="year", ylabel="thousand persons", title="Inland workers",
           xlim=_run_years(model))
    ax.legend(fontsize=7, loc="center left")
    _year_axis(ax)
    return fig


def firms_figure(model: TransferModel) -> Figure:
    """Firms alive by region, and those in poverty counties."""
    data = model.datacollector.get_model_vars_dataframe()
    fig = Figure(figsize=(6.4, 3.4), dpi=DPI)
    fig.subplots_adjust(left=0.11, right=0.97, bottom=0.15, top=0.9)
    ax = fig.subplots()
    for region, colour in REGION_COLOURS.items():
        ax.plot(data["Year"], data[f"Firms {region}"], color=colour, label=region)
    ax.plot(data["Year"], data["Firms in poverty counties"], color="black", ls="--",
            label="in poverty counties")
    ax.set(xlabel="year", ylabel="firms alive", title="Firms by region", xlim=_run_years(model))
    ax.legend(fontsize=7, loc="upper left")
    _year_axis(ax)
    return fig


def survival_figure(model: TransferModel) -> Figure:
    """Kaplan-Meier survival of firm spells in poverty counties that began in the run."""
    curve = model.survival()
    n_spells = curve.spells
    fig = Figure(figsize=(6.4, 3.4), dpi=DPI)
    fig.subplots_adjust(left=0.11, right=0.97, bottom=0.15, top=0.9)
    ax = fig.subplots()
    if n_spells:
        x = np.concatenate([[0.0], curve.years, [curve.longest_years]])
        last = curve.survival[-1] if curve.survival.size else 1.0
        y = np.concatenate([[1.0], curve.survival, [last]])
        ax.step(x, y, where="post", color="tab:red")
    horizon = max(model.sim.step_index / MONTHS_PER_YEAR, 1.0)
    ax.set(xlim=(0, horizon), ylim=(0, 1.05), xlabel="years since arrival",
           ylabel="share still operating",
           title=f"Survival of transferred firms ({n_spells} arrivals)")
    if n_spells == 0:
        ax.text(0.5 * horizon, 0.5, "no firm has arrived in a poverty county yet",
                ha="center", fontsize=9)
    elif model.cfg.policy.policy_years > 0:
        ax.axvline(model.cfg.policy.policy_years, color="grey", ls=":", lw=1)
        ax.text(model.cfg.policy.policy_years, 0.05, " package expires", color="grey",
                fontsize=8)
    return fig


SPENDING_USES = {"spent_packages": "packages", "spent_retention": "retention at expiry",
                 "spent_training": "training", "spent_infrastructure": "infrastructure",
                 "returned": "returned unspent"}


def governments_figure(model: TransferModel) -> Figure:
    """What poverty-county governments did with their money, year by year (million yuan)."""
    table = model.government_frame()
    table = table[table.kind == KINDS[POVERTY]]
    fig = Figure(figsize=(6.4, 3.4), dpi=DPI)
    fig.subplots_adjust(left=0.11, right=0.97, bottom=0.15, top=0.9)
    ax = fig.subplots()
    if len(table):
        by_year = table.groupby("year")[list(SPENDING_USES)].sum() / 1e6
        bottom = np.zeros(len(by_year))
        for column, label in SPENDING_USES.items():
            ax.bar(by_year.index, by_year[column], bottom=bottom, label=label, width=0.8)
            bottom += by_year[column].to_numpy()
        ax.legend(fontsize=7, loc="upper left")
    ax.set(xlabel="year", ylabel="million yuan", xlim=_run_years(model),
           title=f"Poverty-county governments' money (KPI {model.cfg.policy.kpi})")
    _year_axis(ax)
    return fig


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


def types_figure(model: TransferModel) -> Figure:
    """Jobs of poverty-county residents by development type this month: at home (stacked by
    the county's primary zone, coloured as on the map) and outbound (women / men)."""
    local, outbound, zones = jobs_by_type(model)
    names = [t.replace("_", " ") for t in DEVELOPMENT_TYPES]
    y = np.arange(len(names))
    fig = Figure(figsize=(6.4, 3.4), dpi=DPI)
    fig.subplots_adjust(left=0.21, right=0.97, bottom=0.15, top=0.84, wspace=0.08)
    ax_local, ax_out = fig.subplots(1, 2, sharey=True)
    left = np.zeros(len(names))
    for zone, row in zip(zones, local / 1e3, strict=True):
        if row.any():
            colour = ZONE_STYLE[zone][1] if zone in ZONE_STYLE else NO_ZONE_COLOUR
            ax_local.barh(y, row, left=left, color=colour, label=zone.replace("_", " "))
            left += row
    for yi, total in zip(y, left, strict=True):
        ax_local.text(total, yi, f" {total:.1f}", va="center", fontsize=7)
    ax_local.set_xlim(0, max(left.max() * 1.3, 1.0))
    if left.any():
        ax_local.legend(fontsize=6, loc="lower right", title="county zone", title_fontsize=6)
    ax_local.set(xlabel="thousand persons", title="local jobs (firms at home)")
    bottom = np.zeros(len(names))
    for sex, row, colour in (("women", outbound[0], "#e7969c"), ("men", outbound[1], "#9ecae1")):
        ax_out.barh(y, row / 1e3, left=bottom, color=colour, label=sex)
        bottom += row / 1e3
    ax_out.set_xlim(0, max(bottom.max() * 1.15, 1.0))
    ax_out.legend(fontsize=6, loc="lower right")
    ax_out.set(xlabel="thousand persons", title="outbound jobs (by trade)")
    ax_local.set_yticks(y, names, fontsize=8)
    ax_local.invert_yaxis()
    for ax in (ax_local, ax_out):
        ax.title.set_fontsize(9)
    selection = model.cfg.policy.selection
    target = next((k for k, v in SELECTIONS.items() if v == selection), selection)
    fig.suptitle(f"Poverty-county residents' jobs by development type, {model.year:.1f} "
                 f"(packages: {target})", fontsize=9)
    return fig


def _figure(fig: Figure, css_class: str):
    return solara.Column(classes=[css_class],
                         children=[solara.FigureMatplotlib(fig, format="png")])


def CountyMap(model):  # noqa: N802  (a Solara component function)
    """The schematic map with a one-line description of the run above it."""
    p = model.cfg.policy
    caption = (f"**{model.year:.2f}** · policy `{p.name}` (KPI {p.kpi}) · package "
               f"{p.policy_years:g} y · fund {p.special_fund / 1e9:g} bn ({p.fund_allocation})"
               f" · training {p.training_budget:g} · credibility {p.credibility:g} · "
               f"targets `{p.selection}` · workshops {p.node_workshop_rate:g} · shock "
               f"`{model.cfg.shock.name}` · seed {model.cfg.run.seed} (levers apply on Reset)")
    return solara.Column(classes=["tsim-map"], children=[
        solara.Markdown(caption, style={"font-size": "0.8em"}),
        solara.FigureMatplotlib(map_figure(model), format="png")])


def WorkersPlot(model):  # noqa: N802
    return _figure(workers_figure(model), "tsim-workers")


def TypesPlot(model):  # noqa: N802
    return _figure(types_figure(model), "tsim-types")


def FirmsPlot(model):  # noqa: N802
    return _figure(firms_figure(model), "tsim-firms")


def SurvivalPlot(model):  # noqa: N802
    return _figure(survival_figure(model), "tsim-survival")


def GovernmentsPlot(model):  # noqa: N802
    return _figure(governments_figure(model), "tsim-governments")


COMPONENTS = [CountyMap, WorkersPlot, TypesPlot, FirmsPlot, SurvivalPlot, GovernmentsPlot]


@solara.component
def Page():
    """The app: one model per browser session."""
    model = solara.use_memo(ClassroomModel, [])
    return SolaraViz(model, components=COMPONENTS, model_params=MODEL_PARAMS, name=TITLE,
                     play_interval=100)


def main(argv: list[str] | None = None) -> None:
    """``python -m sim.app [--port N] [--host H] [solara run options]``: serve the app."""
    import os

    args = list(sys.argv[1:] if argv is None else argv)
    if "--port" not in args:
        args += ["--port", "8765"]
    if "--host" not in args:
        args += ["--host", "127.0.0.1"]
    cmd = [sys.executable, "-m", "solara", "run", str(Path(__file__).resolve()),
           "--production", "--no-open", *args]
    os.execv(sys.executable, cmd)


if __name__ == "__main__" and "solara.server.server" not in sys.modules:
    main()  # `python -m sim.app`; solara itself also runs this file as __main__
