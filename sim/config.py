"""Configuration schema: Hydra structured configs with units, sources and ranges.

Every field is declared with :func:`param`, which records its unit, allowed range (or
choices) and, where it comes from data, its source (MODEL.md §9). ``validate`` walks the
resolved config once, before any work, and raises :class:`ConfigError` with one line naming
the field and the allowed range.

Dependency direction: this module imports only ``sim.codes`` from the rest of ``sim``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from difflib import get_close_matches
from pathlib import Path
from typing import Any

from sim.codes import KINDS, REGIONS  # noqa: F401  (re-exported: names used in configs)

INDUSTRIES = (
    "textile_apparel",
    "electronics_assembly",
    "plush_toys",
    "hair_products",
    "bags_shoes_hats_socks",
    "food_processing",
)
# The other five development types of MODEL.md §12.1 (present in every preset world).
DEVELOPMENT_INDUSTRIES = ("agro_ecommerce", "wellness_tourism", "ethnic_handicrafts",
                          "catering_kitchen", "domestic_service")
# Industries that only a case world adds (Zheng'an guitars).
EXTRA_INDUSTRIES = ("musical_instruments",)
ALL_INDUSTRIES = INDUSTRIES + DEVELOPMENT_INDUSTRIES + EXTRA_INDUSTRIES
EXPORT_INDUSTRIES = ("textile_apparel", "electronics_assembly", "plush_toys", "hair_products",
                     "bags_shoes_hats_socks", "musical_instruments")
ENGINES = ("numba", "reference")
KPI_REGIMES = ("count", "reform")
FUND_ALLOCATIONS = ("core", "even", "need")
SELECTIONS = ("none", "rule", "simulated")
PACKAGE_COUNTIES = ("all", "core")


class ConfigError(ValueError):
    """An invalid configuration value; the message is one line naming field and range."""


def param(default: Any, unit: str = "", lo: float | None = None, hi: float | None = None,
          choices: tuple | None = None, source: str = "", doc: str = "", factory=None):
    """Declare a config field with unit, range and source metadata."""
    meta = {"unit": unit, "lo": lo, "hi": hi, "choices": choices, "source": source, "doc": doc}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


NBS_2024 = "NBS Migrant Worker Monitoring Survey 2024"
STYLISED = "stylised"


@dataclass
class WorldConfig:
    """The world: counties, industries, initial firms and workers (MODEL.md §2-3, §6)."""

    name: str = param("default", doc="world preset name")
    n_origin: int = param(200, "counties", 1, 100_000, doc="eastern origin counties")
    n_central: int = param(300, "counties", 0, 100_000, doc="non-poor inland counties")
    n_poverty: int = param(832, "counties", 1, 100_000,
                           source="832 poverty-alleviated counties (the paper)")
    n_key_assistance: int = param(160, "counties", 0, 100_000,
                                  source="160 national key assistance counties (the paper)")
    n_resettlement: int = param(70, "counties", 0, 100_000,
                                doc="poverty counties hosting large resettlement sites")
    poverty_west_share: float = param(0.65, "share", 0, 1,
                                      doc="share of poverty counties in the west")
    central_west_share: float = param(0.3, "share", 0, 1,
                                      doc="share of non-poor inland counties in the west")
    border_share: float = param(0.1, "share", 0, 1, doc="poverty counties on a border")
    ethnic_share: float = param(0.3, "share", 0, 1, doc="poverty counties in ethnic areas")
    # The other zones of MODEL.md §12.2 (stylised shares of the national shape).
    hub_share: float = param(0.05, "share", 0, 1, source=STYLISED,
                             doc="central (non-poor inland) counties that are central-city "
                                 "service hubs (成渝, 西咸, ...)")
    transfer_receiving_share: float = param(0.15, "share", 0, 1, source=STYLISED,
                                            doc="inland counties that are populous transfer-"
                                                "receiving counties")
    transfer_receiving_population_boost: float = param(2.0, "relative", 1, 20, source=STYLISED,
                                                       doc="population multiplier of a "
                                                           "transfer-receiving county")
    revolutionary_base_share: float = param(0.2, "share", 0, 1, source=STYLISED,
                                            doc="poverty counties in old revolutionary base "
                                                "areas")
    distance_city_km: float = param(180.0, "km", 0, 10_000, source=STYLISED,
                                    doc="mean distance of an inland county to the nearest "
                                        "large city (hubs are cities: 20 km)")
    ecological_assets_mean: float = param(0.4, "[0,1]", 0.01, 0.99, source=STYLISED,
                                          doc="mean ecological assets of an inland county "
                                              "(beta-distributed)")
    zone_resource_boost: float = param(1.0, "relative", 0, 20, source=STYLISED,
                                       doc="extra chance of a local raw material for "
                                           "agricultural processing in revolutionary base and "
                                           "ethnic areas (green agriculture, specialty foods)")
    worker_agents: int = param(300_000, "agents", 10, 1_000_000_000, doc="worker agents")
    persons_per_agent: float = param(20.0, "persons/agent", 1e-3, 1e9,
                                     doc="persons one worker agent stands for")
    population_weight_origin: float = param(1.6, "relative", 0, 100,
                                            doc="working-age population of an origin county "
                                                "relative to a poverty county")
    population_weight_central: float = param(1.2, "relative", 0, 100)
    resettlement_population_boost: float = param(1.5, "relative", 1, 10,
                                                 doc="population multiplier at resettlement sites")
    industries: list[str] = param(None, choices=ALL_INDUSTRIES,
                                  factory=lambda: list(INDUSTRIES + DEVELOPMENT_INDUSTRIES),
                                  doc="industries present in the world")
    # Wages and prices at the 2024 calibration year, back-cast with wage_growth.
    wage_east: float = param(5368.0, "yuan/month", 0, 1e6, source=NBS_2024 + ", east")
    wage_central: float = param(4745.0, "yuan/month", 0, 1e6, source=NBS_2024 + ", central")
    wage_west: float = param(4541.0, "yuan/month", 0, 1e6, source=NBS_2024 + ", west")
    poverty_wage_factor: float = param(0.95, "ratio", 0, 2,
                                       source=NBS_2024 + ": local 4,291 vs outbound 5,634",
                                       doc="poverty-county local wage relative to its region")
    min_wage_east: float = param(2490.0, "yuan/month", 0, 1e6,
                                 source="Zhejiang tier 1, 2024 provincial notice")
    min_wage_central: float = param(2010.0, "yuan/month", 0, 1e6,
                                    source="Zhejiang tier 3 as central proxy, 2024")
    min_wage_west: float = param(1540.0, "yuan/month", 0, 1e6,
                                 source="Xinjiang lowest tier, 2024 provincial notice")
    wage_growth: float = param(0.06, "1/year", -0.5, 0.5, doc="nominal wage growth")
    origin_cost_growth: float = param(0.04, "1/year", -0.5, 0.5,
                                      doc="extra yearly growth of origin-county rent (rising "
                                          "eastern costs push firms out)")
    rent_origin: float = param(1200.0, "yuan/worker-month", 0, 1e6,
                               source="~782 yuan/m2 land, 105 cities, 2016 (land-price "
                                      "monitoring), annualised per workplace")
    rent_central: float = param(400.0, "yuan/worker-month", 0, 1e6)
    rent_poverty: float = param(250.0, "yuan/worker-month", 0, 1e6)
    distance_east_km: float = param(200.0, "km", 0, 10_000, doc="mean distance to eastern hub")
    distance_central_km: float = param(900.0, "km", 0, 10_000)
    distance_west_km: float = param(2200.0, "km", 0, 10_000)
    infra_origin: float = param(0.9, "q in [0,1]", 0, 1)
    infra_central: float = param(0.6, "q in [0,1]", 0, 1)
    infra_poverty: float = param(0.35, "q in [0,1]", 0, 1)
    home_income_origin: float = param(2600.0, "yuan/month", 0, 1e6)
    home_income_central: float = param(2000.0, "yuan/month", 0, 1e6)
    home_income_poverty: float = param(1700.0, "yuan/month", 0, 1e6,
                                       doc="farm and transfer income of a worker at home")
    resettlement_home_income_factor: float = param(0.6, "ratio", 0, 1,
                                                   doc="home income at resettlement sites")
    fiscal_capacity_per_person: float = param(3000.0, "yuan/person-year", 0, 1e6,
                                              doc="central transfer to a county government")
    skill_mean_origin: float = param(0.55, "skill in [0,1]", 0, 1)
    skill_mean_central: float = param(0.45, "skill in [0,1]", 0, 1)
    skill_mean_poverty: float = param(0.30, "skill in [0,1]", 0, 1,
                                      source="poverty-area labor productivity ~60% of non-poor "
                                             "(the paper)")
    female_share: float = param(0.45, "share", 0, 1)
    care_share_female: float = param(0.35, "share", 0, 1,
                                     doc="women with a care constraint (left-behind carers)")
    care_share_male: float = param(0.05, "share", 0, 1)
    poverty_alleviated_share: float = param(0.35, "share", 0, 1,
                                            doc="workers in poverty counties from "
                                                "poverty-alleviated households")
    firms_per_1000_persons_origin: float = param(0.4, "firms/1000 persons", 0, 1000,
                                                 doc="initial firm density in origin counties")
    firms_per_1000_persons_central: float = param(0.15, "firms/1000 persons", 0, 1000)
    firms_per_1000_persons_poverty: float = param(0.075, "firms/1000 persons", 0, 1000)
    productivity_pareto_alpha: float = param(1.1, "tail exponent", 0.2, 10,
                                             source="Axtell 2001 (~1); China 0.8-1.5")
    efficiency_sd: float = param(0.2, "log sd", 0, 3,
                                 doc="dispersion of firm-specific labor productivity")
    max_firm_size: float = param(8000.0, "persons", 1, 1e9,
                                 doc="cap on a plant's capacity and desired employment")
    local_resource_share: float = param(0.1, "share", 0, 1,
                                        doc="poverty counties holding a local raw material for "
                                            "resource-affine industries (e.g. Taihe hair)")
    # Case worlds (the paper's cases): the first case_counties poverty counties are paired
    # with origin county 0, which specialises in case_industry.
    case_counties: int = param(0, "counties", 0, 100_000, doc="poverty counties of the case")
    case_industry: str = param("none", choices=("none",) + ALL_INDUSTRIES)
    case_origin_industry_share: float = param(0.0, "share", 0, 1,
                                              doc="share of the partner's firms in the case "
                                                  "industry")
    case_experience_share: float = param(0.0, "share", 0, 1,
                                         doc="share of case counties' outbound workers "
                                             "experienced in the case industry")
    case_aid_per_person: float = param(0.0, "yuan/person-year", 0, 1e6,
                                       source="Changzhou->Ankang 2.011 bn yuan 2017-2022",
                                       doc="pairing aid to the case counties")
    case_aid_start: float = param(2017.0, "year", 1900, 2200)
    case_aid_end: float = param(2023.0, "year", 1900, 2200)
    case_infrastructure: float = param(0.0, "q in [0,1]", 0, 1,
                                       doc="infrastructure of case counties (0: as drawn)")
    case_population_weight: float = param(1.0, "relative", 0, 100,
                                          doc="population multiplier of case counties")


@dataclass
class PolicyConfig:
    """Policy levers: attraction packages, KPI regime, special fund (MODEL.md §5)."""

    name: str = param("baseline")
    kpi: str = param("count", choices=KPI_REGIMES, doc="county KPI regime")
    policy_years: float = param(3.0, "years", 0, 50,
                                source="packages usually last 3 years (the paper)")
    credibility: float = param(0.85, "probability", 0, 1,
                               doc="chance a promised subsidy payment is made")
    rent_waiver: float = param(1.0, "share of rent", 0, 1)
    wage_subsidy: float = param(400.0, "yuan/worker-month", 0, 1e6)
    freight_subsidy: float = param(0.5, "share of logistics", 0, 1)
    central_packages: bool = param(True, doc="non-poor inland counties also offer packages")
    unmatched_package_share: float = param(0.5, "share", 0, 1,
                                           doc="reform KPI: package share offered to entrants "
                                               "without a local chain match")
    weight_survival: float = param(0.4, "KPI points per firm-year", 0, 1, source=STYLISED,
                                   doc="reform KPI: weight of surviving firm-years of all firms "
                                       "in the county")
    weight_growth: float = param(0.3, "KPI points per typical plant of jobs", 0, 1,
                                 source=STYLISED,
                                 doc="reform KPI: weight of growth in poverty-alleviated local "
                                     "jobs (in typical plants' worth of workers)")
    weight_chain: float = param(0.3, "KPI points per firm", 0, 1, source=STYLISED,
                                doc="reform KPI: weight of chain-matched entrants")
    tax_share: float = param(0.03, "share of revenue", 0, 1,
                             doc="county's own tax take on firm revenue")
    industrial_budget_share: float = param(0.15, "share", 0, 1,
                                           doc="share of the central transfer spent on industry")
    training_cost: float = param(3000.0, "yuan/trainee", 1, 1e7,
                                 doc="cost of one vocational course")
    training_skill_gain: float = param(0.15, "share of skill gap", 0, 1,
                                       doc="a course closes this share of the gap to skill 1")
    training_budget: float = param(0.0, "yuan/person-year", 0, 1e6,
                                   doc="extra training budget per working-age person in "
                                       "poverty counties (national programme)")
    infra_cost: float = param(4000.0, "yuan/person per unit q", 1, 1e9,
                              doc="infrastructure spending per resident that raises q by 1 "
                                  "(before diminishing returns)")
    infra_lag_years: float = param(2.0, "years", 0, 20, doc="lag before infrastructure works")
    special_fund: float = param(0.0, "yuan/year", 0, 1e13,
                                doc="national special fund for labor-intensive industry in "
                                    "poverty counties (real, national scale)")
    fund_allocation: str = param("core", choices=FUND_ALLOCATIONS,
                                 doc="core: key-assistance + resettlement; even; need")
    fund_infrastructure: float = param(0.4, "share", 0, 1,
                                       doc="fund use: infrastructure and standard factories")
    fund_training: float = param(0.3, "share", 0, 1, doc="fund use: vocational training")
    fund_freight: float = param(0.2, "share", 0, 1, doc="fund use: freight/power subsidies")
    fund_freight_share: float = param(0.5, "share of logistics", 0, 1,
                                      doc="share of a firm's logistics cost the fund's "
                                          "freight/power money pays")
    fund_credit: float = param(0.1, "share", 0, 1,
                               doc="fund use: credit risk compensation (borrowing in shocks)")
    credit_leverage: float = param(5.0, "yuan credit/yuan", 0, 100,
                                   doc="bank credit per yuan of risk compensation")
    pairing_aid: float = param(2.0e10, "yuan/year", 0, 1e13,
                               source="east-west fiscal aid; Changzhou->Ankang 2.011 bn "
                                      "2017-2022 (the paper)",
                               doc="national east-west pairing aid (real, national scale)")
    # The development strategy (MODEL.md §12): select, concentrate, build nodes.
    selection: str = param("none", choices=SELECTIONS,
                           doc="which industries a county's packages go to: none (all), rule "
                               "(the paper's rule of thumb), simulated (experiments.select's "
                               "ranking for the county's kind, policy.selection_table)")
    selection_top: int = param(3, "industries", 1, 100,
                               doc="industries a county targets under a selection")
    selection_table: str = param("", doc="selection.csv written by experiments.select "
                                         "(policy.selection=simulated)")
    package_counties: str = param("all", choices=PACKAGE_COUNTIES,
                                  doc="counties whose governments may offer packages: all, or "
                                      "core (创核: key-assistance counties and resettlement "
                                      "sites; central counties keep theirs)")
    node_workshop_rate: float = param(0.0, "1/year per inland headquarters", 0, 10,
                                      source=STYLISED,
                                      doc="nodes (建节): chance a year that a headquarters in a "
                                          "county seat or hub opens a township workshop (0: "
                                          "only eastern headquarters do)")
    # County governments as agents (MODEL.md §11.1): officials, terms, beliefs and choices.
    official_term: int = param(5, "years", 1, 20, source="a county Party secretary's term is "
                               "5 years (staggered across counties)",
                               doc="term of a county official; a KPI scores the term")
    carryover_cap: float = param(0.2, "share of the year's budget", 0, 10, source=STYLISED,
                                 doc="unspent budget carried into the next year, at most this "
                                     "share of the year's granted budget; the rest returns "
                                     "to the centre")
    retention_years: float = param(2.0, "years", 0, 20, source=STYLISED,
                                   doc="length of a retention offer (an extension of an "
                                       "expiring package)")
    retention_share: float = param(0.5, "share of the package", 0, 1, source=STYLISED,
                                   doc="national cap on the terms of a retention offer (times "
                                       "the county's generosity that year)")
    generosity_levels: list[float] = param(
        None, "share of national terms", 0, 1, factory=lambda: [0.5, 0.75, 1.0],
        source=STYLISED, doc="menu of package generosity a county may choose (times the "
                             "national package terms)")
    government_temperature: float = param(0.05, "share of the best bundle's value", 1e-4, 100,
                                          source=STYLISED,
                                          doc="logit noise of a government's choice of bundle")
    government_learning: float = param(0.5, "weight", 0, 1, source=STYLISED,
                                       doc="weight of this year's realised KPI points per yuan "
                                           "in a government's belief (exponential smoothing)")
    government_peer_weight: float = param(0.3, "weight", 0, 1, source=STYLISED,
                                          doc="weight of the region's mean belief in a "
                                              "government's belief")
    government_saturation: float = param(0.25, "share of discretionary budget", 1e-3, 10,
                                         source=STYLISED,
                                         doc="diminishing returns: a use's value is "
                                             "belief x D x s0 x log(1 + share / s0)")
    government_prior: float = param(1.0, "KPI points per typical package-year", 0, 100,
                                    source=STYLISED,
                                    doc="initial belief of every use the KPI scores")
    government_discount: float = param(0.9, "weight", 0, 1, source=STYLISED,
                                       doc="value of a yuan saved (carried, within the term) "
                                           "relative to the best use this year")


@dataclass
class ShockConfig:
    """Dated exogenous shocks (MODEL.md §7). A shock with years = 0 is off."""

    name: str = param("none")
    export_start: float = param(2022.58, "year", 1900, 2200,
                                source="Kashgar apparel export orders -25% y/y, Aug 2022")
    export_years: float = param(0.0, "years", 0, 100)
    export_size: float = param(0.25, "share of orders lost", 0, 1,
                               doc="times the industry's export exposure")
    export_industries: list[str] = param(None, choices=ALL_INDUSTRIES,
                                         factory=lambda: list(EXPORT_INDUSTRIES),
                                         doc="industries whose export orders are hit")
    sanction_region: str = param("west", choices=REGIONS)
    sanction_industries: list[str] = param(
        None, choices=ALL_INDUSTRIES, factory=lambda: ["textile_apparel"])
    sanction_start: float = param(2021.5, "year", 1900, 2200)
    sanction_years: float = param(0.0, "years", 0, 100)
    sanction_size: float = param(0.3, "share of orders lost", 0, 1)
    pandemic_start: float = param(2020.0, "year", 1900, 2200)
    pandemic_years: float = param(0.0, "years", 0, 100)
    pandemic_east_demand: float = param(0.5, "multiplier", 0, 1,
                                        doc="eastern demand for migrant workers during the "
                                            "pandemic (lowers their job-finding)")
    pandemic_logistics: float = param(1.3, "multiplier", 1, 10, doc="logistics cost multiplier")
    downturn_start: float = param(2024.0, "year", 1900, 2200)
    downturn_years: float = param(0.0, "years", 0, 100)
    downturn_size: float = param(0.1, "share of orders lost", 0, 1)
    border_closure_start: float = param(2020.0, "year", 1900, 2200,
                                        source="land ports with neighbours closed 2020-2022")
    border_closure_years: float = param(0.0, "years", 0, 100)
    border_closure_size: float = param(0.5, "share of orders lost", 0, 1,
                                       doc="border counties' orders lost, times the "
                                           "industry's export exposure")


@dataclass
class ModelConfig:
    """Behavioural parameters of workers and firms (MODEL.md §4, §6)."""

    search_prob: float = param(0.15, "1/month", 0, 1, doc="chance a worker reconsiders")
    income_scale: float = param(600.0, "yuan/month", 1, 1e6,
                                doc="logit scale of expected income (choice noise)")
    switching_inertia: float = param(1.0, "logit units", 0, 100,
                                     doc="utility bonus for the current option")
    living_cost_east: float = param(1200.0, "yuan/month", 0, 1e6,
                                    doc="extra living cost of working in the east (2024)")
    migration_cost: float = param(250.0, "yuan/month", 0, 1e6,
                                  doc="amortised cost of (re)migrating, for workers not yet out")
    care_cost: float = param(2500.0, "yuan/month", 0, 1e6,
                             doc="cost of leaving for workers with a care constraint")
    age_cost: float = param(60.0, "yuan/month per year", 0, 1e5,
                            doc="cost of being away per year of age above 35")
    # The eastern labour market for migrant workers (MODEL.md §11.2): finite demand, a
    # matching function, and a wage that responds to the supply of migrants.
    east_demand_ratio: float = param(1.05, "ratio", 0.01, 100, source=STYLISED,
                                     doc="eastern jobs for the world's migrant workers at the "
                                         "start, relative to the migrants employed there")
    east_demand_growth: float = param(0.01, "1/year", -0.5, 0.5, source=STYLISED,
                                      doc="growth of eastern demand for migrant workers "
                                          "(outbound migrants grew ~0-1 %/year, NBS)")
    east_matching_efficiency: float = param(0.6, "1/month", 0.001, 10, source=STYLISED,
                                            doc="matching function: hires = efficiency x "
                                                "seekers^a x vacancies^(1-a) per month")
    east_matching_elasticity: float = param(0.5, "elasticity", 0, 1,
                                            source="Petrongolo & Pissarides (2001): 0.5-0.7",
                                            doc="a: elasticity of hires to seekers")
    east_wage_elasticity: float = param(0.3, "elasticity", 0, 5, source=STYLISED,
                                        doc="eastern migrant wage x (demand / migrants)^this")
    outbound_separation: float = param(0.02, "1/month", 0, 1, doc="outbound job-loss rate")
    local_finding_smoothing: float = param(0.3, "weight", 0, 1,
                                           doc="weight of this month in expected local "
                                               "job-finding")
    learning_local: float = param(0.008, "1/month", 0, 1,
                                  doc="share of skill gap closed per month on a local job")
    learning_outbound: float = param(0.01, "1/month", 0, 1)
    experience_premium: float = param(0.15, "share", 0, 5,
                                      doc="outbound wage premium at 10 years of experience")
    retirement_age: int = param(60, "years", 20, 100)
    output_growth: float = param(0.055, "1/year", -0.5, 0.5,
                                 doc="growth of output value per worker")
    freight_rate: float = param(0.03, "share/1000 km", 0, 10,
                                source="logistics 14.1% of GDP (CFLP 2024); road freight "
                                       "0.42-0.49 yuan/t-km",
                                doc="logistics cost as share of revenue per 1000 km per unit of "
                                    "(input + output share east)")
    infra_logistics_discount: float = param(0.3, "share", 0, 1)
    chain_logistics_discount: float = param(0.3, "share", 0, 1)
    chain_productivity_bonus: float = param(0.1, "share", 0, 1)
    agglomeration_reference: float = param(400.0, "persons", 1, 1e9,
                                           doc="same-industry county employment at which "
                                               "agglomeration doubles (1 + E/this)")
    order_noise: float = param(0.08, "log sd/month", 0, 2)
    exit_patience: int = param(4, "months", 1, 240,
                               doc="months with cash below buffer before exit")
    ramp_up_months: int = param(18, "months", 0, 240,
                                doc="no cash exit in a plant's first months in a county")
    exit_hazard: float = param(0.0015, "1/month", 0, 1, doc="idiosyncratic exit hazard")
    initial_cash_months: float = param(6.0, "months of costs", 0, 120,
                                       doc="launch capital of a new firm")
    investment_rate: float = param(0.1, "capacity growth per unit margin per month", 0, 10,
                                   doc="firms grow capacity with their profit margin (incl. "
                                       "subsidy) and shrink on losses")
    cash_reserve_months: float = param(1.0, "months of costs", 0, 1000,
                                       doc="cash above this reserve is paid out to owners")
    location_candidates: int = param(6, "counties", 1, 100)
    location_horizon: float = param(60.0, "months", 1, 600)
    location_temperature: float = param(0.5, "months of revenue", 1e-3, 1e6)
    relocation_cost_factor: float = param(3.0, "multiplier", 0, 100,
                                          doc="times the industry's relocation cost (3: hand-"
                                              "tuned so firms move ~3 %/year and 5-year "
                                              "survival is ~0.7, SAIC 2013)")
    birth_rate: float = param(0.07, "1/year per origin firm", 0, 10)
    mobile_entry_rate: float = param(0.05, "1/year per origin firm", 0, 10,
                                     doc="entrants choosing where to locate")
    returnee_rate: float = param(1e-6, "1/person-month", 0, 1e-3,
                                 doc="founding rate of an experienced outbound worker (a worker "
                                     "agent founds with persons_per_agent times this)")
    returnee_min_experience: int = param(36, "months", 0, 1000)
    returnee_package_boost: float = param(2.0, "multiplier", 0, 100)
    returnee_infra_boost: float = param(2.0, "multiplier", 0, 100)
    satellite_rate: float = param(0.03, "1/year per origin firm", 0, 10)
    satellite_order_share: float = param(0.3, "share", 0, 1)
    # Constants that were written inline in both engines, declared here (all stylised).
    skill_premium_base: float = param(0.7, "wage multiplier", 0, 10, source=STYLISED,
                                      doc="wage multiplier of a worker of skill 0 (local and "
                                          "outbound wages: base + slope x skill)")
    skill_premium_slope: float = param(0.6, "wage multiplier per unit skill", 0, 10,
                                       source=STYLISED)
    skill_reference: float = param(0.55, "skill in [0,1]", 0.01, 1, source=STYLISED,
                                   doc="mean skill at which the skill factor of labor "
                                       "productivity is 1")
    infra_productivity_floor: float = param(0.6, "multiplier", 0, 1, source=STYLISED,
                                            doc="labor productivity factor at q = 0 (1 at "
                                                "q = 1, linear between)")
    age_cost_from: int = param(35, "years", 0, 100, source=STYLISED,
                               doc="age above which age_cost applies")
    outbound_industry_switch: float = param(0.2, "probability", 0, 1, source=STYLISED,
                                            doc="chance an experienced outbound job seeker "
                                                "takes a job in a random industry")
    returnee_prospect_scale: float = param(500.0, "yuan/agent-person-month", 1, 1e9,
                                           source=STYLISED,
                                           doc="logistic scale of expected profit in the "
                                               "returnee founding probability")
    returnee_firm_scale: float = param(0.5, "multiplier", 0, 10, source=STYLISED,
                                       doc="order scale of a returnee firm relative to a "
                                           "Pareto draw (founded with savings and know-how)")
    entry_age: int = param(16, "years", 10, 30, source=STYLISED,
                           doc="age of young entrants replacing retirees")
    entrant_care_factor: float = param(0.6, "multiplier", 0, 10, source=STYLISED,
                                       doc="young entrants' care shares relative to the "
                                           "world's care shares")
    entrant_skill_low: float = param(0.8, "x county mean skill", 0, 10, source=STYLISED,
                                     doc="young entrants' skill is uniform in [low, low + "
                                         "spread) x their county kind's mean (more schooling)")
    entrant_skill_spread: float = param(0.6, "x county mean skill", 0, 10, source=STYLISED)
    skill_floor: float = param(0.02, "skill in [0,1]", 0, 1, source=STYLISED,
                               doc="lowest skill of a young entrant")
    skill_ceiling: float = param(0.98, "skill in [0,1]", 0, 1, source=STYLISED,
                                 doc="highest skill of a young entrant")
    max_hiring_over_capacity: float = param(2.0, "x capacity", 0, 100, source=STYLISED,
                                            doc="a plant wants at most this many times its "
                                                "capacity in workers (+1)")
    relocation_loan_months: int = param(60, "months", 1, 600, source=STYLISED,
                                        doc="a move is financed by a loan repaid over these "
                                            "months; meanwhile the loan counts as buffer")
    initial_local_finding: float = param(0.3, "1/month", 0, 1, source=STYLISED,
                                         doc="expected local job-finding rate at the start")
    home_labor_available_share: float = param(0.5, "share", 0, 1, source=STYLISED,
                                              doc="share of residents at home a newcomer "
                                                  "firm counts as hireable (or the seekers, "
                                                  "if more)")
    satellite_min_parent_size: float = param(60.0, "persons", 0, 1e9, source=STYLISED,
                                             doc="smallest headquarters (capacity) that opens "
                                                 "workshops")
    satellite_partner_share: float = param(0.5, "share", 0, 1, source=STYLISED,
                                           doc="chance a headquarters with pairing partners "
                                               "looks there rather than at a resettlement "
                                               "site")
    # The development strategy (MODEL.md §12): zones, development types and nodes.
    care_town_access: float = param(0.5, "probability", 0, 1, source=STYLISED,
                                    doc="chance a care-bound worker can take a job in the "
                                        "county seat; township workshops and care-friendly "
                                        "trades (handicrafts) are always within reach")
    local_birth_rate: float = param(0.02, "firms/1000 persons-year", 0, 100, source=STYLISED,
                                    doc="local entrepreneurs trying a firm in an inland "
                                        "county (they found it if its expected profit with "
                                        "the package offered is positive)")
    hub_reach_km: float = param(150.0, "km", 1, 10_000, source=STYLISED,
                                doc="distance over which a service hub's nearness decays "
                                    "(hub_access = exp(-distance_city_km / reach))")
    hub_logistics_discount: float = param(0.3, "share", 0, 1, source=STYLISED,
                                          doc="freight cost saved next to a service hub "
                                              "(times hub_access)")
    visitor_reach_km: float = param(300.0, "km", 1, 10_000, source=STYLISED,
                                    doc="distance over which city visitors' demand decays")
    red_tourism_bonus: float = param(0.3, "share", 0, 10, source=STYLISED,
                                     doc="extra visitor demand in old revolutionary base areas")
    non_ethnic_craft_access: float = param(0.3, "multiplier", 0, 1, source=STYLISED,
                                           doc="orders of ethnic handicrafts made outside "
                                               "ethnic areas (no brand of origin)")
    border_export_access: float = param(0.3, "share", 0, 10, source=STYLISED,
                                        doc="extra orders of a border county's exporters "
                                            "(times export exposure): trade with neighbours")
    hometown_store_share: float = param(0.3, "probability", 0, 1, source=STYLISED,
                                        doc="chance an outbound job found by a native of a "
                                            "county with a catering central kitchen is in its "
                                            "chain's city stores")
    domestic_service_female_weight: float = param(2.0, "relative", 0, 100, source=STYLISED,
                                                  doc="weight of domestic-service jobs in a "
                                                      "woman's outbound job draw (men: 0.2 "
                                                      "of it); 1 = as any trade")


@dataclass
class RunConfig:
    """Run length, seed and output options."""

    years: int = param(20, "years", 1, 200)
    seed: int = param(0, "", 0, 2**63 - 1)
    start_year: int = param(2017, "year", 1900, 2200)
    progress: bool = param(True, doc="show a progress line on long runs")
    figures: bool = param(True, doc="write PNG figures of the run")
    report: bool = param(False, doc="write report.html: a self-contained page of the run's "
                                    "indicators and figures (sim.report); sweeps always write "
                                    "one for the whole sweep")
    threads: int = param(0, "threads", 0, 1024,
                         doc="threads of the parallel kernels (results do not depend on it); "
                             "0: all cores for worlds of at least 100,000 worker agents, else "
                             "1; sweeps running one run per core use 1")
    checkpoint_every: int = param(0, "years", 0, 200,
                                  doc="save the run's full state to checkpoint.npz in the run "
                                      "directory every N years of the run and at its end "
                                      "(one file, replaced atomically; sim.checkpoint); 0: off")
    resume_from: str = param("", doc="continue the run from this checkpoint.npz (its "
                                     "configuration and code version must match; only the run "
                                     "length and the run's output options may differ); '': "
                                     "start at step 0")


# Run options that change how a run reports itself, not what it computes: not design
# parameters of a sweep (runs.parquet and comparison.csv leave them out).
OUTPUT_OPTIONS = ("run.progress", "run.figures", "run.report", "run.threads",
                  "run.checkpoint_every", "run.resume_from")


@dataclass
class Config:
    """Top-level configuration composed by Hydra."""

    world: WorldConfig = field(default_factory=WorldConfig)
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    shock: ShockConfig = field(default_factory=ShockConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    run: RunConfig = field(default_factory=RunConfig)
    engine: str = param("numba", choices=ENGINES,
                        doc="numba: the fast kernels; reference: the same rules per agent in "
                            "plain Python (small worlds)")


# Shares that split one whole: the fields of each group must sum to at most 1 (``validate``).
# A group over 1 spends more than it has (the special fund's uses at 1 each spent 110.8 M
# of 66.7 M allocated).
SHARE_GROUPS = {
    "the special fund's uses": ("policy.fund_infrastructure", "policy.fund_training",
                                "policy.fund_freight", "policy.fund_credit"),
}


def register_configs() -> None:
    """Register the schema in Hydra's ConfigStore (idempotent)."""
    from hydra.core.config_store import ConfigStore

    cs = ConfigStore.instance()
    cs.store(name="config_schema", node=Config)


