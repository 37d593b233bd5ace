"""Means, 95 % confidence intervals and paired differences across seeds; ratios of paired
differences (marginal cost); the cost-effect frontier; paths of a shock against its
no-shock twin.

Intervals are Student-t intervals of the mean over seeds (replications are independent;
within a seed, arms share the world and the exogenous draws, so differences between arms
are paired by seed: common random numbers). An interval respects the range of its quantity:
a share's is a Wilson-type interval inside [0, 1], a count's is the t interval of the log
mean (delta method), so it stays above 0 and widens upwards (``mean_ci``'s ``kind``).

With fewer than ``MIN_SEEDS_FOR_STABLE`` seeds an interval rests on a rough estimate of the
spread; with fewer than ``MIN_SEEDS_FOR_INTERVAL`` tables print none. ``seed_warning`` and
``index_warning`` (Sobol / Morris indices from too small a design) say so in one line, for
the printed tables, ``table.md`` and the report.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

LEVEL = 0.95
# With this many seeds or fewer an interval is too wide to read: tables print none.
MIN_SEEDS_FOR_INTERVAL = 3
# Below this many seeds the spread, and so every interval, is itself uncertain: a warning.
MIN_SEEDS_FOR_STABLE = 5
# Sensitivity indices: a base sample below this, a first-order index below -INDEX_TOLERANCE or
# a 95 % half-width above INDEX_TOLERANCE means the indices are noise (TRAPS: SALib at small N).
MIN_SOBOL_N = 64
MIN_MORRIS_TRAJECTORIES = 10
INDEX_TOLERANCE = 0.1
SHARE, COUNT, REAL = "share", "count", "real"  # the range of a quantity: [0, 1], >= 0, any


def wilson_type_interval(mean: float, sd: float, n: int, level: float = LEVEL):
    """An interval for the mean of ``n`` values in [0, 1] that stays in [0, 1].

    Wilson's score interval with the effective sample size n_eff = p (1 - p) / (sd^2 / n)
    (Korn & Graubard 1998) and a t quantile with n - 1 degrees of freedom: close to the t
    interval when the mean is far from 0 and 1, pulled inside the range near them. It always
    contains the mean; with no spread it is the mean itself.
    """
    var_mean = sd * sd / n
    if var_mean <= 0.0 or not 0.0 < mean < 1.0:
        return mean, mean
    n_eff = mean * (1.0 - mean) / var_mean
    z = float(stats.t.ppf(0.5 + level / 2, n - 1))
    z2 = z * z / n_eff
    centre = (mean + z2 / 2) / (1 + z2)
    half = z / (1 + z2) * math.sqrt(mean * (1 - mean) / n_eff + z * z / (4 * n_eff * n_eff))
    return max(0.0, centre - half), min(1.0, centre + half)


def log_interval(mean: float, sd: float, n: int, level: float = LEVEL):
    """An interval for the mean of ``n`` values >= 0 that stays >= 0: the t interval on the
    log scale, mean * exp(+-t * se / mean) (the delta method's standard error of log mean).
    It contains the mean; with a mean of 0 (all values 0) or no spread it is the mean."""
    if mean <= 0.0 or sd <= 0.0:
        return mean, mean
    t = float(stats.t.ppf(0.5 + level / 2, n - 1))
    spread = math.exp(t * sd / math.sqrt(n) / mean)
    return mean / spread, mean * spread


def seed_warning(n_seeds: int) -> str:
    """A one-line warning when ``n_seeds`` is too few for intervals to be read ("" if not)."""
    if n_seeds >= MIN_SEEDS_FOR_STABLE:
        return ""
    shown = ("intervals are not shown" if n_seeds < MIN_SEEDS_FOR_INTERVAL
             else "intervals rest on a rough estimate of the spread")
    return (f"warning: {n_seeds} seed(s) per arm, fewer than {MIN_SEEDS_FOR_STABLE}: {shown}; "
            "rerun with 10 or more seeds before reading differences")


def index_warning(method: str, size: int, first_order=(), half_widths=()) -> str:
    """A one-line warning when sensitivity indices are noise ("" if not).

    Args:
        method: ``sobol`` (``size``: the base sample N) or ``morris`` (``size``: trajectories).
        first_order: the S1 indices (Sobol); one below -INDEX_TOLERANCE is noise.
        half_widths: the 95 % half-widths of the indices (Sobol: S1 and ST conf).
    """
    minimum = MIN_SOBOL_N if method == "sobol" else MIN_MORRIS_TRAJECTORIES
    s1 = np.asarray(first_order, dtype=float)
    conf = np.asarray(half_widths, dtype=float)
    reasons = []
    if size < minimum:
        name = "N" if method == "sobol" else "trajectories"
        reasons.append(f"{name} = {size} < {minimum}")
    if np.any(s1[np.isfinite(s1)] < -INDEX_TOLERANCE):
        reasons.append(f"S1 down to {np.nanmin(s1):.2f}")
    if np.any(conf[np.isfinite(conf)] > INDEX_TOLERANCE):
        reasons.append(f"half-widths up to {np.nanmax(conf):.2f}")
    if not reasons:
        return ""
    return (f"warning: {method} indices are not stable ({'; '.join(reasons)}): read them as "
            "noise and rerun with a larger design")


def mean_ci(values, level: float = LEVEL, kind: str = REAL) -> dict:
    """n, mean, sd and the 95 % interval of the mean of the finite ``values``.

    Args:
        values: one value per seed.
        level: the confidence level.
        kind: ``SHARE`` (values in [0, 1]: Wilson-type interval), ``COUNT`` (values >= 0:
            the t interval of the log mean, ``log_interval``) or ``REAL`` (the t interval).

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
    if kind == SHARE:
        low, high = wilson_type_interval(mean, sd, n, level)
    elif kind == COUNT:
        low, high = log_interval(mean, sd, n, level)
    else:
        half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * sd / math.sqrt(n)
        low, high = mean - half, mean + half
    return {"n": n, "mean": mean, "sd": sd, "ci_low": low, "ci_high": high}


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


def _paired_values(arm: dict, base: dict) -> list:
    return sorted(s for s in arm.keys() & base.keys()
                  if np.isfinite(arm[s]) and np.isfinite(base[s]))


def ratio_of_paired_differences(num_arm: dict, num_base: dict, den_arm: dict, den_base: dict,
                                level: float = LEVEL) -> dict:
    """Mean paired difference of a numerator over that of a denominator, e.g. marginal cost:
    (Δ spending) / (Δ job-years) of an arm against the baseline, paired by seed.

    The interval is Fieller's (the set of ratios r for which mean(Δnum - r Δden) = 0 is not
    rejected by a t test): bounded only when the denominator's difference is clearly above
    0. The ratio is undefined (NaN, with a ``note``) when the mean Δ denominator is <= 0:
    the arm adds nothing to divide by.

    Returns:
        dict with ``n_pairs``, ``ratio``, ``ci_low``, ``ci_high``, ``num_diff``,
        ``den_diff`` and ``note`` ("" when the ratio and its interval are defined).
    """
    seeds = [s for s in _paired_values(num_arm, num_base)
             if s in _paired_values(den_arm, den_base)]
    x = np.array([num_arm[s] - num_base[s] for s in seeds], dtype=float)
    y = np.array([den_arm[s] - den_base[s] for s in seeds], dtype=float)
    nan = float("nan")
    out = {"n_pairs": len(seeds), "ratio": nan, "ci_low": nan, "ci_high": nan,
           "num_diff": float(x.mean()) if x.size else nan,
           "den_diff": float(y.mean()) if y.size else nan, "note": ""}
    if not seeds:
        out["note"] = "no paired seeds"
        return out
    if out["den_diff"] <= 0:
        out["note"] = "undefined: the arm adds no job-years (mean paired difference <= 0)"
        return out
    out["ratio"] = out["num_diff"] / out["den_diff"]
    if len(seeds) < 2:
        out["note"] = "one pair: no interval"
        return out
    out["ci_low"], out["ci_high"], out["note"] = _fieller(x, y, level)
    return out


def _fieller(x: np.ndarray, y: np.ndarray, level: float):
    """Fieller's interval of mean(x) / mean(y) for paired samples."""
    n = x.size
    a, b = x.mean(), y.mean()
    cov = np.cov(x, y, ddof=1) / n
    t2 = float(stats.t.ppf(0.5 + level / 2, n - 1)) ** 2
    qa = b * b - t2 * cov[1, 1]
    if qa <= 0:
        return float("nan"), float("nan"), "interval unbounded: Δ job-years not clearly > 0"
    qb = a * b - t2 * cov[0, 1]
    qc = a * a - t2 * cov[0, 0]
    root = math.sqrt(max(qb * qb - qa * qc, 0.0))
    return float((qb - root) / qa), float((qb + root) / qa), ""


def efficient_frontier(cost, effect) -> np.ndarray:
    """True for the points no other point dominates (costs no more and achieves at least as
    much, one of them strictly): the cost-effect frontier."""
    cost = np.asarray(cost, dtype=float)
    effect = np.asarray(effect, dtype=float)
    ok = np.isfinite(cost) & np.isfinite(effect)
    on = np.zeros(cost.size, dtype=bool)
    for i in np.flatnonzero(ok):
        other = ok & (cost <= cost[i]) & (effect >= effect[i])
        strictly = (cost < cost[i]) | (effect > effect[i])
        on[i] = not np.any(other & strictly)
    return on


# --- a shock's path against its no-shock twin ----------------------------------------------

RECOVERY_TOLERANCE = 0.01  # back "on the path": within 1 % of the no-shock path


def shock_path_metrics(shocked: np.ndarray, no_shock: np.ndarray, exits_shocked: np.ndarray,
                       exits_no_shock: np.ndarray, window: tuple[int, int]) -> dict:
    """Path metrics of one seed's shocked run against the same arm and seed without it.

    Args:
        shocked, no_shock: monthly poverty-alleviated persons in local jobs, by step.
        exits_shocked, exits_no_shock: monthly firm exits (poverty counties), by step.
        window: the shock's first step and the step after its last.

    Returns:
        ``job_years_lost``: Σ (no-shock - shocked) / 12 over the window's months;
        ``depth``: the largest relative shortfall (no-shock - shocked) / no-shock from the
        window's start to the end of the run;
        ``recovery_months``: months from the window's start until the first month after the
        deepest point at which the shortfall is within 1 % (NaN: not recovered by the end);
        ``exits_in_window``: extra exits in the window (shocked - no-shock);
        ``exits_added``: extra exits over the whole run; ``exits_brought_forward``: the extra
        exits in the window that the run made up later (in-window minus added).
    """
    start, end = window
    n = min(shocked.size, no_shock.size)
    start, end = min(start, n), min(end, n)
    gap = (no_shock[:n] - shocked[:n]).astype(float)
    nan = float("nan")
    if start >= n:
        return dict.fromkeys(SHOCK_PATH_DOC, nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        shortfall = np.where(no_shock[:n] > 0, gap / no_shock[:n], 0.0)
    after = shortfall[start:]
    trough = int(np.argmax(after))
    recovered = np.flatnonzero(after[trough:] <= RECOVERY_TOLERANCE)
    in_window = float(exits_shocked[start:end].sum() - exits_no_shock[start:end].sum())
    added = float(exits_shocked[:n].sum() - exits_no_shock[:n].sum())
    return {
        "job_years_lost": float(gap[start:end].sum() / 12.0),
        "depth": float(after.max()),
        "recovery_months": float(trough + recovered[0]) if recovered.size else nan,
        "exits_in_window": in_window,
        "exits_added": added,
        "exits_brought_forward": in_window - added,
    }


SHOCK_PATH_DOC = {
    "job_years_lost": "poverty-alleviated local job-years lost in the shock's window against "
                      "the same arm and seed without the shock",
    "depth": "largest relative shortfall of poverty-alleviated local jobs against the "
             "no-shock path, from the shock's start to the end of the run",
    "recovery_months": "months from the shock's start until, after the deepest point, "
                       "poverty-alleviated local jobs are within 1 % of the no-shock path "
                       "(null: not by the end of the run)",
    "exits_in_window": "extra firm exits in poverty counties in the window (shock - no shock)",
    "exits_added": "extra firm exits in poverty counties over the whole run",
    "exits_brought_forward": "extra exits in the window that did not add to the run's total "
                             "(exits_in_window - exits_added)",
}
