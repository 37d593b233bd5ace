"""Aggregate a sweep directory: ``runs.parquet``, ``comparison.csv``, figures, indices.

``python -m experiments.aggregate DIR`` does again what the end-of-multirun callback does:

- ``runs.parquet``: one row per run: job directory, status (``complete`` / ``failed`` /
  ``missing``), run id, seed, world / policy / shock, every overridden parameter, every
  summary field, and the error of a failed run;
- ``comparison.csv`` (tidy): one row per design point (the run's parameters except the seed)
  and summary field: n, mean, sd, 95 % CI, and the paired difference against the
  ``baseline`` policy arm of the same design point, paired by seed;
- ``table.md``: the headline indicators as a table;
- figures (``figures.py``) and, for design sweeps, sensitivity indices (``design.py``).

Only the jobs the sweep's manifest (``sweep.json``) lists are read (any other folder in the
sweep directory is ignored). Each job's files are verified against its completion manifest
(``sim.jobs.check_job``): a run whose files changed after it finished is ``corrupt``, reported
and never used. A run is missing when its directory holds neither a complete run nor
``error.json``. Summary fields that are null in some runs are counted (``n_undefined``) and
reported, not silently left out.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from experiments.design import write_indices
from experiments.figures import (
    frontier_figure,
    run_paths,
    shock_path_figure,
    shock_window,
    sweep_figures,
)
from experiments.manifest import read_manifest
from experiments.stats import (
    COUNT,
    MIN_SEEDS_FOR_INTERVAL,
    REAL,
    SHARE,
    SHOCK_PATH_DOC,
    efficient_frontier,
    mean_ci,
    paired_difference,
    ratio_of_paired_differences,
    seed_warning,
    shock_path_metrics,
)
from sim import jobs
from sim.atomic import atomic_write_bytes, atomic_write_parquet
from sim.codes import MONTHS_PER_YEAR
from sim.config import OUTPUT_OPTIONS, compose
from sim.integrity import COMPLETE
from sim.results import SHARE_FIELDS, SUMMARY_DOC

GROUPS = ("world", "policy", "shock")
# Overrides that are not design parameters: the seed (a column of its own) and the options
# that change how a run reports itself (sim.config.OUTPUT_OPTIONS).
NOT_DESIGN = ("run.seed", *OUTPUT_OPTIONS)
BASELINE_ARM = "baseline"
NO_SHOCK = "none"
OUTPUTS = ("runs.parquet", "comparison.csv", "frontier.csv", "table.md")
SPENDING = "fiscal_cost_total"
JOB_YEARS = "poverty_local_job_years"
MARGINAL_COST = "marginal_cost_per_poverty_job_year"
DERIVED_DOC = {
    MARGINAL_COST: "(mean paired Δ fiscal_cost_total) / (mean paired Δ poverty_local_job_years) "
                   "against the baseline arm of the same scenario, paired by seed (yuan per "
                   "additional poverty-alleviated local job-year), Fieller 95 % interval; null "
                   "with a note when the arm adds no job-years",
    **{f"shock_{k}": v for k, v in SHOCK_PATH_DOC.items()},
}
# metric -> (label, format, divisor) of the headline table
HEADLINE = {
    "poverty_local_job_years": ("poverty local job-years", "{:,.0f}", 1),
    "post_support_survival_2y": ("survival 2y after support", "{:.3f}", 1),
    "survival_3y": ("spell survival 3y from arrival", "{:.3f}", 1),
    "poverty_pop_local_jobs_end": ("poverty local jobs, end", "{:,.0f}", 1),
    "fiscal_cost_total": ("spending (m yuan)", "{:,.1f}", 1e6),
    "spending_poverty": ("of it in poverty counties (m yuan)", "{:,.1f}", 1e6),
}
MARGINAL_LABEL = "marginal cost per added job-year (yuan)"


# --- the data dictionary: every column of the sweep's tables, documented once ---------------
# (scripts/results_dictionary.py renders these into results/README.md; tests check that the
# tables have no undocumented column.)

DESIGN_COLUMN_DOC = ("a design parameter: a config field the sweep sets (e.g. ``run.years``, "
                     "``policy.credibility``), named by its path; see docs/model.md")
RUNS_COLUMNS = {
    "job": "job directory, relative to the sweep directory",
    "status": "complete, failed or missing (listed in sweep.json, no record on disk)",
    "run_id": "first 12 hex digits of the SHA-1 of the run's resolved config.yaml",
    "seed": "the run's seed (run.seed); arms with the same seed share the world and draws",
    "world": "world preset (configs/world/)",
    "policy": "policy preset, the arm (configs/policy/)",
    "shock": "shock preset (configs/shock/)",
    "design_point": "design sweeps: index of the design point (row of the design's samples)",
    "<design parameter>": DESIGN_COLUMN_DOC,
    "<summary indicator>": "every indicator of the run's summary.json (list below); null when "
                           "undefined or the run is not complete",
    "steps": "months simulated",
    "persons_per_agent": "persons one worker agent stands for",
    "error": "failed runs: the exception type and message",
    "overrides": "the job's command-line overrides, space-separated",
}
COMPARISON_COLUMNS = {
    "world, policy, shock, <design parameter>": "the design point (every design column of "
                                                "runs.parquet)",
    "runs_complete": "complete runs of the design point",
    "runs_failed": "failed runs of the design point",
    "runs_missing": "missing runs of the design point",
    "metric": "the indicator (summary indicators and the derived ones, lists below)",
    "n": "seeds with a finite value",
    "n_undefined": "seeds whose value is undefined (null in summary.json; summary.json's "
                   "'undefined' says why), left out of n",
    "mean": "mean over those seeds",
    "sd": "standard deviation over seeds",
    "ci_low": "95 % interval of the mean, low end: shares Wilson-type inside [0, 1], counts "
              "on the log scale (>= 0), other quantities Student t",
    "ci_high": "95 % interval of the mean, high end",
    "n_pairs": "seeds paired with the baseline arm of the same scenario (0: no baseline)",
    "diff_mean": "mean paired difference from the baseline arm",
    "diff_sd": "standard deviation of the paired differences",
    "diff_ci_low": "95 % t interval of the mean paired difference, low end",
    "diff_ci_high": "95 % t interval of the mean paired difference, high end",
    "note": "derived rows: how the row was computed, or why it is undefined",
}
FRONTIER_COLUMNS = {
    "panel": "the scenario (the design values other than the arm)",
    "policy": "the arm",
    "n": "complete runs (seeds) of the arm",
    "cost": "mean fiscal_cost_total (yuan)",
    "cost_low": "its 95 % interval, low end",
    "cost_high": "its 95 % interval, high end",
    "effect": "mean poverty_local_job_years",
    "effect_low": "its 95 % interval, low end",
    "effect_high": "its 95 % interval, high end",
    "d_cost": "mean paired difference of cost from the baseline arm",
    "d_effect": "mean paired difference of effect from the baseline arm",
    "marginal_cost": "marginal cost per added poverty-alleviated local job-year (yuan)",
    "marginal_cost_low": "its Fieller 95 % interval, low end",
    "marginal_cost_high": "its Fieller 95 % interval, high end",
    "note": "why the marginal cost or its interval is undefined",
    "efficient": "on the cost-effect frontier: no arm of the panel spends less and keeps "
                 "more job-years",
}
SENSITIVITY_COLUMNS = {
    "output": "the indicator analysed (means over seeds per design point)",
    "method": "sobol, or rbd_fast for Latin hypercubes",
    "lever": "the design parameter",
    "S1": "first-order index",
    "S1_conf": "95 % bootstrap half-width of S1",
    "ST": "total index (Sobol only)",
    "ST_conf": "95 % bootstrap half-width of ST",
}


def undocumented(columns, docs: dict, design: list[str] = ()) -> list[str]:
    """The columns not covered by ``docs`` (design columns and summary indicators count as
    documented through their placeholders)."""
    named = {part.strip() for key in docs for part in key.split(",")}
    placeholders = {"<design parameter>": set(design),
                    "<summary indicator>": set(summary_fields())}
    for key, cols in placeholders.items():
        if key in named:
            named |= cols
    return [c for c in columns if c not in named]


def summary_fields() -> list[str]:
    """The summary indicators every run reports (``sim.results.SUMMARY_DOC``)."""
    return list(SUMMARY_DOC)


@dataclass
class SweepAggregate:
    """What an aggregation found and wrote."""

    sweep_dir: Path
    runs: pd.DataFrame
    comparison: pd.DataFrame
    design_columns: list[str]
    written: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def jobs_with(self, status: str) -> list[str]:
        """Job directories (relative to the sweep) with the given status."""
        return self.runs.loc[self.runs.status == status, "job"].tolist()


# --- discovering jobs ------------------------------------------------------------------------

def _parse_value(text: str):
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    return value if isinstance(value, int | float | str | bool) or value is None else str(value)


def parse_overrides(overrides: list[str]) -> dict:
    """``key=value`` overrides as a dict of typed values (``+``/``~`` prefixes dropped)."""
    out = {}
    for item in overrides:
        key, _, value = item.partition("=")
        out[key.lstrip("+~")] = _parse_value(value)
    return out


def _job_dirs(sweep_dir: Path) -> dict[str, Path]:
    """Job directories found on disk: the sweep directory itself and its direct
    subdirectories, for a sweep whose manifest lists no jobs (another sweeper). Deeper
    folders are never taken in (a copy of a sweep inside it would count its runs twice)."""
    found = {}
    markers = (COMPLETE, jobs.ERROR, str(jobs.OVERRIDES))
    for job_dir in [sweep_dir, *sorted(p for p in sweep_dir.iterdir() if p.is_dir())]:
        if any((job_dir / marker).is_file() for marker in markers):
            name = job_dir.relative_to(sweep_dir).as_posix()
            found["" if name == "." else name] = job_dir  # "": a job without overrides
    return found


def _overrides_of(job_dir: Path) -> list[str] | None:
    try:
        data = yaml.safe_load((job_dir / jobs.OVERRIDES).read_text())
    except (OSError, yaml.YAMLError):
        data = None
    if isinstance(data, list):
        return [str(x) for x in data]
    error = jobs.read_json(job_dir / jobs.ERROR)
    if error and isinstance(error.get("overrides"), list):
        return [str(x) for x in error["overrides"]]
    return None


def _meta_from_config(overrides: list[str]) -> dict:
    """Seed and preset names of a run that left no record, from its configuration."""
    try:
        cfg = compose([o for o in overrides if not o.lstrip("+~").startswith("hydra")])
    except Exception:  # an unparseable job: leave its fields empty
        return {}
    return {"seed": cfg.run.seed, "world": cfg.world.name, "policy": cfg.policy.name,
            "shock": cfg.shock.name}


def sweep_jobs(sweep_dir: Path) -> tuple[dict[str, dict], dict[str, Path]]:
    """The jobs of a sweep: those its manifest (``sweep.json``) lists, and only those; the
    job directories on disk (``_job_dirs``) only when the manifest lists none.

    Returns:
        (manifest entries by job subdirectory, job directories found on disk that count).
    """
    manifest = read_manifest(sweep_dir) or {}
    expected = {job["subdir"]: job for job in manifest.get("jobs", [])}
    return expected, ({} if expected else _job_dirs(sweep_dir))


def collect_runs(sweep_dir: Path) -> pd.DataFrame:
    """One row per job of the sweep (found on disk or listed in the manifest)."""
    sweep_dir = Path(sweep_dir)
    expected, found = sweep_jobs(sweep_dir)
    fields = summary_fields()
    rows = []
    for name in [*expected, *sorted(found.keys() - expected.keys())]:  # manifest order
        job_dir = sweep_dir / name
        entry = expected.get(name, {})
        overrides = _overrides_of(job_dir) if job_dir.is_dir() else None
        overrides = overrides if overrides is not None else entry.get("overrides", [])
        state = jobs.check_job(job_dir)  # verified against the job's complete.json
        record = state.record or {}
        if state.status == "failed":
            record = jobs.read_json(job_dir / jobs.ERROR) or {}
        status = "missing" if state.status == "incomplete" else state.status
        row = {"job": name, "status": status}
        for key in ("run_id", "seed", *GROUPS):
            row[key] = record.get(key)
        params = {k: v for k, v in parse_overrides(overrides).items()
                  if k not in GROUPS and k not in NOT_DESIGN and not k.startswith("hydra")}
        if row["seed"] is None and "run.seed" in parse_overrides(overrides):
            row["seed"] = parse_overrides(overrides)["run.seed"]
        if any(row[k] is None for k in ("seed", *GROUPS)):
            for key, value in _meta_from_config(overrides).items():
                row[key] = value if row[key] is None else row[key]
        if "design_point" in entry:
            row["design_point"] = entry["design_point"]
        row.update(params)
        for key in (*fields, "steps", "persons_per_agent"):
            value = record.get(key) if status == "complete" else None
            row[key] = np.nan if value is None else value  # null in summary.json: undefined
        row["error"] = (f"{record.get('error_type')}: {record.get('error')}"
                        if status == "failed" else state.problem if status == "corrupt"
                        else None)
        row["overrides"] = " ".join(overrides)
        rows.append(row)
    df = pd.DataFrame(rows)
    if df.empty:
        return df
    df["seed"] = pd.array(df["seed"], dtype="Int64")
    for col in df.columns:
        if df[col].dtype == object and col not in ("job", "status", "error", "overrides"):
            values = df[col].dropna()
            if len(values) and not all(isinstance(v, int | float) and not isinstance(v, bool)
                                       for v in values):
                df[col] = df[col].map(lambda v: None if v is None else str(v))
            elif len(values):
                df[col] = pd.to_numeric(df[col])
    return df


def undefined_notes(runs: pd.DataFrame) -> list[str]:
    """A note naming the summary fields that are undefined (null) in some complete runs and
    in how many: those runs are left out of the field's mean and interval (``n`` counts the
    others; ``n_undefined`` in comparison.csv), which can bias it."""
    done = runs[runs.status == "complete"]
    counts = {m: int(done[m].isna().sum()) for m in summary_fields() if m in done}
    undefined = [f"{m} in {k} of {len(done)}" for m, k in counts.items() if k]
    if not undefined:
        return []
    return ["undefined (null in summary.json, reason under 'undefined'), left out of the "
            "mean: " + ", ".join(undefined) + " complete runs"]


def design_columns(runs: pd.DataFrame) -> list[str]:
    """Columns that identify a design point: presets and overridden parameters, not the seed."""
    fixed = {"job", "status", "run_id", "seed", "error", "overrides", "steps",
             "persons_per_agent", *summary_fields()}
    return [c for c in runs.columns if c not in fixed]


# --- comparison ------------------------------------------------------------------------------

def _key(values) -> tuple:
    return tuple("<NA>" if (v is None or (isinstance(v, float) and np.isnan(v))) else v
                 for v in values)


def metric_kind(metric: str) -> str:
    """The range of a summary field: a share in [0, 1], else a quantity >= 0."""
    return SHARE if metric in SHARE_FIELDS else COUNT if metric in SUMMARY_DOC else REAL


class DesignPoints:
    """The design points of a runs table and their twins (the same point with one column set
    to another value, e.g. the baseline arm, or no shock)."""

    def __init__(self, runs: pd.DataFrame, design: list[str]):
        self.runs, self.design = runs, design
        keys = [_key(v) for v in runs[design].itertuples(index=False, name=None)]
        self.ids: dict[tuple, int] = {}
        self.point = np.array([self.ids.setdefault(k, len(self.ids)) for k in keys], dtype=int)

    def group(self, key: tuple) -> pd.DataFrame:
        """Every run of a design point."""
        return self.runs[self.point == self.ids[key]]

    def complete(self, key: tuple) -> pd.DataFrame:
        g = self.group(key)
        return g[g.status == "complete"]

    def twin(self, key: tuple, column: str, value) -> tuple | None:
        """The key of the point that differs from ``key`` only in ``column`` = ``value``
        (None if the sweep has no such point, or ``key`` is that point)."""
        if column not in self.design:
            return None
        i = self.design.index(column)
        other = key[:i] + (value,) + key[i + 1:]
        return other if other != key and other in self.ids else None

    def header(self, key: tuple) -> dict:
        """A comparison row's design values and run counts."""
        group = self.group(key)
        counts = group.status.value_counts()
        return {**group.iloc[0][self.design].to_dict(),
                "runs_complete": int(counts.get("complete", 0)),
                "runs_failed": int(counts.get("failed", 0)),
                "runs_missing": int(counts.get("missing", 0))}


