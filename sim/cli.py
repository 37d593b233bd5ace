"""Command line: ``python -m sim [hydra overrides]`` runs one simulation (or a multirun).

Bad input is caught before any work: every override is parsed and composed against the
schema, and the composed config validated; the first problem is printed as one line naming
the field and the allowed range, and the process exits with status 2.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from hydra.types import RunMode
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from sim import checkpoint, jobs, rundir
from sim.config import (
    CONFIG_DIR,
    ConfigError,
    check_overrides,
    compose,
    describe_field,
    presets,
    register_configs,
    to_config,
)
from sim.engines import make_simulation
from sim.memory import check_memory
from sim.results import run_id_for, write_run
from sim.state import NonFiniteStateError

GROUPS = ("world", "policy", "shock", "calibration")
# Hydra flags that take a value in the next token.
FLAGS_WITH_VALUE = {"--config-path", "-cp", "--config-name", "-cn", "--config-dir", "-cd",
                    "--cfg", "-c", "--package", "-p", "--experimental-rerun"}
# Exit status of a run stopped by a NaN or an infinity in its state (bad input exits 2).
EXIT_NON_FINITE = 3
# Hydra flags that unpickle a file (code execution from whatever the file holds). Hydra's
# argparse parser accepts any unambiguous prefix of a flag, so prefixes are refused too.
UNPICKLING_FLAGS = ("--experimental-rerun",)
# Hydra flags that print something instead of running: no directory is needed.
NO_RUN_FLAGS = {"--cfg", "-c", "--shell-completion", "-sc", "--version"}


class InputError(Exception):
    """Bad command-line input; the message is one line."""


def _split_overrides(argv: list[str]) -> list[str]:
    overrides, skip = [], False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg in FLAGS_WITH_VALUE:
            skip = True
        elif not arg.startswith("-"):
            overrides.append(arg)
    return overrides


def _first_line(exc: BaseException) -> str:
    """One line from a Hydra/OmegaConf error, with its cause and the field's allowed range."""
    def line(e):
        text = str(e).strip().splitlines()
        return text[0] if text else type(e).__name__

    msg = line(exc)
    cause = exc.__cause__ or exc.__context__
    key = getattr(exc, "full_key", None) or getattr(cause, "full_key", None)
    if cause is not None and line(cause) not in msg:
        msg = f"{msg.rstrip('.')}: {line(cause)}"
    if key:
        allowed = describe_field(key)
        if allowed:
            msg = f"{msg}; {key} must be {allowed}"
    return msg


def preflight(overrides: list[str]) -> None:
    """Check every override (each value of a sweep on its own) before any work starts.

    Raises:
        InputError: with a one-line message.
    """
    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
    except HydraException as exc:
        raise InputError(f"malformed override: {_first_line(exc)}") from None
    try:
        check_overrides(overrides)
    except ConfigError as exc:
        raise InputError(str(exc)) from None
    plain, sweeps = [], []
    for o in parsed:
        key = o.key_or_group
        if key.startswith("hydra") or key.startswith("+hydra"):
            continue
        values = list(o.sweep_string_iterator()) if o.is_sweep_override() else None
        if key in GROUPS:
            known = presets(key)
            for v in values if values is not None else [o.get_value_element_as_str()]:
                if v not in known:
                    raise InputError(f"{key} = {v!r} is not a known {key}; choose from "
                                     f"{', '.join(known)}")
        if values is None:
            plain.append(o.input_line)
        else:
            sweeps.append((key, values))
    checks = [plain] + [plain + [f"{key}={v}"] for key, values in sweeps for v in values]
    for overrides_set in checks:
        try:
            cfg = compose(overrides_set)
            check_memory(cfg)
            if cfg.run.resume_from:
                checkpoint.check(cfg.run.resume_from, cfg)
        except ConfigError as exc:
            raise InputError(str(exc)) from None
        except (HydraException, OmegaConfBaseException, ValueError) as exc:
            raise InputError(_first_line(exc)) from None


