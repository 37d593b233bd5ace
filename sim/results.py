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
    DEVELOPMENT_TYPES,
    DOMESTIC_SERVICE,
    ENTRY_NAMES,
    EVENT_NAMES,
    KINDS,
    MONTHS_PER_YEAR,
    ORIGIN,
    OUTBOUND,
    POVERTY,
    REASON_NAMES,
    REGIONS,
    ZONES,
    Zone,
)
from sim.engine import EVENT_COLUMNS, METRICS, MONEY_METRICS, PERSON_METRICS, Simulation
from sim.engine.governments import SOURCES as BUDGET_SOURCES
from sim.engine.labour import EAST_COLUMNS
from sim.integrity import remove_completion, write_completion
from sim.plots import run_figures
from sim.rules import outbound_wage
from sim.survival import (
    post_expiry_spells,
    post_support_spells,
    poverty_spells,
    retained_spells,
    survival_at,
)

# Discount rate of the discounted job-years, per year (a social discount rate of the order
# of China's official 8 % for projects is too high for a welfare count of person-years; 3 %
# is the usual real rate in cost-effectiveness work, e.g. WHO-CHOICE). An argument of
# ``summary`` and ``job_years`` where another is wanted.
DISCOUNT_RATE = 0.03

SUMMARY_DOC = {
    "firms_alive_end": "firms operating at the end of the run (all counties)",
    "firms_entered": "firms founded during the run (births, attracted, returnee, satellite)",
    "firms_exited": "firms that closed during the run",
    "firms_relocated": "relocations during the run",
    "survival_3y": "spell survival from arrival, NOT firm survival after support: "
                   "Kaplan-Meier at 36 months of firm spells in poverty counties that began "
                   "during the run (entry or relocation in; moving away censors), counting "
                   "the months inside the subsidy window",
    "survival_5y": "the same at 60 months (inside a 5-year package this is survival while "
                   "subsidised)",
    "post_expiry_survival_2y": "Kaplan-Meier survival 24 months after the package expired, "
                               "for packaged spells in poverty counties still there at expiry "
                               "(a retention offer accepted at expiry still pays in these "
                               "months)",
    "post_support_survival_1y": "Kaplan-Meier survival 12 months after support ended: packaged "
                                "spells in poverty counties still there when the package and "
                                "any retention offer accepted at its expiry ended, timed from "
                                "that month "
                                "(sim.survival.post_support_spells); moving away censors",
    "post_support_survival_2y": "the same at 24 months",
    "local_jobs_poverty_end": "persons in local jobs living in poverty counties, last month",
    "poverty_pop_local_jobs_end": "poverty-alleviated persons in local jobs, last month",
    "poverty_local_job_years": "poverty-alleviated person-years in local jobs over the run: "
                               "monthly poverty-alleviated persons in local jobs (all counties) "
                               "summed over months / 12",
    "poverty_local_job_years_discounted": "the same, each month discounted to the run's start "
                                          "at DISCOUNT_RATE (3 % a year)",
    "local_job_years_poverty_counties": "person-years of local jobs held by residents of "
                                        "poverty counties over the run",
    "outbound_share_end": "share of inland (non-origin) workers working or seeking in the east",
    "outbound_share_of_migrant_workers_end": "outbound / (outbound + local jobs) of inland "
                                             "workers, the NBS definition (59.6 % in 2024)",
    "mean_wage_local_end": "mean monthly wage of local jobs in inland counties (yuan)",
    "mean_wage_outbound_end": "mean monthly wage of outbound jobs (yuan)",
    "fiscal_cost_total": "public money spent over the run: packages and fund subsidies paid, "
                         "training, infrastructure, credit compensation (yuan); "
                         "= spending_packages + _training + _infrastructure + _credit",
    "spending_packages": "package, retention and special-fund freight subsidies paid to firms "
                         "(yuan; the engine records them together)",
    "spending_training": "training bought (county budgets, the national programme and the fund)",
    "spending_infrastructure": "infrastructure spending (county budgets and the fund)",
    "spending_credit": "special-fund credit risk compensation (fund_credit x fund allocated)",
    "spending_poverty": "fiscal_cost_total spent in poverty counties (yuan)",
    "spending_central": "fiscal_cost_total spent in non-poor inland (central) counties (yuan)",
    "spending_origin": "fiscal_cost_total spent in eastern origin counties (yuan)",
    "special_fund_allocated": "national special fund allocated to counties over the run (the "
                              "one payer the engine records separately; its uses are inside "
                              "the spending_* above)",
    "budget_granted": "county governments' budgets granted over the run, all sources (yuan; "
                      "government.parquet summed over county-years)",
    "budget_from_transfer": "of it, the central transfer (yuan)",
    "budget_from_tax": "of it, the counties' own tax on firm revenue (yuan)",
    "budget_from_aid": "of it, east-west pairing aid (yuan)",
    "budget_from_fund": "of it, the national special fund (yuan)",
    "budget_from_training_programme": "of it, the national training programme (yuan)",
    "budget_spent": "county governments' spending over the run, all uses (yuan)",
    "budget_returned": "unspent money returned to the centre over the run (yuan; never counted "
                       "as a saving of a policy)",
    "budget_carried_end": "unspent money carried into the year after the run (yuan)",
    "cost_per_local_job_year": "spending_poverty / local_job_years_poverty_counties (yuan): "
                               "money and jobs of the same place (before issue 9 the "
                               "numerator also held central counties' spending)",
    "output_poverty_total": "output value of firms in poverty counties over the run (yuan)",
    # Cuts by zone and by development type (MODEL.md §12); a county may be in several zones.
    **{f"poverty_local_job_years_{zone}": f"poverty_local_job_years of residents of {zone} "
       "counties (sim.codes.Zone)" for zone in ZONES},
    **{f"local_jobs_poverty_{kind}_end": f"persons in local jobs in {kind} firms in poverty "
       "counties, last month (sim.codes.DevelopmentType)" for kind in DEVELOPMENT_TYPES
       if kind != "domestic_service"},
    "outbound_domestic_service_end": "persons from inland counties in outbound domestic-service "
                                     "jobs, last month (labour export)",
}
_NOT_IDENTIFIED = ("every spell still running when the run ended was shorter than {t} months "
                   "(the run is too short to tell), or there was no spell")
