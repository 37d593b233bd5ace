"""Numba kernels: the hot loops of the monthly step, as small free functions over arrays.

Every random draw is counter-based: ``uniform(seed, step, index, purpose)`` hashes its four
integers (SplitMix64 finaliser), so a draw depends only on who draws it, when and why — never on
iteration order, thread count or how many draws happened before. This gives common random
numbers across policy arms and makes a checkpoint/restart trivially exact.

Money inside kernels is per worker agent ("yuan per person"); the engine multiplies by
``persons_per_agent`` when it reports.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

# Worker status codes (duplicated from sim.state as plain ints for numba).
HOME, LOCAL, OUTBOUND, OUTBOUND_SEEKING = 0, 1, 2, 3
ORIGIN, CENTRAL, POVERTY = 0, 1, 2
R_NONE, R_CASH, R_HAZARD, R_PARENT = 0, 1, 2, 3

# Draw purposes: one stream per decision.
P_LAYOFF, P_SEPARATION, P_OUT_FIND, P_OUT_INDUSTRY, P_SEARCH, P_CHOICE = 1, 2, 3, 4, 5, 6
P_MATCH, P_MATCH_FIRM, P_CREDIBILITY, P_HAZARD, P_ORDERS, P_RETURNEE = 7, 8, 9, 10, 11, 12
P_CANDIDATE, P_LOCATION, P_TRAINING, P_DEMOGRAPHY, P_NEWBORN, P_PARTNER = 13, 14, 15, 16, 17, 18
P_ORDERS2 = 19

SKILL_REFERENCE = 0.55  # skill at which the skill factor of labor productivity is 1


@njit(cache=True, inline="always")
def _mix64(z):
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@njit(cache=True)
def uniform(seed, step, index, purpose):
    """A uniform draw in [0, 1) determined by (seed, step, index, purpose) alone."""
    golden = np.uint64(0x9E3779B97F4A7C15)
    z = _mix64(np.uint64(seed) * golden + np.uint64(purpose))
    z = _mix64(z ^ (np.uint64(step) * np.uint64(0xD1B54A32D192ED03)))
    z = _mix64(z ^ (np.uint64(index) * golden + np.uint64(0x632BE59BD9B4E019)))
    return float(z >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True)
def normal(seed, step, index, purpose):
    """A standard normal draw (Box-Muller on two counter-based uniforms)."""
    u1 = uniform(seed, step, index, purpose)
    u2 = uniform(seed, step, index, purpose + 1000)
    return math.sqrt(-2.0 * math.log(1.0 - u1)) * math.cos(2.0 * math.pi * u2)


# --- small pure rules shared by every kernel (and by the Python side) -----------------------

@njit(cache=True)
def worker_wage(county_wage, min_wage, skill):
    """Local wage for a worker of ``skill``: county wage times skill premium, floored."""
    return max(min_wage, county_wage * (0.7 + 0.6 * skill))


@njit(cache=True)
def labor_productivity(output_per_worker, skill_requirement, mean_skill, infrastructure,
                       industry_employment, agglomeration_elasticity, agglomeration_reference,
                       chain_present, chain_bonus, resource_affinity, local_resource):
    """Output value per worker-month: skill, infrastructure, agglomeration, chain, resource."""
    skill_factor = 1.0 - skill_requirement + skill_requirement * mean_skill / SKILL_REFERENCE
    infra_factor = 0.6 + 0.4 * infrastructure
    agglomeration = ((1.0 + industry_employment / agglomeration_reference)
                     ** agglomeration_elasticity)
    chain = 1.0 + chain_bonus * chain_present
    resource = 1.0 + resource_affinity * local_resource
    return output_per_worker * skill_factor * infra_factor * agglomeration * chain * resource


@njit(cache=True)
def logistics_cost(revenue, input_share, output_share, freight_rate, distance_km,
                   infrastructure, infra_discount, chain_present, chain_discount, multiplier):
    """Freight cost: distance x (input + output share east), lowered by infra and local chain."""
    return (revenue * (input_share + output_share) * freight_rate * distance_km / 1000.0
            * (1.0 - infra_discount * infrastructure) * (1.0 - chain_discount * chain_present)
            * multiplier)


@njit(cache=True)
def logit_pick(values, n, temperature, u):
    """Index drawn from a multinomial logit over ``values[:n]`` with a uniform ``u``."""
    vmax = values[0]
    for k in range(1, n):
        vmax = max(vmax, values[k])
    total = 0.0
    for k in range(n):
        total += math.exp((values[k] - vmax) / temperature)
    target = u * total
    acc = 0.0
    for k in range(n):
        acc += math.exp((values[k] - vmax) / temperature)
        if target < acc:
            return k
    return n - 1


# --- county-level expectations ------------------------------------------------------------

@njit(cache=True)
def county_expectations(county_wage, county_min_wage, county_rent, county_infra, county_distance,
                        county_region, demand, pool_skill, industry_employment, chain_present,
                        local_resource,
                        output_per_worker, reference_productivity, materials_share,
                        skill_requirement, input_share, output_share, agglomeration_elasticity,
                        resource_affinity, capital_per_worker, agglomeration_reference,
                        chain_bonus, freight_rate, infra_discount, chain_discount,
                        logistics_multiplier, rent_waiver, wage_subsidy, freight_subsidy,
                        profit_per_capacity, package_per_capacity, workers_per_capacity,
                        labor_cost_per_capacity):
    """Expected monthly profit and package value per unit of capacity, every (county, industry).

    A unit of capacity fills orders worth one reference worker's output; a county whose
    workers are less productive needs more of them (and pays more wage subsidy for them).
    """
    n_counties, n_ind = profit_per_capacity.shape
    for c in range(n_counties):
        wage = worker_wage(county_wage[c], county_min_wage[c], pool_skill[c])
        for i in range(n_ind):
            lp = labor_productivity(output_per_worker[i], skill_requirement[i], pool_skill[c],
                                    county_infra[c], industry_employment[c, i],
                                    agglomeration_elasticity[i], agglomeration_reference,
                                    chain_present[c, i], chain_bonus, resource_affinity[i],
                                    local_resource[c, i])
            revenue = reference_productivity[i] * demand[county_region[c], i]
            workers_needed = revenue / lp
            workers_per_capacity[c, i] = workers_needed
            labor_cost_per_capacity[c, i] = workers_needed * wage
            logistics = logistics_cost(revenue, input_share[i], output_share[i], freight_rate,
                                       county_distance[c], county_infra[c], infra_discount,
                                       chain_present[c, i], chain_discount, logistics_multiplier)
            profit_per_capacity[c, i] = (revenue * (1.0 - materials_share[i])
                                         - workers_needed * wage - logistics - county_rent[c]
                                         - capital_per_worker[i])
            package_per_capacity[c, i] = (rent_waiver * county_rent[c]
                                          + wage_subsidy * workers_needed
                                          + freight_subsidy * logistics)


# --- firms: plan the month ----------------------------------------------------------------

@njit(cache=True)
def firm_plan(n_firms, alive, county, industry, efficiency, capacity, parent, employees,
              skill_sum, months_below_buffer, months_in_county, county_infra, county_region,
              pool_skill,
              industry_employment, chain_present, local_resource, output_per_worker,
              skill_requirement, agglomeration_elasticity, resource_affinity, demand,
              reference_productivity, agglomeration_reference, chain_bonus, order_noise,
              exit_patience, ramp_up_months, exit_hazard, max_size, seed, step,
              labor_prod, orders, desired, layoff_prob, exit_reason):
    """Exit decisions from last month's cash, then orders, labor productivity and hiring plans.

    Returns:
        Number of firms exiting this month (their ``exit_reason`` is set, ``alive`` cleared).
    """
    n_exit = 0
    for f in range(n_firms):
        exit_reason[f] = R_NONE
        if not alive[f]:
            layoff_prob[f] = 1.0
            continue
        p = parent[f]
        orphan = p >= 0 and not alive[p]
        # Cash exits need exit_patience bad months after a ramp-up year in the county
        # (a new or moved plant runs below capacity while it hires).
        if months_below_buffer[f] >= exit_patience and months_in_county[f] >= ramp_up_months:
            exit_reason[f] = R_PARENT if orphan else R_CASH
        elif uniform(seed, step, f, P_HAZARD) < exit_hazard:
            exit_reason[f] = R_HAZARD
        if exit_reason[f] != R_NONE:
            alive[f] = False
            layoff_prob[f] = 1.0
            desired[f] = 0
            n_exit += 1
            continue
        c = county[f]
        i = industry[f]
        mean_skill = skill_sum[f] / employees[f] if employees[f] > 0 else pool_skill[c]
        labor_prod[f] = efficiency[f] * labor_productivity(
            output_per_worker[i], skill_requirement[i], mean_skill, county_infra[c],
            industry_employment[c, i], agglomeration_elasticity[i], agglomeration_reference,
            chain_present[c, i], chain_bonus, resource_affinity[i], local_resource[c, i])
        # Satellite workshops get their orders from the parent (a share in proportion to
        # capacity; parents always have lower ids, so theirs are set); none once it has died.
        if orphan:
            orders[f] = 0.0
        elif p >= 0:
            # ...adjusted for shocks specific to the workshop's region (e.g. sanctions).
            parent_demand = demand[county_region[county[p]], i]
            orders[f] = (orders[p] * capacity[f] / capacity[p]
                         * demand[county_region[c], i] / parent_demand
                         if parent_demand > 0.0 else 0.0)
        else:
            noise = math.exp(order_noise * normal(seed, step, f, P_ORDERS)
                             - 0.5 * order_noise * order_noise)
            orders[f] = (capacity[f] * reference_productivity[i]
                         * demand[county_region[c], i] * noise)
        want = int(orders[f] / labor_prod[f] + 0.5)
        want = min(want, max_size, int(2.0 * capacity[f] + 1.0))
        desired[f] = want
        excess = employees[f] - want
        layoff_prob[f] = excess / employees[f] if excess > 0 else 0.0
    return n_exit


# --- workers: layoffs, outbound market, learning and the monthly choice ---------------------

@njit(cache=True)
def worker_step(n_workers, status, employer, skill, age, care, home_county, outbound_industry,
                experience_months, seeking, founder, county_kind, county_wage, county_min_wage,
                county_home_income, county_local_finding, county_offers, county_infra,
                profit_per_capacity, package_per_capacity, firm_alive, layoff_prob, wage_east,
                living_cost, migration_cost, care_cost,
                age_cost, outbound_finding, outbound_separation, search_prob, income_scale,
                inertia, learning_local, learning_outbound, experience_premium, n_industries,
                returnee_rate, returnee_min_experience, returnee_package_boost,
                returnee_infra_boost, seed, step):
    """One month of every worker: job loss, outbound search, learning and the HT/logit choice.

    Expected incomes (Harris-Todaro): local = wage x local job-finding probability; outbound =
    eastern wage x outbound job-finding probability - living cost - migration cost - care cost
    - age cost; home = home income. The choice is a logit with inertia for the current option.

    Returns:
        Number of returnee founders flagged in ``founder``.
    """
    values = np.empty(3)
    n_founders = 0
    for w in range(n_workers):
        founder[w] = False
        c = home_county[w]
        st = status[w]
        forced = False
        if st == LOCAL:
            f = employer[w]
            if (not firm_alive[f]) or uniform(seed, step, w, P_LAYOFF) < layoff_prob[f]:
                st = HOME
                employer[w] = -1
                forced = True
            else:
                skill[w] += learning_local * (1.0 - skill[w])
        elif st == OUTBOUND:
            if uniform(seed, step, w, P_SEPARATION) < outbound_separation:
                st = OUTBOUND_SEEKING
            else:
                experience_months[w] += 1
                skill[w] += learning_outbound * (1.0 - skill[w])
                if (county_kind[c] != ORIGIN
                        and experience_months[w] >= returnee_min_experience):
                    k = outbound_industry[w]
                    # Founding is likelier where it pays: expected profit incl. the package.
                    prospect = (profit_per_capacity[c, k]
                                + county_offers[c] * package_per_capacity[c, k])
                    p = (returnee_rate * (1.0 + returnee_package_boost * county_offers[c])
                         * (1.0 + returnee_infra_boost * county_infra[c])
                         / (1.0 + math.exp(-prospect / 500.0)))
                    if uniform(seed, step, w, P_RETURNEE) < p:
                        founder[w] = True
                        n_founders += 1
                        status[w] = HOME
                        seeking[w] = False
                        continue
        elif st == OUTBOUND_SEEKING:
            if uniform(seed, step, w, P_OUT_FIND) < outbound_finding:
                st = OUTBOUND
                # Most workers stay in their trade; some move to another industry.
                if experience_months[w] == 0 or uniform(seed, step, w, P_OUT_INDUSTRY) < 0.2:
                    k = int(uniform(seed, step, w, P_OUT_INDUSTRY + 100) * n_industries)
                    if k != outbound_industry[w]:
                        experience_months[w] = 0
                    outbound_industry[w] = k

        if forced or uniform(seed, step, w, P_SEARCH) < search_prob:
            wage_local = worker_wage(county_wage[c], county_min_wage[c], skill[w])
            if st == LOCAL:
                values[0] = wage_local
                current = 0
            else:
                values[0] = wage_local * county_local_finding[c]
                current = 0 if seeking[w] else 2
            n_options = 3
            if county_kind[c] == ORIGIN:
                values[1] = -1e18  # already in the east: no outbound option
            else:
                exp_years = min(experience_months[w], 120) / 120.0
                wage_out = (wage_east * (0.7 + 0.6 * skill[w])
                            * (1.0 + experience_premium * exp_years))
                away = st == OUTBOUND or st == OUTBOUND_SEEKING
                p_find = 1.0 if st == OUTBOUND else outbound_finding
                values[1] = (wage_out * p_find - living_cost
                             - (0.0 if away else migration_cost)
                             - care_cost * care[w] - age_cost * max(0, age[w] - 35))
                if away:
                    current = 1
            values[2] = county_home_income[c]
            for k in range(n_options):
                values[k] /= income_scale
            values[current] += inertia
            choice = logit_pick(values, n_options, 1.0, uniform(seed, step, w, P_CHOICE))
            if choice == 0:
                if st != LOCAL:
                    st = HOME
                    seeking[w] = True
            elif choice == 1:
                if st != OUTBOUND and st != OUTBOUND_SEEKING:
                    st = OUTBOUND_SEEKING
                    employer[w] = -1
                seeking[w] = False
            else:
                st = HOME
                employer[w] = -1
                seeking[w] = False
        status[w] = st
    return n_founders


# --- local labor markets -------------------------------------------------------------------

@njit(cache=True)
def count_employees(n_workers, status, employer, employees):
    """Recount each firm's employees from the workers pointing at it."""
    employees[:] = 0
    for w in range(n_workers):
        if status[w] == LOCAL:
            employees[employer[w]] += 1