class Progress:
    """A one-line progress display for runs that take more than a couple of seconds.

    The time left is paced from the first step reported onwards: the first step of a process
    includes compiling the kernels on a cold cache, which would inflate the estimate.
    """

    def __init__(self, label: str, stream=sys.stderr, after_seconds: float = 2.0):
        self.label = label
        self.stream = stream
        self.start = time.perf_counter()
        self.after = after_seconds
        self.last = 0.0
        self.shown = False
        self.first: tuple[int, float] | None = None  # (steps done, seconds) at the first call

    def seconds_left(self, done: int, total: int, now: float) -> float | None:
        """Seconds left at the pace since the first call (None before a second call)."""
        if self.first is None or done <= self.first[0]:
            return None
        return (now - self.first[1]) / (done - self.first[0]) * (total - done)

    def __call__(self, done: int, total: int) -> None:
        now = time.perf_counter() - self.start
        if self.first is None:
            self.first = (done, now)
        if now < self.after or (now - self.last < 0.5 and done < total):
            return
        self.last = now
        self.shown = True
        left = self.seconds_left(done, total, now)
        eta = f", ~{left:4.1f}s left" if left is not None else ""
        self.stream.write(f"\r[{self.label}] step {done}/{total} ({100 * done / total:3.0f}%) "
                          f"{now:5.1f}s elapsed{eta} ")
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()


def run_job(cfg) -> dict:
    """The Hydra task: run one simulation and write its outputs into the job directory.

    The job holds the directory's lock (``sim.rundir``) while it runs. In a multirun, a job
    whose directory already holds a complete, verified run of the same configuration is
    skipped (a corrupt one is rerun), one holding a checkpoint of it continues from there
    (``sim.checkpoint``), and a job that raises writes ``error.json`` and returns instead of
    stopping the other jobs (``sim.jobs``).
    """
    hydra_cfg = HydraConfig.get()
    out_dir = Path(hydra_cfg.runtime.output_dir)
    multirun = hydra_cfg.mode == RunMode.MULTIRUN
    try:
        _check_job_dir(hydra_cfg, out_dir, multirun)
        with rundir.claimed(out_dir):
            return _run_in(cfg, hydra_cfg, out_dir, multirun)
    except rundir.OutputDirError as exc:
        print(f"error: {exc}", file=sys.stderr)
        if not multirun:
            sys.exit(2)
        return {"status": "failed", "error_type": "OutputDirError", "error": str(exc)}


def _check_job_dir(hydra_cfg, out_dir: Path, multirun: bool) -> None:
    """The job directory is a place runs may write to and, in a sweep, inside the sweep."""
    option = "hydra.sweep.dir" if multirun else "hydra.run.dir"
    target = rundir.check_output_dir(out_dir, option)
    if multirun:
        sweep = rundir.absolute(hydra_cfg.sweep.dir)
        if target != sweep and sweep not in target.parents:
            raise rundir.OutputDirError(f"job directory {target} is outside the sweep "
                                        f"directory {sweep}")


def _run_in(cfg, hydra_cfg, out_dir: Path, multirun: bool) -> dict:
    config_yaml = OmegaConf.to_yaml(cfg, resolve=True)
    if multirun:
        state = jobs.check_job(out_dir, run_id_for(config_yaml))
        if state.status == "complete":
            print(f"[{out_dir.name}] complete; skipped")
            return state.record
        if state.status == "corrupt":
            print(f"[{out_dir.name}] corrupt ({state.problem}); running it again",
                  file=sys.stderr)
    jobs.clear_markers(out_dir)
    try:
        config = to_config(cfg)
        label = (f"{config.world.name}/{config.policy.name}/{config.shock.name} "
                 f"seed {config.run.seed}")
        start = time.perf_counter()
        sim = make_simulation(config)
        checkpoint.continue_run(sim, out_dir if multirun else None)
        # Per-run lines are off in a multirun: parallel jobs' "\r" lines would interleave;
        # the sweep's progress bar (experiments.callbacks.SweepProgress) counts the runs.
        progress = Progress(label) if config.run.progress and not multirun else None
        sim.run(checkpoint.Saver(sim, out_dir, progress))
        record = write_run(sim, out_dir, config_yaml, figures=config.run.figures,
                           report=config.run.report)
    except Exception as exc:
        if not multirun:
            if isinstance(exc, ConfigError | NonFiniteStateError):
                print(f"error: {exc}", file=sys.stderr)
                sys.exit(2 if isinstance(exc, ConfigError) else EXIT_NON_FINITE)
            if isinstance(exc, OSError):  # a full disk, a read-only or vanished directory
                print(f"error: {write_failure(out_dir, exc)}", file=sys.stderr)
                sys.exit(1)
            raise
        return _record_job_failure(cfg, hydra_cfg, out_dir, config_yaml, exc)
    elapsed = time.perf_counter() - start
    survival = record["survival_3y"]
    print(f"[{label}] {elapsed:.1f}s; firms alive {record['firms_alive_end']}, "
          f"survival 3y {'n/a' if survival != survival else f'{survival:.3f}'}, "
          f"poverty-alleviated local jobs {record['poverty_pop_local_jobs_end']:.0f}; "
          f"outputs in {out_dir}")
    return record


