"""Industries (MODEL.md §3) and the paper's six development types (§12.1) as one table.

Manufacturing values are stylised defaults chosen to reproduce the paper's qualitative facts
("both ends outside": inputs and markets in the east; low skill requirements; export exposure
of apparel, toys and bags). The other development types are local industries: agricultural
processing sold by e-commerce, wellness services for city visitors, ethnic handicrafts made
at home or in workshops, a catering chain's county central kitchen, and domestic-service
labour export (no local firm: its jobs are outbound). They are calibration inputs, not data;
the ``source`` column says which, with the seed's cases as orders of magnitude.
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass

import numpy as np

from sim.codes import DevelopmentType, Market
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
        development_type: which of the paper's six development types it is.
        market: where its demand comes from (``sim.codes.Market``).
        consumer_good: sold to final consumers (the paper's rule of thumb: make consumer
            goods near large markets, intermediates by cost and chain partners).
        seasonal_amplitude: relative swing of orders over the year (peak in summer).
        income_elasticity: demand grows with urban incomes at this elasticity (1: with
            output prices, like manufacturing).
        care_friendly: flexible, home- or workshop-based hours that care-bound workers can
            keep (as in a township workshop).
        outbound_wage_premium: extra eastern wage of a migrant in this trade (share).
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
    development_type: DevelopmentType = DevelopmentType.MANUFACTURING
    market: Market = Market.SHIPPED
    consumer_good: bool = True
    seasonal_amplitude: float = 0.0
    income_elasticity: float = 1.0
    care_friendly: bool = False
    outbound_wage_premium: float = 0.0
    source: str = "stylised; MODEL.md §3 and the paper's survey of the six industries"

    @property
    def firm_based(self) -> bool:
        """Whether local firms of the industry exist (labour export has none)."""
        return self.market != Market.OUTBOUND

    @property
    def outbound_trade(self) -> bool:
        """Whether migrants work in it in the east: factories, catering stores, households
        (wellness, handicrafts and farm processing are local)."""
        return self.development_type in (DevelopmentType.MANUFACTURING,
                                         DevelopmentType.CATERING,
                                         DevelopmentType.DOMESTIC_SERVICE)


TABLE: dict[str, Industry] = {
    i.name: i
    for i in (
        Industry("textile_apparel", 24000, 0.65, 0.45, 0.8, 0.8, 0.35, 3.0, 160.0, 0.06, 0.0,
                 700, ("bags_shoes_hats_socks",)),
        Industry("electronics_assembly", 30000, 0.72, 0.6, 0.9, 0.9, 0.3, 2.5, 240.0, 0.08, 0.0,
                 900, (), consumer_good=False),
        Industry("plush_toys", 21000, 0.61, 0.35, 0.7, 0.85, 0.5, 2.0, 100.0, 0.07, 0.0, 500,
                 ("textile_apparel",)),
        Industry("hair_products", 22000, 0.61, 0.4, 0.3, 0.7, 0.45, 2.5, 100.0, 0.05, 0.25, 500,
                 (), consumer_good=False),
        Industry("bags_shoes_hats_socks", 22000, 0.65, 0.4, 0.75, 0.8, 0.4, 2.0, 120.0, 0.06, 0.0,
                 600, ("textile_apparel",)),
        Industry("musical_instruments", 25000, 0.6, 0.5, 0.5, 0.9, 0.5, 2.5, 200.0, 0.1, 0.0,
                 700, (), source="stylised: Zheng'an guitars (the paper)"),
        Industry("food_processing", 26000, 0.7, 0.3, 0.2, 0.5, 0.1, 4.0, 120.0, 0.04, 0.3, 800,
                 ()),
        # The other five development types (MODEL.md §12.1).
        Industry("agro_ecommerce", 20000, 0.6, 0.25, 0.05, 0.5, 0.05, 4.0, 40.0, 0.03, 0.6, 400,
                 ("catering_kitchen",), development_type=DevelopmentType.AGRO_PROCESSING,
                 seasonal_amplitude=0.15,
                 source="stylised: local raw materials sold online (三产融合); Jinping geese "
                        "(the seed) as an order of magnitude"),
        Industry("wellness_tourism", 16000, 0.35, 0.3, 0.05, 0.0, 0.0, 8.0, 30.0, 0.08, 0.0,
                 1200, (), development_type=DevelopmentType.WELLNESS, market=Market.VISITORS,
                 seasonal_amplitude=0.35, income_elasticity=1.5,
                 source="stylised: visitors from cities (度假康养); demand needs ecological "
                        "assets and nearness, grows faster than urban incomes"),
        Industry("ethnic_handicrafts", 13000, 0.4, 0.55, 0.1, 0.6, 0.2, 1.5, 20.0, 0.05, 0.0,
                 150, (), development_type=DevelopmentType.HANDICRAFT, market=Market.ETHNIC,
                 care_friendly=True,
                 source="stylised: home- and workshop-based ethnic crafts (民族手工艺); "
                        "flexible hours"),
        Industry("catering_kitchen", 22000, 0.6, 0.3, 0.1, 0.6, 0.0, 4.0, 60.0, 0.04, 0.2, 700,
                 ("agro_ecommerce",), development_type=DevelopmentType.CATERING,
                 market=Market.CITY_STORES, income_elasticity=1.2, outbound_wage_premium=0.1,
                 source="stylised: a specialty-food chain's central kitchen supplying family "
                        "stores in cities staffed by natives (特色餐饮)"),
        Industry("domestic_service", 18000, 0.0, 0.4, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0,
                 (), development_type=DevelopmentType.DOMESTIC_SERVICE,
                 market=Market.OUTBOUND, outbound_wage_premium=0.3,
                 source="stylised: branded domestic-service labour export (家政服务): "
                        "training leads to outbound service jobs at higher pay, mostly women"),
    )
}
assert set(TABLE) == set(ALL_INDUSTRIES)


# Per-industry parameter arrays as the kernels see them (index = position in the world's list).
ARRAY_FIELDS = ("output_per_worker", "materials_share", "skill_requirement", "input_share_east",
                "output_share_east", "export_exposure", "relocation_cost_months",
                "typical_size", "agglomeration_elasticity", "resource_affinity",
                "capital_per_worker", "seasonal_amplitude", "income_elasticity",
                "care_friendly", "outbound_wage_premium", "consumer_good", "firm_based",
                "outbound_trade")
CODE_FIELDS = ("development_type", "market")
Industries = namedtuple("Industries", (*ARRAY_FIELDS, *CODE_FIELDS, "chain"))
Industries.__doc__ = ("Per-industry parameter arrays (see :class:`Industry`; flags as 0/1 "
                      "floats, codes as ints) and ``chain``, the symmetric (industry, "
                      "industry) matrix of chain partners.")


def industry_arrays(names: list[str]) -> Industries:
    """Per-industry parameter arrays (index = position in ``names``) and the chain matrix."""
    rows = [TABLE[n] for n in names]
    columns = [np.array([float(getattr(r, key)) for r in rows], dtype=np.float64)
               for key in ARRAY_FIELDS]
    columns += [np.array([int(getattr(r, key)) for r in rows], dtype=np.int64)
                for key in CODE_FIELDS]
    chain = np.zeros((len(names), len(names)), dtype=np.float64)
    for a, r in enumerate(rows):
        for partner in r.chain_partners:
            if partner in names:
                b = names.index(partner)
                chain[a, b] = chain[b, a] = 1.0
    return Industries(*columns, chain)