@njit(cache=True)
def match_local(n_firms, n_counties, status, employer, seeking, county_worker_start,
                county_worker_stop, firm_alive, firm_county, desired, employees, seed, step,
                hires, seekers):
    """Fill vacancies inside each county from its local job seekers.

    A seeker is hired with probability min(1, vacancies / seekers) and joins a firm drawn in
    proportion to its open vacancies (counter-based draws: order-free up to capacity ties).
    """
    vacancies = np.zeros(n_firms, dtype=np.int64)
    per_county = np.zeros(n_counties + 1, dtype=np.int64)
    for f in range(n_firms):
        if firm_alive[f] and desired[f] > employees[f]:
            vacancies[f] = desired[f] - employees[f]
            per_county[firm_county[f] + 1] += 1
    for c in range(n_counties):
        per_county[c + 1] += per_county[c]
    firm_list = np.empty(per_county[n_counties], dtype=np.int64)
    fill = per_county[:-1].copy()
    for f in range(n_firms):
        if vacancies[f] > 0:
            firm_list[fill[firm_county[f]]] = f
            fill[firm_county[f]] += 1
    for c in range(n_counties):
        n_seek = 0
        for w in range(county_worker_start[c], county_worker_stop[c]):
            if seeking[w] and status[w] == HOME:
                n_seek += 1
        seekers[c] = n_seek
        hires[c] = 0
        lo, hi = per_county[c], per_county[c + 1]
        open_total = 0
        for k in range(lo, hi):
            open_total += vacancies[firm_list[k]]
        if n_seek == 0 or open_total == 0:
            continue
        p_hire = min(1.0, open_total / n_seek)
        for w in range(county_worker_start[c], county_worker_stop[c]):
            if open_total == 0:
                break
            if not (seeking[w] and status[w] == HOME):
                continue
            if uniform(seed, step, w, P_MATCH) >= p_hire:
                continue
            target = uniform(seed, step, w, P_MATCH_FIRM) * open_total
            acc = 0.0
            chosen = firm_list[hi - 1]
            for k in range(lo, hi):
                acc += vacancies[firm_list[k]]
                if target < acc:
                    chosen = firm_list[k]
                    break
            vacancies[chosen] -= 1
            open_total -= 1
            employees[chosen] += 1
            employer[w] = chosen
            status[w] = LOCAL
            seeking[w] = False
            hires[c] += 1


