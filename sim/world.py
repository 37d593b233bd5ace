"""World generation: counties, initial firms and workers (MODEL.md §2-4, §6).

Everything is drawn from one ``numpy.random.Generator`` seeded by ``(run.seed, "world")``, so
the same seed gives the same world in every policy arm (common random numbers).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.codes import (
    CATERING,
    CENTRAL,
    ENTRY_INITIAL,
    MANUFACTURING,
    ORIGIN,
    OUTBOUND,
    POVERTY,
    WEST,
    DevelopmentType,
    Kind,
    Region,
    months,
)
from sim.config import Config, WorldConfig
from sim.development import market_access
from sim.industries import Industries, industry_arrays
from sim.state import COUNTY_FIELDS, FIRM_FIELDS, WORKER_FIELDS, Table

# Real rural migrant labor force, 2024 (NBS Migrant Worker Monitoring Survey): the replica's
# population relative to it gives ``population_scale`` for national money levers.
REAL_RURAL_LABOR = 299.73e6
# The zones (MODEL.md §12.2) have their own stream, so adding them left the rest of the
# world as it was drawn before.
WORLD_STREAM, DYNAMICS_STREAM, ZONE_STREAM = 1, 2, 3
# Packages of the poverty campaign (before the simulated period) lasted 3 years (the paper).
CAMPAIGN_PACKAGE_YEARS = 3
# Workers are drawn in chunks of this many (bounded temporaries; the world does not depend on it).
GENERATION_CHUNK = 1 << 22


@dataclass
class World:
    """The initial world: county, firm and worker tables plus static per-industry data. A
    simulation that generated its own world keeps only the static part (``firms`` and
    ``workers`` are None: the run's tables are the state)."""

    counties: Table
    firms: Table | None
    workers: Table | None
    n_firms: int
    industry: Industries
    industry_names: list[str]
    local_resource: np.ndarray  # (county, industry) 1.0 where the raw material is local
    market_access: np.ndarray   # (county, industry) multiplier on orders (sim.development)
    persons_per_agent: float
    population_scale: float

    @property
    def n_counties(self) -> int:
        return self.counties.n


def world_rng(seed: int, stream: int = WORLD_STREAM) -> np.random.Generator:
    """The generator for world generation (independent of the dynamics stream)."""
    return np.random.default_rng(np.random.SeedSequence([seed, stream]))


def _lognormal(rng, n, sigma):
    return np.exp(rng.normal(-0.5 * sigma**2, sigma, n))


def _zones(w: WorldConfig, t: Table, rng: np.random.Generator) -> None:
    """The paper's five kinds of zones (border and ethnic areas are drawn with the counties)
    and the place attributes they act through: distance to the nearest large city and
    ecological assets (MODEL.md §12.2)."""
    n = t.n
    kind = t.kind
    inland = kind != ORIGIN
    t.service_hub[:] = (kind == CENTRAL) & (rng.random(n) < w.hub_share)
    t.transfer_receiving[:] = inland & ~t.service_hub & (rng.random(n) < w.transfer_receiving_share)
    t.revolutionary_base[:] = (kind == POVERTY) & (rng.random(n) < w.revolutionary_base_share)
    # Eastern counties sit among cities; hubs are cities.
    mean_distance = np.where(inland, w.distance_city_km, 0.3 * w.distance_city_km)
    t.distance_city_km[:] = np.where(t.service_hub, 20.0,
                                     mean_distance * rng.exponential(1.0, n))
    concentration = 6.0
    mean = w.ecological_assets_mean
    t.ecological_assets[:] = rng.beta(mean * concentration, (1 - mean) * concentration, n)


def _counties(w: WorldConfig, rng: np.random.Generator, seed: int) -> Table:
    n_o, n_c, n_p = w.n_origin, w.n_central, w.n_poverty
    n = n_o + n_c + n_p
    t = Table(COUNTY_FIELDS, n)
    kind = np.repeat(np.array([k.value for k in Kind], dtype=np.int8), [n_o, n_c, n_p])
    t.kind[:] = kind
    region = np.zeros(n, dtype=np.int8)
    central = int(Region.CENTRAL)
    region[n_o:n_o + n_c] = np.where(rng.random(n_c) < w.central_west_share, WEST, central)
    region[n_o + n_c:] = np.where(rng.random(n_p) < w.poverty_west_share, WEST, central)
    t.region[:] = region
    pov = np.arange(n_o + n_c, n)
    # Key-assistance counties lean west (Xinjiang, Tibet-adjacent, Yunnan, Guizhou, ...).
    wts = np.where(region[pov] == WEST, 3.0, 1.0)
    key = rng.choice(pov, size=w.n_key_assistance, replace=False, p=wts / wts.sum())
    t.key_assistance[key] = True
    wts = np.where(t.key_assistance[pov], 2.0, 1.0)
    resettle = rng.choice(pov, size=w.n_resettlement, replace=False, p=wts / wts.sum())
    t.resettlement_site[resettle] = True
    border_p = min(1.0, w.border_share / max(w.poverty_west_share, 1e-9))
    t.border[pov] = (region[pov] == WEST) & (rng.random(n_p) < border_p)
    t.ethnic[pov] = rng.random(n_p) < w.ethnic_share

    region_wage = np.array([w.wage_east, w.wage_central, w.wage_west])[region]
    region_min = np.array([w.min_wage_east, w.min_wage_central, w.min_wage_west])[region]
    poverty_factor = np.where(kind == POVERTY, w.poverty_wage_factor, 1.0)
    wage = region_wage * poverty_factor * _lognormal(rng, n, 0.05)
    t.wage_2024[:] = np.maximum(wage, region_min)
    t.min_wage_2024[:] = region_min
    t.rent_2024[:] = (np.array([w.rent_origin, w.rent_central, w.rent_poverty])[kind]
                      * _lognormal(rng, n, 0.2))
    dist = np.array([w.distance_east_km, w.distance_central_km, w.distance_west_km])[region]
    t.distance_km[:] = dist * rng.uniform(0.6, 1.4, n)
    infra = np.array([w.infra_origin, w.infra_central, w.infra_poverty])[kind]
    t.initial_infrastructure[:] = np.clip(infra + rng.normal(0, 0.05, n), 0.05, 1.0)
    home = np.array([w.home_income_origin, w.home_income_central, w.home_income_poverty])[kind]
    home = home * np.where(t.resettlement_site, w.resettlement_home_income_factor, 1.0)
    t.home_income_2024[:] = home * _lognormal(rng, n, 0.1)
    _zones(w, t, world_rng(seed, ZONE_STREAM))
    # East-west pairing: every poverty county has an eastern partner.
    t.partner[pov] = rng.integers(0, n_o, n_p)
    if w.case_counties:
        case = pov[: w.case_counties]
        t.case_county[case] = True
        t.partner[case] = 0  # the case's eastern partner (Changzhou, Guangdong)
        if w.case_infrastructure > 0:
            t.initial_infrastructure[case] = w.case_infrastructure
    return t


def _allocate_workers(w: WorldConfig, counties: Table, rng) -> np.ndarray:
    """Worker agents per county, proportional to a noisy population weight (>= 10 each)."""
    n = counties.n
    weight = np.array([w.population_weight_origin, w.population_weight_central, 1.0])[
        counties.kind] * np.where(counties.resettlement_site, w.resettlement_population_boost, 1.0)
    weight = weight * _lognormal(rng, n, 0.3)
    weight = weight * np.where(counties.case_county, w.case_population_weight, 1.0)
    weight = weight * np.where(counties.transfer_receiving,
                               w.transfer_receiving_population_boost, 1.0)
    extra = w.worker_agents - 10 * n
    counts = 10 + rng.multinomial(extra, weight / weight.sum())
    return counts.astype(np.int64)


def _chunks(n: int):
    """Slices of ``GENERATION_CHUNK`` workers covering ``range(n)``, in order."""
    for lo in range(0, n, GENERATION_CHUNK):
        yield slice(lo, min(n, lo + GENERATION_CHUNK))


def _workers(cfg: Config, counties: Table, counts: np.ndarray, ind: Industries,
             rng) -> Table:
    """The worker table, attribute by attribute, each drawn for all workers in worker order.

    Each attribute is drawn chunk by chunk (``GENERATION_CHUNK`` workers), so the temporaries
    stay small next to the table at any size; a generator's draws of one distribution in
    pieces are its draws in one call, so the world does not depend on the chunk size
    (``tests/test_world.py``).
    """
    w = cfg.world
    n = int(counts.sum())
    t = Table(WORKER_FIELDS, n)
    stops = np.cumsum(counts)
    counties.worker_stop[:] = stops
    counties.worker_start[:] = stops - counts
    for c in range(counties.n):
        t.home_county[counties.worker_start[c]:stops[c]] = c
    # Working ages as the demography keeps them (entrants join at entry_age, leave at
    # retirement_age): the stationary distribution of sim.kernels.age_workers.
    for s in _chunks(n):
        t.age[s] = rng.integers(cfg.model.entry_age, cfg.model.retirement_age, s.stop - s.start)
    for s in _chunks(n):
        t.female[s] = rng.random(s.stop - s.start) < w.female_share
    for s in _chunks(n):
        care_p = np.where(t.female[s], w.care_share_female, w.care_share_male)
        care_p = np.minimum(1.0, care_p * np.where(t.age[s] >= 35, 1.4, 0.6))
        t.care[s] = rng.random(s.stop - s.start) < care_p
    for s in _chunks(n):
        t.poverty_alleviated[s] = ((counties.kind[t.home_county[s]] == POVERTY)
                                   & (rng.random(s.stop - s.start) < w.poverty_alleviated_share))
    skill_mean = np.array([w.skill_mean_origin, w.skill_mean_central, w.skill_mean_poverty])
    concentration = 8.0
    for s in _chunks(n):
        mean = skill_mean[counties.kind[t.home_county[s]]]
        mean = np.clip(mean * np.where(t.poverty_alleviated[s], 0.85, 1.0), 0.02, 0.98)
        t.skill[s] = rng.beta(mean * concentration, (1 - mean) * concentration)
    # Initial outbound migration from inland counties: young workers without care duties leave.
    for s in _chunks(n):
        p_out = (np.where((t.age[s] < 45) & ~t.care[s], 0.75, 0.3)
                 * (counties.kind[t.home_county[s]] != ORIGIN))
        t.status[s][rng.random(s.stop - s.start) < p_out] = OUTBOUND
    trades = np.flatnonzero(ind.outbound_trade)  # migrants work in these in the east
    for s in _chunks(n):
        t.outbound_industry[s] = trades[rng.integers(0, trades.size, s.stop - s.start)]
    for s in _chunks(n):
        out = t.status[s] == OUTBOUND
        t.experience_months[s][out] = rng.integers(0, 120, int(out.sum()))
    if w.case_counties and w.case_industry != "none":
        # Natives of the case counties working in the case industry in the east.
        case_industry = list(w.industries).index(w.case_industry)
        skilled_chunks = []
        for s in _chunks(n):
            skilled_chunks.append((t.status[s] == OUTBOUND)
                                  & counties.case_county[t.home_county[s]]
                                  & (rng.random(s.stop - s.start) < w.case_experience_share))
        for s, skilled in zip(_chunks(n), skilled_chunks, strict=True):
            t.outbound_industry[s][skilled] = case_industry
            t.experience_months[s][skilled] = rng.integers(36, 121, int(skilled.sum()))
    population = counts * w.persons_per_agent
    counties.population[:] = population
    counties.fiscal_capacity[:] = population * w.fiscal_capacity_per_person
    return t


def _firms(w: WorldConfig, counties: Table, counts: np.ndarray, ind: Industries,
           local_resource, access, policy_months: int, rng) -> tuple[Table, int]:
    density = np.array([w.firms_per_1000_persons_origin, w.firms_per_1000_persons_central,
                        w.firms_per_1000_persons_poverty])[counties.kind] * w.persons_per_agent
    per_county = rng.poisson(density * counts / 1000.0)
    n = int(per_county.sum())
    t = Table(FIRM_FIELDS, max(64, 2 * n))
    county = np.repeat(np.arange(counties.n, dtype=np.int32), per_county)
    n_ind = len(ind.typical_size)
    # Industry: uniform, but resource-affine industries favour counties with the raw material
    # and orders follow the place (market access); eastern firms are manufacturers (the
    # other development types are local industries), and labour export has no firm.
    manufacturing = ind.development_type == MANUFACTURING
    in_origin = (counties.kind[county] == ORIGIN)[:, None]
    weights = ((1.0 + 4.0 * local_resource[county]) * access[county] * ind.firm_based
               * np.where(in_origin, manufacturing, 1.0))
    cum = np.cumsum(weights, axis=1)
    u = rng.random(n) * cum[:, -1]
    industry = (u[:, None] > cum).sum(axis=1).astype(np.int8)
    if w.case_industry != "none" and w.case_origin_industry_share > 0:
        at_partner = (county == 0) & (rng.random(n) < w.case_origin_industry_share)
        industry[at_partner] = list(w.industries).index(w.case_industry)
    t.alive[:n] = True
    t.county[:n] = county
    t.industry[:n] = industry
    kind = counties.kind[county]
    origin = np.where(kind == ORIGIN, county, counties.partner[county])
    missing = origin < 0
    origin[missing] = rng.integers(0, w.n_origin, int(missing.sum()))
    t.origin_county[:n] = origin
    t.productivity[:n] = (1.0 - rng.random(n)) ** (-1.0 / w.productivity_pareto_alpha)
    t.efficiency[:n] = _lognormal(rng, n, w.efficiency_sd)
    t.capacity[:n] = plant_capacity(w, t.productivity[:n], ind.typical_size[industry])
    t.entry_kind[:n] = ENTRY_INITIAL
    age = rng.integers(0, 120, n)
    # Inland firms arrived during the poverty campaign on (historical, 3-year) packages of which
    # some months remain; this is part of the world, identical in every policy arm. They
    # arrived when their package started, so the expiry month is reviewed like any other.
    inland = kind != ORIGIN
    left = np.floor(rng.random(n) * (policy_months + 1)).astype(np.int32)
    in_county = np.where(inland, policy_months - left, age)
    age = np.maximum(age, in_county)
    t.age_months[:n] = age
    t.entry_step[:n] = -age
    t.months_in_county[:n] = in_county
    t.subsidy_months_left[:n] = np.where(inland, left, 0)
    t.package_months[:n] = np.where(inland, policy_months, 0)
    t.ever_subsidised[:n] = inland & (policy_months > 0)
    assert n_ind > 0
    return t, n


def plant_capacity(w: WorldConfig, productivity, typical_size) -> np.ndarray:
    """A plant's capacity in worker agents: productivity x its industry's typical size in
    persons, capped, in agents of ``persons_per_agent``."""
    return np.minimum(productivity * typical_size, w.max_firm_size) / w.persons_per_agent


def generate(cfg: Config) -> World:
    """Build the initial world for ``cfg`` (deterministic in ``cfg.run.seed``)."""
    w = cfg.world
    rng = world_rng(cfg.run.seed)
    counties = _counties(w, rng, cfg.run.seed)
    counties.hub_access[:] = np.exp(-counties.distance_city_km / cfg.model.hub_reach_km)
    counts = _allocate_workers(w, counties, rng)
    ind = industry_arrays(list(w.industries))
    n_ind = len(w.industries)
    resource_industries = ind.resource_affinity > 0
    local_resource = np.zeros((counties.n, n_ind))
    pov = counties.kind == POVERTY
    # Green agriculture and specialty foods: a raw material is likelier in revolutionary
    # base and ethnic areas for the food types (same uniform draws, a higher threshold).
    food_type = np.isin(ind.development_type, [int(DevelopmentType.AGRO_PROCESSING), CATERING])
    zone = counties.revolutionary_base | counties.ethnic
    for i in np.flatnonzero(resource_industries):
        share = w.local_resource_share * np.where(food_type[i] & zone,
                                                  1.0 + w.zone_resource_boost, 1.0)
        local_resource[:, i] = pov & (rng.random(counties.n) < share)
    workers = _workers(cfg, counties, counts, ind, rng)
    campaign_months = months(CAMPAIGN_PACKAGE_YEARS)
    access = market_access(cfg, counties, ind)
    firms, n_firms = _firms(w, counties, counts, ind, local_resource, access, campaign_months,
                            rng)
    persons = w.worker_agents * w.persons_per_agent
    return World(counties=counties, firms=firms, workers=workers, n_firms=n_firms,
                 industry=ind, industry_names=list(w.industries), local_resource=local_resource,
                 market_access=access,
                 persons_per_agent=w.persons_per_agent,
                 population_scale=persons / REAL_RURAL_LABOR)
