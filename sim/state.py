"""Agent state as a structure of arrays, declared once in a registry of fields.

Each table (counties, county state, firms, workers) has a tuple of :class:`FieldSpec` giving
name, dtype, unit, meaning and shape. :class:`Table` holds one array per field; firms live in
a table with spare rows that grows by doubling, so firm ids (row indices) are stable for the
whole run. :meth:`Table.view` hands the arrays to the numba kernels as one namedtuple whose
type is generated from the registry, and the Mesa agents' attributes (``sim.agents``) are
generated from the same registry, docs included, and checkpoints (``sim.checkpoint``) save
and restore every field of every table from it.

Codes (statuses, kinds, ...) are defined in ``sim.codes``.
"""

from __future__ import annotations

import math
from collections import namedtuple
from dataclasses import dataclass

import numpy as np

from sim.codes import N_STATUSES

# Second dimensions a field may have besides the row: one column per industry or per status.
PER_INDUSTRY, PER_STATUS = "industry", "status"


@dataclass(frozen=True)
class FieldSpec:
    """One state field: name, numpy dtype, unit, meaning, fill value and second dimension."""

    name: str
    dtype: str
    unit: str
    doc: str
    fill: float = 0
    per: str | None = None


COUNTY_FIELDS = (
    FieldSpec("region", "int8", "code", "sim.codes.Region: 0 east, 1 central, 2 west"),
    FieldSpec("kind", "int8", "code",
              "sim.codes.Kind: 0 origin, 1 central (non-poor inland), 2 poverty"),
    FieldSpec("key_assistance", "bool", "flag", "national key assistance county"),
    FieldSpec("resettlement_site", "bool", "flag", "hosts a large resettlement site"),
    # The paper's five kinds of zones (sim.codes.Zone, MODEL.md §12.2): one flag each.
    FieldSpec("service_hub", "bool", "flag", "central-city service hub (成渝, 西咸)"),
    FieldSpec("transfer_receiving", "bool", "flag", "populous transfer-receiving county"),
    FieldSpec("revolutionary_base", "bool", "flag", "old revolutionary base area"),
    FieldSpec("ethnic", "bool", "flag", "ethnic-minority area"),
    FieldSpec("border", "bool", "flag", "border county"),
    FieldSpec("distance_city_km", "float64", "km", "distance to the nearest large city"),
    FieldSpec("hub_access", "float64", "share",
              "nearness to a service hub, exp(-distance_city_km / hub_reach_km); hubs' "
              "logistics and business services lower freight costs in proportion"),
    FieldSpec("ecological_assets", "float64", "[0,1]",
              "climate, landscape and ecology that draw visitors (wellness tourism)"),
    FieldSpec("case_county", "bool", "flag", "a county of the paper's case (case worlds)"),
    FieldSpec("wage_2024", "float64", "yuan/month", "base wage at the 2024 calibration year"),
    FieldSpec("min_wage_2024", "float64", "yuan/month", "minimum wage in 2024"),
    FieldSpec("rent_2024", "float64", "yuan/worker-month", "industrial land rent per workplace"),
    FieldSpec("initial_infrastructure", "float64", "q in [0,1]",
              "infrastructure quality at the start (the current q is county state)"),
    FieldSpec("distance_km", "float64", "km", "distance to the eastern hub"),
    FieldSpec("population", "float64", "persons", "working-age population (replica scale)"),
    FieldSpec("home_income_2024", "float64", "yuan/month", "home (farm) income per worker"),
    FieldSpec("fiscal_capacity", "float64", "yuan/year", "central transfer (replica scale)"),
    FieldSpec("partner", "int32", "county index", "east-west pairing partner, -1 none", -1),
    FieldSpec("worker_start", "int64", "worker index", "first worker living here"),
    FieldSpec("worker_stop", "int64", "worker index", "one past the last worker living here"),
)