# --- firms: the month's accounts --------------------------------------------------------------

@njit(cache=True)
def worker_tallies(n_workers, status, employer, skill, home_county, poverty_alleviated,
                   county_wage, county_min_wage, firm_skill_sum, firm_wage_bill, employees,
                   county_counts, county_skill_sum, county_wage_local, county_poverty_local):
    """Per-firm payroll and per-county head counts in one pass over workers.

    ``county_counts[c, s]`` counts workers of status ``s`` living in county ``c``;
    ``county_skill_sum`` sums the skill of the local labour pool (at home or in local jobs).
    """
    firm_skill_sum[:] = 0.0
    firm_wage_bill[:] = 0.0
    employees[:] = 0
    county_counts[:, :] = 0
    county_skill_sum[:] = 0.0
    county_wage_local[:] = 0.0
    county_poverty_local[:] = 0
    for w in range(n_workers):
        c = home_county[w]
        st = status[w]
        county_counts[c, st] += 1
        if st == HOME or st == LOCAL:  # the local labour pool
            county_skill_sum[c] += skill[w]
        if st == LOCAL:
            f = employer[w]
            wage = worker_wage(county_wage[c], county_min_wage[c], skill[w])
            employees[f] += 1
            firm_skill_sum[f] += skill[w]
            firm_wage_bill[f] += wage
            county_wage_local[c] += wage
            if poverty_alleviated[w]:
                county_poverty_local[c] += 1


