"""Regenerate the reference tables of ``docs/model.md`` from the code.

The block between ``<!-- BEGIN GENERATED TABLES -->`` and ``<!-- END GENERATED TABLES -->``
is rebuilt from the single sources of truth, so the document cannot drift from the model:

* state variables: ``sim.state`` ``COUNTY_FIELDS``, ``COUNTY_STATE_FIELDS``, ``FIRM_FIELDS``,
  ``WORKER_FIELDS``;
* industries: ``sim.industries.TABLE`` (attribute meanings from the ``Industry`` docstring);
* parameters: ``sim.config.field_table`` for every config dataclass;
* named constants fixed in the code (``sim.world``, ``sim.engine``, ``sim.codes``);
* outputs: ``sim.engine.METRICS`` and ``sim.results.SUMMARY_DOC``;
* presets: ``configs/{world,policy,shock}/*.yaml`` (leading comment and settings).

Usage::

    .venv/bin/python scripts/model_doc_tables.py          # rewrite docs/model.md in place
    .venv/bin/python scripts/model_doc_tables.py --check  # exit 1 if the block is stale
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scripts import generated_doc  # noqa: E402
from scripts.generated_doc import replace_block, table  # noqa: E402
from sim import codes, engine, state, world  # noqa: E402
from sim import config as C  # noqa: E402
from sim.engine import environment, simulation  # noqa: E402
from sim.industries import TABLE, Industry  # noqa: E402
from sim.results import SUMMARY_DOC  # noqa: E402

DOC = ROOT / "docs" / "model.md"
BEGIN = "<!-- BEGIN GENERATED TABLES -->"
END = "<!-- END GENERATED TABLES -->"

# Config groups in document order: (Hydra prefix, dataclass).
GROUPS = (
    ("world", C.WorldConfig),
    ("policy", C.PolicyConfig),
    ("shock", C.ShockConfig),
    ("model", C.ModelConfig),
    ("run", C.RunConfig),
)
PRESET_GROUPS = ("world", "policy", "shock")
INDUSTRY_COLUMNS = (
    ("output_per_worker", "opw"),
    ("materials_share", "mat"),
    ("skill_requirement", "skill"),
    ("input_share_east", "in_E"),
    ("output_share_east", "out_E"),
    ("export_exposure", "export"),
    ("relocation_cost_months", "reloc"),
    ("typical_size", "size"),
    ("agglomeration_elasticity", "aggl"),
    ("resource_affinity", "res"),
    ("capital_per_worker", "capital"),
    ("chain_partners", "chain partners"),
)
# Named constants fixed in the code (module, name, meaning).
CONSTANTS = (
    (world, "REAL_RURAL_LABOR",
     "real rural migrant labor force 2024 (persons; NBS 2024); population_scale = replica "
     "persons / this"),
    (world, "CAMPAIGN_PACKAGE_YEARS",
     "length of the historical campaign packages of initial inland firms (years)"),
    (world, "WORLD_STREAM", "seed-sequence stream of world generation"),
    (world, "DYNAMICS_STREAM", "seed-sequence stream of the dynamics"),
    (environment, "CALIBRATION_YEAR", "year at which wages, prices and output are given"),
    (simulation, "INIT_STEP", "draw 'step' of the initial hiring round"),
    (codes, "MONTHS_PER_YEAR", "steps per year: one step is one month"),
)


def fmt(value: object) -> str:
    """A default value as compact text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e7:
            return str(int(value))
        return f"{value:g}"
    if isinstance(value, list | tuple):
        return ", ".join(fmt(v) for v in value) if value else "(none)"
    if dataclasses.is_dataclass(value):
        return f"`{type(value).__name__}()`"
    return str(value)


def _source(row: dict) -> str:
    """The data source, ``stylised`` for a modelling default, ``—`` for a plain setting."""
    if row["source"]:
        return row["source"]
    return "stylised" if row["range"] else "—"


def param_table(prefix: str, cls: type) -> str:
    rows = []
    for r in C.field_table(cls):
        name = f"`{prefix}.{r['name']}`" if prefix else f"`{r['name']}`"
        rows.append((name, fmt(r["default"]), r["unit"] or "—", r["range"] or "—",
                     r["doc"] or "—", _source(r)))
    return table(("parameter", "default", "unit", "range", "meaning", "source"), rows)


