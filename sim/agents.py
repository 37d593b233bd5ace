"""The model's agents -- county governments, firms and workers -- with their rules per agent.

Each agent is a Mesa agent and a *view* onto one row of the simulation's structure-of-arrays
state (``sim.counties``, ``sim.state``, ``sim.firms``, ``sim.workers``): reading
``worker.skill`` reads ``sim.workers.skill[worker.index]`` and assigning it writes there. The
attributes are generated from the state registry (``sim.state``), docs and units included.
Both engines therefore share one state, and every output (``sim.results``) works unchanged
whichever engine moved it.

The methods are the rules of MODEL.md §4-6 written for one agent in plain Python. They are the
``reference`` engine (``sim.reference``): the numba kernels in ``sim.kernels`` are the same
rules as loops over arrays, and the two are tested to give identical runs. To stay identical,
each method makes the same counter-based draws (``uniform(seed, step, agent, purpose)``) and
the same floating-point operations in the same order as its kernel; the small pure rules of
``sim.rules`` (wages, labor productivity, logistics cost, the logit pick, ...) are shared.

Importing Mesa 3.3 imports ``mesa.batchrunner``, which forces the multiprocessing start method
to ``spawn`` for the whole program; :func:`import_mesa` undoes that side effect.
"""

from __future__ import annotations

import math
import multiprocessing

import numpy as np

from sim.codes import (
    HOME,
    LOCAL,
    ORIGIN,
    OUTBOUND,
    OUTBOUND_SEEKING,
    P_CARE_ACCESS,
    P_CHOICE,
    P_CREDIBILITY,
    P_DEMOGRAPHY,
    P_HAZARD,
    P_LAYOFF,
    P_MATCH,
    P_MATCH_FIRM,
    P_NEWBORN,
    P_ORDERS,
    P_OUT_FIND,
    P_OUT_INDUSTRY,
    P_RETURNEE,
    P_SEARCH,
    P_SEPARATION,
    P_TRAINING,
    R_CASH,
    R_HAZARD,
    R_NONE,
    R_PARENT,
    STATUS_NAMES,
)
from sim.rules import (
    entrant_skill,
    founding_probability,
    labor_productivity,
    logistics_cost,
    logit_pick,
    normal,
    outbound_job_industry,
    outbound_wage,
    uniform,
    within_reach,
    worker_wage,
)
from sim.state import COUNTY_FIELDS, COUNTY_STATE_FIELDS, FIRM_FIELDS, WORKER_FIELDS


def import_mesa():
    """Import Mesa without letting ``mesa.batchrunner`` change the multiprocessing start method.

    Returns:
        The ``mesa`` package.
    """
    before = multiprocessing.get_start_method(allow_none=True)
    import mesa

    if multiprocessing.get_start_method(allow_none=True) != before:
        multiprocessing.set_start_method(before, force=True)
    return mesa


mesa = import_mesa()


class _Column:
    """An agent attribute that is row ``agent.index`` of a field of one of its tables."""

    def __init__(self, table: str, spec):
        self.table = table
        self.name = spec.name
        self.__doc__ = f"{spec.doc} ({spec.unit})"

    def __get__(self, agent, owner=None):
        if agent is None:
            return self
        return getattr(getattr(agent.sim, self.table), self.name)[agent.index]

    def __set__(self, agent, value):
        getattr(getattr(agent.sim, self.table), self.name)[agent.index] = value


def _columns(table: str, fields):
    """A class decorator giving an agent class one attribute per field of ``sim.<table>``."""
    def decorate(cls):
        for spec in fields:
            setattr(cls, spec.name, _Column(table, spec))
        return cls
    return decorate


class _View(mesa.Agent):
    """A Mesa agent that is a view onto row ``index`` of the simulation's state."""

    def __init__(self, model, sim, index: int):
        super().__init__(model)
        self.sim = sim
        self.index = int(index)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.index})"


# --- workers --------------------------------------------------------------------------------


