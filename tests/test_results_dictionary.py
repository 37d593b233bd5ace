"""The data dictionary of results/README.md is generated from the code and current."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _generator():
    spec = importlib.util.spec_from_file_location(
        "results_dictionary", ROOT / "scripts" / "results_dictionary.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_results_readme_dictionary_is_current():
    gen = _generator()
    text = (ROOT / "results" / "README.md").read_text(encoding="utf-8")
    assert gen.render(text) == text, "stale; run .venv/bin/python scripts/results_dictionary.py"
    for column in ("`diff_ci_low`", "`runs_complete`", "`efficient`", "`survival_3y`",
                   "`marginal_cost_per_poverty_job_year`", "`run.report`"):
        assert column in text, column


def test_dictionary_generator_replaces_only_its_block():
    gen = _generator()
    out = gen.render(f"head\n{gen.BEGIN}\nstale\n{gen.END}\ntail\n")
    assert out.startswith(f"head\n{gen.BEGIN}\n") and out.endswith(f"{gen.END}\ntail\n")
    assert "stale" not in out and "`comparison.csv`" in out
    with pytest.raises(ValueError):
        gen.render("no markers")
