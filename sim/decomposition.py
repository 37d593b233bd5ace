"""The cliff and its decomposition (MODEL.md §11.1; issue 9, item 2).

:func:`expiry_hazard` measures the exit hazard of firms around the month their package
expires, from a run's package expiries (``Simulation.expiries_array``) and firm event log;
:func:`run_arm` runs one arm -- a KPI regime, or a ``count`` run into which one dimension of
a ``reform`` run's recorded government choices is replayed (``Simulation(cfg,
replay=(dimension, choices))``). ``experiments/decomposition.py`` runs the arms over seeds.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim.codes import EV_EXIT, EV_RELOCATE, MONTHS_PER_YEAR, POVERTY
from sim.engine import Simulation
from sim.engine.records import METRIC_INDEX


class ExpiryHazard(NamedTuple):
    """Exits per firm-year among firms whose package expired in a poverty county (a spike:
    ``within_2y`` well above ``overall``)."""

    overall: float  # of all firms in those counties over the run, for comparison
    within_2y: float  # in the 24 months after expiry (the headline: cash exits lag)
    after_1y: float  # in the 12 months after expiry
    after_2y: float  # in months 12-23 after expiry
    expiries: int  # packages that expired (firms at risk at expiry)
    exits_2y: int  # of which exited within 24 months


def expiry_hazard(sim: Simulation, kinds=(POVERTY,)) -> ExpiryHazard:
    """Post-expiry exit hazard: exits per firm-year at risk within 12 (and 12-24) months of a
    package's expiry, among firms whose package expired in a county of ``kinds``. A firm
    leaves the risk set when it moves away or the run ends (censoring)."""
    exp = sim.expiries_array()
    ev = sim.events_array()
    exp = exp[np.isin(sim.counties.kind[exp[:, 2]], kinds)] if exp.size else exp
    leave = {}
    for step, fid, code in zip(ev["step"], ev["firm_id"], ev["event"], strict=True):
        if code in (EV_EXIT, EV_RELOCATE):
            leave.setdefault(int(fid), []).append((int(step), int(code)))
    end = sim.step_index
    risk = np.zeros(2)
    exits = np.zeros(2)
    for step, fid, _county, _offered in exp:
        stop, exited = end, False
        for s_, code in leave.get(int(fid), []):
            if s_ >= step:
                stop, exited = s_, code == EV_EXIT
                break
        since = stop - step
        for k in range(2):
            lo, hi = k * MONTHS_PER_YEAR, (k + 1) * MONTHS_PER_YEAR
            risk[k] += max(0, min(since, hi) - lo)
            if exited and lo <= since < hi:
                exits[k] += 1
    hazard = np.where(risk > 0, exits / np.maximum(risk, 1e-12) * MONTHS_PER_YEAR, np.nan)
    m = sim.record.metrics[: sim.step_index]
    where = np.isin(sim.counties.kind, kinds)
    firm_months = m[:, where, METRIC_INDEX["firms_alive"]].sum()
    overall = (m[:, where, METRIC_INDEX["exits"]].sum() / firm_months * MONTHS_PER_YEAR
               if firm_months > 0 else float("nan"))
    within = (exits.sum() / risk.sum() * MONTHS_PER_YEAR if risk.sum() > 0
              else float("nan"))
    return ExpiryHazard(float(overall), float(within), float(hazard[0]), float(hazard[1]),
                        int(len(exp)), int(exits.sum()))


def poverty_local_job_years(sim: Simulation) -> float:
    """Person-years of poverty-alleviated residents in local jobs over the run."""
    m = sim.record.metrics[: sim.step_index, :, METRIC_INDEX["poverty_pop_local_jobs"]]
    return float(m.sum()) * sim.world.persons_per_agent / MONTHS_PER_YEAR


def budget_shares(sim: Simulation) -> dict[str, float]:
    """Share of all spending by use, over active county-years."""
    rows = sim.government_table()
    uses = ("packages", "retention", "training", "infrastructure", "fund_freight", "credit")
    total = sum(float(r["spent_total"][r["active"]].sum()) for r in rows)
    return {u: (sum(float(r[f"spent_{u}"][r["active"]].sum()) for r in rows) / total
                if total > 0 else float("nan")) for u in uses}


ARMS = ("count", "reform", "count+retention", "count+packages", "count+development")


def run_arms(overrides: list[str], arms=ARMS) -> dict[str, Simulation]:
    """Run the decomposition's arms on one seed (Hydra ``overrides`` without the policy):
    ``count`` (policy=baseline), ``reform`` (policy=kpi_reform) and ``count+<dimension>``,
    a count run into which that dimension of the reform run's choices is replayed."""
    from sim.config import compose

    runs: dict[str, Simulation] = {}
    need_reform = any(a != "count" for a in arms)
    if need_reform:
        runs["reform"] = Simulation(compose([*overrides, "policy=kpi_reform"]))
        runs["reform"].run()
    choices = runs["reform"].government_choices() if need_reform else None
    for arm in arms:
        if arm == "reform":
            continue
        cfg = compose([*overrides, "policy=baseline"])
        replay = None
        if arm != "count":
            replay = (arm.split("+", 1)[1], choices)
        sim = Simulation(cfg, replay=replay)
        sim.run()
        runs[arm] = sim
    return {a: runs[a] for a in arms}


def arm_outcomes(sim: Simulation) -> dict[str, float]:
    """The decomposition's outcomes of one run."""
    h = expiry_hazard(sim)
    shares = budget_shares(sim)
    return {"post_expiry_hazard_2y": h.within_2y, "hazard_overall": h.overall,
            "poverty_local_job_years": poverty_local_job_years(sim),
            "retention_budget_share": shares["retention"], "expiries": h.expiries}
