"""The paper's development strategy (MODEL.md §12): each zone kind, each development type,
industry selection, cores and nodes change what the model does -- and each test fails if
that effect is removed."""

from __future__ import annotations

import numpy as np
import pytest

from sim.codes import (
    CATERING,
    DOMESTIC_SERVICE,
    ENTRY_ATTRACTED,
    ENTRY_BIRTH,
    ENTRY_RETURNEE,
    ENTRY_SATELLITE,
    EV_ENTER,
    LOCAL,
    MANUFACTURING,
    ORIGIN,
    OUTBOUND,
    POVERTY,
    DevelopmentType,
    Zone,
)
from sim.development import county_classes, market_access
from sim.engine import Simulation
from sim.rules import logistics_cost
from sim.world import generate
from tests.conftest import make_config, run_sim

DEFAULT_6Y = ("run.years=6",)


def _index(sim, name: str) -> int:
    return sim.world.industry_names.index(name)


def _type_index(sim, development_type: DevelopmentType) -> int:
    return int(np.flatnonzero(sim.ind.development_type == development_type)[0])


# --- zones -------------------------------------------------------------------------------------

def test_every_zone_kind_exists_in_the_national_shape():
    sim = Simulation(make_config())
    c = sim.counties
    for zone in Zone:
        assert getattr(c, zone.label).sum() > 0, zone.label
    assert np.all(c.kind[c.service_hub] != POVERTY)
    assert np.all(c.distance_city_km[c.service_hub] == 20.0)
    classes = set(county_classes(c))
    assert "poverty:ethnic:core" in classes and "poverty:none:other" in classes


def test_a_service_hub_lowers_freight_costs_nearby():
    sim = Simulation(make_config(*DEFAULT_6Y))
    p = sim.params
    far, near = (logistics_cost(p, 1e5, 0.8, 0.8, 2000.0, 0.4, 0.0, access, 1.0)
                 for access in (0.0, 1.0))
    assert near == pytest.approx(far * (1 - p.hub_logistics_discount))
    # In the world: counties near a hub expect more profit from shipped goods, all else equal.
    state = sim.state
    apparel = _index(sim, "textile_apparel")
    c = int(np.flatnonzero(sim.counties.kind == POVERTY)[0])
    sim.counties.hub_access[c] = 0.0
    sim._expectations()
    low = state.profit_per_capacity[c, apparel]
    sim.counties.hub_access[c] = 1.0
    sim._expectations()
    assert state.profit_per_capacity[c, apparel] > low


def test_transfer_receiving_counties_are_populous():
    c = Simulation(make_config()).counties
    pov = c.kind == POVERTY
    boosted = c.population[pov & c.transfer_receiving].mean()
    other = c.population[pov & ~c.transfer_receiving & ~c.resettlement_site].mean()
    assert boosted > 1.5 * other


def test_revolutionary_base_areas_draw_visitors_and_grow_raw_materials():
    cfg = make_config()
    sim = Simulation(cfg)
    c, ind = sim.counties, sim.ind
    wellness = _index(sim, "wellness_tourism")
    no_bonus = make_config("model.red_tourism_bonus=0")
    ratio = (market_access(cfg, c, ind)[:, wellness]
             / market_access(no_bonus, c, ind)[:, wellness])
    assert np.allclose(ratio[c.revolutionary_base], 1 + cfg.model.red_tourism_bonus)
    assert np.allclose(ratio[~c.revolutionary_base], 1.0)
    agro = _index(sim, "agro_ecommerce")
    pov = c.kind == POVERTY
    resource = sim.state.local_resource[:, agro] > 0
    zone = c.revolutionary_base | c.ethnic
    assert resource[pov & zone].mean() > 1.4 * resource[pov & ~zone].mean()


def test_ethnic_handicrafts_sell_on_the_brand_of_ethnic_areas():
    sim = run_sim(*DEFAULT_6Y)
    c = sim.counties
    crafts = _index(sim, "ethnic_handicrafts")
    access = sim.state.market_access[:, crafts]
    assert np.all(access[c.ethnic] == 1.0)
    assert np.all(access[~c.ethnic] == sim.cfg.model.non_ethnic_craft_access)
    employment = sim.state.industry_employment[:, crafts]
    pov = c.kind == POVERTY
    share_in_ethnic = employment[pov & c.ethnic].sum() / employment[pov].sum()
    assert share_in_ethnic > 1.3 * (pov & c.ethnic).sum() / pov.sum()


