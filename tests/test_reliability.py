"""Issue 13: run directories owned and verified, safe paths, one-line I/O errors, NaN, no
unpickling. Each test reproduces a defect first (what the old code accepted), then checks
the fix."""

from __future__ import annotations

import errno
import hashlib
import json
import math
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import sim.cli
import sim.results
from experiments.aggregate import aggregate
from experiments.aggregate import main as aggregate_main
from sim import rundir
from sim.atomic import atomic_write_bytes
from sim.integrity import COMPLETE, verify_run
from sim.jobs import TABLES, check_job
from sim.survival import survival_at

REPO = Path(__file__).resolve().parent.parent
SHORT = ["world=teaching", "run.years=2", "run.progress=false", "run.figures=false"]


def _cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=REPO)


def _one_error_line(stderr: str) -> str:
    assert "Traceback" not in stderr
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr[-2000:]
    return lines[0]


def _main(monkeypatch, *argv: str) -> int:
    """``python -m sim ARGV`` in this process; its exit status (0 when it returns)."""
    monkeypatch.setattr(sys, "argv", ["sim"])
    try:
        sim.cli.main(list(argv))
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    return 0


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- one run, one directory ------------------------------------------------------------------

def test_a_second_run_into_a_held_directory_is_refused(tmp_path):
    held = tmp_path / "run"
    with rundir.claimed(held):  # this process plays the first run
        proc = _cli(*SHORT, "run.seed=2", f"hydra.run.dir={held}")
    assert proc.returncode == 2
    assert "in use by another run" in _one_error_line(proc.stderr)
    assert sorted(p.name for p in held.iterdir()) == [rundir.LOCK]  # nothing written