@_columns("workers", WORKER_FIELDS)
class Worker(_View):
    """A worker agent (MODEL.md §6): works locally, outbound in the east, or stays at home."""

    @property
    def status_name(self) -> str:
        """``home``, ``local``, ``outbound`` or ``outbound_seeking``."""
        return STATUS_NAMES[self.status]

    def step(self, t: int) -> bool:
        """One month: job events, then (forced after a job loss, else with the search
        probability) the expected-income choice.

        Returns:
            True if the worker returns home this month to found a firm (a returnee founder).
        """
        status, forced, founded = self.job_events(t)
        self.founder = founded
        if founded:
            self.status = HOME
            self.seeking = False
            return True
        if forced or uniform(self.sim.seed, t, self.index, P_SEARCH) < self.sim.params.search_prob:
            status = self.choose(t, status)
        self.status = status
        return False

    def job_events(self, t: int) -> tuple[int, bool, bool]:
        """Before reconsidering: a local employee may be laid off (else learns); an outbound
        worker may lose the job (else gains experience and skill, and may come home to found
        a firm); an outbound seeker may find a job, mostly in its trade.

        Returns:
            (status, forced to choose, founded a firm).
        """
        sim = self.sim
        p = sim.params
        seed, w = sim.seed, self.index
        c = self.home_county
        status = self.status
        if status == LOCAL:
            firm = self.employer
            if (not sim.firms.alive[firm]
                    or uniform(seed, t, w, P_LAYOFF) < sim.firms.layoff_prob[firm]):
                self.employer = -1
                return HOME, True, False
            self.skill += p.learning_local * (1.0 - self.skill)
        elif status == OUTBOUND:
            if uniform(seed, t, w, P_SEPARATION) < p.outbound_separation:
                return OUTBOUND_SEEKING, False, False
            self.experience_months += 1
            self.skill += p.learning_outbound * (1.0 - self.skill)
            if (sim.counties.kind[c] != ORIGIN
                    and self.experience_months >= p.returnee_min_experience
                    and sim.ind.firm_based[self.outbound_industry] > 0):
                if uniform(seed, t, w, P_RETURNEE) < self.founding_probability():
                    return HOME, False, True
        elif status == OUTBOUND_SEEKING:
            if uniform(seed, t, w, P_OUT_FIND) < sim.month.outbound_finding:
                status = OUTBOUND
                if (self.experience_months == 0
                        or uniform(seed, t, w, P_OUT_INDUSTRY) < p.outbound_industry_switch):
                    k = outbound_job_industry(p, sim.ind.development_type,
                                              sim.ind.outbound_trade,
                                              sim.state.industry_employment[c], self.female,
                                              uniform(seed, t, w, P_OUT_INDUSTRY + 200),
                                              uniform(seed, t, w, P_OUT_INDUSTRY + 100))
                    if k != self.outbound_industry:
                        self.experience_months = 0
                    self.outbound_industry = k
        return status, False, False

    def founding_probability(self) -> float:
        """Monthly chance that this experienced outbound worker founds a firm at home: likelier
        where it pays (expected profit including the package) and with good infrastructure."""
        sim = self.sim
        c = self.home_county
        k = self.outbound_industry
        offers = 1.0 if sim.state.offers[c] else 0.0
        prospect = (sim.state.profit_per_capacity[c, k]
                    + offers * sim.state.package_per_capacity[c, k])
        return founding_probability(sim.params, prospect, offers, sim.state.infrastructure[c])

    def choose(self, t: int, status: int) -> int:
        """The Harris-Todaro choice: a logit over expected incomes with inertia.

        Options, valued the same way whatever the worker's status: 0 a local job (wage x the
        chance of being employed locally), 1 outbound work (eastern wage x the chance of
        being employed in the east - living cost - care and age costs, and the migration
        cost for a worker not yet away), 2 staying home (home income).

        Returns:
            The new status; ``employer`` and ``seeking`` are updated.
        """
        sim = self.sim
        p = sim.params
        month = sim.month
        c = self.home_county
        skill = self.skill
        wage_local = worker_wage(p, month.wage[c], month.min_wage[c], skill)
        local = wage_local * sim.state.local_employment[c]
        current = 0 if status == LOCAL or self.seeking else 2
        if sim.counties.kind[c] == ORIGIN:
            outbound = -1e18  # already in the east: no outbound option
        else:
            away = status == OUTBOUND or status == OUTBOUND_SEEKING
            premium = sim.ind.outbound_wage_premium[self.outbound_industry]
            outbound = (outbound_wage(p, month.wage_east * (1.0 + premium), skill,
                                      self.experience_months)
                        * month.outbound_employment - month.living_cost
                        - (0.0 if away else p.migration_cost)
                        - p.care_cost * self.care
                        - p.age_cost * max(0, self.age - p.age_cost_from))
            if away:
                current = 1
        values = np.array([local / p.income_scale, outbound / p.income_scale,
                           month.home_income[c] / p.income_scale])
        values[current] += p.switching_inertia
        choice = logit_pick(values, 3, 1.0, uniform(sim.seed, t, self.index, P_CHOICE))
        if choice == 0:  # a local job: keep it, or look for one from home
            if status != LOCAL:
                status = HOME
                self.seeking = True
        elif choice == 1:  # work in the east: keep the job, or go and look for one
            if status != OUTBOUND and status != OUTBOUND_SEEKING:
                status = OUTBOUND_SEEKING
                self.employer = -1
            self.seeking = False
        else:  # stay home
            status = HOME
            self.employer = -1
            self.seeking = False
        return status

    def grow_older(self, t: int) -> None:
        """A year older; a retiree is replaced by a young entrant of the same county."""
        sim = self.sim
        p = sim.params
        self.age += 1
        if self.age < p.retirement_age:
            return
        seed, w = sim.seed, self.index
        self.age = p.entry_age
        self.status = HOME
        self.employer = -1
        self.seeking = False
        self.experience_months = 0
        self.female = uniform(seed, t, w, P_DEMOGRAPHY) < p.female_share
        p_care = p.care_share_female if self.female else p.care_share_male
        self.care = uniform(seed, t, w, P_DEMOGRAPHY + 100) < p.entrant_care_factor * p_care
        self.skill = entrant_skill(p, sim.counties.kind[self.home_county],
                                   uniform(seed, t, w, P_NEWBORN))

    def attend_training(self, t: int, probability: float) -> bool:
        """Order-based vocational course for local employees and seekers; closes a share of
        the gap to full skill. Returns True if the worker was trained."""
        if probability <= 0.0 or not (self.status == LOCAL or self.seeking):
            return False
        if uniform(self.sim.seed, t, self.index, P_TRAINING) < probability:
            self.skill += self.sim.params.training_skill_gain * (1.0 - self.skill)
            return True
        return False


