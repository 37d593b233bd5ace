"""The model's agents -- county governments, firms and workers -- with their rules per agent.

Each agent is a Mesa agent and a *view* onto one row of the simulation's structure-of-arrays
state (``sim.counties``, ``sim.firms``, ``sim.workers`` and the per-county arrays of the
engine): reading ``worker.skill`` reads ``sim.workers.skill[worker.index]`` and assigning it
writes there. Both engines therefore share one state, and every output (``sim.results``)
works unchanged whichever engine moved it.

The methods are the rules of MODEL.md §4-6 written for one agent in plain Python. They are the
``reference`` engine (``sim.reference``): the numba kernels in ``sim.kernels`` are the same
rules as loops over arrays, and the two are tested to give identical runs. To stay identical,
each method makes the same counter-based draws (``uniform(seed, step, agent, purpose)``) and
the same floating-point operations in the same order as its kernel; the small pure rule
functions (``worker_wage``, ``labor_productivity``, ``logistics_cost``, ``logit_pick`` and the
draws) are shared.

Importing Mesa 3.3 imports ``mesa.batchrunner``, which forces the multiprocessing start method
to ``spawn`` for the whole program; :func:`import_mesa` undoes that side effect.
"""

from __future__ import annotations

import math
import multiprocessing

import numpy as np

from sim.kernels import (
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
    labor_productivity,
    logistics_cost,
    logit_pick,
    normal,
    uniform,
    worker_wage,
)
from sim.state import (
    HOME,
    LOCAL,
    OUTBOUND,
    OUTBOUND_SEEKING,
    R_CASH,
    R_HAZARD,
    R_NONE,
    R_PARENT,
    STATUS_NAMES,
)

ORIGIN, CENTRAL, POVERTY = 0, 1, 2


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
    """An agent attribute that is row ``agent.index`` of a column of the agent's table."""

    def __init__(self, doc: str = ""):
        self.__doc__ = doc

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, agent, owner=None):
        if agent is None:
            return self
        return getattr(agent.table, self.name)[agent.index]

    def __set__(self, agent, value):
        getattr(agent.table, self.name)[agent.index] = value


class _CountyArray:
    """A county attribute held by the engine in a per-county array (``sim.<path>[index]``)."""

    def __init__(self, *path: str, doc: str = ""):
        self.path = path
        self.__doc__ = doc

    def _array(self, agent):
        obj = agent.sim
        for part in self.path:
            obj = getattr(obj, part)
        return obj

    def __get__(self, agent, owner=None):
        if agent is None:
            return self
        return self._array(agent)[agent.index]

    def __set__(self, agent, value):
        self._array(agent)[agent.index] = value


class _View(mesa.Agent):
    """A Mesa agent that is a view onto row ``index`` of the simulation's state."""

    table_name = ""

    def __init__(self, model, sim, index: int):
        super().__init__(model)
        self.sim = sim
        self.index = int(index)
        self.table = getattr(sim, self.table_name)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.index})"


# --- workers --------------------------------------------------------------------------------


