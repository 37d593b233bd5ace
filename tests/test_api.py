"""sim.run: the command line's run from Python, its result object and its one-line errors."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pandas as pd
import pytest
from hydra import compose as hydra_compose
from hydra import initialize_config_dir
from omegaconf import OmegaConf

import sim
from sim.api import RunInputError
from sim.cli import InputError, preflight
from sim.config import CONFIG_DIR, ConfigError, compose, register_configs
from sim.engine import Simulation
from sim.results import SUMMARY_DOC, events_frame, run_id_for, summary, timeseries_frame

SETTINGS = {"policy.rent_waiver": 0.3, "model.search_prob": 0.2}
OVERRIDES = ["world=teaching", "policy=kpi_reform", "run.seed=3", "run.years=2",
             "policy.rent_waiver=0.3", "model.search_prob=0.2"]


@pytest.fixture(scope="module")
def result():
    return sim.run(world="teaching", policy="kpi_reform", seed=3, years=2, **SETTINGS)


def _cli_yaml(overrides: list[str]) -> str:
    """The config.yaml ``python -m sim OVERRIDES`` writes (Hydra's composition, resolved)."""
    register_configs()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        return OmegaConf.to_yaml(hydra_compose(config_name="config", overrides=overrides),
                                 resolve=True)


def test_run_is_the_command_lines_run(result):
    assert result.config.policy.rent_waiver == 0.3 and result.config.model.search_prob == 0.2
    assert isinstance(result.config.model.search_prob, float)
    assert result.config.policy.name == "kpi_reform" and result.config.run.years == 2
    # Same configuration as the command line (its run id), same indicators as its engine.
    assert result.run_id == run_id_for(_cli_yaml(OVERRIDES))
    cli = Simulation(compose(OVERRIDES))
    cli.run()
    expected = summary(cli, timeseries_frame(cli, {}), events_frame(cli, {}))
    got = {k: result.summary[k] for k in expected}
    assert got == pytest.approx(expected, nan_ok=True)
    assert list(result.summary)[:5] == ["run_id", "seed", "world", "policy", "shock"]
    assert set(SUMMARY_DOC) <= set(result.summary) and result.summary["steps"] == 24


def test_result_tables_are_the_run_directorys(result, tmp_path):
    ts = result.timeseries
    assert ts.step.min() == 0 and ts.step.max() == 23
    assert (ts.run_id == result.run_id).all() and (ts.seed == 3).all()
    assert "event_code" not in result.firm_events and set(result.firm_events.event) <= {
        "enter", "relocate", "exit"}
    gov = result.government
    assert sorted(gov.year.unique()) == [2017, 2018]
    assert np.allclose(gov.granted + gov.carried_in, gov.spent_total + gov.carried
                       + gov.returned)
    assert len(result.firms_end) == result.summary["firms_alive_end"]
    assert not result.industry.empty
    out = result.save(tmp_path / "run")
    written = json.loads((out / "summary.json").read_text())
    assert written["run_id"] == result.run_id
    assert written["poverty_local_job_years"] == pytest.approx(
        result.summary["poverty_local_job_years"])
    pd.testing.assert_frame_equal(pd.read_parquet(out / "timeseries.parquet"), ts,
                                  check_dtype=False, check_categorical=False)
    assert "run_id='" in repr(result)


def test_same_call_same_run_and_the_seed_matters(result):
    again = sim.run(world="teaching", policy="kpi_reform", seed=3, years=2, **SETTINGS)
    other = sim.run(world="teaching", policy="kpi_reform", seed=4, years=2, **SETTINGS)
    pd.testing.assert_frame_equal(again.timeseries, result.timeseries)
    assert not np.array_equal(other.timeseries.workers_local, result.timeseries.workers_local)


def _cli_error(overrides: list[str]) -> str:
    with pytest.raises(InputError) as info:
        preflight(overrides)
    return str(info.value)


@pytest.mark.parametrize("kwargs, overrides", [
    ({"policy.credibility": 1.5}, ["policy.credibility=1.5"]),
    ({"world.n_key_assistance": 99}, ["world=teaching", "world.n_key_assistance=99"]),
    ({"policy.kpi": "nobody"}, ["policy.kpi=nobody"]),
    ({"shock": "meteor"}, ["shock=meteor"]),
])
def test_bad_values_give_the_command_lines_one_line_error(kwargs, overrides):
    expected = _cli_error(overrides)
    with pytest.raises(RunInputError) as info:
        sim.run(world="teaching", years=1, **kwargs)
    assert str(info.value) == expected
    assert isinstance(info.value, ValueError) and isinstance(info.value, ConfigError)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("kwargs, message", [
    ({"policy.rent_waivr": 0.3}, "policy.rent_waivr is not a configuration field; did you "
                                 "mean policy.rent_waiver?"),
    ({"model": {"search_prob": 0.2}}, "model is a config group; set its fields by dotted name"),
    ({"run.years": 2.5}, "run.years = 2.5 must be a whole number"),
    ({"policy.credibility": "high"}, "policy.credibility = 'high' must be a number"),
    ({"policy.central_packages": 1}, "policy.central_packages = 1 must be True or False"),
    ({"world.industries": "plush_toys"}, "world.industries = 'plush_toys' must be a list"),
    ({"run.seed": 2, "seed": 1}, "run.seed is given twice"),
])
def test_other_bad_settings_stop_before_any_work_in_one_line(kwargs, message):
    with pytest.raises(RunInputError, match="^" + re.escape(message)):
        sim.run(world="teaching", **kwargs)


def test_whole_floats_and_ints_are_stored_as_the_schema_types():
    cfg = sim.api.make_config("teaching", **{"run.years": 3.0, "policy.wage_subsidy": 400,
                                             "run.seed": np.int64(5),
                                             "policy.credibility": np.float64(0.5)})
    assert cfg.run.years == 3 and isinstance(cfg.run.years, int)
    assert cfg.run.seed == 5 and type(cfg.run.seed) is int
    assert type(cfg.policy.credibility) is float
    assert isinstance(cfg.policy.wage_subsidy, float)
    assert math.isclose(cfg.policy.wage_subsidy, 400.0)
