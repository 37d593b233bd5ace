"""Run an explicit list of jobs through the launcher Hydra is configured with.

Hydra's basic sweeper only makes grids (cartesian products). A design (Latin hypercube,
Sobol) is a list of points, so ``experiments.design`` plays the sweeper's part: it composes
the multirun's master config exactly as ``python -m sim -m`` does (same configs, same
``hydra/launcher=...`` presets, same callbacks), then hands its job list to the launcher.
Each job runs ``sim.cli.run_job``, so skipping complete runs and recording failures work
the same for designs as for grids.

This uses Hydra's internal ``Hydra`` class (hydra-core is pinned below 1.4).
"""

from __future__ import annotations

from pathlib import Path


def launch_jobs(jobs: list[list[str]], master_overrides: list[str]) -> None:
    """Run ``jobs`` (one override list each) as one multirun.

    Args:
        jobs: the overrides of every job (task overrides, and e.g. ``hydra.sweep.subdir``).
        master_overrides: overrides common to the multirun: the task overrides shared by all
            jobs and Hydra's (``hydra/launcher=...``, ``hydra.sweep.dir=...``).
    """
    from hydra._internal.callbacks import Callbacks
    from hydra._internal.hydra import Hydra
    from hydra._internal.utils import create_config_search_path
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.plugins import Plugins
    from hydra.types import HydraContext, RunMode
    from omegaconf import OmegaConf

    from sim.cli import CONFIG_DIR, run_job
    from sim.config import register_configs

    register_configs()
    GlobalHydra.instance().clear()
    hydra = Hydra.create_main_hydra2(
        task_name="cli", config_search_path=create_config_search_path(f"file://{CONFIG_DIR}"))
    try:
        cfg = hydra.compose_config("config", overrides=[*master_overrides, "hydra.mode=MULTIRUN"],
                                   run_mode=RunMode.MULTIRUN, with_log_configuration=True)
        callbacks = Callbacks(cfg)
        callbacks.on_multirun_start(config=cfg, config_name="config")
        launcher = Plugins.instance().instantiate_launcher(
            config=cfg, task_function=run_job,
            hydra_context=HydraContext(config_loader=hydra.config_loader, callbacks=callbacks))
        sweep_dir = Path(str(cfg.hydra.sweep.dir))
        sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(cfg, sweep_dir / "multirun.yaml")
        launcher.launch(jobs, initial_job_idx=0)
        callbacks.on_multirun_end(config=cfg, config_name="config")
    finally:
        GlobalHydra.instance().clear()