def write_failure(out_dir: Path, exc: OSError) -> str:
    """One line for an output that could not be written (the run left no complete.json)."""
    where = f" ({exc.filename})" if exc.filename else ""
    return (f"could not write the run's outputs in {out_dir}{where}: {exc.strerror or exc}; "
            "the directory holds no complete run")


def _record_job_failure(cfg, hydra_cfg, out_dir: Path, config_yaml: str,
                        exc: Exception) -> dict:
    """Record a failed multirun job in ``error.json`` (if the disk lets us) and say so."""
    info = {key: OmegaConf.select(cfg, path) for key, path in (
        ("seed", "run.seed"), ("world", "world.name"), ("policy", "policy.name"),
        ("shock", "shock.name"))}
    info = {"run_id": run_id_for(config_yaml), **info,
            "overrides": list(hydra_cfg.overrides.task)}
    try:
        failure = jobs.record_failure(out_dir, exc, info)
    except OSError as write_exc:  # e.g. the disk is full: report without a record
        failure = {**info, "status": "failed", "error_type": type(exc).__name__,
                   "error": f"{exc}; error.json not written: {write_exc.strerror or write_exc}"}
    print(f"error: job {out_dir} failed: {failure['error_type']}: {failure['error']}",
          file=sys.stderr)
    return failure


def refuse_unpickling(argv: list[str]) -> None:
    """Refuse Hydra flags that unpickle a file (``--experimental-rerun`` and its prefixes).

    Raises:
        InputError: naming the flag and what to do instead.
    """
    for arg in argv:
        flag = arg.split("=", 1)[0]
        if len(flag) > 2 and flag.startswith("--") and any(
                full.startswith(flag) for full in UNPICKLING_FLAGS):
            raise InputError(f"{arg} is refused: Hydra would unpickle the file, which can run "
                             "any code; rerun with the overrides in <run dir>/.hydra/"
                             "overrides.yaml instead")


