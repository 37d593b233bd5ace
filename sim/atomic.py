"""Atomic file writes: readers see the old file or the new one, never half of one.

Every output of a run or a sweep goes through these (temporary file in the same folder, then
``os.replace``), so an interrupted or parallel job never leaves a truncated file behind.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd


def atomic_write(path: Path, write) -> None:
    """Create ``path`` atomically: ``write(tmp)`` fills a temporary file in the same folder,
    which then replaces ``path`` (readers see the old file or the new one, never half)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (flushed to disk before the rename)."""
    def write(tmp):
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())

    atomic_write(path, write)


def atomic_write_parquet(df: pd.DataFrame, path: Path) -> None:
    """Write a DataFrame as Parquet atomically."""
    atomic_write(path, lambda tmp: df.to_parquet(tmp, index=False))
