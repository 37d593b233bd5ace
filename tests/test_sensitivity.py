"""The Sobol analysis doubles its sample on the same sequence and reports what it reached."""

from pathlib import Path

import numpy as np

from experiments import sensitivity
from experiments.uncertainty import INDICATORS


def test_sobol_doubling_reuses_runs_and_reports(tmp_path: Path):
    ranges = {"policy.policy_years": (1.0, 6.0), "policy.wage_subsidy": (0.0, 800.0)}
    table, n, tight, runs = sensitivity.run(["world=teaching", "run.years=3"], ranges, max_n=8,
                                      jobs=1, first_n=4)
    assert set(table.N) == {4, 8} and n in (4, 8)
    assert n == 8 or tight  # stops early only when every interval is tight
    final = table[table.N == n]
    assert set(final.output) == set(INDICATORS)
    assert set(final.input) == set(ranges)
    assert len(runs) == n * 4 and set(INDICATORS) <= set(runs.columns)
    defined = final[final.undefined == 0]
    assert np.isfinite(defined.ST_conf).all()
    assert final[final.undefined > 0].ST.isna().all()  # never zeros for an undefined output
    text = sensitivity.report(table, n, tight, ["world=teaching"], n * 4)
    assert f"N = {n}" in text
    assert ("Warning" in text) == (not tight)


def test_inputs_take_the_plausible_ranges(tmp_path: Path):
    estimate = tmp_path / "estimate.json"
    estimate.write_text('{"plausible_ranges": {"model.exit_hazard": [0.001, 0.004], '
                        '"model.age_cost_from": [30, 30]}}')
    ranges = sensitivity.inputs(estimate)
    assert ranges["model.exit_hazard"] == (0.001, 0.004)
    assert "model.age_cost_from" not in ranges  # a constant is not an input
    assert "policy.policy_years" in ranges


def test_an_output_undefined_in_some_runs_is_not_analysed():
    problem = {"num_vars": 2, "names": ["a", "b"], "bounds": [[0, 1], [0, 1]]}
    y = np.linspace(0, 1, 16)
    y[3] = np.nan
    table = sensitivity.analyse(problem, y, 4, 0)
    assert table.undefined.eq(1).all() and table.ST.isna().all()
