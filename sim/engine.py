"""The simulation engine: one monthly step over the structure-of-arrays state.

Order of a month (MODEL.md §4-6):

1. environment: wages, prices and shocks for the month; in the first month of a year,
   ageing, county budgets, training and infrastructure (``sim.government``) and satellites;
2. location review of firms (yearly, and in the month a package expires);
3. firm plans: exits from last month's cash, orders, labor productivity, desired workers;
4. workers: layoffs, outbound market, learning, the expected-income choice, returnees;
5. entry: births in origin counties, attracted entrants, returnee firms;
6. local job matching inside each county;
7. accounts: payroll, revenue, costs, subsidies, cash; records for the month.

Hot loops are the numba kernels in ``sim.kernels``; everything here is O(counties + firms)
numpy glue. Nothing in this module draws from a stateful generator except per-step
generators keyed by (seed, step), so the state after step t fully determines step t + 1.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np

from sim import kernels as K
from sim.codes import MONTHS_PER_YEAR
from sim.config import Config
from sim.government import GovernmentState, yearly_budgets
from sim.shocks import shock_state
from sim.state import (
    ENTRY_ATTRACTED,
    ENTRY_BIRTH,
    ENTRY_RETURNEE,
    ENTRY_SATELLITE,
    EV_ENTER,
    EV_EXIT,
    EV_RELOCATE,
    LOCAL,
    OUTBOUND,
    OUTBOUND_SEEKING,
    R_EXPIRY,
    R_NONE,
    R_REVIEW,
)
from sim.world import DYNAMICS_STREAM, World, generate

CALIBRATION_YEAR = 2024
INIT_STEP = 1 << 40  # draw "step" used for the initial hiring round
RELOCATION_LOAN_MONTHS = 60  # a move is financed by a loan repaid over five years
ORIGIN, CENTRAL, POVERTY = 0, 1, 2

# Per-county metrics recorded every step (summed over county groups for the timeseries).
METRICS = (
    "workers_local", "workers_outbound", "workers_home", "workers_total", "job_seekers",
    "poverty_pop_local_jobs", "firms_alive", "entries", "exits", "relocations_in",
    "relocations_out", "wage_sum_local", "output_value", "subsidies_paid", "training_spent",
    "infrastructure_spent", "fund_allocated", "workers_trained", "infrastructure",
)
PERSON_METRICS = ("workers_local", "workers_outbound", "workers_home", "workers_total",
                  "job_seekers", "poverty_pop_local_jobs", "workers_trained")
MONEY_METRICS = ("wage_sum_local", "output_value", "subsidies_paid", "training_spent",
                 "infrastructure_spent", "fund_allocated")
EVENT_COLUMNS = ("step", "firm_id", "event", "county", "from_county", "industry", "age_months",
                 "months_in_county", "package_months", "subsidised", "reason", "entry_kind")


@dataclass
class Environment:
    """Prices, wages and shock multipliers in force in one month (per county or industry)."""

    year: float
    wage: np.ndarray
    min_wage: np.ndarray
    rent: np.ndarray
    home_income: np.ndarray
    wage_east: float
    living_cost: float
    output_per_worker: np.ndarray
    reference_productivity: np.ndarray
    capital_per_worker: np.ndarray
    demand: np.ndarray
    outbound_finding: float
    logistics: float


@dataclass
class RunRecord:
    """What a run records: per-county metrics per step and the firm event log."""

    metrics: np.ndarray  # (steps, counties, metrics), raw kernel units
    events: list = field(default_factory=list)
    # End of each year: (year index, county kind, industry) -> firms, employees, output.
    industry: list = field(default_factory=list)


class Simulation:
    """A run of the model on one world.

    Args:
        cfg: the validated configuration.
        world: an initial world; generated from ``cfg`` if omitted.
    """

    def __init__(self, cfg: Config, world: World | None = None):
        self.cfg = cfg
        self.world = world if world is not None else generate(cfg)
        w = self.world
        self.counties = w.counties
        self.firms = copy.deepcopy(w.firms)
        self.workers = copy.deepcopy(w.workers)
        self.n_firms = w.n_firms
        self.ind = w.industry
        self.n_ind = len(w.industry_names)
        self.spy = MONTHS_PER_YEAR
        self.n_steps = cfg.run.years * self.spy
        self.step_index = 0
        # Dynamics draws use their own 63-bit seed derived from run.seed.
        state = np.random.SeedSequence([cfg.run.seed, DYNAMICS_STREAM]).generate_state(1, np.uint64)
        self.seed = int(state[0] >> np.uint64(1))
        n_c = self.counties.n
        self.infrastructure = self.counties.infrastructure.copy()
        self.gov = GovernmentState.empty(n_c, cfg.policy.infra_lag_years)
        self.local_finding = np.full(n_c, 0.3)
        self.residents = (self.counties.worker_stop - self.counties.worker_start).astype(float)
        self.county_counts = np.zeros((n_c, 4), dtype=np.int64)
        self.county_skill_sum = np.zeros(n_c)
        self.county_wage_local = np.zeros(n_c)
        self.county_poverty_local = np.zeros(n_c, dtype=np.int64)
        self.hires = np.zeros(n_c, dtype=np.int64)
        self.seekers = np.zeros(n_c, dtype=np.int64)
        self.industry_employment = np.zeros((n_c, self.n_ind))
        self.chain_present = np.zeros((n_c, self.n_ind))
        self.profit_per_capacity = np.zeros((n_c, self.n_ind))
        self.package_per_capacity = np.zeros((n_c, self.n_ind))
        self.workers_per_capacity = np.ones((n_c, self.n_ind))
        self.labor_cost_per_capacity = np.zeros((n_c, self.n_ind))
        self.fixed_per_capacity = np.zeros((n_c, self.n_ind))
        self.package_months = int(round(cfg.policy.policy_years * self.spy))
        # Tapered support after expiry is part of the reform KPI only ("nothing after expiry").
        self.taper_months = (int(round(cfg.policy.taper_years * self.spy))
                             if cfg.policy.kpi == "reform" else 0)
        kind = self.counties.kind
        self.origin_ids = np.flatnonzero(kind == ORIGIN)
        self.resettlement_ids = np.flatnonzero(self.counties.resettlement_site)
        # East-west pairing as CSR: origin county -> its paired poverty counties.
        partner = self.counties.partner
        paired = np.flatnonzero(partner >= 0)
        order = paired[np.argsort(partner[paired], kind="stable")]
        self.partner_list = order.astype(np.int64)
        counts = np.bincount(partner[paired], minlength=n_c)
        self.partner_start = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        alive0 = self.firms.alive[: self.n_firms]
        self.initial_origin_firms = np.bincount(
            self.firms.county[: self.n_firms][alive0 & (kind[self.firms.county[: self.n_firms]]
                                                        == ORIGIN)], minlength=n_c
        )[self.origin_ids].astype(float)
        self.median_plant_size = float(np.median(self.ind["typical_size"]))
        self.skill_mean_by_kind = np.array([cfg.world.skill_mean_origin,
                                            cfg.world.skill_mean_central,
                                            cfg.world.skill_mean_poverty])
        self.record = RunRecord(metrics=np.zeros((self.n_steps, n_c, len(METRICS))))
        self._step_events: list[dict] = []
        self._yearly_spend = {k: np.zeros(n_c) for k in ("training", "infrastructure", "fund")}
        self._trained = np.zeros(n_c)
        self._initialise()

    # --- set-up -------------------------------------------------------------------------------

    def _initialise(self) -> None:
        """Initial cash, the first year's budgets, and a first hiring round."""
        env = self.environment(0)
        f = self.firms
        n = self.n_firms
        f.cash[:n] = self._initial_cash(f.county[:n], f.industry[:n], f.capacity[:n], env)
        self._tally(env)
        self._refresh_county_state()
        # Everyone at home looks for work and every plant wants its capacity.
        self.workers.seeking[:] = self.workers.status == 0
        f.desired[:n] = np.round(f.capacity[:n]).astype(np.int32)
        self._count_employees()
        self._match_local(INIT_STEP)
        self._tally(env)
        self._refresh_county_state()

    def _initial_cash(self, county, industry, capacity, env: Environment) -> np.ndarray:
        monthly = capacity * (env.wage[county] + env.rent[county]
                              + env.capital_per_worker[industry])
        return self.cfg.model.initial_cash_months * monthly

    # --- environment --------------------------------------------------------------------------

    def environment(self, t: int) -> Environment:
        """Wages, prices and shocks at step ``t``."""
        cfg = self.cfg
        w = cfg.world
        year = cfg.run.start_year + t / self.spy
        since_2024 = year - CALIBRATION_YEAR
        growth = (1.0 + w.wage_growth) ** since_2024
        c = self.counties
        # Origin counties are passive: their land and costs rise faster (the push east->west).
        origin_push = np.where(c.kind == ORIGIN,
                               (1.0 + w.origin_cost_growth) ** (year - cfg.run.start_year), 1.0)
        price_growth = (1.0 + cfg.model.output_growth) ** since_2024
        output = self.ind["output_per_worker"] * price_growth
        shocks = shock_state(cfg.shock, year, self.world.industry_names,
                             self.ind["export_exposure"])
        return Environment(
            year=year,
            wage=c.wage_2024 * growth,
            min_wage=c.min_wage_2024 * growth,
            rent=c.rent_2024 * growth * origin_push,
            home_income=c.home_income_2024 * growth,
            wage_east=w.wage_east * growth,
            living_cost=cfg.model.living_cost_east * growth,
            output_per_worker=output,
            reference_productivity=output * (0.6 + 0.4 * w.infra_origin),
            capital_per_worker=self.ind["capital_per_worker"] * price_growth,
            demand=shocks.demand,
            outbound_finding=cfg.model.outbound_finding * shocks.outbound_finding,
            logistics=shocks.logistics,
        )

    # --- the step -----------------------------------------------------------------------------

    def step(self) -> None:
        """Advance the model by one month."""
        t = self.step_index
        if t >= self.n_steps:
            raise RuntimeError("the run is complete")
        env = self.environment(t)
        self._step_events = []
        month = t % self.spy
        if month == 0:
            self._yearly(t, env)
        self._update_offers()
        self._expectations(env)
        movers = self._review(t, month, env)
        self._plan(t, env, movers)
        founders = self._workers_step(t, env)
        self._entry(t, env, founders)
        self._match(t)
        self._accounts(t, env)
        self._record(t)
        self.step_index += 1

    def run(self, progress=None) -> RunRecord:
        """Run to the end; ``progress(step, n_steps)`` is called after each step if given."""
        while self.step_index < self.n_steps:
            self.step()
            if progress is not None:
                progress(self.step_index, self.n_steps)
        return self.record

    # --- parts of the step --------------------------------------------------------------------

    def _yearly(self, t: int, env: Environment) -> None:
        cfg = self.cfg
        c = self.counties
        if t > 0:
            self._age_workers(t)
        eligible = self.county_counts[:, LOCAL] + self.seekers  # order-based training
        typical_package = self._typical_package(12)
        spent = yearly_budgets(
            cfg.policy, self.gov, kind=c.kind, key_assistance=c.key_assistance,
            resettlement=c.resettlement_site, partner=c.partner,
            infrastructure=self.infrastructure, residents=self.residents,
            training_eligible=eligible.astype(float),
            fiscal_per_person=cfg.world.fiscal_capacity_per_person,
            population_scale=self.world.population_scale,
            persons_per_agent=self.world.persons_per_agent, typical_package=typical_package,
            training_cost_agents=cfg.policy.training_cost, infra_cost_agents=cfg.policy.infra_cost,
            extra_aid=self._case_aid(env.year))
        f = self.firms
        n = self.n_firms
        alive = f.alive[:n]
        cap = np.bincount(f.county[:n][alive], weights=f.capacity[:n][alive], minlength=c.n)
        self.gov.credit_line[:] = np.where(cap > 0, spent["credit"] * cfg.policy.credit_leverage
                                           / np.maximum(cap, 1e-9), 0.0)
        trained = np.zeros(c.n)
        if np.any(self.gov.training_prob > 0):
            self._train_workers(t, trained)
        self._trained = trained
        self._yearly_spend = {"training": trained * cfg.policy.training_cost,
                              "infrastructure": spent["infrastructure"], "fund": spent["fund"]}
        self._refresh_county_state()
        self._expectations(env)
        self._satellites(t, env)

    # The per-worker and per-firm loops below are the numba kernels; the reference engine
    # (sim.reference) overrides exactly these methods with per-agent Python.

    def _age_workers(self, t: int) -> None:
        cfg = self.cfg
        w = self.workers
        K.age_workers(w.n, w.age, w.status, w.employer, w.skill, w.care, w.female, w.seeking,
                      w.experience_months, w.home_county, self.counties.kind,
                      self.skill_mean_by_kind, cfg.model.retirement_age, cfg.world.female_share,
                      cfg.world.care_share_female, cfg.world.care_share_male, self.seed, t)

    def _train_workers(self, t: int, trained: np.ndarray) -> None:
        w = self.workers
        K.train_workers(w.n, w.status, w.seeking, w.skill, w.home_county,
                        self.gov.training_prob, self.cfg.policy.training_skill_gain, self.seed,
                        t, trained)

    def _count_employees(self) -> None:
        w = self.workers
        K.count_employees(w.n, w.status, w.employer, self.firms.employees)

    def _match_local(self, t: int) -> None:
        w = self.workers
        f = self.firms
        K.match_local(self.n_firms, self.counties.n, w.status, w.employer, w.seeking,
                      self.counties.worker_start, self.counties.worker_stop, f.alive, f.county,
                      f.desired, f.employees, self.seed, t, self.hires, self.seekers)

    def _refresh_county_state(self) -> None:
        """Industry employment by county, chain presence and residents' mean skill."""
        f = self.firms
        n = self.n_firms
        alive = f.alive[:n]
        idx = f.county[:n][alive].astype(np.int64) * self.n_ind + f.industry[:n][alive]
        emp = np.bincount(idx, weights=f.employees[:n][alive],
                          minlength=self.counties.n * self.n_ind)
        self.industry_employment = emp.reshape(self.counties.n, self.n_ind)
        present = (self.industry_employment > 0).astype(float)
        self.chain_present = ((present @ self.ind["chain"]) > 0).astype(float)
        pool = self.county_counts[:, 0] + self.county_counts[:, LOCAL]
        self.pool_skill = np.where(pool > 0, self.county_skill_sum / np.maximum(pool, 1),
                                   self.skill_mean_by_kind[self.counties.kind])

    def _expectations(self, env: Environment) -> None:
        cfg = self.cfg
        m = cfg.model
        p = cfg.policy
        c = self.counties
        K.county_expectations(
            env.wage, env.min_wage, env.rent, self.infrastructure, c.distance_km, c.region,
            env.demand, self.pool_skill,
            self.industry_employment, self.chain_present, self.world.local_resource,
            env.output_per_worker, env.reference_productivity, self.ind["materials_share"],
            self.ind["skill_requirement"],
            self.ind["input_share_east"], self.ind["output_share_east"],
            self.ind["agglomeration_elasticity"], self.ind["resource_affinity"],
            env.capital_per_worker, m.agglomeration_reference,
            m.chain_productivity_bonus, m.freight_rate, m.infra_logistics_discount,
            m.chain_logistics_discount, env.logistics, p.rent_waiver, p.wage_subsidy,
            p.freight_subsidy, self.profit_per_capacity, self.package_per_capacity,
            self.workers_per_capacity, self.labor_cost_per_capacity)
        self.fixed_per_capacity = env.rent[:, None] + env.capital_per_worker[None, :]
        self.package_per_capacity *= self._package_share_matrix()

    def _package_share_matrix(self) -> np.ndarray:
        """Share of the full package an entrant of each industry gets in each county."""
        p = self.cfg.policy
        if p.kpi == "count":
            return np.ones_like(self.package_per_capacity)
        matched = (self.chain_present > 0) | (self.industry_employment > 0)
        return np.where(matched, 1.0, p.unmatched_package_share)

    def _review(self, t: int, month: int, env: Environment) -> np.ndarray:
        f = self.firms
        n = self.n_firms
        at_expiry = ((f.package_months[:n] > 0) & (f.subsidy_months_left[:n] == 0)
                     & (f.months_in_county[:n] == f.package_months[:n]))
        yearly = (month == 0) & (f.months_in_county[:n] > 0)
        reviewing = f.alive[:n] & (yearly | at_expiry) & (f.parent[:n] < 0)
        ids = np.flatnonzero(reviewing)
        if ids.size == 0:
            return ids
        current = f.county[ids].astype(np.int64)
        chosen = self._choose(ids, f.industry[ids], f.capacity[ids], f.efficiency[ids],
                              f.employees[ids], current,
                              f.subsidy_months_left[ids], f.origin_county[ids],
                              f.package_share[ids], False, t, K.P_LOCATION, env)
        move = chosen != current
        movers = ids[move]
        reasons = np.where(at_expiry[movers], R_EXPIRY, R_REVIEW)
        for fid, dest, reason in zip(movers, chosen[move], reasons, strict=True):
            source = int(f.county[fid])
            tenure = int(f.months_in_county[fid])
            self._relocate(fid, int(dest), env)
            self._log(t, fid, EV_RELOCATE, reason, from_county=source, tenure=tenure)
        return movers

    def _choose(self, ids, industry, capacity, efficiency, own_workers, current, months_left,
                origin, package_share, outside_option, t, purpose, env):
        m = self.cfg.model
        chosen = np.empty(len(ids), dtype=np.int64)
        revenue = capacity * env.reference_productivity[industry]
        offering = np.flatnonzero(self.gov.offers).astype(np.int64)
        K.choose_locations(len(ids), np.asarray(ids, dtype=np.int64), industry.astype(np.int64),
                           capacity.astype(float), efficiency.astype(float),
                           own_workers.astype(float), revenue,
                           current.astype(np.int64),
                           months_left.astype(np.int64), origin.astype(np.int64),
                           package_share.astype(float), outside_option, self.profit_per_capacity,
                           self.package_per_capacity, self.workers_per_capacity,
                           self.labor_cost_per_capacity, self.fixed_per_capacity,
                           self._labor_available(), self.gov.offers, offering,
                           self.partner_start, self.partner_list,
                           self.ind["relocation_cost_months"] * m.relocation_cost_factor,
                           self.package_months, m.location_horizon, m.location_temperature,
                           self.cfg.policy.credibility, m.location_candidates, self.seed, t,
                           purpose, chosen)
        return chosen

    def _case_aid(self, year: float) -> np.ndarray:
        """Earmarked pairing aid of a case world (yuan per person-year, in its window)."""
        w = self.cfg.world
        if not w.case_counties or not (w.case_aid_start <= year < w.case_aid_end):
            return np.zeros(self.counties.n)
        return w.case_aid_per_person * self.residents * self.counties.case_county

    def _update_offers(self) -> None:
        """A county offers packages while its budget covers this year's commitments to the
        firms it already pays plus one typical package."""
        f = self.firms
        n = self.n_firms
        paying = f.alive[:n] & ((f.subsidy_months_left[:n] > 0) | (f.taper_months_left[:n] > 0))
        months_left_in_year = self.spy - self.step_index % self.spy
        committed = np.bincount(f.county[:n][paying], weights=f.subsidy[:n][paying],
                                minlength=self.counties.n) * months_left_in_year
        typical = self._typical_package(months_left_in_year)
        self.gov.offers[:] = self.gov.active & (self.gov.package_budget >= committed + typical)

    def _typical_package(self, months: int) -> float:
        """Wage subsidy of a median-sized plant for ``months``: the smallest budget worth
        offering a package for."""
        return months * self.cfg.policy.wage_subsidy * self.median_plant_size

    def _labor_available(self) -> np.ndarray:
        """Worker agents a newcomer could hire: local seekers and half of those at home."""
        at_home = self.county_counts[:, 0].astype(float)
        return np.maximum(self.seekers, 0.5 * at_home)

    def _start_package(self, fid, county: int) -> None:
        f = self.firms
        c = self.counties
        offers = self.gov.offers[county] and c.kind[county] != ORIGIN
        f.package_months[fid] = self.package_months if offers else 0
        f.subsidy_months_left[fid] = self.package_months if offers else 0
        f.taper_months_left[fid] = 0
        f.package_share[fid] = self._package_share_matrix()[county, f.industry[fid]]
        if offers and self.package_months > 0:
            f.ever_subsidised[fid] = True

    def _relocate(self, fid: int, dest: int, env: Environment) -> None:
        f = self.firms
        i = f.industry[fid]
        cost = (self.ind["relocation_cost_months"][i] * self.cfg.model.relocation_cost_factor
                * f.capacity[fid] * env.reference_productivity[i])
        f.cash[fid] -= cost
        # The move is financed by a loan repaid over five years; meanwhile it is not distress.
        f.relocation_debt[fid] += cost  # an earlier move's unpaid loan is not forgiven
        f.relocation_debt_repayment[fid] = f.relocation_debt[fid] / RELOCATION_LOAN_MONTHS
        f.county[fid] = dest
        f.months_in_county[fid] = 0
        f.months_below_buffer[fid] = 0
        self._start_package(fid, dest)

    def _plan(self, t: int, env: Environment, movers: np.ndarray) -> None:
        cfg = self.cfg
        m = cfg.model
        f = self.firms
        c = self.counties
        n = self.n_firms
        self.layoff_prob = np.zeros(f.n)
        self.exit_reason = np.zeros(f.n, dtype=np.int8)
        K.firm_plan(n, f.alive, f.county, f.industry, f.efficiency, f.capacity, f.parent,
                    f.employees, f.skill_sum, f.months_below_buffer, f.months_in_county,
                    self.infrastructure,
                    c.region, self.pool_skill, self.industry_employment, self.chain_present,
                    self.world.local_resource, env.output_per_worker,
                    self.ind["skill_requirement"], self.ind["agglomeration_elasticity"],
                    self.ind["resource_affinity"], env.demand, env.reference_productivity,
                    m.agglomeration_reference, m.chain_productivity_bonus, m.order_noise,
                    m.exit_patience, m.ramp_up_months, m.exit_hazard,
                    cfg.world.max_firm_size_agents, self.seed, t,
                    f.labor_productivity, f.orders, f.desired, self.layoff_prob,
                    self.exit_reason)
        for fid in np.flatnonzero(self.exit_reason[:n]):
            self._log(t, fid, EV_EXIT, int(self.exit_reason[fid]))
        # A move lays off the whole workforce: the firm hires again in its new county.
        self.layoff_prob[movers] = 1.0

    def _workers_step(self, t: int, env: Environment) -> np.ndarray:
        cfg = self.cfg
        m = cfg.model
        w = self.workers
        c = self.counties
        founder = np.zeros(w.n, dtype=np.bool_)
        n_founders = K.worker_step(
            w.n, w.status, w.employer, w.skill, w.age, w.care, w.home_county,
            w.outbound_industry, w.experience_months, w.seeking, founder, c.kind, env.wage,
            env.min_wage, env.home_income, self.local_finding, self.gov.offers.astype(float),
            self.infrastructure, self.profit_per_capacity, self.package_per_capacity,
            self.firms.alive, self.layoff_prob, env.wage_east,
            env.living_cost, m.migration_cost, m.care_cost, m.age_cost, env.outbound_finding,
            m.outbound_separation, m.search_prob, m.income_scale, m.switching_inertia,
            m.learning_local, m.learning_outbound, m.experience_premium, self.n_ind,
            m.returnee_rate * self.world.persons_per_agent, m.returnee_min_experience,
            m.returnee_package_boost, m.returnee_infra_boost, self.seed, t)
        return np.flatnonzero(founder) if n_founders else np.zeros(0, dtype=np.int64)

    def _pareto(self, u: np.ndarray) -> np.ndarray:
        return (1.0 - u) ** (-1.0 / self.cfg.world.productivity_pareto_alpha)

    def _entry(self, t: int, env: Environment, founders: np.ndarray) -> None:
        m = self.cfg.model
        rng = np.random.default_rng(np.random.SeedSequence([self.cfg.run.seed,
                                                            DYNAMICS_STREAM, t]))
        base = self.initial_origin_firms
        births = rng.poisson(m.birth_rate / self.spy * base)
        n_mobile = int(rng.poisson(m.mobile_entry_rate / self.spy * base.sum()))
        weights = base / base.sum() if base.sum() > 0 else np.full(base.size, 1.0 / base.size)
        mobile_origin = self.origin_ids[rng.choice(base.size, n_mobile, p=weights)]
        total = int(births.sum()) + n_mobile
        industry = rng.integers(0, self.n_ind, total)
        productivity = self._pareto(rng.random(total))
        efficiency = self._efficiency(rng.standard_normal(total))
        birth_county = np.repeat(self.origin_ids, births)
        nb = birth_county.size
        if nb:
            self._add_firms(t, env, birth_county, industry[:nb], productivity[:nb],
                            efficiency[:nb], birth_county, ENTRY_BIRTH)
        if n_mobile:
            ids = np.arange(n_mobile, dtype=np.int64) + (t % 1024) * 4096
            capacity = self._capacity(productivity[nb:], industry[nb:])
            chosen = self._choose(ids, industry[nb:], capacity, efficiency[nb:],
                                  np.zeros(n_mobile), np.full(n_mobile, -1),
                                  np.zeros(n_mobile), mobile_origin, np.ones(n_mobile), True, t,
                                  K.P_CANDIDATE, env)
            enter = chosen >= 0
            if enter.any():
                self._add_firms(t, env, chosen[enter], industry[nb:][enter],
                                productivity[nb:][enter], efficiency[nb:][enter],
                                mobile_origin[enter], ENTRY_ATTRACTED)
        if founders.size:
            w = self.workers
            home = w.home_county[founders]
            u = np.array([K.uniform(self.seed, t, int(x), K.P_RETURNEE + 100) for x in founders])
            z = np.array([K.normal(self.seed, t, int(x), K.P_RETURNEE + 200) for x in founders])
            # Returnee firms start small: workshops founded with savings and know-how.
            prod = 0.5 * self._pareto(u)
            origin = np.where(self.counties.partner[home] >= 0, self.counties.partner[home], -1)
            ids = self._add_firms(t, env, home, w.outbound_industry[founders].astype(np.int64),
                                  prod, self._efficiency(z), origin, ENTRY_RETURNEE)
            w.status[founders] = LOCAL
            w.employer[founders] = ids
            w.seeking[founders] = False
            w.experience_months[founders] = 0

    def _efficiency(self, z: np.ndarray) -> np.ndarray:
        sd = self.cfg.world.efficiency_sd
        return np.exp(sd * z - 0.5 * sd * sd)

    def _capacity(self, productivity, industry):
        return np.minimum(productivity * self.ind["typical_size"][industry],
                          self.cfg.world.max_firm_size_agents)

    def _satellites(self, t: int, env: Environment) -> None:
        """Origin headquarters open township workshops where the cost gap pays for it."""
        m = self.cfg.model
        f = self.firms
        n = self.n_firms
        kind = self.counties.kind
        cand = np.flatnonzero(f.alive[:n] & (kind[f.county[:n]] == ORIGIN)
                              & (f.parent[:n] < 0) & (f.capacity[:n] >= 3))
        if cand.size == 0:
            return
        u = np.array([K.uniform(self.seed, t, int(x), K.P_PARTNER) for x in cand])
        v = np.array([K.uniform(self.seed, t, int(x), K.P_PARTNER + 100) for x in cand])
        targets = np.full(cand.size, -1, dtype=np.int64)
        home = f.county[cand]
        n_part = self.partner_start[home + 1] - self.partner_start[home]
        use_partner = (n_part > 0) & (v < 0.5)
        idx = self.partner_start[home] + (u * np.maximum(n_part, 1)).astype(np.int64)
        targets[use_partner] = self.partner_list[np.minimum(idx, len(self.partner_list) - 1)][
            use_partner]
        if self.resettlement_ids.size:
            # v >= 0.5 chose a resettlement site; 2v mod 1 is again uniform and picks which.
            r = self.resettlement_ids[(v * 2 % 1 * self.resettlement_ids.size).astype(np.int64)]
            targets[~use_partner] = r[~use_partner]
        ok = targets >= 0
        i = f.industry[cand]
        gain = np.where(ok, self.profit_per_capacity[np.maximum(targets, 0), i]
                        + self.package_per_capacity[np.maximum(targets, 0), i]
                        * self.gov.offers[np.maximum(targets, 0)]
                        - self.profit_per_capacity[home, i], -1.0)
        draw = np.array([K.uniform(self.seed, t, int(x), K.P_PARTNER + 200) for x in cand])
        opens = ok & (gain > 0) & (draw < m.satellite_rate)
        if not opens.any():
            return
        parents = cand[opens]
        share = m.satellite_order_share
        self._add_firms(t, env, targets[opens], i[opens].astype(np.int64),
                        share * f.productivity[parents], f.efficiency[parents], home[opens],
                        ENTRY_SATELLITE, parent=parents)

    def _add_firms(self, t, env, county, industry, productivity, efficiency, origin,
                   entry_kind, parent=None) -> np.ndarray:
        f = self.firms
        k = len(county)
        if self.n_firms + k > f.n:
            f.grow(max(2 * f.n, self.n_firms + k))
        ids = np.arange(self.n_firms, self.n_firms + k)
        self.n_firms += k
        county = np.asarray(county, dtype=np.int64)
        industry = np.asarray(industry, dtype=np.int64)
        f.alive[ids] = True
        f.county[ids] = county
        f.industry[ids] = industry
        f.origin_county[ids] = origin
        f.productivity[ids] = productivity
        f.efficiency[ids] = efficiency
        f.capacity[ids] = self._capacity(productivity, industry)
        f.cash[ids] = self._initial_cash(county, industry, f.capacity[ids], env)
        f.entry_kind[ids] = entry_kind
        f.entry_step[ids] = t
        f.parent[ids] = -1 if parent is None else parent
        for fid in ids:
            self._start_package(fid, int(f.county[fid]))
            self._log(t, fid, EV_ENTER, R_NONE)
        return ids

    def _match(self, t: int) -> None:
        self._count_employees()
        self._match_local(t)
        rate = np.where(self.seekers > 0, self.hires / np.maximum(self.seekers, 1),
                        self.local_finding)
        a = self.cfg.model.local_finding_smoothing
        self.local_finding = (1 - a) * self.local_finding + a * rate

    def _tally(self, env: Environment) -> None:
        w = self.workers
        f = self.firms
        K.worker_tallies(w.n, w.status, w.employer, w.skill, w.home_county,
                         w.poverty_alleviated, env.wage, env.min_wage, f.skill_sum, f.wage_bill,
                         f.employees, self.county_counts, self.county_skill_sum,
                         self.county_wage_local, self.county_poverty_local)

    def _accounts(self, t: int, env: Environment) -> None:
        self._tally(env)
        self._refresh_county_state()
        self._firm_accounts(t, env)
        f = self.firms
        n = self.n_firms
        self.gov.revenue_year += np.bincount(f.county[:n], weights=f.revenue[:n],
                                             minlength=self.counties.n)

    def _firm_accounts(self, t: int, env: Environment) -> None:
        p = self.cfg.policy
        m = self.cfg.model
        f = self.firms
        c = self.counties
        K.firm_accounts(
            self.n_firms, f.alive, f.county, f.industry, f.capacity, f.employees, f.orders,
            f.labor_productivity, f.wage_bill, f.cash, f.relocation_debt,
            f.relocation_debt_repayment, f.months_below_buffer, f.age_months,
            f.months_in_county, f.subsidy_months_left, f.taper_months_left, f.package_share,
            f.revenue, f.subsidy, f.profit, env.rent, c.distance_km, self.infrastructure,
            self.gov.package_budget, self.gov.fund_freight, self.gov.credit_line,
            self.chain_present, self.ind["materials_share"], self.ind["input_share_east"],
            self.ind["output_share_east"], env.capital_per_worker, m.freight_rate,
            m.infra_logistics_discount, m.chain_logistics_discount, env.logistics,
            p.rent_waiver, p.wage_subsidy, p.freight_subsidy, p.credibility, self.taper_months,
            p.taper_share, m.cash_reserve_months, m.investment_rate,
            float(self.cfg.world.max_firm_size_agents), p.fund_freight_share, self.seed, t)

    # --- records ------------------------------------------------------------------------------

    def _log(self, t, fid, event, reason, from_county=-1, tenure=None):
        """Append an event; a move records its tenure in the county it left."""
        f = self.firms
        months = int(f.months_in_county[fid]) if tenure is None else tenure
        self._step_events.append((t, int(fid), event, int(f.county[fid]), int(from_county),
                                  int(f.industry[fid]), int(f.age_months[fid]),
                                  months, int(f.package_months[fid]),
                                  bool(f.subsidy_months_left[fid] > 0
                                       or f.taper_months_left[fid] > 0),
                                  int(reason), int(f.entry_kind[fid])))

    def _record(self, t: int) -> None:
        f = self.firms
        c = self.counties
        n = self.n_firms
        n_c = c.n
        row = self.record.metrics[t]
        counts = self.county_counts
        alive = f.alive[:n]
        col = {name: j for j, name in enumerate(METRICS)}
        row[:, col["workers_local"]] = counts[:, LOCAL]
        row[:, col["workers_outbound"]] = counts[:, OUTBOUND] + counts[:, OUTBOUND_SEEKING]
        row[:, col["workers_home"]] = counts[:, 0]
        row[:, col["workers_total"]] = counts.sum(axis=1)
        row[:, col["job_seekers"]] = self.seekers
        row[:, col["poverty_pop_local_jobs"]] = self.county_poverty_local
        row[:, col["firms_alive"]] = np.bincount(f.county[:n][alive], minlength=n_c)
        row[:, col["wage_sum_local"]] = self.county_wage_local
        row[:, col["output_value"]] = np.bincount(f.county[:n], weights=f.revenue[:n],
                                                  minlength=n_c)
        row[:, col["subsidies_paid"]] = np.bincount(f.county[:n], weights=f.subsidy[:n],
                                                    minlength=n_c)
        row[:, col["infrastructure"]] = self.infrastructure
        if t % self.spy == 0:
            row[:, col["training_spent"]] = self._yearly_spend["training"]
            row[:, col["infrastructure_spent"]] = self._yearly_spend["infrastructure"]
            row[:, col["fund_allocated"]] = self._yearly_spend["fund"]
            row[:, col["workers_trained"]] = self._trained
        for ev in self._step_events:
            county = ev[3]
            if ev[2] == EV_ENTER:
                row[county, col["entries"]] += 1
            elif ev[2] == EV_EXIT:
                row[county, col["exits"]] += 1
            else:
                row[county, col["relocations_in"]] += 1
                row[ev[4], col["relocations_out"]] += 1
        self.record.events.extend(self._step_events)
        if (t + 1) % self.spy == 0:
            self._record_industry(t // self.spy)

    def _record_industry(self, year_index: int) -> None:
        f = self.firms
        n = self.n_firms
        alive = f.alive[:n]
        key = (self.counties.kind[f.county[:n][alive]].astype(np.int64) * self.n_ind
               + f.industry[:n][alive])
        size = 3 * self.n_ind
        firms = np.bincount(key, minlength=size)
        employees = np.bincount(key, weights=f.employees[:n][alive], minlength=size)
        output = np.bincount(key, weights=f.revenue[:n][alive], minlength=size)
        cell = np.arange(size)
        self.record.industry.append(np.stack([np.full(size, year_index), cell // self.n_ind,
                                              cell % self.n_ind, firms, employees, output],
                                             axis=1))

    # --- views for outputs and tests ------------------------------------------------------------

    def events_array(self) -> dict[str, np.ndarray]:
        """The firm event log as columns."""
        if not self.record.events:
            return {k: np.zeros(0, dtype=np.int64) for k in EVENT_COLUMNS}
        data = np.array(self.record.events, dtype=np.int64)
        return {k: data[:, j] for j, k in enumerate(EVENT_COLUMNS)}

    @property
    def years_elapsed(self) -> float:
        return self.step_index / self.spy


def make_simulation(cfg: Config, world: World | None = None) -> Simulation:
    """The simulation for ``cfg.engine``: the numba engine or the per-agent reference."""
    if cfg.engine == "reference":
        from sim.reference import ReferenceSimulation

        return ReferenceSimulation(cfg, world)
    return Simulation(cfg, world)


def run(cfg: Config, progress=None) -> Simulation:
    """Generate the world for ``cfg``, run it to the end and return the simulation."""
    sim = make_simulation(cfg)
    sim.run(progress)
    return sim