@njit(cache=True)
def firm_accounts(n_firms, alive, county, industry, capacity, employees, orders, labor_prod,
                  wage_bill, cash, relocation_debt, debt_repayment, months_below_buffer,
                  age_months, months_in_county,
                  subsidy_months_left, taper_months_left, package_share, revenue, subsidy,
                  profit, county_rent, county_distance, county_infra, county_budget,
                  county_fund_freight, county_credit_line, chain_present, materials_share,
                  input_share, output_share, capital_per_worker, freight_rate, infra_discount,
                  chain_discount, logistics_multiplier, rent_waiver, wage_subsidy,
                  freight_subsidy, credibility, taper_months, taper_share, cash_reserve_months,
                  investment_rate, max_capacity, fund_freight_share, seed, step):
    """Revenue, costs, subsidy (paid with probability ``credibility`` from the county budget),
    cash and the below-buffer counter; ages and package clocks advance.

    Returns:
        Number of packages that expired this month.
    """
    n_expired = 0
    for f in range(n_firms):
        if not alive[f]:
            revenue[f] = 0.0
            subsidy[f] = 0.0
            continue
        c = county[f]
        i = industry[f]
        rev = min(orders[f], employees[f] * labor_prod[f])
        logistics = logistics_cost(rev, input_share[i], output_share[i], freight_rate,
                                   county_distance[c], county_infra[c], infra_discount,
                                   chain_present[c, i], chain_discount, logistics_multiplier)
        rent = county_rent[c] * capacity[f]
        costs = (rev * materials_share[i] + wage_bill[f] + rent
                 + capital_per_worker[i] * capacity[f] + logistics)
        paid = 0.0
        share = 0.0
        if subsidy_months_left[f] > 0:
            share = package_share[f]
        elif taper_months_left[f] > 0:
            share = package_share[f] * taper_share
        if share > 0.0:
            due = share * (rent_waiver * rent + wage_subsidy * employees[f]
                           + freight_subsidy * logistics)
            if uniform(seed, step, f, P_CREDIBILITY) < credibility and county_budget[c] >= due:
                county_budget[c] -= due
                paid += due
        # Special-fund freight/power subsidy: a share of logistics, while the county's fund
        # money lasts (paid in firm-index order: deterministic, first come first served).
        if county_fund_freight[c] > 0.0:
            fund_due = min(fund_freight_share * logistics, county_fund_freight[c])
            county_fund_freight[c] -= fund_due
            paid += fund_due
        revenue[f] = rev
        subsidy[f] = paid
        profit[f] = rev - costs
        cash[f] += rev - costs + paid
        # Firms invest out of margins and shrink on losses (capacity follows profitability).
        if rev > 0.0:
            margin = (rev - costs + paid) / rev
            capacity[f] = min(max_capacity, max(1.0, capacity[f] * (1.0 + investment_rate
                                                                    * margin)))
        # Owners take this month's profit out when cash exceeds a reserve: firms cannot hoard
        # package money forever, but launch capital stays in the firm.
        reserve = cash_reserve_months * (costs - rev * materials_share[i])
        flow = rev - costs + paid
        if cash[f] > reserve and flow > 0.0:
            cash[f] -= min(cash[f] - reserve, flow)
        # A firm in debt beyond its credit line survives while it earns its way out; it counts
        # towards exit only in months when it is below the buffer and losing money, or when it
        # has no business at all (a workshop whose parent died keeps no zombie shell).
        buffer = -county_credit_line[c] * capacity[f] - relocation_debt[f]
        if (cash[f] < buffer and rev - costs + paid < 0.0) or rev <= 0.0:
            months_below_buffer[f] += 1
        else:
            months_below_buffer[f] = 0
        relocation_debt[f] = max(0.0, relocation_debt[f] - debt_repayment[f])
        age_months[f] += 1
        months_in_county[f] += 1
        if subsidy_months_left[f] > 0:
            subsidy_months_left[f] -= 1
            if subsidy_months_left[f] == 0:
                n_expired += 1
                taper_months_left[f] = taper_months
        elif taper_months_left[f] > 0:
            taper_months_left[f] -= 1
    return n_expired