# --- firms -----------------------------------------------------------------------------------


@_columns("firms", FIRM_FIELDS)
class Firm(_View):
    """A labor-intensive firm (MODEL.md §4): plans, hires, pays, reviews its location, exits."""

    def plan(self, t: int) -> int:
        """Exit on last month's cash (or by hazard); else this month's orders, labor
        productivity, desired workers and the layoff probability of surplus workers.

        Returns:
            The exit reason (``R_NONE`` if the firm carries on).
        """
        self.exit_reason = R_NONE
        if not self.alive:
            self.layoff_prob = 1.0
            return R_NONE
        reason = self.exit_decision(t)
        if reason != R_NONE:
            self.exit_reason = reason
            self.alive = False
            self.layoff_prob = 1.0
            self.desired = 0
            return reason
        sim = self.sim
        p = sim.params
        ind = sim.ind
        state = sim.state
        c, i = self.county, self.industry
        employees = self.employees
        mean_skill = self.skill_sum / employees if employees > 0 else state.pool_skill[c]
        self.labor_productivity = self.efficiency * labor_productivity(
            p, sim.month.output_per_worker[i], ind.skill_requirement[i], mean_skill,
            state.infrastructure[c], state.industry_employment[c, i],
            ind.agglomeration_elasticity[i], state.chain_present[c, i],
            ind.resource_affinity[i], state.local_resource[c, i])
        self.orders = self.month_orders(t)
        want = int(self.orders / self.labor_productivity + 0.5)
        want = min(want, p.max_firm_agents,
                   int(p.max_hiring_over_capacity * self.capacity + 1.0))
        self.desired = want
        excess = employees - want
        self.layoff_prob = excess / employees if excess > 0 else 0.0
        return R_NONE

    def exit_decision(self, t: int) -> int:
        """Cash exits need ``exit_patience`` bad months after a ramp-up in the county; any
        firm may close by the idiosyncratic hazard."""
        p = self.sim.params
        parent = self.parent
        orphan = parent >= 0 and not self.sim.firms.alive[parent]
        if (self.months_below_buffer >= p.exit_patience
                and self.months_in_county >= p.ramp_up_months):
            return R_PARENT if orphan else R_CASH
        if uniform(self.sim.seed, t, self.index, P_HAZARD) < p.exit_hazard:
            return R_HAZARD
        return R_NONE

    def month_orders(self, t: int) -> float:
        """A satellite workshop gets a share of its parent's orders (none once it has died);
        others draw their own around their capacity."""
        sim = self.sim
        month = sim.month
        i = self.industry
        parent = self.parent
        if parent >= 0:
            firms = sim.firms
            if not firms.alive[parent]:
                return 0.0
            # ...adjusted for shocks specific to the workshop's region (e.g. sanctions).
            parent_demand = month.demand[firms.county[parent], i]
            if parent_demand <= 0.0:
                return 0.0
            return (firms.orders[parent] * self.capacity / firms.capacity[parent]
                    * month.demand[self.county, i] / parent_demand)
        noise_sd = sim.params.order_noise
        noise = math.exp(noise_sd * normal(sim.seed, t, self.index, P_ORDERS)
                         - 0.5 * noise_sd * noise_sd)
        return (self.capacity * month.reference_productivity[i]
                * month.demand[self.county, i] * noise)

    def settle_accounts(self, t: int) -> None:
        """The month's revenue, costs and subsidy; cash, investment, the exit clock, ageing."""
        if not self.alive:
            self.revenue = 0.0
            self.subsidy = 0.0
            return
        sim = self.sim
        p = sim.params
        ind = sim.ind
        month = sim.month
        c, i = self.county, self.industry
        capacity = self.capacity
        revenue = min(self.orders, self.employees * self.labor_productivity)
        logistics = logistics_cost(p, revenue, ind.input_share_east[i], ind.output_share_east[i],
                                   sim.counties.distance_km[c], sim.state.infrastructure[c],
                                   sim.state.chain_present[c, i], sim.counties.hub_access[c],
                                   month.logistics)
        rent = month.rent[c] * capacity
        materials = ind.materials_share[i]
        costs = (revenue * materials + self.wage_bill + rent
                 + month.capital_per_worker[i] * capacity + logistics)
        paid = self.support(t, rent, logistics)
        self.revenue = revenue
        self.subsidy = paid
        self.profit = revenue - costs
        self.settle_cash(revenue, costs, materials, paid)
        self.advance_clocks()

    def support(self, t: int, rent: float, logistics: float) -> float:
        """The package (a retention offer from the retention budget, else from the package
        budget), paid with probability ``credibility``, and the special fund's freight/power
        subsidy while it lasts."""
        sim = self.sim
        p = sim.params
        state = sim.state
        c = self.county
        paid = 0.0
        share = self.package_share if self.subsidy_months_left > 0 else 0.0
        if share > 0.0:
            due = share * (p.rent_waiver * rent + p.wage_subsidy * self.employees
                           + p.freight_subsidy * logistics)
            if uniform(sim.seed, t, self.index, P_CREDIBILITY) < p.credibility:
                pool = state.retention_budget if self.retained else state.package_budget
                if pool[c] >= due:
                    pool[c] -= due
                    paid += due
        if state.fund_freight[c] > 0.0:
            fund_due = min(p.fund_freight_share * logistics, state.fund_freight[c])
            state.fund_freight[c] -= fund_due
            paid += fund_due
        return paid

    def settle_cash(self, revenue: float, costs: float, materials: float, paid: float) -> None:
        """Cash; invest out of margins, shrink on losses; owners take profit above a reserve;
        a bad month when below the buffer (credit line and relocation loan) and losing money,
        or without any business at all."""
        p = self.sim.params
        self.cash += revenue - costs + paid
        if revenue > 0.0:
            margin = (revenue - costs + paid) / revenue
            self.capacity = min(p.max_capacity,
                                max(1.0, self.capacity * (1.0 + p.investment_rate * margin)))
        reserve = p.cash_reserve_months * (costs - revenue * materials)
        flow = revenue - costs + paid
        if self.cash > reserve and flow > 0.0:
            self.cash -= min(self.cash - reserve, flow)
        buffer = (-self.sim.state.credit_line[self.county] * self.capacity
                  - self.relocation_debt)
        if (self.cash < buffer and flow < 0.0) or revenue <= 0.0:
            self.months_below_buffer += 1
        else:
            self.months_below_buffer = 0

    def advance_clocks(self) -> None:
        """Loan, age, tenure and package clocks."""
        self.relocation_debt = max(0.0, self.relocation_debt - self.relocation_debt_repayment)
        self.age_months += 1
        self.months_in_county += 1
        if self.subsidy_months_left > 0:
            self.subsidy_months_left -= 1

    def reviews_location(self, month: int) -> bool:
        """Headquarters and stand-alone firms review yearly and when their package expires."""
        if not self.alive or self.parent >= 0:
            return False
        return self.package_expired_now() or (month == 0 and self.months_in_county > 0)

    def package_expired_now(self) -> bool:
        """The month its package has just run out (the 3-year cliff), whether or not its
        county offered to extend it (a retention offer)."""
        return self.package_months > 0 and self.months_in_county == self.package_months

    def choose_location(self, t: int, purpose: int) -> int:
        """The county this firm chooses at a review (its own county if it stays)."""
        return choose_county(
            self.sim, t, purpose, decider=self.index, industry=self.industry,
            capacity=self.capacity, efficiency=self.efficiency, own_workers=self.employees,
            current=self.county, months_left=self.subsidy_months_left,
            origin=self.origin_county, package_share=self.package_share, outside_option=False)


