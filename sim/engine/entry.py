"""Entry of firms (MODEL.md §4, Entry): births in origin counties, attracted entrants that
choose where to locate, returnee entrepreneurs and satellite workshops of headquarters."""

from __future__ import annotations

import numpy as np

from sim.codes import (
    ENTRY_ATTRACTED,
    ENTRY_BIRTH,
    ENTRY_RETURNEE,
    ENTRY_SATELLITE,
    EV_ENTER,
    LOCAL,
    MONTHS_PER_YEAR,
    ORIGIN,
    P_CANDIDATE,
    P_PARTNER,
    P_RETURNEE,
    R_NONE,
)
from sim.engine.firms import Deciders
from sim.rules import normal, uniform
from sim.world import DYNAMICS_STREAM, plant_capacity


class Entry:
    """Firm entry (a mixin of ``Simulation``)."""

    def _entry(self, t: int, founders: np.ndarray) -> None:
        """Births and attracted entrants (Poisson in the origin firm base), then returnees."""
        m = self.cfg.model
        rng = np.random.default_rng(np.random.SeedSequence([self.cfg.run.seed,
                                                            DYNAMICS_STREAM, t]))
        base = self.initial_origin_firms
        births = rng.poisson(m.birth_rate / MONTHS_PER_YEAR * base)
        n_mobile = int(rng.poisson(m.mobile_entry_rate / MONTHS_PER_YEAR * base.sum()))
        weights = base / base.sum() if base.sum() > 0 else np.full(base.size, 1.0 / base.size)
        mobile_origin = self.origin_ids[rng.choice(base.size, n_mobile, p=weights)]
        total = int(births.sum()) + n_mobile
        industry = rng.integers(0, self.n_ind, total)
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
        if founders.size:
            self._returnee_firms(t, founders)

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
        u = np.array([uniform(self.seed, t, int(x), P_RETURNEE + 100) for x in founders])
        z = np.array([normal(self.seed, t, int(x), P_RETURNEE + 200) for x in founders])
        prod = self.cfg.model.returnee_firm_scale * self._pareto(u)
        origin = np.where(self.counties.partner[home] >= 0, self.counties.partner[home], -1)
        ids = self._add_firms(t, home, w.outbound_industry[founders].astype(np.int64), prod,
                              self._efficiency(z), origin, ENTRY_RETURNEE)
        w.status[founders] = LOCAL
        w.employer[founders] = ids
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
        u = np.array([uniform(self.seed, t, int(x), P_PARTNER) for x in cand])
        v = np.array([uniform(self.seed, t, int(x), P_PARTNER + 100) for x in cand])
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
        draw = np.array([uniform(self.seed, t, int(x), P_PARTNER + 200) for x in cand])
        opens = ok & (gain > 0) & (draw < m.satellite_rate)
        if not opens.any():
            return
        parents = cand[opens]
        self._add_firms(t, targets[opens], i[opens].astype(np.int64),
                        m.satellite_order_share * f.productivity[parents],
                        f.efficiency[parents], home[opens], ENTRY_SATELLITE, parent=parents)

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
