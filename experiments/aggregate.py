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

A run is missing when the sweep's manifest (``sweep.json``) lists it and its directory holds
neither a complete run nor ``error.json``.
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
from experiments.figures import sweep_figures
from experiments.manifest import read_manifest
from experiments.stats import mean_ci, paired_difference
from sim import jobs
from sim.atomic import atomic_write_bytes, atomic_write_parquet
from sim.config import compose
from sim.results import SUMMARY_DOC

GROUPS = ("world", "policy", "shock")
BASELINE_ARM = "baseline"
OUTPUTS = ("runs.parquet", "comparison.csv", "table.md")
HEADLINE = {
    "survival_3y": ("survival 3y", "{:.3f}"),
    "survival_5y": ("survival 5y", "{:.3f}"),
    "post_expiry_survival_2y": ("post-expiry survival 2y", "{:.3f}"),
    "poverty_pop_local_jobs_end": ("poverty-alleviated local jobs", "{:,.0f}"),
    "cost_per_local_job_year": ("cost per local job-year (yuan)", "{:,.0f}"),
}


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
    found = {}
    for marker in (jobs.SUMMARY, jobs.ERROR, str(jobs.OVERRIDES)):
        for path in sweep_dir.rglob(marker):
            job_dir = path.parent.parent if marker == str(jobs.OVERRIDES) else path.parent
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


def collect_runs(sweep_dir: Path) -> pd.DataFrame:
    """One row per job of the sweep (found on disk or listed in the manifest)."""
    sweep_dir = Path(sweep_dir)
    manifest = read_manifest(sweep_dir) or {}
    expected = {job["subdir"]: job for job in manifest.get("jobs", [])}
    found = _job_dirs(sweep_dir)
    fields = summary_fields()
    rows = []
    for name in [*expected, *sorted(found.keys() - expected.keys())]:  # manifest order
        job_dir = sweep_dir / name
        entry = expected.get(name, {})
        overrides = _overrides_of(job_dir) if name in found else None
        overrides = overrides if overrides is not None else entry.get("overrides", [])
        status = jobs.job_status(job_dir) if name in found else "incomplete"
        record = {}
        if status == "complete":
            record = jobs.read_json(job_dir / jobs.SUMMARY) or {}
        elif status == "failed":
            record = jobs.read_json(job_dir / jobs.ERROR) or {}
        row = {"job": name, "status": "missing" if status == "incomplete" else status}
        for key in ("run_id", "seed", *GROUPS):
            row[key] = record.get(key)
        params = {k: v for k, v in parse_overrides(overrides).items()
                  if k not in GROUPS and k != "run.seed" and not k.startswith("hydra")}
        if row["seed"] is None and "run.seed" in parse_overrides(overrides):
            row["seed"] = parse_overrides(overrides)["run.seed"]
        if any(row[k] is None for k in ("seed", *GROUPS)):
            for key, value in _meta_from_config(overrides).items():
                row[key] = value if row[key] is None else row[key]
        if "design_point" in entry:
            row["design_point"] = entry["design_point"]
        row.update(params)
        for key in (*fields, "steps", "persons_per_agent"):
            row[key] = record.get(key, np.nan) if status == "complete" else np.nan
        row["error"] = (f"{record.get('error_type')}: {record.get('error')}"
                        if status == "failed" else None)
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


def design_columns(runs: pd.DataFrame) -> list[str]:
    """Columns that identify a design point: presets and overridden parameters, not the seed."""
    fixed = {"job", "status", "run_id", "seed", "error", "overrides", "steps",
             "persons_per_agent", *summary_fields()}
    return [c for c in runs.columns if c not in fixed]


# --- comparison ------------------------------------------------------------------------------

def _key(values) -> tuple:
    return tuple("<NA>" if (v is None or (isinstance(v, float) and np.isnan(v))) else v
                 for v in values)


def compare(runs: pd.DataFrame, design: list[str], metrics: list[str] | None = None,
            arm: str = "policy", baseline: str = BASELINE_ARM) -> pd.DataFrame:
    """Per design point and metric: n, mean, sd, 95 % CI, paired difference to baseline.

    Args:
        runs: the runs table (``collect_runs``).
        design: columns identifying a design point.
        metrics: summary fields to compare (default: all).
        arm: the column whose ``baseline`` value is the reference arm.
        baseline: the reference value of ``arm``.
    """
    metrics = metrics or summary_fields()
    keys = [_key(v) for v in runs[design].itertuples(index=False, name=None)]
    ids: dict[tuple, int] = {}
    point = np.array([ids.setdefault(k, len(ids)) for k in keys], dtype=int)
    arm_index = design.index(arm) if arm in design else None
    no_diff = {"n_pairs": 0, "diff_mean": np.nan, "diff_sd": np.nan, "diff_ci_low": np.nan,
               "diff_ci_high": np.nan}

    def by_seed(group: pd.DataFrame, metric: str) -> dict:
        return dict(zip(group.seed.astype(int), group[metric].astype(float), strict=True))

    rows = []
    for key, pid in ids.items():
        group = runs[point == pid]
        done = group[group.status == "complete"]
        base = None
        if arm_index is not None and key[arm_index] != baseline:
            base_key = key[:arm_index] + (baseline,) + key[arm_index + 1:]
            if base_key in ids:
                base = runs[(point == ids[base_key]) & (runs.status == "complete")]
        counts = group.status.value_counts()
        values = group.iloc[0][design].to_dict()
        for metric in metrics:
            row = {**values, "metric": metric,
                   "runs_complete": int(counts.get("complete", 0)),
                   "runs_failed": int(counts.get("failed", 0)),
                   "runs_missing": int(counts.get("missing", 0))}
            row.update(mean_ci(done[metric].to_numpy(dtype=float)))
            row.update(no_diff if base is None else
                       paired_difference(by_seed(done, metric), by_seed(base, metric)))
            rows.append(row)
    return pd.DataFrame(rows)


