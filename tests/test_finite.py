"""A NaN or an infinity in the state stops a run at once, naming the field and the step
(issue 13): a cheap check after every month (``sim.state.non_finite``)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import sim.engine.simulation
from sim.cli import EXIT_NON_FINITE, main
from sim.codes import OUTBOUND
from sim.engine import Simulation
from sim.reference import ReferenceSimulation
from sim.state import FIRM_FIELDS, NonFiniteStateError, Table, non_finite
from tests.conftest import make_config


def test_non_finite_names_the_first_bad_field_and_row():
    table = Table(FIRM_FIELDS, 5)
    assert non_finite(table) is None
    table.capacity[:] = 1e308  # the sum overflows, the values are finite
    assert non_finite(table) is None
    table.cash[3] = np.inf
    assert non_finite(table) == ("cash", 3, np.inf)
    assert non_finite(table, rows=3) is None  # rows past the live firms are not state


@pytest.mark.parametrize("engine", [Simulation, ReferenceSimulation])
@pytest.mark.parametrize("table, field", [("firms", "cash"), ("state", "package_budget")])
def test_a_nan_in_state_stops_the_run_naming_field_and_step(engine, table, field):
    run = engine(make_config("world=teaching", "run.years=1"))
    for _ in range(3):
        run.step()
    getattr(getattr(run, table), field)[0] = np.nan  # carried into next month's state
    with pytest.raises(NonFiniteStateError) as info:
        run.step()
    message = str(info.value)
    assert message.startswith(f"{table}.{field} is nan at step 3")
    assert "\n" not in message


def test_the_largest_arrays_are_checked_at_the_end_of_the_year():
    run = Simulation(make_config("world=teaching", "run.years=1"))
    for _ in range(3):
        run.step()
    outbound = np.flatnonzero(run.workers.status == OUTBOUND)[0]  # in no county's sums
    run.workers.skill[outbound] = np.nan
    with pytest.raises(NonFiniteStateError) as info:
        while True:
            run.step()
    assert str(info.value) in (f"workers.skill is nan at step {run.step_index} (row "
                               f"{outbound}); the run stopped",
                               f"state.skill_sum is nan at step {run.step_index} (row "
                               f"{run.workers.home_county[outbound]}); the run stopped")
    assert run.step_index <= 11  # by the year's end (step 11) at the latest


def test_the_command_line_stops_in_one_line_and_writes_no_outputs(tmp_path, monkeypatch,
                                                                  capsys):
    original = Simulation._accounts

    def accounts_with_overflow(self, t):
        original(self, t)
        if t == 5:
            self.firms.cash[0] = np.inf

    monkeypatch.setattr(sim.engine.simulation.Simulation, "_accounts", accounts_with_overflow)
    monkeypatch.setattr(sys, "argv", sys.argv[:1])  # main() sets it for Hydra
    out = tmp_path / "run"
    with pytest.raises(SystemExit) as info:
        main(["world=teaching", "run.years=1", "run.figures=false", "run.progress=false",
              f"hydra.run.dir={out}"])
    assert info.value.code == EXIT_NON_FINITE
    lines = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert lines == ["error: firms.cash is inf at step 5 (row 0); the run stopped"]
    assert not (out / "summary.json").exists() and not (out / "timeseries.parquet").exists()
