"""Agent state as a structure of arrays, declared once in a registry of fields.

Each agent type (county, firm, worker) has a tuple of :class:`FieldSpec` giving name, dtype,
unit and meaning. :class:`Table` holds one array per field; firms live in a table with spare
capacity that grows by doubling, so firm ids (row indices) are stable for the whole run.
Tables save to and restore from plain ``.npz`` files, which is what checkpoints use.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Worker status codes.
HOME, LOCAL, OUTBOUND, OUTBOUND_SEEKING = 0, 1, 2, 3
STATUS_NAMES = ("home", "local", "outbound", "outbound_seeking")

# Firm entry kinds.
ENTRY_INITIAL, ENTRY_BIRTH, ENTRY_ATTRACTED, ENTRY_RETURNEE, ENTRY_SATELLITE = range(5)
ENTRY_NAMES = ("initial", "birth", "attracted", "returnee", "satellite")

# Firm event codes and reasons (firm_events.parquet).
EV_ENTER, EV_RELOCATE, EV_EXIT = 0, 1, 2
EVENT_NAMES = ("enter", "relocate", "exit")
R_NONE, R_CASH, R_HAZARD, R_PARENT, R_REVIEW, R_EXPIRY = range(6)
REASON_NAMES = ("", "cash", "hazard", "parent_exit", "review", "package_expiry")


@dataclass(frozen=True)
class FieldSpec:
    """One state field: name, numpy dtype, unit and meaning."""

    name: str
    dtype: str
    unit: str
    doc: str
    fill: float = 0


COUNTY_FIELDS = (
    FieldSpec("region", "int8", "code", "0 east, 1 central, 2 west"),
    FieldSpec("kind", "int8", "code", "0 origin, 1 central (non-poor inland), 2 poverty"),
    FieldSpec("key_assistance", "bool", "flag", "national key assistance county"),
    FieldSpec("resettlement_site", "bool", "flag", "hosts a large resettlement site"),
    FieldSpec("border", "bool", "flag", "border county"),
    FieldSpec("ethnic", "bool", "flag", "ethnic-minority area"),
    FieldSpec("case_county", "bool", "flag", "a county of the paper's case (case worlds)"),
    FieldSpec("wage_2024", "float64", "yuan/month", "base wage at the 2024 calibration year"),
    FieldSpec("min_wage_2024", "float64", "yuan/month", "minimum wage in 2024"),
    FieldSpec("rent_2024", "float64", "yuan/worker-month", "industrial land rent per workplace"),
    FieldSpec("infrastructure", "float64", "q in [0,1]", "infrastructure quality"),
    FieldSpec("distance_km", "float64", "km", "distance to the eastern hub"),
    FieldSpec("population", "float64", "persons", "working-age population (replica scale)"),
    FieldSpec("home_income_2024", "float64", "yuan/month", "home (farm) income per worker"),
    FieldSpec("fiscal_capacity", "float64", "yuan/year", "central transfer (replica scale)"),
    FieldSpec("partner", "int32", "county index", "east-west pairing partner, -1 none", -1),
    FieldSpec("worker_start", "int64", "worker index", "first worker living here"),
    FieldSpec("worker_stop", "int64", "worker index", "one past the last worker living here"),
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
    FieldSpec("package_share", "float64", "share", "share of the full package granted", 1.0),
    FieldSpec("employees", "int32", "agents", "worker agents employed"),
    FieldSpec("desired", "int32", "agents", "desired employment this month"),
    FieldSpec("cash", "float64", "yuan/agent-person",
              "cash (x persons_per_agent = yuan of the firm)"),
    FieldSpec("age_months", "int32", "months", "months since entry"),
    FieldSpec("months_in_county", "int32", "months", "months in the current county"),
    FieldSpec("subsidy_months_left", "int32", "months", "months of package left"),
    FieldSpec("package_months", "int32", "months", "length of the current package"),
    FieldSpec("taper_months_left", "int32", "months", "months of tapered post-expiry support"),
    FieldSpec("relocation_debt", "float64", "yuan/agent-person",
              "bank loan financing the last move, repaid over 60 months; counts as buffer"),
    FieldSpec("relocation_debt_repayment", "float64", "yuan/agent-person per month",
              "monthly repayment of the relocation loan"),
    FieldSpec("months_below_buffer", "int32", "months", "consecutive months with cash < buffer"),
    FieldSpec("parent", "int32", "firm index", "headquarters of a satellite workshop", -1),
    FieldSpec("entry_kind", "int8", "code", "initial/birth/attracted/returnee/satellite"),
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
    FieldSpec("status", "int8", "code", "0 home, 1 local, 2 outbound, 3 outbound seeking"),
    FieldSpec("employer", "int32", "firm index", "local employer, -1 none", -1),
    FieldSpec("skill", "float64", "[0,1]", "skill"),
    FieldSpec("age", "int16", "years", "age"),
    FieldSpec("female", "bool", "flag", "female"),
    FieldSpec("care", "bool", "flag", "care constraint (high cost of leaving)"),
    FieldSpec("poverty_alleviated", "bool", "flag", "from a poverty-alleviated household"),
    FieldSpec("outbound_industry", "int8", "industry index", "industry of the last outbound job"),
    FieldSpec("experience_months", "int32", "months", "months of outbound industry experience"),
    FieldSpec("seeking", "bool", "flag", "at home and looking for a local job"),
)


class Table:
    """A structure of arrays built from a field registry.

    Args:
        fields: the registry.
        n: number of rows to allocate.
    """

    def __init__(self, fields: tuple[FieldSpec, ...], n: int):
        self.fields = fields
        self.n = n
        for f in fields:
            setattr(self, f.name, np.full(n, f.fill, dtype=f.dtype))

    def arrays(self) -> dict[str, np.ndarray]:
        """Field name -> array (the live arrays, not copies)."""
        return {f.name: getattr(self, f.name) for f in self.fields}

    def grow(self, n_new: int) -> None:
        """Enlarge capacity to ``n_new`` rows, filling new rows with each field's default."""
        if n_new <= self.n:
            return
        for f in self.fields:
            old = getattr(self, f.name)
            new = np.full(n_new, f.fill, dtype=f.dtype)
            new[: self.n] = old
            setattr(self, f.name, new)
        self.n = n_new

    def save(self, path, **extra) -> None:
        """Write all fields (and ``extra`` arrays) to an ``.npz`` file."""
        np.savez(path, **self.arrays(), **extra)

    @classmethod
    def load(cls, fields, data) -> Table:
        """Rebuild a table from a mapping of arrays (e.g. an opened ``.npz``)."""
        n = len(data[fields[0].name])
        table = cls(fields, n)
        for f in fields:
            setattr(table, f.name, np.asarray(data[f.name], dtype=f.dtype).copy())
        return table
