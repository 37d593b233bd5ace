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
    """A progress bar (tqdm) of the sweep: runs finished of all, how many of them were
    skipped (complete before this launch), done now and failed, and the time left.

    It reads the sweep directory (``complete.json`` / ``error.json`` and their modification
    times), so it works for any launcher whose jobs write to a filesystem this process sees.
    A run complete before ``start_time`` was skipped; one completed or failed since then is
    new. The time left is paced from the first new completion onwards, so the first runs'
    compilation of the kernels (tens of seconds on a cold cache) does not inflate it, and it
    grows while nothing finishes.
    On a terminal the bar redraws in place; otherwise (a log file) it prints a line every
    ``every`` seconds when something changed.
    """

    def __init__(self, sweep_dir: Path, total: int, stream=sys.stderr, every: float = 5.0):
        self.sweep_dir = Path(sweep_dir)
        self.total = total
        self.stream = stream
        self.every = every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._bar = None
        self.start_time = time.time()
        self.start_clock = time.perf_counter()

    def count(self) -> dict:
        """``skipped`` (complete before the start), ``done`` (completed since), ``failed``
        (failed since, not complete), ``finished`` (their sum) and ``left`` runs, and
        ``completion_times`` (epoch seconds of the new completions, sorted)."""
        complete = {p.parent: _mtime(p) for p in self.sweep_dir.rglob(COMPLETE)}
        errors = {p.parent: _mtime(p) for p in self.sweep_dir.rglob("error.json")}
        new = sorted(t for t in complete.values() if t >= self.start_time)
        skipped = len(complete) - len(new)
        failed = sum(1 for d, t in errors.items() if d not in complete and t >= self.start_time)
        finished = len(complete) + failed
        return {"skipped": skipped, "done": len(new), "failed": failed, "finished": finished,
                "left": max(self.total - finished, 0), "completion_times": new}

    def seconds_left(self, counts: dict, now: float | None = None) -> float | None:
        """Time left at the pace since the first new completion: (now - first completion) /
        (new completions - 1) per run. None until three are in (parallel workers finish
        their first runs together, which would make the pace look too fast)."""
        times = counts["completion_times"]
        if len(times) < 3 or counts["left"] == 0:
            return None
        now = time.time() if now is None else now
        return (max(now, times[-1]) - times[0]) / (len(times) - 1) * counts["left"]

    def describe(self, counts: dict | None = None) -> str:
        """The counts in words, e.g. ``3 done, 9 skipped (already complete), 0 failed``."""
        c = counts or self.count()
        skipped = f", {c['skipped']} skipped (already complete)" if c["skipped"] else ""
        return f"{c['done']} done{skipped}, {c['failed']} failed"

    def line(self) -> str:
        """The progress as one line (for logs)."""
        c = self.count()
        elapsed = time.perf_counter() - self.start_clock
        left = self.seconds_left(c)
        eta = f", ~{_clock(left)} left" if left is not None else ""
        return (f"[sweep] {c['finished']}/{self.total} runs finished: {self.describe(c)}; "
                f"{_clock(elapsed)} elapsed{eta}")

    def _update_bar(self) -> None:
        c = self.count()
        left = self.seconds_left(c)
        self._bar.n = min(c["finished"], self.total)
        self._bar.set_postfix_str(self.describe(c) + (f", ~{_clock(left)} left"
                                                      if left is not None else ""),
                                  refresh=False)
        self._bar.refresh()

    def _loop(self) -> None:
        last = None
        while not self._stop.wait(self.every if self._bar is None else 1.0):
            if self._bar is not None:
                self._update_bar()
                continue
            text = self.line()
            if text.split(";")[0] != last:  # a new line only when a run finished
                self.stream.write(text + "\n")
                self.stream.flush()
                last = text.split(";")[0]

    def start(self) -> None:
        """Start the bar (or the log lines) in a daemon thread."""
        if getattr(self.stream, "isatty", lambda: False)():
            from tqdm import tqdm

            self._bar = tqdm(total=self.total, desc="[sweep] runs", file=self.stream,
                             unit="run", dynamic_ncols=True, leave=True,
                             bar_format="{desc} {bar} {n_fmt}/{total_fmt} [{elapsed}]"
                                        "{postfix}")
        self._thread = threading.Thread(target=self._loop, name="sweep-progress", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the display and print the final counts."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        if self._bar is not None:
            self._update_bar()
            self._bar.close()
            self._bar = None
        self.stream.write(self.line() + "\n")
        self.stream.flush()


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:  # removed between listing and reading (a job clearing its markers)
        return float("inf")


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
