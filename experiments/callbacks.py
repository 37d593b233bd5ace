"""The Hydra callback of every multirun (configured in ``configs/config.yaml``).

``on_multirun_start`` writes the sweep's manifest (``sweep.json``: the jobs it should have) and
starts a progress display; ``on_multirun_end`` aggregates the sweep directory
(``experiments.aggregate``), prints the comparison table and exits with status 1 when a run
failed or is missing. Both run in the launching process, whatever the launcher (joblib, Ray,
SLURM through submitit); the jobs themselves skip complete runs and record failures
(``sim.cli.run_job``).

Hydra turns exceptions raised by callbacks into warnings, so errors here are printed and end
the process with status 1 rather than passing silently.
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
from pathlib import Path

from hydra.experimental.callback import Callback

from experiments.manifest import grid_jobs, read_manifest, write_manifest
from sim import rundir
from sim.integrity import COMPLETE
from sim.jobs import code_version


class SweepProgress:
    """A line every few seconds: runs done of the sweep, failures, elapsed and remaining time.

    It counts ``complete.json`` / ``error.json`` files in the sweep directory, so it works for
    any launcher whose jobs write to a filesystem this process sees.
    """

    def __init__(self, sweep_dir: Path, total: int, stream=sys.stderr, every: float = 5.0):
        self.sweep_dir = Path(sweep_dir)
        self.total = total
        self.stream = stream
        self.every = every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.start_time = time.perf_counter()
        self.already = self.count()[0]

    def count(self) -> tuple[int, int]:
        """(complete, failed) job directories so far."""
        done = {p.parent for p in self.sweep_dir.rglob(COMPLETE)}
        failed = {p.parent for p in self.sweep_dir.rglob("error.json")} - done
        return len(done), len(failed)

    def line(self) -> str:
        """The progress line."""
        done, failed = self.count()
        elapsed = time.perf_counter() - self.start_time
        new = done + failed - self.already
        left = self.total - done - failed
        eta = f", ~{_clock(elapsed / new * left)} left" if new > 0 and left > 0 else ""
        skipped = f" ({self.already} were already complete)" if self.already else ""
        return (f"[sweep] {done + failed}/{self.total} runs done{skipped}, {failed} failed, "
                f"{_clock(elapsed)} elapsed{eta}")

    def _loop(self) -> None:
        last = None
        while not self._stop.wait(self.every):
            text = self.line()
            if text != last:
                self.stream.write(text + "\n")
                self.stream.flush()
                last = text

    def start(self) -> None:
        """Start printing in a daemon thread."""
        self._thread = threading.Thread(target=self._loop, name="sweep-progress", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop printing and print the last line."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        self.stream.write(self.line() + "\n")
        self.stream.flush()


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


class AggregateSweep(Callback):
    """Manifest and progress at the start of a multirun, aggregation at its end.

    Args:
        figures: draw the sweep figures.
        table: print the comparison table.
        progress: print progress lines while the jobs run.
        fail_on_incomplete: exit with status 1 if a run failed or is missing.
    """

    def __init__(self, figures: bool = True, table: bool = True, progress: bool = True,
                 fail_on_incomplete: bool = True) -> None:
        self.figures = figures
        self.table = table
        self.progress = progress
        self.fail_on_incomplete = fail_on_incomplete
        self._progress: SweepProgress | None = None

    def __getstate__(self) -> dict:
        # Hydra sends the callbacks to every job (joblib, Ray, submitit): not the thread.
        return {**self.__dict__, "_progress": None}

    def on_multirun_start(self, config, **kwargs) -> None:
        try:
            # The sweep directory is this process's until it ends (``sim.rundir``): a second
            # sweep into it is refused (``python -m sim`` has claimed it already).
            sweep_dir = rundir.claim(rundir.check_output_dir(str(config.hydra.sweep.dir),
                                                             "hydra.sweep.dir"))
            manifest = read_manifest(sweep_dir)
            if manifest is None or not manifest.get("design"):
                job_list = grid_jobs(config)
                if job_list and manifest and manifest.get("kind") == "grid":
                    # another grid into the same directory extends the sweep's job list
                    new = {job["subdir"] for job in job_list}
                    job_list = [*(j for j in manifest["jobs"] if j["subdir"] not in new),
                                *job_list]
                manifest = {"kind": "grid" if job_list is not None else "unknown",
                            "overrides": list(config.hydra.overrides.task),
                            "code_version": code_version(),
                            "jobs": job_list or []}
                write_manifest(sweep_dir, manifest)
            if self.progress and manifest["jobs"]:
                self._progress = SweepProgress(sweep_dir, len(manifest["jobs"]))
                self._progress.start()
        except rundir.OutputDirError as exc:
            print(f"error: {exc}", file=sys.stderr)
            raise SystemExit(2) from None
        except Exception:
            traceback.print_exc()
            print("error: could not prepare the sweep (see above)", file=sys.stderr)
            raise SystemExit(1) from None

    def on_multirun_end(self, config, **kwargs) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
        try:
            # Deferred: the aggregation pulls in matplotlib and scipy, and Hydra unpickles
            # this callback in every job process.
            from experiments.aggregate import aggregate

            result = aggregate(Path(str(config.hydra.sweep.dir)), figures=self.figures,
                               quiet=not self.table)
        except Exception:
            traceback.print_exc()
            print("error: the sweep's aggregation failed (see above); rerun it with "
                  f"python -m experiments.aggregate {config.hydra.sweep.dir}", file=sys.stderr)
            raise SystemExit(1) from None
        bad = result.runs.status.isin(["failed", "missing", "corrupt"]).sum()
        if bad and self.fail_on_incomplete:
            print(f"error: {bad} run(s) failed, missing or corrupt; rerun the same command to "
                  "retry them (complete runs are skipped)", file=sys.stderr)
            raise SystemExit(1)