def choose_county(sim, t: int, purpose: int, *, decider: int, industry: int, capacity: float,
                  efficiency: float, own_workers: float, current: int, months_left: int,
                  origin: int, package_share: float, outside_option: bool) -> int:
    """Multinomial-logit location choice of one firm or entrant (McFadden; Carlton 1983).

    The options are its current county (no move cost, the rest of its package), its origin,
    a county paired with the origin (east-west partner) and ``location_candidates`` counties
    drawn from those offering packages; an entrant may also stay out (value 0). A county is
    worth ``location_horizon`` months of expected profit -- part-empty where workers are
    short -- plus the credible package value over its window, minus a one-off relocation
    cost, all in months of revenue.

    Returns:
        The chosen county, or -1 for the outside option.
    """
    p = sim.params
    seed = sim.seed
    state = sim.state
    options = []
    if outside_option:
        options.append(-1)
    if current >= 0:
        options.append(current)
    if origin >= 0 and origin != current:
        options.append(origin)
    n_partners = (sim.partner_start[origin + 1] - sim.partner_start[origin]
                  if origin >= 0 else 0)
    if n_partners > 0:
        j = sim.partner_start[origin] + int(uniform(seed, t, decider, purpose + 100)
                                             * n_partners)
        partner = sim.partner_list[j]
        if partner != current and partner != origin:
            options.append(partner)
    offering = np.flatnonzero(state.offers)
    if offering.size > 0:
        for r in range(p.location_candidates):
            u = uniform(seed, t, decider * 128 + r, purpose + 200)
            candidate = offering[int(u * offering.size)]
            if candidate not in options:
                options.append(candidate)
    i = industry
    scale = max(capacity * sim.month.reference_productivity[i], 1.0)
    horizon = p.location_horizon
    values = np.zeros(len(options))
    for q, c in enumerate(options):
        if c < 0:
            continue
        # Workers are short: the unfilled share earns nothing and still pays fixed costs.
        # The firm's own workers are available where it already is.
        needed = capacity * state.workers_per_capacity[c, i] / efficiency
        available = state.labor_available[c] + (own_workers if c == current else 0.0)
        fill = 1.0 if needed <= available else available / needed
        own_profit = (state.profit_per_capacity[c, i]
                      + state.labor_cost_per_capacity[c, i] * (1.0 - 1.0 / efficiency))
        fixed = state.fixed_per_capacity[c, i]
        value = horizon * capacity * (fill * (own_profit + fixed) - fixed)
        package = state.package_per_capacity[c, i]
        if c == current:
            # Its own package: its share of the national terms (a retention offer included).
            window = min(months_left, horizon)
            value += (window * p.credibility * package_share
                      * state.package_terms_per_capacity[c, i] * capacity * fill)
        else:
            if state.offers[c]:
                window = min(p.package_months, horizon)
                value += window * p.credibility * package * capacity * fill
            if current >= 0:
                value -= sim.ind.relocation_cost_months[i] * p.relocation_cost_factor * scale
        values[q] = value / (scale * p.location_temperature)
    pick = logit_pick(values, len(options), 1.0, uniform(seed, t, decider, purpose))
    return int(options[pick])