# Why a summary field can be undefined; ``summary.json`` writes it as null and names the
# reason under "undefined".
UNDEFINED_WHY = {
    "survival_3y": _NOT_IDENTIFIED.format(t=36),
    "survival_5y": _NOT_IDENTIFIED.format(t=60),
    "post_expiry_survival_2y": "among packaged spells still there at expiry: "
                               + _NOT_IDENTIFIED.format(t=24),
    "post_support_survival_1y": "among spells still there when support ended: "
                                + _NOT_IDENTIFIED.format(t=12),
    "post_support_survival_2y": "among spells still there when support ended: "
                                + _NOT_IDENTIFIED.format(t=24),
    "outbound_share_end": "no inland workers",
    "outbound_share_of_migrant_workers_end": "no inland worker in a local or outbound job",
    "mean_wage_local_end": "no local job in inland counties in the last month",
    "mean_wage_outbound_end": "nobody worked outbound in the last month",
    "cost_per_local_job_year": "no local job-year in poverty counties",
}
# Shares: their intervals over seeds stay in [0, 1]. Every other summary field is >= 0.
SHARE_FIELDS = ("survival_3y", "survival_5y", "post_expiry_survival_2y",
                "post_support_survival_1y", "post_support_survival_2y", "outbound_share_end",
                "outbound_share_of_migrant_workers_end")


def run_id_for(config_yaml: str) -> str:
    """A stable id: the first 12 hex digits of the SHA-1 of the resolved config."""
    return hashlib.sha1(config_yaml.encode()).hexdigest()[:12]


