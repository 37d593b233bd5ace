"""``sim.TransferModel``: the model as a Mesa model, stepped by either engine.

County governments, firms and workers are Mesa agents (``sim.agents``), each a view onto one
row of the simulation state, so ``model.agents_by_type[Worker]`` and friends always show the
current state whichever engine moves it:

- ``engine="numba"`` (default): the fast kernels move the arrays; the agents are views;
- ``engine="reference"``: the agents' own methods move them, one agent at a time.

A :class:`mesa.DataCollector` records at set-up and after every monthly step, so its row
``k`` is the state after ``k`` months and the last row is the final state:

- model reporters (:data:`REPORTERS`): persons by status, firms by region, this month's
  entries, exits and relocations, and the headline indicators so far (:data:`HEADLINE`:
  spell survival, survival after support, poverty local job-years, spending), each equal at
  the end to the run's ``summary.json`` field;
- agent reporters by type (:data:`FIRM_REPORTERS`, :data:`WORKER_REPORTERS`; read them
  with ``get_agenttype_vars_dataframe(Firm)``): every firm alive, and every worker in a
  small world or a seeded sample of ``worker_sample`` workers in a large one.

``seed=None`` (Mesa's convention) draws a fresh seed and records it in ``model.cfg.run.seed``,
so ``mesa.batch_run`` without seeds gives independent replicates; the command line keeps
its fixed default (``run.seed=0``). The dynamics draw counter-based random numbers from the
seed; the same seed also seeds Mesa's ``model.rng`` and ``model.random``, which the model
itself does not use (they are there for extensions).

``mesa.batch_run(TransferModel, parameters, ...)`` runs it (README "The Mesa model"). Two
caveats of Mesa itself: ``number_processes > 1`` starts workers by ``spawn``, which re-runs
the calling script in every worker, so the call must sit under
``if __name__ == "__main__":`` (without it each worker fails at start-up and the pool
replaces it, for ever); Mesa 3.3 (Python 3.11) leaves out the final step of every run
(Mesa issue 2514, fixed in Mesa 3.5), while the DataCollector itself holds it.

Example:
    >>> model = TransferModel(world="teaching", policy="kpi_reform", seed=3, years=2)
    >>> model.run_model()
    >>> model.datacollector.get_model_vars_dataframe().tail(1)
"""

from __future__ import annotations

import copy
import functools
import secrets
from typing import NamedTuple

import numpy as np
import pandas as pd

from sim.agents import CountyGovernment, Firm, Roster, Worker, import_mesa
from sim.api import COMPOSE_LOCK
from sim.codes import (
    EAST,
    EV_ENTER,
    EV_EXIT,
    EV_RELOCATE,
    HOME,
    KINDS,
    LOCAL,
    MONTHS_PER_YEAR,
    ORIGIN,
    OUTBOUND,
    OUTBOUND_SEEKING,
    POVERTY,
    REGIONS,
    WEST,
    Region,
)
from sim.config import Config, compose, validate
from sim.engine import Simulation
from sim.engine.records import METRIC_INDEX
from sim.reference import ReferenceSimulation
from sim.results import (
    government_frame,
    job_years,
    spending_summary,
    survival_summary,
)
from sim.survival import kaplan_meier, poverty_spells

mesa = import_mesa()

__all__ = ["CountyGovernment", "Firm", "TransferModel", "Worker"]

WORKER_SAMPLE_STREAM = 0x5A4D  # the worker sample's generator: [seed, this] (not a dynamics draw)


@functools.lru_cache(maxsize=32)
def _composed(world: str, policy: str, shock: str, overrides: tuple[str, ...]) -> Config:
    with COMPOSE_LOCK:
        return compose([f"world={world}", f"policy={policy}", f"shock={shock}", *overrides])


def make_config(world: str = "teaching", policy: str = "baseline", shock: str = "none",
                overrides: tuple[str, ...] = (), **levers) -> Config:
    """A validated configuration from presets, Hydra overrides and policy levers.

    Args:
        world, policy, shock: preset names (``configs/<group>/<name>.yaml``).
        overrides: further Hydra overrides, e.g. ``("model.search_prob=0.2",)``.
        **levers: ``PolicyConfig`` fields to set (``None`` leaves the preset's value).

    Raises:
        sim.config.ConfigError: a lever or override out of range (one line).
    """
    cfg = copy.deepcopy(_composed(world, policy, shock, tuple(overrides)))
    for name, value in levers.items():
        if value is not None:
            setattr(cfg.policy, name, value)
    return validate(cfg)


