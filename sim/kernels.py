"""Numba kernels: the hot loops of the monthly step, as small free functions over arrays.

Every kernel takes a few grouped arguments -- the state tables as namedtuples of arrays
(``sim.state``: ``counties``, ``state`` (the counties' changing state), ``firms``,
``workers``), the month's prices and shocks (``month``, ``sim.engine.environment.Month``),
the industry table (``industries``, ``sim.industries.Industries``) and the parameter record
(``params``, ``sim.params.Params``) -- plus the draw counter (``seed``, ``step``). The
formulas themselves are the shared rules of ``sim.rules``; the per-agent reference engine
(``sim.agents``) runs the same rules one agent at a time and is tested to give identical runs.

Money inside kernels is per worker agent ("yuan per agent-person"); the engine multiplies by
``persons_per_agent`` when it reports.

Performance rules: a loop over agents unpacks the arrays it uses once, at the top, and its
helpers take scalars (and the scalar record ``params``), never a table. Numba reference-counts
every array of a namedtuple passed to a helper that is not inlined, on every call: a helper
taking the tables cost 40x the work of the whole loop body, and ``month`` holds arrays, so a
helper taking it is ``inline="always"`` (:func:`option_values`). A loop over a county's
workers runs over unsigned indices (:func:`county_workers`), so no array access checks for a
negative index; its draws use keys computed once per kernel (``sim.rules.draw_key``), and a
quantity that depends only on the county and the trade is computed once per county (the
returnee's founding chance), not per worker.

Parallel rule: loops over workers run in parallel over counties (``prange``), each county's
workers in index order (workers are stored in contiguous blocks by home county, and a local
job is in the home county, so a county's loop touches only its own workers, its own firms and
its own county row). Draws are counter-based and every sum is accumulated inside one county
in a fixed order, so results are bit-identical whatever the number of threads and however
the counties are handed out to them (the engine hands them out in chunks as threads finish:
``PARALLEL_CHUNK_COUNTIES``); counts that cross counties are summed afterwards from per-county
arrays, never by a scalar reduction over the ``prange``. A parallel kernel unpacks every
array into a local first and clears arrays with plain loops, never ``a[:] = 0`` on a table's
attribute: numba's parfor pass does not see that two reads of ``state.x`` are one array and
reorders such a clear after the loop (the counts came out zero).

Passes over the workers in a month: two (plus ageing and training in a year's first
month). :func:`worker_step` (job events and choices) also counts each firm's employees and
each county's local seekers; :func:`match_local` matches seekers and tallies payroll and head
counts in one loop, in worker order (a worker's status is final once its matching draw is
done). :func:`count_employees` and :func:`worker_tallies` do the same counts on their own for
the set-up. A pass reads every worker array it uses (10 M agents x 27 bytes for all of them):
a new per-worker quantity belongs in one of these two loops, not in a third pass.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange
from numba.core import config as numba_config

from sim.codes import (
    HOME,
    LOCAL,
    N_STATUSES,
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
)
from sim.rules import (
    draw_key,
    employment_chance,
    entrant_skill,
    founding_probability,
    keyed_uniform,
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

# A parallel region receives a namedtuple as unpacked scalars; the parameter record has ~180.
numba_config.PARFOR_MAX_TUPLE_SIZE = max(numba_config.PARFOR_MAX_TUPLE_SIZE, 1024)

# Options of a worker's choice (Harris-Todaro), in the order of the value vector.
OPTION_LOCAL, OPTION_OUTBOUND, OPTION_HOME = 0, 1, 2


@njit(cache=True, inline="always")
def county_workers(worker_start, worker_stop, c):
    """The indices of county ``c``'s workers, unsigned: numba checks a signed index for a
    negative value on every array access, which LLVM cannot drop when the range starts at a
    loaded bound (measured: 70 % more time per worker in a loop like :func:`worker_step`)."""
    return range(np.uint64(worker_start[c]), np.uint64(worker_stop[c]))


# --- county-level expectations ------------------------------------------------------------

@njit(cache=True)
def package_share(params, chain_present, industry_employment, targeted):
    """Share of the full package an entrant gets in a county where its industry has
    ``chain_present`` partners and ``industry_employment``: none for an industry the county
    does not target (``policy.selection``); under the reform KPI, entrants without a local
    chain match get ``unmatched_package_share``."""
    if targeted <= 0.0:
        return 0.0
    if params.chain_screening and not (chain_present > 0 or industry_employment > 0):
        return params.unmatched_package_share
    return 1.0


@njit(cache=True)
def package_shares(params, state, county, industry, out):
    """:func:`package_share` of each (county, industry) pair."""
    chain_present = state.chain_present
    employment = state.industry_employment
    for k in range(county.size):
        c, i = county[k], industry[k]
        out[k] = package_share(params, chain_present[c, i], employment[c, i],
                               state.targeted[c, i])


@njit(cache=True)
def county_expectations(counties, state, month, industries, params):
    """Expected monthly profit and package value per unit of capacity, every (county, industry).

    A unit of capacity fills orders worth one reference worker's output; a county whose
    workers are less productive needs more of them (and pays more wage subsidy for them).
    The package an entrant is offered is the national terms x chain screening x the county's
    generosity this year.
    """
    n_counties, n_ind = state.profit_per_capacity.shape
    for c in range(n_counties):
        skill = state.pool_skill[c]
        wage = worker_wage(params, month.wage[c], month.min_wage[c], skill)
        rent = month.rent[c]
        for i in range(n_ind):
            lp = labor_productivity(params, month.output_per_worker[i],
                                    industries.skill_requirement[i], skill,
                                    state.infrastructure[c], state.industry_employment[c, i],
                                    industries.agglomeration_elasticity[i],
                                    state.chain_present[c, i], industries.resource_affinity[i],
                                    state.local_resource[c, i])
            revenue = month.reference_productivity[i] * month.demand[c, i]
            workers_needed = revenue / lp
            state.workers_per_capacity[c, i] = workers_needed
            state.labor_cost_per_capacity[c, i] = workers_needed * wage
            logistics = logistics_cost(params, revenue, industries.input_share_east[i],
                                       industries.output_share_east[i], counties.distance_km[c],
                                       state.infrastructure[c], state.chain_present[c, i],
                                       counties.hub_access[c], month.logistics)
            state.profit_per_capacity[c, i] = (revenue * (1.0 - industries.materials_share[i])
                                               - workers_needed * wage - logistics - rent
                                               - month.capital_per_worker[i])
            state.fixed_per_capacity[c, i] = rent + month.capital_per_worker[i]
            package = (params.rent_waiver * rent + params.wage_subsidy * workers_needed
                       + params.freight_subsidy * logistics)
            state.package_terms_per_capacity[c, i] = package
            state.package_per_capacity[c, i] = package * package_share(
                params, state.chain_present[c, i], state.industry_employment[c, i],
                state.targeted[c, i]) * state.generosity[c]


# --- firms: plan the month ----------------------------------------------------------------

@njit(cache=True)
def exit_reason(params, months_below_buffer, months_in_county, orphan, u_hazard):
    """Why a firm exits this month, ``R_NONE`` if it carries on. Cash exits need
    ``exit_patience`` bad months after a ramp-up in the county (a new or moved plant runs
    below capacity while it hires); any firm may close by the idiosyncratic hazard."""
    if (months_below_buffer >= params.exit_patience
            and months_in_county >= params.ramp_up_months):
        return R_PARENT if orphan else R_CASH
    if u_hazard < params.exit_hazard:
        return R_HAZARD
    return R_NONE


@njit(cache=True)
def satellite_orders(parent_orders, capacity, parent_capacity, demand, parent_demand):
    """A satellite workshop's orders: a share of its parent's, in proportion to capacity and
    adjusted for shocks specific to its region (none if the parent's market is shut)."""
    if parent_demand <= 0.0:
        return 0.0
    return parent_orders * capacity / parent_capacity * demand / parent_demand


@njit(cache=True)
def firm_plan(firms, counties, state, month, industries, params, seed, step):
    """Exit decisions from last month's cash, then orders, labor productivity and hiring plans.

    Orders: a satellite workshop gets a share of its parent's (none once the parent has
    died; parents have lower ids, so theirs are set); others draw their own.

    Returns:
        Number of firms exiting this month (their ``exit_reason`` is set, ``alive`` cleared).
    """
    alive, county, industry, parent = firms.alive, firms.county, firms.industry, firms.parent
    orders, capacity, employees = firms.orders, firms.capacity, firms.employees
    demand = month.demand
    n_exit = 0
    for f in range(alive.size):
        firms.exit_reason[f] = R_NONE
        if not alive[f]:
            firms.layoff_prob[f] = 1.0
            continue
        p = parent[f]
        reason = exit_reason(params, firms.months_below_buffer[f], firms.months_in_county[f],
                             p >= 0 and not alive[p], uniform(seed, step, f, P_HAZARD))
        if reason != R_NONE:
            firms.exit_reason[f] = reason
            alive[f] = False
            firms.layoff_prob[f] = 1.0
            firms.desired[f] = 0
            n_exit += 1
            continue
        c = county[f]
        i = industry[f]
        n_emp = employees[f]
        mean_skill = firms.skill_sum[f] / n_emp if n_emp > 0 else state.pool_skill[c]
        lp = firms.efficiency[f] * labor_productivity(
            params, month.output_per_worker[i], industries.skill_requirement[i], mean_skill,
            state.infrastructure[c], state.industry_employment[c, i],
            industries.agglomeration_elasticity[i], state.chain_present[c, i],
            industries.resource_affinity[i], state.local_resource[c, i])
        firms.labor_productivity[f] = lp
        if p >= 0:
            orders[f] = (0.0 if not alive[p] else satellite_orders(
                orders[p], capacity[f], capacity[p], demand[c, i], demand[county[p], i]))
        else:
            noise = math.exp(params.order_noise * normal(seed, step, f, P_ORDERS)
                             - 0.5 * params.order_noise * params.order_noise)
            orders[f] = capacity[f] * month.reference_productivity[i] * demand[c, i] * noise
        want = int(orders[f] / lp + 0.5)
        want = min(want, params.max_firm_agents,
                   int(params.max_hiring_over_capacity * capacity[f] + 1.0))
        firms.desired[f] = want
        excess = n_emp - want
        firms.layoff_prob[f] = excess / n_emp if excess > 0 else 0.0
    return n_exit


# --- workers: job events, learning and the monthly choice -----------------------------------

@njit(cache=True, inline="always")  # inlined: a call would reference-count month's arrays
def option_values(params, month, status, seeking, skill, experience_months, care, age, in_east,
                  wage, min_wage, local_employment, home_income, trade_premium, values):
    """Expected incomes of a local job, outbound work and staying home (Harris-Todaro), in
    logit units, with the switching inertia added to the current option.

    Every worker values the options the same way whatever its status (MODEL.md §11.2):
    local = local wage x the chance of being employed locally; outbound = eastern wage x the
    chance of being employed in the east - living cost - care and age costs, and the
    migration cost for a worker not yet away (a cost of moving, like the inertia); home =
    home income. The chance of being employed is the employment rate of the market's labour
    force (``sim.rules.employment_chance``), set each month by the engine. The eastern wage
    carries the premium of the worker's trade (``trade_premium``: catering stores, domestic
    service).
    """
    wage_local = worker_wage(params, wage, min_wage, skill)
    values[OPTION_LOCAL] = wage_local * local_employment
    if status == LOCAL or seeking:
        current = OPTION_LOCAL
    else:
        current = OPTION_HOME
    if in_east:
        values[OPTION_OUTBOUND] = -1e18  # already in the east: no outbound option
    else:
        away = status == OUTBOUND or status == OUTBOUND_SEEKING
        values[OPTION_OUTBOUND] = (
            outbound_wage(params, month.wage_east * (1.0 + trade_premium), skill,
                          experience_months)
            * month.outbound_employment
            - month.living_cost - (0.0 if away else params.migration_cost)
            - params.care_cost * care - params.age_cost * max(0, age - params.age_cost_from))
        if away:
            current = OPTION_OUTBOUND
    values[OPTION_HOME] = home_income
    for k in range(3):
        values[k] /= params.income_scale
    values[current] += params.switching_inertia


@njit(cache=True, parallel=True)
def worker_step(workers, firms, counties, state, month, industries, params, seed, step):
    """One month of every worker: job events, then (forced after a job loss, else with the
    search probability) the logit choice over expected incomes (:func:`option_values`).

    Job events: a local employee may be laid off (else learns); an outbound worker may lose
    the job (else gains experience and skill, and may come home to found a firm in its trade
    if that trade has local firms); an outbound seeker may find a job, mostly in its trade
    (:func:`sim.rules.outbound_job_industry` for a new one). After the choice: keep a local
    job or look for one from home; keep an outbound job or go and look for one; or stay home.

    The same pass counts, for the local labour market later in the month, each firm's
    employees (``firms.employees``: the workers in a local job at the end of the month's
    events) and each county's local job seekers (``state.seekers``: at home and seeking).
    Nothing between here and :func:`match_local` changes a worker except the returnee
    founders, who take a job in their own new firm (``sim.engine.entry``: its employees
    start at 1).

    One function, about 80 lines, on purpose: see the performance rule in the module doc.

    Returns:
        Returnee founders flagged in ``workers.founder``, by county.
    """
    status, employer, skill, seeking = (workers.status, workers.employer, workers.skill,
                                        workers.seeking)
    experience, industry = workers.experience_months, workers.outbound_industry
    founder, female, care, age = workers.founder, workers.female, workers.care, workers.age
    firm_alive, layoff_prob, employees = firms.alive, firms.layoff_prob, firms.employees
    kind, worker_start, worker_stop = counties.kind, counties.worker_start, counties.worker_stop
    offers, profit, package = (state.offers, state.profit_per_capacity,
                               state.package_per_capacity)
    infrastructure, employment = state.infrastructure, state.industry_employment
    local_employment, seekers = state.local_employment, state.seekers
    development_type, outbound_trade = industries.development_type, industries.outbound_trade
    premium, firm_based = industries.outbound_wage_premium, industries.firm_based
    n_counties = kind.size
    key_layoff, key_separation = draw_key(seed, step, P_LAYOFF), draw_key(seed, step, P_SEPARATION)
    key_returnee, key_out_find = draw_key(seed, step, P_RETURNEE), draw_key(seed, step, P_OUT_FIND)
    key_out_industry = draw_key(seed, step, P_OUT_INDUSTRY)
    key_out_store = draw_key(seed, step, P_OUT_INDUSTRY + 200)
    key_out_pick = draw_key(seed, step, P_OUT_INDUSTRY + 100)
    key_search, key_choice = draw_key(seed, step, P_SEARCH), draw_key(seed, step, P_CHOICE)
    founders_in = np.zeros(n_counties, dtype=np.int64)
    for f in range(employees.size):
        employees[f] = 0
    for c in prange(n_counties):
        values = np.empty(3)
        # A returnee's founding chance depends on its county and trade only: once per county.
        founding = np.empty(firm_based.size)
        offered = 1.0 if offers[c] else 0.0
        for k in range(firm_based.size):
            founding[k] = founding_probability(params, profit[c, k] + offered * package[c, k],
                                               offered, infrastructure[c])
        n_seek = 0
        for w in county_workers(worker_start, worker_stop, c):
            st = status[w]
            forced = False
            founded = False
            if st == LOCAL:
                f = employer[w]
                if (not firm_alive[f]
                        or keyed_uniform(key_layoff, w) < layoff_prob[f]):
                    st = HOME
                    employer[w] = -1
                    forced = True
                else:
                    skill[w] += params.learning_local * (1.0 - skill[w])
            elif st == OUTBOUND:
                if keyed_uniform(key_separation, w) < params.outbound_separation:
                    st = OUTBOUND_SEEKING
                else:
                    experience[w] += 1
                    skill[w] += params.learning_outbound * (1.0 - skill[w])
                    k = industry[w]
                    if (kind[c] != ORIGIN and experience[w] >= params.returnee_min_experience
                            and firm_based[k] > 0):
                        founded = keyed_uniform(key_returnee, w) < founding[k]
            elif st == OUTBOUND_SEEKING:
                if keyed_uniform(key_out_find, w) < month.outbound_finding:
                    st = OUTBOUND
                    if (experience[w] == 0 or keyed_uniform(key_out_industry, w)
                            < params.outbound_industry_switch):
                        k = outbound_job_industry(
                            params, development_type, outbound_trade,
                            employment[c], female[w],
                            keyed_uniform(key_out_store, w),
                            keyed_uniform(key_out_pick, w))
                        if k != industry[w]:
                            experience[w] = 0
                        industry[w] = k
            founder[w] = founded
            if founded:
                founders_in[c] += 1
                status[w] = HOME
                seeking[w] = False
                continue
            if forced or keyed_uniform(key_search, w) < params.search_prob:
                option_values(params, month, st, seeking[w], skill[w], experience[w],
                              care[w], age[w], kind[c] == ORIGIN,
                              month.wage[c], month.min_wage[c], local_employment[c],
                              month.home_income[c], premium[industry[w]], values)
                choice = logit_pick(values, 3, 1.0, keyed_uniform(key_choice, w))
                if choice == OPTION_LOCAL:
                    if st != LOCAL:
                        st = HOME
                        seeking[w] = True
                elif choice == OPTION_OUTBOUND:
                    if st != OUTBOUND and st != OUTBOUND_SEEKING:
                        st = OUTBOUND_SEEKING
                        employer[w] = -1
                    seeking[w] = False
                else:
                    st = HOME
                    employer[w] = -1
                    seeking[w] = False
            status[w] = st
            if st == LOCAL:  # a local job is in the home county: no other county's firm
                employees[employer[w]] += 1
            elif st == HOME and seeking[w]:
                n_seek += 1
        seekers[c] = n_seek
    return founders_in


@njit(cache=True)
def flagged_workers(flags, counties, counts):
    """The workers whose flag is set, in order, given how many each county has: only the
    blocks of counties with a flag are read (not a pass over every worker)."""
    worker_start, worker_stop = counties.worker_start, counties.worker_stop
    found = np.empty(counts.sum(), dtype=np.int64)
    k = 0
    for c in range(counts.size):
        if counts[c] == 0:
            continue
        for w in county_workers(worker_start, worker_stop, c):
            if flags[w]:
                found[k] = w
                k += 1
    return found


# --- local labour markets -------------------------------------------------------------------

@njit(cache=True, parallel=True)
def count_employees(workers, firms, counties, state):
    """Recount each firm's employees from the workers pointing at it (by county: a local job
    is in the worker's home county) and each county's local job seekers. In a month,
    :func:`worker_step` counts both in its pass; this is for the set-up."""
    employees, status, employer = firms.employees, workers.status, workers.employer
    seeking, seekers = workers.seeking, state.seekers
    worker_start, worker_stop = counties.worker_start, counties.worker_stop
    for f in range(employees.size):
        employees[f] = 0
    for c in prange(worker_start.size):
        n_seek = 0
        for w in county_workers(worker_start, worker_stop, c):
            st = status[w]
            if st == LOCAL:
                employees[employer[w]] += 1
            elif st == HOME and seeking[w]:
                n_seek += 1
        seekers[c] = n_seek


@njit(cache=True)
def vacancy_lists(firms, n_counties):
    """Open vacancies per firm, and the firms with vacancies grouped by county (CSR:
    ``firm_list[start[c]:start[c + 1]]`` in id order)."""
    vacancies = np.zeros(firms.alive.size, dtype=np.int64)
    start = np.zeros(n_counties + 1, dtype=np.int64)
    for f in range(firms.alive.size):
        if firms.alive[f] and firms.desired[f] > firms.employees[f]:
            vacancies[f] = firms.desired[f] - firms.employees[f]
            start[firms.county[f] + 1] += 1
    for c in range(n_counties):
        start[c + 1] += start[c]
    firm_list = np.empty(start[n_counties], dtype=np.int64)
    fill = start[:-1].copy()
    for f in range(firms.alive.size):
        if vacancies[f] > 0:
            firm_list[fill[firms.county[f]]] = f
            fill[firms.county[f]] += 1
    return vacancies, start, firm_list


@njit(cache=True, inline="always")
def tally_worker(params, status, skill, employer, poverty_alleviated, county_wage, min_wage,
                 firm_skill, wage_bill):
    """One worker's part of the month's tally (:func:`match_local`, :func:`worker_tallies`):
    a worker in a local job adds its skill and wage to its firm; returns what it adds to its
    county's pool skill (at home or in a local job), local wages and poverty-alleviated
    employees (adding 0.0 leaves a float sum exactly as it was)."""
    pool = skill if status == HOME or status == LOCAL else 0.0
    if status != LOCAL:
        return pool, 0.0, 0
    wage = worker_wage(params, county_wage, min_wage, skill)
    firm_skill[employer] += skill
    wage_bill[employer] += wage
    return pool, wage, 1 if poverty_alleviated else 0


@njit(cache=True, parallel=True)
def match_local(workers, firms, counties, state, month, industries, params, seed, step):
    """Fill vacancies inside each county from its local job seekers, then tally the month's
    payroll and head counts, in one pass over each county's workers.

    A seeker is hired with probability min(1, vacancies / seekers) and joins a firm drawn in
    proportion to its open vacancies (counter-based draws: order-free up to capacity ties),
    if the job is within reach (:func:`sim.rules.within_reach`: care-bound workers and the
    county seat); else the vacancy stays open.

    Needs this month's ``firms.employees`` and ``state.seekers`` (counted by
    :func:`worker_step`, or :func:`count_employees`). Once its matching draw is done a
    worker's status is final for the month, so the same loop tallies it as
    :func:`worker_tallies` would after matching, in the same worker order (the sums are the
    same floats): each firm's skill sum and wage bill (its employees are the count plus
    its hires), each county's status counts, pool skill, local wages and poverty-alleviated
    employees.
    """
    n_counties = counties.kind.size
    vacancies, start, firm_list = vacancy_lists(firms, n_counties)
    status, seeking, employer, care = (workers.status, workers.seeking, workers.employer,
                                       workers.care)
    skill, poverty_alleviated = workers.skill, workers.poverty_alleviated
    employees, parent, industry = firms.employees, firms.parent, firms.industry
    firm_skill, wage_bill = firms.skill_sum, firms.wage_bill
    care_friendly_trade = industries.care_friendly
    seekers, hires = state.seekers, state.hires
    status_counts, skill_sum = state.status_counts, state.skill_sum
    wage_sum_local, poverty_local = state.wage_sum_local, state.poverty_local
    worker_start, worker_stop = counties.worker_start, counties.worker_stop
    county_wage, min_wage = month.wage, month.min_wage
    key_match, key_match_firm = draw_key(seed, step, P_MATCH), draw_key(seed, step, P_MATCH_FIRM)
    key_care_access = draw_key(seed, step, P_CARE_ACCESS)
    for f in range(employees.size):
        firm_skill[f] = 0.0
        wage_bill[f] = 0.0
    for c in prange(n_counties):
        lo, hi = start[c], start[c + 1]
        n_seek = seekers[c]
        n_hired = 0
        open_total = 0
        for k in range(lo, hi):
            open_total += vacancies[firm_list[k]]
        p_hire = min(1.0, open_total / n_seek) if n_seek > 0 else 0.0
        pool_skill = 0.0
        wages = 0.0
        n_poverty = 0
        counts = np.zeros(N_STATUSES, dtype=np.int64)  # this county's, stored after the loop
        for w in county_workers(worker_start, worker_stop, c):
            st = status[w]
            if (open_total > 0 and st == HOME and seeking[w]
                    and keyed_uniform(key_match, w) < p_hire):
                target = keyed_uniform(key_match_firm, w) * open_total
                acc = 0.0
                chosen = firm_list[hi - 1]
                for k in range(lo, hi):
                    acc += vacancies[firm_list[k]]
                    if target < acc:
                        chosen = firm_list[k]
                        break
                care_friendly = (parent[chosen] >= 0
                                 or care_friendly_trade[industry[chosen]] > 0)
                if within_reach(params, care[w], care_friendly,
                                keyed_uniform(key_care_access, w)):
                    vacancies[chosen] -= 1
                    open_total -= 1
                    employees[chosen] += 1
                    employer[w] = chosen
                    st = LOCAL
                    status[w] = LOCAL
                    seeking[w] = False
                    n_hired += 1
            # The month's tally of this worker.
            counts[st] += 1
            pool_add, wage, poverty_add = tally_worker(
                params, st, skill[w], employer[w], poverty_alleviated[w], county_wage[c],
                min_wage[c], firm_skill, wage_bill)
            pool_skill += pool_add
            wages += wage
            n_poverty += poverty_add
        for s in range(N_STATUSES):
            status_counts[c, s] = counts[s]
        hires[c] = n_hired
        skill_sum[c] = pool_skill
        wage_sum_local[c] = wages
        poverty_local[c] = n_poverty


@njit(cache=True)
def local_employment(state):
    """Each county's chance of holding a local job (``sim.rules.employment_chance``), from
    this month's head counts after matching (those hired this month are employed, no longer
    seekers), the seekers left and the expected job-finding rate."""
    for c in range(state.local_employment.size):
        state.local_employment[c] = employment_chance(
            float(state.status_counts[c, LOCAL]), float(state.seekers[c] - state.hires[c]),
            state.local_finding[c])


@njit(cache=True, parallel=True)
def worker_tallies(workers, firms, counties, state, month, params):
    """Per-firm payroll and per-county head counts in one pass over workers.

    ``state.status_counts[c, s]`` counts residents of county ``c`` with status ``s``;
    ``state.skill_sum`` sums the skill of the local labour pool (at home or in local jobs).
    """
    status, skill, employer = workers.status, workers.skill, workers.employer
    poverty_alleviated = workers.poverty_alleviated
    employees, firm_skill, wage_bill = firms.employees, firms.skill_sum, firms.wage_bill
    status_counts, skill_sum = state.status_counts, state.skill_sum
    wage_sum_local, poverty_local = state.wage_sum_local, state.poverty_local
    worker_start, worker_stop = counties.worker_start, counties.worker_stop
    county_wage, min_wage = month.wage, month.min_wage
    for f in range(employees.size):
        employees[f] = 0
        firm_skill[f] = 0.0
        wage_bill[f] = 0.0
    for c in prange(worker_start.size):
        pool_skill = 0.0
        wages = 0.0
        n_poverty = 0
        for s in range(status_counts.shape[1]):
            status_counts[c, s] = 0
        for w in county_workers(worker_start, worker_stop, c):
            st = status[w]
            status_counts[c, st] += 1
            if st == LOCAL:
                employees[employer[w]] += 1
            pool_add, wage, poverty_add = tally_worker(
                params, st, skill[w], employer[w], poverty_alleviated[w], county_wage[c],
                min_wage[c], firm_skill, wage_bill)
            pool_skill += pool_add
            wages += wage
            n_poverty += poverty_add
        skill_sum[c] = pool_skill
        wage_sum_local[c] = wages
        poverty_local[c] = n_poverty


# --- firms: the month's accounts --------------------------------------------------------------

@njit(cache=True)
def firm_accounts(firms, counties, state, month, industries, params, seed, step):
    """Revenue, costs, support, cash, capacity and the below-buffer counter; ages and package
    clocks. One function on purpose (see the performance rule in the module doc):

    - support: the package (or a retention offer, from the retention budget) is paid from the
      county budget with probability ``credibility``; the special fund's freight/power
      subsidy pays a share of logistics while the county's fund money lasts (firm-index
      order: first come, first served);
    - firms invest out of margins and shrink on losses; owners take this month's profit out
      above a cash reserve (launch capital stays in the firm);
    - a bad month: below the buffer (credit line and relocation loan) and losing money, or no
      business at all (a workshop whose parent died keeps no zombie shell).

    Returns:
        Number of packages that expired this month.
    """
    alive, county, industry, cash, capacity = (firms.alive, firms.county, firms.industry,
                                               firms.cash, firms.capacity)
    budget, retention, fund = state.package_budget, state.retention_budget, state.fund_freight
    n_expired = 0
    for f in range(alive.size):
        if not alive[f]:
            firms.revenue[f] = 0.0
            firms.subsidy[f] = 0.0
            continue
        c = county[f]
        i = industry[f]
        cap = capacity[f]
        revenue = min(firms.orders[f], firms.employees[f] * firms.labor_productivity[f])
        logistics = logistics_cost(params, revenue, industries.input_share_east[i],
                                   industries.output_share_east[i], counties.distance_km[c],
                                   state.infrastructure[c], state.chain_present[c, i],
                                   counties.hub_access[c], month.logistics)
        rent = month.rent[c] * cap
        materials = industries.materials_share[i]
        costs = (revenue * materials + firms.wage_bill[f] + rent
                 + month.capital_per_worker[i] * cap + logistics)
        paid = 0.0
        share = firms.package_share[f] if firms.subsidy_months_left[f] > 0 else 0.0
        if share > 0.0:
            due = share * (params.rent_waiver * rent + params.wage_subsidy * firms.employees[f]
                           + params.freight_subsidy * logistics)
            if uniform(seed, step, f, P_CREDIBILITY) < params.credibility:
                if firms.retained[f]:
                    if retention[c] >= due:
                        retention[c] -= due
                        paid += due
                elif budget[c] >= due:
                    budget[c] -= due
                    paid += due
        if fund[c] > 0.0:
            fund_due = min(params.fund_freight_share * logistics, fund[c])
            fund[c] -= fund_due
            paid += fund_due
        firms.revenue[f] = revenue
        firms.subsidy[f] = paid
        firms.profit[f] = revenue - costs
        flow = revenue - costs + paid
        cash[f] += flow
        if revenue > 0.0:
            margin = flow / revenue
            capacity[f] = min(params.max_capacity,
                              max(1.0, capacity[f] * (1.0 + params.investment_rate * margin)))
        reserve = params.cash_reserve_months * (costs - revenue * materials)
        if cash[f] > reserve and flow > 0.0:
            cash[f] -= min(cash[f] - reserve, flow)
        buffer = -state.credit_line[c] * capacity[f] - firms.relocation_debt[f]
        if (cash[f] < buffer and flow < 0.0) or revenue <= 0.0:
            firms.months_below_buffer[f] += 1
        else:
            firms.months_below_buffer[f] = 0
        # Clocks: the relocation loan, age, tenure, and the package.
        firms.relocation_debt[f] = max(0.0, firms.relocation_debt[f]
                                       - firms.relocation_debt_repayment[f])
        firms.age_months[f] += 1
        firms.months_in_county[f] += 1
        if firms.subsidy_months_left[f] > 0:
            firms.subsidy_months_left[f] -= 1
            if firms.subsidy_months_left[f] == 0:
                n_expired += 1
    return n_expired


# --- location choice: reviews of incumbents and entrants' choices --------------------------

@njit(cache=True)
def location_value(params, capacity, efficiency, scale, available, workers_per_capacity,
                   profit, labor_cost, fixed, package, package_weight, move_cost):
    """Value of a county to a decider, in months of its revenue times the logit temperature.

    ``location_horizon`` months of expected profit of its ``capacity`` -- part-empty where
    workers are short: the unfilled share earns nothing and still pays rent and capital; the
    firm knows its own efficiency, so an efficient firm needs fewer workers -- plus the
    package value (``package_weight`` = credible months of it, times the firm's share), minus
    the one-off ``move_cost`` of relocating there.
    """
    needed = capacity * workers_per_capacity / efficiency
    fill = 1.0 if needed <= available else available / needed
    own_profit = profit + labor_cost * (1.0 - 1.0 / efficiency)
    value = params.location_horizon * capacity * (fill * (own_profit + fixed) - fixed)
    value += package_weight * package * capacity * fill
    value -= move_cost
    return value / (scale * params.location_temperature)


@njit(cache=True)
def choose_locations(deciders, state, pairing, industries, params, outside_option, seed, step,
                     purpose, chosen):
    """Multinomial-logit location choice (McFadden; Carlton 1983) of every decider.

    Each compares the outside option (-1, value 0; entrants only), its current county (no
    move cost, the rest of its own package -- its ``package_share`` of the national terms,
    a retention offer included; its own workers count as available there), its
    origin, one county paired with the origin (east-west partner) and
    ``location_candidates`` counties drawn from those offering packages, without repeats.
    ``chosen[k]`` is the county picked. One function on purpose (see the module doc).
    """
    ids, industry, capacity, current, origin = (deciders.ids, deciders.industry,
                                                deciders.capacity, deciders.current,
                                                deciders.origin)
    partner_start, partner_list, offering = (pairing.partner_start, pairing.partner_list,
                                             pairing.offering)
    horizon = params.location_horizon
    options = np.empty(params.location_candidates + 4, dtype=np.int64)
    values = np.zeros(params.location_candidates + 4)
    for k in range(ids.size):
        uid, i, cur, o = ids[k], industry[k], current[k], origin[k]
        m = 0
        if outside_option:
            options[m] = -1
            m += 1
        if cur >= 0:
            options[m] = cur
            m += 1
        if o >= 0 and o != cur:
            options[m] = o
            m += 1
        n_partners = partner_start[o + 1] - partner_start[o] if o >= 0 else 0
        if n_partners > 0:
            j = partner_start[o] + int(uniform(seed, step, uid, purpose + 100) * n_partners)
            p = partner_list[j]
            if p != cur and p != o:
                options[m] = p
                m += 1
        for r in range(params.location_candidates if offering.size > 0 else 0):
            cand = offering[int(uniform(seed, step, uid * 128 + r, purpose + 200)
                                * offering.size)]
            if cand not in options[:m]:
                options[m] = cand
                m += 1
        scale = max(deciders.monthly_revenue[k], 1.0)
        for q in range(m):
            c = options[q]
            if c < 0:
                values[q] = 0.0
                continue
            available = state.labor_available[c]
            move_cost = 0.0
            package = state.package_per_capacity[c, i]
            if c == cur:
                available += deciders.own_workers[k]
                weight = (min(deciders.months_left[k], horizon) * params.credibility
                          * deciders.package_share[k])
                package = state.package_terms_per_capacity[c, i]
            else:
                weight = (min(params.package_months, horizon) * params.credibility
                          if state.offers[c] else 0.0)
                if cur >= 0:
                    move_cost = (industries.relocation_cost_months[i]
                                 * params.relocation_cost_factor * scale)
            values[q] = location_value(
                params, capacity[k], deciders.efficiency[k], scale, available,
                state.workers_per_capacity[c, i], state.profit_per_capacity[c, i],
                state.labor_cost_per_capacity[c, i], state.fixed_per_capacity[c, i],
                package, weight, move_cost)
        chosen[k] = options[logit_pick(values, m, 1.0, uniform(seed, step, uid, purpose))]


# --- yearly worker processes ---------------------------------------------------------------

@njit(cache=True, parallel=True)
def train_workers(workers, counties, state, params, seed, step, trained):
    """Order-based vocational courses (订单式培训) for local employees and local job seekers:
    each is trained with the county's probability; a course closes ``training_skill_gain``
    of the gap to full skill, until the county's ``training_courses`` are used up (in worker
    order). ``trained[c]`` counts the worker agents trained in county ``c``.
    """
    status, seeking, skill = workers.status, workers.seeking, workers.skill
    worker_start, worker_stop = counties.worker_start, counties.worker_stop
    training_prob, training_courses = state.training_prob, state.training_courses
    key_training = draw_key(seed, step, P_TRAINING)
    for c in prange(worker_start.size):
        p = training_prob[c]
        if p <= 0.0:
            continue
        for w in county_workers(worker_start, worker_stop, c):
            if trained[c] >= training_courses[c]:
                break
            if not (status[w] == LOCAL or seeking[w]):
                continue
            if keyed_uniform(key_training, w) < p:
                skill[w] += params.training_skill_gain * (1.0 - skill[w])
                trained[c] += 1


@njit(cache=True, parallel=True)
def age_workers(workers, counties, params, seed, step):
    """Workers age a year; retirees are replaced by young entrants in the same county.

    Returns:
        Number of replacements.
    """
    age, status, employer, seeking = (workers.age, workers.status, workers.employer,
                                      workers.seeking)
    experience, female_, care, skill = (workers.experience_months, workers.female,
                                        workers.care, workers.skill)
    worker_start, worker_stop, county_kind = (counties.worker_start, counties.worker_stop,
                                              counties.kind)
    key_female = draw_key(seed, step, P_DEMOGRAPHY)
    key_care = draw_key(seed, step, P_DEMOGRAPHY + 100)
    key_skill = draw_key(seed, step, P_NEWBORN)
    replaced = np.zeros(worker_start.size, dtype=np.int64)
    for c in prange(worker_start.size):
        kind = county_kind[c]
        for w in county_workers(worker_start, worker_stop, c):
            age[w] += 1
            if age[w] < params.retirement_age:
                continue
            replaced[c] += 1
            age[w] = params.entry_age
            status[w] = HOME
            employer[w] = -1
            seeking[w] = False
            experience[w] = 0
            female = keyed_uniform(key_female, w) < params.female_share
            female_[w] = female
            p_care = params.care_share_female if female else params.care_share_male
            care[w] = keyed_uniform(key_care, w) < params.entrant_care_factor * p_care
            skill[w] = entrant_skill(params, kind, keyed_uniform(key_skill, w))
    return replaced.sum()
