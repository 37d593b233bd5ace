"""Property-based tests over the configuration surface (issue 13; hypothesis).

Random valid configurations on small worlds keep every invariant after every month: workers
conserved, employees consistent with the workers' status, counts and money flows >= 0, every
value finite (the run's own guard, ``sim.state.non_finite``), and the governments' books
balanced (granted + carried in = spent + carried + returned, nothing overspent). Random
invalid values and malformed overrides are refused with one line (exit 2 on the command
line), before any output is written.

A bounded number of examples runs by default (derandomised: the same examples every time,
well inside CI's time budget). The extended run is marked ``fuzz`` and deselected by
default: ``pytest -m fuzz tests/test_properties.py`` (``TSIM_FUZZ_EXAMPLES`` examples per
property, default 300, drawn from seed ``TSIM_FUZZ_SEED``, default 0).
"""

from __future__ import annotations

import math
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, assume, given, seed, settings
from hypothesis import strategies as st

from sim.cli import InputError, preflight
from sim.config import (
    INDUSTRIES,
    SHARE_GROUPS,
    Config,
    ConfigError,
    compose,
    field_paths,
    groups,
    presets,
    schema_field,
)
from sim.engine import Simulation
from sim.results import government_frame
from tests.test_engine import _check_invariants

# No "explain" phase: it traces coverage, which multiplies the time of a failing example.
BOUNDED = settings(max_examples=20, deadline=None, derandomize=True, database=None,
                   phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
FUZZ_EXAMPLES = int(os.environ.get("TSIM_FUZZ_EXAMPLES", "300"))
EXTENDED = settings(BOUNDED, max_examples=FUZZ_EXAMPLES, derandomize=False)
fuzz_seed = seed(int(os.environ.get("TSIM_FUZZ_SEED", "0")))

# Fields a draw leaves alone: sizes and run options are drawn separately (small worlds),
# the case world's fields belong together, names are labels, and the selection table must
# exist (policy.selection=simulated is left out below).
FIXED = {"world.name", "policy.name", "shock.name", "policy.selection_table",
         "world.n_origin", "world.n_central", "world.n_poverty", "world.n_key_assistance",
         "world.n_resettlement", "world.worker_agents", "world.case_counties",
         "world.case_industry", "engine"}
# Fields that multiply the agents or firms of a run: drawn up to 3 x their default, so an
# example stays a small world.
GROWTH = {"world.persons_per_agent", "world.firms_per_1000_persons_origin",
          "world.firms_per_1000_persons_central", "world.firms_per_1000_persons_poverty",
          "model.birth_rate", "model.mobile_entry_rate", "model.satellite_rate",
          "model.local_birth_rate", "model.returnee_rate", "policy.node_workshop_rate",
          "world.population_weight_origin", "world.population_weight_central",
          "world.case_population_weight", "world.transfer_receiving_population_boost",
          "world.resettlement_population_boost"}
DRAWN = [p for p in field_paths() if p not in FIXED and not p.startswith("run.")]


def _default(path: str):
    value = Config()
    for part in path.split("."):
        value = getattr(value, part)
    return value


def _value(path: str) -> st.SearchStrategy:
    """A valid value of one field, as override text."""
    f = schema_field(path)
    meta = dict(f.metadata)
    choices = meta.get("choices")
    if f.type == "bool":
        return st.sampled_from(["true", "false"])
    if choices is not None:
        if f.type.startswith("list"):
            items = st.lists(st.sampled_from(choices), min_size=1, max_size=4, unique=True)
            return items.map(lambda xs: "[" + ",".join(xs) + "]")
        allowed = [c for c in choices if (path, c) != ("policy.selection", "simulated")]
        return st.sampled_from(allowed)
    lo, hi = meta["lo"], meta["hi"]
    if path in GROWTH:
        hi = min(hi, 3 * max(_default(path), lo or 0))
    if f.type == "int":
        return st.integers(int(lo), int(min(hi, 10**6))).map(str)
    number = st.floats(lo, hi, allow_nan=False, allow_infinity=False).map(repr)
    if f.type.startswith("list"):
        return st.lists(number, min_size=1, max_size=4, unique=True).map(
            lambda xs: "[" + ",".join(xs) + "]")
    return number


@st.composite
def valid_overrides(draw) -> list[str]:
    """A small world, a few years, presets and up to five other fields drawn in range."""
    n_origin, n_central = draw(st.integers(1, 4)), draw(st.integers(0, 6))
    n_poverty = draw(st.integers(3, 12))
    n_counties = n_origin + n_central + n_poverty
    overrides = [
        "world=teaching", f"policy={draw(st.sampled_from(presets('policy')))}",
        f"shock={draw(st.sampled_from(presets('shock')))}",
        f"world.n_origin={n_origin}", f"world.n_central={n_central}",
        f"world.n_poverty={n_poverty}",
        f"world.n_key_assistance={draw(st.integers(0, n_poverty))}",
        f"world.n_resettlement={draw(st.integers(0, n_poverty))}",
        f"world.worker_agents={draw(st.integers(10 * n_counties, 3000))}",
        f"run.years={draw(st.integers(1, 3))}", f"run.seed={draw(st.integers(0, 2**31))}",
        "run.threads=1",
    ]
    for path in draw(st.lists(st.sampled_from(DRAWN), max_size=5, unique=True)):
        overrides.append(f"{path}={draw(_value(path))}")
    return overrides


def _valid_config(overrides: list[str]) -> Config:
    try:
        cfg = compose(overrides)
    except ConfigError:
        assume(False)  # a cross-field rule (min wage <= wage, shares <= 1, ...) refused it
    manufacturing = set(cfg.world.industries) & set(INDUSTRIES)
    assume(manufacturing or "musical_instruments" in cfg.world.industries)
    return cfg


def _check_books(sim: Simulation) -> None:
    """Money accounted for every county-year: what was granted (and carried in) was spent,
    carried or returned; nothing was spent that was not there."""
    df = government_frame(sim, {})
    if df.empty:
        return
    scale = float(np.maximum(df.granted + df.carried_in, 1.0).max())
    tol = 1e-9 * scale
    np.testing.assert_allclose(df.granted + df.carried_in,
                               df.spent_total + df.carried + df.returned, rtol=1e-9, atol=tol)
    spent = [c for c in df if c.startswith("spent_") and c != "spent_total"]
    assert (df[spent] >= -tol).all().all(), "negative spending"
    assert (df.carried >= -tol).all()
    assert (df.carried <= sim.cfg.policy.carryover_cap * df.granted + tol).all()
    # Nothing is spent that was not there (training gives whole courses up to its budget:
    # before, a 40-worker world's draws trained 80 on a budget of 20).
    assert (df.returned >= -tol).all(), "spent more than granted + carried in"
    assert np.isfinite(df.select_dtypes("number").to_numpy()).all()


# Configurations run and months checked in this session (printed with ``pytest -s``).
COVERED = {"configurations": 0, "steps": 0}


@pytest.fixture(autouse=True, scope="module")
def _report_coverage():
    yield
    if COVERED["configurations"]:
        print(f"\nproperty runs: {COVERED['configurations']} valid configurations, "
              f"{COVERED['steps']} months checked")


def _run_and_check(overrides: list[str]) -> int:
    """Run the configuration, checking the invariants after every month; the steps run."""
    sim = Simulation(_valid_config(overrides))
    COVERED["configurations"] += 1
    COVERED["steps"] += sim.n_steps
    while sim.step_index < sim.n_steps:
        sim.step()  # raises NonFiniteStateError on a NaN or an infinity
        _check_invariants(sim)
        s = sim.state
        assert np.all(s.retention_budget >= -1e-6) and np.all(s.seekers >= 0)
        assert np.all(sim.firms.capacity[: sim.n_firms] >= 0)
    _check_books(sim)
    return sim.n_steps


@BOUNDED
@given(valid_overrides())
def test_random_valid_configurations_keep_every_invariant(overrides):
    _run_and_check(overrides)


@pytest.mark.fuzz
@fuzz_seed
@EXTENDED
@given(valid_overrides())
def test_random_valid_configurations_keep_every_invariant_extended(overrides):
    _run_and_check(overrides)


# --- invalid input -------------------------------------------------------------------------------

RANGED = [p for p in field_paths() if dict(schema_field(p).metadata).get("hi") is not None
          and not schema_field(p).type.startswith("list")]
CHOSEN = [p for p in field_paths() if dict(schema_field(p).metadata).get("choices")]
# Words that are no field, preset or value (Hydra reads null, true, false, nan, inf itself).
IDENT = st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12).filter(
    lambda w: w not in {"null", "true", "false", "nan", "inf"} and not w.startswith("hydra"))


