"""The reference engine (``engine=reference``): the model's rules per agent, in plain Python.

:class:`ReferenceSimulation` runs the same month as :class:`sim.engine.Simulation`, in the
same order, but every part that the numba engine does in a kernel (``sim.kernels``) is done
here by the agents of ``sim.agents`` one at a time: each worker's ``step``, each firm's
``plan``, ``choose_location`` and ``settle_accounts``, each county's expectations and local
labor market. The O(counties) numpy glue of the engine (budgets, offers, entry draws,
records) is inherited, so the outputs are written by the same code.

The two engines are tested to give identical firm event logs and worker statuses and floats
equal to 1e-9 relative (``tests/test_reference.py``): the reference agents make the same
counter-based draws and the same floating-point operations in the same order as the
kernels. It is slow (about 2 x 10^5 worker-months per second, some 50 times slower than the
numba engine): use it on small worlds such as ``teaching``, to read the rules and to check
the fast kernels.
"""

from __future__ import annotations

import numpy as np

from sim.agents import Roster, choose_county, import_mesa
from sim.codes import HOME, LOCAL, MONTHS_PER_YEAR, P_LOCATION, R_EXPIRY, R_REVIEW
from sim.config import Config
from sim.engine import Simulation
from sim.rules import worker_wage
from sim.world import World


class ReferenceSimulation(Simulation):
    """A run of the model with per-agent rules in plain Python.

    Args:
        cfg: the validated configuration.
        world: an initial world; generated from ``cfg`` if omitted.
        model: the Mesa model the agents belong to (a plain ``mesa.Model`` seeded with
            ``cfg.run.seed`` if omitted).
    """

    def __init__(self, cfg: Config, world: World | None = None, model=None, replay=None):
        if model is None:
            model = import_mesa().Model(rng=cfg.run.seed)
        self.host = model
        super().__init__(cfg, world, replay=replay)

    # --- set-up -------------------------------------------------------------------------------

    def _initialise(self) -> None:
        """Agents for the initial world, then the engine's set-up (run by the agents)."""
        self.roster = Roster(self.host, self)
        super()._initialise()

    def _restored(self) -> None:
        """Agents for the firms of a restored state (closed ones leave the Mesa model)."""
        self.roster.sync()

    # --- the parts of the month that the numba engine runs in kernels --------------------------

    def _age_workers(self, t: int) -> None:
        for worker in self.roster.workers:
            worker.grow_older(t)

    def _train_workers(self, t: int, trained: np.ndarray) -> None:
        for worker in self.roster.workers:  # in worker order, as the kernel
            home = worker.home_county
            if trained[home] >= self.state.training_courses[home]:
                continue  # the year's courses are used up
            if worker.attend_training(t, self.state.training_prob[home]):
                trained[home] += 1

    def _expectations(self) -> None:
        for county in self.roster.counties:
            county.update_expectations()

    def _review(self, t: int) -> np.ndarray:
        month = t % MONTHS_PER_YEAR
        moves = []
        for firm in self.roster.firms[: self.n_firms]:
            if not firm.reviews_location(month):
                continue
            dest = firm.choose_location(t, P_LOCATION)
            if dest != firm.county:
                moves.append((firm.index, dest,
                              R_EXPIRY if firm.package_expired_now() else R_REVIEW))
        ids = np.array([m[0] for m in moves], dtype=np.int64)
        self._relocate(t, ids, np.array([m[1] for m in moves], dtype=np.int64),
                       np.array([m[2] for m in moves], dtype=np.int64))
        return ids

    def _choose(self, deciders, outside_option, t, purpose):
        return np.array([
            choose_county(self, t, purpose, decider=int(deciders.ids[k]),
                          industry=int(deciders.industry[k]),
                          capacity=float(deciders.capacity[k]),
                          efficiency=float(deciders.efficiency[k]),
                          own_workers=float(deciders.own_workers[k]),
                          current=int(deciders.current[k]),
                          months_left=int(deciders.months_left[k]),
                          origin=int(deciders.origin[k]),
                          package_share=float(deciders.package_share[k]),
                          outside_option=outside_option)
            for k in range(len(deciders.ids))], dtype=np.int64)

    def _plan(self, t: int, movers: np.ndarray) -> None:
        for firm in self.roster.firms[: self.n_firms]:
            firm.plan(t)
        self._after_plan(t, movers)
        self.roster.sync()

    def _workers_step(self, t: int) -> np.ndarray:
        founders = [worker.index for worker in self.roster.workers if worker.step(t)]
        return np.array(founders, dtype=np.int64)

    def _add_firms(self, *args, **kwargs) -> np.ndarray:
        ids = super()._add_firms(*args, **kwargs)
        self.roster.sync()
        return ids

    def _count_employees(self) -> None:
        """Each firm's employees, counted from the workers who work for it."""
        employees = self.firms.employees
        employees[:] = 0
        for worker in self.roster.workers:
            if worker.status == LOCAL:
                employees[worker.employer] += 1

    def _match_local(self, t: int) -> None:
        """Employees counted, open vacancies by county (firms in id order), each county's
        labor market, then the tally: separate passes over the workers (the numba engine
        counts in its worker pass and tallies in its matching pass)."""
        self._count_employees()
        vacancies: dict[int, int] = {}
        openings: list[list[int]] = [[] for _ in range(self.counties.n)]
        for firm in self.roster.firms[: self.n_firms]:
            if firm.alive and firm.desired > firm.employees:
                vacancies[firm.index] = int(firm.desired - firm.employees)
                openings[firm.county].append(firm.index)
        for county in self.roster.counties:
            county.match_job_seekers(t, openings[county.index], vacancies)
        self._tally()

    def _tally(self) -> None:
        """Payroll of each firm and head counts of each county, worker by worker."""
        f = self.firms
        s = self.state
        month = self.month
        f.skill_sum[:] = 0.0
        f.wage_bill[:] = 0.0
        f.employees[:] = 0
        s.status_counts[:, :] = 0
        s.skill_sum[:] = 0.0
        s.wage_sum_local[:] = 0.0
        s.poverty_local[:] = 0
        for worker in self.roster.workers:
            c = worker.home_county
            status = worker.status
            skill = worker.skill
            s.status_counts[c, status] += 1
            if status == HOME or status == LOCAL:  # the local labour pool
                s.skill_sum[c] += skill
            if status == LOCAL:
                firm = worker.employer
                wage = worker_wage(self.params, month.wage[c], month.min_wage[c], skill)
                f.employees[firm] += 1
                f.skill_sum[firm] += skill
                f.wage_bill[firm] += wage
                s.wage_sum_local[c] += wage
                if worker.poverty_alleviated:
                    s.poverty_local[c] += 1

    def _firm_accounts(self, t: int) -> None:
        for firm in self.roster.firms[: self.n_firms]:
            firm.settle_accounts(t)
