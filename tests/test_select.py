"""The industry selection (``python -m experiments.select``) writes a ranking the engine can
use: ranks are a permutation within each class that follows the measured job-years, and a
run with ``policy.selection=simulated`` on that table targets exactly ``selection_top``
industries in every poverty county whose class the table names."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from experiments.select import main
from sim.codes import POVERTY
from sim.config import compose
from sim.development import county_classes, read_selection
from sim.engine import Simulation

COLUMNS = ["county_class", "industry", "development_type", "rank", "n_counties",
           "job_years_per_county_mean", "job_years_per_county_lo", "job_years_per_county_hi",
           "survival_2y_mean", "survival_2y_lo", "survival_2y_hi", "cost_per_job_year_mean",
           "cost_per_job_year_lo", "cost_per_job_year_hi", "seeds", "world", "years"]


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    out = tmp_path_factory.mktemp("select")
    assert main(["world=teaching", "run.years=4", "--seeds", "2", "--out", str(out)]) == 0
    return out


def test_selection_table_ranks_by_job_years(out):
    table = pd.read_csv(out / "selection.csv")
    assert set(COLUMNS) <= set(table.columns)
    assert (table.world == "teaching").all() and (table.years == 4).all()
    assert (table.seeds == 2).all()
    assert table.county_class.str.startswith("poverty:").all()
    for name, group in table.groupby("county_class"):
        assert sorted(group["rank"]) == list(range(1, len(group) + 1)), name
        ordered = group.sort_values("rank").job_years_per_county_mean.to_numpy()
        assert (np.diff(ordered) <= 0).all(), name
    assert ((table.survival_2y_mean.dropna() >= 0) & (table.survival_2y_mean.dropna() <= 1)).all()
    ranking = read_selection(out / "selection.csv")
    assert set(ranking) == set(table.county_class)
    comparison = pd.read_csv(out / "comparison.csv")
    assert set(comparison.county_class) == set(table.county_class)
    assert (out / "selection.png").stat().st_size > 0


def test_simulated_selection_targets_top_k(out):
    k = 2
    sim = Simulation(compose(["world=teaching", "run.years=1", "run.progress=false",
                              "policy.selection=simulated", f"policy.selection_top={k}",
                              f"policy.selection_table='{out / 'selection.csv'}'"]))
    sim.run()
    ranking = read_selection(out / "selection.csv")
    classes = county_classes(sim.counties)
    targeted = [c for c in range(sim.counties.n)
                if sim.counties.kind[c] == POVERTY and classes[c] in ranking]
    assert targeted
    for c in targeted:
        row = sim.state.targeted[c]
        assert row.sum() == k
        chosen = {sim.world.industry_names[i] for i in np.flatnonzero(row)}
        assert chosen == set(ranking[classes[c]][:k])
    untargeted = [c for c in range(sim.counties.n) if classes[c] not in ranking]
    assert sim.state.targeted[untargeted].all()
