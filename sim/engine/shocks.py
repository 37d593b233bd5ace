"""Dated exogenous shocks (MODEL.md §7) as multipliers for one month."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.codes import EAST, REGIONS
from sim.config import ShockConfig


@dataclass(frozen=True)
class ShockState:
    """Multipliers in force in one month.

    Attributes:
        demand: (region, industry) multiplier on orders.
        east_demand: multiplier on eastern demand for migrant workers (pandemic, export
            orders).
        logistics: multiplier on logistics costs.
        border_demand: (industry,) extra multiplier on orders in border counties (border
            closures hit what they export to neighbours).
    """

    demand: np.ndarray
    east_demand: float
    logistics: float
    border_demand: np.ndarray


def _active(year: float, start: float, years: float) -> bool:
    return years > 0 and start <= year < start + years


def shock_state(shock: ShockConfig, year: float, industries: list[str],
                export_exposure: np.ndarray) -> ShockState:
    """The shock multipliers at fractional calendar ``year``."""
    demand = np.ones((len(REGIONS), len(industries)))
    if _active(year, shock.export_start, shock.export_years):
        # Export orders fall; an exposed industry loses in proportion to its export exposure.
        hit = np.array([name in shock.export_industries for name in industries])
        demand *= 1.0 - shock.export_size * (export_exposure * hit)[None, :]
    if _active(year, shock.sanction_start, shock.sanction_years):
        r = REGIONS.index(shock.sanction_region)
        for name in shock.sanction_industries:
            if name in industries:
                demand[r, industries.index(name)] *= 1.0 - shock.sanction_size
    if _active(year, shock.downturn_start, shock.downturn_years):
        demand *= 1.0 - shock.downturn_size
    pandemic = _active(year, shock.pandemic_start, shock.pandemic_years)
    # Eastern factories employ the migrants: their demand follows the eastern orders of the
    # industries (export orders, downturn) and falls in the pandemic.
    east_demand = float(demand[EAST].mean()) * (shock.pandemic_east_demand if pandemic else 1.0)
    border = np.ones(len(industries))
    if _active(year, shock.border_closure_start, shock.border_closure_years):
        border = 1.0 - shock.border_closure_size * export_exposure
    return ShockState(demand=demand, east_demand=east_demand,
                      logistics=shock.pandemic_logistics if pandemic else 1.0,
                      border_demand=border)