def test_two_concurrent_runs_into_one_directory_never_mix(tmp_path):
    """The issue's reproducer: two seeds into one directory at once."""
    out = tmp_path / "run"
    procs = [subprocess.Popen([sys.executable, "-m", "sim", *SHORT, f"run.seed={seed}",
                               f"hydra.run.dir={out}"], cwd=REPO, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for seed in (1, 2)]
    results = [(p.wait(timeout=300), p.stderr.read()) for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    assert any(code == 0 for code, _ in results)
    for code, stderr in results:  # a refused run says so in one line
        assert code in (0, 2), stderr[-2000:]
        if code == 2:
            assert "in use by another run" in _one_error_line(stderr)
    state = check_job(out)
    assert state.status == "complete", state.problem
    seed = state.record["seed"]
    assert f"seed: {seed}\n" in (out / "config.yaml").read_text()
    for name in TABLES:
        table = pd.read_parquet(out / name)
        assert table.empty or set(table.seed) == {seed}, name


# --- verified completion ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def finished_sweep(tmp_path_factory):
    """A two-run teaching sweep (seeds 0 and 1), run once for the tests below to copy."""
    sweep = tmp_path_factory.mktemp("sweep") / "sweep"
    proc = _cli("-m", *SHORT, "run.seed=0,1", f"hydra.sweep.dir={sweep}",
                "hydra.callbacks.aggregate.figures=false")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return sweep


def _jobs(sweep: Path) -> dict[int, Path]:
    runs = pd.read_parquet(sweep / "runs.parquet")
    return {int(r.seed): sweep / r.job for _, r in runs.iterrows()}


def test_a_truncated_or_edited_run_is_corrupt_rerun_on_resume_and_never_aggregated(
        finished_sweep, tmp_path, monkeypatch):
    sweep = tmp_path / "sweep"
    shutil.copytree(finished_sweep, sweep)
    jobs = _jobs(sweep)
    # The damage: a half-truncated Parquet file, an edited summary.json.
    table = jobs[0] / "timeseries.parquet"
    table.write_bytes(table.read_bytes()[:14000])
    summary_path = jobs[1] / "summary.json"
    summary = json.loads(summary_path.read_text())
    summary["survival_3y"] = 7.5
    summary_path.write_text(json.dumps(summary, indent=2))
    # What the old check accepted: every table non-empty, the summary names its config's run.
    assert all((jobs[0] / name).stat().st_size > 0 for name in TABLES)
    assert json.loads(summary_path.read_text())["run_id"] == summary["run_id"]

    assert check_job(jobs[0]).status == "corrupt"
    assert "timeseries.parquet has 14000 bytes" in check_job(jobs[0]).problem
    assert check_job(jobs[1]).status == "corrupt"
    assert check_job(jobs[1]).problem.startswith("summary.json has")

    # The aggregation reports both and uses neither: non-zero exit, no mean of 7.5.
    assert aggregate_main([str(sweep), "--no-figures", "--quiet"]) == 1
    runs = pd.read_parquet(sweep / "runs.parquet")
    assert list(runs.status) == ["corrupt", "corrupt"]
    assert runs.survival_3y.isna().all()
    comparison = pd.read_csv(sweep / "comparison.csv")
    assert (comparison.n == 0).all()

    # Resume: the same command reruns both and ends with two complete, verified runs.
    status = _main(monkeypatch, "-m", *SHORT, "run.seed=0,1", f"hydra.sweep.dir={sweep}",
                   "hydra.callbacks.aggregate.figures=false")
    assert status == 0
    assert check_job(jobs[0]).status == check_job(jobs[1]).status == "complete"
    assert json.loads(summary_path.read_text())["survival_3y"] != 7.5
    original = _jobs(finished_sweep)
    assert _sha(table) == _sha(original[0] / "timeseries.parquet")  # same seed, same run


def test_a_complete_run_is_skipped_on_resume(finished_sweep, tmp_path, monkeypatch, capsys):
    sweep = tmp_path / "sweep"
    shutil.copytree(finished_sweep, sweep)
    before = {p: p.stat().st_mtime_ns for p in sweep.rglob("*.parquet") if p.parent != sweep}
    assert _main(monkeypatch, "-m", *SHORT, "run.seed=0,1", f"hydra.sweep.dir={sweep}",
                 "hydra.callbacks.aggregate.figures=false") == 0
    assert capsys.readouterr().out.count("complete; skipped") == 2
    assert before == {p: p.stat().st_mtime_ns for p in before}


def test_aggregation_reads_only_the_jobs_of_the_sweeps_manifest(finished_sweep, tmp_path):
    """The issue's reproducer: two copies of one sweep under one directory gave n doubled."""
    sweep = tmp_path / "sweep"
    shutil.copytree(finished_sweep, sweep)
    shutil.copytree(finished_sweep, sweep / "copy")  # a nested copy with its own runs
    assert aggregate_main([str(sweep), "--no-figures", "--quiet"]) == 0
    runs = pd.read_parquet(sweep / "runs.parquet")
    assert len(runs) == 2 and sorted(runs.seed) == [0, 1]
    comparison = pd.read_csv(sweep / "comparison.csv")
    assert (comparison[comparison.metric == "firms_alive_end"].n == 2).all()


def test_the_completion_manifest_is_written_last_and_lists_every_output(tmp_path):
    from tests.conftest import run_sim

    out = tmp_path / "run"
    run = run_sim("world=teaching", "run.years=2", "run.seed=0")
    sim.results.write_run(run, out, "world: teaching\n", figures=True)
    manifest = json.loads((out / COMPLETE).read_text())
    assert set(manifest["files"]) == {p.name for p in out.iterdir()} - {COMPLETE}
    newest = max(out.iterdir(), key=lambda p: p.stat().st_mtime_ns)
    assert newest.name == COMPLETE
    for name, entry in manifest["files"].items():
        assert entry == {"size": (out / name).stat().st_size, "sha256": _sha(out / name)}
    assert verify_run(out).status == "complete"
    original = (out / "industry.parquet").read_bytes()
    data = bytearray(original)  # an edit that keeps the size
    data[len(data) // 2] ^= 0xFF
    (out / "industry.parquet").write_bytes(bytes(data))
    assert verify_run(out).problem == ("industry.parquet was changed after the run wrote it "
                                       "(SHA-256 differs)")
    (out / "industry.parquet").write_bytes(original)
    (out / "survival.png").unlink()
    assert verify_run(out).problem == "survival.png is missing"


# --- paths -----------------------------------------------------------------------------------

def _tracked_state() -> str:
    return subprocess.run(["git", "status", "--porcelain", "--untracked-files=all",
                           "configs", "sim", "tests", "experiments", "docs", "scripts"],
                          capture_output=True, text=True, cwd=REPO).stdout


def test_a_run_directory_in_the_source_tree_is_refused():
    """The issue's reproducer: ``hydra.run.dir=configs`` replaced configs/config.yaml."""
    config = REPO / "configs" / "config.yaml"
    before, status = _sha(config), _tracked_state()
    proc = _cli(*SHORT, "hydra.run.dir=configs")
    assert proc.returncode == 2
    assert "source tree (configs/)" in _one_error_line(proc.stderr)
    assert _sha(config) == before and _tracked_state() == status


@pytest.mark.parametrize(("args", "message"), [
    (["hydra.run.dir="], "hydra.run.dir is empty"),
    (["hydra.run.dir=."], "is the project's root"),
    (["hydra.run.dir=sim/../.git/x"], "source tree (.git/)"),
    (["hydra.run.dir=results/headline/x"], "published results"),
    (["world.name=../../../../escape"], "world.name = '../../../../escape' cannot be used"),
    (["world.name=''"], "world.name = '' cannot be used"),
    (["policy.name=a/b"], "policy.name = 'a/b' cannot be used"),
    (["-m", "run.seed=0,1", "hydra.sweep.dir=tests"], "source tree (tests/)"),
    (["-m", "run.seed=0,1", "world.name=../../../../escape"], "world.name"),
    (["-m", "run.seed=0,1", "model.search_prob=0.1,0.2", "hydra.sweep.subdir=../x"],
     "leads out of the sweep directory"),
])
def test_unsafe_directories_and_names_are_refused(args, message, monkeypatch, capsys):
    status = _tracked_state()
    before = set(REPO.iterdir())
    assert _main(monkeypatch, *SHORT, *args) == 2
    assert message in _one_error_line(capsys.readouterr().err)
    assert set(REPO.iterdir()) == before and _tracked_state() == status


def test_a_sweep_value_cannot_lead_its_job_out_of_the_sweep():
    rundir.check_job_override("policy.name=a/b")  # nested, but inside the sweep directory
    with pytest.raises(rundir.OutputDirError, match="must not contain '..'"):
        rundir.check_job_override("run.resume_from=../../../x")


def test_where_runs_may_write(tmp_path):
    assert rundir.check_output_dir("results/runs/x", "hydra.run.dir") == (
        rundir.RESULTS / "runs" / "x").resolve()
    assert rundir.check_output_dir(tmp_path / "x", "hydra.run.dir") == tmp_path / "x"
    for bad in ("results", "README.md/x", "configs/world", ".", ""):
        with pytest.raises(rundir.OutputDirError):
            rundir.check_output_dir(bad if bad else "", "hydra.run.dir")


# --- I/O errors: one line, nothing else touched -------------------------------------------------

def test_a_run_directory_that_is_a_file_is_one_line(tmp_path, monkeypatch, capsys):
    path = tmp_path / "afile"
    path.write_text("kept")
    assert _main(monkeypatch, *SHORT, f"hydra.run.dir={path}") == 2
    assert "is a file, not a directory" in _one_error_line(capsys.readouterr().err)
    assert path.read_text() == "kept"


def test_a_read_only_directory_is_one_line(tmp_path, monkeypatch, capsys):
    """Root ignores permission bits here, so the file system's refusal is injected."""
    def read_only(path, flags, mode=0o777):
        raise OSError(errno.EROFS, "Read-only file system", str(path))

    monkeypatch.setattr(rundir.os, "open", read_only)
    assert _main(monkeypatch, *SHORT, f"hydra.run.dir={tmp_path / 'ro'}") == 2
    assert "Read-only file system" in _one_error_line(capsys.readouterr().err)


def test_a_full_disk_is_one_line_and_leaves_other_results_untouched(tmp_path, monkeypatch,
                                                                     capsys):
    earlier = tmp_path / "earlier"
    assert _main(monkeypatch, *SHORT, f"hydra.run.dir={earlier}") == 0
    snapshot = {p.name: _sha(p) for p in earlier.iterdir() if p.is_file()}
    real = sim.results.atomic_write_parquet

    def full(df, path):
        if Path(path).name == "firm_events.parquet":
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real(df, path)

    monkeypatch.setattr(sim.results, "atomic_write_parquet", full)
    out = tmp_path / "run"
    assert _main(monkeypatch, *SHORT, "run.seed=3", f"hydra.run.dir={out}") == 1
    line = _one_error_line(capsys.readouterr().err)
    assert "No space left on device" in line and "firm_events.parquet" in line
    assert check_job(out).status == "incomplete" and not (out / COMPLETE).exists()
    assert {p.name: _sha(p) for p in earlier.iterdir() if p.is_file()} == snapshot
    assert check_job(earlier).status == "complete"


def test_a_full_disk_while_hydra_writes_its_records_is_one_line(tmp_path, monkeypatch,
                                                                capsys):
    import hydra.core.utils

    def full(cfg, filename, output_dir):
        raise OSError(errno.ENOSPC, "No space left on device", str(output_dir / filename))

    monkeypatch.setattr(hydra.core.utils, "_save_config", full)
    assert _main(monkeypatch, *SHORT, f"hydra.run.dir={tmp_path / 'run'}") == 1
    line = _one_error_line(capsys.readouterr().err)
    assert "No space left on device" in line and ".hydra" in line


def test_an_atomic_write_that_fails_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "summary.json"
    atomic_write_bytes(path, b"old")

    def no_space(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("sim.atomic.os.fsync", no_space)
    with pytest.raises(OSError):
        atomic_write_bytes(path, b"new")
    assert path.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == [path.name]


# --- NaN -----------------------------------------------------------------------------------------

def test_survival_is_zero_once_every_spell_has_ended_inside_the_run():
    # Two exits and a move away (censored) before 36 months; no spell cut by the end of the run.
    durations, exited = [3, 5, 8], [True, True, False]
    assert math.isnan(survival_at(durations, exited, 36))  # the old answer: NaN
    assert survival_at(durations, exited, 36, running=[False, False, False]) == 0.0
    # A spell cut short by the end of the run could still reach 36 months: not identified.
    assert math.isnan(survival_at(durations, exited, 36, running=[False, False, True]))
    # Inside the observed time the estimate is the usual Kaplan-Meier.
    assert survival_at(durations, exited, 6, running=[False, False, False]) == pytest.approx(
        1 / 3)


def test_summary_json_is_strict_and_says_why_a_value_is_null(finished_sweep):
    def refuse(name):
        raise ValueError(name)

    job = next(iter(_jobs(finished_sweep).values()))
    record = json.loads((job / "summary.json").read_text(), parse_constant=refuse)
    nulls = {k for k, v in record.items() if v is None}
    assert "survival_3y" in nulls  # two years: no spell can reach 36 months
    assert set(record["undefined"]) == nulls
    assert "shorter than 36 months" in record["undefined"]["survival_3y"]


def test_aggregation_counts_and_reports_undefined_seeds(finished_sweep, tmp_path):
    sweep = tmp_path / "sweep"
    shutil.copytree(finished_sweep, sweep)
    result = aggregate(sweep, figures=False, quiet=True)
    assert any("survival_3y in 2 of 2" in note for note in result.notes)  # report() prints
    comparison = pd.read_csv(sweep / "comparison.csv").set_index("metric")
    assert comparison.loc["survival_3y", "n_undefined"] == 2
    assert comparison.loc["survival_3y", "n"] == 0
    assert comparison.loc["firms_alive_end", "n_undefined"] == 0


# --- unpickling ----------------------------------------------------------------------------------

class _Marker:
    """Unpickling this writes a file: the harm an unpickled file can do."""

    def __init__(self, path: str):
        self.path = path

    def __reduce__(self):
        return (Path.write_text, (Path(self.path), "unpickled"))


@pytest.mark.parametrize("flag", ["--experimental-rerun", "--experimental-rerun=", "--exp"])
def test_flags_that_unpickle_are_refused(flag, tmp_path, monkeypatch, capsys):
    marker = tmp_path / "marker"
    config = tmp_path / "config.pickle"
    config.write_bytes(pickle.dumps(_Marker(str(marker))))
    argv = [flag + str(config)] if flag.endswith("=") else [flag, str(config)]
    assert _main(monkeypatch, *argv) == 2
    assert "unpickle" in _one_error_line(capsys.readouterr().err)
    assert not marker.exists()
