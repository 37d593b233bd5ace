"""The jobs a sweep should have, written to ``sweep.json`` in the sweep directory.

For a grid (Hydra's basic sweeper) the list is Hydra's own expansion of the command's
overrides (``BasicSweeper.split_arguments``, through ``experiments.hydra_internal``); a
design sweep (``experiments.design``) writes its own list. The aggregate compares the list
with the job directories to say which runs are missing.
"""

from __future__ import annotations

import json
from pathlib import Path

from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import OmegaConf

from experiments.hydra_internal import BASIC_SWEEPER, grid_overrides
from sim.atomic import atomic_write_bytes
from sim.jobs import read_json

MANIFEST = "sweep.json"


def job_subdir(overrides: list[str], exclude_keys: list[str] | tuple = (),
               item_sep: str = ",", kv_sep: str = "=") -> str:
    """The job directory name Hydra gives ``${hydra.job.override_dirname}``."""
    parsed = OverridesParser.create().parse_overrides(list(overrides))
    lines = sorted(o.input_line for o in parsed if o.key_or_group not in exclude_keys)
    return item_sep.join(lines).replace("=", kv_sep)


def grid_jobs(config) -> list[dict] | None:
    """Jobs of a multirun launched by the basic sweeper, from its master config.

    Returns:
        ``[{"overrides": [...], "subdir": "..."}, ...]``, or None when another sweeper runs
        the sweep or the job directory is not ``${hydra.job.override_dirname}``.
    """
    hydra_cfg = config.hydra
    if OmegaConf.select(hydra_cfg, "sweeper._target_") != BASIC_SWEEPER:
        return None
    raw_subdir = OmegaConf.to_container(hydra_cfg.sweep, resolve=False).get("subdir")
    if raw_subdir != "${hydra.job.override_dirname}":
        return None
    params = OmegaConf.select(hydra_cfg, "sweeper.params") or {}
    args = [f"{k}={v}" for k, v in params.items()] + list(hydra_cfg.overrides.task)
    parsed = OverridesParser.create().parse_overrides(args)
    dirname = hydra_cfg.job.config.override_dirname
    return [{"overrides": overrides,
             "subdir": job_subdir(overrides, list(dirname.exclude_keys), dirname.item_sep,
                                  dirname.kv_sep)}
            for overrides in grid_overrides(parsed)]


def write_manifest(sweep_dir: Path, manifest: dict) -> None:
    """Write ``sweep.json`` atomically."""
    atomic_write_bytes(Path(sweep_dir) / MANIFEST,
                       json.dumps(manifest, indent=2, default=str).encode())


def read_manifest(sweep_dir: Path) -> dict | None:
    """The manifest of a sweep directory, or None."""
    return read_json(Path(sweep_dir) / MANIFEST)