@st.composite
def invalid_overrides(draw) -> tuple[list[str], str]:
    """A valid base plus one bad override, and a fragment the one-line refusal must name."""
    base = draw(st.sampled_from([[], ["world=teaching"], ["world=teaching", "run.years=2"]]))
    kind = draw(st.sampled_from(["range", "type", "choice", "group", "added", "repeat",
                                 "shares", "flag", "list_repeat", "unknown"]))
    if kind == "range":
        path = draw(st.sampled_from(RANGED))
        meta = dict(schema_field(path).metadata)
        above = draw(st.booleans()) or meta["lo"] is None
        if above:
            bad = meta["hi"] + draw(st.sampled_from([1, 10, 1e6, math.inf]))
        else:
            bad = meta["lo"] - draw(st.sampled_from([1, 0.5, 1e9]))
        text = str(int(bad)) if schema_field(path).type == "int" and math.isfinite(bad) \
            else repr(float(bad))
        return base + [f"{path}={text}"], path
    if kind == "type":
        path = draw(st.sampled_from(RANGED))
        return base + [f"{path}={draw(IDENT)}x"], path
    if kind == "choice":
        path = draw(st.sampled_from(CHOSEN))
        word = draw(IDENT.filter(lambda w: w not in schema_field(path).metadata["choices"]))
        value = f"[{word}]" if schema_field(path).type.startswith("list") else word
        return base + [f"{path}={value}"], word
    if kind == "group":
        group = draw(st.sampled_from([g for g in groups() if g != "world"] + ["world"]))
        name = draw(IDENT.filter(lambda w: w not in presets(group)))
        return [o for o in base if not o.startswith(f"{group}=")] + [f"{group}={name}"], name
    if kind == "added":
        section = draw(st.sampled_from(["world", "policy", "shock", "model", "run", ""]))
        leaf = draw(IDENT.filter(lambda w: schema_field(f"{section}.{w}".strip(".")) is None
                                 and w not in groups()))
        key = f"{section}.{leaf}".strip(".")
        return base + [f"{draw(st.sampled_from(['+', '++']))}{key}=1"], key
    if kind == "repeat":
        path = draw(st.sampled_from(RANGED))
        return base + [f"{path}={_default(path)}", f"{path}={_default(path)}"], "given twice"
    if kind == "shares":
        paths = draw(st.sampled_from(list(SHARE_GROUPS.values())))
        values = draw(st.lists(st.floats(0.26, 1), min_size=len(paths), max_size=len(paths)))
        return base + [f"{p}={v!r}" for p, v in zip(paths, values, strict=True)], "at most 1"
    if kind == "flag":
        path = draw(st.sampled_from([p for p in field_paths() if schema_field(p).type == "bool"]))
        value = draw(st.sampled_from(["2", "0", "1", "yes", "no", "on", "maybe", "1.5"]))
        return base + [f"{path}={value}"], path
    if kind == "list_repeat":
        path = draw(st.sampled_from(["world.industries", "shock.export_industries",
                                     "shock.sanction_industries"]))
        item = draw(st.sampled_from(INDUSTRIES))
        return base + [f"{path}=[{item},{item}]"], path
    # not a field at all (no "+")
    path = draw(st.sampled_from(["world", "policy", "model", "run", "shock"]))
    leaf = draw(IDENT.filter(lambda w: schema_field(f"{path}.{w}") is None))
    return base + [f"{path}.{leaf}=1"], leaf


