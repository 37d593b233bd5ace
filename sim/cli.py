"""Command line: ``python -m sim [hydra overrides]`` runs one simulation (or a multirun).

Bad input is caught before any work: every override is parsed and composed against the
schema, and the composed config validated; the first problem is printed as one line naming
the field and the allowed range, and the process exits with status 2.
"""

from __future__ import annotations

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

from sim import checkpoint, jobs
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

    In a multirun, a job whose directory already holds a complete run of the same
    configuration is skipped, one holding a checkpoint of it continues from there
    (``sim.checkpoint``), and a job that raises writes ``error.json`` and returns instead of
    stopping the other jobs (``sim.jobs``).
    """
    hydra_cfg = HydraConfig.get()
    out_dir = Path(hydra_cfg.runtime.output_dir)
    config_yaml = OmegaConf.to_yaml(cfg, resolve=True)
    multirun = hydra_cfg.mode == RunMode.MULTIRUN
    if multirun:
        done = jobs.complete_record(out_dir, run_id_for(config_yaml))
        if done is not None:
            print(f"[{out_dir.name}] complete; skipped")
            return done
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
            raise
        info = {key: OmegaConf.select(cfg, path) for key, path in (
            ("seed", "run.seed"), ("world", "world.name"), ("policy", "policy.name"),
            ("shock", "shock.name"))}
        failure = jobs.record_failure(out_dir, exc, {
            "run_id": run_id_for(config_yaml), **info,
            "overrides": list(hydra_cfg.overrides.task)})
        print(f"error: job {out_dir} failed: {failure['error_type']}: {failure['error']}",
              file=sys.stderr)
        return failure
    elapsed = time.perf_counter() - start
    print(f"[{label}] {elapsed:.1f}s; firms alive {record['firms_alive_end']}, "
          f"survival 3y {record['survival_3y']:.3f}, poverty-alleviated local jobs "
          f"{record['poverty_pop_local_jobs_end']:.0f}; outputs in {out_dir}")
    return record


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``python -m sim``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not any(a in ("--help", "-h", "--hydra-help", "--info", "-i") for a in argv):
        try:
            preflight(_split_overrides(argv))
        except InputError as exc:
            print(f"error: {exc}", file=sys.stderr)
            sys.exit(2)
    multirun = any(a in ("-m", "--multirun") or a.replace(" ", "") == "hydra.mode=MULTIRUN"
                   for a in argv)
    if multirun and not any(a.startswith("hydra.sweep.dir=") for a in argv):
        # A stable sweep directory, so that rerunning the command resumes the sweep.
        overrides = _split_overrides(argv)
        at = max((i + 1 for i, a in enumerate(argv) if overrides and a == overrides[-1]),
                 default=len(argv))  # next to the other overrides, for Hydra's parser
        argv.insert(at, jobs.sweep_dir_override(jobs.default_sweep_dir(overrides)))
    register_configs()
    task = hydra.main(version_base="1.3", config_path=str(CONFIG_DIR),
                      config_name="config")(run_job)
    sys.argv = [sys.argv[0], *argv]
    task()