# --- county governments ----------------------------------------------------------------------


@_columns("state", COUNTY_STATE_FIELDS)
@_columns("counties", COUNTY_FIELDS)
class CountyGovernment(_View):
    """A county and its government (MODEL.md §5): budget, package offers, training,
    infrastructure; the county's local labor market and the expected profit firms see there.
    """

    @property
    def residents(self) -> range:
        """Indices of the workers living here (a contiguous block)."""
        return range(int(self.worker_start), int(self.worker_stop))

    def update_expectations(self) -> None:
        """Expected monthly profit and package value per unit of capacity for each industry
        here, as a firm sees them (a unit of capacity fills one reference worker's orders)."""
        sim = self.sim
        p = sim.params
        ind = sim.ind
        month = sim.month
        state = sim.state
        c = self.index
        skill = state.pool_skill[c]
        infra = state.infrastructure[c]
        rent = month.rent[c]
        wage = worker_wage(p, month.wage[c], month.min_wage[c], skill)
        for i in range(sim.n_ind):
            lp = labor_productivity(p, month.output_per_worker[i], ind.skill_requirement[i],
                                    skill, infra, state.industry_employment[c, i],
                                    ind.agglomeration_elasticity[i], state.chain_present[c, i],
                                    ind.resource_affinity[i], state.local_resource[c, i])
            revenue = month.reference_productivity[i] * month.demand[c, i]
            workers_needed = revenue / lp
            state.workers_per_capacity[c, i] = workers_needed
            state.labor_cost_per_capacity[c, i] = workers_needed * wage
            logistics = logistics_cost(p, revenue, ind.input_share_east[i],
                                       ind.output_share_east[i], self.distance_km, infra,
                                       state.chain_present[c, i], self.hub_access,
                                       month.logistics)
            state.profit_per_capacity[c, i] = (revenue * (1.0 - ind.materials_share[i])
                                               - workers_needed * wage - logistics - rent
                                               - month.capital_per_worker[i])
            state.fixed_per_capacity[c, i] = rent + month.capital_per_worker[i]
            package = (p.rent_waiver * rent + p.wage_subsidy * workers_needed
                       + p.freight_subsidy * logistics)
            state.package_terms_per_capacity[c, i] = package
            # No package for an industry the county does not target; under the reform KPI
            # entrants without a local chain match get a smaller one; every package is at
            # the generosity the government chose this year.
            if state.targeted[c, i] <= 0.0:
                share = 0.0
            else:
                matched = state.chain_present[c, i] > 0 or state.industry_employment[c, i] > 0
                share = p.unmatched_package_share if p.chain_screening and not matched else 1.0
            state.package_per_capacity[c, i] = package * share * state.generosity[c]

    def match_job_seekers(self, t: int, openings: list[int], vacancies: dict[int, int]) -> None:
        """The local labor market: each resident seeker is hired with probability
        min(1, vacancies / seekers) by a firm drawn in proportion to its open vacancies.

        Args:
            t: the step (the draw counter).
            openings: ids of the firms here with vacancies, in id order.
            vacancies: firm id -> open vacancies (updated as seekers are hired).
        """
        sim = self.sim
        workers = sim.roster.workers
        residents = workers[self.worker_start:self.worker_stop]
        seekers = [w for w in residents if w.seeking and w.status == HOME]
        self.seekers = len(seekers)
        self.hires = 0
        open_total = sum(vacancies[f] for f in openings)
        if not seekers or open_total == 0:
            return
        p_hire = min(1.0, open_total / len(seekers))
        for worker in seekers:
            if open_total == 0:
                break
            if uniform(sim.seed, t, worker.index, P_MATCH) >= p_hire:
                continue
            target = uniform(sim.seed, t, worker.index, P_MATCH_FIRM) * open_total
            acc = 0.0
            chosen = openings[-1]
            for f in openings:
                acc += vacancies[f]
                if target < acc:
                    chosen = f
                    break
            firms = sim.firms
            care_friendly = bool(firms.parent[chosen] >= 0
                                 or sim.ind.care_friendly[firms.industry[chosen]] > 0)
            if not within_reach(sim.params, worker.care, care_friendly,
                                uniform(sim.seed, t, worker.index, P_CARE_ACCESS)):
                continue
            vacancies[chosen] -= 1
            open_total -= 1
            sim.firms.employees[chosen] += 1
            worker.employer = chosen
            worker.status = LOCAL
            worker.seeking = False
            self.hires += 1


