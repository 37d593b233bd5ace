"""Means, 95 % confidence intervals and paired differences across seeds.

Intervals are Student-t intervals of the mean over seeds (replications are independent;
within a seed, arms share the world and the exogenous draws, so differences between arms
are paired by seed: common random numbers).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

LEVEL = 0.95


def mean_ci(values, level: float = LEVEL) -> dict:
    """n, mean, sd and the t interval of the mean of the finite ``values``.

    Returns:
        dict with ``n``, ``mean``, ``sd``, ``ci_low``, ``ci_high`` (NaN where undefined:
        no value for the mean, fewer than two for sd and interval).
    """
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = int(x.size)
    nan = float("nan")
    if n == 0:
        return {"n": 0, "mean": nan, "sd": nan, "ci_low": nan, "ci_high": nan}
    mean = float(x.mean())
    if n < 2:
        return {"n": 1, "mean": mean, "sd": nan, "ci_low": nan, "ci_high": nan}
    sd = float(x.std(ddof=1))
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * sd / math.sqrt(n)
    return {"n": n, "mean": mean, "sd": sd, "ci_low": mean - half, "ci_high": mean + half}


def paired_difference(arm: dict, base: dict, level: float = LEVEL) -> dict:
    """Mean difference ``arm - base`` over the seeds both have a finite value for.

    Args:
        arm: seed -> value of the compared arm.
        base: seed -> value of the baseline arm.

    Returns:
        dict with ``n_pairs``, ``diff_mean``, ``diff_sd``, ``diff_ci_low``, ``diff_ci_high``.
    """
    seeds = sorted(s for s in arm.keys() & base.keys()
                   if np.isfinite(arm[s]) and np.isfinite(base[s]))
    d = mean_ci([arm[s] - base[s] for s in seeds], level)
    return {"n_pairs": d["n"], "diff_mean": d["mean"], "diff_sd": d["sd"],
            "diff_ci_low": d["ci_low"], "diff_ci_high": d["ci_high"]}
