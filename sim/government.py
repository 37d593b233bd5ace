"""County governments and national levers, decided once a year (MODEL.md §5).

Budgets are O(counties) numpy arithmetic; the per-worker effect of training is a kernel.
Money here is in kernel units (yuan per agent-person): real replica yuan / persons_per_agent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.config import PolicyConfig

ORIGIN, CENTRAL, POVERTY = 0, 1, 2


@dataclass
class GovernmentState:
    """County-government state that persists across years (all arrays per county).

    Attributes:
        package_budget: money left this year for packages (kernel units).
        fund_freight: special-fund money left for freight/power subsidies.
        credit_line: credit a firm may draw per capacity worker before it counts as below
            its buffer (credit risk compensation).
        training_prob: chance a resident is trained this year.
        infra_pending: (lag years, county) infrastructure gains not yet in service.
        revenue_year: firm revenue accumulated this year (for next year's tax).
        offers: county offers attraction packages.
        active: county government that offers packages at all (not an origin county).
    """

    package_budget: np.ndarray
    fund_freight: np.ndarray
    credit_line: np.ndarray
    training_prob: np.ndarray
    infra_pending: np.ndarray
    revenue_year: np.ndarray
    offers: np.ndarray
    active: np.ndarray

    @classmethod
    def empty(cls, n_counties: int, lag_years: float) -> GovernmentState:
        lag = max(1, int(np.ceil(lag_years)))
        z = np.zeros(n_counties)
        return cls(z.copy(), z.copy(), z.copy(), z.copy(), np.zeros((lag, n_counties)),
                   z.copy(), np.zeros(n_counties, dtype=np.bool_),
                   np.zeros(n_counties, dtype=np.bool_))


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


def yearly_budgets(policy: PolicyConfig, gov: GovernmentState, *, kind, key_assistance,
                   resettlement, partner, infrastructure, residents, training_eligible,
                   fiscal_per_person, population_scale, persons_per_agent, typical_package,
                   training_cost_agents, infra_cost_agents,
                   extra_aid=None) -> dict[str, np.ndarray]:
    """Set this year's budgets, offers, training and infrastructure for every county.

    Args:
        residents: worker agents living in each county.
        training_eligible: residents eligible for training (local employees and seekers).
        fiscal_per_person: central transfer per person per year (yuan).
        population_scale: replica persons / real persons (scales national money levers).
        typical_package: a year of a typical package (kernel units), the smallest budget
            worth offering.
        training_cost_agents: cost of training one worker agent (kernel units).
        infra_cost_agents: spending per resident agent that raises q by 1 (kernel units).
        extra_aid: earmarked aid per county this year (kernel units), e.g. a case's pairing.

    Returns:
        Spending this year by use (kernel units, per county): ``training``, ``infrastructure``,
        ``fund`` (total special-fund allocation) and ``aid``.
    """
    active = kind != ORIGIN
    if not policy.central_packages:
        active = kind == POVERTY
    to_kernel = population_scale / persons_per_agent
    transfer = residents * fiscal_per_person * policy.industrial_budget_share
    tax = policy.tax_share * gov.revenue_year
    gov.revenue_year[:] = 0.0
    fund = policy.special_fund * to_kernel * fund_shares(
        policy, kind, key_assistance, resettlement, infrastructure, residents)
    paired = (kind == POVERTY) & (partner >= 0)
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
        training = own * w[1] * 0.5
        infra = own * w[1] * 0.5
    training = training + policy.fund_training * fund
    # National training programme: yuan per resident person of poverty counties.
    training = training + policy.training_budget * residents * (kind == POVERTY)
    infra = infra + policy.fund_infrastructure * fund
    gov.package_budget[:] = 0.5 * gov.package_budget + packages  # half of unspent carries over
    gov.fund_freight[:] = policy.fund_freight * fund
    gov.active[:] = active
    gov.offers[:] = active & (gov.package_budget >= typical_package)
    # Training: the budget buys order-based courses for local employees and job seekers.
    trainees = training / training_cost_agents
    gov.training_prob[:] = np.where(
        training_eligible > 0, np.minimum(1.0, trainees / np.maximum(training_eligible, 1)), 0)
    # Infrastructure: diminishing returns (gain shrinks with 1 - q), in service after a lag.
    gain = infra / (infra_cost_agents * np.maximum(residents, 1)) * (1.0 - infrastructure)
    infrastructure += gov.infra_pending[0]
    np.minimum(infrastructure, 1.0, out=infrastructure)
    gov.infra_pending[:-1] = gov.infra_pending[1:]
    gov.infra_pending[-1] = gain
    return {"training": training, "infrastructure": infra, "fund": fund, "aid": aid * active,
            "credit": policy.fund_credit * fund}
