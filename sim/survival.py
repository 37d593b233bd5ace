"""Survival of firms in poverty counties: spells from the event log and Kaplan-Meier.

The project's one Kaplan-Meier estimator (the run summary, the run and sweep figures and the
Mesa model all use it); ``tests/test_results.py`` checks it and its confidence band against
lifelines. Durations are in months (steps) unless the caller passes another unit.
"""

from __future__ import annotations

from statistics import NormalDist
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import stats

from sim.codes import EV_ENTER, EV_EXIT, EV_RELOCATE, POVERTY


class KaplanMeierBand(NamedTuple):
    """Kaplan-Meier estimate with a pointwise confidence band, at the event times."""

    times: np.ndarray  # distinct times with at least one observed exit, ascending
    survival: np.ndarray  # S(t) just after each of them
    lower: np.ndarray  # lower bound of the band
    upper: np.ndarray  # upper bound of the band


def _event_table(durations, observed):
    """Event times, exits and numbers at risk at each of them."""
    durations = np.asarray(durations, dtype=float)
    observed = np.asarray(observed, dtype=bool)
    times, deaths = np.unique(durations[observed], return_counts=True)
    at_risk = durations.size - np.searchsorted(np.sort(durations), times, side="left")
    return times, deaths, at_risk


def kaplan_meier(durations, observed) -> tuple[np.ndarray, np.ndarray]:
    """Product-limit estimate: event times and survival just after each of them.

    Args:
        durations: time to the exit or to censoring of each spell.
        observed: True where the spell ended in an exit, False where it was censored.
    """
    times, deaths, at_risk = _event_table(durations, observed)
    return times, np.cumprod(1.0 - deaths / at_risk)