# What changes in a county during a run: its government's money and offers, its labour
# market and the expectations firms form about it. Money is in kernel units (yuan per agent).
COUNTY_STATE_FIELDS = (
    FieldSpec("infrastructure", "float64", "q in [0,1]", "infrastructure quality in service"),
    FieldSpec("active", "bool", "flag", "its government offers packages at all (not origin)"),
    FieldSpec("offers", "bool", "flag", "offers attraction packages this month"),
    FieldSpec("package_budget", "float64", "yuan/agent-person",
              "money left this year for entry packages (commitments included)"),
    FieldSpec("retention_budget", "float64", "yuan/agent-person",
              "money left this year for retention offers (extensions of expiring packages)"),
    FieldSpec("generosity", "float64", "share of national terms",
              "terms of this year's packages and retention offers, chosen by the government",
              1.0),
    FieldSpec("fund_freight", "float64", "yuan/agent-person",
              "special-fund money left for freight/power subsidies this year"),
    FieldSpec("credit_line", "float64", "yuan/agent-person per capacity worker",
              "credit a firm may draw before it counts as below its buffer (credit risk "
              "compensation)"),
    FieldSpec("training_prob", "float64", "probability", "chance a trainee is trained this year"),
    FieldSpec("training_courses", "int64", "worker agents",
              "courses the year's training budget pays for (no more are given)"),
    FieldSpec("revenue_year", "float64", "yuan/agent-person",
              "firm revenue this year so far (next year's tax base)"),
    FieldSpec("local_finding", "float64", "1/month", "expected local job-finding rate"),
    FieldSpec("local_employment", "float64", "probability",
              "chance a member of the local labour force holds a local job (sim.rules."
              "employment_chance)"),
    FieldSpec("pool_skill", "float64", "skill", "mean skill of the local labour pool"),
    FieldSpec("labor_available", "float64", "agents", "workers a newcomer firm could hire"),
    FieldSpec("seekers", "int64", "agents", "residents seeking a local job this month"),
    FieldSpec("hires", "int64", "agents", "local hires this month"),
    FieldSpec("status_counts", "int64", "agents", "residents by status this month",
              per=PER_STATUS),
    FieldSpec("skill_sum", "float64", "skill", "summed skill of the local labour pool"),
    FieldSpec("wage_sum_local", "float64", "yuan/agent-person-month",
              "wages of residents in local jobs"),
    FieldSpec("poverty_local", "int64", "agents", "poverty-alleviated residents in local jobs"),
    FieldSpec("industry_employment", "float64", "agents", "employment by industry",
              per=PER_INDUSTRY),
    FieldSpec("chain_present", "float64", "flag", "an upstream/downstream partner industry "
              "employs here", per=PER_INDUSTRY),
    FieldSpec("local_resource", "float64", "flag", "the industry's raw material is local",
              per=PER_INDUSTRY),
    FieldSpec("market_access", "float64", "multiplier",
              "orders of the industry here relative to a shipped good's (visitors, ethnic "
              "brand, border trade; sim.development.market_access)", 1.0, per=PER_INDUSTRY),
    FieldSpec("targeted", "float64", "flag",
              "the county's government offers packages to the industry (policy.selection)",
              1.0, per=PER_INDUSTRY),
    FieldSpec("profit_per_capacity", "float64", "yuan/agent-person-month",
              "expected profit of a unit of capacity", per=PER_INDUSTRY),
    FieldSpec("package_per_capacity", "float64", "yuan/agent-person-month",
              "package value of a unit of capacity an entrant is offered (after chain "
              "screening, at the county's generosity)", per=PER_INDUSTRY),
    FieldSpec("package_terms_per_capacity", "float64", "yuan/agent-person-month",
              "full national package terms of a unit of capacity (a firm's own package is "
              "its package_share of this)", per=PER_INDUSTRY),
    FieldSpec("workers_per_capacity", "float64", "agents", "workers a unit of capacity needs",
              1.0, per=PER_INDUSTRY),
    FieldSpec("labor_cost_per_capacity", "float64", "yuan/agent-person-month",
              "wage bill of a unit of capacity", per=PER_INDUSTRY),
    FieldSpec("fixed_per_capacity", "float64", "yuan/agent-person-month",
              "rent and capital cost of a unit of capacity", per=PER_INDUSTRY),
)

