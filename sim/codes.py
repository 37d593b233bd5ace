"""Every code of the model, defined once: regions, county kinds, worker statuses, firm entry
kinds, events, exit and move reasons, and the purposes of counter-based draws.

Each is an ``IntEnum`` for Python code and tables (``Kind.POVERTY``, ``Kind(2).label``); the
numba kernels use the same values as plain module-level ints (numba folds them as
constants), exported below under the names the kernels read. The name tuples used in output
tables (``KINDS``, ``STATUS_NAMES``, ...) are derived from the enums, never typed again.

This module imports nothing from the project: every other module may import it.
"""

from __future__ import annotations

from enum import IntEnum


class _Code(IntEnum):
    @property
    def label(self) -> str:
        """The lower-case name used in configs and output tables."""
        return self.name.lower()

    @classmethod
    def labels(cls) -> tuple[str, ...]:
        return tuple(member.label for member in cls)


class Region(_Code):
    """Where a county lies (MODEL.md §2)."""

    EAST = 0
    CENTRAL = 1
    WEST = 2


class Kind(_Code):
    """What a county is: an eastern origin of firms, a non-poor inland competitor, or a
    poverty-alleviated county (MODEL.md §2)."""

    ORIGIN = 0
    CENTRAL = 1
    POVERTY = 2


class DevelopmentType(_Code):
    """The paper's six development types (六大类型, MODEL.md §12.1): what an industry is."""

    MANUFACTURING = 0     # transferred manufacturing under east-west cooperation
    AGRO_PROCESSING = 1   # agricultural products processing with e-commerce (三产融合)
    WELLNESS = 2          # leisure and wellness services for city people (度假康养)
    HANDICRAFT = 3        # ethnic handicrafts (民族手工艺)
    CATERING = 4          # specialty catering chains: a county central kitchen (特色餐饮)
    DOMESTIC_SERVICE = 5  # branded domestic-service labour export (家政服务)


class Market(_Code):
    """Where an industry's demand comes from, which decides how a county's place and zones
    change its orders (MODEL.md §12.1; ``sim.development.market_access``)."""

    SHIPPED = 0      # goods shipped to the east or abroad: place matters through logistics
    VISITORS = 1     # services consumed on site: visitors from cities (nearness, ecology)
    ETHNIC = 2       # goods whose brand is the place's culture (ethnic areas)
    CITY_STORES = 3  # supplies the county's own stores in cities (outbound natives)
    OUTBOUND = 4     # no local firm: jobs are outbound (labour export)


class Zone(_Code):
    """The paper's five kinds of zones (五大类集聚区, MODEL.md §12.2); a county may be in
    several. Each is a flag column of the county table of the same name."""

    SERVICE_HUB = 0          # central-city service hubs (成渝, 西咸)
    TRANSFER_RECEIVING = 1   # populous transfer-receiving counties
    REVOLUTIONARY_BASE = 2   # old revolutionary base areas (红色 + 绿色)
    ETHNIC = 3               # ethnic areas
    BORDER = 4               # border areas


class Status(_Code):
    """Where a worker is (MODEL.md §6)."""

    HOME = 0
    LOCAL = 1
    OUTBOUND = 2
    OUTBOUND_SEEKING = 3


class EntryKind(_Code):
    """How a firm came into the run (MODEL.md §4, Entry)."""

    INITIAL = 0
    BIRTH = 1
    ATTRACTED = 2
    RETURNEE = 3
    SATELLITE = 4
    LOCAL_BIRTH = 5  # a local entrepreneur in an inland county


class Event(_Code):
    """Firm events of the event log."""

    ENTER = 0
    RELOCATE = 1
    EXIT = 2


class Reason(_Code):
    """Why a firm exited or moved (``NONE`` for entries)."""

    NONE = 0
    CASH = 1
    HAZARD = 2
    PARENT_EXIT = 3
    REVIEW = 4
    PACKAGE_EXPIRY = 5

    @property
    def label(self) -> str:
        return "" if self is Reason.NONE else self.name.lower()


class Draw(_Code):
    """Purposes of counter-based draws: one independent stream per decision.

    A decision that needs several draws adds multiples of 100 to its purpose (e.g.
    ``Draw.OUT_INDUSTRY + 100``), which never collides with another purpose below 100.
    """

    LAYOFF = 1
    SEPARATION = 2
    OUT_FIND = 3
    OUT_INDUSTRY = 4
    SEARCH = 5
    CHOICE = 6
    MATCH = 7
    MATCH_FIRM = 8
    CREDIBILITY = 9
    HAZARD = 10
    ORDERS = 11
    RETURNEE = 12
    CANDIDATE = 13
    LOCATION = 14
    TRAINING = 15
    DEMOGRAPHY = 16
    NEWBORN = 17
    PARTNER = 18
    GOVERNMENT = 19
    CARE_ACCESS = 20
    LOCAL_BIRTH = 21


REGIONS = Region.labels()
KINDS = Kind.labels()
STATUS_NAMES = Status.labels()
ENTRY_NAMES = EntryKind.labels()
EVENT_NAMES = Event.labels()
REASON_NAMES = tuple(reason.label for reason in Reason)
DEVELOPMENT_TYPES = DevelopmentType.labels()
MARKETS = Market.labels()
ZONES = Zone.labels()

# Plain ints for the numba kernels (and for array comparisons in numpy glue).
EAST, WEST = int(Region.EAST), int(Region.WEST)
ORIGIN, CENTRAL, POVERTY = int(Kind.ORIGIN), int(Kind.CENTRAL), int(Kind.POVERTY)
HOME, LOCAL, OUTBOUND, OUTBOUND_SEEKING = (int(s) for s in Status)
N_STATUSES = len(Status)
(ENTRY_INITIAL, ENTRY_BIRTH, ENTRY_ATTRACTED, ENTRY_RETURNEE, ENTRY_SATELLITE,
 ENTRY_LOCAL_BIRTH) = (int(e) for e in EntryKind)
MANUFACTURING, CATERING, DOMESTIC_SERVICE = (
    int(DevelopmentType.MANUFACTURING), int(DevelopmentType.CATERING),
    int(DevelopmentType.DOMESTIC_SERVICE))
EV_ENTER, EV_RELOCATE, EV_EXIT = (int(e) for e in Event)
R_NONE, R_CASH, R_HAZARD, R_PARENT, R_REVIEW, R_EXPIRY = (int(r) for r in Reason)
(P_LAYOFF, P_SEPARATION, P_OUT_FIND, P_OUT_INDUSTRY, P_SEARCH, P_CHOICE, P_MATCH, P_MATCH_FIRM,
 P_CREDIBILITY, P_HAZARD, P_ORDERS, P_RETURNEE, P_CANDIDATE, P_LOCATION, P_TRAINING,
 P_DEMOGRAPHY, P_NEWBORN, P_PARTNER, P_GOVERNMENT, P_CARE_ACCESS, P_LOCAL_BIRTH) = (
    int(d) for d in Draw)

# Time: one step is one month (the option of other step lengths was removed: the monthly
# rates of the model are not rescaled). Durations in years become steps only through this.
MONTHS_PER_YEAR = 12


def months(years: float) -> int:
    """A duration in years as a whole number of monthly steps."""
    return int(round(years * MONTHS_PER_YEAR))
