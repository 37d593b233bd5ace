"""sim.TransferModel: a Mesa model whose agents are views onto the state, with either engine."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import sim
from sim.agents import CountyGovernment, Firm, Worker, import_mesa
from sim.config import ConfigError
from sim.mesa_model import REPORTERS, TransferModel

mesa = import_mesa()


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