def top_level_table() -> str:
    rows = []
    for r in C.field_table(C.Config):
        if dataclasses.is_dataclass(r["default"]):
            rows.append((f"`{r['name']}`", f"group `{type(r['default']).__name__}`", "—",
                         "—", f"the `{r['name']}.*` parameters below", "—"))
        else:
            rows.append((f"`{r['name']}`", fmt(r["default"]), r["unit"] or "—",
                         r["range"] or "—", r["doc"] or "—", _source(r)))
    return table(("field", "default", "unit", "range", "meaning", "source"), rows)


def state_table(fields) -> str:
    rows = [(f"`{f.name}`", f.dtype, f.unit,
             fmt(bool(f.fill)) if f.dtype == "bool" else fmt(f.fill), f.doc) for f in fields]
    return table(("field", "dtype", "unit", "initial fill", "meaning"), rows)


def industry_attribute_docs() -> dict[str, str]:
    """Attribute -> meaning, parsed from the ``Industry`` docstring's Attributes section."""
    docs: dict[str, str] = {}
    current = None
    in_attrs = False
    # cleandoc: Python 3.13 strips docstring indentation at compile time, 3.11 does not.
    for raw in inspect.cleandoc(Industry.__doc__ or "").splitlines():
        line = raw.strip()
        if line == "Attributes:":
            in_attrs = True
            continue
        if not in_attrs or not line:
            continue
        head, sep, rest = line.partition(":")
        if sep and head.isidentifier() and raw.startswith(" " * 4) and not raw.startswith(
                " " * 8):
            current = head
            docs[current] = rest.strip()
        elif current:
            docs[current] += " " + line
    return docs


def industry_tables() -> str:
    header = ("industry",) + tuple(short for _, short in INDUSTRY_COLUMNS)
    rows = []
    for ind in TABLE.values():
        extra = "" if ind.name in C.INDUSTRIES else " (case only)"
        rows.append((f"`{ind.name}`{extra}",)
                    + tuple(fmt(getattr(ind, key)) for key, _ in INDUSTRY_COLUMNS))
    docs = industry_attribute_docs()
    legend = [(short, f"`{key}`", docs.get(key, "")) for key, short in INDUSTRY_COLUMNS]
    by_source: dict[str, list[str]] = {}
    for ind in TABLE.values():
        by_source.setdefault(ind.source, []).append(f"`{ind.name}`")
    sources = [f"{', '.join(names)}: {src}" for src, names in by_source.items()]
    return "\n\n".join([
        table(header, rows),
        table(("column", "attribute", "meaning"), legend),
        "Sources. " + " — ".join(sources) + ".",
    ])


def constants_table() -> str:
    rows = [(f"`{name}`", f"`{mod.__name__}`", fmt(getattr(mod, name)), doc)
            for mod, name, doc in CONSTANTS]
    return table(("constant", "module", "value", "meaning"), rows)


def outputs_tables() -> str:
    person = set(engine.PERSON_METRICS)
    money = set(engine.MONEY_METRICS)
    rows = []
    for name in engine.METRICS:
        scale = ("persons (agents × persons_per_agent)" if name in person
                 else "yuan (kernel units × persons_per_agent)" if name in money
                 else "count" if name != "infrastructure" else "mean q of the group")
        rows.append((f"`{name}`", scale))
    summary = [(f"`{k}`", v) for k, v in SUMMARY_DOC.items()]
    return "\n\n".join([
        "Per-step metrics recorded per county (`sim.engine.METRICS`; summed over county "
        "groups in `timeseries.parquet`, where `wage_sum_local` becomes `mean_wage_local` and "
        "`infrastructure` becomes `mean_infrastructure`):",
        table(("metric", "reported as"), rows),
        "Summary indicators (`sim.results.SUMMARY_DOC`, in `summary.json`):",
        table(("key", "definition"), summary),
    ])


def _leading_comment(text: str) -> str:
    lines = []
    for line in text.splitlines():
        if line.startswith("#"):
            lines.append(line.lstrip("#").strip())
        elif line.strip():
            break
    return " ".join(lines)