def _fmt(x: float | None) -> str:
    if x is None:
        return "inf"
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
        x = int(x)
    return f"{x:g}" if isinstance(x, float) else str(x)


def _check_field(path: str, value: Any, meta: dict) -> None:
    unit = f" ({meta['unit']})" if meta.get("unit") else ""
    choices = meta.get("choices")
    if isinstance(value, list | tuple):  # a list names each item once (a repeat adds rows)
        repeated = sorted({repr(v) for v in value if value.count(v) > 1})
        if repeated:
            raise ConfigError(f"{path} lists {', '.join(repeated)} more than once; give each "
                              "item once")
    if choices is not None:
        items = value if isinstance(value, list | tuple) else [value]
        for item in items:
            if item not in choices:
                raise ConfigError(f"{path} = {item!r} is not allowed; choose from "
                                  f"{', '.join(choices)}")
        return
    lo, hi = meta.get("lo"), meta.get("hi")
    if lo is None and hi is None:
        return
    if isinstance(value, list | tuple):  # a menu of numbers: each in range, at least one
        if not value:
            raise ConfigError(f"{path} is empty; give one or more numbers in "
                              f"[{_fmt(lo)}, {_fmt(hi)}]{unit}")
        for k, item in enumerate(value):
            _check_field(f"{path}[{k}]", item, meta)
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise ConfigError(f"{path} = {value!r} must be a number in [{_fmt(lo)}, {_fmt(hi)}]{unit}")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ConfigError(f"{path} = {value!r}{unit} is out of range; allowed "
                          f"[{_fmt(lo)}, {_fmt(hi)}]")


