"""The honest indicators (MODEL.md §11.3): job-years, post-support survival, spending by place,
strict JSON, range-respecting intervals, shock paths and marginal cost. Each test would fail
if its indicator broke."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from experiments.aggregate import MARGINAL_COST, marginal_cost_rows
from experiments.figures import run_paths, shock_window
from experiments.stats import (
    SHARE,
    mean_ci,
    ratio_of_paired_differences,
    shock_path_metrics,
)
from sim.codes import MONTHS_PER_YEAR
from sim.results import (
    SPENDING_USES,
    events_frame,
    strict_json,
    summary,
    timeseries_frame,
    write_run,
)
from sim.survival import post_support_spells, retained_spells, survival_at
from tests.conftest import make_config, run_sim

TEACHING_8Y = ("world=teaching", "run.years=8", "run.seed=0", "policy=baseline")


def _summary_of(*overrides: str) -> tuple[dict, pd.DataFrame]:
    sim = run_sim(*overrides)
    meta = {"run_id": "test"}
    ts = timeseries_frame(sim, meta)
    return summary(sim, ts, events_frame(sim, meta)), ts


# --- job-years and spending --------------------------------------------------------------------

def test_job_years_are_monthly_poverty_local_jobs_over_twelve():
    summ, ts = _summary_of(*TEACHING_8Y, "shock=none")
    monthly = ts.groupby("step").poverty_pop_local_jobs.sum()  # persons, every county group
    assert len(monthly) == 8 * MONTHS_PER_YEAR
    assert summ["poverty_local_job_years"] == pytest.approx(monthly.sum() / 12, rel=1e-12)
    assert summ["poverty_local_job_years"] > 0
    pov = ts[ts.kind == "poverty"]
    assert summ["local_job_years_poverty_counties"] == pytest.approx(
        pov.workers_local.sum() / 12, rel=1e-12)


def test_discounting_lowers_job_years_by_the_declared_rate():
    summ, ts = _summary_of(*TEACHING_8Y, "shock=none")
    plain, discounted = summ["poverty_local_job_years"], summ["poverty_local_job_years_discounted"]
    assert 0 < discounted < plain
    monthly = ts.groupby("step").poverty_pop_local_jobs.sum()
    factor = 1.03 ** (-monthly.index.to_numpy() / 12)
    assert discounted == pytest.approx((monthly.to_numpy() * factor).sum() / 12, rel=1e-12)


def test_spending_by_place_and_use_add_up_and_cost_per_job_year_uses_one_place():
    summ, _ = _summary_of(*TEACHING_8Y, "shock=none")
    total = summ["fiscal_cost_total"]
    assert total > 0
    by_use = sum(summ[f"spending_{use}"] for use in SPENDING_USES)
    by_place = summ["spending_poverty"] + summ["spending_central"] + summ["spending_origin"]
    assert by_use == pytest.approx(total, rel=1e-12)
    assert by_place == pytest.approx(total, rel=1e-12)
    assert summ["spending_central"] > 0  # so mixing places would change the ratio below
    assert summ["cost_per_local_job_year"] == pytest.approx(
        summ["spending_poverty"] / summ["local_job_years_poverty_counties"], rel=1e-12)


# --- survival ----------------------------------------------------------------------------------

def test_kaplan_meier_is_zero_when_every_spell_has_ended():
    assert survival_at([3, 5, 7], [True, True, True], 24) == 0.0
    assert survival_at([3, 5, 7], [True, True, True], 6) == pytest.approx(1 / 3)
    assert math.isnan(survival_at([], [], 12))  # nobody ever at risk
    # the last spell censored before t: S(t) is not identified
    assert math.isnan(survival_at([3, 5, 7], [True, True, False], 24))


def test_post_support_spells_are_timed_from_the_end_of_package_and_retention():
    spells = pd.DataFrame({
        "firm_id": [1, 2, 3, 4],
        "start_step": [0, 0, 0, 0],
        "duration_months": [70, 50, 100, 80],
        "exited": [True, True, False, True],
        "package_months": [36, 36, 36, 0],  # firm 4 had no package
    })
    post = post_support_spells(spells, 24)
    assert post.firm_id.tolist() == [1, 3]  # firm 2 exited during the retention offer
    assert post.duration_months.tolist() == [10, 40]
    no_taper = post_support_spells(spells, 0)
    assert no_taper.duration_months.tolist() == [34, 14, 64]
    # Only the spell that got a retention offer (firm 1 at month 40) is extended.
    offers = np.array([[40, 1], [90, 2]])  # firm 2's offer came after its spell ended
    retained = retained_spells(spells, offers)
    assert retained.tolist() == [True, False, False, False]
    mixed = post_support_spells(spells, np.where(retained, 24, 0))
    assert mixed.duration_months.tolist() == [10, 14, 64]


# --- strict JSON and intervals -------------------------------------------------------------------

def _reject_constant(name):
    raise ValueError(f"non-standard JSON literal {name}")


def test_summary_json_is_strict(tmp_path):
    text = strict_json({"a": float("nan"), "b": [np.float64("inf"), 1.0], "c": np.int64(2)})
    assert json.loads(text, parse_constant=_reject_constant) == {"a": None, "b": [None, 1.0],
                                                                 "c": 2}
    # a short run: post-support survival at 2 years is undefined, so it is null, not NaN
    sim = run_sim("world=teaching", "run.years=2", "run.seed=0")
    write_run(sim, tmp_path, "world: teaching\n", figures=False)
    raw = (tmp_path / "summary.json").read_text()
    assert "NaN" not in raw and "Infinity" not in raw
    record = json.loads(raw, parse_constant=_reject_constant)
    assert record["post_support_survival_2y"] is None


def test_share_interval_stays_in_the_unit_interval():
    values = np.array([0.97, 1.0, 1.0, 0.99, 1.0])
    t_high = stats.t.interval(0.95, 4, loc=values.mean(), scale=stats.sem(values))[1]
    assert t_high > 1  # the plain t interval runs outside the range
    ci = mean_ci(values, kind=SHARE)
    assert 0 <= ci["ci_low"] <= ci["mean"] <= ci["ci_high"] <= 1
    two = mean_ci([0.1, 0.9], kind=SHARE)  # t with one degree of freedom: very wide
    assert 0 <= two["ci_low"] <= two["ci_high"] <= 1
    same = mean_ci([1.0, 1.0, 1.0], kind=SHARE)
    assert same["ci_low"] == same["ci_high"] == 1.0


# --- shock paths ---------------------------------------------------------------------------------

# Orders of every local industry in the west fall by 80 % from mid-2021 for 3 years. (The
# export shock is not used here: it also cuts eastern demand for migrants, who then fill
# local vacancies, so its sign on local job-years is an outcome of the model.)
WESTERN_COLLAPSE = ("shock=sanctions", "shock.sanction_size=0.8",
                    "shock.sanction_industries=[textile_apparel,electronics_assembly,plush_toys,"
                    "hair_products,bags_shoes_hats_socks,food_processing]")


def test_a_local_demand_shock_loses_job_years_in_its_window(tmp_path):
    dirs = {}
    for name, shock in (("none", ("shock=none",)), ("shocked", WESTERN_COLLAPSE)):
        overrides = (*TEACHING_8Y, *shock)
        dirs[name] = tmp_path / name
        config_yaml = yaml.safe_dump(dataclasses.asdict(make_config(*overrides)))
        write_run(run_sim(*overrides), dirs[name], config_yaml, figures=False)
    window = shock_window(dirs["shocked"])
    assert shock_window(dirs["none"]) is None
    assert window == (round((2021.5 - 2017) * 12), round((2024.5 - 2017) * 12))
    shocked, calm = run_paths(dirs["shocked"]), run_paths(dirs["none"])
    m = shock_path_metrics(shocked.poverty_local_jobs.to_numpy(),
                           calm.poverty_local_jobs.to_numpy(), shocked.exits_poverty.to_numpy(),
                           calm.exits_poverty.to_numpy(), window)
    start, end = window
    lost = (calm.poverty_local_jobs - shocked.poverty_local_jobs).iloc[start:end].sum() / 12
    assert m["job_years_lost"] == pytest.approx(lost)
    assert m["job_years_lost"] > 0
    assert 0 < m["depth"] <= 1
    assert m["exits_brought_forward"] == m["exits_in_window"] - m["exits_added"]


def test_shock_path_metrics_on_a_known_dip():
    calm = np.full(40, 100.0)
    shocked = calm.copy()
    shocked[10:20] = [90, 80, 70, 80, 90, 95, 98, 99.5, 100, 100]
    exits_calm = np.zeros(40)
    exits_shocked = exits_calm.copy()
    exits_shocked[12] = 2  # two exits in the window ...
    exits_calm[30] = 1  # ... one of which the calm run has later: brought forward
    m = shock_path_metrics(shocked, calm, exits_shocked, exits_calm, (10, 16))
    assert m["job_years_lost"] == pytest.approx((10 + 20 + 30 + 20 + 10 + 5) / 12)
    assert m["depth"] == pytest.approx(0.3)
    assert m["recovery_months"] == 7  # 99.5 at step 17: within 1 %
    assert m["exits_in_window"] == 2 and m["exits_added"] == 1
    assert m["exits_brought_forward"] == 1


# --- marginal cost -------------------------------------------------------------------------------

def test_marginal_cost_is_null_when_the_arm_adds_no_job_years():
    base_cost, base_jobs = {0: 100.0, 1: 110.0, 2: 90.0}, {0: 50.0, 1: 55.0, 2: 45.0}
    arm_cost = {s: v + 20 for s, v in base_cost.items()}
    r = ratio_of_paired_differences(arm_cost, base_cost, dict(base_jobs), base_jobs)
    assert math.isnan(r["ratio"]) and "no job-years" in r["note"]
    fewer = {s: v - 1 for s, v in base_jobs.items()}
    assert math.isnan(ratio_of_paired_differences(arm_cost, base_cost, fewer, base_jobs)["ratio"])
    more = {0: 52.0, 1: 58.0, 2: 49.0}  # +2, +3, +4: 20 / 3 yuan per job-year
    r = ratio_of_paired_differences(arm_cost, base_cost, more, base_jobs)
    assert r["ratio"] == pytest.approx(20 / 3)
    assert r["ci_low"] <= r["ratio"] <= r["ci_high"]


def test_marginal_cost_rows_pair_arms_with_the_baseline_by_seed():
    runs = pd.DataFrame({
        "status": "complete", "seed": [0, 1, 0, 1, 0, 1],
        "policy": ["baseline"] * 2 + ["spender"] * 2 + ["adder"] * 2,
        "fiscal_cost_total": [100.0, 100.0, 200.0, 220.0, 130.0, 140.0],
        "poverty_local_job_years": [10.0, 12.0, 9.0, 12.0, 13.0, 16.0],
    })
    rows = {r["policy"]: r for r in marginal_cost_rows(runs, ["policy"])}
    assert set(rows) == {"spender", "adder"}
    assert rows["spender"]["metric"] == MARGINAL_COST
    assert math.isnan(rows["spender"]["mean"])  # 0.5 fewer job-years on average
    assert rows["adder"]["mean"] == pytest.approx(35.0 / 3.5)


def test_summary_accounts_for_every_yuan_of_the_county_budgets():
    sim = run_sim("world=teaching", "run.years=4", "policy=kpi_reform")
    s = summary(sim, timeseries_frame(sim, {}), events_frame(sim, {}))
    sources = sum(s[f"budget_from_{k}"] for k in ("transfer", "tax", "aid", "fund",
                                                  "training_programme"))
    assert s["budget_granted"] == pytest.approx(sources)
    # Granted = spent + returned to the centre + carried past the end: nothing unaccounted.
    assert s["budget_granted"] == pytest.approx(
        s["budget_spent"] + s["budget_returned"] + s["budget_carried_end"])
    assert s["budget_spent"] > 0 and s["budget_returned"] >= 0
