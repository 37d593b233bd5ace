"""The calibration pipeline end to end on the teaching world with a tiny budget: screening,
two waves of history matching, the estimate and its check, the preset and the validation
report -- and the moments come from the simulation, never from the targets."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import yaml

from experiments import calibrate, validation
from experiments.moments import HELD_OUT, TARGETS, hill_tail, moments
from sim.config import compose
from sim.engine import Simulation


def test_hill_estimator_recovers_a_pareto_tail():
    rng = np.random.default_rng(0)
    sizes = (1 - rng.random(20_000)) ** (-1 / 1.2)
    assert abs(hill_tail(sizes) - 1.2) < 0.1


def test_moments_are_simulated_not_typed_in():
    a = Simulation(compose(["world=teaching", "run.years=3", "run.seed=1"]))
    a.run()
    b = Simulation(compose(["world=teaching", "run.years=3", "run.seed=1",
                            "model.income_scale=1400"]))
    b.run()
    ma, mb = moments(a), moments(b)
    assert set(ma) == set(TARGETS)
    assert ma["outbound_share"] != mb["outbound_share"]  # a parameter moves a moment
    assert all(ma[k] != TARGETS[k].value for k in ma)


def test_pipeline_runs_and_writes_a_preset_and_a_report(tmp_path):
    out = tmp_path / "calibration"
    budget = calibrate.BUDGETS["tiny"]
    estimate = calibrate.calibrate(["world=teaching", "run.years=3"], budget, 2, out)
    for name in ("morris.csv", "design.csv", "plausible.csv", "estimate.json"):
        assert (out / name).exists(), name
    morris = pd.read_csv(out / "morris.csv")
    assert set(morris.parameter) == {p.path for p in calibrate.PARAMETERS}
    assert not set(HELD_OUT) & set(morris.moment)  # held out: never screened or fitted
    ranges = {p.path: p for p in calibrate.PARAMETERS}
    assert len(estimate["parameters"]) == budget.keep
    for name, value in estimate["parameters"].items():
        lo, hi = estimate["plausible_ranges"][name]
        assert ranges[name].lo <= lo <= value <= hi <= ranges[name].hi
    preset = tmp_path / "preset.yaml"
    calibrate.write_preset(estimate, preset)
    fitted = yaml.safe_load(preset.read_text())
    cfg = compose(["world=teaching"] + [f"{section}.{k}={v}" for section, values in
                                        fitted.items() for k, v in values.items()])
    for name, value in estimate["parameters"].items():
        section, key = name.split(".")
        assert getattr(getattr(cfg, section), key) == value
    report_dir = tmp_path / "validation"
    validation.main(["world=teaching", "--seeds", "2", "--out", str(report_dir),
                     "--calibration", str(out)])
    table = pd.read_csv(report_dir / "moments.csv")
    assert set(table.moment) == set(TARGETS)
    assert set(table.result) <= {"pass", "miss"}
    text = (report_dir / "report.md").read_text()
    assert "Held-out cases" in text and "plausible range" in text
    assert json.loads((out / "estimate.json").read_text())["runs"] > 0