# --- location choice: reviews of incumbents and entrants' choices --------------------------

@njit(cache=True)
def choose_locations(n, ids, industry, capacity, efficiency, own_workers, monthly_revenue,
                     current, months_left,
                     origin, package_share, outside_option, profit_per_capacity,
                     package_per_capacity, workers_per_capacity, labor_cost_per_capacity,
                     fixed_per_capacity, labor_available, county_offers, offering,
                     partner_start, partner_list,
                     relocation_months, package_months, horizon, temperature, credibility,
                     n_candidates, seed, step, purpose, chosen):
    """Multinomial-logit location choice (McFadden; Carlton 1983) for ``n`` deciders.

    Each decider compares its current county (if any; no move cost, its remaining package),
    its origin county, a county paired with its origin (east-west partner) and
    ``n_candidates`` counties drawn from those offering packages (its own workers count as
    available labour where it is). The value of a county is
    ``horizon`` months of expected profit plus the expected package value over its window,
    minus a one-off relocation cost, in months of revenue. Entrants also have an outside
    option (value 0: do not enter). ``chosen[k]`` is the county, or -1 for the outside option.
    """
    max_options = n_candidates + 4
    values = np.empty(max_options)
    options = np.empty(max_options, dtype=np.int64)
    for k in range(n):
        uid = ids[k]
        i = industry[k]
        cap = capacity[k]
        scale = max(monthly_revenue[k], 1.0)
        m = 0
        cur = current[k]
        if outside_option:
            options[m] = -1
            values[m] = 0.0
            m += 1
        if cur >= 0:
            options[m] = cur
            m += 1
        o = origin[k]
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
        if offering.shape[0] > 0:
            for r in range(n_candidates):
                cand = offering[int(uniform(seed, step, uid * 128 + r, purpose + 200)
                                    * offering.shape[0])]
                dup = False
                for q in range(m):
                    if options[q] == cand:
                        dup = True
                        break
                if not dup:
                    options[m] = cand
                    m += 1
        for q in range(m):
            c = options[q]
            if c < 0:
                continue
            # A plant that cannot find enough workers here runs part-empty: the unfilled share
            # earns nothing and still pays its fixed costs (rent and capital).
            # The firm knows its own efficiency: an efficient firm needs fewer workers.
            needed = cap * workers_per_capacity[c, i] / efficiency[k]
            available = labor_available[c] + (own_workers[k] if c == cur else 0.0)
            fill = 1.0 if needed <= available else available / needed
            own_profit = (profit_per_capacity[c, i]
                          + labor_cost_per_capacity[c, i] * (1.0 - 1.0 / efficiency[k]))
            value = horizon * cap * (fill * (own_profit + fixed_per_capacity[c, i])
                                     - fixed_per_capacity[c, i])
            if c == cur:
                window = min(months_left[k], horizon)
                value += (window * credibility * package_share[k] * package_per_capacity[c, i]
                          * cap * fill)
            else:
                if county_offers[c]:
                    window = min(package_months, horizon)
                    value += window * credibility * package_per_capacity[c, i] * cap * fill
                if cur >= 0:
                    value -= relocation_months[i] * scale
            values[q] = value / (scale * temperature)
        pick = logit_pick(values, m, 1.0, uniform(seed, step, uid, purpose))
        chosen[k] = options[pick]


