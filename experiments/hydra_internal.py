"""Every use of Hydra's private API (``hydra._internal``) in the project, in one place.

Hydra has no public API to launch an explicit list of jobs (a design is not a grid) or to
expand a grid the way its basic sweeper does; both are done here with Hydra's internal
classes. Tested on hydra-core 1.3.8 (the project pins ``hydra-core>=1.3,<1.4``); a new Hydra
version may change these names, and then only this module needs to change.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from hydra._internal.callbacks import Callbacks
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra._internal.hydra import Hydra
from hydra._internal.utils import create_config_search_path
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.types import Override
from hydra.core.plugins import Plugins
from hydra.types import HydraContext, RunMode
from omegaconf import OmegaConf

# ``hydra.sweeper._target_`` of Hydra's basic sweeper (the grid sweeper).
BASIC_SWEEPER = "hydra._internal.core_plugins.basic_sweeper.BasicSweeper"


def grid_overrides(parsed: list[Override]) -> list[list[str]]:
    """The jobs of a grid, each a list of overrides, in the basic sweeper's order."""
    return [list(overrides) for batch in BasicSweeper.split_arguments(parsed, None)
            for overrides in batch]


def launch_multirun(task_function: Callable, config_dir: Path, jobs: list[list[str]],
                    overrides: list[str], config_name: str = "config") -> None:
    """Run ``jobs`` as one multirun through the launcher the composed config names.

    Composes the multirun's master config as ``@hydra.main`` does in ``-m`` mode (same config
    directory, launcher presets and callbacks), saves ``multirun.yaml`` in the sweep
    directory, calls the callbacks' ``on_multirun_start``, launches the jobs and calls
    ``on_multirun_end``.

    Args:
        task_function: the function each job runs (a Hydra task).
        config_dir: the primary config directory.
        jobs: the overrides of every job.
        overrides: the master config's overrides (``hydra.mode=MULTIRUN`` is added).
        config_name: the primary config.
    """
    GlobalHydra.instance().clear()
    hydra = Hydra.create_main_hydra2(
        task_name="cli", config_search_path=create_config_search_path(f"file://{config_dir}"))
    try:
        cfg = hydra.compose_config(config_name, overrides=[*overrides, "hydra.mode=MULTIRUN"],
                                   run_mode=RunMode.MULTIRUN, with_log_configuration=True)
        callbacks = Callbacks(cfg)
        callbacks.on_multirun_start(config=cfg, config_name=config_name)
        launcher = Plugins.instance().instantiate_launcher(
            config=cfg, task_function=task_function,
            hydra_context=HydraContext(config_loader=hydra.config_loader, callbacks=callbacks))
        sweep_dir = Path(str(cfg.hydra.sweep.dir))
        sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(cfg, sweep_dir / "multirun.yaml")
        launcher.launch(jobs, initial_job_idx=0)
        callbacks.on_multirun_end(config=cfg, config_name=config_name)
    finally:
        GlobalHydra.instance().clear()
