"""``sim.run``: one simulation from Python, as ``python -m sim`` runs it, without the internals.

::

    import sim
    result = sim.run(world="teaching", policy="kpi_reform", seed=3, years=8,
                     **{"policy.rent_waiver": 0.3, "model.search_prob": 0.2})
    result.summary["survival_3y"]        # the indicators of summary.json
    result.timeseries                    # the tables of a run directory, as DataFrames
    result.firm_events, result.government, result.firms_end, result.industry
    result.save("out/")                  # the run directory python -m sim writes

Settings follow the command line's names: a preset per group (``world``, ``policy``,
``shock``, ``calibration``), then any field of the schema (``sim/config.py``) by its dotted
name, exactly as ``python -m sim policy.rent_waiver=0.3`` takes it. Python keywords cannot
hold a dot, so dotted settings are passed with ``**{...}``. ``seed``, ``years`` and
``engine`` are shortcuts for ``run.seed``, ``run.years`` and ``engine``.

Bad input raises :class:`RunInputError` (a ``ValueError``) before any work, with the one-line
message the command line prints, e.g. ``policy.credibility = 1.5 (probability) is out of
range; allowed [0, 1]``.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import functools
import math
import numbers
import threading
import typing
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from omegaconf import OmegaConf

from sim.config import Config, ConfigError, compose, default_presets, presets, validate
from sim.engines import make_simulation
from sim.memory import check_memory
from sim.results import (
    events_frame,
    firms_end_frame,
    government_frame,
    industry_frame,
    run_id_for,
    run_meta,
    summary,
    timeseries_frame,
    write_run,
)

__all__ = ["RunInputError", "RunResult", "make_config", "run"]

DEFAULTS = default_presets()  # the command line's presets (configs/config.yaml)
PRESET_GROUPS = tuple(DEFAULTS)
COMPOSE_LOCK = threading.Lock()  # Hydra's global state: one composition at a time


class RunInputError(ConfigError):
    """A bad argument of :func:`run`; the message is one line naming the field."""


@functools.lru_cache(maxsize=64)
def _presets_config(world: str, policy: str, shock: str, calibration: str) -> Config:
    with COMPOSE_LOCK:
        return compose([f"world={world}", f"policy={policy}", f"shock={shock}",
                        f"calibration={calibration}"])


@functools.lru_cache(maxsize=1)
def field_paths() -> dict[str, type]:
    """Every settable field of the schema by dotted name, with its Python type."""
    paths: dict[str, type] = {}

    def walk(node: type, prefix: str) -> None:
        for name, hint in typing.get_type_hints(node).items():
            if dataclasses.is_dataclass(hint):
                walk(hint, f"{prefix}{name}.")
            else:
                paths[prefix + name] = hint
    walk(Config, "")
    return paths


def _coerce(path: str, hint: type, value):
    """``value`` as the field's type (as Hydra would store it), or a one-line error."""
    origin = typing.get_origin(hint)
    if origin is list:
        if isinstance(value, str) or not isinstance(value, list | tuple):
            raise RunInputError(f"{path} = {value!r} must be a list")
        return list(value)
    if hint is bool:
        if not isinstance(value, bool):
            raise RunInputError(f"{path} = {value!r} must be True or False")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise RunInputError(f"{path} = {value!r} must be a string")
        return value
    numeric = isinstance(value, numbers.Real) and not isinstance(value, bool)  # numpy's too
    if hint is int:
        if numeric and (isinstance(value, numbers.Integral) or (math.isfinite(value)
                                                                and float(value).is_integer())):
            return int(value)
        raise RunInputError(f"{path} = {value!r} must be a whole number")
    if hint is float:
        if numeric:
            return float(value)
        raise RunInputError(f"{path} = {value!r} must be a number")
    return value


def unknown_field_error(path: str) -> RunInputError:
    if path in PRESET_GROUPS:
        return RunInputError(f"{path} is a preset group; pass {path}=NAME, one of "
                             f"{', '.join(presets(path))}")
    groups = {p.split(".")[0] for p in field_paths() if "." in p}
    if path in groups:
        return RunInputError(f"{path} is a config group; set its fields by dotted name, "
                             f"e.g. **{{'{path}.<field>': value}}")
    close = difflib.get_close_matches(path, list(field_paths()), n=1)
    hint = f"; did you mean {close[0]}?" if close else " (see sim/config.py)"
    return RunInputError(f"{path} is not a configuration field{hint}")


def make_config(world: str = DEFAULTS["world"], policy: str = DEFAULTS["policy"],
                shock: str = DEFAULTS["shock"], calibration: str = DEFAULTS["calibration"],
                **settings) -> Config:
    """The validated configuration ``python -m sim`` would run for these presets and settings.

    Args:
        world, policy, shock, calibration: preset names (``configs/<group>/<name>.yaml``).
        **settings: schema fields by dotted name (``"policy.rent_waiver": 0.3``).

    Raises:
        RunInputError: an unknown preset or field, or a value of the wrong type or out of
            range (one line).
    """
    chosen = {"world": world, "policy": policy, "shock": shock, "calibration": calibration}
    for group, name in chosen.items():
        known = presets(group)
        if name not in known:
            raise RunInputError(f"{group} = {name!r} is not a known {group}; choose from "
                                f"{', '.join(known)}")
    cfg = copy.deepcopy(_presets_config(world, policy, shock, calibration))
    fields = field_paths()
    for path, value in settings.items():
        if path not in fields:
            raise unknown_field_error(path)
        *parents, name = path.split(".")
        node = cfg
        for part in parents:
            node = getattr(node, part)
        setattr(node, name, _coerce(path, fields[path], value))
    try:
        validate(cfg)
        check_memory(cfg)
    except ConfigError as exc:
        raise RunInputError(str(exc)) from None
    return cfg


