"""Intervals respect their quantity's range; too few seeds or too small a sensitivity design
is said in a warning; the sweep progress counts skipped, done and failed runs and paces its
estimate after the first completion."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.aggregate import markdown_report, print_table
from experiments.callbacks import SweepProgress
from experiments.design import stability_warning
from experiments.stats import COUNT, REAL, SHARE, index_warning, mean_ci, seed_warning
from sim.cli import Progress
from sim.integrity import COMPLETE

# --- intervals ---------------------------------------------------------------------------------

def test_two_seed_intervals_stay_in_range():
    """The issue's cases: survival 0.908 [-0.256, 2.073] and persons 1,090 [-8,186, 10,366]
    from the plain t interval with 2 seeds."""
    share = mean_ci([0.816, 1.0], kind=SHARE)
    assert share["mean"] == pytest.approx(0.908)
    assert 0.0 <= share["ci_low"] <= share["mean"] <= share["ci_high"] <= 1.0
    count = mean_ci([150.0, 2030.0], kind=COUNT)
    assert count["mean"] == pytest.approx(1090.0)
    assert 0.0 < count["ci_low"] < count["mean"] < count["ci_high"]
    real = mean_ci([150.0, 2030.0], kind=REAL)  # a difference may be negative: no bound
    assert real["ci_low"] < 0


def test_random_samples_keep_shares_in_unit_interval_and_counts_non_negative():
    rng = np.random.default_rng(14)
    for _ in range(300):
        n = int(rng.integers(2, 12))
        shares = np.clip(rng.beta(rng.uniform(0.2, 5), rng.uniform(0.2, 5), n), 0, 1)
        s = mean_ci(shares, kind=SHARE)
        assert 0.0 <= s["ci_low"] <= s["mean"] + 1e-12
        assert s["mean"] - 1e-12 <= s["ci_high"] <= 1.0
        counts = rng.poisson(rng.uniform(0.5, 500), n).astype(float)
        c = mean_ci(counts, kind=COUNT)
        assert c["ci_low"] >= 0.0
        assert c["ci_low"] <= c["mean"] + 1e-9 <= c["ci_high"] + 2e-9


def test_count_interval_is_the_t_interval_on_the_log_scale():
    x = np.array([900.0, 1000.0, 1100.0, 1050.0, 950.0, 1000.0])
    got = mean_ci(x, kind=COUNT)
    se_log = x.std(ddof=1) / np.sqrt(x.size) / x.mean()
    from scipy import stats

    t = stats.t.ppf(0.975, x.size - 1)
    assert got["ci_low"] == pytest.approx(x.mean() * np.exp(-t * se_log))
    assert got["ci_high"] == pytest.approx(x.mean() * np.exp(t * se_log))
    assert mean_ci([0.0, 0.0, 0.0], kind=COUNT)["ci_low"] == 0.0


# --- warnings ---------------------------------------------------------------------------------

def test_seed_warning_below_five_seeds():
    assert "fewer than 5" in seed_warning(2) and "not shown" in seed_warning(2)
    assert "rough" in seed_warning(4)
    assert seed_warning(5) == "" and seed_warning(10) == ""


def _table(n: int) -> pd.DataFrame:
    return pd.DataFrame({"policy": ["baseline"], "n": [n],
                         "poverty local job-years": ["1,000"],
                         "Δ poverty local job-years": ["—"],
                         "marginal cost per added job-year (yuan)": ["—"]})


def test_printed_and_markdown_tables_carry_the_seed_warning():
    out = io.StringIO()
    print_table(_table(2), stream=out)
    assert "fewer than 5" in out.getvalue()
    assert "fewer than 5" in markdown_report(_table(3), pd.DataFrame(), pd.DataFrame())
    out = io.StringIO()
    print_table(_table(10), stream=out)
    assert "warning" not in out.getvalue()
    assert "warning" not in markdown_report(_table(10), pd.DataFrame(), pd.DataFrame())


def test_sobol_indices_of_a_small_design_are_flagged():
    """README's example: N = 8, S1 = -0.32, half-widths up to 3.4."""
    text = index_warning("sobol", 8, [0.1, -0.32], [0.5, 3.4])
    assert "N = 8" in text and "-0.32" in text and "3.40" in text
    assert index_warning("sobol", 256, [0.4, 0.2], [0.05, 0.04]) == ""
    assert "S1 down to" in index_warning("sobol", 256, [-0.3], [0.05])
    assert "trajectories = 4" in index_warning("morris", 4)
    design = {"method": "sobol", "n_base": 8}
    table = pd.DataFrame({"S1": [-0.32], "S1_conf": [3.4], "ST": [0.5], "ST_conf": [0.2]})
    assert "not stable" in stability_warning(design, table)
    assert stability_warning({"method": "lhs", "n_base": 8}, table) == ""
    steady = pd.DataFrame({"S1": [0.4], "S1_conf": [0.02], "ST": [0.5], "ST_conf": [0.03]})
    assert "N = 8 < 64" in stability_warning(design, steady)  # N as the manifest stores it
    assert stability_warning({"method": "sobol", "n_base": 128}, steady) == ""


# --- progress ---------------------------------------------------------------------------------

def _job(sweep: Path, i: int, marker: str = COMPLETE, mtime: float | None = None):
    path = sweep / f"job{i:02d}" / marker
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{}")
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def test_sweep_progress_counts_skipped_done_and_failed(tmp_path):
    """A resumed sweep of 12 whose 12 runs were complete, one of which is rerun (its markers
    cleared, then rewritten): never "11/12 done (12 were already complete)"."""
    old = time.time() - 3600
    paths = [_job(tmp_path, i, mtime=old) for i in range(12)]
    progress = SweepProgress(tmp_path, total=12, stream=io.StringIO())
    paths[3].unlink()  # the job clears its markers before running again
    c = progress.count()
    assert (c["finished"], c["skipped"], c["done"], c["failed"]) == (11, 11, 0, 0)
    _job(tmp_path, 3)  # rerun: complete now
    c = progress.count()
    assert (c["finished"], c["skipped"], c["done"], c["failed"]) == (12, 11, 1, 0)
    line = progress.line()
    assert line.startswith("[sweep] 12/12 runs finished: 1 done, 11 skipped (already "
                           "complete), 0 failed")
    _job(tmp_path, 12, "error.json")  # a failure beyond the 12 (a 13-job sweep)
    progress.total = 13
    c = progress.count()
    assert (c["finished"], c["failed"], c["left"]) == (13, 1, 0)


def test_sweep_eta_ignores_the_compile_time(tmp_path):
    progress = SweepProgress(tmp_path, total=10, stream=io.StringIO())
    start = progress.start_time
    # first run finished 60 s after the launch (compiling), the next two 2 s apart
    for i, t in enumerate((60.0, 62.0, 64.0)):
        _job(tmp_path, i, mtime=start + t)
    c = progress.count()
    assert c["done"] == 3 and c["left"] == 7
    assert progress.seconds_left(c, now=start + 64.0) == pytest.approx(2.0 * 7)
    assert progress.seconds_left(c, now=start + 74.0) == pytest.approx(7.0 * 7)  # a stall
    two = {**c, "completion_times": c["completion_times"][:2]}
    assert progress.seconds_left(two, now=start + 62.0) is None  # first pair: no pace yet


def test_run_progress_eta_ignores_the_first_step():
    p = Progress("x", stream=io.StringIO(), after_seconds=0.0)
    p.first = (1, 50.0)  # the first step took 50 s (compilation)
    assert p.seconds_left(11, 101, 60.0) == pytest.approx(1.0 * 90)
    assert p.seconds_left(1, 101, 50.0) is None
