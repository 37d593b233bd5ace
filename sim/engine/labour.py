"""Workers and local labour markets (MODEL.md §6): the monthly choice, matching inside each
county, head counts and payroll, and the yearly ageing of workers."""

from __future__ import annotations

import numpy as np

from sim import kernels as K
from sim.codes import HOME, LOCAL


class LabourMarket:
    """The workers' part of the simulation (a mixin of ``Simulation``).

    The methods that call a kernel are the ones the reference engine (``sim.reference``)
    replaces with per-agent Python.
    """

    def _workers_step(self, t: int) -> np.ndarray:
        """Job events and choices of every worker; returns the returnee founders."""
        n_founders = K.worker_step(self.workers.view(), self.firms.view(self.n_firms),
                                   self.counties.view(), self.state.view(), self.month,
                                   self.params, self.seed, t)
        if not n_founders:
            return np.zeros(0, dtype=np.int64)
        return np.flatnonzero(self.workers.founder)

    def _match(self, t: int) -> None:
        """Recount employees, match seekers to vacancies, update expected local finding."""
        s = self.state
        self._count_employees()
        self._match_local(t)
        rate = np.where(s.seekers > 0, s.hires / np.maximum(s.seekers, 1), s.local_finding)
        a = self.cfg.model.local_finding_smoothing
        s.local_finding[:] = (1 - a) * s.local_finding + a * rate

    def _count_employees(self) -> None:
        K.count_employees(self.workers.view(), self.firms.view(self.n_firms))

    def _match_local(self, t: int) -> None:
        K.match_local(self.workers.view(), self.firms.view(self.n_firms), self.counties.view(),
                      self.state.view(), self.seed, t)

    def _tally(self) -> None:
        """Payroll of each firm and head counts of each county."""
        K.worker_tallies(self.workers.view(), self.firms.view(self.n_firms), self.state.view(),
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