def _walk(obj: Any, prefix: str) -> None:
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        path = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(value):
            _walk(value, path + ".")
        else:
            _check_field(path, value, dict(f.metadata))


def validate(cfg: Config) -> Config:
    """Check ranges, choices and cross-field constraints; return ``cfg`` unchanged.

    Raises:
        ConfigError: one line naming the first offending field and its allowed range.
    """
    _walk(cfg, "")
    w = cfg.world
    if w.n_key_assistance > w.n_poverty:
        raise ConfigError(f"world.n_key_assistance = {w.n_key_assistance} must be in "
                          f"[0, world.n_poverty = {w.n_poverty}]")
    if w.n_resettlement > w.n_poverty:
        raise ConfigError(f"world.n_resettlement = {w.n_resettlement} must be in "
                          f"[0, world.n_poverty = {w.n_poverty}]")
    if not w.industries:
        raise ConfigError("world.industries is empty; choose one or more of "
                          + ", ".join(ALL_INDUSTRIES))
    if w.case_counties > w.n_poverty:
        raise ConfigError(f"world.case_counties = {w.case_counties} must be in "
                          f"[0, world.n_poverty = {w.n_poverty}]")
    if w.case_industry != "none" and w.case_industry not in w.industries:
        raise ConfigError(f"world.case_industry = {w.case_industry!r} must be one of "
                          f"world.industries ({', '.join(w.industries)})")
    n_counties = w.n_origin + w.n_central + w.n_poverty
    if w.worker_agents < 10 * n_counties:
        raise ConfigError(f"world.worker_agents = {w.worker_agents} must be at least "
                          f"10 per county ({10 * n_counties})")
    for name in ("min_wage_east", "min_wage_central", "min_wage_west"):
        region = name.rsplit("_", 1)[1]
        wage = getattr(w, f"wage_{region}")
        if getattr(w, name) > wage:
            raise ConfigError(f"world.{name} = {getattr(w, name)} must be in "
                              f"[0, world.wage_{region} = {wage}] (yuan/month)")
    p = cfg.policy
    if p.selection == "simulated" and not (p.selection_table
                                           and Path(p.selection_table).is_file()):
        raise ConfigError(f"policy.selection_table = {p.selection_table!r} must be an "
                          "existing selection.csv (from python -m experiments.select) when "
                          "policy.selection = simulated")
    manufacturing = [name for name in w.industries if name in INDUSTRIES + EXTRA_INDUSTRIES]
    if not manufacturing:
        raise ConfigError("world.industries must include at least one manufacturing industry "
                          f"({', '.join(INDUSTRIES + EXTRA_INDUSTRIES)}): firms transfer from "
                          "the east in those")
    for whole, paths in SHARE_GROUPS.items():
        total = sum(_value_at(cfg, p) for p in paths)
        if total > 1 + 1e-9:
            raise ConfigError(f"{' + '.join(paths)} = {total:g} must be at most 1 (shares of "
                              f"{whole}; each in [0, 1])")
    m = cfg.model
    if m.skill_floor > m.skill_ceiling:
        raise ConfigError(f"model.skill_floor = {m.skill_floor} must be in "
                          f"[0, model.skill_ceiling = {m.skill_ceiling}] (skill in [0,1])")
    return cfg


