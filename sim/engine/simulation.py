"""The simulation: the state of a run and its monthly step.

Order of a month (MODEL.md §4-6), as :meth:`Simulation.step` reads:

1. the month's prices and shocks, and the eastern labour market for migrants (its job-finding
   rate and wage); in the first month of a year, ageing, government budgets,
   training and infrastructure, and satellite workshops;
2. offers, expectations and the labour a newcomer could hire; retention offers to firms
   whose package expires; location reviews of firms (yearly, and when a package expires);
3. firm plans: exits from last month's cash, orders, labor productivity, desired workers;
4. workers: layoffs, the outbound market, learning, the expected-income choice, returnees;
5. entry: births in origin counties, attracted entrants, returnee firms;
6. local job matching inside each county, and the month's payroll and head counts;
7. accounts: revenue, costs, subsidies, cash; records for the month.

The domains live in sibling modules, each a mixin of :class:`Simulation`: ``labour``
(workers and local labour markets), ``firms`` (expectations, location choice, plans and
accounts), ``entry``, ``governments`` and ``records``. Hot loops are the numba kernels in
``sim.kernels``; everything here is O(counties + firms) numpy glue. Random numbers are
counter-based draws or per-step generators keyed by (seed, step), so the state after step t
fully determines step t + 1.
"""

from __future__ import annotations

import copy
import dataclasses

import numba
import numpy as np

from sim.codes import CENTRAL, HOME, MONTHS_PER_YEAR, ORIGIN
from sim.config import Config
from sim.development import rule_of_thumb, simulated_selection
from sim.engine.entry import Entry
from sim.engine.environment import Month, month_environment
from sim.engine.firms import FirmDecisions
from sim.engine.governments import REPLAY_DIMENSIONS, Governments
from sim.engine.labour import EAST_COLUMNS, LabourMarket
from sim.engine.records import METRICS, Records, RunRecord
from sim.memory import check_memory
from sim.params import make_params
from sim.state import COUNTY_STATE_FIELDS, NonFiniteStateError, Table, non_finite
from sim.world import DYNAMICS_STREAM, World, generate

INIT_STEP = 1 << 40  # draw "step" used for the initial hiring round
# Below this many worker agents a step is too short for threads to pay (run.threads = 0).
PARALLEL_MIN_WORKERS = 100_000
# Counties a thread takes at a time in the parallel kernels: handed out as threads finish
# (dynamic), not split into equal halves up front, which left one thread with 54 % of the
# national world's workers and the other idle when a core was busy elsewhere. Each county's
# work is independent, so the results do not depend on it.
PARALLEL_CHUNK_COUNTIES = 8


def kernel_threads(requested: int, n_workers: int) -> int:
    """Threads for the parallel kernels: ``requested`` (capped at numba's pool), or with 0 all
    cores for a large world and one for a small one."""
    pool = numba.config.NUMBA_NUM_THREADS
    if requested > 0:
        return min(requested, pool)
    return pool if n_workers >= PARALLEL_MIN_WORKERS else 1


