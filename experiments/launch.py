"""Run an explicit list of jobs through the launcher Hydra is configured with.

Hydra's basic sweeper only makes grids (cartesian products). A design (Latin hypercube,
Sobol) is a list of points, so ``experiments.design`` plays the sweeper's part: it composes
the multirun's master config exactly as ``python -m sim -m`` does (same configs, same
``hydra/launcher=...`` presets, same callbacks), then hands its job list to the launcher.
Each job runs ``sim.cli.run_job``, so skipping complete runs and recording failures work
the same for designs as for grids.

The Hydra internals this needs are in ``experiments.hydra_internal``.
"""

from __future__ import annotations

from experiments.hydra_internal import launch_multirun
from sim.cli import run_job
from sim.config import CONFIG_DIR, register_configs


def launch_jobs(jobs: list[list[str]], master_overrides: list[str]) -> None:
    """Run ``jobs`` (one override list each) as one multirun.

    Args:
        jobs: the overrides of every job (task overrides, and e.g. ``hydra.sweep.subdir``).
        master_overrides: overrides common to the multirun: the task overrides shared by all
            jobs and Hydra's (``hydra/launcher=...``, ``hydra.sweep.dir=...``).
    """
    register_configs()
    launch_multirun(run_job, CONFIG_DIR, jobs, master_overrides)
