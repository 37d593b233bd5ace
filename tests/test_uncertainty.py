"""The policy comparison over plausible parameter vectors x seeds (teaching world, tiny)."""

from __future__ import annotations

import pandas as pd

from experiments import uncertainty


def test_paired_differences_over_vectors_and_seeds(tmp_path):
    vectors = pd.read_csv(uncertainty.PLAUSIBLE).head(2)
    table = uncertainty.compare(["world=teaching", "run.years=4"],
                                ["baseline", "special_fund_core"], vectors, seeds=2, jobs=2)
    assert set(table.indicator) == set(uncertainty.INDICATORS)
    counts = table[table.indicator != "post_support_survival_2y"]  # may be undefined here
    assert (counts.n == 4).all() and (counts.vectors == 2).all()
    spending = table[table.indicator == "fiscal_cost_total"].iloc[0]
    assert spending.lo <= spending.mean_difference <= spending.hi
    assert spending.mean_difference > 0  # the fund is spent in every vector and seed
    shares = table.between_vector_share.dropna()
    assert ((shares >= 0) & (shares <= 1)).all()
