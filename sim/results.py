"""Run outputs: tidy tables, the summary and the figures, written atomically (``sim.atomic``).

Every table carries ``run_id``, ``seed`` and the preset names, so rows from many runs can be
concatenated without losing where they came from. Counts are persons (worker agents x
``persons_per_agent``) and money is yuan of the replica world.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd

from sim.atomic import atomic_write_bytes, atomic_write_parquet
from sim.codes import (
    ENTRY_NAMES,
    EVENT_NAMES,
    KINDS,
    MONTHS_PER_YEAR,
    OUTBOUND,
    REASON_NAMES,
    REGIONS,
)
from sim.engine import EVENT_COLUMNS, METRICS, MONEY_METRICS, PERSON_METRICS, Simulation
from sim.plots import run_figures
from sim.rules import outbound_wage
from sim.survival import (
    post_expiry_spells,
    poverty_spells,
    survival_at,
)

SUMMARY_DOC = {
    "firms_alive_end": "firms operating at the end of the run (all counties)",
    "firms_entered": "firms founded during the run (births, attracted, returnee, satellite)",
    "firms_exited": "firms that closed during the run",
    "firms_relocated": "relocations during the run",
    "survival_3y": "Kaplan-Meier survival at 36 months of firm spells in poverty counties "
                   "that began during the run (entry or relocation in; moving away censors)",
    "survival_5y": "the same at 60 months",
    "post_expiry_survival_2y": "Kaplan-Meier survival 24 months after the package expired, "
                               "for packaged spells in poverty counties still there at expiry",
    "local_jobs_poverty_end": "persons in local jobs living in poverty counties, last month",
    "poverty_pop_local_jobs_end": "poverty-alleviated persons in local jobs, last month",
    "outbound_share_end": "share of inland (non-origin) workers working or seeking in the east",
    "outbound_share_of_migrant_workers_end": "outbound / (outbound + local jobs) of inland "
                                             "workers, the NBS definition (59.6 % in 2024)",
    "mean_wage_local_end": "mean monthly wage of local jobs in inland counties (yuan)",
    "mean_wage_outbound_end": "mean monthly wage of outbound jobs (yuan)",
    "fiscal_cost_total": "public money spent over the run: packages and fund subsidies paid, "
                         "training, infrastructure, credit compensation (yuan)",
    "cost_per_local_job_year": "fiscal_cost_total / person-years of local jobs in poverty "
                               "counties (yuan)",
    "output_poverty_total": "output value of firms in poverty counties over the run (yuan)",
}


def run_id_for(config_yaml: str) -> str:
    """A stable id: the first 12 hex digits of the SHA-1 of the resolved config."""
    return hashlib.sha1(config_yaml.encode()).hexdigest()[:12]


def _group_labels(sim: Simulation):
    c = sim.counties
    group = c.region.astype(np.int64) * len(KINDS) + c.kind
    present = np.unique(group)
    return group, present


def timeseries_frame(sim: Simulation, meta: dict) -> pd.DataFrame:
    """One row per step x county group (region, kind), counts in persons, money in yuan."""
    ppa = sim.world.persons_per_agent
    group, present = _group_labels(sim)
    n_steps = sim.step_index
    m = sim.record.metrics[:n_steps]
    index = np.searchsorted(present, group)
    agg = np.zeros((n_steps, present.size, len(METRICS)))
    for j in range(len(METRICS)):
        for g in range(present.size):
            agg[:, g, j] = m[:, index == g, j].sum(axis=1)
    n_counties = np.bincount(index, minlength=present.size)
    frame = {
        "step": np.repeat(np.arange(n_steps), present.size),
        "year": np.repeat(sim.cfg.run.start_year + np.arange(n_steps) / MONTHS_PER_YEAR,
                          present.size),
        "region": np.tile([REGIONS[g // len(KINDS)] for g in present], n_steps),
        "kind": np.tile([KINDS[g % len(KINDS)] for g in present], n_steps),
    }
    for j, name in enumerate(METRICS):
        col = agg[:, :, j].ravel()
        if name in PERSON_METRICS or name in MONEY_METRICS:
            col = col * ppa
        if name == "infrastructure":
            name, col = "mean_infrastructure", col / np.tile(n_counties, n_steps)
        frame[name] = col
    local = frame["workers_local"]
    frame["mean_wage_local"] = np.where(local > 0, frame.pop("wage_sum_local")
                                        / np.maximum(local, 1e-12), np.nan)
    df = pd.DataFrame(frame)
    for key in ("entries", "exits", "relocations_in", "relocations_out", "firms_alive"):
        df[key] = df[key].astype(np.int64)
    return _with_meta(df, meta)


def events_frame(sim: Simulation, meta: dict) -> pd.DataFrame:
    """The firm event log (enter / relocate / exit)."""
    ev = sim.events_array()
    c = sim.counties
    df = pd.DataFrame({k: ev[k] for k in EVENT_COLUMNS})
    df = df.rename(columns={"event": "event_code"})
    df.insert(2, "event", pd.Categorical([EVENT_NAMES[e] for e in df.event_code],
                                         categories=EVENT_NAMES))
    df["region"] = [REGIONS[r] for r in c.region[df.county]]
    df["kind"] = [KINDS[k] for k in c.kind[df.county]]
    names = sim.world.industry_names
    df["industry"] = [names[i] for i in df.industry]
    df["reason"] = [REASON_NAMES[r] for r in df.reason]
    df["entry_kind"] = [ENTRY_NAMES[k] for k in df.entry_kind]
    df["subsidised"] = df.subsidised.astype(bool)
    return _with_meta(df, meta)


def firms_end_frame(sim: Simulation, meta: dict) -> pd.DataFrame:
    """One row per firm alive at the end."""
    f = sim.firms
    n = sim.n_firms
    ids = np.flatnonzero(f.alive[:n])
    c = sim.counties
    county = f.county[ids]
    df = pd.DataFrame({
        "firm_id": ids,
        "county": county,
        "region": [REGIONS[r] for r in c.region[county]],
        "kind": [KINDS[k] for k in c.kind[county]],
        "industry": [sim.world.industry_names[i] for i in f.industry[ids]],
        "employees": f.employees[ids] * sim.world.persons_per_agent,
        "age_months": f.age_months[ids],
        "months_in_county": f.months_in_county[ids],
        "subsidised": f.subsidy_months_left[ids] > 0,
        "entry_kind": [ENTRY_NAMES[k] for k in f.entry_kind[ids]],
        "parent": f.parent[ids],
    })
    return _with_meta(df, meta)


def industry_frame(sim: Simulation, meta: dict) -> pd.DataFrame:
    """End-of-year firms, employment (persons) and monthly output by county kind x industry."""
    cols = ["year_index", "kind", "industry", "firms_alive", "employees", "output_value"]
    if not sim.record.industry:
        return _with_meta(pd.DataFrame(columns=cols), meta)
    data = np.concatenate(sim.record.industry)
    df = pd.DataFrame(data, columns=cols)
    df["year"] = sim.cfg.run.start_year + df.year_index.astype(int)
    df["kind"] = [KINDS[int(k)] for k in df.kind]
    df["industry"] = [sim.world.industry_names[int(i)] for i in df.industry]
    df["firms_alive"] = df.firms_alive.astype(np.int64)
    df["employees"] *= sim.world.persons_per_agent
    df["output_value"] *= sim.world.persons_per_agent
    return _with_meta(df.drop(columns="year_index"), meta)


GOVERNMENT_MONEY = ("budget_transfer", "budget_tax", "budget_aid", "budget_fund",
                    "budget_training_programme", "granted", "carried_in", "committed",
                    "spent_packages", "spent_retention", "spent_training",
                    "spent_infrastructure", "spent_fund_freight", "spent_credit", "spent_total",
                    "saved", "carried", "returned")


def government_frame(sim: Simulation, meta: dict) -> pd.DataFrame:
    """One row per county-year of every poverty and central county government (MODEL.md
    §11.1): budget by source, spending by use, carried and returned money (yuan), the
    bundle chosen (shares of the discretionary budget, generosity), offers and the KPI
    score. ``granted + carried_in = spent_total + carried + returned``."""
    rows = sim.government_table()
    c = sim.counties
    frames = []
    for row in rows:
        active = np.flatnonzero(row["active"])
        data = {"year": sim.cfg.run.start_year + int(row["year_index"]),
                "county": active,
                "region": [REGIONS[r] for r in c.region[active]],
                "kind": [KINDS[k] for k in c.kind[active]],
                "kpi": sim.cfg.policy.kpi}
        for key, value in row.items():
            if key in ("year_index", "active"):
                continue
            col = np.asarray(value)[active]
            data[key] = col * sim.world.persons_per_agent if key in GOVERNMENT_MONEY else col
        frames.append(pd.DataFrame(data))
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["year", "county", "region", "kind", "kpi"])
    return _with_meta(df, meta)


def _with_meta(df: pd.DataFrame, meta: dict) -> pd.DataFrame:
    for k, v in reversed(list(meta.items())):
        df.insert(0, k, v)
    return df


def summary(sim: Simulation, ts: pd.DataFrame, events: pd.DataFrame) -> dict:
    """Scalar indicators of a run (definitions in ``SUMMARY_DOC``)."""
    ppa = sim.world.persons_per_agent
    spells = poverty_spells(events, sim.counties.kind, sim.step_index)
    post = post_expiry_spells(spells)
    last = ts[ts.step == ts.step.max()]
    inland = last[last.kind != "origin"]
    poverty_last = last[last.kind == "poverty"]
    pov_ts = ts[ts.kind == "poverty"]
    w = sim.workers
    out_mask = w.status == OUTBOUND
    if out_mask.any():
        month = sim.environment(max(sim.step_index - 1, 0))
        wage_out = outbound_wage(sim.params, month.wage_east, w.skill[out_mask],
                                 w.experience_months[out_mask])
        mean_wage_out = float(wage_out.mean())
    else:
        mean_wage_out = float("nan")
    fiscal = float(ts[["subsidies_paid", "training_spent", "infrastructure_spent"]].sum().sum())
    credit = float(sim.cfg.policy.fund_credit * ts.fund_allocated.sum())
    fiscal += credit
    job_years = float(pov_ts.workers_local.sum()) / MONTHS_PER_YEAR
    inland_local = inland.workers_local.sum()
    return {
        "firms_alive_end": int(last.firms_alive.sum()),
        "firms_entered": int((events.event == "enter").sum()),
        "firms_exited": int((events.event == "exit").sum()),
        "firms_relocated": int((events.event == "relocate").sum()),
        "survival_3y": survival_at(spells.duration_months, spells.exited, 36),
        "survival_5y": survival_at(spells.duration_months, spells.exited, 60),
        "post_expiry_survival_2y": survival_at(post.duration_months, post.exited, 24),
        "local_jobs_poverty_end": float(poverty_last.workers_local.sum()),
        "poverty_pop_local_jobs_end": float(last.poverty_pop_local_jobs.sum()),
        "outbound_share_end": float(inland.workers_outbound.sum() / inland.workers_total.sum()),
        "outbound_share_of_migrant_workers_end": float(
            inland.workers_outbound.sum()
            / (inland.workers_outbound.sum() + inland.workers_local.sum())),
        "mean_wage_local_end": float((inland.mean_wage_local * inland.workers_local).sum()
                                     / inland_local) if inland_local > 0 else float("nan"),
        "mean_wage_outbound_end": mean_wage_out,
        "fiscal_cost_total": fiscal,
        "cost_per_local_job_year": fiscal / job_years if job_years > 0 else float("nan"),
        "output_poverty_total": float(pov_ts.output_value.sum()),
        "persons_per_agent": ppa,
    }


def _json_default(x):
    if isinstance(x, np.generic):
        return x.item()
    raise TypeError(type(x))


def write_run(sim: Simulation, out_dir: Path, config_yaml: str, figures: bool = True) -> dict:
    """Write every output of a finished run into ``out_dir``; return the summary.

    ``summary.json`` is written last, so its presence marks a complete run.
    """
    out_dir = Path(out_dir)
    cfg = sim.cfg
    run_id = run_id_for(config_yaml)
    meta = {"run_id": run_id, "seed": cfg.run.seed, "world": cfg.world.name,
            "policy": cfg.policy.name, "shock": cfg.shock.name}
    atomic_write_bytes(out_dir / "config.yaml", config_yaml.encode())
    ts = timeseries_frame(sim, meta)
    ev = events_frame(sim, meta)
    atomic_write_parquet(ts, out_dir / "timeseries.parquet")
    atomic_write_parquet(ev.drop(columns="event_code"), out_dir / "firm_events.parquet")
    atomic_write_parquet(firms_end_frame(sim, meta), out_dir / "firms_end.parquet")
    atomic_write_parquet(industry_frame(sim, meta), out_dir / "industry.parquet")
    atomic_write_parquet(government_frame(sim, meta), out_dir / "government.parquet")
    summ = summary(sim, ts, ev)
    if figures:
        run_figures(ts, ev, sim, out_dir)
    record = {**meta, **summ, "steps": sim.step_index}
    atomic_write_bytes(out_dir / "summary.json",
                       json.dumps(record, indent=2, default=_json_default).encode())
    return record
