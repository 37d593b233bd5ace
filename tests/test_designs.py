"""Designs beyond grids: SALib samples, Sobol indices, a design sweep, the EMA export."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.design import DesignError, indices, lever_type, make_design, parse_lever
from experiments.ema import export

pytest.importorskip("SALib")
REPO = Path(__file__).resolve().parent.parent


def test_sobol_design_has_saltelli_run_counts_within_bounds():
    levers = {"policy.credibility": (0.5, 1.0), "policy.policy_years": (1.0, 5.0),
              "model.exit_patience": (3, 12)}
    first = make_design("sobol", levers, n=8, seeds=2)
    assert first.samples.shape == (8 * (3 + 2), 3)  # N (k + 2) without second order
    second = make_design("sobol", levers, n=8, seeds=2, second_order=True)
    assert second.samples.shape == (8 * (2 * 3 + 2), 3)
    for j, (lo, hi) in enumerate(levers.values()):
        assert (first.samples[:, j] >= lo).all() and (first.samples[:, j] <= hi).all()
    assert first.integer == [False, False, True]  # model.exit_patience is an int field
    assert first.point_overrides(0)[2].split("=")[1].isdigit()
    again = make_design("sobol", levers, n=8, seeds=2)
    np.testing.assert_array_equal(first.samples, again.samples)  # reproducible design
    lhs = make_design("lhs", levers, n=10, seeds=1)
    assert lhs.samples.shape == (10, 3)
    # one point per stratum of each lever: a Latin hypercube
    strata = np.floor((lhs.samples[:, 0] - 0.5) / 0.05).astype(int)
    assert sorted(strata) == list(range(10))


@pytest.mark.parametrize("bad", ["policy.kpi", "policy.nonexistent", "world"])
def test_levers_must_be_numeric_fields(bad):
    with pytest.raises(DesignError):
        lever_type(bad)


def test_lever_syntax():
    assert parse_lever("policy.credibility=0.5:1") == ("policy.credibility", 0.5, 1.0)
    for bad in ("policy.credibility=1:0.5", "policy.credibility", "x=a:b"):
        with pytest.raises(DesignError):
            parse_lever(bad)
    with pytest.raises(DesignError):
        make_design("sobol", {"policy.credibility": (0.5, 1.0)}, n=6, seeds=1)


def test_sobol_indices_recover_a_known_function():
    levers = {"policy.credibility": (0.0, 1.0), "policy.retention_share": (0.0, 1.0)}
    design = make_design("sobol", levers, n=256, seeds=2)
    x = design.samples
    y = 4.0 * x[:, 0] + 1.0 * x[:, 1]  # variance shares 16/17 and 1/17, no interaction
    rows = [{"status": "complete", "design_point": i, "seed": s,
             "poverty_pop_local_jobs_end": y[i], "survival_5y": np.nan}
            for i in range(len(x)) for s in design.seeds]
    notes: list[str] = []
    table = indices(design.to_json(), pd.DataFrame(rows), notes)
    jobs = table[table.output == "poverty_pop_local_jobs_end"].set_index("lever")
    assert jobs.loc["policy.credibility", "S1"] == pytest.approx(16 / 17, abs=0.05)
    assert jobs.loc["policy.retention_share", "S1"] == pytest.approx(1 / 17, abs=0.05)
    assert jobs.loc["policy.credibility", "ST"] == pytest.approx(16 / 17, abs=0.05)
    assert table[table.output == "survival_5y"].S1.isna().all()
    assert any("survival_5y" in n for n in notes)


def test_sobol_design_sweep_through_the_launcher_and_ema_export(tmp_path):
    sweep = tmp_path / "sobol"
    cmd = [sys.executable, "-m", "experiments.design", "sobol",
           "--lever", "policy.credibility=0.5:1", "--lever", "policy.policy_years=1:5",
           "--n", "2", "--seeds", "2", "world=teaching", "run.years=6", "run.progress=false",
           "run.figures=false", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2",
           f"hydra.sweep.dir={sweep}"]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    manifest = json.loads((sweep / "sweep.json").read_text())
    n_points = 2 * (2 + 2)
    assert len(manifest["design"]["samples"]) == n_points and len(manifest["jobs"]) == 16
    runs = pd.read_parquet(sweep / "runs.parquet")
    assert len(runs) == 16 and set(runs.status) == {"complete"}
    assert sorted(runs.design_point.unique()) == list(range(n_points))
    samples = np.array(manifest["design"]["samples"])
    for _, r in runs.iterrows():  # each run used its design point's lever values
        assert r["policy.credibility"] == pytest.approx(samples[r.design_point, 0])
        assert r["policy.policy_years"] == pytest.approx(samples[r.design_point, 1])
    sens = pd.read_csv(sweep / "sensitivity.csv")
    assert set(sens.output) == {"survival_5y", "poverty_pop_local_jobs_end"}
    assert {"S1", "ST", "S1_conf", "ST_conf"} <= set(sens.columns)
    assert sens[sens.output == "poverty_pop_local_jobs_end"][["S1", "ST"]].notna().all().all()

    rerun = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0 and rerun.stdout.count("complete; skipped") == 16

    ema = pytest.importorskip("ema_workbench")

    path = export(sweep)
    experiments, outcomes = ema.load_results(str(path))
    assert len(experiments) == 16
    assert {"policy.credibility", "policy.policy_years", "seed", "scenario", "policy",
            "model"} <= set(experiments.columns)
    assert "world" not in experiments.columns  # constant: nothing for PRIM
    np.testing.assert_allclose(outcomes["poverty_pop_local_jobs_end"],
                               runs.poverty_pop_local_jobs_end.to_numpy())
