"""Entry of firms (MODEL.md §4, Entry; §12): births in origin counties, attracted entrants
that choose where to locate (both manufacturers: what transfers from the east), local
entrepreneurs in inland counties (any development type with local firms), returnee
entrepreneurs, and township workshops of headquarters in the east and, as nodes (建节), in
county seats and hubs."""

from __future__ import annotations

import numpy as np

from sim.codes import (
    ENTRY_ATTRACTED,
    ENTRY_BIRTH,
    ENTRY_LOCAL_BIRTH,
    ENTRY_RETURNEE,
    ENTRY_SATELLITE,
    EV_ENTER,
    LOCAL,
    MANUFACTURING,
    MONTHS_PER_YEAR,
    ORIGIN,
    P_CANDIDATE,
    P_LOCAL_BIRTH,
    P_PARTNER,
    P_RETURNEE,
    POVERTY,
    R_NONE,
)
from sim.engine.firms import Deciders
from sim.rules import normals, uniforms
from sim.world import DYNAMICS_STREAM, plant_capacity


def _poisson_from_uniform(lam: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Poisson(``lam``) counts by inversion of uniforms ``u`` (one counter-based draw each)."""
    out = np.zeros(lam.size, dtype=np.int64)
    p = np.exp(-lam)
    cdf = p.copy()
    active = u > cdf
    k = 0
    while active.any() and k < 10_000:
        k += 1
        p = p * lam / k
        cdf = cdf + p
        out[active] = k
        active &= u > cdf
    return out


class Entry:
    """Firm entry (a mixin of ``Simulation``)."""

    def _entry(self, t: int, founders: np.ndarray) -> None:
        """Births and attracted entrants (Poisson in the origin firm base), then local
        entrepreneurs and returnees."""
        m = self.cfg.model
        rng = np.random.default_rng(np.random.SeedSequence([self.cfg.run.seed,
                                                            DYNAMICS_STREAM, t]))
        base = self.initial_origin_firms
        births = rng.poisson(m.birth_rate / MONTHS_PER_YEAR * base)
        n_mobile = int(rng.poisson(m.mobile_entry_rate / MONTHS_PER_YEAR * base.sum()))
        weights = base / base.sum() if base.sum() > 0 else np.full(base.size, 1.0 / base.size)
        mobile_origin = self.origin_ids[rng.choice(base.size, n_mobile, p=weights)]
        total = int(births.sum()) + n_mobile
        manufacturing = np.flatnonzero(self.ind.development_type == MANUFACTURING)
        industry = manufacturing[rng.integers(0, manufacturing.size, total)]
        productivity = self._pareto(rng.random(total))
        efficiency = self._efficiency(rng.standard_normal(total))
        birth_county = np.repeat(self.origin_ids, births)
        nb = birth_county.size
        if nb:
            self._add_firms(t, birth_county, industry[:nb], productivity[:nb], efficiency[:nb],
                            birth_county, ENTRY_BIRTH)
        if n_mobile:
            self._attracted(t, industry[nb:], productivity[nb:], efficiency[nb:],
                            mobile_origin)
        self._local_births(t)
        if founders.size:
            self._returnee_firms(t, founders)

    def _local_births(self, t: int) -> None:
        """Local entrepreneurs in inland counties try a firm of a development type drawn at
        random among those with local firms; they found it where its expected profit with
        the package the county offers that industry is positive (so targeted packages draw
        the selected types). Counter-based draws per (county, candidate)."""
        rate = self.cfg.model.local_birth_rate / 1000.0 / MONTHS_PER_YEAR
        if rate <= 0.0:
            return
        inland = np.flatnonzero(self.counties.kind != ORIGIN)
        expected = rate * self.counties.population[inland]
        u = uniforms(self.seed, t, inland.astype(np.int64), P_LOCAL_BIRTH)
        n_try = _poisson_from_uniform(expected, u)
        county = np.repeat(inland, n_try)
        if county.size == 0:
            return
        slot = np.concatenate([np.arange(k) for k in n_try if k])
        key = county * 64 + np.minimum(slot, 63)
        draws = np.column_stack([uniforms(self.seed, t, key, P_LOCAL_BIRTH + 100 * j)
                                 for j in (1, 2)])
        local = np.flatnonzero(self.ind.firm_based > 0)
        industry = local[np.minimum((draws[:, 0] * local.size).astype(np.int64),
                                    local.size - 1)]
        s = self.state
        offers = s.offers[county].astype(float)
        prospect = (s.profit_per_capacity[county, industry]
                    + offers * s.package_per_capacity[county, industry])
        found = prospect > 0.0
        if not found.any():
            return
        z = normals(self.seed, t, key[found].astype(np.int64), P_LOCAL_BIRTH + 500)
        self._add_firms(t, county[found], industry[found], self._pareto(draws[found, 1]),
                        self._efficiency(z), np.full(int(found.sum()), -1), ENTRY_LOCAL_BIRTH)

    def _attracted(self, t, industry, productivity, efficiency, origin) -> None:
        """Mobile entrants choose a county (or stay out) by the location logit."""
        n = len(industry)
        capacity = self._capacity(productivity, industry)
        # Entrants' draw ids: unique within a step, disjoint from firm ids' streams by purpose.
        ids = np.arange(n, dtype=np.int64) + (t % 1024) * 4096
        deciders = Deciders(ids, industry.astype(np.int64), capacity.astype(float),
                            efficiency.astype(float), np.zeros(n),
                            self._monthly_revenue(capacity, industry), np.full(n, -1),
                            np.zeros(n, dtype=np.int64), origin.astype(np.int64), np.ones(n))
        chosen = self._choose(deciders, True, t, P_CANDIDATE)
        enter = chosen >= 0
        if enter.any():
            self._add_firms(t, chosen[enter], industry[enter], productivity[enter],
                            efficiency[enter], origin[enter], ENTRY_ATTRACTED)

    def _returnee_firms(self, t: int, founders: np.ndarray) -> None:
        """Experienced outbound workers found small firms at home (筑巢引凤) and work there."""
        w = self.workers
        home = w.home_county[founders]
        u = uniforms(self.seed, t, founders.astype(np.int64), P_RETURNEE + 100)
        z = normals(self.seed, t, founders.astype(np.int64), P_RETURNEE + 200)
        prod = self.cfg.model.returnee_firm_scale * self._pareto(u)
        origin = np.where(self.counties.partner[home] >= 0, self.counties.partner[home], -1)
        ids = self._add_firms(t, home, w.outbound_industry[founders].astype(np.int64), prod,
                              self._efficiency(z), origin, ENTRY_RETURNEE)
        w.status[founders] = LOCAL
        w.employer[founders] = ids
        self.firms.employees[ids] = 1  # the founder (counted before matching: worker_step)
        w.seeking[founders] = False
        w.experience_months[founders] = 0

    def _satellites(self, t: int) -> None:
        """Origin headquarters open township workshops in a paired poverty county or at a
        resettlement site where the cost gap (with the package) pays for it."""
        m = self.cfg.model
        f = self.firms
        n = self.n_firms
        kind = self.counties.kind
        cand = np.flatnonzero(f.alive[:n] & (kind[f.county[:n]] == ORIGIN)
                              & (f.parent[:n] < 0)
                              & (f.capacity[:n] * self.world.persons_per_agent
                                 >= m.satellite_min_parent_size))
        if cand.size == 0:
            return
        u = uniforms(self.seed, t, cand.astype(np.int64), P_PARTNER)
        v = uniforms(self.seed, t, cand.astype(np.int64), P_PARTNER + 100)
        targets = np.full(cand.size, -1, dtype=np.int64)
        home = f.county[cand]
        n_part = self.partner_start[home + 1] - self.partner_start[home]
        use_partner = (n_part > 0) & (v < m.satellite_partner_share)
        idx = self.partner_start[home] + (u * np.maximum(n_part, 1)).astype(np.int64)
        targets[use_partner] = self.partner_list[np.minimum(idx, len(self.partner_list) - 1)][
            use_partner]
        if self.resettlement_ids.size:
            # What is left of v beyond its branch, rescaled, is again uniform: it picks which
            # resettlement site.
            share = m.satellite_partner_share
            pick = v
            if 0.0 < share < 1.0:
                pick = np.where(v < share, v / share, (v - share) / (1.0 - share))
            last = self.resettlement_ids.size - 1
            r = self.resettlement_ids[np.minimum(
                (pick * self.resettlement_ids.size).astype(np.int64), last)]
            targets[~use_partner] = r[~use_partner]
        ok = targets >= 0
        i = f.industry[cand]
        s = self.state
        to = np.maximum(targets, 0)
        gain = np.where(ok, s.profit_per_capacity[to, i]
                        + s.package_per_capacity[to, i] * s.offers[to]
                        - s.profit_per_capacity[home, i], -1.0)
        draw = uniforms(self.seed, t, cand.astype(np.int64), P_PARTNER + 200)
        opens = ok & (gain > 0) & (draw < m.satellite_rate)
        self._open_workshops(t, cand[opens], targets[opens])

    def _node_workshops(self, t: int) -> None:
        """Nodes (建节, MODEL.md §12.4): headquarters in inland county seats and hubs open
        township workshops close to care-bound workers -- in their own county if it is a
        poverty county, else in a poverty county of their region -- at
        ``policy.node_workshop_rate`` a year where the workshop's expected profit with the
        package is positive. Workshops live on their headquarters' orders."""
        rate = self.cfg.policy.node_workshop_rate
        if rate <= 0.0:
            return
        m = self.cfg.model
        f = self.firms
        n = self.n_firms
        kind = self.counties.kind
        cand = np.flatnonzero(f.alive[:n] & (kind[f.county[:n]] != ORIGIN) & (f.parent[:n] < 0)
                              & (self.ind.firm_based[f.industry[:n]] > 0)
                              & (f.capacity[:n] * self.world.persons_per_agent
                                 >= m.satellite_min_parent_size))
        if cand.size == 0:
            return
        home = f.county[cand]
        region = self.counties.region
        poverty = np.flatnonzero(kind == POVERTY)
        u = uniforms(self.seed, t, cand.astype(np.int64), P_PARTNER + 300)
        targets = home.astype(np.int64)
        away = kind[home] != POVERTY
        for k in np.flatnonzero(away):
            same_region = poverty[region[poverty] == region[home[k]]]
            pool = same_region if same_region.size else poverty
            targets[k] = pool[min(int(u[k] * pool.size), pool.size - 1)]
        i = f.industry[cand]
        s = self.state
        prospect = (s.profit_per_capacity[targets, i]
                    + s.package_per_capacity[targets, i] * s.offers[targets])
        draw = uniforms(self.seed, t, cand.astype(np.int64), P_PARTNER + 400)
        opens = (prospect > 0) & (draw < rate)
        self._open_workshops(t, cand[opens], targets[opens])

    def _open_workshops(self, t: int, parents: np.ndarray, counties: np.ndarray) -> None:
        """Workshops of ``parents`` in ``counties``: the parent's industry and efficiency, a
        share of its order scale, its county as origin."""
        if parents.size == 0:
            return
        f = self.firms
        self._add_firms(t, counties, f.industry[parents].astype(np.int64),
                        self.cfg.model.satellite_order_share * f.productivity[parents],
                        f.efficiency[parents], f.county[parents], ENTRY_SATELLITE,
                        parent=parents)

    # --- new firms ------------------------------------------------------------------------------

    def _pareto(self, u: np.ndarray) -> np.ndarray:
        return (1.0 - u) ** (-1.0 / self.cfg.world.productivity_pareto_alpha)

    def _efficiency(self, z: np.ndarray) -> np.ndarray:
        sd = self.cfg.world.efficiency_sd
        return np.exp(sd * z - 0.5 * sd * sd)

    def _capacity(self, productivity, industry):
        return plant_capacity(self.cfg.world, productivity, self.ind.typical_size[industry])

    def _initial_cash(self, county, industry, capacity) -> np.ndarray:
        """Launch capital: months of a plant's wage, rent and capital costs."""
        month = self.month
        monthly = capacity * (month.wage[county] + month.rent[county]
                              + month.capital_per_worker[industry])
        return self.cfg.model.initial_cash_months * monthly

    def _add_firms(self, t, county, industry, productivity, efficiency, origin, entry_kind,
                   parent=None) -> np.ndarray:
        """New firms with stable ids (the table grows by doubling); returns their ids."""
        f = self.firms
        k = len(county)
        if self.n_firms + k > f.n:
            f.grow(max(2 * f.n, self.n_firms + k))
        ids = np.arange(self.n_firms, self.n_firms + k)
        self.n_firms += k
        county = np.asarray(county, dtype=np.int64)
        industry = np.asarray(industry, dtype=np.int64)
        f.alive[ids] = True
        f.employees[ids] = 0
        f.county[ids] = county
        f.industry[ids] = industry
        f.origin_county[ids] = origin
        f.productivity[ids] = productivity
        f.efficiency[ids] = efficiency
        f.capacity[ids] = self._capacity(productivity, industry)
        f.cash[ids] = self._initial_cash(county, industry, f.capacity[ids])
        f.entry_kind[ids] = entry_kind
        f.entry_step[ids] = t
        f.parent[ids] = -1 if parent is None else parent
        self._start_packages(ids)
        for fid in ids:
            self._log(t, fid, EV_ENTER, R_NONE)
        return ids
