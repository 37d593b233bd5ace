"""The six labor-intensive industries (MODEL.md §3) as a parameter table.

Values are stylised defaults chosen to reproduce the paper's qualitative facts ("both ends
outside": inputs and markets in the east; low skill requirements; export exposure of apparel,
toys and bags). They are calibration inputs, not data; the ``source`` column says which.
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass

import numpy as np

from sim.config import ALL_INDUSTRIES


@dataclass(frozen=True)
class Industry:
    """One industry's parameters.

    Attributes:
        name: industry key (see ``sim.config.INDUSTRIES``).
        output_per_worker: value of output per full-skill worker at q = 1 (yuan/month).
        materials_share: share of revenue spent on bought inputs.
        skill_requirement: weight of worker skill in labor productivity (0..1).
        input_share_east: share of inputs bought from the east (logistics).
        output_share_east: share of output sold east or exported (logistics).
        export_exposure: share of orders that are export orders (export shock, sanctions).
        relocation_cost_months: one-off cost of moving, in months of revenue.
        typical_size: mean plant size (persons) at median productivity.
        agglomeration_elasticity: productivity elasticity to same-industry county employment.
        resource_affinity: productivity gain where the raw material is local (share).
        capital_per_worker: monthly capital cost per worker place (yuan/month).
        chain_partners: industries whose local presence lowers logistics and raises
            productivity (upstream/downstream chain).
        source: where the numbers come from.
    """

    name: str
    output_per_worker: float
    materials_share: float
    skill_requirement: float
    input_share_east: float
    output_share_east: float
    export_exposure: float
    relocation_cost_months: float
    typical_size: float
    agglomeration_elasticity: float
    resource_affinity: float
    capital_per_worker: float
    chain_partners: tuple[str, ...]
    source: str = "stylised; MODEL.md §3 and the paper's survey of the six industries"


TABLE: dict[str, Industry] = {
    i.name: i
    for i in (
        Industry("textile_apparel", 24000, 0.65, 0.45, 0.8, 0.8, 0.35, 3.0, 160.0, 0.06, 0.0,
                 700, ("bags_shoes_hats_socks",)),
        Industry("electronics_assembly", 30000, 0.72, 0.6, 0.9, 0.9, 0.3, 2.5, 240.0, 0.08, 0.0,
                 900, ()),
        Industry("plush_toys", 21000, 0.61, 0.35, 0.7, 0.85, 0.5, 2.0, 100.0, 0.07, 0.0, 500,
                 ("textile_apparel",)),
        Industry("hair_products", 22000, 0.61, 0.4, 0.3, 0.7, 0.45, 2.5, 100.0, 0.05, 0.25, 500,
                 ()),
        Industry("bags_shoes_hats_socks", 22000, 0.65, 0.4, 0.75, 0.8, 0.4, 2.0, 120.0, 0.06, 0.0,
                 600, ("textile_apparel",)),
        Industry("musical_instruments", 25000, 0.6, 0.5, 0.5, 0.9, 0.5, 2.5, 200.0, 0.1, 0.0,
                 700, (), source="stylised: Zheng'an guitars (the paper)"),
        Industry("food_processing", 26000, 0.7, 0.3, 0.2, 0.5, 0.1, 4.0, 120.0, 0.04, 0.3, 800,
                 ()),
    )
}
assert set(TABLE) == set(ALL_INDUSTRIES)


# Per-industry parameter arrays as the kernels see them (index = position in the world's list).
ARRAY_FIELDS = ("output_per_worker", "materials_share", "skill_requirement", "input_share_east",
                "output_share_east", "export_exposure", "relocation_cost_months",
                "typical_size", "agglomeration_elasticity", "resource_affinity",
                "capital_per_worker")
Industries = namedtuple("Industries", (*ARRAY_FIELDS, "chain"))
Industries.__doc__ = ("Per-industry parameter arrays (see :class:`Industry`) and ``chain``, "
                      "the symmetric (industry, industry) matrix of chain partners.")


def industry_arrays(names: list[str]) -> Industries:
    """Per-industry parameter arrays (index = position in ``names``) and the chain matrix."""
    rows = [TABLE[n] for n in names]
    columns = [np.array([getattr(r, key) for r in rows], dtype=np.float64)
               for key in ARRAY_FIELDS]
    chain = np.zeros((len(names), len(names)), dtype=np.float64)
    for a, r in enumerate(rows):
        for partner in r.chain_partners:
            if partner in names:
                b = names.index(partner)
                chain[a, b] = chain[b, a] = 1.0
    return Industries(*columns, chain)
