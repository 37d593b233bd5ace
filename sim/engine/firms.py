"""Firms (MODEL.md §4): expectations of every county, location reviews and moves, monthly
plans and accounts, and the start of attraction packages."""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from sim import kernels as K
from sim.codes import (
    EV_EXIT,
    EV_RELOCATE,
    MONTHS_PER_YEAR,
    ORIGIN,
    P_LOCATION,
    R_EXPIRY,
    R_REVIEW,
)
from sim.rules import relocation_cost

# Who decides where to be (incumbents under review, or entrants), one row each.
Deciders = namedtuple("Deciders", "ids industry capacity efficiency own_workers monthly_revenue "
                                  "current months_left origin package_share")
# Where a decider may look: east-west partners of its origin (CSR) and counties on offer.
Pairing = namedtuple("Pairing", "partner_start partner_list offering")


class FirmDecisions:
    """The firms' part of the simulation (a mixin of ``Simulation``).

    The methods that call a kernel are the ones the reference engine (``sim.reference``)
    replaces with per-agent Python.
    """

    def _expectations(self) -> None:
        """Expected profit and package value per unit of capacity, every county x industry."""
        K.county_expectations(self.counties.view(), self.state.view(), self.month, self.ind,
                              self.params)

    def _review(self, t: int) -> np.ndarray:
        """Location reviews: yearly, and in the month a package expires (the 3-year cliff;
        a retention offer made that month is part of what the firm weighs).

        Returns:
            The ids of firms that move this month.
        """
        f = self.firms
        n = self.n_firms
        # The expiry month: the package has run out, or a retention offer extends it.
        at_expiry = (f.package_months[:n] > 0) & (f.months_in_county[:n] == f.package_months[:n])
        yearly = (t % MONTHS_PER_YEAR == 0) & (f.months_in_county[:n] > 0)
        reviewing = f.alive[:n] & (yearly | at_expiry) & (f.parent[:n] < 0)
        ids = np.flatnonzero(reviewing)
        if ids.size == 0:
            return ids
        current = f.county[ids].astype(np.int64)
        deciders = Deciders(ids.astype(np.int64), f.industry[ids].astype(np.int64),
                            f.capacity[ids].astype(float), f.efficiency[ids].astype(float),
                            f.employees[ids].astype(float), self._monthly_revenue(
                                f.capacity[ids], f.industry[ids]),
                            current, f.subsidy_months_left[ids].astype(np.int64),
                            f.origin_county[ids].astype(np.int64),
                            f.package_share[ids].astype(float))
        chosen = self._choose(deciders, False, t, P_LOCATION)
        move = chosen != current
        self._relocate(t, ids[move], chosen[move], np.where(at_expiry[ids[move]], R_EXPIRY,
                                                            R_REVIEW))
        return ids[move]

    def _monthly_revenue(self, capacity, industry) -> np.ndarray:
        return capacity * self.month.reference_productivity[industry]

    def _choose(self, deciders: Deciders, outside_option: bool, t: int,
                purpose: int) -> np.ndarray:
        """The county each decider chooses (-1: stays out), by the location logit."""
        chosen = np.empty(len(deciders.ids), dtype=np.int64)
        K.choose_locations(deciders, self.state.view(), self._pairing(), self.ind, self.params,
                           outside_option, self.seed, t, purpose, chosen)
        return chosen

    def _pairing(self) -> Pairing:
        return Pairing(self.partner_start, self.partner_list,
                       np.flatnonzero(self.state.offers).astype(np.int64))

    def _relocate(self, t: int, ids: np.ndarray, destinations: np.ndarray,
                  reasons: np.ndarray) -> None:
        """Move firms: each pays its relocation cost with a bank loan (an earlier move's
        unpaid loan is not forgiven), resets its tenure and starts the destination's package.
        """
        f = self.firms
        loan_months = self.cfg.model.relocation_loan_months
        sources = f.county[ids].copy()
        tenures = f.months_in_county[ids].copy()
        industry = f.industry[ids]
        cost = relocation_cost(self.params, self.ind.relocation_cost_months[industry],
                               f.capacity[ids], self.month.reference_productivity[industry])
        f.cash[ids] -= cost
        f.relocation_debt[ids] += cost
        f.relocation_debt_repayment[ids] = f.relocation_debt[ids] / loan_months
        f.county[ids] = destinations
        f.months_in_county[ids] = 0
        f.months_below_buffer[ids] = 0
        self._start_packages(ids)
        for fid, source, tenure, reason in zip(ids, sources, tenures, reasons, strict=True):
            self._log(t, fid, EV_RELOCATE, reason, from_county=int(source), tenure=int(tenure))

    def _start_packages(self, ids: np.ndarray) -> None:
        """Firms arriving in a county get its package if it offers one (origin counties never
        do), at the share the county grants their industry (chain screening) times the
        county's generosity this year. Arrivals are what the officials' KPIs count."""
        f = self.firms
        county = f.county[ids]
        offers = self.state.offers[county] & (self.counties.kind[county] != ORIGIN)
        months = self.params.package_months
        f.package_months[ids] = np.where(offers, months, 0)
        f.subsidy_months_left[ids] = np.where(offers, months, 0)
        f.retained[ids] = False
        shares = np.empty(len(ids))
        K.package_shares(self.params, self.state.view(), county.astype(np.int64),
                         f.industry[ids].astype(np.int64), shares)
        f.package_share[ids] = shares * self.state.generosity[county]
        if months > 0:
            f.ever_subsidised[ids] |= offers
        self._note_arrivals(ids, offers & (months > 0))

    def _plan(self, t: int, movers: np.ndarray) -> None:
        """Exits, orders, labor productivity and desired workers of every firm."""
        K.firm_plan(self.firms.view(self.n_firms), self.counties.view(), self.state.view(),
                    self.month, self.ind, self.params, self.seed, t)
        self._after_plan(t, movers)

    def _after_plan(self, t: int, movers: np.ndarray) -> None:
        f = self.firms
        for fid in np.flatnonzero(f.exit_reason[: self.n_firms]):
            self._log(t, fid, EV_EXIT, int(f.exit_reason[fid]))
        # A move lays off the whole workforce: the firm hires again in its new county.
        f.layoff_prob[movers] = 1.0

    def _accounts(self, t: int) -> None:
        """County state from the payroll and head counts (tallied by ``_match``), then every
        firm's accounts; tax base."""
        self._refresh_county_state()
        self._update_local_employment()
        self._firm_accounts(t)
        f = self.firms
        n = self.n_firms
        self.state.revenue_year += np.bincount(f.county[:n], weights=f.revenue[:n],
                                               minlength=self.counties.n)

    def _firm_accounts(self, t: int) -> None:
        K.firm_accounts(self.firms.view(self.n_firms), self.counties.view(), self.state.view(),
                        self.month, self.ind, self.params, self.seed, t)