def _value_at(cfg: Config, path: str) -> Any:
    value: Any = cfg
    for part in path.split("."):
        value = getattr(value, part)
    return value


def to_config(cfg_like: Any) -> Config:
    """Turn a Hydra/OmegaConf node (or a Config) into a validated :class:`Config`."""
    if isinstance(cfg_like, Config):
        return validate(cfg_like)
    from omegaconf import OmegaConf

    obj = OmegaConf.to_object(cfg_like)
    if not isinstance(obj, Config):
        raise ConfigError("configuration does not follow the Config schema")
    return validate(obj)


def schema_field(path: str) -> dataclasses.Field | None:
    """The schema's field at a dotted path (``world.industries``), None if there is none."""
    node: Any = Config
    found = None
    for part in path.split("."):
        fields = {f.name: f for f in dataclasses.fields(node)} if dataclasses.is_dataclass(
            node) else {}
        if part not in fields:
            return None
        found = fields[part]
        node = found.type if not isinstance(found.type, str) else _resolve(found.type)
    return found


def field_paths(node: Any = Config, prefix: str = "") -> list[str]:
    """Every leaf field of the schema as a dotted path."""
    paths = []
    for f in dataclasses.fields(node):
        sub = _resolve(f.type) if isinstance(f.type, str) else f.type
        if dataclasses.is_dataclass(sub):
            paths += field_paths(sub, f"{prefix}{f.name}.")
        else:
            paths.append(f"{prefix}{f.name}")
    return paths