def run_meta(cfg, run_id: str) -> dict:
    """The identity columns every table of a run carries (and ``summary.json`` starts with)."""
    return {"run_id": run_id, "seed": cfg.run.seed, "world": cfg.world.name,
            "policy": cfg.policy.name, "shock": cfg.shock.name}


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
    # The eastern labour market is one market for the whole world: the same value on every
    # county group's row of a step (agents converted to persons).
    for j, name in enumerate(EAST_COLUMNS):
        column = sim.record.east[:n_steps, j]
        if name in ("east_demand", "east_vacancies"):
            column = column * ppa
        frame[name] = np.repeat(column, present.size)
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


def job_years(ts: pd.DataFrame, column: str, discount_rate: float = 0.0) -> float:
    """Person-years of ``column`` (persons per month, summed over the rows of a step) over
    the run, each month discounted to the run's start at ``discount_rate`` a year."""
    monthly = ts.groupby("step")[column].sum()
    factor = (1.0 + discount_rate) ** (-monthly.index.to_numpy(dtype=float) / MONTHS_PER_YEAR)
    return float((monthly.to_numpy(dtype=float) * factor).sum() / MONTHS_PER_YEAR)


SPENDING_USES = ("packages", "training", "infrastructure", "credit")


def spending_by_use(ts: pd.DataFrame, fund_credit: float) -> pd.DataFrame:
    """Public spending of each timeseries row by use (yuan), and its total."""
    uses = pd.DataFrame({
        "packages": ts.subsidies_paid,
        "training": ts.training_spent,
        "infrastructure": ts.infrastructure_spent,
        "credit": fund_credit * ts.fund_allocated,
    })
    return uses.assign(total=uses.sum(axis=1))


def budget_summary(sim: Simulation) -> dict:
    """County governments' money over the run (MODEL.md §11.1): granted by source, spent,
    returned, and carried past the end (yuan), summed straight from the government table's
    rows (the active counties of each year, as in ``government_frame``)."""
    rows = sim.government_table()
    ppa = sim.world.persons_per_agent

    def total(key: str, selected=rows) -> float:
        return ppa * float(sum(np.asarray(r[key])[r["active"]].sum() for r in selected))

    return {"budget_granted": total("granted"),
            **{f"budget_from_{k}": total(f"budget_{k}") for k in BUDGET_SOURCES},
            "budget_spent": total("spent_total"),
            "budget_returned": total("returned"),
            "budget_carried_end": total("carried", rows[-1:])}


def spending_summary(ts: pd.DataFrame, fund_credit: float) -> dict:
    """Spending over the run by use, by place (county kind) and the special fund's share."""
    uses = spending_by_use(ts, fund_credit)
    out = {f"spending_{use}": float(uses[use].sum()) for use in SPENDING_USES}
    by_kind = uses.total.groupby(ts.kind).sum()
    for kind in ("poverty", "central", "origin"):
        out[f"spending_{kind}"] = float(by_kind.get(kind, 0.0))
    out["special_fund_allocated"] = float(ts.fund_allocated.sum())
    out["fiscal_cost_total"] = float(uses.total.sum())
    return out


def _mean_outbound_wage(sim: Simulation) -> float:
    w = sim.workers
    out_mask = w.status == OUTBOUND
    if not out_mask.any():
        return float("nan")
    # The eastern market wage of the last month (sim.engine.labour._east_market).
    wage_east = sim.record.east[max(sim.step_index - 1, 0), EAST_COLUMNS.index("east_wage")]
    premium = sim.ind.outbound_wage_premium[w.outbound_industry[out_mask]]
    wage_out = outbound_wage(sim.params, wage_east * (1.0 + premium), w.skill[out_mask],
                             w.experience_months[out_mask])
    return float(wage_out.mean())


