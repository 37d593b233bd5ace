"""World generation (MODEL.md §2-3, §6)."""

from __future__ import annotations

import numpy as np
import pytest

import sim.world as world_module
from sim.world import generate
from tests.conftest import make_config


def test_default_world_has_the_national_shape():
    cfg = make_config()
    w = generate(cfg)
    c = w.counties
    assert np.bincount(c.kind, minlength=3).tolist() == [200, 300, 832]
    assert c.key_assistance.sum() == 160 and np.all(c.kind[c.key_assistance] == 2)
    assert c.resettlement_site.sum() == 70 and np.all(c.kind[c.resettlement_site] == 2)
    assert np.all(c.region[c.kind == 0] == 0)  # origin counties are eastern
    assert np.all(c.region[c.kind != 0] > 0)
    # Pairing partners: every poverty county has an origin partner, nobody else does.
    assert np.all(c.kind[c.partner[c.kind == 2]] == 0)
    assert np.all(c.partner[c.kind != 2] == -1)
    assert w.workers.n == cfg.world.worker_agents


def test_county_attributes_follow_the_gradient():
    w = generate(make_config())
    c = w.counties
    for field in ("wage_2024", "rent_2024", "initial_infrastructure", "home_income_2024"):
        values = getattr(c, field)
        assert values[c.kind == 0].mean() > values[c.kind == 2].mean(), field
    assert c.distance_km[c.region == 2].mean() > c.distance_km[c.region == 0].mean()
    assert np.all(c.min_wage_2024 <= c.wage_2024)
    assert np.all((c.initial_infrastructure >= 0) & (c.initial_infrastructure <= 1))
    assert (c.home_income_2024[c.resettlement_site].mean()
            < c.home_income_2024[(c.kind == 2) & ~c.resettlement_site].mean())


def test_workers_and_firms():
    cfg = make_config()
    w = generate(cfg)
    workers, c, f = w.workers, w.counties, w.firms
    n = w.n_firms
    # Workers are stored in blocks by home county.
    assert np.all(np.diff(workers.home_county) >= 0)
    assert np.all(c.worker_stop - c.worker_start >= 10)
    assert np.all((workers.skill > 0) & (workers.skill < 1))
    model = cfg.model
    assert np.all((workers.age >= model.entry_age) & (workers.age < model.retirement_age))
    kind = c.kind[workers.home_county]
    assert workers.poverty_alleviated[kind != 2].sum() == 0
    assert workers.skill[kind == 2].mean() < workers.skill[kind == 0].mean()
    assert workers.care[workers.female].mean() > workers.care[~workers.female].mean()
    # Heavy-tailed productivity: a Pareto tail (Hill estimate near the configured exponent).
    prod = np.sort(f.productivity[:n])[::-1]
    k = n // 10
    hill = k / np.log(prod[:k] / prod[k]).sum()
    assert abs(hill - cfg.world.productivity_pareto_alpha) < 0.35
    assert np.all(f.capacity[:n] * cfg.world.persons_per_agent <= cfg.world.max_firm_size)
    assert np.all(f.alive[:n]) and not f.alive[n:].any()


def test_persons_per_agent_scales_population():
    a = generate(make_config("world=teaching"))
    b = generate(make_config("world=teaching", "world.persons_per_agent=40"))
    assert np.isclose(b.counties.population.sum(), 2 * a.counties.population.sum())
    assert np.isclose(a.counties.population.sum(), 4000 * 20)


def test_same_seed_same_world_and_policy_does_not_change_it():
    a = generate(make_config("world=teaching", "run.seed=3"))
    b = generate(make_config("world=teaching", "run.seed=3", "policy.policy_years=5"))
    c = generate(make_config("world=teaching", "run.seed=4"))
    for table in ("counties", "workers", "firms"):
        ta, tb = getattr(a, table), getattr(b, table)
        for name, arr in ta.arrays().items():
            assert np.array_equal(arr, getattr(tb, name)), (table, name)
    assert not np.array_equal(a.workers.skill, c.workers.skill)


@pytest.mark.parametrize("world", ["teaching", "ankang_case"])
def test_world_does_not_depend_on_the_generation_chunk(world, monkeypatch):
    # Workers are drawn chunk by chunk (bounded memory at any size); the draws must be those
    # of one block, or a world would change with its size's chunking. ankang_case also takes
    # the case-industry path. 997 workers a chunk: several chunks, and a ragged last one.
    cfg = make_config(f"world={world}")
    whole = generate(cfg)
    monkeypatch.setattr(world_module, "GENERATION_CHUNK", 997)
    chunked = generate(cfg)
    assert chunked.workers.n > 3 * 997
    for table in ("counties", "workers", "firms"):
        for name, arr in getattr(whole, table).arrays().items():
            assert np.array_equal(arr, getattr(getattr(chunked, table), name)), (table, name)
