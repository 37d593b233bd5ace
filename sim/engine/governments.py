"""County governments as agents with an objective (MODEL.md §5, §11.1), and national levers.

Each poverty and central county government has an **official** with a term
(``policy.official_term`` years, staggered across counties by a seeded draw) and a **KPI**
that scores the term:

- ``count``: firms attracted (entries and relocations into the county);
- ``reform``: ``weight_survival`` x firm-years of all firms in the county + ``weight_growth``
  x growth in poverty-alleviated local jobs (in typical plants' worth of workers) +
  ``weight_chain`` x chain-matched entrants.

**The yearly choice.** The budget (central transfer, tax, pairing aid and what was carried
over) first honours commitments -- this year's payments of packages and retention offers
already running -- and the rest, the discretionary budget ``D``, is split by a **bundle**:
shares over four uses (entry packages, retention offers, training, infrastructure; the rest
is saved) from a grid of quarters, and a package **generosity** ``g`` from
``policy.generosity_levels`` (times the national terms; it applies to this year's new
packages and retention offers, so counties compete on terms). The value of a bundle is

    V = sum_u  b_u x D x s0 x log(1 + s_u / s0)                   (diminishing returns)
        + discount x [years left in the term > 1] x max_u b_u x min(saved, cap x granted)

with ``b_u`` the government's **belief** about KPI points per yuan of use ``u`` (for
packages, per generosity level), ``s0 = policy.government_saturation``; money saved is worth
something only if the official can still spend it in the term and only up to the carry-over
cap. A government considers only uses its KPI can score: under ``count`` retention, training
and infrastructure produce nothing it is scored on, so it never chooses them (the cliff).
It picks a bundle by a logit with noise ``policy.government_temperature`` (relative to the
best bundle's value) and a counter-based draw (``Draw.GOVERNMENT``).

**Beliefs** are learned each year by exponential smoothing (``policy.government_learning``)
of the county's own realised KPI points per yuan of each use, and blended with the mean
belief of its region's governments (``policy.government_peer_weight``). Points are
attributed to the use that bought them: packages -- packaged arrivals (count), or
firm-years of firms on an entry package and chain-matched packaged arrivals (reform), per
yuan allotted to packages (offers stay open while the allotment lasts); retention --
firm-years of retained firms, per yuan spent on retention (it can only be spent when a
package expires); training and infrastructure -- the growth of poverty-alleviated local
jobs, per yuan spent on both (special-fund and national training money included).

**Retention.** In the month a firm's package expires, a government with retention money
left (after what its running retention offers still need this year) offers one extension
of ``policy.retention_years`` at ``policy.retention_share`` x its generosity x the firm's
chain screening share; the firm's location review that month sees it. One retention offer
per firm and spell. This replaces v1's fixed taper under the reform KPI.

**Money.** Unspent money (package and retention pools, training not taken up, fund freight
money not claimed, savings) is carried into the next year up to ``policy.carryover_cap`` x
the year's granted budget; the rest returns to the centre. Every county-year is one row of
the government table: granted = spent + carried + returned - carried in.

Budgets are O(counties) numpy arithmetic on the county state (``sim.state``); this module is
shared by both engines. Money here is in kernel units (yuan per agent-person).
"""

from __future__ import annotations

import itertools

import numpy as np

from sim import kernels as K
from sim.codes import (
    LOCAL,
    MONTHS_PER_YEAR,
    ORIGIN,
    P_GOVERNMENT,
    POVERTY,
    Region,
)
from sim.config import PolicyConfig
from sim.rules import logistics_cost, uniform, uniforms

USES = ("packages", "retention", "training", "infrastructure")
U_PACKAGES, U_RETENTION, U_TRAINING, U_INFRASTRUCTURE = range(len(USES))
# Dimensions of a reform government's choices that can be replayed into another run.
REPLAY_DIMENSIONS = ("retention", "packages", "development")
# Columns of a recorded choice: shares of the discretionary budget by use, then generosity.
CHOICE_COLUMNS = ("share_packages", "share_retention", "share_training",
                  "share_infrastructure", "generosity")
