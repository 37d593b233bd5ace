"""Job directories of ``python -m sim``: completeness markers, failure records, sweep names.

**Status of a job directory** (``check_job``). A job directory is *complete* when its
completion manifest (``complete.json``, written last by ``sim.results.write_run``) lists
``config.yaml``, ``summary.json`` and every table with sizes and checksums that still match,
and ``summary.json`` names the run id of ``config.yaml``. It is *corrupt* when the manifest is
there but a file no longer matches it (truncated, edited, deleted): a sweep's resume reruns
it, the aggregation reports it and never uses it. It is *failed* when it holds ``error.json``
and no manifest, and *incomplete* otherwise (killed half way, or never run). A multirun job
skips itself when its directory is complete and writes ``error.json`` when it raises
(``sim.cli.run_job``).

**Stable sweep directory names**, so that rerunning a sweep command resumes it.
``python -m sim -m ARGS`` without ``hydra.sweep.dir=`` writes into
``results/sweeps/<slug>-<hash>`` where ``<slug>`` is a readable form of the task overrides and
``<hash>`` the first 8 hex digits of the SHA-1 of the sorted overrides that define the sweep
(task overrides, ``hydra/sweeper`` and ``hydra.sweeper.*``) and of the model's source code
(``code_version``). The launcher, its settings and the output options of Hydra do not enter
the name, so the same sweep moved from joblib to Ray or SLURM resumes in the same directory,
while a change to the model's code starts a new directory instead of mixing results of two
model versions. Inside it each job writes to ``${hydra.job.override_dirname}`` (e.g.
``policy=kpi_reform,run.seed=3``), which does not depend on the order jobs are launched in.

The workflow around sweeps (manifests, aggregation, designs) is in ``experiments``, which
imports this module; ``sim`` never imports ``experiments``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import traceback
from pathlib import Path
from typing import NamedTuple

from sim.atomic import atomic_write_bytes
from sim.integrity import COMPLETE, remove_completion, verify_run
from sim.results import SUMMARY_DOC, run_id_for

SUMMARY = "summary.json"
ERROR = "error.json"
CONFIG = "config.yaml"
TABLES = ("timeseries.parquet", "firm_events.parquet", "firms_end.parquet", "industry.parquet",
          "government.parquet")
OVERRIDES = Path(".hydra") / "overrides.yaml"

SWEEPS_ROOT = Path("results") / "sweeps"
PACKAGE_DIR = Path(__file__).resolve().parent


# --- status of one job directory ---------------------------------------------------------------

def read_json(path: Path) -> dict | None:
    """The JSON object in ``path``, or None if it is missing or unreadable."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


class JobState(NamedTuple):
    """What a job directory holds (``check_job``)."""

    status: str  # "complete", "corrupt", "failed" or "incomplete"
    problem: str  # why it is not complete ("" when it is)
    record: dict | None  # the summary of a complete run


def _strict_json(path: Path) -> dict | None:
    """The JSON object in ``path`` under strict parsing (no NaN literal), or None."""
    def refuse(name):
        raise ValueError(f"non-standard JSON literal {name}")

    try:
        data = json.loads(Path(path).read_text(), parse_constant=refuse)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def check_job(job_dir: Path, run_id: str | None = None) -> JobState:
    """The state of a job directory, its files verified against its completion manifest.

    Args:
        job_dir: the job's output directory.
        run_id: if given, the run must be of this configuration (the hash of the resolved
            configuration the caller is about to run); a complete run of another
            configuration in the same directory counts as incomplete for this one.
    """
    job_dir = Path(job_dir)
    verified = verify_run(job_dir, required=(CONFIG, SUMMARY, *TABLES))
    if verified.status == "incomplete":
        if (job_dir / ERROR).is_file():
            return JobState("failed", "the run raised (error.json)", None)
        return JobState("incomplete", verified.problem, None)
    if verified.status == "corrupt":
        return JobState("corrupt", verified.problem, None)
    record = _strict_json(job_dir / SUMMARY)
    if record is None or not set(SUMMARY_DOC) <= set(record):
        return JobState("corrupt", f"{SUMMARY} is not a run summary", None)
    try:
        config_id = run_id_for((job_dir / CONFIG).read_text())
    except OSError as exc:
        return JobState("corrupt", f"{CONFIG} unreadable: {exc.strerror}", None)
    if not record.get("run_id") == verified.run_id == config_id:
        return JobState("corrupt", f"{SUMMARY}, {CONFIG} and {COMPLETE} name different runs",
                        None)
    if run_id is not None and config_id != run_id:
        return JobState("incomplete", "holds a run of another configuration", None)
    return JobState("complete", "", record)


