"""Sweeps: multirun through joblib, aggregation, resume after a kill, failure records."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import sim.cli
from experiments.aggregate import MARGINAL_COST
from experiments.aggregate import main as aggregate_main
from experiments.figures import hazard_by_firm_age
from experiments.stats import mean_ci, paired_difference
from sim.jobs import sweep_name
from sim.results import SHARE_FIELDS, SUMMARY_DOC

REPO = Path(__file__).resolve().parent.parent
TEACHING = ["world=teaching", "run.years=2", "run.progress=false", "run.figures=false"]


def _sweep(sweep_dir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "sim", "-m", *args, *TEACHING,
                           f"hydra.sweep.dir={sweep_dir}"], capture_output=True, text=True,
                          timeout=600, cwd=REPO)
    if check:
        assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def test_mean_ci_is_the_t_interval():
    x = np.array([1.0, 2.0, 4.0, 7.0, np.nan])
    got = mean_ci(x)
    finite = x[np.isfinite(x)]
    lo, hi = stats.t.interval(0.95, len(finite) - 1, loc=finite.mean(), scale=stats.sem(finite))
    assert got["n"] == 4
    assert got["mean"] == pytest.approx(3.5)
    assert got["ci_low"] == pytest.approx(lo) and got["ci_high"] == pytest.approx(hi)
    assert np.isnan(mean_ci([5.0])["ci_low"]) and mean_ci([])["n"] == 0


def test_paired_difference_pairs_by_seed():
    arm = {0: 10.0, 1: 12.0, 2: 20.0, 5: 1.0}
    base = {0: 9.0, 1: 10.0, 2: 17.0, 3: 50.0}  # seed 3 and 5 have no partner
    d = paired_difference(arm, base)
    assert d["n_pairs"] == 3
    assert d["diff_mean"] == pytest.approx(2.0)
    lo, hi = stats.t.interval(0.95, 2, loc=2.0, scale=stats.sem([1.0, 2.0, 3.0]))
    assert d["diff_ci_low"] == pytest.approx(lo) and d["diff_ci_high"] == pytest.approx(hi)


def test_hazard_by_firm_age_handles_late_entry_and_censoring():
    rng = np.random.default_rng(1)
    n, rate = 20_000, 0.10  # exits per firm-year, constant
    age_start = rng.choice([0.0, 24.0], n)  # half the spells begin at age 2 (relocations)
    life = rng.exponential(12.0 / rate, n)  # months until exit
    follow = rng.uniform(0, 96, n)  # censoring
    duration = np.minimum(life, follow)
    h = hazard_by_firm_age(age_start, duration, life <= follow).set_index("age_year")
    for year in (1, 2, 3, 5):
        assert h.loc[year, "hazard"] == pytest.approx(1 - np.exp(-rate), abs=0.015)
        assert h.loc[year, "lo"] < h.loc[year, "hazard"] < h.loc[year, "hi"]
    # firm-years at risk in age year 3 come from both groups, in year 1 only from new firms
    assert h.loc[3, "exposure"] > h.loc[1, "exposure"]


def test_sweep_name_is_stable_and_ignores_the_launcher():
    a = sweep_name(["policy=baseline,kpi_reform", "run.seed=range(10)", "world=teaching"])
    b = sweep_name(["world=teaching", "run.seed=range(10)", "policy=baseline,kpi_reform",
                    "hydra/launcher=joblib", "hydra.launcher.n_jobs=2"])
    c = sweep_name(["policy=baseline,kpi_reform", "run.seed=range(11)", "world=teaching"])
    assert a == b
    assert a != c
    assert a.startswith("policy=baseline,kpi_reform__run.seed=range10")
    assert set(a) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._,=+-")


def test_two_by_two_teaching_sweep_through_joblib(tmp_path):
    sweep = tmp_path / "sweep"
    proc = _sweep(sweep, "policy=baseline,kpi_reform", "run.seed=0,1", "hydra/launcher=joblib",
                  "hydra.launcher.n_jobs=2")
    assert "Difference from the baseline arm" in proc.stdout
    runs = pd.read_parquet(sweep / "runs.parquet")
    assert len(runs) == 4 and set(runs.status) == {"complete"}
    assert runs.run_id.is_unique and runs.job.is_unique
    assert sorted(zip(runs.policy, runs.seed, strict=True)) == [
        ("baseline", 0), ("baseline", 1), ("kpi_reform", 0), ("kpi_reform", 1)]
    assert set(SUMMARY_DOC) | {"run_id", "seed", "policy", "world", "shock", "status",
                               "run.years"} <= set(runs.columns)
    for _, r in runs.iterrows():  # each row is the summary its job wrote
        summary = json.loads((sweep / r.job / "summary.json").read_text())
        assert summary["run_id"] == r.run_id
        assert summary["poverty_pop_local_jobs_end"] == r.poverty_pop_local_jobs_end

    comp = pd.read_csv(sweep / "comparison.csv")
    # every summary field per arm, and the marginal cost of the non-baseline arm
    assert len(comp) == 2 * len(SUMMARY_DOC) + 1
    assert set(comp.metric) == set(SUMMARY_DOC) | {MARGINAL_COST}
    for metric in SHARE_FIELDS:  # shares keep their intervals inside [0, 1]
        rows = comp[(comp.metric == metric) & comp.ci_low.notna()]
        assert ((rows.ci_low >= 0) & (rows.ci_high <= 1)).all(), metric
    metric = "poverty_pop_local_jobs_end"
    for arm in ("baseline", "kpi_reform"):
        row = comp[(comp.policy == arm) & (comp.metric == metric)].iloc[0]
        values = runs[runs.policy == arm].sort_values("seed")[metric].to_numpy()
        assert row.n == 2 and row.runs_complete == 2
        assert row["mean"] == pytest.approx(values.mean())
        assert row.sd == pytest.approx(values.std(ddof=1))
        assert row.ci_low <= row["mean"] <= row.ci_high
    base = runs[runs.policy == "baseline"].set_index("seed")[metric]
    arm = runs[runs.policy == "kpi_reform"].set_index("seed")[metric]
    reform = comp[(comp.policy == "kpi_reform") & (comp.metric == metric)].iloc[0]
    assert reform.n_pairs == 2
    assert reform.diff_mean == pytest.approx((arm - base).mean())
    assert comp[(comp.policy == "baseline")].n_pairs.eq(0).all()
    for name in ("km_survival.png", "hazard_by_age.png", "poverty_local_jobs.png", "table.md",
                 "frontier.png", "frontier.csv"):
        assert (sweep / name).stat().st_size > 0, name
    manifest = json.loads((sweep / "sweep.json").read_text())
    assert sorted(job["subdir"] for job in manifest["jobs"]) == sorted(runs.job)

    # Aggregating again from the command line gives the same tables.
    before = runs.copy()
    assert aggregate_main([str(sweep), "--no-figures", "--quiet"]) == 0
    pd.testing.assert_frame_equal(pd.read_parquet(sweep / "runs.parquet"), before)


def _complete(sweep: Path) -> dict[Path, int]:
    return {p.parent: p.stat().st_mtime_ns for p in sweep.rglob("complete.json")}


def test_killed_sweep_resumes_without_duplicates(tmp_path):
    sweep = tmp_path / "sweep"
    args = ["policy=baseline,kpi_reform", "run.seed=0,1,2,3", "hydra/launcher=joblib",
            "hydra.launcher.n_jobs=2"]
    cmd = [sys.executable, "-m", "sim", "-m", *args, *TEACHING, f"hydra.sweep.dir={sweep}"]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while not _complete(sweep) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the sweep and its joblib workers
        proc.wait()
    before = _complete(sweep)
    assert 0 < len(before) < 8, "the sweep must be killed half way"

    # The aggregate of the killed sweep names the runs that are missing.
    assert aggregate_main([str(sweep), "--no-figures", "--quiet"]) == 1
    runs = pd.read_parquet(sweep / "runs.parquet")
    assert len(runs) == 8
    assert (runs.status == "complete").sum() == len(before)
    assert (runs.status == "missing").sum() == 8 - len(before)

    done = _sweep(sweep, *args)
    assert done.stdout.count("complete; skipped") == len(before)
    after = _complete(sweep)
    assert len(after) == 8
    assert all(after[d] == t for d, t in before.items()), "complete runs were not rerun"
    runs = pd.read_parquet(sweep / "runs.parquet")
    assert len(runs) == 8 and set(runs.status) == {"complete"}
    assert runs.job.is_unique and runs.run_id.is_unique
    assert not (runs[["policy", "seed"]].duplicated()).any()


def test_failed_run_is_recorded_and_does_not_stop_the_others(tmp_path, monkeypatch):
    real = sim.cli.make_simulation

    def failing(config):
        if config.run.seed == 1:
            raise RuntimeError("injected failure for seed 1")
        return real(config)

    sweep = tmp_path / "sweep"
    argv = ["-m", "policy=baseline,kpi_reform", "run.seed=0,1", *TEACHING,
            f"hydra.sweep.dir={sweep}", "hydra.callbacks.aggregate.figures=false"]
    monkeypatch.setattr(sys, "argv", ["sim"])
    monkeypatch.setattr(sim.cli, "make_simulation", failing)
    with pytest.raises(SystemExit) as exit_info:
        sim.cli.main(list(argv))  # the basic launcher runs the jobs in this process
    assert exit_info.value.code == 1
    runs = pd.read_parquet(sweep / "runs.parquet").set_index(["policy", "seed"])
    assert runs.loc[("baseline", 0), "status"] == "complete"
    assert runs.loc[("kpi_reform", 0), "status"] == "complete"
    for arm in ("baseline", "kpi_reform"):
        assert runs.loc[(arm, 1), "status"] == "failed"
        assert "injected failure for seed 1" in runs.loc[(arm, 1), "error"]
        error = json.loads((sweep / runs.loc[(arm, 1), "job"] / "error.json").read_text())
        assert "RuntimeError" in error["traceback"]
    comp = pd.read_csv(sweep / "comparison.csv")
    assert comp.runs_failed.eq(1).all() and comp.runs_complete.eq(1).all()

    # A rerun retries the failed runs only and clears their error records.
    monkeypatch.setattr(sim.cli, "make_simulation", real)
    sim.cli.main(list(argv))
    runs = pd.read_parquet(sweep / "runs.parquet")
    assert set(runs.status) == {"complete"} and len(runs) == 4
    assert not list(sweep.rglob("error.json"))