# --- the headline table ----------------------------------------------------------------------

def _fmt_ci(fmt: str, mean: float, lo: float, hi: float, signed: bool = False) -> str:
    if not np.isfinite(mean):
        return "n/a"
    f = fmt.replace("{:", "{:+") if signed else fmt
    text = f.format(mean)
    if np.isfinite(lo) and np.isfinite(hi):
        text += f" [{fmt.format(lo)}, {fmt.format(hi)}]"
    return text


def headline_table(comparison: pd.DataFrame, design: list[str]) -> pd.DataFrame:
    """A wide table: one row per design point, mean [95 % CI] and the paired difference from
    baseline [95 % CI] of each headline indicator."""
    varying = [c for c in design if comparison[c].nunique(dropna=False) > 1] or design[:1]
    order = [c for c in varying if c != "policy"] + (["policy"] if "policy" in varying else [])
    sub = comparison[comparison.metric.isin(list(HEADLINE))]
    # Rows in the order the sweep lists its values, the baseline arm first in each scenario.
    ranks = [sub[c].map({v: i for i, v in enumerate(pd.unique(sub[c]))}) for c in order]
    if "policy" in order:
        ranks[-1] = ranks[-1].where(sub.policy != BASELINE_ARM, -1)
    sub = sub.iloc[np.lexsort(ranks[::-1])] if ranks else sub
    rows = []
    for key, g in sub.groupby(order, sort=False, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        row = dict(zip(order, key, strict=True))
        row["n"] = int(g.runs_complete.iloc[0])
        for metric, (label, fmt) in HEADLINE.items():
            r = g[g.metric == metric]
            if r.empty:
                continue
            r = r.iloc[0]
            row[label] = _fmt_ci(fmt, r["mean"], r.ci_low, r.ci_high)
            row[f"Δ {label}"] = (_fmt_ci(fmt, r.diff_mean, r.diff_ci_low, r.diff_ci_high,
                                         signed=True) if r.n_pairs > 0 else "—")
        rows.append(row)
    return pd.DataFrame(rows)


def to_markdown(table: pd.DataFrame) -> str:
    """A GitHub markdown table (no extra dependency)."""
    cols = list(table.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for _, r in table.iterrows():
        lines.append("| " + " | ".join(str(r[c]) for c in cols) + " |")
    return "\n".join(lines) + "\n"


def print_table(table: pd.DataFrame, stream=sys.stdout, max_rows: int = 24) -> None:
    """Print the headline table in two parts (levels, then differences from baseline)."""
    if table.empty:
        return
    keys = [c for c in table.columns if c not in ("n",) and c not in
            [label for label, _ in HEADLINE.values()] and not c.startswith("Δ ")]
    levels = [label for label, _ in HEADLINE.values() if label in table.columns]
    diffs = [f"Δ {c}" for c in levels]
    shown = table.head(max_rows)
    more = (f"... {len(table) - max_rows} more rows in table.md\n"
            if len(table) > max_rows else "")
    with pd.option_context("display.width", 250, "display.max_columns", 30,
                           "display.max_colwidth", 40):
        stream.write("\nMean [95% CI] over seeds\n")
        stream.write(shown[keys + ["n"] + levels].to_string(index=False) + "\n" + more)
        if (table[diffs] != "—").any().any():
            stream.write("\nDifference from the baseline arm, paired by seed [95% CI]\n")
            stream.write(shown[keys + diffs].to_string(index=False) + "\n" + more)
    stream.flush()


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
    comparison = compare(runs, design)
    result = SweepAggregate(sweep_dir, runs, comparison, design)
    atomic_write_parquet(runs, sweep_dir / "runs.parquet")
    atomic_write_bytes(sweep_dir / "comparison.csv", comparison.to_csv(index=False).encode())
    table = headline_table(comparison, design)
    atomic_write_bytes(sweep_dir / "table.md", to_markdown(table).encode())
    result.written += [sweep_dir / name for name in OUTPUTS]
    manifest = read_manifest(sweep_dir) or {}
    if manifest.get("design"):
        result.written += write_indices(sweep_dir, runs, manifest["design"], result.notes,
                                        quiet=quiet)
    if figures:  # the tables above are the results; a figure that fails is reported only
        try:
            result.written += sweep_figures(sweep_dir, runs, design, result.notes)
        except Exception as exc:
            result.notes.append(f"figures not drawn: {type(exc).__name__}: {exc}")
    if not quiet:
        print_table(table)
        report(result)
    return result


def report(result: SweepAggregate, stream=sys.stdout) -> None:
    """Print the run counts, the failed and missing runs and where the outputs are."""
    counts = result.runs.status.value_counts().to_dict()
    stream.write(f"\n{len(result.runs)} runs: {counts.get('complete', 0)} complete, "
                 f"{counts.get('failed', 0)} failed, {counts.get('missing', 0)} missing\n")
    for _, r in result.runs[result.runs.status == "failed"].iterrows():
        stream.write(f"  failed : {r.job}: {r.error}\n")
    missing = result.jobs_with("missing")
    for name in missing[:20]:
        stream.write(f"  missing: {name}\n")
    if len(missing) > 20:
        stream.write(f"  ... and {len(missing) - 20} more missing (see runs.parquet)\n")
    for note in result.notes:
        stream.write(f"  note: {note}\n")
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
