"""sim.TransferModel: a Mesa model whose agents are views onto the state, with either engine."""

from __future__ import annotations

import inspect
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

import sim
from sim.agents import CountyGovernment, Firm, Worker, import_mesa
from sim.config import ConfigError
from sim.mesa_model import FIRM_REPORTERS, HEADLINE, REPORTERS, WORKER_REPORTERS, TransferModel
from sim.results import events_frame, summary, timeseries_frame

mesa = import_mesa()
MESA_VERSION = tuple(int(part) for part in mesa.__version__.split(".")[:2])


def _run(model: TransferModel, steps: int) -> pd.DataFrame:
    for _ in range(steps):
        model.step()
    return model.datacollector.get_model_vars_dataframe()


def test_transfer_model_is_a_mesa_model_with_three_agent_types():
    model = sim.TransferModel(world="teaching", seed=2, years=1)
    assert isinstance(model, mesa.Model)
    by_type = model.agents_by_type
    assert len(by_type[CountyGovernment]) == model.sim.counties.n
    assert len(by_type[Worker]) == model.sim.workers.n
    data = _run(model, 12)
    # Firm agents follow entries and exits: exactly the firms alive.
    alive = np.flatnonzero(model.sim.firms.alive[: model.sim.n_firms])
    assert sorted(a.index for a in model.agents_by_type[Firm]) == alive.tolist()
    assert list(data.columns) == list(REPORTERS)
    assert len(data) == 13  # set-up and 12 months
    assert model.running is False and model.steps == 12
    assert data["Year"].iloc[-1] == pytest.approx(model.cfg.run.start_year + 1)
    persons = model.sim.workers.n * model.sim.world.persons_per_agent
    inland = (model.sim.counties.kind[model.sim.workers.home_county] != 0).sum()
    total = data["Local jobs"] + data["Outbound"] + data["Home"]
    assert np.allclose(total, inland * model.sim.world.persons_per_agent) and total.max() < persons


def test_agents_read_and_write_the_engine_state():
    model = TransferModel(world="teaching", seed=1, years=1)
    _run(model, 3)
    w = model.sim.workers
    statuses = [agent.status for agent in model.roster.workers]
    assert np.array_equal(statuses, w.status)
    agent = model.roster.workers[5]
    agent.skill = 0.25
    assert w.skill[5] == 0.25
    county = model.roster.counties[0]
    assert county.infrastructure == model.sim.state.infrastructure[0]


def test_both_engines_give_the_same_model_data():
    fast = _run(TransferModel(world="teaching", policy="kpi_reform", seed=4, years=2), 24)
    ref = _run(TransferModel(world="teaching", policy="kpi_reform", seed=4, years=2,
                             engine="reference"), 24)
    pd.testing.assert_frame_equal(fast, ref, check_exact=False, rtol=1e-9)


def test_government_frame_accounts_for_every_yuan_with_either_engine():
    frames = {}
    for engine in ("numba", "reference"):
        model = TransferModel(world="teaching", policy="kpi_reform", engine=engine, seed=4,
                              years=2)
        _run(model, 18)  # one closed year and the year under way
        frames[engine] = model.government_frame()
    table = frames["numba"]
    pd.testing.assert_frame_equal(table, frames["reference"])
    assert sorted(table.year.unique()) == [2017, 2018]
    assert set(table.kind) <= {"central", "poverty"}
    inflow = table.granted + table.carried_in
    outflow = table.spent_total + table.carried + table.returned
    assert np.allclose(inflow, outflow) and table.spent_total.sum() > 0


def test_rows_are_steps_and_the_headline_reporters_end_at_the_runs_summary():
    model = TransferModel(world="teaching", policy="kpi_reform", seed=5, years=4)
    model.run_model()
    data = model.datacollector.get_model_vars_dataframe()
    assert data.index.tolist() == list(range(49))  # row k: the state after k months
    assert np.allclose(data["Year"], model.cfg.run.start_year + data.index / 12)
    sim_ = model.sim
    expected = summary(sim_, timeseries_frame(sim_, {}), events_frame(sim_, {}))
    for label, field in HEADLINE.items():
        assert data[label].iloc[-1] == pytest.approx(expected[field], rel=1e-9, nan_ok=True)
    assert data["Poverty local job-years"].is_monotonic_increasing
    assert data["Spending"].iloc[0] == 0 and data["Spending"].iloc[-1] > 0
    assert np.isnan(data["Spell survival 3y"].iloc[12])  # no spell has lasted 3 years yet
    # Agent reporters: every firm alive and every worker, each step.
    firms = model.datacollector.get_agenttype_vars_dataframe(Firm)
    workers = model.datacollector.get_agenttype_vars_dataframe(Worker)
    assert list(firms.columns) == list(FIRM_REPORTERS)
    assert list(workers.columns) == list(WORKER_REPORTERS)
    alive = model.sim.firms.alive[: model.sim.n_firms]
    assert len(firms.loc[48]) == alive.sum() == data["Firms east"].iloc[-1] + data[
        "Firms central"].iloc[-1] + data["Firms west"].iloc[-1]
    assert len(workers.loc[48]) == model.sim.workers.n
    status = workers.loc[48]["Status"].value_counts()
    assert status.get("local", 0) == (model.sim.workers.status == 1).sum()