def by_seed(group: pd.DataFrame, metric: str) -> dict:
    """seed -> value of ``metric`` in a group of runs."""
    return dict(zip(group.seed.astype(int), group[metric].astype(float), strict=True))


NO_DIFF = {"n_pairs": 0, "diff_mean": np.nan, "diff_sd": np.nan, "diff_ci_low": np.nan,
           "diff_ci_high": np.nan}


def compare(runs: pd.DataFrame, design: list[str], metrics: list[str] | None = None,
            arm: str = "policy", baseline: str = BASELINE_ARM,
            kind_of=None) -> pd.DataFrame:
    """Per design point and metric: n, mean, sd, 95 % CI, paired difference to baseline.

    Args:
        runs: the runs table (``collect_runs``).
        design: columns identifying a design point.
        metrics: summary fields to compare (default: all).
        arm: the column whose ``baseline`` value is the reference arm.
        baseline: the reference value of ``arm``.
        kind_of: metric -> its range (``SHARE``, ``COUNT``, ``REAL``); default
            ``metric_kind``.
    """
    metrics = metrics or summary_fields()
    kind_of = kind_of or metric_kind
    points = DesignPoints(runs, design)
    rows = []
    for key in points.ids:
        done = points.complete(key)
        base_key = points.twin(key, arm, baseline)
        base = points.complete(base_key) if base_key is not None else None
        header = points.header(key)
        for metric in metrics:
            row = {**header, "metric": metric}
            row.update(mean_ci(done[metric].to_numpy(dtype=float), kind=kind_of(metric)))
            row["n_undefined"] = int(done[metric].isna().sum())  # null: left out of n
            row.update(NO_DIFF if base is None else
                       paired_difference(by_seed(done, metric), by_seed(base, metric)))
            rows.append(row)
    return pd.DataFrame(rows)