def survival_summary(sim: Simulation, events: pd.DataFrame) -> dict:
    spells = poverty_spells(events, sim.counties.kind, sim.step_index)
    expiry = post_expiry_spells(spells)
    offers = sim.expiries_array()
    offers = offers[offers[:, 3] == 1][:, :2]
    extension = np.where(retained_spells(spells, offers), int(sim.params.retention_months), 0)
    support = post_support_spells(spells, extension)
    return {
        "survival_3y": survival_at(spells.duration_months, spells.exited, 36,
                                   spells.running),
        "survival_5y": survival_at(spells.duration_months, spells.exited, 60,
                                   spells.running),
        "post_expiry_survival_2y": survival_at(expiry.duration_months, expiry.exited, 24,
                                              expiry.running),
        "post_support_survival_1y": survival_at(support.duration_months, support.exited, 12,
                                               support.running),
        "post_support_survival_2y": survival_at(support.duration_months, support.exited, 24,
                                               support.running),
    }


def summary(sim: Simulation, ts: pd.DataFrame, events: pd.DataFrame,
            discount_rate: float = DISCOUNT_RATE) -> dict:
    """Scalar indicators of a run (definitions in ``SUMMARY_DOC``); NaN where undefined
    (``write_run`` writes it as null)."""
    last = ts[ts.step == ts.step.max()]
    inland = last[last.kind != "origin"]
    pov_ts = ts[ts.kind == "poverty"]
    spending = spending_summary(ts, sim.cfg.policy.fund_credit)
    county_job_years = job_years(pov_ts, "workers_local")
    inland_local = inland.workers_local.sum()
    return {
        "firms_alive_end": int(last.firms_alive.sum()),
        "firms_entered": int((events.event == "enter").sum()),
        "firms_exited": int((events.event == "exit").sum()),
        "firms_relocated": int((events.event == "relocate").sum()),
        **survival_summary(sim, events),
        "local_jobs_poverty_end": float(last[last.kind == "poverty"].workers_local.sum()),
        "poverty_pop_local_jobs_end": float(last.poverty_pop_local_jobs.sum()),
        "poverty_local_job_years": job_years(ts, "poverty_pop_local_jobs"),
        "poverty_local_job_years_discounted": job_years(ts, "poverty_pop_local_jobs",
                                                        discount_rate),
        "local_job_years_poverty_counties": county_job_years,
        "outbound_share_end": float(inland.workers_outbound.sum() / inland.workers_total.sum()),
        "outbound_share_of_migrant_workers_end": float(
            inland.workers_outbound.sum()
            / (inland.workers_outbound.sum() + inland.workers_local.sum())),
        "mean_wage_local_end": float((inland.mean_wage_local * inland.workers_local).sum()
                                     / inland_local) if inland_local > 0 else float("nan"),
        "mean_wage_outbound_end": _mean_outbound_wage(sim),
        **spending,
        **budget_summary(sim),
        "cost_per_local_job_year": (spending["spending_poverty"] / county_job_years
                                    if county_job_years > 0 else float("nan")),
        "output_poverty_total": float(pov_ts.output_value.sum()),
        **_development_summary(sim),
        "persons_per_agent": sim.world.persons_per_agent,
    }


def _development_summary(sim: Simulation) -> dict:
    """Poverty local job-years by zone and local jobs by development type (MODEL.md §12)."""
    ppa = sim.world.persons_per_agent
    column = METRICS.index("poverty_pop_local_jobs")
    # Months of poverty-alleviated local jobs per county (agents), summed over the run.
    by_county = sim.record.metrics[: sim.step_index, :, column].sum(axis=0) * ppa / MONTHS_PER_YEAR
    out = {f"poverty_local_job_years_{zone.label}":
           float(by_county[getattr(sim.counties, zone.label)].sum()) for zone in Zone}
    pov = sim.counties.kind == POVERTY
    employment = sim.state.industry_employment[pov].sum(axis=0) * ppa
    for code, label in enumerate(DEVELOPMENT_TYPES):
        if label != "domestic_service":
            out[f"local_jobs_poverty_{label}_end"] = float(
                employment[sim.ind.development_type == code].sum())
    w = sim.workers
    service = sim.ind.development_type[w.outbound_industry] == DOMESTIC_SERVICE
    out["outbound_domestic_service_end"] = float(
        ((w.status == OUTBOUND) & service & (sim.counties.kind[w.home_county] != ORIGIN)).sum()
        * ppa)
    return out