def test_border_counties_export_to_neighbours_and_suffer_border_closures():
    sim = Simulation(make_config(*DEFAULT_6Y))
    border = sim.counties.border
    apparel = _index(sim, "textile_apparel")
    exposure = sim.ind.export_exposure[apparel]
    access = sim.state.market_access[:, apparel]
    assert np.allclose(access[border], 1 + sim.cfg.model.border_export_access * exposure)
    assert np.all(access[~border] == 1.0)
    closed = Simulation(make_config(*DEFAULT_6Y, "shock=border_2020"))
    month = 3 * 12 + 1  # 2020, inside the closure
    before, during = sim.environment(month), closed.environment(month)
    ratio = during.demand[:, apparel] / before.demand[:, apparel]
    assert np.allclose(ratio[border], 1 - closed.cfg.shock.border_closure_size * exposure)
    assert np.allclose(ratio[~border], 1.0)
    after = 7 * 12  # 2024: the closure is over
    assert np.allclose(closed.environment(after).demand, sim.environment(after).demand)


# --- development types ---------------------------------------------------------------------

def test_only_manufacturing_transfers_from_the_east():
    sim = run_sim(*DEFAULT_6Y)
    ev = sim.events_array()
    eastern = (ev["event"] == EV_ENTER) & np.isin(ev["entry_kind"], [ENTRY_BIRTH, ENTRY_ATTRACTED])
    assert eastern.sum() > 50
    assert np.all(sim.ind.development_type[ev["industry"][eastern]] == MANUFACTURING)
    # Local types do exist inland, founded by local entrepreneurs.
    n = sim.n_firms
    f = sim.firms
    inland = sim.counties.kind[f.county[:n]] != ORIGIN
    local_types = sim.ind.development_type[f.industry[:n]] != MANUFACTURING
    assert (f.alive[:n] & inland & local_types).sum() > 50


def test_agro_processing_locates_at_its_raw_material():
    sim = run_sim(*DEFAULT_6Y)
    agro = _index(sim, "agro_ecommerce")
    pov = sim.counties.kind == POVERTY
    resource = sim.state.local_resource[:, agro] > 0
    # The initial firms settled where the raw material is (world generation)...
    world = generate(sim.cfg)
    f = world.firms
    initial = np.bincount(f.county[: world.n_firms][f.industry[: world.n_firms] == agro],
                          minlength=sim.counties.n)
    assert initial[pov & resource].mean() > 2 * initial[pov & ~resource].mean()
    # ...and the raw material raises labour productivity, hence the profit an entrant expects.
    profit = sim.state.profit_per_capacity[:, agro]
    assert np.median(profit[pov & resource]) > np.median(profit[pov & ~resource])


def test_wellness_demand_follows_the_season_and_the_visitors():
    sim = Simulation(make_config(*DEFAULT_6Y))
    wellness = _index(sim, "wellness_tourism")
    a = sim.ind.seasonal_amplitude[wellness]
    july, january = sim.environment(6), sim.environment(12)
    ratio = july.demand[:, wellness] / january.demand[:, wellness]
    assert np.allclose(ratio, (1 + a) / (1 - a), rtol=0.05)
    apparel = _index(sim, "textile_apparel")
    assert np.allclose(july.demand[:, apparel] / january.demand[:, apparel], 1.0)
    c = sim.counties
    access = sim.state.market_access[:, wellness]
    assert np.corrcoef(access, c.ecological_assets)[0, 1] > 0.3
    assert np.corrcoef(access, -c.distance_city_km)[0, 1] > 0.3


def test_care_bound_workers_reach_only_workshops_and_crafts_when_the_county_seat_is_out_of_reach():
    sim = run_sim(*DEFAULT_6Y, "model.care_town_access=0")
    w = sim.workers
    f = sim.firms
    local_care = (w.status == LOCAL) & w.care
    employer = w.employer[local_care]
    friendly = (f.parent[employer] >= 0) | (sim.ind.care_friendly[f.industry[employer]] > 0)
    own_firm = f.entry_kind[employer] == ENTRY_RETURNEE  # a returnee founder runs it
    assert local_care.sum() > 0 and (friendly | own_firm).all()
    reach = run_sim(*DEFAULT_6Y)
    care_employment = [((s.workers.status == LOCAL) & s.workers.care).sum() for s in (sim, reach)]
    assert care_employment[0] < 0.7 * care_employment[1]


def test_catering_kitchens_send_natives_to_their_city_stores():
    sim = run_sim(*DEFAULT_6Y)
    w = sim.workers
    catering = int(np.flatnonzero(sim.ind.development_type == CATERING)[0])
    kitchen = sim.state.industry_employment[:, catering] > 0
    out = w.status == OUTBOUND
    from_kitchen = out & kitchen[w.home_county]
    elsewhere = out & ~kitchen[w.home_county] & (sim.counties.kind[w.home_county] != ORIGIN)
    share = [(w.outbound_industry[m] == catering).mean() for m in (from_kitchen, elsewhere)]
    assert share[0] > share[1] + 0.05
    assert sim.ind.outbound_wage_premium[catering] > 0