def describe_field(path: str) -> str:
    """The allowed values of a dotted config path, e.g. ``a number in [0, 1] (share)``."""
    f = schema_field(path)
    if f is None:
        return ""
    meta = dict(f.metadata)
    if meta.get("choices"):
        return "one of " + ", ".join(meta["choices"])
    if meta.get("lo") is not None or meta.get("hi") is not None:
        unit = f" ({meta['unit']})" if meta.get("unit") else ""
        return f"a number in [{_fmt(meta.get('lo'))}, {_fmt(meta.get('hi'))}]{unit}"
    return ""


def _resolve(type_name: str):
    return {"WorldConfig": WorldConfig, "PolicyConfig": PolicyConfig,
            "ShockConfig": ShockConfig, "ModelConfig": ModelConfig,
            "RunConfig": RunConfig}.get(type_name)


def field_table(cls: type) -> list[dict]:
    """Rows (name, default, unit, range, source, doc) documenting a config dataclass."""
    rows = []
    for f in dataclasses.fields(cls):
        m = dict(f.metadata)
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        rng = ""
        if m.get("choices"):
            rng = " | ".join(m["choices"])
        elif m.get("lo") is not None or m.get("hi") is not None:
            rng = f"[{_fmt(m.get('lo'))}, {_fmt(m.get('hi'))}]"
        rows.append({"name": f.name, "default": default, "unit": m.get("unit", ""),
                     "range": rng, "source": m.get("source", ""), "doc": m.get("doc", "")})
    return rows