FIRM_FIELDS = (
    FieldSpec("alive", "bool", "flag", "firm is operating"),
    FieldSpec("county", "int32", "county index", "current location", -1),
    FieldSpec("industry", "int8", "industry index", "industry"),
    FieldSpec("origin_county", "int32", "county index", "eastern county the firm came from", -1),
    FieldSpec("productivity", "float64", "multiplier", "order scale (Pareto-tailed)"),
    FieldSpec("efficiency", "float64", "multiplier", "firm-specific labor productivity "
              "(lognormal, mean 1: Jovanovic-style selection)", 1.0),
    FieldSpec("capacity", "float64", "agents", "plant size: productivity x industry typical size"),
    FieldSpec("labor_productivity", "float64", "yuan/worker-month", "output per worker"),
    FieldSpec("package_share", "float64", "share",
              "share of the full national package granted (chain screening x generosity, "
              "x retention share for a retention offer)", 1.0),
    FieldSpec("employees", "int32", "agents", "worker agents employed"),
    FieldSpec("desired", "int32", "agents", "desired employment this month"),
    FieldSpec("layoff_prob", "float64", "probability",
              "chance each employee is laid off this month"),
    FieldSpec("exit_reason", "int8", "code", "sim.codes.Reason of an exit this month, 0 none"),
    FieldSpec("cash", "float64", "yuan/agent-person",
              "cash (x persons_per_agent = yuan of the firm)"),
    FieldSpec("age_months", "int32", "months", "months since entry"),
    FieldSpec("months_in_county", "int32", "months", "months in the current county"),
    FieldSpec("subsidy_months_left", "int32", "months", "months of package left"),
    FieldSpec("package_months", "int32", "months", "length of the current package"),
    FieldSpec("retained", "bool", "flag",
              "the current package is a retention offer (paid from the retention budget)"),
    FieldSpec("relocation_debt", "float64", "yuan/agent-person",
              "bank loan financing the last move; counts as buffer"),
    FieldSpec("relocation_debt_repayment", "float64", "yuan/agent-person per month",
              "monthly repayment of the relocation loan"),
    FieldSpec("months_below_buffer", "int32", "months", "consecutive months with cash < buffer"),
    FieldSpec("parent", "int32", "firm index", "headquarters of a satellite workshop", -1),
    FieldSpec("entry_kind", "int8", "code", "sim.codes.EntryKind: initial/birth/attracted/"
              "returnee/satellite"),
    FieldSpec("entry_step", "int32", "step", "step of entry (negative for initial firms)"),
    FieldSpec("ever_subsidised", "bool", "flag", "received a package at some point"),
    FieldSpec("skill_sum", "float64", "skill", "sum of employees' skill (this month)"),
    FieldSpec("wage_bill", "float64", "yuan/agent-person-month", "wage bill (this month)"),
    FieldSpec("revenue", "float64", "yuan/agent-person-month", "revenue (this month)"),
    FieldSpec("orders", "float64", "yuan/agent-person-month", "orders (this month)"),
    FieldSpec("subsidy", "float64", "yuan/agent-person-month", "subsidy received (this month)"),
    FieldSpec("profit", "float64", "yuan/agent-person-month", "profit before subsidy (this month)"),
)

WORKER_FIELDS = (
    FieldSpec("home_county", "int32", "county index", "county the worker lives in"),
    FieldSpec("status", "int8", "code",
              "sim.codes.Status: 0 home, 1 local, 2 outbound, 3 outbound seeking"),
    FieldSpec("employer", "int32", "firm index", "local employer, -1 none", -1),
    FieldSpec("skill", "float64", "[0,1]", "skill"),
    FieldSpec("age", "int16", "years", "age"),
    FieldSpec("female", "bool", "flag", "female"),
    FieldSpec("care", "bool", "flag", "care constraint (high cost of leaving)"),
    FieldSpec("poverty_alleviated", "bool", "flag", "from a poverty-alleviated household"),
    FieldSpec("outbound_industry", "int8", "industry index", "industry of the last outbound job"),
    FieldSpec("experience_months", "int16", "months",
              "months of outbound experience in that industry"),
    FieldSpec("seeking", "bool", "flag", "at home and looking for a local job"),
    FieldSpec("founder", "bool", "flag", "returns home this month to found a firm"),
)