def test_seed_none_draws_and_records_a_fresh_seed():
    a, b = TransferModel(world="teaching", years=1), TransferModel(world="teaching", years=1)
    assert a.cfg.run.seed != b.cfg.run.seed
    redo = TransferModel(world="teaching", years=1, seed=a.cfg.run.seed)
    pd.testing.assert_frame_equal(_run(a, 4), _run(redo, 4))
    assert TransferModel(world="teaching", years=1, overrides=("run.seed=9",)).cfg.run.seed == 9
    assert TransferModel(config=a.cfg).cfg.run.seed == a.cfg.run.seed


def _batch_run(**kwargs):
    """``mesa.batch_run`` with two unseeded replicates, in either Mesa's spelling (3.5
    deprecates ``iterations`` for ``rng``)."""
    if "rng" in inspect.signature(mesa.batch_run).parameters:
        kwargs["rng"] = [None, None]
    else:
        kwargs["iterations"] = 2
    return pd.DataFrame(mesa.batch_run(TransferModel, display_progress=False, **kwargs))


def test_batch_run_gives_independent_replicates_with_rows_at_their_steps():
    rows = _batch_run(parameters={"world": "teaching", "years": 1, "agent_reporters": False},
                      number_processes=1, data_collection_period=1, max_steps=100)
    assert sorted(rows.RunId.unique()) == [0, 1]
    # Row "Step" k holds the state after k months.
    assert np.allclose(rows["Year"], 2017 + rows["Step"] / 12)
    last = rows.groupby("RunId").Step.max()
    # Mesa 3.3 (Python 3.11) stops one row short of the final state (Mesa issue 2514).
    assert (last == (12 if MESA_VERSION >= (3, 5) else 11)).all()
    first, second = (run.set_index("Step") for _, run in rows.groupby("RunId"))
    assert not np.array_equal(first["Local jobs"], second["Local jobs"])


@pytest.mark.slow  # two spawned interpreters import the package: ~10 s
def test_batch_run_in_two_processes_works_under_a_main_guard(tmp_path):
    script = tmp_path / "batch.py"
    script.write_text(textwrap.dedent('''
        import mesa
        from sim import TransferModel

        if __name__ == "__main__":
            rows = mesa.batch_run(TransferModel, {"world": "teaching", "years": 1,
                                                  "policy": ["baseline", "kpi_reform"],
                                                  "agent_reporters": False},
                                  number_processes=2, display_progress=False)
            print(sorted(row["policy"] for row in rows))
    '''))
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=300, check=True)
    assert out.stdout.strip().splitlines()[-1] == "['baseline', 'kpi_reform']"


def test_seed_reaches_dynamics_and_mesa_rng():
    a = TransferModel(world="teaching", seed=7, years=1)
    b = TransferModel(world="teaching", seed=7, years=1)
    c = TransferModel(world="teaching", seed=8, years=1)
    assert a.cfg.run.seed == 7 and a.rng.random() == b.rng.random() != c.rng.random()
    pd.testing.assert_frame_equal(_run(a, 6), _run(b, 6))
    assert not _run(c, 6).equals(_run(a, 0))


def test_levers_set_the_policy_and_bad_values_stop():
    model = TransferModel(world="teaching", policy_years=5, kpi="reform", special_fund=5e10,
                          fund_allocation="even", training_budget=300, credibility=0.5,
                          shock="export_2022", years=1)
    p = model.cfg.policy
    assert (p.policy_years, p.kpi, p.special_fund, p.fund_allocation, p.training_budget,
            p.credibility) == (5, "reform", 5e10, "even", 300, 0.5)
    assert model.cfg.shock.name == "export_2022"
    assert model.sim.params.package_months == 60
    with pytest.raises(ConfigError, match="policy.credibility"):
        TransferModel(world="teaching", credibility=1.5)


def test_large_worlds_make_worker_agents_on_demand_and_report_a_seeded_sample():
    model = TransferModel(world="teaching", seed=3, years=1, max_worker_agents=100,
                          worker_sample=40)
    assert model.roster.workers is None
    sample = sorted(a.index for a in model.agents_by_type[Worker])
    assert len(sample) == 40 and len(set(sample)) == 40
    again = TransferModel(world="teaching", seed=3, years=1, max_worker_agents=100,
                          worker_sample=40)
    assert sorted(a.index for a in again.agents_by_type[Worker]) == sample
    agent = model.worker(123)
    assert agent.index == 123 and model.worker(123) is agent
    assert agent.home_county == model.sim.workers.home_county[123]
    model.step()
    reported = model.datacollector.get_agenttype_vars_dataframe(Worker)
    assert reported.index.get_level_values("Step").unique().tolist() == [0, 1]
    assert len(reported.loc[1]) == 41  # the sample and the one asked for


def test_import_sim_does_not_import_mesa():
    code = "import sys, sim; assert 'mesa' not in sys.modules; sim.TransferModel; print('ok')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "ok"


def test_importing_mesa_keeps_the_multiprocessing_start_method():
    code = ("import multiprocessing as mp; before = mp.get_start_method(allow_none=True); "
            "import sim.mesa_model; assert mp.get_start_method(allow_none=True) == before; "
            "print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "ok"
