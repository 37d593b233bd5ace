"""The numba engine: the monthly step over the structure-of-arrays state.

``Simulation`` (``simulation.py``) holds a run's state and orchestrates the month; the
domains are its mixins: ``labour`` (workers, local labour markets), ``firms``
(expectations, location choice, plans, accounts), ``entry``, ``governments`` (budgets,
offers, training, infrastructure) and ``records``; ``environment`` gives the month's prices
and ``shocks`` its shock multipliers. The engine imports only the schema, the state, the
rules and the kernels -- never the Mesa layer, outputs or experiments.
"""

from sim.engine.environment import Month
from sim.engine.records import (
    EVENT_COLUMNS,
    METRIC_INDEX,
    METRICS,
    MONEY_METRICS,
    PERSON_METRICS,
    RunRecord,
)
from sim.engine.simulation import Simulation

__all__ = ["EVENT_COLUMNS", "METRICS", "METRIC_INDEX", "MONEY_METRICS", "PERSON_METRICS",
           "Month", "RunRecord", "Simulation"]