# --- model-level reporters (persons and firms) ------------------------------------------------

def _inland_counts(model) -> np.ndarray:
    sim = model.sim
    inland = sim.counties.kind != ORIGIN
    return sim.state.status_counts[inland].sum(axis=0) * sim.world.persons_per_agent


def _firms_alive(model) -> tuple[np.ndarray, np.ndarray]:
    sim = model.sim
    n = sim.n_firms
    county = sim.firms.county[:n][sim.firms.alive[:n]]
    return sim.counties.region[county], sim.counties.kind[county]


def _last_step_events(model, event: int) -> int:
    return sum(1 for ev in model.sim.step_events if ev[2] == event)


def _spending(model) -> dict:
    """``sim.results.spending_summary`` of the months so far (it sums, so the months summed
    first per county kind give the same numbers)."""
    sim = model.sim
    metrics = sim.record.metrics[: sim.step_index].sum(axis=0)  # counties x metrics
    totals = {}
    for name in ("subsidies_paid", "training_spent", "infrastructure_spent", "fund_allocated"):
        column = metrics[:, METRIC_INDEX[name]] * sim.world.persons_per_agent  # yuan
        totals[name] = np.bincount(sim.counties.kind, weights=column, minlength=len(KINDS))
    frame = pd.DataFrame({"kind": list(KINDS), **totals})
    return spending_summary(frame, sim.cfg.policy.fund_credit)


def _spell_events(sim) -> pd.DataFrame:
    """The event log's columns that firm spells are made of (``sim.survival``)."""
    ev = sim.events_array()
    return pd.DataFrame({"firm_id": ev["firm_id"], "step": ev["step"], "event_code": ev["event"],
                         "county": ev["county"], "package_months": ev["package_months"]})


def _headline(model) -> dict:
    """The headline indicators of the run so far, computed once per step for all reporters."""
    sim = model.sim
    cached = getattr(model, "_headline_cache", None)
    if cached is not None and cached[0] == sim.step_index:
        return cached[1]
    months = sim.step_index
    column = sim.record.metrics[:months, :, METRIC_INDEX["poverty_pop_local_jobs"]]
    monthly = pd.DataFrame({"step": np.arange(months), "poverty_pop_local_jobs":
                            column.sum(axis=1) * sim.world.persons_per_agent})
    values = {**survival_summary(sim, _spell_events(sim)), **_spending(model),
              "poverty_local_job_years": job_years(monthly, "poverty_pop_local_jobs")}
    model._headline_cache = (sim.step_index, values)
    return values


HEADLINE = {
    "Spell survival 3y": "survival_3y",
    "Survival 2y after support": "post_support_survival_2y",
    "Poverty local job-years": "poverty_local_job_years",
    "Spending": "fiscal_cost_total",
    "Spending in poverty counties": "spending_poverty",
}
"""Headline model reporters -> the ``summary.json`` field each equals at the end of the run
(``sim.results.SUMMARY_DOC``): survivals (NaN while no spell has lasted that long), person-
years and yuan so far."""

REPORTERS = {
    "Year": lambda m: m.year,
    "Local jobs": lambda m: float(_inland_counts(m)[LOCAL]),
    "Outbound": lambda m: float(_inland_counts(m)[[OUTBOUND, OUTBOUND_SEEKING]].sum()),
    "Home": lambda m: float(_inland_counts(m)[HOME]),
    "Poverty-alleviated in local jobs": lambda m: float(
        m.sim.state.poverty_local.sum() * m.sim.world.persons_per_agent),
    "Firms east": lambda m: int((_firms_alive(m)[0] == EAST).sum()),
    "Firms central": lambda m: int((_firms_alive(m)[0] == Region.CENTRAL).sum()),
    "Firms west": lambda m: int((_firms_alive(m)[0] == WEST).sum()),
    "Firms in poverty counties": lambda m: int((_firms_alive(m)[1] == POVERTY).sum()),
    "Entries": lambda m: _last_step_events(m, EV_ENTER),
    "Exits": lambda m: _last_step_events(m, EV_EXIT),
    "Relocations": lambda m: _last_step_events(m, EV_RELOCATE),
    "Subsidies paid": lambda m: float(
        m.sim.firms.subsidy[: m.sim.n_firms].sum() * m.sim.world.persons_per_agent),
    **{label: (lambda m, field=field: _headline(m)[field]) for label, field in HEADLINE.items()},
}
"""Model-level reporters of the DataCollector: inland (central + poverty county) workers in
persons, firms alive, this month's entries, exits, relocations and subsidies (yuan), and the
headline indicators so far (:data:`HEADLINE`)."""