def strict_json_value(x):
    """``x`` with every non-finite float (NaN, inf) replaced by None and numpy scalars by
    Python ones, recursively, so that ``json.dumps(..., allow_nan=False)`` accepts it."""
    if isinstance(x, dict):
        return {k: strict_json_value(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [strict_json_value(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not np.isfinite(x):
        return None
    return x


def strict_json(record: dict) -> str:
    """Strict JSON (RFC 8259: no NaN literal); undefined values are null."""
    return json.dumps(strict_json_value(record), indent=2, allow_nan=False)


# Shocks of ``sim.config.ShockConfig``: each is on when its ``<name>_years`` is > 0.
SHOCK_KINDS = ("export", "sanction", "pandemic", "downturn", "border_closure")


def shock_windows(shock) -> list[tuple[float, float]]:
    """(first year, end year) of each shock that is on; ``shock`` is a ``ShockConfig``, a
    ``Config`` or the ``shock`` mapping of a run's ``config.yaml``."""
    shock = getattr(shock, "shock", shock)
    get = shock.get if isinstance(shock, dict) else lambda k, d=None: getattr(shock, k, d)
    return [(float(get(f"{k}_start")), float(get(f"{k}_start")) + float(get(f"{k}_years")))
            for k in SHOCK_KINDS if float(get(f"{k}_years", 0) or 0) > 0]


def undefined_reasons(record: dict) -> dict:
    """Why each undefined (non-finite) field of a summary record is undefined."""
    return {key: UNDEFINED_WHY.get(key, "not defined for this run")
            for key, value in record.items()
            if isinstance(value, float | np.floating) and not np.isfinite(value)}


def write_run(sim: Simulation, out_dir: Path, config_yaml: str, figures: bool = True,
              report: bool = False) -> dict:
    """Write every output of a finished run into ``out_dir``; return the summary.

    ``report``: also write ``report.html`` (``sim.report``). The completion manifest
    (``complete.json``: every file written, with its size and SHA-256; ``sim.integrity``) is
    written last, so its presence and a match mark a complete run; an older manifest is
    removed first.
    """
    out_dir = Path(out_dir)
    remove_completion(out_dir)
    run_id = run_id_for(config_yaml)
    meta = run_meta(sim.cfg, run_id)
    atomic_write_bytes(out_dir / "config.yaml", config_yaml.encode())
    ts = timeseries_frame(sim, meta)
    ev = events_frame(sim, meta)
    government = government_frame(sim, meta)
    tables = {"timeseries.parquet": ts, "firm_events.parquet": ev.drop(columns="event_code"),
              "firms_end.parquet": firms_end_frame(sim, meta),
              "industry.parquet": industry_frame(sim, meta),
              "government.parquet": government}
    for name, table in tables.items():
        atomic_write_parquet(table, out_dir / name)
    written = ["config.yaml", *tables]
    summ = summary(sim, ts, ev)
    if figures:
        written += [path.name for path in run_figures(ts, ev, sim, out_dir)]
    record = {**meta, **summ, "steps": sim.step_index}
    if report:
        from sim.report import run_report  # deferred: Jinja2 and lifelines

        written.append(run_report(sim, ts, ev, government, record, out_dir).name)
    # null in strict JSON, with the reason beside it
    atomic_write_bytes(out_dir / "summary.json",
                       strict_json({**record, "undefined": undefined_reasons(record)}).encode())
    write_completion(out_dir, [*written, "summary.json"], run_id)
    return record
