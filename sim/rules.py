"""The model's small pure rules, written once and called by both engines.

Counter-based draws, wages, labor productivity, logistics cost, the logit pick and a few
more: each is a short ``@njit`` function that the numba kernels (``sim.kernels``) call inside
their loops and the per-agent reference engine (``sim.agents``) calls one agent at a time.

Every random draw is counter-based: ``uniform(seed, step, index, purpose)`` hashes its four
integers (SplitMix64 finaliser), so a draw depends only on who draws it, when and why -- never
on iteration order, thread count or how many draws happened before. This gives common random
numbers across policy arms. Purposes are ``sim.codes.Draw``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from sim.codes import CATERING, CENTRAL, DOMESTIC_SERVICE, ORIGIN


@njit(cache=True, inline="always")
def _mix64(z):
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


# The largest x whose exp(x) is a finite double. Beyond it the compiled exp gives inf while
# Python's math.exp raises OverflowError; exp_or_inf gives inf in both, so a rule gives the
# same answer compiled (numba engine) and in plain Python (reference engine, py_func).
EXP_MAX = 709.782712893384


@njit(cache=True)
def exp_or_inf(x):
    """exp(x), or inf where it overflows (as the compiled exp does)."""
    return math.exp(x) if x <= EXP_MAX else math.inf


@njit(cache=True, inline="always")
def draw_key(seed, step, purpose):
    """The part of a draw's hash that every agent's draw of one (seed, step, purpose) shares:
    a loop over agents computes it once (:func:`keyed_uniform`) instead of per agent."""
    z = _mix64(np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(purpose))
    return _mix64(z ^ (np.uint64(step) * np.uint64(0xD1B54A32D192ED03)))


@njit(cache=True, inline="always")
def keyed_uniform(key, index):
    """The draw of agent ``index`` under ``key = draw_key(seed, step, purpose)``: equal to
    ``uniform(seed, step, index, purpose)``, bit for bit."""
    z = _mix64(key ^ (np.uint64(index) * np.uint64(0x9E3779B97F4A7C15)
                      + np.uint64(0x632BE59BD9B4E019)))
    return float(z >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True)
def uniform(seed, step, index, purpose):
    """A uniform draw in [0, 1) determined by (seed, step, index, purpose) alone."""
    return keyed_uniform(draw_key(seed, step, purpose), index)


@njit(cache=True)
def uniforms(seed, step, indices, purpose):
    """:func:`uniform` for each of ``indices`` (numpy glue draws arrays in one call)."""
    out = np.empty(indices.size)
    for k in range(indices.size):
        out[k] = uniform(seed, step, indices[k], purpose)
    return out


@njit(cache=True)
def normals(seed, step, indices, purpose):
    """:func:`normal` for each of ``indices``."""
    out = np.empty(indices.size)
    for k in range(indices.size):
        out[k] = normal(seed, step, indices[k], purpose)
    return out


@njit(cache=True)
def normal(seed, step, index, purpose):
    """A standard normal draw (Box-Muller on two counter-based uniforms)."""
    u1 = uniform(seed, step, index, purpose)
    u2 = uniform(seed, step, index, purpose + 1000)
    return math.sqrt(-2.0 * math.log(1.0 - u1)) * math.cos(2.0 * math.pi * u2)


@njit(cache=True)
def skill_premium(params, skill):
    """Wage multiplier of a worker of ``skill`` (the same in local and outbound jobs)."""
    return params.skill_premium_base + params.skill_premium_slope * skill


@njit(cache=True)
def worker_wage(params, county_wage, min_wage, skill):
    """Local wage for a worker of ``skill``: county wage times skill premium, floored."""
    return max(min_wage, county_wage * skill_premium(params, skill))


@njit(cache=True)
def outbound_wage(params, wage_east, skill, experience_months):
    """Eastern wage of a migrant worker: skill premium and up to ten years of experience."""
    experience_years = np.minimum(experience_months, 120) / 120.0  # arrays too
    return (wage_east * skill_premium(params, skill)
            * (1.0 + params.experience_premium * experience_years))


@njit(cache=True)
def infrastructure_factor(params, infrastructure):
    """Labor productivity factor of county infrastructure q (floor at q = 0, 1 at q = 1)."""
    floor = params.infra_productivity_floor
    return floor + (1.0 - floor) * infrastructure


@njit(cache=True)
def labor_productivity(params, output_per_worker, skill_requirement, mean_skill, infrastructure,
                       industry_employment, agglomeration_elasticity, chain_present,
                       resource_affinity, local_resource):
    """Output value per worker-month: skill, infrastructure, agglomeration, chain, resource."""
    skill_factor = (1.0 - skill_requirement
                    + skill_requirement * mean_skill / params.skill_reference)
    agglomeration = ((1.0 + industry_employment / params.agglomeration_reference_agents)
                     ** agglomeration_elasticity)
    chain = 1.0 + params.chain_productivity_bonus * chain_present
    resource = 1.0 + resource_affinity * local_resource
    return (output_per_worker * skill_factor * infrastructure_factor(params, infrastructure)
            * agglomeration * chain * resource)


@njit(cache=True)
def logistics_cost(params, revenue, input_share, output_share, distance_km, infrastructure,
                   chain_present, hub_access, multiplier):
    """Freight cost: distance x (input + output share east), lowered by infrastructure, a
    local chain and a nearby service hub's logistics and business services."""
    return (revenue * (input_share + output_share) * params.freight_rate * distance_km / 1000.0
            * (1.0 - params.infra_logistics_discount * infrastructure)
            * (1.0 - params.chain_logistics_discount * chain_present)
            * (1.0 - params.hub_logistics_discount * hub_access) * multiplier)