def _compose_with_hydra(overrides: list[str]):
    """The composed config with its ``hydra`` node, interpolations resolvable (``${now:}``,
    ``${hydra:...}``) as in the run."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.utils import setup_globals

    register_configs()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        cfg = hydra_compose(config_name="config", overrides=overrides, return_hydra_config=True)
    setup_globals()
    HydraConfig.instance().set_config(cfg)
    return cfg


def own_output_dir(argv: list[str], multirun: bool) -> list[str]:
    """Check the names and the directory of the run (or sweep), lock the directory before
    Hydra writes anything into it, and return ``argv`` with it as an absolute
    ``hydra.run.dir`` (``hydra.sweep.dir``), so that Hydra uses exactly the directory checked.

    Raises:
        InputError: a name that is not a label, a sweep value that leads out of the sweep
            directory, or a directory that may not or cannot be used (``sim.rundir``).
    """
    key = "hydra.sweep.dir" if multirun else "hydra.run.dir"
    overrides = _split_overrides(argv)
    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
        plain, directory = [], None
        for o in parsed:
            values = (list(o.sweep_string_iterator()) if o.is_sweep_override()
                      else [o.value() if isinstance(o.value(), str)
                            else o.get_value_element_as_str()])
            if o.key_or_group in rundir.LABEL_FIELDS:
                for value in values:
                    rundir.check_label(o.key_or_group, value)
            if multirun and not o.key_or_group.startswith("hydra"):
                for value in values:
                    rundir.check_job_override(f"{o.key_or_group}={value}")
            if multirun and o.key_or_group == "hydra.sweep.subdir":
                value = values[0]
                if value.startswith("/") or ".." in Path(value).parts:
                    raise rundir.OutputDirError(f"hydra.sweep.subdir={value} leads out of the "
                                                "sweep directory")
            if o.key_or_group == key:
                directory = values[0]
                if not directory.strip():
                    raise rundir.OutputDirError(f"{key} is empty; give a directory under "
                                                "results/ or outside the project")
            if not o.is_sweep_override() and o.key_or_group != "hydra.mode":
                plain.append(o.input_line)
        if directory is None or "${" in directory:
            # The default (or an interpolated) directory: resolved as Hydra will (about
            # 0.4 s), from names checked to be labels.
            cfg = _compose_with_hydra(plain)
            for field in rundir.LABEL_FIELDS:
                rundir.check_label(field, OmegaConf.select(cfg, field))
            directory = str(OmegaConf.select(cfg, key))
        target = rundir.check_output_dir(directory, key)
        override = jobs.dir_override(key, target)
        try:
            rundir.claim(target)
        except rundir.OutputDirError as exc:
            raise rundir.OutputDirError(f"{key}: {exc}") from None
    except (rundir.OutputDirError, ValueError) as exc:
        raise InputError(str(exc)) from None
    except (HydraException, OmegaConfBaseException) as exc:
        raise InputError(f"{key}: {_first_line(exc)}") from None
    kept = [a for a in argv if a.split("=", 1)[0].lstrip("+~") != key]
    return _with_override(kept, override)


def _with_override(argv: list[str], override: str) -> list[str]:
    """``argv`` with ``override`` next to the other overrides (for Hydra's parser)."""
    argv = list(argv)
    overrides = _split_overrides(argv)
    at = max((i + 1 for i, a in enumerate(argv) if overrides and a == overrides[-1]),
             default=len(argv))
    argv.insert(at, override)
    return argv


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``python -m sim``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    multirun = any(a in ("-m", "--multirun") or a.replace(" ", "") == "hydra.mode=MULTIRUN"
                   for a in argv)
    if not any(a in ("--help", "-h", "--hydra-help", "--info", "-i") for a in argv):
        try:
            refuse_unpickling(argv)
            preflight(_split_overrides(argv))
            if multirun and not any(a.startswith("hydra.sweep.dir=") for a in argv):
                # A stable sweep directory, so that rerunning the command resumes the sweep.
                argv = _with_override(argv, jobs.sweep_dir_override(
                    jobs.default_sweep_dir(_split_overrides(argv))))
            if not any(a in NO_RUN_FLAGS for a in argv):
                argv = own_output_dir(argv, multirun)
        except InputError as exc:
            print(f"error: {exc}", file=sys.stderr)
            sys.exit(2)
    register_configs()
    task = hydra.main(version_base="1.3", config_path=str(CONFIG_DIR),
                      config_name="config")(run_job)
    sys.argv = [sys.argv[0], *argv]
    run_reporting_io_errors(task)


def run_reporting_io_errors(task) -> None:
    """Run the Hydra entry ``task``; a file Hydra itself cannot write (its ``.hydra/``
    records, its log: a full disk, a read-only directory) ends the process with one line and
    status 1 instead of Hydra's traceback."""
    previous = os.environ.get("HYDRA_FULL_ERROR")
    os.environ["HYDRA_FULL_ERROR"] = "1"  # Hydra raises instead of printing a traceback
    try:
        task()
    except ConnectionError as exc:  # an OSError too, but a launcher's, not a file's
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(1)
    except OSError as exc:
        where = f" {exc.filename}" if exc.filename else ""
        print(f"error: could not write{where}: {exc.strerror or exc}", file=sys.stderr)
        sys.exit(1)
    finally:
        if previous is None:
            os.environ.pop("HYDRA_FULL_ERROR", None)
        else:
            os.environ["HYDRA_FULL_ERROR"] = previous
