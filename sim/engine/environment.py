"""The month's prices, wages and shock multipliers (MODEL.md §2, §7).

Wages, rents and home incomes are given at the 2024 calibration year and move with
``world.wage_growth``; origin counties' rents rise faster (the push east -> west); output per
worker and capital costs move with ``model.output_growth``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim.codes import MONTHS_PER_YEAR, ORIGIN
from sim.config import Config
from sim.engine.shocks import shock_state
from sim.industries import Industries
from sim.params import Params
from sim.rules import infrastructure_factor
from sim.state import Table

CALIBRATION_YEAR = 2024


class Month(NamedTuple):
    """Prices, wages and shock multipliers in force in one month (per county or industry)."""

    year: float
    wage: np.ndarray                   # (county,) yuan/month
    min_wage: np.ndarray               # (county,) yuan/month
    rent: np.ndarray                   # (county,) yuan/worker-month
    home_income: np.ndarray            # (county,) yuan/month
    wage_east: float                   # yuan/month, migrant workers in the east (market)
    living_cost: float                 # yuan/month, extra cost of living in the east
    output_per_worker: np.ndarray      # (industry,) yuan/month
    reference_productivity: np.ndarray  # (industry,) yuan/month at eastern infrastructure
    capital_per_worker: np.ndarray     # (industry,) yuan/month
    demand: np.ndarray                 # (county, industry) multiplier on orders
    outbound_finding: float            # 1/month, eastern job-finding of migrant seekers
    east_demand_shock: float           # multiplier on eastern demand for migrant workers
    outbound_employment: float         # chance a migrant in the east holds a job
    logistics: float                   # multiplier on logistics costs


def month_environment(cfg: Config, params: Params, counties: Table, industries: Industries,
                      industry_names: list[str], market_access: np.ndarray, t: int) -> Month:
    """Wages, prices and shocks at step ``t``.

    Orders of industry i in county c are the shock multiplier of c's region, times the
    county's market access (``sim.development.market_access``), the season (peak in July)
    and urban incomes' pull on demand with income elasticity above 1 (visitors, eating out)."""
    w = cfg.world
    year = cfg.run.start_year + t / MONTHS_PER_YEAR
    since_2024 = year - CALIBRATION_YEAR
    growth = (1.0 + w.wage_growth) ** since_2024
    c = counties
    origin_push = np.where(c.kind == ORIGIN,
                           (1.0 + w.origin_cost_growth) ** (year - cfg.run.start_year), 1.0)
    price_growth = (1.0 + cfg.model.output_growth) ** since_2024
    output = industries.output_per_worker * price_growth
    shocks = shock_state(cfg.shock, year, industry_names, industries.export_exposure)
    month_of_year = t % MONTHS_PER_YEAR
    season = 1.0 + industries.seasonal_amplitude * np.cos(2.0 * np.pi * (month_of_year - 6)
                                                          / MONTHS_PER_YEAR)
    income_pull = growth ** (industries.income_elasticity - 1.0)
    demand = shocks.demand[c.region] * market_access * (season * income_pull)
    demand[c.border] *= shocks.border_demand
    return Month(
        year=year,
        wage=c.wage_2024 * growth,
        min_wage=c.min_wage_2024 * growth,
        rent=c.rent_2024 * growth * origin_push,
        home_income=c.home_income_2024 * growth,
        wage_east=w.wage_east * growth,
        living_cost=cfg.model.living_cost_east * growth,
        output_per_worker=output,
        reference_productivity=output * infrastructure_factor(params, w.infra_origin),
        capital_per_worker=industries.capital_per_worker * price_growth,
        demand=demand,
        # Set each month by the eastern labour market (sim.engine.labour._east_market).
        outbound_finding=0.0,
        outbound_employment=0.0,
        east_demand_shock=shocks.east_demand,
        logistics=shocks.logistics,
    )