# --- indicators across arms: marginal cost, shock paths ----------------------------------------

def marginal_cost_rows(runs: pd.DataFrame, design: list[str]) -> list[dict]:
    """Per non-baseline design point: marginal cost per additional poverty-alleviated local
    job-year against the baseline arm of the same scenario, paired by seed."""
    points = DesignPoints(runs, design)
    rows = []
    for key in points.ids:
        base_key = points.twin(key, "policy", BASELINE_ARM)
        if base_key is None:
            continue
        arm, base = points.complete(key), points.complete(base_key)
        r = ratio_of_paired_differences(by_seed(arm, SPENDING), by_seed(base, SPENDING),
                                        by_seed(arm, JOB_YEARS), by_seed(base, JOB_YEARS))
        rows.append({**points.header(key), "metric": MARGINAL_COST, "n": r["n_pairs"],
                     "mean": r["ratio"], "sd": np.nan, "ci_low": r["ci_low"],
                     "ci_high": r["ci_high"], **NO_DIFF, "n_pairs": r["n_pairs"],
                     "note": r["note"]})
    return rows


@dataclass
class ShockPaths:
    """Each shocked run against its no-shock twin (same arm, seed and everything else)."""

    per_run: pd.DataFrame  # one row per shocked run: design values, seed, SHOCK_PATH_DOC
    gaps: dict  # (scenario label, arm) -> frame: year x seed, shocked - no-shock persons
    windows: dict  # scenario label -> (first year, end year) of the shock


