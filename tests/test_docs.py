"""The model document (docs/model.md) cannot silently drift from the code.

Every config field and every state field must be named in the document, and its generated
reference block must equal what ``scripts/model_doc_tables.py`` produces now. To fix a failure,
run ``.venv/bin/python scripts/model_doc_tables.py`` (and describe new rules in the prose).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import inspect
import re
from pathlib import Path

import pytest

from sim import config as C
from sim import state
from sim.results import SUMMARY_DOC

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "model.md"
SCRIPT = ROOT / "scripts" / "model_doc_tables.py"
FIX = "run .venv/bin/python scripts/model_doc_tables.py"


def _load_generator():
    spec = importlib.util.spec_from_file_location("model_doc_tables", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def doc_text() -> str:
    return DOC.read_text(encoding="utf-8")


def _named(text: str, name: str) -> bool:
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", text) is not None


def _config_dataclasses() -> list[type]:
    return [obj for _, obj in inspect.getmembers(C, inspect.isclass)
            if dataclasses.is_dataclass(obj) and obj.__module__ == C.__name__]


def test_config_dataclasses_found():
    names = {cls.__name__ for cls in _config_dataclasses()}
    assert {"Config", "WorldConfig", "PolicyConfig", "ShockConfig", "ModelConfig",
            "RunConfig"} <= names


@pytest.mark.parametrize("cls", _config_dataclasses(), ids=lambda c: c.__name__)
def test_every_config_field_is_documented(doc_text, cls):
    missing = [f.name for f in dataclasses.fields(cls) if not _named(doc_text, f.name)]
    assert not missing, f"{cls.__name__} fields missing from docs/model.md: {missing}; {FIX}"


@pytest.mark.parametrize("registry", ["COUNTY_FIELDS", "FIRM_FIELDS", "WORKER_FIELDS"])
def test_every_state_field_is_documented(doc_text, registry):
    fields = getattr(state, registry)
    missing = [f.name for f in fields if not _named(doc_text, f.name)]
    assert not missing, f"{registry} fields missing from docs/model.md: {missing}; {FIX}"


def test_every_summary_indicator_is_documented(doc_text):
    missing = [k for k in SUMMARY_DOC if not _named(doc_text, k)]
    assert not missing, f"summary keys missing from docs/model.md: {missing}; {FIX}"


def test_generated_block_is_up_to_date(doc_text):
    gen = _load_generator()
    assert doc_text.count(gen.BEGIN) == 1 and doc_text.count(gen.END) == 1
    assert gen.render(doc_text) == doc_text, f"the generated tables are stale; {FIX}"


def test_generator_replaces_only_the_block():
    gen = _load_generator()
    text = f"head\n{gen.BEGIN}\nstale\n{gen.END}\ntail\n"
    out = gen.render(text)
    assert out.startswith(f"head\n{gen.BEGIN}\n") and out.endswith(f"{gen.END}\ntail\n")
    assert "stale" not in out and "`world.n_poverty`" in out
    with pytest.raises(ValueError):
        gen.render("no markers here")