class Worker(_View):
    """A worker agent (MODEL.md §6): works locally, outbound in the east, or stays at home."""

    table_name = "workers"
    home_county = _Column("county the worker lives in")
    status = _Column("0 home, 1 local, 2 outbound, 3 outbound seeking")
    employer = _Column("local employer (firm id), -1 none")
    skill = _Column("skill in [0, 1]")
    age = _Column("age in years")
    female = _Column("female")
    care = _Column("care constraint (high cost of leaving)")
    poverty_alleviated = _Column("from a poverty-alleviated household")
    outbound_industry = _Column("industry of the last outbound job")
    experience_months = _Column("months of outbound experience in that industry")
    seeking = _Column("at home and looking for a local job")

    @property
    def status_name(self) -> str:
        """``home``, ``local``, ``outbound`` or ``outbound_seeking``."""
        return STATUS_NAMES[self.status]

    def step(self, t: int, env) -> bool:
        """One month: job loss, the outbound market, learning, and the expected-income choice.

        Args:
            t: the step (month index).
            env: the month's prices and shocks (``sim.engine.Environment``).

        Returns:
            True if the worker returns home this month to found a firm (a returnee founder).
        """
        sim = self.sim
        m = sim.cfg.model
        seed, w = sim.seed, self.index
        c = self.home_county
        in_the_east = sim.counties.kind[c] == ORIGIN
        status = self.status
        forced = False
        # 1. Local employees lose their job when the firm closes or lays off; else they learn.
        if status == LOCAL:
            firm = self.employer
            if (not sim.firms.alive[firm]
                    or uniform(seed, t, w, P_LAYOFF) < sim.layoff_prob[firm]):
                status = HOME
                self.employer = -1
                forced = True
            else:
                self.skill += m.learning_local * (1.0 - self.skill)
        # 2. Outbound workers may lose their job; else they gain experience and skill, and an
        #    experienced one may come home to found a firm (returnee entrepreneur).
        elif status == OUTBOUND:
            if uniform(seed, t, w, P_SEPARATION) < m.outbound_separation:
                status = OUTBOUND_SEEKING
            else:
                self.experience_months += 1
                self.skill += m.learning_outbound * (1.0 - self.skill)
                if not in_the_east and self.experience_months >= m.returnee_min_experience:
                    if uniform(seed, t, w, P_RETURNEE) < self.founding_probability():
                        self.status = HOME
                        self.seeking = False
                        return True
        # 3. Outbound job seekers find a job in the east, mostly in their trade.
        elif status == OUTBOUND_SEEKING:
            if uniform(seed, t, w, P_OUT_FIND) < env.outbound_finding:
                status = OUTBOUND
                if self.experience_months == 0 or uniform(seed, t, w, P_OUT_INDUSTRY) < 0.2:
                    k = int(uniform(seed, t, w, P_OUT_INDUSTRY + 100) * sim.n_ind)
                    if k != self.outbound_industry:
                        self.experience_months = 0
                    self.outbound_industry = k
        # 4. The choice (forced after a job loss, else with the search probability).
        if forced or uniform(seed, t, w, P_SEARCH) < m.search_prob:
            status = self.choose(t, env, status)
        self.status = status
        return False

    def founding_probability(self) -> float:
        """Monthly chance that this experienced outbound worker founds a firm at home: likelier
        where it pays (expected profit including the package) and with good infrastructure."""
        sim = self.sim
        m = sim.cfg.model
        c = self.home_county
        k = self.outbound_industry
        offers = float(sim.gov.offers[c])
        prospect = sim.profit_per_capacity[c, k] + offers * sim.package_per_capacity[c, k]
        rate = m.returnee_rate * sim.world.persons_per_agent
        return (rate * (1.0 + m.returnee_package_boost * offers)
                * (1.0 + m.returnee_infra_boost * sim.infrastructure[c])
                / (1.0 + math.exp(-prospect / 500.0)))

    def choose(self, t: int, env, status: int) -> int:
        """The Harris-Todaro choice: a logit over expected incomes with inertia.

        Options: 0 a local job (wage x local job-finding probability; the wage itself for a
        local employee), 1 outbound work (eastern wage x finding probability - living cost -
        migration, care and age costs), 2 staying home (home income).

        Returns:
            The new status; ``employer`` and ``seeking`` are updated.
        """
        sim = self.sim
        m = sim.cfg.model
        c = self.home_county
        skill = self.skill
        wage_local = worker_wage(env.wage[c], env.min_wage[c], skill)
        if status == LOCAL:
            local = wage_local
            current = 0
        else:
            local = wage_local * sim.local_finding[c]
            current = 0 if self.seeking else 2
        if sim.counties.kind[c] == ORIGIN:
            outbound = -1e18  # already in the east: no outbound option
        else:
            experience_years = min(self.experience_months, 120) / 120.0
            wage_out = (env.wage_east * (0.7 + 0.6 * skill)
                        * (1.0 + m.experience_premium * experience_years))
            away = status == OUTBOUND or status == OUTBOUND_SEEKING
            p_find = 1.0 if status == OUTBOUND else env.outbound_finding
            outbound = (wage_out * p_find - env.living_cost
                        - (0.0 if away else m.migration_cost)
                        - m.care_cost * self.care - m.age_cost * max(0, self.age - 35))
            if away:
                current = 1
        values = np.array([local / m.income_scale, outbound / m.income_scale,
                           env.home_income[c] / m.income_scale])
        values[current] += m.switching_inertia
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
        """A year older; a retiree is replaced by a 16-year-old entrant of the same county."""
        sim = self.sim
        self.age += 1
        if self.age < sim.cfg.model.retirement_age:
            return
        seed, w = sim.seed, self.index
        self.age = 16
        self.status = HOME
        self.employer = -1
        self.seeking = False
        self.experience_months = 0
        self.female = uniform(seed, t, w, P_DEMOGRAPHY) < sim.cfg.world.female_share
        world = sim.cfg.world
        p_care = world.care_share_female if self.female else world.care_share_male
        self.care = uniform(seed, t, w, P_DEMOGRAPHY + 100) < 0.6 * p_care
        mean = sim.skill_mean_by_kind[sim.counties.kind[self.home_county]]
        # Young entrants: a little above their county's mean skill (more schooling).
        self.skill = min(0.98, max(0.02, mean * (0.8 + 0.6 * uniform(seed, t, w, P_NEWBORN))))

    def attend_training(self, t: int, probability: float) -> bool:
        """Order-based vocational course for local employees and seekers; closes a share of
        the gap to full skill. Returns True if the worker was trained."""
        if probability <= 0.0 or not (self.status == LOCAL or self.seeking):
            return False
        if uniform(self.sim.seed, t, self.index, P_TRAINING) < probability:
            self.skill += self.sim.cfg.policy.training_skill_gain * (1.0 - self.skill)
            return True
        return False