FIRM_REPORTERS = {
    "County": "county",
    "Industry": lambda a: a.sim.world.industry_names[a.industry],
    "Employees": lambda a: int(a.employees) * a.sim.world.persons_per_agent,
    "Age (months)": "age_months",
    "Subsidised": lambda a: bool(a.subsidy_months_left > 0),
}
"""Agent reporters of every firm alive (employees in persons)."""

WORKER_REPORTERS = {
    "Home county": "home_county",
    "Status": "status_name",
    "Skill": "skill",
}
"""Agent reporters of the reported workers (all of a small world, a sample of a large one)."""


class SurvivalCurve(NamedTuple):
    """A Kaplan-Meier curve: survival just after each exit time (years since arrival)."""

    years: np.ndarray
    survival: np.ndarray
    spells: int
    longest_years: float


class TransferModel(mesa.Model):
    """Labor-intensive industrial transfer into poverty-alleviated counties, as a Mesa model.

    Args:
        world, policy, shock: preset names (``configs/``); ``teaching`` is the small world.
        engine: ``numba`` (fast kernels) or ``reference`` (per-agent Python, small worlds).
        seed: the run's seed (``run.seed``); also seeds Mesa's ``rng`` and ``random``. None
            (Mesa's convention) draws a fresh one, recorded in ``cfg.run.seed``, unless
            ``config`` or ``overrides`` set it.
        years: length of the run; the model stops (``running = False``) at its end.
        policy_years: length of attraction packages (years).
        kpi: county KPI regime, ``count`` or ``reform``.
        special_fund: national special fund (yuan per year, real national scale).
        fund_allocation: ``core``, ``even`` or ``need``.
        training_budget: national training budget (yuan per person-year, poverty counties).
        credibility: chance a promised subsidy payment is made.
        overrides: further Hydra overrides, e.g. ``("model.search_prob=0.2",)``.
        config: a complete configuration; replaces the presets (levers, ``seed``, ``years``
            and ``engine`` still apply when given).
        max_worker_agents: above this many workers, worker agents are made on demand
            (:meth:`worker`) instead of all at once (numba engine only).
        worker_sample: in such a large world, this many workers (drawn with the run's
            seed) are made agents at set-up, and the worker agent reporters cover them.
        agent_reporters: collect the firm and worker agent reporters every step (False
            leaves only the model reporters).

    Attributes:
        sim: the engine (``sim.engine.Simulation`` or ``sim.reference.ReferenceSimulation``).
        roster: the agents by kind and index (``roster.counties``, ``.firms``, ``.workers``).
        datacollector: model reporters (:data:`REPORTERS`) and agent reporters by type
            (:data:`FIRM_REPORTERS`, :data:`WORKER_REPORTERS`).
    """

    def __init__(self, world: str = "teaching", policy: str = "baseline", shock: str = "none",
                 engine: str = "numba", seed: int | None = None, years: int | None = None,
                 policy_years: float | None = None, kpi: str | None = None,
                 special_fund: float | None = None, fund_allocation: str | None = None,
                 training_budget: float | None = None, credibility: float | None = None,
                 overrides: tuple[str, ...] = (), config: Config | None = None,
                 max_worker_agents: int = 50_000, worker_sample: int = 1_000,
                 agent_reporters: bool = True):
        levers = {"policy_years": policy_years, "kpi": kpi, "special_fund": special_fund,
                  "fund_allocation": fund_allocation, "training_budget": training_budget,
                  "credibility": credibility}
        if config is None:
            cfg = make_config(world, policy, shock, tuple(overrides), **levers)
        else:
            cfg = copy.deepcopy(config)
            for name, value in levers.items():
                if value is not None:
                    setattr(cfg.policy, name, value)
        seed_set = config is not None or any(o.startswith("run.seed=") for o in overrides)
        if seed is None and not seed_set:
            seed = secrets.randbits(63)  # fresh from the OS; recorded, so the run can be redone
        if seed is not None:
            cfg.run.seed = int(seed)
        if years is not None:
            cfg.run.years = int(years)
        cfg.engine = engine
        cfg.run.progress = False
        self.cfg = validate(cfg)
        super().__init__(rng=self.cfg.run.seed)
        if engine == "reference":
            self.sim = ReferenceSimulation(self.cfg, model=self)
            self.roster = self.sim.roster
        else:
            self.sim = Simulation(self.cfg)
            self.roster = Roster(self, self.sim, max_worker_agents)
            if self.roster.workers is None:
                self._sample_workers(worker_sample)
        by_type = {Firm: FIRM_REPORTERS, Worker: WORKER_REPORTERS} if agent_reporters else None
        self.datacollector = mesa.DataCollector(model_reporters=REPORTERS,
                                                agenttype_reporters=by_type)
        self.datacollector.collect(self)

    def _sample_workers(self, size: int) -> None:
        """Make ``size`` workers, drawn with the run's seed, agents (a large world's reported
        workers). The draw is the model's own stream: the dynamics never see it."""
        n = self.sim.workers.n
        chosen = np.random.default_rng([self.cfg.run.seed, WORKER_SAMPLE_STREAM]).choice(
            n, size=min(size, n), replace=False)
        for index in np.sort(chosen):
            self.roster.worker(int(index))

    # --- stepping ---------------------------------------------------------------------------

    def step(self) -> None:
        """One month with the chosen engine; then new firms become agents and data is
        collected. At the end of the run ``running`` turns False."""
        if self.sim.step_index >= self.sim.n_steps:
            self.running = False
            return
        self.sim.step()
        self.roster.sync()
        self.datacollector.collect(self)
        self.running = self.sim.step_index < self.sim.n_steps

    # --- views for plots and classroom questions ---------------------------------------------

    @property
    def year(self) -> float:
        """Calendar year reached (start of the next month)."""
        return self.cfg.run.start_year + self.sim.step_index / MONTHS_PER_YEAR

    def worker(self, index: int) -> Worker:
        """The worker agent ``index`` (made on demand in a large world)."""
        return self.roster.worker(index)

    def county_frame(self) -> pd.DataFrame:
        """One row per county: region, kind, flags, distance, and this month's local jobs,
        residents (persons) and firms alive."""
        sim = self.sim
        c = sim.counties
        ppa = sim.world.persons_per_agent
        n = sim.n_firms
        alive = sim.firms.alive[:n]
        firms = np.bincount(sim.firms.county[:n][alive], minlength=c.n)
        counts = sim.state.status_counts
        return pd.DataFrame({
            "county": np.arange(c.n),
            "region": [REGIONS[r] for r in c.region],
            "kind": [KINDS[k] for k in c.kind],
            "key_assistance": c.key_assistance.astype(bool),
            "resettlement_site": c.resettlement_site.astype(bool),
            "distance_km": c.distance_km,
            "residents": counts.sum(axis=1) * ppa,
            "local_jobs": counts[:, LOCAL] * ppa,
            "firms": firms,
            "offers_package": sim.state.offers.astype(bool),
        })

    def government_frame(self) -> pd.DataFrame:
        """The county governments' table so far (MODEL.md §11.1): one row per county and
        year (the year under way included) with budget by source, spending by use, carried
        and returned money in yuan, the bundle chosen, offers and the KPI score."""
        return government_frame(self.sim, {})

    def survival(self) -> SurvivalCurve:
        """Kaplan-Meier survival of transferred firms: spells of firms in poverty counties
        that began in the run (entry or relocation in; moving away censors)."""
        spells = poverty_spells(_spell_events(self.sim), self.sim.counties.kind,
                                self.sim.step_index)
        durations = spells.duration_months.to_numpy()
        times, surv = kaplan_meier(durations, spells.exited.to_numpy())
        longest = float(durations.max()) / MONTHS_PER_YEAR if len(durations) else 0.0
        return SurvivalCurve(times / MONTHS_PER_YEAR, surv, len(spells), longest)
