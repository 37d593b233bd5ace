"""The reference engine (per-agent Python) and the numba engine run the same model.

Both engines step side by side on the teaching world; after every month the firm event log,
every integer and boolean field of firms and workers (worker statuses included) must be
identical and every float equal to 1e-9 relative.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import kernels as K
from sim import rules
from sim.codes import EV_ENTER, EV_EXIT, EV_RELOCATE, OUTBOUND, STATUS_NAMES
from sim.engine import Simulation
from sim.engines import make_simulation
from sim.params import make_params
from sim.reference import ReferenceSimulation
from tests.conftest import make_config

REPO = Path(__file__).resolve().parent.parent
KERNEL_LOOPS = ("county_expectations", "firm_plan", "worker_step", "count_employees",
                "match_local", "worker_tallies", "firm_accounts", "choose_locations",
                "train_workers", "age_workers")


def _assert_same_state(fast: Simulation, ref: Simulation, when: str) -> None:
    assert fast.record.events == ref.record.events, f"firm events differ {when}"
    assert np.array_equal(fast.workers.status, ref.workers.status), f"statuses differ {when}"
    assert fast.n_firms == ref.n_firms, when
    # Every field of every table in the registry: workers, firms and the counties' state.
    for table in ("workers", "firms", "state"):
        a, b = getattr(fast, table), getattr(ref, table)
        for spec in a.fields:
            x, y = getattr(a, spec.name), getattr(b, spec.name)
            msg = f"{table}.{spec.name} {when}"
            if x.dtype.kind == "f":
                np.testing.assert_allclose(y, x, rtol=1e-9, atol=0, err_msg=msg)
            else:
                assert np.array_equal(x, y), msg
    np.testing.assert_allclose(ref.infra_pending, fast.infra_pending, rtol=1e-9, atol=0,
                               err_msg=f"infra_pending {when}")
    np.testing.assert_allclose(ref.record.metrics, fast.record.metrics, rtol=1e-9, atol=0,
                               err_msg=f"metrics {when}")


# (policy, shock, seed, years): shocks need runs long enough to reach them (pandemic 2020,
# sanctions mid-2021, export orders August 2022; the runs start in 2017).
CASES = [
    ("baseline", "none", 0, 4),
    ("baseline", "none", 1, 4),
    ("baseline", "export_2022", 2, 7),
    ("kpi_reform", "none", 0, 4),
    ("kpi_reform", "none", 3, 4),
    ("kpi_reform", "export_2022", 1, 7),
    ("policy_mix", "pandemic_2020", 4, 4),
    ("special_fund_even", "sanctions", 5, 5),
    ("paper_strategy", "border_2020", 6, 5),  # selection, cores, nodes, border closure
]


@pytest.mark.parametrize(("policy", "shock", "seed", "years"), CASES)
def test_engines_identical_every_step(policy, shock, seed, years):
    # Cheaper moves than the default, so that relocations are exercised too.
    cfg = make_config("world=teaching", f"policy={policy}", f"shock={shock}",
                      f"run.seed={seed}", f"run.years={years}", "model.relocation_cost_factor=1")
    fast, ref = Simulation(cfg), ReferenceSimulation(cfg)
    _assert_same_state(fast, ref, "after set-up")
    while fast.step_index < fast.n_steps:
        fast.step()
        ref.step()
        _assert_same_state(fast, ref, f"at step {fast.step_index - 1}")
    # The comparison is not vacuous: firms entered and closed (and moved, in the longest
    # run), and workers are in every status.
    kinds = set(fast.events_array()["event"].tolist())
    assert {EV_ENTER, EV_EXIT} <= kinds
    if years == max(case[3] for case in CASES) and policy == "baseline":
        assert EV_RELOCATE in kinds
    assert len(np.unique(fast.workers.status)) == len(STATUS_NAMES)


def test_returnee_founding_rule_does_not_overflow_in_plain_python():
    """Issue 13: with ``world.rent_poverty=870000`` a county's expected profit is about -1e6
    yuan per unit of capacity and exp(-prospect / scale) overflows: the kernel's exp gives inf
    (probability 0), plain Python's math.exp raised OverflowError in the per-agent engine."""
    params = make_params(make_config("world=teaching"))
    limit = -rules.EXP_MAX * params.returnee_prospect_scale
    for prospect in (-1e6, limit, np.nextafter(limit, -np.inf), -1e300, -500.0, 0.0, 1e6):
        compiled = rules.founding_probability(params, prospect, 1.0, 0.5)
        assert rules.founding_probability.py_func(params, prospect, 1.0, 0.5) == compiled
    assert rules.founding_probability(params, -1e6, 1.0, 0.5) == 0.0
    for x in (rules.EXP_MAX, np.nextafter(rules.EXP_MAX, np.inf), 1e6, -1e6, 0.5):
        assert rules.exp_or_inf.py_func(x) == rules.exp_or_inf(x)
    assert rules.exp_or_inf(rules.EXP_MAX) < np.inf == rules.exp_or_inf(1e6)


