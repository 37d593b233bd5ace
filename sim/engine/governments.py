"""County governments and national levers (MODEL.md §5): yearly budgets, package offers,
training and infrastructure, special fund and pairing aid.

Budgets are O(counties) numpy arithmetic on the county state (``sim.state``,
``COUNTY_STATE_FIELDS``); the per-worker effect of training is a kernel. Money here is in
kernel units (yuan per agent-person): real replica yuan / persons_per_agent.
"""

from __future__ import annotations

import numpy as np

from sim import kernels as K
from sim.codes import LOCAL, MONTHS_PER_YEAR, ORIGIN, POVERTY
from sim.config import PolicyConfig


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


def yearly_budgets(policy: PolicyConfig, state, infra_pending: np.ndarray, *, counties,
                   residents, training_eligible, fiscal_per_person, to_kernel, typical_package,
                   extra_aid=None) -> dict[str, np.ndarray]:
    """Set this year's budgets, offers, training and infrastructure for every county.

    Args:
        state: the county state table (budgets, offers, training, infrastructure in place).
        infra_pending: (lag years, county) infrastructure gains not yet in service.
        counties: the static county table.
        residents: worker agents living in each county.
        training_eligible: residents eligible for training (local employees and seekers).
        fiscal_per_person: central transfer per person per year (yuan).
        to_kernel: replica persons per real person / persons per agent (scales national
            money levers to kernel units).
        typical_package: a year of a typical package (kernel units), the smallest budget
            worth offering.
        extra_aid: earmarked aid per county this year (kernel units), e.g. a case's pairing.

    Returns:
        Spending this year by use (kernel units, per county): ``training``, ``infrastructure``,
        ``fund`` (total special-fund allocation), ``aid`` and ``credit``.
    """
    kind = counties.kind
    active = kind != ORIGIN
    if not policy.central_packages:
        active = kind == POVERTY
    transfer = residents * fiscal_per_person * policy.industrial_budget_share
    tax = policy.tax_share * state.revenue_year
    state.revenue_year[:] = 0.0
    fund = policy.special_fund * to_kernel * fund_shares(
        policy, kind, counties.key_assistance, counties.resettlement_site, state.infrastructure,
        residents)
    paired = (kind == POVERTY) & (counties.partner >= 0)
    aid_weight = paired * residents
    aid = (policy.pairing_aid * to_kernel * aid_weight / aid_weight.sum()
           if aid_weight.sum() > 0 else np.zeros_like(transfer))
    if extra_aid is not None:
        aid = aid + extra_aid
    own = (transfer + tax + aid) * active
    if policy.kpi == "count":
        # Status quo: every yuan goes to entry packages; nothing for training or infrastructure.
        packages, training, infra = own, 0.0 * own, 0.0 * own
    else:
        w = np.array([policy.weight_survival, policy.weight_growth, policy.weight_chain])
        w = w / w.sum() if w.sum() > 0 else np.array([1.0, 0.0, 0.0])
        packages = own * (w[0] + w[2])
        training = own * w[1] * policy.reform_training_share
        infra = own * w[1] * (1.0 - policy.reform_training_share)
    training = training + policy.fund_training * fund
    # National training programme: yuan per resident person of poverty counties.
    training = training + policy.training_budget * residents * (kind == POVERTY)
    infra = infra + policy.fund_infrastructure * fund
    state.package_budget[:] = policy.package_budget_carryover * state.package_budget + packages
    state.fund_freight[:] = policy.fund_freight * fund
    state.active[:] = active
    state.offers[:] = active & (state.package_budget >= typical_package)
    # Training: the budget buys order-based courses for local employees and job seekers.
    trainees = training / policy.training_cost
    state.training_prob[:] = np.where(
        training_eligible > 0, np.minimum(1.0, trainees / np.maximum(training_eligible, 1)), 0)
    # Infrastructure: diminishing returns (gain shrinks with 1 - q), in service after a lag.
    gain = (infra / (policy.infra_cost * np.maximum(residents, 1))
            * (1.0 - state.infrastructure))
    state.infrastructure += infra_pending[0]
    np.minimum(state.infrastructure, 1.0, out=state.infrastructure)
    infra_pending[:-1] = infra_pending[1:]
    infra_pending[-1] = gain
    return {"training": training, "infrastructure": infra, "fund": fund, "aid": aid * active,
            "credit": policy.fund_credit * fund}


class Governments:
    """The county governments' part of the simulation (a mixin of ``Simulation``)."""

    def _init_governments(self) -> None:
        lag = max(1, int(np.ceil(self.cfg.policy.infra_lag_years)))
        self.infra_pending = np.zeros((lag, self.counties.n))
        self.yearly_spend = {k: np.zeros(self.counties.n)
                             for k in ("training", "infrastructure", "fund")}
        self.trained = np.zeros(self.counties.n)

    def _government_year(self, t: int) -> None:
        """Budgets, offers, credit lines, training and infrastructure for the year."""
        cfg = self.cfg
        s = self.state
        eligible = s.status_counts[:, LOCAL] + s.seekers  # order-based training
        spent = yearly_budgets(
            cfg.policy, s, self.infra_pending, counties=self.counties,
            residents=self.residents, training_eligible=eligible.astype(float),
            fiscal_per_person=cfg.world.fiscal_capacity_per_person,
            to_kernel=self.world.population_scale / self.world.persons_per_agent,
            typical_package=self._typical_package(MONTHS_PER_YEAR),
            extra_aid=self._case_aid(self.month.year))
        f = self.firms
        n = self.n_firms
        alive = f.alive[:n]
        cap = np.bincount(f.county[:n][alive], weights=f.capacity[:n][alive],
                          minlength=self.counties.n)
        s.credit_line[:] = np.where(cap > 0, spent["credit"] * cfg.policy.credit_leverage
                                    / np.maximum(cap, 1e-9), 0.0)
        trained = np.zeros(self.counties.n)
        if np.any(s.training_prob > 0):
            self._train_workers(t, trained)
        self.trained = trained
        self.yearly_spend = {"training": trained * cfg.policy.training_cost,
                             "infrastructure": spent["infrastructure"], "fund": spent["fund"]}

    def _case_aid(self, year: float) -> np.ndarray:
        """Earmarked pairing aid of a case world (yuan per person-year, in its window)."""
        w = self.cfg.world
        if not w.case_counties or not (w.case_aid_start <= year < w.case_aid_end):
            return np.zeros(self.counties.n)
        return w.case_aid_per_person * self.residents * self.counties.case_county

    def _update_offers(self) -> None:
        """A county offers packages while its budget covers this year's commitments to the
        firms it already pays plus one typical package."""
        f = self.firms
        n = self.n_firms
        s = self.state
        paying = f.alive[:n] & ((f.subsidy_months_left[:n] > 0) | (f.taper_months_left[:n] > 0))
        months_left_in_year = MONTHS_PER_YEAR - self.step_index % MONTHS_PER_YEAR
        committed = np.bincount(f.county[:n][paying], weights=f.subsidy[:n][paying],
                                minlength=self.counties.n) * months_left_in_year
        typical = self._typical_package(months_left_in_year)
        s.offers[:] = s.active & (s.package_budget >= committed + typical)

    def _typical_package(self, months: int) -> float:
        """Wage subsidy of a median-sized plant for ``months``: the smallest budget worth
        offering a package for."""
        return months * self.cfg.policy.wage_subsidy * self.median_plant_size

    def _train_workers(self, t: int, trained: np.ndarray) -> None:
        K.train_workers(self.workers.view(), self.state.view(), self.params, self.seed, t,
                        trained)