# --- the roster: which agents exist ---------------------------------------------------------


class Roster:
    """The agents of a simulation, registered with a Mesa model.

    Counties and firms are always agents. Workers are agents when there are at most
    ``max_worker_agents`` of them; beyond that (large worlds) a worker becomes an agent only
    when asked for through :meth:`worker`.

    Attributes:
        counties: one :class:`CountyGovernment` per county.
        firms: one :class:`Firm` per firm id ever used (a closed firm leaves the Mesa model but
            keeps its place here).
        workers: one :class:`Worker` per worker, or None for a large world.
    """

    def __init__(self, model, sim, max_worker_agents: int | None = None):
        self.model = model
        self.sim = sim
        self.counties = [CountyGovernment(model, sim, c) for c in range(sim.counties.n)]
        self.firms: list[Firm] = []
        self._registered_firms: set[Firm] = set()
        n_workers = sim.workers.n
        if max_worker_agents is None or n_workers <= max_worker_agents:
            self.workers = [Worker(model, sim, w) for w in range(n_workers)]
        else:
            self.workers = None
            self._workers_on_demand: dict[int, Worker] = {}
        self.sync()

    def sync(self) -> None:
        """Create agents for new firms; take closed firms out of the Mesa model."""
        sim = self.sim
        for fid in range(len(self.firms), sim.n_firms):
            firm = Firm(self.model, sim, fid)
            self.firms.append(firm)
            self._registered_firms.add(firm)
        alive = sim.firms.alive
        closed = [firm for firm in self._registered_firms if not alive[firm.index]]
        for firm in closed:
            firm.remove()
            self._registered_firms.discard(firm)

    def worker(self, index: int) -> Worker:
        """The worker agent for worker ``index`` (created on demand in a large world)."""
        if self.workers is not None:
            return self.workers[index]
        if index not in self._workers_on_demand:
            self._workers_on_demand[index] = Worker(self.model, self.sim, index)
        return self._workers_on_demand[index]