# The kernels' view types: one namedtuple per registry (module level, so numba can cache).
Counties = namedtuple("Counties", [f.name for f in COUNTY_FIELDS])
CountyState = namedtuple("CountyState", [f.name for f in COUNTY_STATE_FIELDS])
Firms = namedtuple("Firms", [f.name for f in FIRM_FIELDS])
Workers = namedtuple("Workers", [f.name for f in WORKER_FIELDS])
VIEW_TYPES = {COUNTY_FIELDS: Counties, COUNTY_STATE_FIELDS: CountyState, FIRM_FIELDS: Firms,
              WORKER_FIELDS: Workers}


class Table:
    """A structure of arrays built from a field registry.

    Args:
        fields: the registry.
        n: number of rows to allocate.
        n_industries: columns of per-industry fields.
    """

    def __init__(self, fields: tuple[FieldSpec, ...], n: int, n_industries: int = 0):
        self.fields = fields
        self.n = n
        self.n_industries = n_industries
        for f in fields:
            setattr(self, f.name, self._new(f, n))

    def _shape(self, f: FieldSpec, n: int) -> tuple[int, ...]:
        columns = {None: (), PER_INDUSTRY: (self.n_industries,), PER_STATUS: (N_STATUSES,)}
        return (n, *columns[f.per])

    def _new(self, f: FieldSpec, n: int) -> np.ndarray:
        return np.full(self._shape(f, n), f.fill, dtype=f.dtype)

    @classmethod
    def from_arrays(cls, fields: tuple[FieldSpec, ...], n: int, n_industries: int,
                    arrays: dict[str, np.ndarray]) -> Table:
        """A table holding ``arrays`` (field name -> array, e.g. from a checkpoint), each
        checked against the registry's dtype and shape.

        Raises:
            KeyError: a field missing. ValueError: a field of the wrong dtype or shape.
        """
        table = cls(fields, 0, n_industries)
        table.n = n
        for f in fields:
            array, shape = arrays[f.name], table._shape(f, n)
            if array.dtype != np.dtype(f.dtype) or array.shape != shape:
                raise ValueError(f"field {f.name} is {array.dtype}{array.shape}, expected "
                                 f"{f.dtype}{shape}")
            setattr(table, f.name, array)
        return table

    def arrays(self) -> dict[str, np.ndarray]:
        """Field name -> array (the live arrays, not copies)."""
        return {f.name: getattr(self, f.name) for f in self.fields}

    def view(self, n: int | None = None):
        """The live arrays as the registry's namedtuple (first ``n`` rows if given)."""
        arrays = [getattr(self, f.name) for f in self.fields]
        if n is not None:
            arrays = [a[:n] for a in arrays]
        return VIEW_TYPES[self.fields](*arrays)

    def grow(self, n_new: int) -> None:
        """Enlarge capacity to ``n_new`` rows, filling new rows with each field's default."""
        if n_new <= self.n:
            return
        for f in self.fields:
            new = self._new(f, n_new)
            new[: self.n] = getattr(self, f.name)
            setattr(self, f.name, new)
        self.n = n_new


class NonFiniteStateError(FloatingPointError):
    """A NaN or an infinity in the state; the message is one line naming field and step."""


def non_finite(table: Table, rows: int | None = None,
               wide: bool = True) -> tuple[str, int, float] | None:
    """The first float field of ``table`` (first ``rows`` rows; without the per-industry
    fields unless ``wide``) holding a NaN or an infinity: (field, row, value); None if every
    value is finite.

    Cheap enough for every step: one sum per field (a sum is finite when the values are,
    unless they are near the float limit); only a field whose sum is not finite is looked at
    value by value.
    """
    floats = [f.name for f in table.fields
              if f.dtype.startswith("float") and (wide or f.per != PER_INDUSTRY)]
    with np.errstate(over="ignore", invalid="ignore"):  # an overflowing sum is looked at below
        sums = [getattr(table, name)[:rows].sum() for name in floats]
    for name, total in zip(floats, sums, strict=True):
        if not math.isfinite(total):
            values = getattr(table, name)[:rows]
            bad = ~np.isfinite(values)
            if bad.any():
                row = int(np.flatnonzero(bad.reshape(len(values), -1).any(axis=1))[0])
                return name, row, float(values[bad][0])
    return None
