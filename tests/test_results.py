"""Run outputs: Kaplan-Meier, spells, CLI files, and the seeded regression baseline."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.survival import kaplan_meier, kaplan_meier_band, poverty_spells, survival_at
from tests.baseline.cases import BASELINE, CASES, HEADLINE, record_case


def test_kaplan_meier_matches_lifelines():
    lifelines = pytest.importorskip("lifelines")
    rng = np.random.default_rng(0)
    d = rng.integers(1, 60, 300).astype(float)
    e = rng.random(300) < 0.6
    kmf = lifelines.KaplanMeierFitter().fit(d, e)
    for t in (6, 24, 36, 59):
        assert survival_at(d, e, t) == pytest.approx(float(kmf.predict(t)), abs=1e-12)
    times, surv = kaplan_meier(d, e)
    assert np.all(np.diff(surv) <= 0)
    assert np.allclose(surv, kmf.survival_function_.loc[times].to_numpy().ravel(),
                       rtol=0, atol=1e-12)


@pytest.mark.parametrize("case", ["censored", "all_exit", "one_spell", "no_exit"])
def test_kaplan_meier_band_matches_lifelines(case):
    """The 95 % band is lifelines' default (exponential Greenwood), also where S reaches 0."""
    lifelines = pytest.importorskip("lifelines")
    rng = np.random.default_rng(1)
    d = rng.integers(1, 40, 200).astype(float)
    e = {"censored": rng.random(200) < 0.5, "all_exit": np.ones(200, bool),
         "one_spell": np.ones(200, bool), "no_exit": np.zeros(200, bool)}[case]
    if case == "one_spell":
        d, e = d[:1], e[:1]
    km = kaplan_meier_band(d, e)
    if case == "no_exit":
        assert km.times.size == km.survival.size == km.lower.size == km.upper.size == 0
        return
    kmf = lifelines.KaplanMeierFitter().fit(d, e)
    band = kmf.confidence_interval_survival_function_.loc[km.times].to_numpy()
    assert np.allclose(km.survival, kmf.survival_function_.loc[km.times].to_numpy().ravel(),
                       rtol=0, atol=1e-12)
    assert np.allclose(km.lower, band[:, 0], rtol=0, atol=1e-12)
    assert np.allclose(km.upper, band[:, 1], rtol=0, atol=1e-12)
    assert np.all((km.lower <= km.survival) & (km.survival <= km.upper))
    assert np.array_equal(kaplan_meier(d, e)[1], km.survival)


def test_spells_censor_moves_and_count_exits():
    kind = np.array([0, 2, 2])
    ev = pd.DataFrame({
        "firm_id": [1, 1, 1, 2, 2, 3],
        "step": [0, 10, 30, 5, 20, 7],
        "event_code": [0, 1, 2, 0, 2, 0],  # enter, relocate, exit
        "county": [1, 2, 2, 0, 0, 1],
        "package_months": [36, 36, 36, 0, 0, 36],
    })
    spells = poverty_spells(ev, kind, end_step=50).sort_values(["firm_id", "start_step"])
    assert spells.firm_id.tolist() == [1, 1, 3]
    assert spells.duration_months.tolist() == [10, 20, 43]
    assert spells.exited.tolist() == [False, True, False]


def _run_cli(out: Path, *args: str) -> dict:
    subprocess.run([sys.executable, "-m", "sim", *args, "run.progress=false",
                    f"hydra.run.dir={out}"], check=True, capture_output=True, timeout=300)
    return json.loads((out / "summary.json").read_text())


def test_cli_writes_every_output(tmp_path):
    out = tmp_path / "run"
    summary = _run_cli(out, "world=teaching", "run.years=3")
    for name in ("config.yaml", "timeseries.parquet", "firm_events.parquet",
                 "firms_end.parquet", "summary.json", "labor_and_firms.png", "survival.png"):
        assert (out / name).stat().st_size > 0, name
    ts = pd.read_parquet(out / "timeseries.parquet")
    need = {"run_id", "seed", "step", "year", "region", "kind", "workers_local",
            "workers_outbound", "workers_home", "workers_total", "poverty_pop_local_jobs",
            "firms_alive", "entries", "exits", "relocations_in", "relocations_out",
            "mean_wage_local", "output_value", "subsidies_paid"}
    assert need <= set(ts.columns)
    assert len(ts) == 36 * ts.groupby(["region", "kind"]).ngroups
    assert np.allclose(ts.workers_local + ts.workers_outbound + ts.workers_home,
                       ts.workers_total)
    assert ts.workers_total.sum() / 36 == pytest.approx(4000 * 20)  # persons, not agents
    ev = pd.read_parquet(out / "firm_events.parquet")
    assert {"step", "firm_id", "event", "county", "region", "kind", "industry", "age_months",
            "subsidised", "reason"} <= set(ev.columns)
    assert set(ev.event.unique()) <= {"enter", "relocate", "exit"}
    fe = pd.read_parquet(out / "firms_end.parquet")
    assert {"firm_id", "county", "region", "kind", "industry", "employees", "age_months",
            "subsidised"} <= set(fe.columns)
    assert len(fe) == summary["firms_alive_end"]
    for key in ("firms_alive_end", "firms_entered", "firms_exited", "firms_relocated",
                "survival_3y", "survival_5y", "post_expiry_survival_2y",
                "local_jobs_poverty_end", "poverty_pop_local_jobs_end", "outbound_share_end",
                "mean_wage_local_end", "mean_wage_outbound_end", "fiscal_cost_total",
                "cost_per_local_job_year", "output_poverty_total", "poverty_local_job_years",
                "poverty_local_job_years_discounted", "local_job_years_poverty_counties",
                "post_support_survival_1y", "post_support_survival_2y", "spending_poverty",
                "spending_central", "spending_packages", "spending_training",
                "spending_infrastructure"):
        assert key in summary
    assert summary["firms_entered"] == int((ev.event == "enter").sum())
    assert 0 < summary["outbound_share_end"] < 1


@pytest.mark.parametrize("case", sorted(CASES))
def test_regression_baseline(case):
    """Seeded baseline; refresh only with ``python scripts/refresh_baseline.py``."""
    expected = json.loads(BASELINE.read_text())[case]
    for key in HEADLINE:  # the baseline guards numbers, not NaN == NaN
        assert not math.isnan(expected[key]), f"{case}: {key} is NaN in the baseline"
    got = record_case(CASES[case])
    assert set(got) == set(expected)
    for key, value in expected.items():
        if isinstance(value, float):
            assert got[key] == pytest.approx(value, rel=1e-9), f"{case}: {key}"
        else:
            assert got[key] == value, f"{case}: {key}"