# --- firms -----------------------------------------------------------------------------------


class Firm(_View):
    """A labor-intensive firm (MODEL.md §4): plans, hires, pays, reviews its location, exits."""

    table_name = "firms"
    alive = _Column("operating")
    county = _Column("current county")
    industry = _Column("industry index")
    origin_county = _Column("eastern county it came from")
    productivity = _Column("order scale (Pareto-tailed)")
    efficiency = _Column("firm-specific labor productivity")
    capacity = _Column("plant size in worker agents")
    labor_productivity = _Column("output value per worker-month")
    package_share = _Column("share of the full package granted")
    employees = _Column("worker agents employed")
    desired = _Column("desired employment this month")
    cash = _Column("cash")
    age_months = _Column("months since entry")
    months_in_county = _Column("months in the current county")
    subsidy_months_left = _Column("months of package left")
    package_months = _Column("length of the current package")
    taper_months_left = _Column("months of tapered support left")
    relocation_debt = _Column("loan that financed the last move")
    relocation_debt_repayment = _Column("monthly repayment of that loan")
    months_below_buffer = _Column("consecutive months below the cash buffer")
    parent = _Column("headquarters of a satellite workshop, -1 none")
    entry_kind = _Column("initial/birth/attracted/returnee/satellite")
    entry_step = _Column("step of entry")
    ever_subsidised = _Column("received a package at some point")
    skill_sum = _Column("sum of employees' skill this month")
    wage_bill = _Column("wage bill this month")
    revenue = _Column("revenue this month")
    orders = _Column("orders this month")
    subsidy = _Column("subsidy received this month")
    profit = _Column("profit before subsidy this month")

    def plan(self, t: int, env) -> int:
        """Exit on last month's cash (or by hazard); else this month's orders, labor
        productivity, desired workers and the layoff probability of surplus workers.

        Returns:
            The exit reason (``R_NONE`` if the firm carries on).
        """
        sim = self.sim
        f = self.index
        if not self.alive:
            sim.layoff_prob[f] = 1.0
            return R_NONE
        m = sim.cfg.model
        parent = self.parent
        orphan = parent >= 0 and not sim.firms.alive[parent]
        reason = R_NONE
        # Cash exits need exit_patience bad months after a ramp-up year in the county.
        if (self.months_below_buffer >= m.exit_patience
                and self.months_in_county >= m.ramp_up_months):
            reason = R_PARENT if orphan else R_CASH
        elif uniform(sim.seed, t, f, P_HAZARD) < m.exit_hazard:
            reason = R_HAZARD
        if reason != R_NONE:
            self.alive = False
            sim.layoff_prob[f] = 1.0
            self.desired = 0
            return reason
        c, i = self.county, self.industry
        ind = sim.ind
        employees = self.employees
        mean_skill = self.skill_sum / employees if employees > 0 else sim.pool_skill[c]
        self.labor_productivity = self.efficiency * labor_productivity(
            env.output_per_worker[i], ind["skill_requirement"][i], mean_skill,
            sim.infrastructure[c], sim.industry_employment[c, i],
            ind["agglomeration_elasticity"][i], m.agglomeration_reference,
            sim.chain_present[c, i], m.chain_productivity_bonus, ind["resource_affinity"][i],
            sim.world.local_resource[c, i])
        # Orders: a satellite workshop gets a share of its parent's (none once it has died).
        if orphan:
            self.orders = 0.0
        elif parent >= 0:
            firms = sim.firms
            region = sim.counties.region
            # ...adjusted for shocks specific to the workshop's region (e.g. sanctions).
            parent_demand = env.demand[region[firms.county[parent]], i]
            self.orders = (firms.orders[parent] * self.capacity / firms.capacity[parent]
                           * env.demand[region[c], i] / parent_demand
                           if parent_demand > 0.0 else 0.0)
        else:
            noise = math.exp(m.order_noise * normal(sim.seed, t, f, P_ORDERS)
                             - 0.5 * m.order_noise * m.order_noise)
            region = sim.counties.region[c]
            self.orders = (self.capacity * env.reference_productivity[i]
                           * env.demand[region, i] * noise)
        want = int(self.orders / self.labor_productivity + 0.5)
        want = min(want, sim.cfg.world.max_firm_size_agents, int(2.0 * self.capacity + 1.0))
        self.desired = want
        excess = employees - want
        sim.layoff_prob[f] = excess / employees if excess > 0 else 0.0
        return R_NONE

    def settle_accounts(self, t: int, env) -> None:
        """The month's revenue, costs and subsidy; cash, investment, the exit clock, ageing."""
        sim = self.sim
        if not self.alive:
            self.revenue = 0.0
            self.subsidy = 0.0
            return
        m = sim.cfg.model
        p = sim.cfg.policy
        gov = sim.gov
        ind = sim.ind
        c, i = self.county, self.industry
        capacity = self.capacity
        employees = self.employees
        revenue = min(self.orders, employees * self.labor_productivity)
        logistics = logistics_cost(revenue, ind["input_share_east"][i],
                                   ind["output_share_east"][i], m.freight_rate,
                                   sim.counties.distance_km[c], sim.infrastructure[c],
                                   m.infra_logistics_discount, sim.chain_present[c, i],
                                   m.chain_logistics_discount, env.logistics)
        rent = env.rent[c] * capacity
        materials = ind["materials_share"][i]
        costs = (revenue * materials + self.wage_bill + rent
                 + env.capital_per_worker[i] * capacity + logistics)
        # The package, paid from the county budget with probability `credibility`.
        paid = 0.0
        share = 0.0
        if self.subsidy_months_left > 0:
            share = self.package_share
        elif self.taper_months_left > 0:
            share = self.package_share * p.taper_share
        if share > 0.0:
            due = share * (p.rent_waiver * rent + p.wage_subsidy * employees
                           + p.freight_subsidy * logistics)
            if (uniform(sim.seed, t, self.index, P_CREDIBILITY) < p.credibility
                    and gov.package_budget[c] >= due):
                gov.package_budget[c] -= due
                paid += due
        # Special-fund freight/power subsidy: a share of logistics, while the fund lasts.
        if gov.fund_freight[c] > 0.0:
            fund_due = min(p.fund_freight_share * logistics, gov.fund_freight[c])
            gov.fund_freight[c] -= fund_due
            paid += fund_due
        self.revenue = revenue
        self.subsidy = paid
        self.profit = revenue - costs
        self.cash += revenue - costs + paid
        # Invest out of margins, shrink on losses.
        if revenue > 0.0:
            margin = (revenue - costs + paid) / revenue
            self.capacity = min(float(sim.cfg.world.max_firm_size_agents),
                                max(1.0, capacity * (1.0 + m.investment_rate * margin)))
        # Owners take this month's profit out when cash exceeds a reserve (launch capital stays).
        reserve = m.cash_reserve_months * (costs - revenue * materials)
        flow = revenue - costs + paid
        if self.cash > reserve and flow > 0.0:
            self.cash -= min(self.cash - reserve, flow)
        # Below the buffer (credit line and relocation loan) and losing money, or without any
        # business at all: a bad month.
        buffer = -gov.credit_line[c] * self.capacity - self.relocation_debt
        if (self.cash < buffer and revenue - costs + paid < 0.0) or revenue <= 0.0:
            self.months_below_buffer += 1
        else:
            self.months_below_buffer = 0
        self.relocation_debt = max(0.0, self.relocation_debt - self.relocation_debt_repayment)
        self.age_months += 1
        self.months_in_county += 1
        if self.subsidy_months_left > 0:
            self.subsidy_months_left -= 1
            if self.subsidy_months_left == 0:
                self.taper_months_left = sim.taper_months
        elif self.taper_months_left > 0:
            self.taper_months_left -= 1

    def reviews_location(self, month: int) -> bool:
        """Headquarters and stand-alone firms review yearly and when their package expires."""
        if not self.alive or self.parent >= 0:
            return False
        return self.package_expired_now() or (month == 0 and self.months_in_county > 0)

    def package_expired_now(self) -> bool:
        """The month its package has just run out (the 3-year cliff)."""
        return (self.package_months > 0 and self.subsidy_months_left == 0
                and self.months_in_county == self.package_months)

    def choose_location(self, t: int, env, purpose: int, labor_available) -> int:
        """The county this firm chooses at a review (its own county if it stays)."""
        return choose_county(
            self.sim, t, env, purpose, labor_available, decider=self.index,
            industry=self.industry, capacity=self.capacity, efficiency=self.efficiency,
            own_workers=self.employees, current=self.county,
            months_left=self.subsidy_months_left,
            origin=self.origin_county, package_share=self.package_share, outside_option=False)