def test_engines_identical_when_founding_prospects_overflow():
    """The issue's reproducer (8 years, shortened to 4): both engines step by step equal."""
    cfg = make_config("world=teaching", "run.seed=15", "run.years=4", "policy.rent_waiver=0.3",
                      "world.rent_poverty=870000")
    fast, ref = Simulation(cfg), ReferenceSimulation(cfg)
    limit = -rules.EXP_MAX * fast.params.returnee_prospect_scale
    overflowing = 0
    while fast.step_index < fast.n_steps:
        fast.step()
        ref.step()
        _assert_same_state(fast, ref, f"at step {fast.step_index - 1}")
        w, s = fast.workers, fast.state
        experienced = ((w.status == OUTBOUND)
                       & (w.experience_months >= fast.params.returnee_min_experience))
        c, k = w.home_county[experienced], w.outbound_industry[experienced]
        prospect = s.profit_per_capacity[c, k] + s.offers[c] * s.package_per_capacity[c, k]
        overflowing += int((prospect < limit).sum())
    assert overflowing > 0  # experienced migrants did weigh founding at such prospects


def test_reference_engine_uses_no_kernel_loop(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("the reference engine called a numba kernel loop")

    for name in KERNEL_LOOPS:
        monkeypatch.setattr(K, name, forbidden)
    sim = make_simulation(make_config("world=teaching", "engine=reference", "run.years=1"))
    assert isinstance(sim, ReferenceSimulation)
    sim.run()
    assert sim.step_index == 12


def test_reference_agents_are_views_onto_the_state():
    sim = ReferenceSimulation(make_config("world=teaching", "run.years=1"))
    worker = sim.roster.workers[17]
    assert worker.status == sim.workers.status[17]
    worker.skill = 0.5
    assert sim.workers.skill[17] == 0.5
    firm = sim.roster.firms[0]
    assert firm.county == sim.firms.county[0]
    county = sim.roster.counties[3]
    assert list(county.residents) == list(range(sim.counties.worker_start[3],
                                                sim.counties.worker_stop[3]))
    # Mesa knows the agents: every county, every worker and the firms that are alive.
    types = {cls.__name__: len(agents) for cls, agents in sim.host.agents_by_type.items()}
    assert types == {"CountyGovernment": sim.counties.n, "Worker": sim.workers.n,
                     "Firm": int(sim.firms.alive[: sim.n_firms].sum())}


def _cli_run(engine: str, out: Path) -> None:
    subprocess.run([sys.executable, "-m", "sim", "world=teaching", f"engine={engine}",
                    "run.years=3", "run.seed=6", "run.figures=false", "run.progress=false",
                    f"hydra.run.dir={out}"], cwd=REPO, check=True, capture_output=True)


def test_cli_reference_engine_writes_the_same_outputs(tmp_path):
    _cli_run("numba", tmp_path / "numba")
    _cli_run("reference", tmp_path / "reference")
    for name in ("timeseries", "firm_events", "firms_end", "industry"):
        fast = pd.read_parquet(tmp_path / "numba" / f"{name}.parquet").drop(columns="run_id")
        ref = pd.read_parquet(tmp_path / "reference" / f"{name}.parquet").drop(columns="run_id")
        assert len(fast) > 0
        pd.testing.assert_frame_equal(ref, fast, check_exact=False, rtol=1e-9)
    fast = json.loads((tmp_path / "numba" / "summary.json").read_text())
    ref = json.loads((tmp_path / "reference" / "summary.json").read_text())
    assert fast.pop("run_id") != ref.pop("run_id")  # the configs differ in `engine` only
    assert fast.keys() == ref.keys()
    for key, value in fast.items():
        if isinstance(value, float):
            assert ref[key] == pytest.approx(value, rel=1e-9, nan_ok=True), key
        else:
            assert ref[key] == value, key