class RunResult:
    """A finished run: its configuration, indicators and tables.

    The tables are those of a run directory (``sim.results``), built on first access; every
    row carries ``run_id``, ``seed`` and the preset names, so results of many runs
    concatenate.

    Attributes:
        config: the validated :class:`sim.config.Config` that ran.
        simulation: the finished engine (``sim.engine.Simulation``), for what the tables
            do not show.
        run_id: the hash of the resolved configuration, as in the run directory's name.
    """

    def __init__(self, simulation, config_yaml: str):
        self.simulation = simulation
        self.config: Config = simulation.cfg
        self.config_yaml = config_yaml
        self.run_id = run_id_for(config_yaml)
        self.meta = run_meta(self.config, self.run_id)

    def __repr__(self) -> str:
        c = self.config
        return (f"RunResult(world={c.world.name!r}, policy={c.policy.name!r}, "
                f"shock={c.shock.name!r}, seed={c.run.seed}, years={c.run.years}, "
                f"run_id={self.run_id!r})")

    @functools.cached_property
    def summary(self) -> dict:
        """The indicators of ``summary.json`` (``sim.results.SUMMARY_DOC``) with the run's
        identity and ``steps``; NaN where undefined."""
        indicators = summary(self.simulation, self.timeseries, self._events)
        return {**self.meta, **indicators, "steps": self.simulation.step_index}

    @functools.cached_property
    def timeseries(self) -> pd.DataFrame:
        """``timeseries.parquet``: one row per month x county group (region, kind)."""
        return timeseries_frame(self.simulation, self.meta)

    @functools.cached_property
    def _events(self) -> pd.DataFrame:
        return events_frame(self.simulation, self.meta)

    @property
    def firm_events(self) -> pd.DataFrame:
        """``firm_events.parquet``: every entry, relocation and exit."""
        return self._events.drop(columns="event_code")

    @functools.cached_property
    def government(self) -> pd.DataFrame:
        """``government.parquet``: one row per county government and year."""
        return government_frame(self.simulation, self.meta)

    @functools.cached_property
    def firms_end(self) -> pd.DataFrame:
        """``firms_end.parquet``: the firms alive at the end."""
        return firms_end_frame(self.simulation, self.meta)

    @functools.cached_property
    def industry(self) -> pd.DataFrame:
        """``industry.parquet``: end-of-year firms, jobs and output by county kind x industry."""
        return industry_frame(self.simulation, self.meta)

    def save(self, out_dir: str | Path, figures: bool = False) -> Path:
        """Write the run directory ``python -m sim`` writes (``summary.json`` last); return it."""
        write_run(self.simulation, Path(out_dir), self.config_yaml, figures=figures)
        return Path(out_dir)


def config_yaml(cfg: Config) -> str:
    """The resolved YAML of a configuration, as a run directory's ``config.yaml`` holds it."""
    return OmegaConf.to_yaml(OmegaConf.structured(cfg), resolve=True)


def run(world: str = DEFAULTS["world"], policy: str = DEFAULTS["policy"],
        shock: str = DEFAULTS["shock"], seed: int | None = None, *, years: int | None = None,
        engine: str | None = None, calibration: str = DEFAULTS["calibration"],
        progress: Callable[[int, int], None] | None = None,
        **settings) -> RunResult:
    """Run one simulation, as ``python -m sim world=... policy=... shock=... [settings]``.

    Args:
        world, policy, shock, calibration: preset names (``configs/<group>/``); the defaults
            are the command line's.
        seed: ``run.seed``; None keeps the presets' (0), as the command line does, so the
            same call gives the same run.
        years: ``run.years`` (None: the preset's).
        engine: ``numba`` (default) or ``reference`` (per-agent Python, small worlds).
        progress: called as ``progress(done_steps, total_steps)`` after every month.
        **settings: any schema field by dotted name, e.g. ``**{"model.search_prob": 0.2}``.

    Returns:
        The finished run; its tables are built when first read.

    Raises:
        RunInputError: bad input, before any work (one line naming the field and the
            allowed values or range).
    """
    shortcuts = {"run.seed": seed, "run.years": years, "engine": engine}
    for path, value in shortcuts.items():
        if value is None:
            continue
        if path in settings:
            raise RunInputError(f"{path} is given twice (as {path.split('.')[-1]}= and "
                                f"as {path!r}); give it once")
        settings[path] = value
    cfg = make_config(world, policy, shock, calibration, **settings)
    simulation = make_simulation(cfg)
    simulation.run(progress)
    return RunResult(simulation, config_yaml(cfg))