# --- yearly worker processes ---------------------------------------------------------------

@njit(cache=True)
def train_workers(n_workers, status, seeking, skill, home_county, county_training_prob, gain,
                  seed, step, trained):
    """Order-based vocational courses (订单式培训) for local employees and local job seekers:
    each is trained with the county's probability; a course closes ``gain`` of the gap to
    full skill. ``trained[c]`` counts the worker agents trained in county ``c``.
    """
    for w in range(n_workers):
        c = home_county[w]
        p = county_training_prob[c]
        if p <= 0.0 or not (status[w] == LOCAL or seeking[w]):
            continue
        if uniform(seed, step, w, P_TRAINING) < p:
            skill[w] += gain * (1.0 - skill[w])
            trained[c] += 1


@njit(cache=True)
def age_workers(n_workers, age, status, employer, skill, care, female, seeking,
                experience_months, home_county, county_kind, skill_mean_by_kind,
                retirement_age, female_share, care_share_female, care_share_male, seed, step):
    """Workers age a year; retirees are replaced by 16-year-old entrants in the same county.

    Returns:
        Number of replacements.
    """
    replaced = 0
    for w in range(n_workers):
        age[w] += 1
        if age[w] < retirement_age:
            continue
        replaced += 1
        age[w] = 16
        status[w] = HOME
        employer[w] = -1
        seeking[w] = False
        experience_months[w] = 0
        female[w] = uniform(seed, step, w, P_DEMOGRAPHY) < female_share
        p_care = care_share_female if female[w] else care_share_male
        care[w] = uniform(seed, step, w, P_DEMOGRAPHY + 100) < 0.6 * p_care
        mean = skill_mean_by_kind[county_kind[home_county[w]]]
        # Young entrants: a little above their county's mean skill (more schooling).
        skill[w] = min(0.98, max(0.02, mean * (0.8 + 0.6 * uniform(seed, step, w, P_NEWBORN))))
    return replaced