class Simulation(LabourMarket, FirmDecisions, Entry, Governments, Records):
    """A run of the model on one world (the numba engine).

    Args:
        cfg: the validated configuration.
        world: an initial world; generated from ``cfg`` if omitted.
        replay: ``(dimension, choices)``: impose one dimension of another run's recorded
            government choices (``government_choices()`` of that run; dimensions in
            ``sim.engine.governments.REPLAY_DIMENSIONS``: ``retention``, ``packages`` --
            shares, generosity and chain screening -- or ``development``, training and
            infrastructure) on this run's governments, for the decomposition.

    Attributes:
        counties, firms, workers: the state tables (``sim.state``); ``state``: the counties'
            changing state (budgets, offers, labour markets, expectations).
        params: the kernels' parameter record (``sim.params``); ``ind``: the industry table.
        month: the prices and shocks of the current month.
        step_index, n_steps: months done and months in the run.

    A new attribute must be named in ``sim.checkpoint`` (``SAVED`` or ``DERIVED``) so that a
    run continued from a checkpoint stays the run made in one go (``tests/test_checkpoint.py``).
    """

    def __init__(self, cfg: Config, world: World | None = None,
                 replay: tuple[str, np.ndarray] | None = None):
        self.cfg = cfg
        self.params = make_params(cfg)
        self.replay = None
        if replay is not None:
            dimension, choices = replay
            if dimension not in REPLAY_DIMENSIONS:
                raise ValueError(f"replay dimension {dimension!r} is not one of "
                                 f"{', '.join(REPLAY_DIMENSIONS)}")
            self.replay = (dimension, np.asarray(choices, dtype=float))
            if dimension == "packages":  # package terms and targeting (chain screening)
                self.params = self.params._replace(chain_screening=True)
        check_memory(cfg)
        if world is None:
            # The run owns the world it generates: its firm and worker tables are the state
            # (no second copy of the largest arrays; sim.world keeps the static data).
            w = generate(cfg)
            self.firms, self.workers = w.firms, w.workers
            self.world = dataclasses.replace(w, firms=None, workers=None)
        else:  # a world shared with other runs stays as it was
            w = self.world = world
            self.firms = copy.deepcopy(w.firms)
            self.workers = copy.deepcopy(w.workers)
        self.counties = w.counties
        self.n_firms = w.n_firms
        self.ind = w.industry
        self.n_ind = len(w.industry_names)
        self.n_steps = cfg.run.years * MONTHS_PER_YEAR
        self.threads = kernel_threads(cfg.run.threads, self.workers.n)
        numba.set_num_threads(self.threads)
        numba.set_parallel_chunksize(PARALLEL_CHUNK_COUNTIES)
        self.step_index = 0
        # Dynamics draws use their own 63-bit seed derived from run.seed.
        state = np.random.SeedSequence([cfg.run.seed, DYNAMICS_STREAM]).generate_state(1, np.uint64)
        self.seed = int(state[0] >> np.uint64(1))
        n_c = self.counties.n
        self.state = Table(COUNTY_STATE_FIELDS, n_c, self.n_ind)
        self.state.infrastructure[:] = self.counties.initial_infrastructure
        self.state.local_finding[:] = cfg.model.initial_local_finding
        self.state.local_resource[:] = w.local_resource
        self.state.market_access[:] = w.market_access
        self.residents = (self.counties.worker_stop - self.counties.worker_start).astype(float)
        self._init_governments()
        kind = self.counties.kind
        self.origin_ids = np.flatnonzero(kind == ORIGIN)
        self.resettlement_ids = np.flatnonzero(self.counties.resettlement_site)
        self.partner_start, self.partner_list = self._pairing_lists()
        # 创核: under package_counties = core only key-assistance counties, resettlement
        # sites (and the non-poor inland competitors) offer packages.
        c = self.counties
        self.may_offer = ((cfg.policy.package_counties == "all") | (kind == CENTRAL)
                          | c.key_assistance | c.resettlement_site)
        n = self.n_firms
        alive0 = self.firms.alive[:n]
        self.initial_origin_firms = np.bincount(
            self.firms.county[:n][alive0 & (kind[self.firms.county[:n]] == ORIGIN)],
            minlength=n_c)[self.origin_ids].astype(float)
        # Agents of a median-sized plant (typical sizes are in persons).
        self.median_plant_size = float(np.median(self.ind.typical_size)) / w.persons_per_agent
        self.skill_mean_by_kind = np.array([cfg.world.skill_mean_origin,
                                            cfg.world.skill_mean_central,
                                            cfg.world.skill_mean_poverty])
        self.record = RunRecord(metrics=np.zeros((self.n_steps, n_c, len(METRICS))),
                                east=np.zeros((self.n_steps, len(EAST_COLUMNS))))
        self.step_events: list[tuple] = []
        self.month = self.environment(0)
        self._init_east_market()
        self._initialise()

    def _pairing_lists(self) -> tuple[np.ndarray, np.ndarray]:
        """East-west pairing as CSR: origin county -> its paired poverty counties."""
        partner = self.counties.partner
        paired = np.flatnonzero(partner >= 0)
        order = paired[np.argsort(partner[paired], kind="stable")]
        counts = np.bincount(partner[paired], minlength=self.counties.n)
        start = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        return start, order.astype(np.int64)

    def _initialise(self) -> None:
        """Initial cash, the first head counts, and a first hiring round."""
        f = self.firms
        n = self.n_firms
        f.cash[:n] = self._initial_cash(f.county[:n], f.industry[:n], f.capacity[:n])
        self._tally()
        self._refresh_county_state()
        # Everyone at home looks for work and every plant wants its capacity.
        self.workers.seeking[:] = self.workers.status == HOME
        f.desired[:n] = np.round(f.capacity[:n]).astype(np.int32)
        self._count_employees()
        self._match_local(INIT_STEP)  # and the tally
        self._refresh_county_state()
        self._update_local_employment()
        self._select_industries()

    def _select_industries(self) -> None:
        """Which industries each county's packages go to (``policy.selection``, MODEL.md
        §12.3): all; the paper's rule of thumb on the expectations at the start; or the
        simulated ranking of the county's class from ``experiments.select``."""
        selection = self.cfg.policy.selection
        if selection == "rule":
            self._expectations()
            self.state.targeted[:] = rule_of_thumb(self.cfg, self.counties, self.ind,
                                                   self.state.profit_per_capacity,
                                                   self.state.chain_present)
        elif selection == "simulated":
            self.state.targeted[:] = simulated_selection(self.cfg, self.counties,
                                                         self.world.industry_names)

    def _restored(self) -> None:
        """Called after ``sim.checkpoint.restore`` has put a saved state into the tables."""

    def environment(self, t: int) -> Month:
        """Wages, prices and shocks at step ``t``."""
        return month_environment(self.cfg, self.params, self.counties, self.ind,
                                 self.world.industry_names, self.world.market_access, t)

    # --- the step -----------------------------------------------------------------------------

    def step(self) -> None:
        """Advance the model by one month."""
        t = self.step_index
        if t >= self.n_steps:
            raise RuntimeError("the run is complete")
        numba.set_num_threads(self.threads)  # per calling thread (the app steps from others)
        numba.set_parallel_chunksize(PARALLEL_CHUNK_COUNTIES)
        self.month = self.environment(t)
        self._east_market(t)
        self.step_events = []
        if t % MONTHS_PER_YEAR == 0:
            self._yearly(t)
        self._update_offers()
        self._expectations()
        self._update_labor_available()
        self._retention_offers(t)
        movers = self._review(t)
        self._retention_answers(movers)
        self._plan(t, movers)
        founders = self._workers_step(t)
        self._entry(t, founders)
        self._match(t)
        self._tally_government()
        self._accounts(t)
        self._record(t)
        self._check_finite(t)
        self.step_index += 1

    def _check_finite(self, t: int) -> None:
        """Stop at the first NaN or infinity in the state or the month's records, naming the
        field and the month (``sim.state.non_finite``: a sum per field). Every month the firms,
        the counties' state and the records; the largest arrays (workers, per-industry
        columns) at the end of each year and of the run, which keeps the check near 1 % of a
        step (a NaN there reaches the county sums, checked monthly, within a month)."""
        full = t % MONTHS_PER_YEAR == MONTHS_PER_YEAR - 1 or t == self.n_steps - 1
        tables = [("firms", self.firms, self.n_firms), ("state", self.state, None)]
        if full:
            tables.append(("workers", self.workers, None))
        for name, table, rows in tables:
            found = non_finite(table, rows, wide=full)
            if found is not None:
                field, row, value = found
                raise NonFiniteStateError(f"{name}.{field} is {value} at step {t} (row {row}); "
                                          "the run stopped")
        row = self.record.metrics[t]  # (counties, metrics)
        with np.errstate(over="ignore", invalid="ignore"):
            total = row.sum()
        if not np.isfinite(total) and not np.isfinite(row).all():
            county, j = np.argwhere(~np.isfinite(row))[0]
            raise NonFiniteStateError(f"records.{METRICS[j]} is {row[county, j]} at step {t} "
                                      f"(county {county}); the run stopped")

    def run(self, progress=None) -> RunRecord:
        """Run to the end; ``progress(step, n_steps)`` is called after each step if given."""
        while self.step_index < self.n_steps:
            self.step()
            if progress is not None:
                progress(self.step_index, self.n_steps)
        return self.record

    def _yearly(self, t: int) -> None:
        """The first month of a year: workers age, governments decide, headquarters expand."""
        if t > 0:
            self._age_workers(t)
        self._government_year(t)
        self._refresh_county_state()
        self._expectations()
        self._satellites(t)
        self._node_workshops(t)
