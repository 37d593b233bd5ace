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

from sim import kernels as K
from sim.agents import Roster, choose_county, import_mesa
from sim.config import Config
from sim.engine import INIT_STEP, Environment, Simulation
from sim.government import yearly_budgets
from sim.state import EV_EXIT, EV_RELOCATE, HOME, LOCAL, R_EXPIRY, R_REVIEW
from sim.world import World


class ReferenceSimulation(Simulation):
    """A run of the model with per-agent rules in plain Python.

    Args:
        cfg: the validated configuration.
        world: an initial world; generated from ``cfg`` if omitted.
        model: the Mesa model the agents belong to (a plain ``mesa.Model`` seeded with
            ``cfg.run.seed`` if omitted).
    """

    def __init__(self, cfg: Config, world: World | None = None, model=None):
        if model is None:
            model = import_mesa().Model(rng=cfg.run.seed)
        self.host = model
        super().__init__(cfg, world)

    # --- set-up -------------------------------------------------------------------------------

    def _initialise(self) -> None:
        """Agents for the initial world, initial cash, budgets and a first hiring round."""
        self.roster = Roster(self.host, self)
        env = self.environment(0)
        f = self.firms
        n = self.n_firms
        f.cash[:n] = self._initial_cash(f.county[:n], f.industry[:n], f.capacity[:n], env)
        self._tally(env)
        self._refresh_county_state()
        for worker in self.roster.workers:
            worker.seeking = worker.status == HOME
        for firm in self.roster.firms[:n]:
            firm.desired = round(firm.capacity)
        self._count_employees()
        self._match_local(INIT_STEP)
        self._tally(env)
        self._refresh_county_state()

    # --- the parts of the month that the numba engine runs in kernels --------------------------

    def _yearly(self, t: int, env: Environment) -> None:
        cfg = self.cfg
        c = self.counties
        roster = self.roster
        if t > 0:
            for worker in roster.workers:
                worker.grow_older(t)
        eligible = self.county_counts[:, LOCAL] + self.seekers  # order-based training
        typical_package = (12 * cfg.policy.wage_subsidy
                           * float(np.median(self.ind["typical_size"])))
        spent = yearly_budgets(
            cfg.policy, self.gov, kind=c.kind, key_assistance=c.key_assistance,
            resettlement=c.resettlement_site, partner=c.partner,
            infrastructure=self.infrastructure, residents=self.residents,
            residents_home=eligible.astype(float),
            fiscal_per_person=cfg.world.fiscal_capacity_per_person,
            population_scale=self.world.population_scale,
            persons_per_agent=self.world.persons_per_agent, typical_package=typical_package,
            training_cost_agents=cfg.policy.training_cost, infra_cost_agents=cfg.policy.infra_cost,
            extra_aid=self._case_aid(env.year))
        # Credit risk compensation: a credit line per unit of capacity of the firms there.
        capacity = np.zeros(c.n)
        for firm in roster.firms[: self.n_firms]:
            if firm.alive:
                capacity[firm.county] += firm.capacity
        for county in roster.counties:
            k = county.index
            self.gov.credit_line[k] = (spent["credit"][k] * cfg.policy.credit_leverage
                                       / max(capacity[k], 1e-9) if capacity[k] > 0 else 0.0)
        trained = np.zeros(c.n)
        if np.any(self.gov.training_prob > 0):
            for worker in roster.workers:
                home = worker.home_county
                if worker.attend_training(t, self.gov.training_prob[home]):
                    trained[home] += 1
        self._trained = trained
        self._yearly_spend = {"training": trained * cfg.policy.training_cost,
                              "infrastructure": spent["infrastructure"], "fund": spent["fund"]}
        self._refresh_county_state()
        self._expectations(env)
        self._satellites(t, env)

    def _expectations(self, env: Environment) -> None:
        for county in self.roster.counties:
            county.update_expectations(env)

    def _review(self, t: int, month: int, env: Environment) -> np.ndarray:
        labor_available = self._labor_available()
        moves = []
        for firm in self.roster.firms[: self.n_firms]:
            if not firm.reviews_location(month):
                continue
            dest = firm.choose_location(t, env, K.P_LOCATION, labor_available)
            if dest != firm.county:
                reason = R_EXPIRY if firm.package_expired_now() else R_REVIEW
                moves.append((firm, dest, reason))
        for firm, dest, reason in moves:
            source = int(firm.county)
            tenure = int(firm.months_in_county)
            self._relocate(firm.index, dest, env)
            self._log(t, firm.index, EV_RELOCATE, reason, from_county=source, tenure=tenure)
        return np.array([firm.index for firm, _, _ in moves], dtype=np.int64)

    def _choose(self, ids, industry, capacity, efficiency, own_workers, current, months_left,
                origin, package_share, outside_option, t, purpose, env):
        labor_available = self._labor_available()
        return np.array([
            choose_county(self, t, env, purpose, labor_available, decider=int(ids[k]),
                          industry=int(industry[k]), capacity=float(capacity[k]),
                          efficiency=float(efficiency[k]),
                          own_workers=float(own_workers[k]), current=int(current[k]),
                          months_left=int(months_left[k]), origin=int(origin[k]),
                          package_share=float(package_share[k]),
                          outside_option=outside_option)
            for k in range(len(ids))], dtype=np.int64)

    def _plan(self, t: int, env: Environment, movers: np.ndarray) -> None:
        f = self.firms
        self.layoff_prob = np.zeros(f.n)
        self.exit_reason = np.zeros(f.n, dtype=np.int8)
        for firm in self.roster.firms[: self.n_firms]:
            self.exit_reason[firm.index] = firm.plan(t, env)
        for fid in np.flatnonzero(self.exit_reason[: self.n_firms]):
            self._log(t, fid, EV_EXIT, int(self.exit_reason[fid]))
        # A move lays off the whole workforce: the firm hires again in its new county.
        self.layoff_prob[movers] = 1.0
        self.roster.sync()

    def _workers_step(self, t: int, env: Environment) -> np.ndarray:
        founders = [worker.index for worker in self.roster.workers if worker.step(t, env)]
        return np.array(founders, dtype=np.int64)

    def _add_firms(self, *args, **kwargs) -> np.ndarray:
        ids = super()._add_firms(*args, **kwargs)
        self.roster.sync()
        return ids

    def _match(self, t: int) -> None:
        self._count_employees()
        self._match_local(t)
        rate = np.where(self.seekers > 0, self.hires / np.maximum(self.seekers, 1),
                        self.local_finding)
        a = self.cfg.model.local_finding_smoothing
        self.local_finding = (1 - a) * self.local_finding + a * rate

    def _count_employees(self) -> None:
        """Each firm's employees, counted from the workers who work for it."""
        employees = self.firms.employees
        employees[:] = 0
        for worker in self.roster.workers:
            if worker.status == LOCAL:
                employees[worker.employer] += 1

    def _match_local(self, t: int) -> None:
        """Open vacancies by county (firms in id order), then each county's labor market."""
        vacancies: dict[int, int] = {}
        openings: list[list[int]] = [[] for _ in range(self.counties.n)]
        for firm in self.roster.firms[: self.n_firms]:
            if firm.alive and firm.desired > firm.employees:
                vacancies[firm.index] = int(firm.desired - firm.employees)
                openings[firm.county].append(firm.index)
        for county in self.roster.counties:
            county.match_job_seekers(t, openings[county.index], vacancies)

    def _tally(self, env: Environment) -> None:
        """Payroll of each firm and head counts of each county, worker by worker."""
        f = self.firms
        f.skill_sum[:] = 0.0
        f.wage_bill[:] = 0.0
        f.employees[:] = 0
        counts = self.county_counts
        counts[:, :] = 0
        self.county_skill_sum[:] = 0.0
        self.county_wage_local[:] = 0.0
        self.county_poverty_local[:] = 0
        for worker in self.roster.workers:
            c = worker.home_county
            status = worker.status
            skill = worker.skill
            counts[c, status] += 1
            if status == HOME or status == LOCAL:  # the local labour pool
                self.county_skill_sum[c] += skill
            if status == LOCAL:
                firm = worker.employer
                wage = K.worker_wage(env.wage[c], env.min_wage[c], skill)
                f.employees[firm] += 1
                f.skill_sum[firm] += skill
                f.wage_bill[firm] += wage
                self.county_wage_local[c] += wage
                if worker.poverty_alleviated:
                    self.county_poverty_local[c] += 1

    def _accounts(self, t: int, env: Environment) -> None:
        self._tally(env)
        self._refresh_county_state()
        firms = self.roster.firms[: self.n_firms]
        for firm in firms:
            firm.settle_accounts(t, env)
        # Tax base for next year's county budgets.
        revenue = np.zeros(self.counties.n)
        for firm in firms:
            revenue[firm.county] += firm.revenue
        self.gov.revenue_year += revenue
