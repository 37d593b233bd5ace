"""Job directories of ``python -m sim``: completeness markers, failure records, sweep names.

**Status of a job directory.** A job directory is *complete* when ``summary.json`` parses,
names the run id of the configuration in ``config.yaml`` and every table of the run is there
(``summary.json`` is written last, so a run killed half way never has one). It is *failed*
when it holds ``error.json`` and no complete summary, and *incomplete* otherwise. A multirun
job skips itself when its directory is complete and writes ``error.json`` when it raises
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

from sim.atomic import atomic_write_bytes
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


def complete_record(job_dir: Path, run_id: str | None = None) -> dict | None:
    """The summary of a complete run in ``job_dir``, else None.

    Args:
        job_dir: the job's output directory.
        run_id: if given, the summary must carry this run id (the hash of the resolved
            configuration the caller is about to run); a run of another configuration in
            the same directory is not complete for this one.
    """
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


def sweep_dir_override(path: Path) -> str:
    """A ``hydra.sweep.dir=`` override for ``path``, quoted for Hydra's parser."""
    text = str(path)
    if "'" in text or "\\" in text or "$" in text:
        raise ValueError(f"unsupported character in sweep directory {text!r}")
    return f"hydra.sweep.dir='{text}'"