def shock_paths(sweep_dir: Path, runs: pd.DataFrame, design: list[str]) -> ShockPaths:
    """Pair every complete shocked run with its no-shock twin and measure its path."""
    points = DesignPoints(runs, design)
    rows, gaps, windows = [], {}, {}
    for key in points.ids:
        twin_key = points.twin(key, "shock", NO_SHOCK)
        if twin_key is None:
            continue
        twins = points.complete(twin_key).set_index("seed")
        label = _scenario_label(points.group(key).iloc[0], design)
        seeds = {}
        for _, run in points.complete(key).iterrows():
            if run.seed not in twins.index:
                continue
            window = shock_window(sweep_dir / run.job)
            if window is None:
                continue
            shocked = run_paths(sweep_dir / run.job)
            calm = run_paths(sweep_dir / twins.loc[run.seed, "job"])
            metrics = shock_path_metrics(
                shocked.poverty_local_jobs.to_numpy(), calm.poverty_local_jobs.to_numpy(),
                shocked.exits_poverty.to_numpy(), calm.exits_poverty.to_numpy(), window)
            rows.append({**run[design].to_dict(), "seed": int(run.seed), **metrics})
            seeds[int(run.seed)] = (shocked.poverty_local_jobs - calm.poverty_local_jobs
                                    ).set_axis(shocked.year)
            windows[label] = tuple(shocked.year.iloc[0] + np.array(window) / MONTHS_PER_YEAR)
        if seeds:
            gaps[(label, run.policy if "policy" in design else "all")] = pd.DataFrame(seeds)
    columns = [*design, "seed", *SHOCK_PATH_DOC]
    return ShockPaths(pd.DataFrame(rows, columns=columns), gaps, windows)