SOURCES = ("transfer", "tax", "aid", "fund", "training_programme")
SPENDING = ("packages", "retention", "training", "infrastructure", "fund_freight", "credit")


def bundle_menu(step: float = 0.25) -> np.ndarray:
    """All share vectors over the four uses on a grid of ``step`` with sum <= 1."""
    k = int(round(1.0 / step))
    rows = [c for c in itertools.product(range(k + 1), repeat=len(USES)) if sum(c) <= k]
    return np.array(rows, dtype=float) * step


def scored_uses(kpi: str) -> np.ndarray:
    """Which uses can raise the official's KPI score."""
    if kpi == "count":
        return np.array([True, False, False, False])
    return np.ones(len(USES), dtype=bool)


def fund_shares(policy: PolicyConfig, kind, key_assistance, resettlement, infrastructure,
                residents) -> np.ndarray:
    """Share of the special fund going to each county under the allocation rule."""
    poverty = kind == POVERTY
    if policy.fund_allocation == "core":
        weight = (poverty & (key_assistance | resettlement)) * residents
    elif policy.fund_allocation == "even":
        weight = poverty * residents
    else:  # need: poorer infrastructure draws more
        weight = poverty * residents * (1.0 - infrastructure)
    total = weight.sum()
    return weight / total if total > 0 else weight.astype(float)


def grants(policy: PolicyConfig, state, *, counties, residents, fiscal_per_person, to_kernel,
           extra_aid=None) -> dict[str, np.ndarray]:
    """This year's new money of every county by source (kernel units); zero where the
    government offers no packages (origin counties, and central ones without packages)."""
    kind = counties.kind
    active = kind != ORIGIN
    if not policy.central_packages:
        active = kind == POVERTY
    transfer = residents * fiscal_per_person * policy.industrial_budget_share
    tax = policy.tax_share * state.revenue_year
    fund = policy.special_fund * to_kernel * fund_shares(
        policy, kind, counties.key_assistance, counties.resettlement_site, state.infrastructure,
        residents)
    paired = (kind == POVERTY) & (counties.partner >= 0)
    aid_weight = paired * residents
    aid = (policy.pairing_aid * to_kernel * aid_weight / aid_weight.sum()
           if aid_weight.sum() > 0 else np.zeros_like(transfer))
    if extra_aid is not None:
        aid = aid + extra_aid
    # National training programme: yuan per resident person of poverty counties.
    programme = policy.training_budget * residents * (kind == POVERTY)
    return {"transfer": transfer * active, "tax": tax * active, "aid": aid * active,
            "fund": fund * active, "training_programme": programme * active, "active": active}


def choose_bundles(values: np.ndarray, temperature: float, u: np.ndarray) -> np.ndarray:
    """Logit pick of one option per row of ``values`` (-inf: not available), with noise
    ``temperature`` relative to the row's best value, by the uniforms ``u``."""
    best = values.max(axis=1, keepdims=True)
    scale = temperature * np.maximum(np.abs(best), 1e-12)
    weight = np.exp((values - best) / scale)
    cum = np.cumsum(weight, axis=1)
    target = u[:, None] * cum[:, -1:]
    pick = (cum <= target).sum(axis=1)
    return np.minimum(pick, values.shape[1] - 1)