def _settings(text: str) -> str:
    data = yaml.safe_load(text) or {}
    items = [f"{k}={fmt(v)}" for k, v in data.items() if k != "name"]
    return "; ".join(items) if items else "(schema defaults)"


def preset_tables() -> str:
    parts = []
    for group in PRESET_GROUPS:
        rows = []
        for name in C.presets(group):
            text = (C.CONFIG_DIR / group / f"{name}.yaml").read_text(encoding="utf-8")
            rows.append((f"`{group}={name}`", _leading_comment(text) or "—", _settings(text)))
        parts.append(f"**{group}** (`configs/{group}/`)\n\n"
                     + table(("preset", "description (leading comment)", "settings"), rows))
    return "\n\n".join(parts)


def estimated_table() -> str:
    """The default calibration's estimates with their plausible ranges and schema values."""
    path = ROOT / "results" / "calibration" / "estimate.json"
    if not path.exists():
        return "(no calibration has been run: `python -m experiments.calibrate`)"
    estimate = json.loads(path.read_text(encoding="utf-8"))
    schema = C.compose(["calibration=none"])
    rows = []
    for key, value in estimate["parameters"].items():
        section, name = key.split(".", 1)
        lo, hi = estimate["plausible_ranges"][key]
        rows.append((f"`{key}`", fmt(getattr(getattr(schema, section), name)), fmt(value),
                     f"[{fmt(lo)}, {fmt(hi)}]"))
    head = (f"`configs/calibration/nbs2024.yaml` (the default), from "
            f"`results/calibration/estimate.json`: {estimate['runs']} runs, code version "
            f"`{estimate['code_version']}`, {estimate['date']}. Method: {estimate['method']}. "
            "The plausible range is the span of the history-matching set (emulated "
            "implausibility below 3 on all but two moments); every other parameter keeps its "
            "schema value.")
    return head + "\n\n" + table(("parameter", "schema value", "estimate",
                                   "plausible range"), rows)


def generated_block() -> str:
    """The text that belongs between the markers (without the markers)."""
    sections = [
        "<!-- Generated by scripts/model_doc_tables.py; do not edit by hand. -->",
        "### 8.1 State variables (`sim.state`)",
        "Money fields of firms are in kernel units (yuan per agent-person, §2.4): multiply "
        "by `persons_per_agent` for replica yuan.",
        "#### County (`COUNTY_FIELDS`)",
        state_table(state.COUNTY_FIELDS),
        "#### County state during a run (`COUNTY_STATE_FIELDS`; per-industry fields have one "
        "column per industry, `status_counts` one per worker status)",
        state_table(state.COUNTY_STATE_FIELDS),
        "#### Firm (`FIRM_FIELDS`)",
        state_table(state.FIRM_FIELDS),
        "#### Worker (`WORKER_FIELDS`)",
        state_table(state.WORKER_FIELDS),
        "### 8.2 Industries (`sim.industries.TABLE`)",
        industry_tables(),
        "### 8.3 Parameters (`sim.config`)",
        "Every parameter is a Hydra override `group.name=value`; ranges are enforced before "
        "a run starts. `source` is `stylised` when the value is a modelling default rather "
        "than a number from data.",
        "#### Top level (`Config`)",
        top_level_table(),
    ]
    for prefix, cls in GROUPS:
        sections += [f"#### `{prefix}` (`{cls.__name__}`)", param_table(prefix, cls)]
    sections += [
        "### 8.4 Named constants fixed in the code",
        constants_table(),
        "### 8.5 Outputs",
        outputs_tables(),
        "### 8.6 Presets (`configs/`)",
        preset_tables(),
        "### 8.7 Estimated parameters (the default calibration, §10)",
        estimated_table(),
    ]
    return "\n" + "\n\n".join(sections) + "\n"


def render(text: str) -> str:
    """``text`` with its generated block replaced by the current tables."""
    return replace_block(text, BEGIN, END, generated_block())


def main(argv: list[str] | None = None) -> int:
    return generated_doc.main(__doc__.splitlines()[0], DOC, render, "scripts/model_doc_tables.py",
                              argv)


if __name__ == "__main__":
    sys.exit(main())
