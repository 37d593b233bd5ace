"""experiments.ema: the EMA Workbench model runs with perform_experiments; the export warns
when PRIM would have no input to work with."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import sim
from experiments.ema import (
    LEVERS,
    OUTCOMES,
    POLICY_PRESET,
    UNCERTAINTIES,
    ema_model,
    ema_tables,
    warn_if_no_input_varies,
)
from sim.api import RunInputError
from sim.config import KPI_REGIMES

ema = pytest.importorskip("ema_workbench")


def test_perform_experiments_runs_the_model_with_the_sampled_inputs():
    model = ema_model(world="teaching", years=2, seed=5,
                      levers={"policy.policy_years": (1, 5), "policy.kpi": None},
                      uncertainties={"model.search_prob": (0.05, 0.3),
                                     "shock": ["none", "export_2022"]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # EMA 3.0's own deprecations
        experiments, outcomes = ema.perform_experiments(
            model, scenarios=2, policies=2, evaluator=ema.SequentialEvaluator(model))
    assert len(experiments) == 4
    assert {"policy_years", "kpi", "search_prob", "shock"} <= set(experiments.columns)
    assert set(outcomes) == set(OUTCOMES)
    assert all(len(values) == 4 for values in outcomes.values())
    assert np.isfinite(outcomes["poverty_local_job_years"]).all()
    assert np.unique(outcomes["poverty_local_job_years"]).size > 1  # the inputs matter
    # Each row is the run sim.run gives for its inputs.
    row = experiments.iloc[3]
    again = sim.run(world="teaching", years=2, seed=5, shock=str(row["shock"]),
                    **{"policy.policy_years": float(row["policy_years"]),
                       "policy.kpi": str(row["kpi"]),
                       "model.search_prob": float(row["search_prob"])})
    for name in OUTCOMES:
        assert outcomes[name][3] == pytest.approx(again.summary[name], nan_ok=True)


def test_default_levers_and_uncertainties_take_types_and_choices_from_the_schema():
    model = ema_model()
    levers = {p.name: p for p in model.levers}
    uncertainties = {p.name: p for p in model.uncertainties}
    assert len(levers) == len(LEVERS) and len(uncertainties) == len(UNCERTAINTIES)
    assert isinstance(levers["kpi"], ema.CategoricalParameter)
    assert [c.value for c in levers["kpi"].categories] == list(KPI_REGIMES)
    assert isinstance(levers["policy_years"], ema.RealParameter)
    assert isinstance(uncertainties["age_cost_from"], ema.IntegerParameter)  # an int field
    assert list(uncertainties["age_cost_from"].variable_name) == ["model.age_cost_from"]
    assert "none" in [c.value for c in uncertainties["shock"].categories]
    assert [o.name for o in model.outcomes] == list(OUTCOMES)
    assert {c.name for c in model.constants} == {"world", "policy", "years", "seed", "outcomes"}
    # Seeds or a preset varied by EMA replace the constant of the same name.
    varied = ema_model(levers={"run.seed": (0, 9), "policy": ["baseline", "kpi_reform"]},
                       uncertainties={})
    assert {c.name for c in varied.constants} == {"world", "years", "outcomes"}
    assert isinstance({p.name: p for p in varied.levers}["seed"], ema.IntegerParameter)


@pytest.mark.parametrize("kwargs, message", [
    ({"levers": {"policy.rent_waivr": (0, 1)}}, "policy.rent_waivr is not a configuration "
                                                "field; did you mean policy.rent_waiver?"),
    ({"levers": {"policy.credibility": (0.5, 1.5)}}, "policy.credibility range [0.5, 1.5] is "
                                                     "outside the allowed [0, 1]"),
    ({"levers": {"policy.kpi": ["count", "bonus"]}}, "policy.kpi = 'bonus' is not allowed"),
    ({"uncertainties": {"shock": ["meteor"]}}, "shock = 'meteor' is not a known shock"),
    ({"outcomes": ["happiness"]}, "outcome 'happiness' is not a summary field"),
])
def test_bad_parameters_stop_in_one_line(kwargs, message):
    with pytest.raises(RunInputError) as info:
        ema_model(**kwargs)
    assert str(info.value).startswith(message) and "\n" not in str(info.value)


def _runs(policies: list[str]) -> pd.DataFrame:
    n = len(policies)
    return pd.DataFrame({"status": ["complete"] * n, "seed": range(n), "policy": policies,
                         "world": ["teaching"] * n, "survival_5y": np.linspace(0.5, 0.9, n)})


def test_export_warns_when_only_seeds_vary_and_keeps_a_varied_policy_preset():
    experiments, _ = ema_tables(_runs(["baseline"] * 4), ["world", "policy", "seed"],
                                ["survival_5y"])
    with pytest.warns(UserWarning, match="no input varies"):
        assert warn_if_no_input_varies(experiments, "sweep")
    experiments, outcomes = ema_tables(_runs(["baseline", "kpi_reform"] * 2),
                                       ["world", "policy", "seed"], ["survival_5y"])
    assert experiments[POLICY_PRESET].astype(str).tolist() == ["baseline", "kpi_reform"] * 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not warn_if_no_input_varies(experiments, "sweep")
    assert outcomes["survival_5y"].shape == (4,)