def kaplan_meier_band(durations, observed, level: float = 0.95) -> KaplanMeierBand:
    """Kaplan-Meier estimate with the exponential Greenwood (log-log) confidence band.

    Greenwood's variance of log S, V(t) = sum over event times t_i <= t of
    d_i / (n_i (n_i - d_i)), is carried to the scale log(-log S), where the normal
    approximation holds better, and back: with c = z sqrt(V) / log S(t) the band is
    [S ** exp(-c), S ** exp(c)], which stays inside [0, 1] (Kalbfleisch & Prentice 2002,
    §1.4; the default band of lifelines' ``KaplanMeierFitter``). Where S reaches 0 the band
    is [0, 0].
    """
    times, deaths, at_risk = _event_table(durations, observed)
    surv = np.cumprod(1.0 - deaths / at_risk)
    z = NormalDist().inv_cdf(0.5 + level / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        # an event time where every firm at risk exits adds 0 (S is 0 from there on)
        terms = np.where(at_risk > deaths, deaths / (at_risk * (at_risk - deaths.astype(float))),
                         0.0)
        log_s = np.log(surv)
        spread = z * np.sqrt(np.cumsum(terms)) / log_s  # <= 0 where 0 < S < 1
        lower = np.where(surv > 0, surv ** np.exp(-spread), 0.0)
        upper = np.where(surv > 0, surv ** np.exp(spread), 0.0)
    return KaplanMeierBand(times, surv, lower, upper)


def survival_at(durations, observed, t: float, running=None) -> float:
    """Kaplan-Meier S(t): the share of spells that last ``t`` (exits end a spell; other ends
    censor it).

    Beyond the longest spell the product-limit estimate is not identified when the longest
    spell was censored; the rule there:

    - 0 once the estimate has reached 0 (every spell still at risk ended in an exit) at or
      before ``t``;
    - 0 when no spell lasts to ``t`` and, by ``running``, none of them was still running
      when the run ended: every spell ended (by exit or by moving away) before ``t`` inside
      the observed time, so none lasted ``t`` in its county. (Without this rule a run in
      which the last firm to leave moved away gave NaN, and the sweep averaged only the
      seeds where the estimate was defined, which biased survival upward.)
    - NaN when there is no spell, or when no spell lasts to ``t``, the estimate is above 0
      and some spell shorter than ``t`` was cut by the end of the run (the follow-up is too
      short to tell), or ``running`` is not given.

    Args:
        durations: time to the end of each spell (exit, censoring, or the end of the run).
        observed: True where the spell ended in an exit.
        t: the time at which to read the curve.
        running: True where the spell was still running when the run ended (optional).
    """
    durations = np.asarray(durations, dtype=float)
    if durations.size == 0:
        return float("nan")
    times, surv = kaplan_meier(durations, observed)
    k = np.searchsorted(times, t, side="right") - 1
    value = 1.0 if k < 0 else float(surv[k])
    if value > 0.0 and np.count_nonzero(durations >= t) == 0:
        ended_inside_run = running is not None and not np.any(np.asarray(running, dtype=bool))
        return 0.0 if ended_inside_run else float("nan")
    return value


def poverty_spells(events: pd.DataFrame, county_kind: np.ndarray, end_step: int) -> pd.DataFrame:
    """Spells of firms in poverty counties that began during the run.

    A spell starts when a firm enters or relocates into a poverty county and ends when it
    exits there (observed) or moves away or the run ends (censored); ``running`` marks the
    spells the end of the run cut.
    """
    ev = events.sort_values(["firm_id", "step", "event_code"], kind="stable")
    rows = []
    open_spell: dict[int, tuple] = {}
    for fid, step, code, county, pkg in zip(ev.firm_id.to_numpy(), ev.step.to_numpy(),
                                            ev.event_code.to_numpy(), ev.county.to_numpy(),
                                            ev.package_months.to_numpy(), strict=True):
        if fid in open_spell and code in (EV_EXIT, EV_RELOCATE):
            start, pk = open_spell.pop(fid)
            rows.append((fid, start, step - start, code == EV_EXIT, pk, False))
        if code in (EV_ENTER, EV_RELOCATE) and county_kind[county] == POVERTY:
            open_spell[fid] = (step, pkg)
    for fid, (start, pk) in open_spell.items():
        rows.append((fid, start, end_step - start, False, pk, True))
    return pd.DataFrame(rows, columns=["firm_id", "start_step", "duration_months", "exited",
                                       "package_months", "running"])


def post_expiry_spells(spells: pd.DataFrame) -> pd.DataFrame:
    """Packaged spells still running at expiry, timed from the expiry month."""
    s = spells[(spells.package_months > 0) & (spells.duration_months >= spells.package_months)]
    return s.assign(duration_months=s.duration_months - s.package_months)


def retained_spells(spells: pd.DataFrame, offers: np.ndarray) -> np.ndarray:
    """Which spells received a retention offer: an offer (firm, step) inside the spell.

    Args:
        offers: (step, firm id) of every retention offer made.
    """
    retained = np.zeros(len(spells), dtype=bool)
    if len(offers) == 0 or len(spells) == 0:
        return retained
    by_firm: dict[int, list[int]] = {}
    for step, firm in offers:
        by_firm.setdefault(int(firm), []).append(int(step))
    for k, (firm, start, duration) in enumerate(zip(spells.firm_id, spells.start_step,
                                                    spells.duration_months, strict=True)):
        retained[k] = any(start <= step < start + duration for step in by_firm.get(firm, ()))
    return retained


def post_support_spells(spells: pd.DataFrame, extension_months) -> pd.DataFrame:
    """Packaged spells still in the county when their support ended, timed from that month.

    Support of a packaged spell ends ``package_months + extension_months`` after it began: the
    package starts on arrival (``sim.engine.firms._start_packages``) and a retention offer
    accepted at its expiry extends it (``extension_months``: a number, or one per spell). The
    end is the scheduled one: a payment skipped for lack of budget or credibility does not move
    it, and the special fund's freight subsidy (paid to every firm of a funded county) is not
    firm support. Spells without a package are left out; so are spells that ended before
    support did.
    """
    support = spells.package_months + np.where(spells.package_months > 0, extension_months, 0)
    s = spells.assign(support_months=support)
    s = s[(s.package_months > 0) & (s.duration_months >= s.support_months)]
    return s.assign(duration_months=s.duration_months - s.support_months)


def hazard_by_firm_age(age_start, duration, exited,
                       min_exposure: float = 50.0) -> pd.DataFrame:
    """Exit hazard by year of firm age from spells that may begin at any age.

    Each spell is at risk from ``age_start`` to ``age_start + duration`` (months); the rate in
    age year k is exits at an age in [12k, 12k + 12) over the firm-years at risk there, shown
    as the annual probability 1 - exp(-rate) with an exact Poisson 95 % interval.

    Args:
        age_start: firm age when the spell began (months).
        duration: spell length (months).
        exited: whether the spell ended in an exit (else censored).
        min_exposure: omit age years with fewer firm-years at risk.

    Returns:
        columns ``age_year`` (1 = first year of life), ``exposure`` (firm-years), ``exits``,
        ``hazard``, ``lo``, ``hi``.
    """
    a0 = np.asarray(age_start, dtype=float)
    a1 = a0 + np.asarray(duration, dtype=float)
    exited = np.asarray(exited, dtype=bool)
    cols = ["age_year", "exposure", "exits", "hazard", "lo", "hi"]
    keep = np.isfinite(a0)
    a0, a1, exited = a0[keep], a1[keep], exited[keep]
    if a0.size == 0:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in cols})
    rows = []
    for k in range(int(a1.max() // 12) + 1):
        lo, hi = 12.0 * k, 12.0 * (k + 1)
        exposure = np.clip(np.minimum(a1, hi) - np.maximum(a0, lo), 0, None).sum() / 12.0
        exits = int(np.count_nonzero(exited & (a1 >= lo) & (a1 < hi)))
        if exposure < min_exposure:
            continue
        r_lo = stats.chi2.ppf(0.025, 2 * exits) / 2 / exposure if exits else 0.0
        r_hi = stats.chi2.ppf(0.975, 2 * exits + 2) / 2 / exposure
        rows.append((k + 1, exposure, exits, 1 - np.exp(-exits / exposure),
                     1 - np.exp(-r_lo), 1 - np.exp(-r_hi)))
    return pd.DataFrame(rows, columns=cols).astype(float)
