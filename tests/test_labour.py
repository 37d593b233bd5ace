"""The labour market of MODEL.md §11.2: one valuation of every option whatever the worker's
status, finite eastern demand with a matching function, and the Harris-Todaro limit."""

from __future__ import annotations

import numpy as np
import pytest

from sim import kernels as K
from sim.codes import HOME, LOCAL, MONTHS_PER_YEAR, ORIGIN, OUTBOUND, OUTBOUND_SEEKING
from sim.engine import Simulation
from sim.engine.labour import EAST_COLUMNS
from sim.rules import employment_chance, matching_finding_rate, outbound_wage, worker_wage
from tests.conftest import make_config, run_sim

EAST = {name: j for j, name in enumerate(EAST_COLUMNS)}
# A frictionless world: one origin and one poverty county, identical workers (no skill or
# experience premium), no migration, care or age costs, no inertia, slow search (so that
# the synchronous monthly update does not overshoot).
FRICTIONLESS = ("world=teaching", "world.n_origin=1", "world.n_central=0", "world.n_poverty=1",
                "world.n_key_assistance=0", "world.n_resettlement=0", "world.worker_agents=3000",
                "model.migration_cost=0", "model.care_cost=0", "model.age_cost=0",
                "model.switching_inertia=0", "model.income_scale=100", "model.search_prob=0.05",
                "model.skill_premium_slope=0", "model.experience_premium=0", "run.years=15")


def _expected_incomes(sim: Simulation) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each inland worker's expected income of a local job, outbound work and home."""
    p, m, s, w = sim.params, sim.month, sim.state, sim.workers
    inland = sim.counties.kind[w.home_county] != ORIGIN
    c = w.home_county[inland]
    wage = np.array([worker_wage(p, m.wage[ci], m.min_wage[ci], sk)
                     for ci, sk in zip(c, w.skill[inland], strict=True)])
    local = wage * s.local_employment[c]
    outbound = (outbound_wage(p, m.wage_east, w.skill[inland], w.experience_months[inland])
                * m.outbound_employment - m.living_cost)
    return local, outbound, m.home_income[c]


def test_harris_todaro_limit_equalises_the_expected_incomes_of_the_options_taken():
    sim = Simulation(make_config(*FRICTIONLESS))
    incomes = []
    while sim.step_index < sim.n_steps:
        sim.step()
        if sim.step_index > sim.n_steps - 2 * MONTHS_PER_YEAR:
            incomes.append([x.mean() for x in _expected_incomes(sim)])
    local, outbound, home = np.mean(incomes, axis=0)
    counts = sim.state.status_counts[sim.counties.kind != ORIGIN].sum(axis=0)
    share = counts / counts.sum()
    # Local jobs and outbound work are both taken, and their expected incomes agree...
    assert share[LOCAL] > 0.2 and share[OUTBOUND] + share[OUTBOUND_SEEKING] > 0.2
    assert abs(local - outbound) / (0.5 * (local + outbound)) < 0.05
    # ...while home pays less and is (nearly) empty: a corner, not a counterexample.
    assert home < min(local, outbound) and share[HOME] < 0.1


def test_valuation_does_not_depend_on_status_except_moving_costs_and_inertia():
    sim = run_sim("world=teaching", "run.years=1")
    p = sim.params._replace(switching_inertia=0.0, migration_cost=0.0)
    values = {}
    for status, seeking in ((HOME, False), (HOME, True), (LOCAL, False), (OUTBOUND, False),
                            (OUTBOUND_SEEKING, False)):
        v = np.empty(3)
        K.option_values(p, sim.month, status, seeking, 0.4, 24, False, 30, False, 4000.0,
                        2000.0, 0.7, 1800.0, 0.0, v)
        values[(status, seeking)] = v
    first = values[(HOME, False)]
    for v in values.values():
        np.testing.assert_allclose(v, first, rtol=0, atol=0)
    # Inertia favours the current option only; the migration cost applies to those not away.
    p = sim.params._replace(switching_inertia=1.0, migration_cost=600.0)
    at_home, away = np.empty(3), np.empty(3)
    K.option_values(p, sim.month, HOME, False, 0.4, 24, False, 30, False, 4000.0, 2000.0,
                    0.7, 1800.0, 0.0, at_home)
    K.option_values(p, sim.month, OUTBOUND, False, 0.4, 24, False, 30, False, 4000.0, 2000.0,
                    0.7, 1800.0, 0.0, away)
    assert at_home[K.OPTION_HOME] == pytest.approx(away[K.OPTION_HOME] + 1.0)
    assert away[K.OPTION_OUTBOUND] == pytest.approx(at_home[K.OPTION_OUTBOUND] + 1.0
                                                    + 600.0 / p.income_scale)


def test_matching_function_congests_and_employment_chance_follows():
    rates = [matching_finding_rate(0.6, 0.5, seekers, 50.0) for seekers in (10, 100, 400)]
    assert rates[0] > rates[1] > rates[2] > 0
    assert matching_finding_rate(0.6, 0.5, 100.0, 0.0) == 0.0
    assert matching_finding_rate(0.6, 0.5, 1.0, 1e6) == 1.0  # never more hires than seekers
    assert employment_chance(90.0, 10.0, 0.5) == pytest.approx(0.95)
    assert employment_chance(90.0, 10.0, 0.0) < employment_chance(90.0, 10.0, 0.5)


def test_finite_eastern_demand_makes_the_outbound_share_an_outcome():
    tight = run_sim("world=teaching", "run.years=6", "model.east_demand_ratio=0.7")
    loose = run_sim("world=teaching", "run.years=6", "model.east_demand_ratio=1.4")

    def outbound_share(sim):
        counts = sim.state.status_counts[sim.counties.kind != ORIGIN].sum(axis=0)
        return (counts[OUTBOUND] + counts[OUTBOUND_SEEKING]) / counts.sum()

    # Less eastern demand: seekers find jobs less often, the wage is lower, fewer go out.
    last_years = slice(-2 * MONTHS_PER_YEAR, None)
    assert (tight.record.east[last_years, EAST["east_finding"]].mean()
            < loose.record.east[last_years, EAST["east_finding"]].mean())
    assert (tight.record.east[last_years, EAST["east_wage"]].mean()
            < loose.record.east[last_years, EAST["east_wage"]].mean())
    assert outbound_share(tight) < outbound_share(loose) - 0.03


def test_pandemic_cuts_eastern_demand_and_job_finding_in_its_window():
    base = run_sim("world=teaching", "run.years=6")
    pandemic = run_sim("world=teaching", "run.years=6", "shock=pandemic_2020")
    window = slice(3 * MONTHS_PER_YEAR + 1, 5 * MONTHS_PER_YEAR)  # 2020-2021 (after a month)
    for column in ("east_demand", "east_finding"):
        j = EAST[column]
        assert pandemic.record.east[window, j].mean() < base.record.east[window, j].mean()
    before = slice(0, 3 * MONTHS_PER_YEAR)
    np.testing.assert_array_equal(pandemic.record.east[before], base.record.east[before])
