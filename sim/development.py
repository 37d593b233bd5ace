"""The paper's development strategy (MODEL.md §12) as rules on the world's tables.

- :func:`market_access`: how a county's place and zones change the orders of each
  industry (§12.1-12.2): services are consumed on site, so wellness demand follows city
  visitors (ecology, nearness, red tourism); ethnic handicrafts sell on the brand of their
  place; border counties also export to neighbours; labour export has no local firm.
- :func:`county_classes`: the kind of county a selection is made for (zone x core).
- :func:`rule_of_thumb` and :func:`simulated_selection`: which industries a county's packages
  go to under ``policy.selection`` (``rule``, ``simulated``; ``none`` targets all), applied
  by ``Simulation._select_industries``.

Numpy only (engine layer); ``experiments.select`` writes the ranking this module reads.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from sim.codes import KINDS, ORIGIN, Market, Zone
from sim.config import Config
from sim.industries import Industries
from sim.state import Table

# A county's class names its first zone in this order (the most specific first).
ZONE_PRIORITY = (Zone.BORDER, Zone.ETHNIC, Zone.REVOLUTIONARY_BASE, Zone.TRANSFER_RECEIVING,
                 Zone.SERVICE_HUB)
SELECTION_COLUMNS = ("county_class", "industry", "rank")


def zone_flags(counties: Table) -> np.ndarray:
    """(county, zone) booleans in ``sim.codes.Zone`` order."""
    return np.column_stack([getattr(counties, zone.label) for zone in Zone])


def primary_zone(counties: Table) -> list[str]:
    """Each county's first zone in :data:`ZONE_PRIORITY` order, or ``none``."""
    labels = []
    for c in range(counties.n):
        label = "none"
        for zone in ZONE_PRIORITY:
            if getattr(counties, zone.label)[c]:
                label = zone.label
                break
        labels.append(label)
    return labels


def county_classes(counties: Table) -> list[str]:
    """The kind of county a selection is made for: ``kind:zone:core|other``, where core
    means a key-assistance county or a resettlement site (the paper's 创核 targets)."""
    zones = primary_zone(counties)
    core = counties.key_assistance | counties.resettlement_site
    return [f"{KINDS[counties.kind[c]]}:{zones[c]}:{'core' if core[c] else 'other'}"
            for c in range(counties.n)]


def market_access(cfg: Config, counties: Table, industries: Industries) -> np.ndarray:
    """(county, industry) multiplier on orders relative to a shipped good's (MODEL.md §12).

    Visitor demand is relative to the average inland county (ecology and distance to the
    nearest city), so a typical county sees 1 and the best-placed several times that.
    """
    m = cfg.model
    n, n_ind = counties.n, industries.market.size
    access = np.ones((n, n_ind))
    inland = counties.kind != ORIGIN
    eco_mean = counties.ecological_assets[inland].mean() if inland.any() else 1.0
    dist_mean = counties.distance_city_km[inland].mean() if inland.any() else 0.0
    visitors = (counties.ecological_assets / max(eco_mean, 1e-9)
                * np.exp(-(counties.distance_city_km - dist_mean) / m.visitor_reach_km)
                * (1.0 + m.red_tourism_bonus * counties.revolutionary_base))
    ethnic = np.where(counties.ethnic, 1.0, m.non_ethnic_craft_access)
    border = 1.0 + m.border_export_access * counties.border[:, None] * industries.export_exposure
    for i, market in enumerate(industries.market):
        if market == Market.SHIPPED:
            access[:, i] = border[:, i]
        elif market == Market.VISITORS:
            access[:, i] = visitors
        elif market == Market.ETHNIC:
            access[:, i] = ethnic
        elif market == Market.OUTBOUND:
            access[:, i] = 0.0
    return access


def rule_of_thumb(cfg: Config, counties: Table, industries: Industries,
                  profit_per_capacity: np.ndarray, chain_present: np.ndarray) -> np.ndarray:
    """The paper's rule (§12.3) as (county, industry) 0/1: near a large consumer market
    (within ``model.hub_reach_km`` of a city) make consumer goods; elsewhere choose on cost
    (expected profit per unit of capacity), counting industries whose chain partners are
    already present twice. A county targets its best ``policy.selection_top``."""
    near = counties.distance_city_km <= cfg.model.hub_reach_km
    eligible = industries.firm_based[None, :] * np.where(
        near[:, None], industries.consumer_good[None, :], 1.0)
    score = profit_per_capacity * np.where(profit_per_capacity > 0, 1.0 + chain_present, 1.0)
    return _top(np.where(eligible > 0, score, -np.inf), cfg.policy.selection_top)


def simulated_selection(cfg: Config, counties: Table, industry_names: list[str]) -> np.ndarray:
    """(county, industry) 0/1 from ``policy.selection_table``: each county targets the best
    ``policy.selection_top`` industries of its class; a class missing from the table (or an
    industry absent from this world) leaves the county untargeted."""
    ranks = read_selection(Path(cfg.policy.selection_table))
    classes = county_classes(counties)
    targeted = np.ones((counties.n, len(industry_names)))
    for c, name in enumerate(classes):
        ranked = [i for i in ranks.get(name, []) if i in industry_names]
        if ranked:
            targeted[c] = 0.0
            for industry in ranked[: cfg.policy.selection_top]:
                targeted[c, industry_names.index(industry)] = 1.0
    return targeted


def read_selection(path: Path) -> dict[str, list[str]]:
    """``{county_class: [industry, ...] best first}`` from a selection.csv."""
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        missing = set(SELECTION_COLUMNS) - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path}: selection table lacks columns {sorted(missing)}")
        rows = sorted(reader, key=lambda r: (r["county_class"], float(r["rank"])))
    ranks: dict[str, list[str]] = {}
    for row in rows:
        ranks.setdefault(row["county_class"], []).append(row["industry"])
    return ranks


def _top(score: np.ndarray, k: int) -> np.ndarray:
    """1 for each row's ``k`` best finite scores (ties by lower index), else 0."""
    out = np.zeros(score.shape)
    order = np.argsort(-score, axis=1, kind="stable")[:, :k]
    rows = np.arange(score.shape[0])[:, None]
    out[rows, order] = np.isfinite(score[rows, order])
    return out