def complete_record(job_dir: Path, run_id: str | None = None) -> dict | None:
    """The summary of a complete, verified run in ``job_dir`` (``check_job``), else None."""
    return check_job(job_dir, run_id).record


def job_status(job_dir: Path) -> str:
    """``complete``, ``corrupt``, ``failed`` or ``incomplete`` (``check_job``)."""
    return check_job(job_dir).status


def clear_markers(job_dir: Path) -> None:
    """Remove the completion manifest and a stale ``summary.json`` / ``error.json`` before a
    job (re)runs, so that the directory never looks complete while it is being written."""
    remove_completion(job_dir)
    for name in (SUMMARY, ERROR):
        (Path(job_dir) / name).unlink(missing_ok=True)


def record_failure(job_dir: Path, exc: BaseException, info: dict) -> dict:
    """Write ``error.json`` for a job that raised; return the record written.

    Args:
        job_dir: the job's output directory.
        exc: the exception.
        info: what is known of the job (overrides, run id, seed, preset names).
    """
    record = {**info, "status": "failed", "error_type": type(exc).__name__,
              "error": str(exc).strip().splitlines()[0] if str(exc).strip() else "",
              "traceback": "".join(traceback.format_exception(exc))}
    atomic_write_bytes(Path(job_dir) / ERROR, json.dumps(record, indent=2, default=str).encode())
    return record


# --- stable sweep directory names ------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """First 12 hex digits of the SHA-1 over the model's Python sources (``sim/**/*.py``)."""
    digest = hashlib.sha1()
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        digest.update(path.relative_to(PACKAGE_DIR).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _defines_sweep(override: str) -> bool:
    key = override.split("=", 1)[0].lstrip("+~")
    if key.startswith("hydra"):
        return key == "hydra/sweeper" or key.startswith("hydra.sweeper.")
    return True


def slug(text: str, limit: int = 72) -> str:
    """``text`` reduced to characters that are safe in file names and Hydra overrides."""
    text = re.sub(r"[^A-Za-z0-9._,=+-]+", "_", re.sub(r"[()\[\]{}]", "", text)).strip("_")
    return text[:limit].rstrip("_") or "sweep"


def sweep_name(overrides: list[str], extra: str = "", prefix: str | None = None) -> str:
    """The directory name of a sweep given its command-line overrides.

    Args:
        overrides: all overrides of the command line (Hydra's own are filtered here).
        extra: anything else that defines the sweep (e.g. a design specification).
        prefix: a fixed readable part instead of one made from the overrides.
    """
    defining = sorted(o for o in overrides if _defines_sweep(o))
    digest = hashlib.sha1("\n".join([*defining, extra, code_version()]).encode()).hexdigest()
    if prefix:
        return f"{slug(prefix)}-{digest[:8]}"
    task = [o for o in defining if not o.lstrip("+~").startswith("hydra")]
    swept = [o for o in task if _is_sweep(o)]
    readable = "__".join(o.lstrip("+~") for o in swept + [o for o in task if o not in swept])
    return f"{slug(readable)}-{digest[:8]}"


def _is_sweep(override: str) -> bool:
    from hydra.core.override_parser.overrides_parser import OverridesParser

    try:
        return OverridesParser.create().parse_override(override).is_sweep_override()
    except Exception:  # preflight reports malformed overrides; here any name will do
        return False


def default_sweep_dir(overrides: list[str], extra: str = "", prefix: str | None = None) -> Path:
    """Absolute path of the default sweep directory (absolute so that remote workers whose
    working directory differs, e.g. Ray's, write to the same place)."""
    return (SWEEPS_ROOT / sweep_name(overrides, extra, prefix)).resolve()


def dir_override(key: str, path: Path) -> str:
    """A ``key=path`` override (``hydra.run.dir``, ``hydra.sweep.dir``), quoted for Hydra's
    parser."""
    text = str(path)
    if "'" in text or "\\" in text or "$" in text:
        raise ValueError(f"unsupported character in directory {text!r}")
    return f"{key}='{text}'"


def sweep_dir_override(path: Path) -> str:
    """A ``hydra.sweep.dir=`` override for ``path``, quoted for Hydra's parser."""
    return dir_override("hydra.sweep.dir", path)