def _scenario_label(run: pd.Series, design: list[str]) -> str:
    """The scenario of a run: its design values other than the arm and fixed settings."""
    keys = [c for c in design if c in GROUPS and c != "policy"]
    return ", ".join(f"{c}={run[c]}" for c in keys)


def shock_path_rows(paths: ShockPaths, runs: pd.DataFrame, design: list[str]) -> list[dict]:
    """Comparison rows: mean [95 % CI] over seeds of each shock path metric, per point."""
    if paths.per_run.empty:
        return []
    points = DesignPoints(runs, design)
    rows = []
    keys = pd.Series([_key(v) for v in paths.per_run[design].itertuples(index=False, name=None)],
                     index=paths.per_run.index)
    for key, g in paths.per_run.groupby(keys, sort=False):
        header = points.header(key)
        for metric in SHOCK_PATH_DOC:
            rows.append({**header, "metric": f"shock_{metric}",
                         **mean_ci(g[metric].to_numpy(dtype=float)), **NO_DIFF,
                         "note": "paired with the same arm and seed without the shock"})
    return rows


# --- the cost-effect frontier ------------------------------------------------------------------

def frontier_table(comparison: pd.DataFrame, design: list[str]) -> pd.DataFrame:
    """Per scenario and arm: spending and poverty local job-years (mean, 95 % CI), their paired
    differences from baseline, the marginal cost and whether the arm is on the frontier."""
    if "policy" not in design:
        return pd.DataFrame()
    scenario = [c for c in design if c != "policy"]
    rows = []
    for _, r in comparison[comparison.metric == SPENDING].iterrows():
        match = np.ones(len(comparison), dtype=bool)
        for c in design:
            match &= comparison[c].astype(str).to_numpy() == str(r[c])
        same = comparison[match].set_index("metric")
        effect = same.loc[JOB_YEARS]
        mc = same.loc[MARGINAL_COST] if MARGINAL_COST in same.index else None
        rows.append({
            "panel": _scenario_label(r, scenario + ["policy"]) or "all runs",
            "policy": r.policy, "n": int(r.n),
            "cost": r["mean"], "cost_low": r.ci_low, "cost_high": r.ci_high,
            "effect": effect["mean"], "effect_low": effect.ci_low,
            "effect_high": effect.ci_high,
            "d_cost": r.diff_mean, "d_effect": effect.diff_mean,
            "marginal_cost": np.nan if mc is None else mc["mean"],
            "marginal_cost_low": np.nan if mc is None else mc.ci_low,
            "marginal_cost_high": np.nan if mc is None else mc.ci_high,
            "note": "" if mc is None else mc.note})
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    table["efficient"] = False
    for _, g in table.groupby("panel", sort=False):
        table.loc[g.index, "efficient"] = efficient_frontier(g.cost, g.effect)
    return table