@njit(cache=True)
def matching_finding_rate(efficiency, elasticity, seekers, vacancies):
    """Monthly job-finding rate of ``seekers`` facing ``vacancies``: hires = efficiency x
    seekers^a x vacancies^(1 - a) (a = ``elasticity``), never more than either side."""
    if vacancies <= 0.0:
        return 0.0
    if seekers <= 0.0:
        return min(1.0, efficiency)
    hires = min(seekers, vacancies,
                efficiency * seekers ** elasticity * vacancies ** (1.0 - elasticity))
    return hires / seekers


@njit(cache=True)
def employment_chance(employed, seekers, finding):
    """Chance that a member of a market's labour force holds a job this month: those
    employed plus the seekers hired at the monthly job-finding rate, over the labour force
    (Harris-Todaro: the employment rate of the destination). With nobody in the market, the
    finding rate itself."""
    labour_force = employed + seekers
    if labour_force <= 0.0:
        return finding
    return (employed + finding * seekers) / labour_force


@njit(cache=True)
def logit_pick(values, n, temperature, u):
    """Index drawn from a multinomial logit over ``values[:n]`` with a uniform ``u``
    (``values`` is overwritten with the unnormalised weights)."""
    vmax = values[0]
    for k in range(1, n):
        vmax = max(vmax, values[k])
    total = 0.0
    for k in range(n):
        # Each weight once; the largest is exp(0) = 1 exactly, without the call.
        values[k] = 1.0 if values[k] == vmax else math.exp((values[k] - vmax) / temperature)
        total += values[k]
    target = u * total
    acc = 0.0
    for k in range(n):
        acc += values[k]
        if target < acc:
            return k
    return n - 1


@njit(cache=True)
def outbound_job_industry(params, development_type, outbound_trade, home_employment, female,
                          u_store, u_pick):
    """The trade of an outbound job just found (MODEL.md §12.1): with ``hometown_store_share``
    a store of the catering chain whose central kitchen employs at home (the county's
    largest), else a trade migrants work in, domestic service weighted up for women."""
    n_ind = development_type.size
    kitchen = -1
    for k in range(n_ind):
        if (development_type[k] == CATERING and home_employment[k] > 0
                and (kitchen < 0 or home_employment[k] > home_employment[kitchen])):
            kitchen = k
    if kitchen >= 0 and u_store < params.hometown_store_share:
        return kitchen
    service_weight = params.domestic_service_female_weight * (1.0 if female else 0.2)
    total = 0.0
    for k in range(n_ind):
        total += outbound_trade[k] * (service_weight if development_type[k] == DOMESTIC_SERVICE
                                      else 1.0)
    target = u_pick * total
    acc = 0.0
    last = 0
    for k in range(n_ind):
        weight = outbound_trade[k] * (service_weight if development_type[k] == DOMESTIC_SERVICE
                                      else 1.0)
        if weight > 0.0:
            last = k
            acc += weight
            if target < acc:
                return k
    return last


@njit(cache=True)
def within_reach(params, care, care_friendly_job, u):
    """Whether a worker can take a local job: a care-bound worker reaches a job in the county
    seat with chance ``care_town_access``; township workshops and care-friendly trades are
    close to home (MODEL.md §12.4)."""
    return (not care) or care_friendly_job or u < params.care_town_access


@njit(cache=True)
def founding_probability(params, prospect, offers, infrastructure):
    """Monthly chance an experienced outbound worker agent founds a firm at home: likelier
    where it pays (``prospect``: expected profit incl. the package), where packages are on
    offer and where infrastructure is good."""
    return (params.returnee_rate_per_agent * (1.0 + params.returnee_package_boost * offers)
            * (1.0 + params.returnee_infra_boost * infrastructure)
            / (1.0 + exp_or_inf(-prospect / params.returnee_prospect_scale)))


@njit(cache=True)
def entrant_skill(params, kind, u):
    """Skill of a young entrant of a county ``kind``: a little above its kind's mean."""
    if kind == ORIGIN:
        mean = params.skill_mean_origin
    elif kind == CENTRAL:
        mean = params.skill_mean_central
    else:
        mean = params.skill_mean_poverty
    scale = params.entrant_skill_low + params.entrant_skill_spread * u
    return min(params.skill_ceiling, max(params.skill_floor, mean * scale))


@njit(cache=True)
def relocation_cost(params, relocation_cost_months, capacity, reference_productivity):
    """One-off cost of moving a plant: months of the revenue of its capacity."""
    return (relocation_cost_months * params.relocation_cost_factor * capacity
            * reference_productivity)
