"""The kernels' parameter record, generated from the schema.

Every numeric field of ``world``, ``policy`` and ``model`` (``sim.config``) is a field of one
namedtuple, :data:`Params`, under its own name, plus a few per-run scalars derived from them
(:data:`DERIVED`). Kernels and agents read ``params.<name>``; adding a parameter therefore
touches the schema and the rule that uses it, nothing in between. Durations declared in years
are converted to monthly steps here and nowhere else (``sim.codes.months``).
"""

from __future__ import annotations

import dataclasses
from collections import namedtuple

from sim.codes import months
from sim.config import Config, ModelConfig, PolicyConfig, WorldConfig

_CASTS = {"float": float, "int": int, "bool": bool}
SECTIONS = ("world", "policy", "model")


def _numeric_fields(cls) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls) if f.type in _CASTS)


# Derived per-run scalars: name -> what it is.
DERIVED = {
    "package_months": "length of an attraction package in steps (policy.policy_years)",
    "retention_months": "length of a retention offer in steps (policy.retention_years)",
    "returnee_rate_per_agent": "founding rate of one worker agent (model.returnee_rate x "
                               "world.persons_per_agent)",
    "max_capacity": "largest plant in agents (world.max_firm_size / persons_per_agent)",
    "max_firm_agents": "largest desired employment in whole agents",
    "agglomeration_reference_agents": "model.agglomeration_reference in agents",
    "chain_screening": "entrants without a local chain match get a smaller package (reform KPI)",
}

_SECTION_FIELDS = {"world": _numeric_fields(WorldConfig), "policy": _numeric_fields(PolicyConfig),
                   "model": _numeric_fields(ModelConfig)}
_NAMES = [name for section in SECTIONS for name in _SECTION_FIELDS[section]] + list(DERIVED)
assert len(_NAMES) == len(set(_NAMES)), "a parameter name is declared in two config sections"
Params = namedtuple("Params", _NAMES)


def make_params(cfg: Config) -> Params:
    """The parameter record of a validated configuration."""
    values = {}
    for section in SECTIONS:
        node = getattr(cfg, section)
        for f in dataclasses.fields(node):
            if f.name in _SECTION_FIELDS[section]:
                values[f.name] = _CASTS[f.type](getattr(node, f.name))
    p = cfg.policy
    values["package_months"] = months(p.policy_years)
    # Support after expiry is a retention offer a government chooses (sim.engine.governments).
    values["retention_months"] = months(p.retention_years)
    values["returnee_rate_per_agent"] = cfg.model.returnee_rate * cfg.world.persons_per_agent
    # Sizes are declared in persons (so that firm sizes do not depend on the agents' weight)
    # and converted to agents here.
    ppa = cfg.world.persons_per_agent
    values["max_capacity"] = cfg.world.max_firm_size / ppa
    values["max_firm_agents"] = int(cfg.world.max_firm_size / ppa)
    values["agglomeration_reference_agents"] = cfg.model.agglomeration_reference / ppa
    values["chain_screening"] = p.kpi == "reform"
    return Params(**values)