def choose_county(sim, t: int, env, purpose: int, labor_available, *, decider: int,
                  industry: int, capacity: float, efficiency: float, own_workers: float,
                  current: int,
                  months_left: int, origin: int, package_share: float,
                  outside_option: bool) -> int:
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
    m = sim.cfg.model
    seed = sim.seed
    i = industry
    cap = capacity
    scale = max(cap * env.reference_productivity[i], 1.0)
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
    offering = np.flatnonzero(sim.gov.offers)
    if offering.size > 0:
        for r in range(m.location_candidates):
            u = uniform(seed, t, decider * 128 + r, purpose + 200)
            candidate = offering[int(u * offering.size)]
            if candidate not in options:
                options.append(candidate)
    credibility = sim.cfg.policy.credibility
    horizon = m.location_horizon
    values = np.zeros(len(options))
    for q, c in enumerate(options):
        if c < 0:
            continue
        # Workers are short: the unfilled share earns nothing and still pays fixed costs.
        # The firm's own workers are available where it already is.
        needed = cap * sim.workers_per_capacity[c, i] / efficiency
        available = labor_available[c] + (own_workers if c == current else 0.0)
        fill = 1.0 if needed <= available else available / needed
        own_profit = (sim.profit_per_capacity[c, i]
                      + sim.labor_cost_per_capacity[c, i] * (1.0 - 1.0 / efficiency))
        fixed = sim.fixed_per_capacity[c, i]
        value = horizon * cap * (fill * (own_profit + fixed) - fixed)
        if c == current:
            window = min(months_left, horizon)
            value += (window * credibility * package_share * sim.package_per_capacity[c, i]
                      * cap * fill)
        else:
            if sim.gov.offers[c]:
                window = min(sim.package_months, horizon)
                value += window * credibility * sim.package_per_capacity[c, i] * cap * fill
            if current >= 0:
                value -= (sim.ind["relocation_cost_months"][i] * m.relocation_cost_factor
                          * scale)
        values[q] = value / (scale * m.location_temperature)
    pick = logit_pick(values, len(options), 1.0, uniform(seed, t, decider, purpose))
    return int(options[pick])


