"""What a run records: per-county metrics every month, the firm event log and yearly
industry tables (MODEL.md §8). Outputs (``sim.results``) are built from these."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.codes import (
    EV_ENTER,
    EV_EXIT,
    HOME,
    LOCAL,
    MONTHS_PER_YEAR,
    OUTBOUND,
    OUTBOUND_SEEKING,
    Kind,
)

# Per-county metrics recorded every step (summed over county groups for the timeseries).
METRICS = (
    "workers_local", "workers_outbound", "workers_home", "workers_total", "job_seekers",
    "poverty_pop_local_jobs", "firms_alive", "entries", "exits", "relocations_in",
    "relocations_out", "wage_sum_local", "output_value", "subsidies_paid", "training_spent",
    "infrastructure_spent", "fund_allocated", "workers_trained", "infrastructure",
)
PERSON_METRICS = ("workers_local", "workers_outbound", "workers_home", "workers_total",
                  "job_seekers", "poverty_pop_local_jobs", "workers_trained")
MONEY_METRICS = ("wage_sum_local", "output_value", "subsidies_paid", "training_spent",
                 "infrastructure_spent", "fund_allocated")
METRIC_INDEX = {name: j for j, name in enumerate(METRICS)}
EVENT_COLUMNS = ("step", "firm_id", "event", "county", "from_county", "industry", "age_months",
                 "months_in_county", "package_months", "subsidised", "reason", "entry_kind")


@dataclass
class RunRecord:
    """What a run records: per-county metrics per step and the firm event log."""

    metrics: np.ndarray  # (steps, counties, metrics), raw kernel units
    east: np.ndarray     # (steps, sim.engine.labour.EAST_COLUMNS): the eastern labour market
    events: list = field(default_factory=list)
    # End of each year: (year index, county kind, industry) -> firms, employees, output.
    industry: list = field(default_factory=list)


class Records:
    """Recording the run (a mixin of ``Simulation``)."""

    def _log(self, t, fid, event, reason, from_county=-1, tenure=None):
        """Append an event; a move records its tenure in the county it left."""
        f = self.firms
        months = int(f.months_in_county[fid]) if tenure is None else tenure
        self.step_events.append((t, int(fid), event, int(f.county[fid]), int(from_county),
                                 int(f.industry[fid]), int(f.age_months[fid]),
                                 months, int(f.package_months[fid]),
                                 bool(f.subsidy_months_left[fid] > 0),
                                 int(reason), int(f.entry_kind[fid])))

    def _record(self, t: int) -> None:
        f = self.firms
        s = self.state
        n = self.n_firms
        n_c = self.counties.n
        row = self.record.metrics[t]
        counts = s.status_counts
        alive = f.alive[:n]
        col = METRIC_INDEX
        row[:, col["workers_local"]] = counts[:, LOCAL]
        row[:, col["workers_outbound"]] = counts[:, OUTBOUND] + counts[:, OUTBOUND_SEEKING]
        row[:, col["workers_home"]] = counts[:, HOME]
        row[:, col["workers_total"]] = counts.sum(axis=1)
        row[:, col["job_seekers"]] = s.seekers
        row[:, col["poverty_pop_local_jobs"]] = s.poverty_local
        row[:, col["firms_alive"]] = np.bincount(f.county[:n][alive], minlength=n_c)
        row[:, col["wage_sum_local"]] = s.wage_sum_local
        row[:, col["output_value"]] = np.bincount(f.county[:n], weights=f.revenue[:n],
                                                  minlength=n_c)
        row[:, col["subsidies_paid"]] = np.bincount(f.county[:n], weights=f.subsidy[:n],
                                                    minlength=n_c)
        row[:, col["infrastructure"]] = s.infrastructure
        if t % MONTHS_PER_YEAR == 0:
            row[:, col["training_spent"]] = self.yearly_spend["training"]
            row[:, col["infrastructure_spent"]] = self.yearly_spend["infrastructure"]
            row[:, col["fund_allocated"]] = self.yearly_spend["fund"]
            row[:, col["workers_trained"]] = self.trained
        for ev in self.step_events:
            county = ev[3]
            if ev[2] == EV_ENTER:
                row[county, col["entries"]] += 1
            elif ev[2] == EV_EXIT:
                row[county, col["exits"]] += 1
            else:
                row[county, col["relocations_in"]] += 1
                row[ev[4], col["relocations_out"]] += 1
        self.record.events.extend(self.step_events)
        if (t + 1) % MONTHS_PER_YEAR == 0:
            self._record_industry(t // MONTHS_PER_YEAR)

    def _record_industry(self, year_index: int) -> None:
        f = self.firms
        n = self.n_firms
        n_ind = self.n_ind
        alive = f.alive[:n]
        key = (self.counties.kind[f.county[:n][alive]].astype(np.int64) * n_ind
               + f.industry[:n][alive])
        size = len(Kind) * n_ind
        firms = np.bincount(key, minlength=size)
        employees = np.bincount(key, weights=f.employees[:n][alive], minlength=size)
        output = np.bincount(key, weights=f.revenue[:n][alive], minlength=size)
        cell = np.arange(size)
        self.record.industry.append(np.stack([np.full(size, year_index), cell // n_ind,
                                              cell % n_ind, firms, employees, output],
                                             axis=1))

    def events_array(self) -> dict[str, np.ndarray]:
        """The firm event log as columns."""
        if not self.record.events:
            return {k: np.zeros(0, dtype=np.int64) for k in EVENT_COLUMNS}
        data = np.array(self.record.events, dtype=np.int64)
        return {k: data[:, j] for j, k in enumerate(EVENT_COLUMNS)}
