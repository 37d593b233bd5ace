"""The seeded regression baseline: which runs it holds and what it records of each.

Teaching world, 12 years (long enough for 3- and 5-year survival and survival 2 years past
package expiry to be defined), two policies, with and without the export shock. Each case
records every summary indicator and a digest of the firm event log (integers only), so a
change of behaviour shows up as a changed number, never as a NaN compared with a NaN.

The numbers live in ``teaching_12y.json``; refresh them only with
``python scripts/refresh_baseline.py`` when a change of model behaviour is intended.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

BASELINE = Path(__file__).parent / "teaching_12y.json"
CASES = {
    "baseline/none": ("world=teaching", "run.years=12", "run.seed=0", "policy=baseline",
                      "shock=none"),
    "baseline/export_2022": ("world=teaching", "run.years=12", "run.seed=0", "policy=baseline",
                             "shock=export_2022"),
    "kpi_reform/none": ("world=teaching", "run.years=12", "run.seed=0", "policy=kpi_reform",
                        "shock=none"),
    "kpi_reform/export_2022": ("world=teaching", "run.years=12", "run.seed=0",
                               "policy=kpi_reform", "shock=export_2022"),
}
# Indicators that must be defined (not NaN) in every case, so the baseline guards them.
HEADLINE = ("survival_3y", "survival_5y", "post_expiry_survival_2y",
            "poverty_pop_local_jobs_end", "local_jobs_poverty_end", "fiscal_cost_total",
            "cost_per_local_job_year")
KEEP_OUT = {"run_id", "steps"}


def events_digest(events: dict[str, np.ndarray]) -> str:
    """SHA-256 of the firm event log's integer columns, in log order."""
    columns = sorted(events)
    data = np.stack([np.asarray(events[k], dtype=np.int64) for k in columns], axis=1)
    return hashlib.sha256(",".join(columns).encode() + data.tobytes()).hexdigest()


def record_case(overrides: tuple[str, ...]) -> dict:
    """Run one case and return what the baseline records of it."""
    from sim.engines import make_simulation
    from sim.results import events_frame, summary, timeseries_frame
    from tests.conftest import make_config

    sim = make_simulation(make_config(*overrides))
    sim.run()
    meta = {"run_id": "baseline"}
    ts = timeseries_frame(sim, meta)
    summ = summary(sim, ts, events_frame(sim, meta))
    out = {k: (float(v) if isinstance(v, float | np.floating) else v)
           for k, v in summ.items() if k not in KEEP_OUT}
    out["events_sha256"] = events_digest(sim.events_array())
    out["events"] = len(sim.record.events)
    return out
