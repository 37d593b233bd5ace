"""Configuration: schema, presets and one-line errors for bad input."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from sim.cli import InputError, preflight
from sim.config import (
    SHARE_GROUPS,
    Config,
    ConfigError,
    ModelConfig,
    PolicyConfig,
    RunConfig,
    ShockConfig,
    WorldConfig,
    compose,
    describe_field,
    field_table,
    presets,
    schema_field,
    validate,
)
from tests.conftest import make_config


@pytest.mark.parametrize("override, fragment", [
    ("world.wage_east=-1", "world.wage_east"),
    ("world.min_wage_west=-5", "world.min_wage_west"),
    ("world.poverty_alleviated_share=1.5", "[0, 1]"),
    ("policy.credibility=-0.1", "policy.credibility"),
    ("world.industries=[textile_apparel,steel]", "steel"),
    ("world=atlantis", "choose from"),
    ("run.years=0", "run.years"),
    ("run.years=abc", "run.years must be a number in [1, 200]"),
    ("world.no_such_field=1", "no_such_field"),
    ("broken=[1,2", "malformed override"),
    ("policy.kpi=bogus", "count, reform"),
    ("world.n_key_assistance=5000", "world.n_key_assistance"),
    ("shock.sanction_industries=[cars]", "cars"),
])
def test_bad_input_is_one_line_naming_the_field(override, fragment):
    with pytest.raises(InputError) as info:
        preflight([override])
    message = str(info.value)
    assert fragment in message
    assert "\n" not in message


def test_each_value_of_a_sweep_is_checked():
    with pytest.raises(InputError, match="world.wage_east"):
        preflight(["world.wage_east=5000,-3"])
    with pytest.raises(InputError, match="not a known policy"):
        preflight(["policy=baseline,nonsense"])
    preflight(["run.seed=range(3)", "world=teaching"])  # valid sweep passes


@pytest.mark.parametrize("args", [["world.wage_east=-1"], ["world=atlantis"], ["run.years=0"],
                                  ["x=[1"]])
def test_cli_exits_2_without_traceback(args, tmp_path):
    out = tmp_path / "run"
    proc = subprocess.run([sys.executable, "-m", "sim", *args, f"hydra.run.dir={out}"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert not out.exists()  # failed before any work


def test_bad_input_leaves_existing_results_untouched(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "summary.json").write_text('{"kept": true}')
    proc = subprocess.run([sys.executable, "-m", "sim", "run.years=-1", f"hydra.run.dir={out}"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert (out / "summary.json").read_text() == '{"kept": true}'


def test_every_preset_is_valid():
    for group in ("world", "policy", "shock"):
        names = presets(group)
        assert names, group
        for name in names:
            cfg = make_config(f"{group}={name}")
            assert getattr(cfg, group).name == name


def test_composing_gives_a_validated_config():
    cfg = compose(["world=teaching", "policy=kpi_reform", "run.years=4"])
    assert isinstance(cfg, Config)
    assert (cfg.world.name, cfg.policy.name, cfg.run.years) == ("teaching", "kpi_reform", 4)
    with pytest.raises(ConfigError, match="policy.credibility"):
        compose(["policy.credibility=2"])


def test_sim_does_not_import_experiments():
    """Layering: ``experiments`` is built on ``sim``, never the other way."""
    for path in (Path(__file__).resolve().parent.parent / "sim").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            assert not any(n.split(".")[0] == "experiments" for n in names), (
                f"{path.name}:{node.lineno} imports experiments")


def test_required_groups_exist():
    assert {"teaching", "default", "national"} <= set(presets("world"))
    assert "baseline" in presets("policy")
    assert "none" in presets("shock")


def test_validate_checks_cross_field_constraints():
    cfg = Config()
    cfg.world.n_resettlement = cfg.world.n_poverty + 1
    with pytest.raises(ConfigError, match="n_resettlement"):
        validate(cfg)
    cfg = Config()
    cfg.model.skill_floor = cfg.model.skill_ceiling + 0.01
    with pytest.raises(ConfigError, match="model.skill_floor"):
        validate(cfg)


def test_every_field_documents_its_unit_or_meaning():
    for cls in (WorldConfig, PolicyConfig, ShockConfig, ModelConfig, RunConfig):
        for row in field_table(cls):
            if row["name"] == "name":
                continue
            assert row["unit"] or row["doc"] or row["range"], f"{cls.__name__}.{row['name']}"


def test_describe_field_reports_the_range():
    assert describe_field("world.female_share") == "a number in [0, 1] (share)"
    assert describe_field("policy.kpi") == "one of count, reform"
    assert describe_field("world.nonexistent") == ""


# --- issue 13: what the command line used to accept silently -----------------------------------

@pytest.mark.parametrize("overrides, fragment", [
    # the special fund spent 110.8 M of 66.7 M allocated with every use at 1
    (["policy.fund_infrastructure=1", "policy.fund_training=1", "policy.fund_freight=1",
      "policy.fund_credit=1"], "must be at most 1"),
    (["policy.fund_training=0.71"], "policy.fund_training"),  # 0.4 + 0.71 + 0.2 + 0.1 > 1
    (["+model.foo=1"], "model.foo is not a field"),
    (["++model.foo=1"], "model.foo is not a field"),
    (["++model.serch_prob=0.1"], "did you mean model.search_prob"),
    (["+experiment=x"], "groups are calibration, policy, shock, world"),
    (["world=teaching", "world=default"], "world is given twice"),
    (["model.search_prob=0.1", "model.search_prob=0.2"], "given twice"),
    (["run.seed=range(2)", "run.seed=5"], "run.seed is given twice"),
    (["world.industries=[plush_toys,plush_toys]"], "world.industries lists 'plush_toys'"),
    (["shock.export_industries=[plush_toys,plush_toys]"], "more than once"),
    (["policy.generosity_levels=[0.5,0.5]"], "policy.generosity_levels lists 0.5"),
    (["run.figures=2"], "run.figures = 2 must be true or false"),
    (["run.progress=yes"], "must be true or false"),
    (["run.figures=true,2"], "run.figures = 2"),
])
def test_silently_accepted_input_is_refused_in_one_line(overrides, fragment):
    with pytest.raises(InputError) as info:
        preflight(overrides)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_share_groups_name_existing_fields_and_presets_respect_them():
    for paths in SHARE_GROUPS.values():
        assert all(schema_field(p) is not None for p in paths), paths
    for name in presets("policy"):  # every policy preset keeps its shares within the whole
        make_config(f"policy={name}")
    preflight(["policy.fund_infrastructure=0.7", "policy.fund_training=0",
               "policy.fund_credit=0.1"])


def test_valid_flags_additions_and_layered_compose_still_pass():
    preflight(["run.figures=false", "++run.progress=false", "world=teaching",
               "world.industries=[plush_toys,textile_apparel]", "hydra.run.dir=x"])
    # Programs layer overrides on purpose (the last wins); only the command line refuses it.
    assert compose(["world=default", "world=teaching"]).world.name == "teaching"
    with pytest.raises(ConfigError, match="model.foo"):
        compose(["+model.foo=1"])


def test_cli_refuses_duplicate_world_without_running(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.run([sys.executable, "-m", "sim", "world=teaching", "world=default",
                           f"hydra.run.dir={out}"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("error: world is given twice (world=teaching, "
                                   "world=default); give each key or group once")
    assert not out.exists()