# --- county governments ----------------------------------------------------------------------


class CountyGovernment(_View):
    """A county and its government (MODEL.md §5): budget, package offers, training,
    infrastructure; the county's local labor market and the expected profit firms see there.
    """

    table_name = "counties"
    region = _Column("0 east, 1 central, 2 west")
    kind = _Column("0 origin, 1 central, 2 poverty")
    key_assistance = _Column("national key assistance county")
    resettlement_site = _Column("hosts a large resettlement site")
    distance_km = _Column("distance to the eastern hub")
    partner = _Column("east-west pairing partner, -1 none")
    worker_start = _Column("first resident worker")
    worker_stop = _Column("one past the last resident worker")
    infrastructure = _CountyArray("infrastructure", doc="infrastructure quality q in [0, 1]")
    package_budget = _CountyArray("gov", "package_budget", doc="money left for packages")
    offers = _CountyArray("gov", "offers", doc="offers attraction packages")
    local_finding = _CountyArray("local_finding", doc="expected local job-finding rate")
    job_seekers = _CountyArray("seekers", doc="residents seeking a local job")
    hires = _CountyArray("hires", doc="local hires this month")

    @property
    def residents(self) -> range:
        """Indices of the workers living here (a contiguous block)."""
        return range(int(self.worker_start), int(self.worker_stop))

    def update_expectations(self, env) -> None:
        """Expected monthly profit and package value per unit of capacity for each industry
        here, as a firm sees them (a unit of capacity fills one reference worker's orders)."""
        sim = self.sim
        m = sim.cfg.model
        p = sim.cfg.policy
        ind = sim.ind
        c = self.index
        pool_skill = sim.pool_skill[c]
        infra = sim.infrastructure[c]
        rent = env.rent[c]
        wage = worker_wage(env.wage[c], env.min_wage[c], pool_skill)
        matched_only = p.kpi != "count"
        for i in range(sim.n_ind):
            lp = labor_productivity(env.output_per_worker[i], ind["skill_requirement"][i],
                                    pool_skill, infra, sim.industry_employment[c, i],
                                    ind["agglomeration_elasticity"][i],
                                    m.agglomeration_reference, sim.chain_present[c, i],
                                    m.chain_productivity_bonus, ind["resource_affinity"][i],
                                    sim.world.local_resource[c, i])
            revenue = env.reference_productivity[i] * env.demand[self.region, i]
            workers_needed = revenue / lp
            sim.workers_per_capacity[c, i] = workers_needed
            sim.labor_cost_per_capacity[c, i] = workers_needed * wage
            logistics = logistics_cost(revenue, ind["input_share_east"][i],
                                       ind["output_share_east"][i], m.freight_rate,
                                       self.distance_km, infra, m.infra_logistics_discount,
                                       sim.chain_present[c, i], m.chain_logistics_discount,
                                       env.logistics)
            sim.profit_per_capacity[c, i] = (revenue * (1.0 - ind["materials_share"][i])
                                             - workers_needed * wage - logistics - rent
                                             - env.capital_per_worker[i])
            sim.fixed_per_capacity[c, i] = rent + env.capital_per_worker[i]
            package = (p.rent_waiver * rent + p.wage_subsidy * workers_needed
                       + p.freight_subsidy * logistics)
            # Reform KPI: entrants without a local chain match get a smaller package.
            if matched_only and not (sim.chain_present[c, i] > 0
                                     or sim.industry_employment[c, i] > 0):
                package *= p.unmatched_package_share
            else:
                package *= 1.0
            sim.package_per_capacity[c, i] = package

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
        self.job_seekers = len(seekers)
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
