"""Workers and local labour markets (MODEL.md §6): the monthly choice, matching inside each
county, head counts and payroll, and the yearly ageing of workers."""

from __future__ import annotations

import numpy as np

from sim import kernels as K
from sim.codes import HOME, LOCAL, MONTHS_PER_YEAR, OUTBOUND, OUTBOUND_SEEKING
from sim.rules import employment_chance, matching_finding_rate

# What the eastern labour market records each month (RunRecord.east columns).
EAST_COLUMNS = ("east_demand", "east_vacancies", "east_finding", "east_wage")


class LabourMarket:
    """The workers' part of the simulation (a mixin of ``Simulation``).

    The methods that call a kernel are the ones the reference engine (``sim.reference``)
    replaces with per-agent Python.
    """

    def _init_east_market(self) -> None:
        """Eastern demand for the world's migrant workers, scaled to those employed there at
        the start (``model.east_demand_ratio``)."""
        employed = np.count_nonzero(self.workers.status == OUTBOUND)
        self.east_demand_base = self.cfg.model.east_demand_ratio * max(employed, 1)

    def _east_market(self, t: int) -> None:
        """The eastern labour market for migrant workers this month (MODEL.md §11.2).

        Demand grows with the eastern economy and falls with shocks; vacancies are the jobs
        not yet filled plus the replacement of those who leave; seekers find jobs through a
        matching function (so more seekers find less easily), and the migrant wage moves
        with demand relative to the migrants there. The month's ``outbound_finding`` and
        ``wage_east`` are set from it; ``record.east`` keeps the quantities.
        """
        m = self.cfg.model
        counts = self.state.status_counts
        employed = float(counts[:, OUTBOUND].sum())
        seekers = float(counts[:, OUTBOUND_SEEKING].sum())
        demand = (self.east_demand_base * (1.0 + m.east_demand_growth) ** (t / MONTHS_PER_YEAR)
                  * self.month.east_demand_shock)
        vacancies = max(demand - employed, 0.0) + m.outbound_separation * employed
        finding = matching_finding_rate(m.east_matching_efficiency, m.east_matching_elasticity,
                                        seekers, vacancies)
        wage = (self.month.wage_east
                * (demand / max(employed + seekers, 1.0)) ** m.east_wage_elasticity)
        self.month = self.month._replace(
            outbound_finding=finding, wage_east=wage,
            outbound_employment=employment_chance(employed, seekers, finding))
        self.record.east[t] = (demand, vacancies, finding, wage)

    def _workers_step(self, t: int) -> np.ndarray:
        """Job events and choices of every worker; returns the returnee founders. The same
        pass counts each firm's employees and each county's local job seekers for
        :meth:`_match` (the reference engine counts them in its ``_match_local``)."""
        founders_in = K.worker_step(self.workers.view(), self.firms.view(self.n_firms),
                                    self.counties.view(), self.state.view(), self.month,
                                    self.ind, self.params, self.seed, t)
        return K.flagged_workers(self.workers.founder, self.counties.view(), founders_in)

    def _match(self, t: int) -> None:
        """Match seekers to vacancies and tally the month's payroll and head counts (the
        workers' part of the month is then final), update expected local finding."""
        s = self.state
        self._match_local(t)
        rate = np.where(s.seekers > 0, s.hires / np.maximum(s.seekers, 1), s.local_finding)
        a = self.cfg.model.local_finding_smoothing
        s.local_finding[:] = (1 - a) * s.local_finding + a * rate

    def _update_local_employment(self) -> None:
        """Each county's chance of holding a local job after this month's matching (valued
        next month by every worker); shared by both engines."""
        K.local_employment(self.state.view())

    def _count_employees(self) -> None:
        """Each firm's employees and each county's local job seekers (the set-up: in a month
        ``worker_step`` counts them)."""
        K.count_employees(self.workers.view(), self.firms.view(self.n_firms),
                          self.counties.view(), self.state.view())

    def _match_local(self, t: int) -> None:
        """Local matching, then the tally of :meth:`_tally` in the same pass over workers
        (employees and seekers counted beforehand)."""
        K.match_local(self.workers.view(), self.firms.view(self.n_firms), self.counties.view(),
                      self.state.view(), self.month, self.ind, self.params, self.seed, t)

    def _tally(self) -> None:
        """Payroll of each firm and head counts of each county (on its own: the set-up; in a
        month :meth:`_match_local` tallies)."""
        K.worker_tallies(self.workers.view(), self.firms.view(self.n_firms),
                         self.counties.view(), self.state.view(),
                         self.month, self.params)

    def _age_workers(self, t: int) -> None:
        K.age_workers(self.workers.view(), self.counties.view(), self.params, self.seed, t)

    def _update_labor_available(self) -> None:
        """Worker agents a newcomer could hire: local seekers, or a share of those at home."""
        s = self.state
        at_home = s.status_counts[:, HOME].astype(float)
        s.labor_available[:] = np.maximum(s.seekers,
                                          self.cfg.model.home_labor_available_share * at_home)

    def _refresh_county_state(self) -> None:
        """Industry employment by county, chain presence and the local pool's mean skill."""
        f = self.firms
        s = self.state
        n = self.n_firms
        alive = f.alive[:n]
        idx = f.county[:n][alive].astype(np.int64) * self.n_ind + f.industry[:n][alive]
        emp = np.bincount(idx, weights=f.employees[:n][alive],
                          minlength=self.counties.n * self.n_ind)
        s.industry_employment[:] = emp.reshape(self.counties.n, self.n_ind)
        present = (s.industry_employment > 0).astype(float)
        s.chain_present[:] = ((present @ self.ind.chain) > 0).astype(float)
        pool = s.status_counts[:, HOME] + s.status_counts[:, LOCAL]
        s.pool_skill[:] = np.where(pool > 0, s.skill_sum / np.maximum(pool, 1),
                                   self.skill_mean_by_kind[self.counties.kind])