class Governments:
    """The county governments' part of the simulation (a mixin of ``Simulation``)."""

    def _init_governments(self) -> None:
        cfg = self.cfg
        p = cfg.policy
        n_c = self.counties.n
        lag = max(1, int(np.ceil(p.infra_lag_years)))
        self.infra_pending = np.zeros((lag, n_c))
        self.yearly_spend = {k: np.zeros(n_c) for k in ("training", "infrastructure", "fund")}
        self.trained = np.zeros(n_c)
        self.menu = bundle_menu()
        self.levels = np.asarray(p.generosity_levels, dtype=float)
        scored = scored_uses(p.kpi)
        self.scored = scored
        # Beliefs: KPI points per typical package-year of money, by use (packages: by level).
        self.beliefs = np.where(scored, p.government_prior, 0.0) * np.ones((n_c, len(USES)))
        self.package_beliefs = np.full((n_c, self.levels.size), p.government_prior)
        # Staggered terms: years already served at the start of the run.
        self.term_offset = np.array([int(uniform(self.seed, 0, c, P_GOVERNMENT + 100)
                                         * p.official_term) for c in range(n_c)])
        self.kpi_term = np.zeros(n_c)
        self.carried = np.zeros(n_c)
        self.retention_pending = np.zeros(0, dtype=np.int64)
        self.expiries: list[np.ndarray] = []
        self.government_rows: list[dict] = []
        self.choices: list[np.ndarray] = []
        self.ledger: dict | None = None
        self._zero_counters()

    def _zero_counters(self) -> None:
        n_c = self.counties.n
        self.counters = {k: np.zeros(n_c) for k in (
            "arrivals", "arrivals_packaged", "chain_arrivals", "chain_arrivals_packaged",
            "firm_months", "packaged_months", "retained_months", "retention_offers",
            "retention_accepted")}
        self.poverty_local_start = self.state.poverty_local.astype(float).copy()

    # --- the yearly decision ----------------------------------------------------------------

    def _government_year(self, t: int) -> None:
        """Close last year's books, then budgets, the bundle choice, offers, credit lines,
        training and infrastructure for the year."""
        cfg = self.cfg
        p = cfg.policy
        s = self.state
        n_c = self.counties.n
        if self.ledger is not None:
            self._close_year()
        year = t // MONTHS_PER_YEAR
        new = grants(p, s, counties=self.counties, residents=self.residents,
                     fiscal_per_person=cfg.world.fiscal_capacity_per_person,
                     to_kernel=self.world.population_scale / self.world.persons_per_agent,
                     extra_aid=self._case_aid(self.month.year))
        s.revenue_year[:] = 0.0
        active = new.pop("active")
        s.active[:] = active
        carried_in = self.carried
        own = new["transfer"] + new["tax"] + new["aid"] + carried_in
        # Commitments first: this year's payments of packages and retention offers running.
        committed_p, committed_r = self._commitments(MONTHS_PER_YEAR)
        c_p = np.minimum(committed_p, own)
        c_r = np.minimum(committed_r, own - c_p)
        discretionary = own - c_p - c_r
        into_term = (year + self.term_offset) % p.official_term
        if np.any(into_term == 0):
            self.kpi_term[into_term == 0] = 0.0
        granted = sum(new[k] for k in SOURCES)
        # What retention and training could absorb this year: extensions of the packages
        # that expire this year, courses for every eligible worker.
        eligible = (s.status_counts[:, LOCAL] + s.seekers).astype(float)
        need = np.full((n_c, len(USES)), np.inf)
        need[:, U_RETENTION] = self._retention_need()
        need[:, U_TRAINING] = np.maximum(
            eligible * p.training_cost - p.fund_training * new["fund"]
            - new["training_programme"], 0.0)
        shares, level = self._choose_bundle(t, discretionary, granted,
                                            p.official_term - into_term, active, need)
        g = self.levels[level]
        s.generosity[:] = np.where(active, g, 1.0)
        d = discretionary
        s.package_budget[:] = c_p + shares[:, U_PACKAGES] * d
        s.retention_budget[:] = c_r + shares[:, U_RETENTION] * d
        saved = d * (1.0 - shares.sum(axis=1))
        fund = new["fund"]
        training = (shares[:, U_TRAINING] * d + p.fund_training * fund
                    + new["training_programme"])
        infra = shares[:, U_INFRASTRUCTURE] * d + p.fund_infrastructure * fund
        credit = p.fund_credit * fund
        s.fund_freight[:] = p.fund_freight * fund
        typical = self._typical_package(MONTHS_PER_YEAR)
        s.offers[:] = active & (s.package_budget >= typical * s.generosity)
        # Training: the budget buys order-based courses for local employees and job seekers.
        trainees = training / p.training_cost
        s.training_prob[:] = np.where(eligible > 0,
                                      np.minimum(1.0, trainees / np.maximum(eligible, 1)), 0)
        # Whole courses only, so the draws never train more than the budget pays for.
        s.training_courses[:] = np.floor(trainees + 1e-9)
        # Infrastructure: diminishing returns (gain shrinks with 1 - q), in service after a lag.
        gain = (infra / (p.infra_cost * np.maximum(self.residents, 1))
                * (1.0 - s.infrastructure))
        s.infrastructure += self.infra_pending[0]
        np.minimum(s.infrastructure, 1.0, out=s.infrastructure)
        self.infra_pending[:-1] = self.infra_pending[1:]
        self.infra_pending[-1] = gain
        # Credit risk compensation: bank credit lines per unit of capacity.
        f = self.firms
        n = self.n_firms
        alive = f.alive[:n]
        cap = np.bincount(f.county[:n][alive], weights=f.capacity[:n][alive], minlength=n_c)
        s.credit_line[:] = np.where(cap > 0, credit * p.credit_leverage
                                    / np.maximum(cap, 1e-9), 0.0)
        trained = np.zeros(n_c)
        if np.any(s.training_prob > 0):
            self._train_workers(t, trained)
        self.trained = trained
        self.yearly_spend = {"training": trained * p.training_cost, "infrastructure": infra,
                             "fund": fund}
        self.choices.append(np.column_stack([shares, g]))
        self.ledger = {
            "year_index": year, "year_in_term": into_term, **new, "carried_in": carried_in,
            "granted": granted, "committed": c_p + c_r, "discretionary": d,
            "alloc_packages": s.package_budget.copy(), "alloc_retention":
            s.retention_budget.copy(), "alloc_training": training, "alloc_infrastructure":
            infra, "alloc_fund_freight": s.fund_freight.copy(), "credit": credit,
            "saved": saved, "shares": shares, "level": level, "generosity": g, "active": active}
        self._zero_counters()

    def _choose_bundle(self, t, discretionary, granted, years_left, active, need):
        """Each government's bundle (shares by use) and generosity level; replayed
        dimensions override the choice (``Simulation(..., replay=...)``).

        A use's value is belief x D x s0 x log(1 + money / (s0 x D)), the money capped at
        what the use can absorb this year (``need``)."""
        p = self.cfg.policy
        menu = self.menu
        n_c = self.counties.n
        n_b, n_l = menu.shape[0], self.levels.size
        belief, package_belief = self._effective_beliefs()
        s0 = p.government_saturation
        d = discretionary[:, None]
        scale = s0 * np.maximum(d, 1e-12)
        other = np.zeros((n_c, n_b))
        for u in (U_RETENTION, U_TRAINING, U_INFRASTRUCTURE):
            money = np.minimum(menu[None, :, u] * d, need[:, u, None])
            other += belief[:, u, None] * scale * np.log1p(money / scale)
        package = scale * np.log1p(menu[None, :, U_PACKAGES] * d / scale)  # (county, bundle)
        values = other[:, :, None] + package[:, :, None] * package_belief[:, None, :]
        best_belief = np.maximum(belief[:, 1:].max(axis=1), package_belief.max(axis=1))
        saved = discretionary[:, None] * (1.0 - menu.sum(axis=1))[None, :]
        keep = np.minimum(saved, p.carryover_cap * granted[:, None])
        values = values + (p.government_discount * (years_left > 1)[:, None]
                           * best_belief[:, None] * keep)[:, :, None]
        # Only uses the KPI scores; a bundle without packages has no generosity to choose.
        allowed = np.all((menu[:, ~self.scored] == 0), axis=1)[:, None] & np.ones(n_l, bool)
        allowed &= (menu[:, U_PACKAGES] > 0)[:, None] | (np.arange(n_l) == n_l - 1)[None, :]
        values = np.where(allowed[None], values, -np.inf).reshape(n_c, n_b * n_l)
        u = uniforms(self.seed, t, np.arange(n_c, dtype=np.int64), P_GOVERNMENT)
        pick = choose_bundles(values, p.government_temperature, u)
        shares = menu[pick // n_l].copy()
        level = pick % n_l
        shares[~active] = 0.0
        level[~active] = n_l - 1
        if self.replay is not None:
            shares, level = self._replayed(t // MONTHS_PER_YEAR, shares, level, active)
        return shares, level

    def _replayed(self, year, shares, level, active):
        """Impose one dimension of recorded choices: its shares replace this run's, the
        other uses shrink in proportion if the total would exceed the budget."""
        dimension, recorded = self.replay
        if year >= recorded.shape[0]:
            return shares, level
        row = recorded[year]
        cols = {"retention": [U_RETENTION], "packages": [U_PACKAGES],
                "development": [U_TRAINING, U_INFRASTRUCTURE]}[dimension]
        shares = shares.copy()
        shares[:, cols] = row[:, cols]
        if dimension == "packages":
            level = np.abs(self.levels[None, :] - row[:, 4:5]).argmin(axis=1)
        rest = [u for u in range(len(USES)) if u not in cols]
        fixed = shares[:, cols].sum(axis=1)
        others = shares[:, rest].sum(axis=1)
        room = np.maximum(1.0 - fixed, 0.0)
        scale = np.where(others > room, room / np.maximum(others, 1e-12), 1.0)
        shares[:, rest] *= scale[:, None]
        shares[~active] = 0.0
        return shares, level

    def _effective_beliefs(self):
        """Own beliefs blended with the mean belief of the region's active governments."""
        w = self.cfg.policy.government_peer_weight
        region = self.counties.region
        active = self.state.active
        belief = self.beliefs.copy()
        package = self.package_beliefs.copy()
        for r in range(len(Region)):
            peers = active & (region == r)
            if not peers.any():
                continue
            belief[peers] = (1 - w) * belief[peers] + w * self.beliefs[peers].mean(axis=0)
            package[peers] = ((1 - w) * package[peers]
                              + w * self.package_beliefs[peers].mean(axis=0))
        return belief, package

    def _close_year(self) -> None:
        """The books of the year just ended: spending by use, carried and returned money,
        the KPI points of the year and the beliefs they teach."""
        p = self.cfg.policy
        s = self.state
        led = self.ledger
        cnt = self.counters
        spent = {
            "packages": led["alloc_packages"] - s.package_budget,
            "retention": led["alloc_retention"] - s.retention_budget,
            "training": self.trained * p.training_cost,
            "infrastructure": led["alloc_infrastructure"],
            "fund_freight": led["alloc_fund_freight"] - s.fund_freight,
            "credit": led["credit"],
        }
        spent_total = sum(spent.values())
        leftover = led["granted"] + led["carried_in"] - spent_total
        carried = np.clip(leftover, 0.0, p.carryover_cap * led["granted"])
        returned = leftover - carried
        s.package_budget[:] = 0.0
        s.retention_budget[:] = 0.0
        s.fund_freight[:] = 0.0
        self.carried = carried
        # KPI points of the year, and by the use that bought them.
        size = self.median_plant_size
        growth = (s.poverty_local - self.poverty_local_start) / size
        unit = self._typical_package(MONTHS_PER_YEAR)
        by_use = np.zeros((self.counties.n, len(USES)))
        if p.kpi == "count":
            points = cnt["arrivals"]
            by_use[:, U_PACKAGES] = cnt["arrivals_packaged"]
        else:
            points = (p.weight_survival * cnt["firm_months"] / MONTHS_PER_YEAR
                      + p.weight_growth * growth + p.weight_chain * cnt["chain_arrivals"])
            by_use[:, U_PACKAGES] = (p.weight_survival * cnt["packaged_months"] / MONTHS_PER_YEAR
                                     + p.weight_chain * cnt["chain_arrivals_packaged"])
            by_use[:, U_RETENTION] = p.weight_survival * cnt["retained_months"] / MONTHS_PER_YEAR
            development = p.weight_growth * growth
            by_use[:, U_TRAINING] = development
            by_use[:, U_INFRASTRUCTURE] = development
        money = np.column_stack([
            led["alloc_packages"], spent["retention"],
            spent["training"] + spent["infrastructure"],
            spent["training"] + spent["infrastructure"]]) / unit
        seen = (money > 1e-9) & self.scored[None, :] & led["active"][:, None]
        rate = np.where(seen, by_use / np.maximum(money, 1e-12), 0.0)
        lam = p.government_learning
        for u in range(1, len(USES)):
            self.beliefs[:, u] = np.where(seen[:, u], (1 - lam) * self.beliefs[:, u]
                                          + lam * rate[:, u], self.beliefs[:, u])
        rows = np.arange(self.counties.n)
        level = led["level"]
        old = self.package_beliefs[rows, level]
        self.package_beliefs[rows, level] = np.where(
            seen[:, U_PACKAGES], (1 - lam) * old + lam * rate[:, U_PACKAGES], old)
        self.kpi_term += points
        shares = led["shares"]
        row = {
            "year_index": led["year_index"], "year_in_term": led["year_in_term"],
            **{f"budget_{k}": led[k] for k in SOURCES},
            "granted": led["granted"], "carried_in": led["carried_in"],
            "committed": led["committed"],
            **{f"spent_{k}": v for k, v in spent.items()}, "spent_total": spent_total,
            "saved": led["saved"], "carried": carried, "returned": returned,
            **{CHOICE_COLUMNS[u]: shares[:, u] for u in range(len(USES))},
            "generosity": led["generosity"],
            "firms_attracted": cnt["arrivals"].copy(),
            "retention_offers": cnt["retention_offers"].copy(),
            "retention_accepted": cnt["retention_accepted"].copy(),
            "kpi_score": points, "kpi_score_term": self.kpi_term.copy(),
            "active": led["active"].copy(),
        }
        self.government_rows.append(row)
        self.ledger = None

    def government_table(self) -> list[dict]:
        """Rows of every year closed so far and of the year under way (closed on a copy)."""
        if self.ledger is None:
            return list(self.government_rows)
        saved_state = (self.state.package_budget.copy(), self.state.retention_budget.copy(),
                       self.state.fund_freight.copy(), self.beliefs.copy(),
                       self.package_beliefs.copy(), self.kpi_term.copy(), self.carried,
                       self.ledger)
        self._close_year()
        rows = list(self.government_rows)
        self.government_rows.pop()
        (pb, rb, ff, self.beliefs, self.package_beliefs, self.kpi_term, self.carried,
         self.ledger) = saved_state
        self.state.package_budget[:] = pb
        self.state.retention_budget[:] = rb
        self.state.fund_freight[:] = ff
        return rows

    def expiries_array(self) -> np.ndarray:
        """Every package expiry: (step, firm id, county, retention offered), one row each."""
        return (np.concatenate(self.expiries) if self.expiries
                else np.zeros((0, 4), dtype=np.int64))

    def government_choices(self) -> np.ndarray:
        """Recorded choices, (years, counties, ``CHOICE_COLUMNS``): to replay elsewhere."""
        return np.stack(self.choices) if self.choices else np.zeros((0, self.counties.n, 5))

    # --- the month -------------------------------------------------------------------------

    def _commitments(self, months: int) -> tuple[np.ndarray, np.ndarray]:
        """Payments still due over the next ``months`` to firms on an entry package and on a
        retention offer, per county (estimated from last month's terms and head count)."""
        f = self.firms
        n = self.n_firms
        paying = f.alive[:n] & (f.subsidy_months_left[:n] > 0)
        ids = np.flatnonzero(paying)
        due = self._monthly_due(ids, f.package_share[ids]) * np.minimum(
            f.subsidy_months_left[ids], months)
        retained = f.retained[ids]
        n_c = self.counties.n
        county = f.county[ids]
        return (np.bincount(county[~retained], weights=due[~retained], minlength=n_c),
                np.bincount(county[retained], weights=due[retained], minlength=n_c))

    def _retention_need(self) -> np.ndarray:
        """Per county, what retaining every firm whose entry package expires this year would
        cost this year (at its current terms x ``retention_share``)."""
        f = self.firms
        n = self.n_firms
        p = self.params
        left = f.subsidy_months_left[:n]
        due_now = (f.package_months[:n] > 0) & (f.months_in_county[:n] == f.package_months[:n])
        ids = np.flatnonzero(f.alive[:n] & ~f.retained[:n]
                             & (((left > 0) & (left < MONTHS_PER_YEAR)) | due_now))
        months = np.minimum(p.retention_months, MONTHS_PER_YEAR - f.subsidy_months_left[ids])
        cost = self._monthly_due(ids, f.package_share[ids] * p.retention_share) * months
        return np.bincount(f.county[ids], weights=cost, minlength=self.counties.n)

    def _monthly_due(self, ids: np.ndarray, share: np.ndarray) -> np.ndarray:
        """A month of package at ``share`` for firms ``ids`` (last month's revenue and head
        count, this month's rent)."""
        f = self.firms
        p = self.params
        c = f.county[ids]
        i = f.industry[ids]
        logistics = logistics_cost(p, f.revenue[ids], self.ind.input_share_east[i],
                                   self.ind.output_share_east[i], self.counties.distance_km[c],
                                   self.state.infrastructure[c],
                                   self.state.chain_present[c, i], self.counties.hub_access[c],
                                   self.month.logistics)
        return share * (p.rent_waiver * self.month.rent[c] * f.capacity[ids]
                        + p.wage_subsidy * f.employees[ids] + p.freight_subsidy * logistics)

    def _update_offers(self) -> None:
        """A county offers packages while its package money covers this year's commitments
        to the firms it already pays plus one typical package at its terms."""
        s = self.state
        months_left_in_year = MONTHS_PER_YEAR - self.step_index % MONTHS_PER_YEAR
        committed, _ = self._commitments(months_left_in_year)
        typical = self._typical_package(months_left_in_year) * s.generosity
        s.offers[:] = s.active & self.may_offer & (s.package_budget >= committed + typical)

    def _retention_offers(self, t: int) -> None:
        """In the month a firm's package expires, its county offers one extension if it has
        retention money left after this year's needs of the extensions it already pays (firms
        in id order, first come first served). The firm's location review then sees it."""
        f = self.firms
        n = self.n_firms
        s = self.state
        p = self.params
        self.retention_pending = np.zeros(0, dtype=np.int64)
        expiring = np.flatnonzero(f.alive[:n] & (f.package_months[:n] > 0)
                                  & (f.months_in_county[:n] == f.package_months[:n])
                                  & (f.subsidy_months_left[:n] == 0) & ~f.retained[:n])
        record = np.zeros((expiring.size, 4), dtype=np.int64)
        record[:, 0], record[:, 1], record[:, 2] = t, expiring, f.county[expiring]
        self.expiries.append(record)
        if expiring.size == 0 or p.retention_months <= 0:
            return
        expiring = expiring[s.retention_budget[f.county[expiring]] > 0]
        if expiring.size == 0:
            return
        months_left = MONTHS_PER_YEAR - t % MONTHS_PER_YEAR
        _, reserved = self._commitments(months_left)
        county = f.county[expiring].astype(np.int64)
        chain = np.empty(expiring.size)
        K.package_shares(p, s.view(), county, f.industry[expiring].astype(np.int64), chain)
        share = chain * s.generosity[county] * p.retention_share
        cost = self._monthly_due(expiring, share) * min(p.retention_months, months_left)
        offered = []
        for k in range(expiring.size):
            c = county[k]
            if s.retention_budget[c] - reserved[c] >= cost[k] and cost[k] > 0:
                reserved[c] += cost[k]
                offered.append(k)
        if not offered:
            return
        ids = expiring[offered]
        record[np.isin(record[:, 1], ids), 3] = 1
        f.subsidy_months_left[ids] = p.retention_months
        f.package_share[ids] = share[offered]
        f.retained[ids] = True
        self.counters["retention_offers"] += np.bincount(county[offered],
                                                         minlength=self.counties.n)
        self.retention_pending = ids

    def _retention_answers(self, movers: np.ndarray) -> None:
        """Retention offers accepted: the offered firms that stayed at this month's review."""
        ids = self.retention_pending
        if ids.size == 0:
            return
        stayed = ids[~np.isin(ids, movers)]
        self.counters["retention_accepted"] += np.bincount(self.firms.county[stayed],
                                                           minlength=self.counties.n)
        self.retention_pending = np.zeros(0, dtype=np.int64)

    def _note_arrivals(self, ids: np.ndarray, offers: np.ndarray) -> None:
        """Firms arriving in a county (entries and relocations in): what a KPI counts."""
        f = self.firms
        s = self.state
        county = f.county[ids]
        i = f.industry[ids]
        matched = ((s.chain_present[county, i] > 0)
                   | (s.industry_employment[county, i] > 0)).astype(float)
        offers = offers.astype(float)
        n_c = self.counties.n
        cnt = self.counters
        cnt["arrivals"] += np.bincount(county, minlength=n_c)
        cnt["arrivals_packaged"] += np.bincount(county, weights=offers, minlength=n_c)
        cnt["chain_arrivals"] += np.bincount(county, weights=matched, minlength=n_c)
        cnt["chain_arrivals_packaged"] += np.bincount(county, weights=matched * offers,
                                                      minlength=n_c)

    def _tally_government(self) -> None:
        """Firm-months of the month by county: all firms, on an entry package, retained."""
        f = self.firms
        n = self.n_firms
        alive = f.alive[:n]
        county = f.county[:n]
        paying = alive & (f.subsidy_months_left[:n] > 0)
        retained = f.retained[:n]
        n_c = self.counties.n
        cnt = self.counters
        cnt["firm_months"] += np.bincount(county[alive], minlength=n_c)
        cnt["packaged_months"] += np.bincount(county[paying & ~retained], minlength=n_c)
        cnt["retained_months"] += np.bincount(county[paying & retained], minlength=n_c)

    def _case_aid(self, year: float) -> np.ndarray:
        """Earmarked pairing aid of a case world (yuan per person-year, in its window)."""
        w = self.cfg.world
        if not w.case_counties or not (w.case_aid_start <= year < w.case_aid_end):
            return np.zeros(self.counties.n)
        return w.case_aid_per_person * self.residents * self.counties.case_county

    def _typical_package(self, months: int) -> float:
        """Wage subsidy of a median-sized plant for ``months``: the smallest budget worth
        offering a package for."""
        return months * self.cfg.policy.wage_subsidy * self.median_plant_size

    def _train_workers(self, t: int, trained: np.ndarray) -> None:
        K.train_workers(self.workers.view(), self.counties.view(), self.state.view(),
                        self.params, self.seed, t,
                        trained)
