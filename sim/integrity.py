"""The completion manifest of a run directory: what a finished run wrote, and a check of it.

A run writes ``complete.json`` after every other output, atomically: the run id and, for each
file it wrote, its size in bytes and SHA-256. A directory whose manifest is missing holds no
finished run (killed, failed or still running); one whose files no longer match it holds a
damaged run (a truncated Parquet file, an edited ``summary.json``), which a sweep's resume
reruns and the aggregation reports and never uses (``sim.jobs.check_job``).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import NamedTuple

from sim.atomic import atomic_write_bytes

COMPLETE = "complete.json"
# Read in blocks so that checking a large run does not hold its files in memory.
_BLOCK = 1 << 20


def file_record(path: Path) -> dict:
    """Size (bytes) and SHA-256 (hex) of one file."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while block := fh.read(_BLOCK):
            digest.update(block)
            size += len(block)
    return {"size": size, "sha256": digest.hexdigest()}


def write_completion(out_dir: Path, names: list[str], run_id: str) -> None:
    """Write ``complete.json`` for the files ``names`` of ``out_dir`` (call it last)."""
    out_dir = Path(out_dir)
    manifest = {"run_id": run_id,
                "files": {name: file_record(out_dir / name) for name in sorted(set(names))}}
    atomic_write_bytes(out_dir / COMPLETE, json.dumps(manifest, indent=2).encode())


def remove_completion(out_dir: Path) -> None:
    """Remove the manifest before a run (re)writes the directory, so that a run stopped half
    way never leaves the old manifest beside new files."""
    (Path(out_dir) / COMPLETE).unlink(missing_ok=True)


class Verified(NamedTuple):
    """The state of a run directory's files against its manifest."""

    status: str  # "complete", "corrupt" or "incomplete" (no manifest)
    problem: str  # why it is not complete ("" when it is)
    run_id: str | None  # the run id the manifest names


def verify_run(out_dir: Path, required: tuple[str, ...] = ()) -> Verified:
    """Check every file the manifest lists (size, then SHA-256) and that ``required`` are
    listed.

    Args:
        out_dir: the run directory.
        required: files a complete run must have written.
    """
    out_dir = Path(out_dir)
    try:
        text = (out_dir / COMPLETE).read_text()
    except FileNotFoundError:
        return Verified("incomplete", f"no {COMPLETE} (the run did not finish)", None)
    except OSError as exc:
        return Verified("corrupt", f"{COMPLETE} unreadable: {exc.strerror or exc}", None)
    try:
        manifest = json.loads(text)
        files = manifest["files"]
        run_id = manifest["run_id"]
        entries = {str(name): (int(e["size"]), str(e["sha256"])) for name, e in files.items()}
    except (ValueError, KeyError, TypeError, AttributeError):
        return Verified("corrupt", f"{COMPLETE} is not a completion manifest", None)
    unlisted = [name for name in required if name not in entries]
    if unlisted:
        return Verified("corrupt", f"{COMPLETE} does not list {', '.join(unlisted)}", run_id)
    for name, (size, sha256) in entries.items():
        path = out_dir / name
        if Path(name).is_absolute() or ".." in Path(name).parts or not path.is_file():
            return Verified("corrupt", f"{name} is missing", run_id)
        actual = path.stat().st_size
        if actual != size:
            return Verified("corrupt", f"{name} has {actual} bytes, the run wrote {size}",
                            run_id)
        if file_record(path)["sha256"] != sha256:
            return Verified("corrupt", f"{name} was changed after the run wrote it "
                            "(SHA-256 differs)", run_id)
    return Verified("complete", "", run_id)