# --- the headline table ----------------------------------------------------------------------

def _fmt_ci(fmt: str, mean: float, lo: float, hi: float, signed: bool = False,
            n: int | None = None, scale: float = 1) -> str:
    """``mean [lo, hi]``; the mean alone with ``n`` <= 2 seeds (the interval is too wide to
    read: ``print_table`` says so)."""
    if not np.isfinite(mean):
        return "n/a"
    f = fmt.replace("{:", "{:+") if signed else fmt
    text = f.format(mean / scale)
    show = n is None or n >= MIN_SEEDS_FOR_INTERVAL
    if show and np.isfinite(lo) and np.isfinite(hi):
        text += f" [{fmt.format(lo / scale)}, {fmt.format(hi / scale)}]"
    return text


def _row_order(sub: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    """Rows in the order the sweep lists its values, the baseline arm first in a scenario."""
    ranks = [sub[c].map({v: i for i, v in enumerate(pd.unique(sub[c]))}) for c in order]
    if "policy" in order:
        ranks[-1] = ranks[-1].where(sub.policy != BASELINE_ARM, -1)
    return sub.iloc[np.lexsort(ranks[::-1])] if ranks else sub


def headline_table(comparison: pd.DataFrame, design: list[str]) -> pd.DataFrame:
    """A wide table: one row per design point, mean [95 % CI] and the paired difference from
    baseline [95 % CI] of each headline indicator, and the marginal cost per added job-year."""
    varying = [c for c in design if comparison[c].nunique(dropna=False) > 1] or design[:1]
    order = [c for c in varying if c != "policy"] + (["policy"] if "policy" in varying else [])
    sub = _row_order(comparison[comparison.metric.isin([*HEADLINE, MARGINAL_COST])], order)
    rows = []
    for key, g in sub.groupby(order, sort=False, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        row = dict(zip(order, key, strict=True))
        row["n"] = n = int(g.runs_complete.iloc[0])
        for metric, (label, fmt, scale) in HEADLINE.items():
            r = g[g.metric == metric]
            if r.empty:
                continue
            r = r.iloc[0]
            row[label] = _fmt_ci(fmt, r["mean"], r.ci_low, r.ci_high, n=n, scale=scale)
            row[f"Δ {label}"] = (_fmt_ci(fmt, r.diff_mean, r.diff_ci_low, r.diff_ci_high,
                                         signed=True, n=r.n_pairs, scale=scale)
                                 if r.n_pairs > 0 else "—")
        row[MARGINAL_LABEL] = _fmt_marginal(g[g.metric == MARGINAL_COST])
        rows.append(row)
    return pd.DataFrame(rows)


def _fmt_marginal(rows: pd.DataFrame) -> str:
    if rows.empty:
        return "—"
    r = rows.iloc[0]
    if not np.isfinite(r["mean"]):
        return "n/a (adds no job-years)" if "no job-years" in str(r.note) else "n/a"
    text = _fmt_ci("{:,.0f}", r["mean"], r.ci_low, r.ci_high, n=int(r.n_pairs))
    return text + (" (CI unbounded)" if "unbounded" in str(r.note) else "")


def to_markdown(table: pd.DataFrame) -> str:
    """A GitHub markdown table (no extra dependency)."""
    cols = list(table.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for _, r in table.iterrows():
        lines.append("| " + " | ".join(str(r[c]) for c in cols) + " |")
    return "\n".join(lines) + "\n"


def _headline_parts(table: pd.DataFrame) -> tuple[list, list, list]:
    labels = [label for label, _, _ in HEADLINE.values()]
    keys = [c for c in table.columns if c not in ("n", MARGINAL_LABEL, *labels)
            and not c.startswith("Δ ")]
    levels = [c for c in labels if c in table.columns]
    diffs = [f"Δ {c}" for c in levels] + [MARGINAL_LABEL]
    return keys, levels, diffs


def print_table(table: pd.DataFrame, stream=sys.stdout, max_rows: int = 24) -> None:
    """Print the headline table in two parts (levels, then differences from baseline)."""
    if table.empty:
        return
    keys, levels, diffs = _headline_parts(table)
    shown = table.head(max_rows)
    more = (f"... {len(table) - max_rows} more rows in table.md\n"
            if len(table) > max_rows else "")
    with pd.option_context("display.width", 250, "display.max_columns", 30,
                           "display.max_colwidth", 48):
        stream.write("\nMean [95% CI] over seeds\n")
        stream.write(shown[keys + ["n"] + levels].to_string(index=False) + "\n" + more)
        if (table[diffs] != "—").any().any():
            stream.write("\nDifference from the baseline arm, paired by seed [95% CI]\n")
            stream.write(shown[keys + diffs].to_string(index=False) + "\n" + more)
    warning = seed_warning(int(table.n.min()))
    if warning:
        stream.write(warning + "\n")
    stream.flush()


def frontier_view(frontier: pd.DataFrame) -> pd.DataFrame:
    """The cost-effect table for printing: per scenario, arms by spending."""
    if frontier.empty:
        return frontier
    rows = []
    for _, r in frontier.sort_values(["panel", "cost"], kind="stable").iterrows():
        n = int(r.n)
        rows.append({
            "scenario": r.panel, "policy": r.policy,
            "spending (m yuan)": _fmt_ci("{:,.1f}", r.cost, r.cost_low, r.cost_high, n=n,
                                         scale=1e6),
            "poverty local job-years": _fmt_ci("{:,.0f}", r.effect, r.effect_low,
                                               r.effect_high, n=n),
            "yuan per job-year": _fmt_ci("{:,.0f}", r.cost / r.effect, np.nan, np.nan)
            if r.effect > 0 else "n/a",
            MARGINAL_LABEL: ("—" if r.policy == BASELINE_ARM else _fmt_marginal(pd.DataFrame(
                [{"mean": r.marginal_cost, "ci_low": r.marginal_cost_low,
                  "ci_high": r.marginal_cost_high, "n_pairs": n, "note": r.note}]))),
            "on frontier": "yes" if r.efficient else "no"})
    return pd.DataFrame(rows)


def shock_view(comparison: pd.DataFrame) -> pd.DataFrame:
    """The shock path metrics per shocked design point, for printing."""
    sub = comparison[comparison.metric.astype(str).str.startswith("shock_")]
    if sub.empty:
        return pd.DataFrame()
    formats = {"job_years_lost": "{:,.0f}", "depth": "{:.3f}", "recovery_months": "{:.0f}",
               "exits_in_window": "{:+.1f}", "exits_added": "{:+.1f}",
               "exits_brought_forward": "{:+.1f}"}
    rows = []
    keys = [c for c in GROUPS if c in sub.columns]
    for key, g in sub.groupby(keys, sort=False, dropna=False):
        row = dict(zip(keys, key, strict=True))
        row["n"] = int(g.n.max())
        for metric, fmt in formats.items():
            r = g[g.metric == f"shock_{metric}"].iloc[0]
            row[metric] = _fmt_ci(fmt, r["mean"], r.ci_low, r.ci_high, n=int(r.n))
            if metric == "recovery_months" and r.n < row["n"]:
                row[metric] += f" ({row['n'] - int(r.n)} not recovered)"
        rows.append(row)
    return pd.DataFrame(rows)


def _print_section(title: str, table: pd.DataFrame, stream) -> None:
    if table.empty:
        return
    with pd.option_context("display.width", 250, "display.max_columns", 30,
                           "display.max_colwidth", 60):
        stream.write(f"\n{title}\n{table.to_string(index=False)}\n")


FRONTIER_TITLE = ("Cost and effect (equal-budget view: an arm is on the frontier when no arm "
                  "spends less and keeps more job-years)")
SHOCK_TITLE = ("Shock paths, paired by seed with the same arm without the shock "
               "(job-years lost in the window, depth, months to recover, extra exits)")


def markdown_report(table: pd.DataFrame, frontier: pd.DataFrame,
                    shocks: pd.DataFrame) -> str:
    """``table.md``: the headline table (and its warning), the frontier and the shock
    paths."""
    text = to_markdown(table) if not table.empty else ""
    warning = seed_warning(int(table.n.min())) if not table.empty else ""
    if warning:
        text += f"\n{warning}\n"
    for title, part in ((FRONTIER_TITLE, frontier), (SHOCK_TITLE, shocks)):
        if not part.empty:
            text += f"\n{title}\n\n" + to_markdown(part)
    return text


# --- the whole aggregation --------------------------------------------------------------------

def aggregate(sweep_dir: Path, figures: bool = True, quiet: bool = False) -> SweepAggregate:
    """Aggregate ``sweep_dir`` and write its outputs there (atomically).

    Args:
        sweep_dir: a multirun directory.
        figures: also draw the sweep figures.
        quiet: do not print the table and the status lines.
    """
    sweep_dir = Path(sweep_dir)
    runs = collect_runs(sweep_dir)
    if runs.empty:
        raise FileNotFoundError(f"no runs found in {sweep_dir}")
    design = design_columns(runs)
    paths = shock_paths(sweep_dir, runs, design)
    comparison = compare(runs, design)
    derived = marginal_cost_rows(runs, design) + shock_path_rows(paths, runs, design)
    if derived:
        comparison = pd.concat([comparison, pd.DataFrame(derived)], ignore_index=True)
    frontier = frontier_table(comparison, design)
    result = SweepAggregate(sweep_dir, runs, comparison, design)
    atomic_write_parquet(runs, sweep_dir / "runs.parquet")
    atomic_write_bytes(sweep_dir / "comparison.csv", comparison.to_csv(index=False).encode())
    atomic_write_bytes(sweep_dir / "frontier.csv", frontier.to_csv(index=False).encode())
    table = headline_table(comparison, design)
    shocks = shock_view(comparison)
    atomic_write_bytes(sweep_dir / "table.md",
                       markdown_report(table, frontier_view(frontier), shocks).encode())
    result.written += [sweep_dir / name for name in OUTPUTS]
    manifest = read_manifest(sweep_dir) or {}
    if manifest.get("design"):
        result.written += write_indices(sweep_dir, runs, manifest["design"], result.notes,
                                        quiet=quiet)
    result.notes += undefined_notes(runs)
    if figures:  # the tables above are the results; a figure that fails is reported only
        result.written += _draw(sweep_dir, runs, design, frontier, paths, result.notes)
        try:
            from experiments.report import sweep_report

            result.written.append(sweep_report(result, table, frontier, meta={
                "sweep": sweep_dir.name, "runs": len(runs),
                "code version": manifest.get("code_version", ""),
                "aggregated by": "python -m experiments.aggregate (experiments.report)"}))
        except Exception as exc:
            result.notes.append(f"report.html not written: {type(exc).__name__}: {exc}")
    if not quiet:
        print_table(table)
        _print_section(FRONTIER_TITLE, frontier_view(frontier), sys.stdout)
        _print_section(SHOCK_TITLE, shocks, sys.stdout)
        report(result)
    return result


def _draw(sweep_dir: Path, runs: pd.DataFrame, design: list[str], frontier: pd.DataFrame,
          paths: ShockPaths, notes: list[str]) -> list[Path]:
    """Every sweep figure; one that fails is noted, not raised."""
    drawers = [("sweep figures", lambda: sweep_figures(sweep_dir, runs, design, notes))]
    if not frontier.empty:
        drawers.append(("frontier.png", lambda: [
            frontier_figure(frontier, sweep_dir / "frontier.png")]))
    if paths.gaps:
        drawers.append(("shock_path.png", lambda: [
            shock_path_figure(paths.gaps, paths.windows, sweep_dir / "shock_path.png")]))
    written = []
    for name, draw in drawers:
        try:
            written += draw()
        except Exception as exc:
            notes.append(f"{name} not drawn: {type(exc).__name__}: {exc}")
    return written


def report(result: SweepAggregate, stream=sys.stdout) -> None:
    """Print the run counts, the failed and missing runs and where the outputs are."""
    counts = result.runs.status.value_counts().to_dict()
    stream.write(f"\n{len(result.runs)} runs: {counts.get('complete', 0)} complete, "
                 f"{counts.get('failed', 0)} failed, {counts.get('missing', 0)} missing\n")
    if counts.get("corrupt", 0):
        stream.write(f"{counts['corrupt']} run(s) corrupt (files changed after the run wrote "
                     "them): not used; rerun the sweep's command to redo them\n")
    for _, r in result.runs[result.runs.status.isin(["failed", "corrupt"])].iterrows():
        stream.write(f"  {r.status:7}: {r.job}: {r.error}\n")
    missing = result.jobs_with("missing")
    for name in missing[:20]:
        stream.write(f"  missing: {name}\n")
    if len(missing) > 20:
        stream.write(f"  ... and {len(missing) - 20} more missing (see runs.parquet)\n")
    for note in result.notes:
        stream.write(f"  {note}\n" if note.startswith("warning") else f"  note: {note}\n")
    stream.write(f"outputs in {result.sweep_dir}: "
                 + ", ".join(p.name for p in result.written) + "\n")
    stream.flush()


def main(argv: list[str] | None = None) -> int:
    """``python -m experiments.aggregate DIR [--no-figures] [--quiet]``."""
    parser = argparse.ArgumentParser(prog="python -m experiments.aggregate",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("sweep_dir", type=Path, help="a multirun (sweep) directory")
    parser.add_argument("--no-figures", action="store_true", help="skip the figures")
    parser.add_argument("--quiet", action="store_true", help="print nothing on success")
    args = parser.parse_args(argv)
    if not args.sweep_dir.is_dir():
        print(f"error: {args.sweep_dir} is not a directory", file=sys.stderr)
        return 2
    try:
        result = aggregate(args.sweep_dir, figures=not args.no_figures, quiet=args.quiet)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0 if set(result.runs.status) == {"complete"} else 1


if __name__ == "__main__":
    sys.exit(main())