TEXT = st.text(st.characters(codec="ascii", exclude_categories=["Cc"]), max_size=20)
# Any text, alone or as the value of a real field (which reaches composition and validation).
MALFORMED = st.lists(TEXT | st.builds(lambda key, value: f"{key}={value}",
                                      st.sampled_from(field_paths()), TEXT),
                     min_size=1, max_size=3)


def _refused_in_one_line(overrides: list[str], fragment: str | None) -> str:
    with pytest.raises(InputError) as info:
        preflight(overrides)
    message = str(info.value)
    assert "\n" not in message and message.strip()
    if fragment is not None:
        assert fragment in message, (overrides, message)
    return message


@settings(BOUNDED, max_examples=60)
@given(invalid_overrides())
def test_random_invalid_values_are_refused_in_one_line(case):
    overrides, fragment = case
    _refused_in_one_line(overrides, fragment)


@settings(BOUNDED, max_examples=40)
@given(MALFORMED)
def test_random_text_is_refused_in_one_line_or_is_a_valid_override(texts):
    """Any text: either a valid override (rare) or a one-line InputError, never another
    exception."""
    try:
        preflight(texts)
    except InputError as exc:
        assert "\n" not in str(exc)


@pytest.mark.fuzz
@fuzz_seed
@EXTENDED
@given(invalid_overrides())
def test_random_invalid_values_are_refused_in_one_line_extended(case):
    overrides, fragment = case
    _refused_in_one_line(overrides, fragment)


@pytest.mark.fuzz
@fuzz_seed
@EXTENDED
@given(MALFORMED)
def test_random_text_is_refused_in_one_line_or_is_a_valid_override_extended(texts):
    try:
        preflight(texts)
    except InputError as exc:
        assert "\n" not in str(exc)


@settings(BOUNDED, max_examples=3)
@given(invalid_overrides())
def test_the_command_line_exits_2_and_leaves_no_outputs(tmp_path_factory, case):
    overrides, _ = case
    out = tmp_path_factory.mktemp("cli") / "run"
    proc = subprocess.run([sys.executable, "-m", "sim", *overrides, f"hydra.run.dir={out}"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr[-300:]
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert not out.exists()  # nothing that could pass for a run