# --- composing configs/ with Hydra ------------------------------------------------------------

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"


def presets(group: str) -> list[str]:
    """Names of the YAML presets of a config group (``configs/<group>/*.yaml``), sorted."""
    return sorted(p.stem for p in (CONFIG_DIR / group).glob("*.yaml"))


def default_presets() -> dict[str, str]:
    """The preset each group uses unless overridden (the defaults list of
    ``configs/config.yaml``), e.g. ``{"world": "default", ..., "calibration": "nbs2024"}``."""
    from omegaconf import OmegaConf  # a dependency of Hydra; read only here

    entries = OmegaConf.to_container(OmegaConf.load(CONFIG_DIR / "config.yaml")).get(
        "defaults", [])
    return {group: name for entry in entries if isinstance(entry, dict)
            for group, name in entry.items()}


def groups() -> list[str]:
    """The config groups (``configs/<group>/``) an override may choose a preset of."""
    return sorted(p.name for p in CONFIG_DIR.iterdir() if p.is_dir() and p.name != "hydra")


def check_overrides(overrides: list[str], allow_repeats: bool = False) -> None:
    """Refuse what Hydra would accept silently: a key added with ``+``/``++`` that is neither a
    field of the schema nor a config group (a typo), the same key or group given twice (the
    last one would win unseen; ``allow_repeats`` for programs that layer overrides on
    purpose) and a flag given anything but true or false (OmegaConf reads ``2`` as true).
    ``hydra.*`` overrides are Hydra's own and pass.

    Raises:
        ConfigError: one line naming the key and what is allowed.
        hydra.errors.HydraException: an override that does not parse.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser

    seen: dict[str, str] = {}
    for o in OverridesParser.create().parse_overrides(list(overrides)):
        key = o.key_or_group
        if key.split(".")[0].split("/")[0] == "hydra":
            continue
        name = key if o.package is None else f"{key}@{o.package}"
        if name in seen and not allow_repeats:
            raise ConfigError(f"{name} is given twice ({seen[name]}, {o.input_line}); give "
                              "each key or group once")
        seen[name] = o.input_line
        found = schema_field(key)
        if found is None and (o.is_add() or o.is_force_add()) and key not in groups():
            section, _, leaf = key.rpartition(".")
            near = [p for p in field_paths() if p.rpartition(".")[0] == section]
            close = get_close_matches(key, near + groups(), n=3, cutoff=0.8)
            hint = (f"did you mean {', '.join(close)}?" if close else
                    f"groups are {', '.join(groups())}; python -m sim --cfg job lists the "
                    "fields")
            raise ConfigError(f"{key} is not a field of the configuration nor a config "
                              f"group, so {o.input_line} is refused; {hint}")
        if found is not None and found.type == "bool" and not o.is_delete():
            values = list(o.sweep_iterator()) if o.is_sweep_override() else [o.value()]
            for value in values:
                if not isinstance(value, bool):
                    raise ConfigError(f"{key} = {value!r} must be true or false")


def compose(overrides: list[str]) -> Config:
    """The validated :class:`Config` that ``python -m sim OVERRIDES`` runs.

    Composes ``configs/config.yaml`` and the overrides with Hydra's compose API, as the
    command line does, and validates the result.

    Raises:
        ConfigError: a value out of range (one line naming the field and the range).
        hydra.errors.HydraException, omegaconf.errors.OmegaConfBaseException: an override
            that does not parse or names no field or preset.
    """
    # Hydra is imported on first use: the engine and kernels import this module, never compose.
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    check_overrides(overrides, allow_repeats=True)
    register_configs()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        cfg = hydra_compose(config_name="config", overrides=list(overrides))
    return to_config(cfg)
