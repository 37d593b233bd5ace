"""The status of one job directory, and the record a failed job leaves behind.

A job directory is **complete** when ``summary.json`` parses, names the run id of the
configuration in ``config.yaml`` and every table of the run is there (``summary.json`` is
written last, so a run killed half way never has one). It is **failed** when it holds
``error.json`` and no complete summary, and **incomplete** otherwise.

This module is imported by ``sim.cli.run_job``; it must stay light (no pandas at import).
"""

from __future__ import annotations

import json
import traceback
from pathlib import Path

SUMMARY = "summary.json"
ERROR = "error.json"
CONFIG = "config.yaml"
TABLES = ("timeseries.parquet", "firm_events.parquet", "firms_end.parquet", "industry.parquet")
OVERRIDES = Path(".hydra") / "overrides.yaml"


def read_json(path: Path) -> dict | None:
    """The JSON object in ``path``, or None if it is missing or unreadable."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def complete_record(job_dir: Path, run_id: str | None = None) -> dict | None:
    """The summary of a complete run in ``job_dir``, else None.

    Args:
        job_dir: the job's output directory.
        run_id: if given, the summary must carry this run id (the hash of the resolved
            configuration the caller is about to run); a run of another configuration in
            the same directory is not complete for this one.
    """
    from sim.results import SUMMARY_DOC, run_id_for

    job_dir = Path(job_dir)
    record = read_json(job_dir / SUMMARY)
    if record is None or not set(SUMMARY_DOC) <= set(record):
        return None
    try:
        config_yaml = (job_dir / CONFIG).read_text()
    except OSError:
        return None
    if record.get("run_id") != run_id_for(config_yaml):
        return None
    if run_id is not None and record["run_id"] != run_id:
        return None
    if not all((job_dir / name).is_file() and (job_dir / name).stat().st_size > 0
               for name in TABLES):
        return None
    return record


def job_status(job_dir: Path) -> str:
    """``complete``, ``failed`` or ``incomplete``."""
    if complete_record(job_dir) is not None:
        return "complete"
    if (Path(job_dir) / ERROR).is_file():
        return "failed"
    return "incomplete"


def clear_markers(job_dir: Path) -> None:
    """Remove a stale ``summary.json`` / ``error.json`` before a job (re)runs."""
    for name in (SUMMARY, ERROR):
        path = Path(job_dir) / name
        if path.exists():
            path.unlink()


def record_failure(job_dir: Path, exc: BaseException, info: dict) -> dict:
    """Write ``error.json`` for a job that raised; return the record written.

    Args:
        job_dir: the job's output directory.
        exc: the exception.
        info: what is known of the job (overrides, run id, seed, preset names).
    """
    from sim.results import atomic_write_bytes

    record = {**info, "status": "failed", "error_type": type(exc).__name__,
              "error": str(exc).strip().splitlines()[0] if str(exc).strip() else "",
              "traceback": "".join(traceback.format_exception(exc))}
    atomic_write_bytes(Path(job_dir) / ERROR, json.dumps(record, indent=2, default=str).encode())
    return record
