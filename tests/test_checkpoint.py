"""Checkpoint and restart (``sim.checkpoint``): a run continued from a checkpoint is bit for bit
the run made in one go, on both engines; a checkpoint that does not fit is refused in one line;
a killed run or sweep job continues from its last checkpoint."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim.cli
from sim import checkpoint
from sim.codes import EV_ENTER, EV_EXIT, EV_RELOCATE, MONTHS_PER_YEAR
from sim.engines import make_simulation
from sim.results import (
    events_frame,
    firms_end_frame,
    government_frame,
    industry_frame,
    summary,
    timeseries_frame,
    write_run,
)
from tests.conftest import make_config

REPO = Path(__file__).resolve().parent.parent
TEACHING = ("world=teaching", "run.threads=1", "run.progress=false", "run.figures=false")
# A shock that spans the restart (the runs start in 2017), and cheap moves so firms relocate.
SHOCKED = ("policy=kpi_reform", "shock=pandemic_2020", "shock.pandemic_start=2017.5",
           "shock.pandemic_years=1.5", "model.relocation_cost_factor=1")


def _same(a, b, where: str) -> None:
    """Bit-equality of two values of the saved state (arrays, scalars, containers, records)."""
    assert type(a) is type(b), f"{where}: {type(a).__name__} vs {type(b).__name__}"
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, where
        assert np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"), where
    elif dataclasses.is_dataclass(a):
        for f in dataclasses.fields(a):
            _same(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            _same(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), where
        for k, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{where}[{k}]")
    elif isinstance(a, float | np.floating) and np.isnan(a):
        assert np.isnan(b), where
    else:
        assert a == b, where


def _outputs(s) -> dict:
    meta = {"run_id": "x"}
    ts, ev = timeseries_frame(s, meta), events_frame(s, meta)
    return {"timeseries": ts, "events": ev, "firms_end": firms_end_frame(s, meta),
            "industry": industry_frame(s, meta), "government": government_frame(s, meta),
            "summary": summary(s, ts, ev)}


def assert_same_run(one, resumed) -> None:
    """The final state tables, every saved attribute and every output are identical."""
    assert set(checkpoint.tables(one)) == set(checkpoint.tables(resumed))
    for name, table in checkpoint.tables(one).items():
        other = getattr(resumed, name)
        assert table.n == other.n, name
        for spec in table.fields:
            _same(getattr(table, spec.name), getattr(other, spec.name), f"{name}.{spec.name}")
    for name in checkpoint.SAVED:
        _same(getattr(one, name), getattr(resumed, name), name)
    a, b = _outputs(one), _outputs(resumed)
    for key in ("timeseries", "events", "firms_end", "industry", "government"):
        pd.testing.assert_frame_equal(a[key], b[key], check_exact=True, obj=key)
    _same(a["summary"], b["summary"], "summary")


def _split_run(tmp_path: Path, years: int, *overrides: str):
    """``years`` in one go, and ``years // 2`` then the rest from the checkpoint saved at the
    end of the first part."""
    one = make_simulation(make_config(*TEACHING, *overrides, f"run.years={years}"))
    one.run()
    half = years // 2
    first = make_simulation(make_config(*TEACHING, *overrides, f"run.years={half}",
                                        f"run.checkpoint_every={half}"))
    first.run(checkpoint.Saver(first, tmp_path))
    path = checkpoint.path_in(tmp_path)
    resumed = make_simulation(make_config(*TEACHING, *overrides, f"run.years={years}",
                                          f"run.resume_from={path}"))
    assert checkpoint.continue_run(resumed) == half * MONTHS_PER_YEAR
    resumed.run()
    return one, resumed


# --- what is saved -----------------------------------------------------------------------------

def test_every_attribute_of_a_simulation_is_saved_or_derived():
    names = set()
    for engine in ("numba", "reference"):
        s = make_simulation(make_config(*TEACHING, *SHOCKED, "run.years=2",
                                        "world.worker_agents=1000", f"engine={engine}"))
        for _ in range(MONTHS_PER_YEAR + 1):
            s.step()
        attributes = set(vars(s)) - set(checkpoint.tables(s))
        uncovered = attributes - set(checkpoint.SAVED) - set(checkpoint.DERIVED)
        assert not uncovered, (f"{engine}: add {sorted(uncovered)} to sim.checkpoint.SAVED "
                               "(state) or DERIVED (rebuilt by __init__)")
        names |= attributes
    assert not set(checkpoint.SAVED) & set(checkpoint.DERIVED)
    assert set(checkpoint.SAVED) | set(checkpoint.DERIVED) <= names, "stale names in the lists"
    assert set(checkpoint.tables(s)) == {"counties", "state", "firms", "workers"}


def test_derived_attributes_do_not_change_in_a_run():
    cfg = make_config(*TEACHING, *SHOCKED, "run.years=2")
    fresh, ran = make_simulation(cfg), make_simulation(cfg)
    ran.run()
    checked = 0
    for name in checkpoint.DERIVED:
        if not hasattr(fresh, name):
            continue
        a, b = getattr(fresh, name), getattr(ran, name)
        if isinstance(a, np.ndarray | int | float | np.generic) or name in ("cfg", "params"):
            _same(a, b, name)
            checked += 1
    assert checked >= 18


def _saved_on_the_way(path: Path, cfg, at_step: int):
    """A run that saves a checkpoint after ``at_step`` months on its way to the end, and a new
    run of the same configuration continued from that checkpoint."""
    one = make_simulation(cfg)
    while one.step_index < at_step:
        one.step()
    checkpoint.save(one, path)
    one.run()
    resumed = make_simulation(cfg)
    assert checkpoint.restore(resumed, path) == at_step
    resumed.run()
    return one, resumed


def test_a_mid_year_checkpoint_continues_exactly(tmp_path):
    cfg = make_config(*TEACHING, *SHOCKED, "run.years=3")
    assert_same_run(*_saved_on_the_way(tmp_path / "mid.npz", cfg, 17))


# --- ten years then ten more equal twenty in one go (here 3 + 3 and 1 + 1) ---------------------

@pytest.mark.parametrize("overrides", [(), SHOCKED, ("policy=policy_mix", "shock=export_2022",
                                                     "shock.export_start=2019.5")])
def test_numba_run_continued_from_a_checkpoint_equals_one_go(tmp_path, overrides):
    one, resumed = _split_run(tmp_path, 6, *overrides)
    assert_same_run(one, resumed)
    events = {e[2] for e in one.record.events}
    assert {EV_ENTER, EV_EXIT} <= events  # firms came and went across the restart
    assert len(one.government_rows) == 5  # the books of years 1-5, closed across the restart


def test_reference_run_continued_from_a_checkpoint_equals_one_go(tmp_path):
    # A small world (1,000 workers) in which firms enter, close and move within two years.
    cfg = make_config(*TEACHING, *SHOCKED, "run.years=2", "engine=reference",
                      "world.worker_agents=1000")
    one, resumed = _saved_on_the_way(checkpoint.path_in(tmp_path), cfg, MONTHS_PER_YEAR)
    assert_same_run(one, resumed)
    assert {EV_ENTER, EV_EXIT, EV_RELOCATE} <= {e[2] for e in one.record.events}
    # The restored firms are agents again, closed ones out of the Mesa model.
    assert len(resumed.roster.firms) == resumed.n_firms
    alive = {f.index for f in resumed.host.agents if type(f).__name__ == "Firm"}
    assert alive == set(np.flatnonzero(resumed.firms.alive[: resumed.n_firms]).tolist())


# --- writing ------------------------------------------------------------------------------------

def test_a_failed_write_leaves_the_previous_checkpoint(tmp_path, monkeypatch):
    s = make_simulation(make_config(*TEACHING, "run.years=2"))
    for _ in range(12):
        s.step()
    path = tmp_path / checkpoint.CHECKPOINT
    checkpoint.save(s, path)
    before = path.read_bytes()
    s.step()

    def killed(fh, **arrays):
        fh.write(b"PK half a zip")
        raise KeyboardInterrupt  # stands for the kill

    monkeypatch.setattr(checkpoint.np, "savez", killed)
    with pytest.raises(KeyboardInterrupt):
        checkpoint.save(s, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == [checkpoint.CHECKPOINT]


# --- refusals: one line, exit 2 -----------------------------------------------------------------

@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> Path:
    """A checkpoint after 13 months of a two-year teaching run."""
    directory = tmp_path_factory.mktemp("saved")
    s = make_simulation(make_config(*TEACHING, "run.years=2"))
    for _ in range(MONTHS_PER_YEAR + 1):
        s.step()
    checkpoint.save(s, checkpoint.path_in(directory))
    return checkpoint.path_in(directory)


def _refused(capsys, *overrides: str) -> str:
    with pytest.raises(SystemExit) as exit_info:
        sim.cli.main([*TEACHING, *overrides])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith("error: run.resume_from = "), err
    return err


def test_a_checkpoint_of_another_configuration_is_refused(saved, capsys, tmp_path):
    err = _refused(capsys, "run.years=2", "policy.kpi=reform", f"run.resume_from={saved}",
                   f"hydra.run.dir={tmp_path}/run")
    assert "policy.kpi = 'count' there, 'reform' here" in err
    err = _refused(capsys, "run.years=2", "run.seed=5", f"run.resume_from={saved}")
    assert "run.seed = 0 there, 5 here" in err
    assert not (tmp_path / "run").exists()  # refused before any directory is made


def test_a_run_shorter_than_the_checkpoint_is_refused(saved, capsys):
    err = _refused(capsys, "run.years=1", f"run.resume_from={saved}")
    assert "holds 13 months, more than run.years = 1 (12 months)" in err


def test_a_checkpoint_of_another_code_version_is_refused(saved, capsys, monkeypatch):
    monkeypatch.setattr(checkpoint, "code_version", lambda: "0123456789ab")
    err = _refused(capsys, "run.years=2", f"run.resume_from={saved}")
    assert "code version" in err and "0123456789ab" in err


def test_a_missing_truncated_or_corrupt_checkpoint_is_refused(saved, capsys, tmp_path):
    err = _refused(capsys, "run.years=2", f"run.resume_from={tmp_path}/none.npz")
    assert "no such checkpoint file" in err
    data = saved.read_bytes()
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(data[: len(data) // 2])
    err = _refused(capsys, "run.years=2", f"run.resume_from={truncated}")
    assert "not a readable checkpoint" in err
    # A flipped byte inside an array: the header reads, the array's CRC does not.
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0xFF
    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_bytes(bytes(flipped))
    cfg = make_config(*TEACHING, "run.years=2", f"run.resume_from={corrupt}")
    s = make_simulation(cfg)
    with pytest.raises(checkpoint.CheckpointError, match="corrupt checkpoint") as info:
        checkpoint.continue_run(s)
    assert "\n" not in str(info.value)
    assert s.step_index == 0 and s.record.events == []  # left as it was
    _refused(capsys, "run.years=2", f"run.resume_from={corrupt}", f"hydra.run.dir={tmp_path}/r")


# --- a killed run and a killed sweep job continue from their checkpoint --------------------------

def _read_run(run_dir: Path) -> dict:
    """A run's tables and summary without its run id (the hash of its config.yaml, which
    names run.resume_from)."""
    tables = {name: pd.read_parquet(run_dir / f"{name}.parquet").drop(columns="run_id")
              for name in ("timeseries", "firm_events", "firms_end", "industry", "government")}
    record = json.loads((run_dir / "summary.json").read_text())
    record.pop("run_id")
    return {**tables, "summary": record}


def _same_files(a: dict, b: dict) -> None:
    for key in a:
        if key == "summary":
            assert a[key] == b[key]
        else:
            pd.testing.assert_frame_equal(a[key], b[key], check_exact=True, obj=key)


def test_killed_run_resumed_from_the_command_line_equals_one_go(tmp_path):
    overrides = (*TEACHING, *SHOCKED, "run.years=10")
    killed, resumed, one = tmp_path / "killed", tmp_path / "resumed", tmp_path / "one"
    command = [sys.executable, "-m", "sim", *overrides]
    proc = subprocess.Popen([*command, "run.checkpoint_every=1", f"hydra.run.dir={killed}"],
                            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while (not checkpoint.path_in(killed).exists() and proc.poll() is None
               and time.monotonic() < deadline):
            time.sleep(0.005)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    header = checkpoint.check(checkpoint.path_in(killed), make_config(*overrides))
    assert 0 < header["step"] < 120 and not (killed / "summary.json").exists(), \
        "the run must be killed half way"
    done = subprocess.run([*command, f"run.resume_from={checkpoint.path_in(killed)}",
                           f"hydra.run.dir={resumed}"], cwd=REPO, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    # In one go (in this process: the same code; the run id differs anyway, see _read_run).
    s = make_simulation(make_config(*overrides))
    s.run()
    write_run(s, one, "one go", figures=False)
    _same_files(_read_run(one), _read_run(resumed))


def test_killed_sweep_job_continues_from_its_checkpoint(tmp_path, monkeypatch, capsys):
    overrides = (*TEACHING, "run.years=2", "run.checkpoint_every=1")
    sweep = tmp_path / "sweep"
    # Without the aggregation callback: the job's own outputs are compared here.
    argv = ["-m", *overrides, "run.seed=0", f"hydra.sweep.dir={sweep}",
            "~hydra.callbacks.aggregate"]
    monkeypatch.setattr(sys, "argv", ["sim"])
    sim.cli.main(list(argv))
    (job,) = [p.parent for p in sweep.rglob("summary.json")]
    before = tmp_path / "before"
    shutil.copytree(job, before)
    # The job as a kill after its first year leaves it: the first year's checkpoint, no tables.
    for path in job.iterdir():
        if path.is_file():
            path.unlink()
    s = make_simulation(make_config(*overrides, "run.seed=0"))
    for _ in range(MONTHS_PER_YEAR):
        s.step()
    checkpoint.save(s, checkpoint.path_in(job))
    capsys.readouterr()
    sim.cli.main(list(argv))
    assert "resumed from its checkpoint at step 12" in capsys.readouterr().out
    assert (job / "summary.json").read_bytes() == (before / "summary.json").read_bytes()
    for name in ("timeseries", "firm_events", "firms_end", "industry", "government"):
        pd.testing.assert_frame_equal(pd.read_parquet(job / f"{name}.parquet"),
                                      pd.read_parquet(before / f"{name}.parquet"),
                                      check_exact=True, obj=name)


def test_an_unusable_checkpoint_in_a_job_directory_starts_the_job_over(tmp_path, capsys):
    checkpoint.path_in(tmp_path).write_bytes(b"not a checkpoint")
    s = make_simulation(make_config(*TEACHING, "run.years=1"))
    assert checkpoint.continue_run(s, tmp_path) == 0
    assert "checkpoint not used, starting over" in capsys.readouterr().out
    assert s.step_index == 0