def test_domestic_service_is_outbound_work_mostly_for_women_at_higher_pay():
    sim = run_sim(*DEFAULT_6Y)
    w = sim.workers
    service = int(np.flatnonzero(sim.ind.development_type == DOMESTIC_SERVICE)[0])
    out = w.status == OUTBOUND
    women = (w.outbound_industry[out & w.female] == service).mean()
    men = (w.outbound_industry[out & ~w.female] == service).mean()
    # Women draw domestic service with more weight (ratio ~2 at the default parameters).
    assert women > 1.5 * men
    # No local firm is ever a labour-export agency.
    assert not np.any(sim.firms.industry[: sim.n_firms] == service)
    # The premium raises the value of going out.
    from sim import kernels as K
    values = {}
    for premium in (0.0, sim.ind.outbound_wage_premium[service]):
        v = np.empty(3)
        K.option_values(sim.params, sim.month, 0, False, 0.4, 24, False, 30, False, 4000.0,
                        2000.0, 0.7, 1800.0, premium, v)
        values[premium] = v[K.OPTION_OUTBOUND]
    low, high = values.values()
    assert high > low


# --- selection, cores and nodes ------------------------------------------------------------

def test_rule_of_thumb_targets_packages_at_the_selected_industries():
    sim = run_sim(*DEFAULT_6Y, "policy.selection=rule")
    s = sim.state
    inland = sim.counties.kind != ORIGIN
    top = sim.cfg.policy.selection_top
    assert np.all(s.targeted[inland].sum(axis=1) == top)
    assert np.all(s.package_per_capacity[s.targeted == 0] == 0)
    assert np.all(s.targeted[:, ~(sim.ind.firm_based > 0)] == 0)
    near = inland & (sim.counties.distance_city_km <= sim.cfg.model.hub_reach_km)
    assert np.all(s.targeted[near][:, sim.ind.consumer_good == 0] == 0)
    # Entrants follow the packages: local firms founded in targeted industries are a larger
    # share than without targeting.
    base = run_sim(*DEFAULT_6Y)

    def targeted_share(run):
        ev = run.events_array()
        births = (ev["event"] == EV_ENTER) & (run.counties.kind[ev["county"]] == POVERTY)
        return s.targeted[ev["county"][births], ev["industry"][births]].mean()

    assert targeted_share(sim) > targeted_share(base) + 0.05


def test_create_cores_keeps_packages_to_core_counties():
    sim = Simulation(make_config("run.years=2", "policy=create_cores"))
    c = sim.counties
    non_core = (c.kind == POVERTY) & ~c.key_assistance & ~c.resettlement_site
    offered = np.zeros(c.n, dtype=bool)
    for _ in range(24):
        sim.step()
        offered |= sim.state.offers
    assert not offered[non_core].any()
    assert offered[c.key_assistance].any()


def test_nodes_open_township_workshops_from_inland_headquarters():
    sim = run_sim(*DEFAULT_6Y, "policy=build_nodes")
    ev = sim.events_array()
    f = sim.firms
    sats = np.flatnonzero(f.entry_kind[: sim.n_firms] == ENTRY_SATELLITE)
    inland_parent = sats[sim.counties.kind[f.county[f.parent[sats]]] != ORIGIN]
    assert inland_parent.size > 10
    assert np.all(sim.counties.kind[f.county[inland_parent]] == POVERTY)
    base = run_sim(*DEFAULT_6Y)
    assert (ev["entry_kind"] == ENTRY_SATELLITE).sum() > (
        base.events_array()["entry_kind"] == ENTRY_SATELLITE).sum()


def test_summary_cuts_by_zone_and_development_type_add_up():
    from sim.results import events_frame, summary, timeseries_frame

    sim = run_sim(*DEFAULT_6Y)
    result = summary(sim, timeseries_frame(sim, {}), events_frame(sim, {}))
    total = result["poverty_local_job_years"]
    for zone in Zone:
        value = result[f"poverty_local_job_years_{zone.label}"]
        present = (getattr(sim.counties, zone.label) & (sim.counties.kind == POVERTY)).any()
        assert (0 < value < total) if present else value == 0, zone.label
    by_type = sum(v for k, v in result.items() if k.startswith("local_jobs_poverty_")
                  and k.endswith("_end") and k != "local_jobs_poverty_end")
    assert by_type == pytest.approx(result["local_jobs_poverty_end"])
    assert result["outbound_domestic_service_end"] > 0
