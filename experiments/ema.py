"""The model for EMA Workbench, and the export of a sweep for PRIM scenario discovery.

**The model**: :func:`ema_model` is an ``ema_workbench.Model`` whose levers and
uncertainties are fields of the configuration schema (``sim/config.py``: each parameter's
type, and its range or choices where none is given, come from the schema) and whose
outcomes are the headline indicators of ``summary.json`` (:data:`OUTCOMES`)::

    from ema_workbench import SequentialEvaluator, perform_experiments
    from experiments.ema import ema_model
    model = ema_model(world="teaching", years=8)
    with SequentialEvaluator(model) as evaluator:      # or MultiprocessingEvaluator
        experiments, outcomes = perform_experiments(model, scenarios=20, policies=4,
                                                    evaluator=evaluator)

Each experiment is one run (``sim.run``) at the constant seed (common random numbers across
experiments). EMA names a parameter by its field (``policy_years``), or ``group_field`` when
two groups share a field name; the dotted path is its ``variable_name``.

**The export**: ``python -m experiments.ema DIR [--out FILE]`` writes
``DIR/ema_results.tar.gz`` by ``ema_workbench.save_results``: the experiments table (one row
per complete run: every swept parameter that varies, the policy preset when it varies, and
the seed, plus EMA's ``scenario`` / ``policy`` / ``model`` columns) and one scalar outcome
per summary field. It warns when no input varies (a sweep over seeds alone): PRIM then has
nothing to find a box in. Load it and run PRIM with EMA Workbench::

    from ema_workbench import load_results
    from ema_workbench.analysis import prim
    experiments, outcomes = load_results("DIR/ema_results.tar.gz")
    x = experiments.drop(columns=["scenario", "policy", "model", "seed"])
    y = outcomes["survival_5y"] >= 0.8
    box = prim.Prim(x, y, threshold=0.8).find_box()

EMA Workbench is an optional extra (``pip install -e ".[ema]"``; 2.5 on Python 3.11, 3.x on
3.12 and later).
"""

from __future__ import annotations

import argparse
import sys
import typing
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.aggregate import HEADLINE, collect_runs, design_columns, summary_fields
from experiments.calibrate import PARAMETERS
from experiments.design import DEFAULT_LEVERS
from sim.api import PRESET_GROUPS, RunInputError, field_paths, run, unknown_field_error
from sim.atomic import atomic_write
from sim.config import Config, presets

MODEL_NAME = "transfer_sim"
EMA_MODEL_NAME = "transfersim"  # EMA Workbench 2.5 accepts only letters and digits
EMA_COLUMNS = ("scenario", "policy", "model")
POLICY_PRESET = "policy_preset"  # the policy preset as an input column (EMA owns "policy")
NO_INPUT_VARIES = ("no input varies across the runs of {where} (only seeds differ): PRIM "
                   "finds no box; run a design where inputs vary, e.g. python -m "
                   "experiments.design lhs --lever policy.policy_years=1:6 --n 40 ...")

OUTCOMES = tuple(HEADLINE)
"""The model's outcomes: the headline indicators (``experiments.aggregate.HEADLINE``)."""
LEVERS: dict = {**DEFAULT_LEVERS, "policy.kpi": None}
"""Default levers: the design's policy levers and ranges (``experiments.design``) and the
KPI regime (choices from the schema)."""
UNCERTAINTIES: dict = {**{p.path: (p.lo, p.hi) for p in PARAMETERS}, "shock": None}
"""Default uncertainties: the calibration's free parameters over their search ranges
(``experiments.calibrate.PARAMETERS``) and the shock preset."""


# --- the model ---------------------------------------------------------------------------------

def _schema_meta(path: str) -> dict:
    """The ``param`` metadata (unit, lo, hi, choices) of a dotted schema field."""
    node: typing.Any = Config
    meta: dict = {}
    for part in path.split("."):
        field = node.__dataclass_fields__[part]
        meta = dict(field.metadata)
        node = typing.get_type_hints(node)[part]
    return meta


def ema_parameter(path: str, spec=None, name: str | None = None):
    """An EMA Workbench parameter for a schema field (or a preset group) by dotted path.

    Args:
        path: ``policy.credibility``, ``policy.kpi``, ``shock`` ...
        spec: ``(lo, hi)`` for a number, a sequence of choices for a string or preset, or
            None: the schema's range or choices (a preset group: all its presets).
        name: EMA's name of the parameter (a Python identifier); default the field name.

    Raises:
        RunInputError: an unknown field, or a range or choice the schema does not allow.
    """
    import ema_workbench as ema  # an optional extra

    name = name or path.split(".")[-1]
    if path in PRESET_GROUPS:
        known = presets(path)
        choices = list(spec) if spec is not None else known
        for choice in choices:
            if choice not in known:
                raise RunInputError(f"{path} = {choice!r} is not a known {path}; choose from "
                                    f"{', '.join(known)}")
        return ema.CategoricalParameter(name, choices, variable_name=path)
    hint = field_paths().get(path)
    if hint is None:
        raise unknown_field_error(path)
    meta = _schema_meta(path)
    if hint is bool:
        return ema.BooleanParameter(name, variable_name=path)
    if meta.get("choices"):
        choices = list(spec) if spec is not None else list(meta["choices"])
        for choice in choices:
            if choice not in meta["choices"]:
                raise RunInputError(f"{path} = {choice!r} is not allowed; choose from "
                                    f"{', '.join(meta['choices'])}")
        return ema.CategoricalParameter(name, choices, variable_name=path)
    if hint not in (int, float):
        raise RunInputError(f"{path} is not a number, a choice or a flag; it cannot vary")
    lo, hi = (meta.get("lo"), meta.get("hi")) if spec is None else spec
    allowed_lo, allowed_hi = meta.get("lo"), meta.get("hi")
    if lo is None or hi is None or not lo < hi:
        raise RunInputError(f"{path}: give a range (lo, hi) with lo < hi")
    if ((allowed_lo is not None and lo < allowed_lo)
            or (allowed_hi is not None and hi > allowed_hi)):
        raise RunInputError(f"{path} range [{lo}, {hi}] is outside the allowed "
                            f"[{allowed_lo}, {allowed_hi}] ({meta.get('unit', '')})")
    kind = ema.IntegerParameter if hint is int else ema.RealParameter
    return kind(name, hint(lo), hint(hi), variable_name=path)


def _ema_names(paths: Sequence[str]) -> dict[str, str]:
    """EMA's name per path: the field name, or ``group_field`` where field names collide."""
    fields = [p.split(".")[-1] for p in paths]
    return {p: (f if fields.count(f) == 1 else p.replace(".", "_"))
            for p, f in zip(paths, fields, strict=True)}


def run_experiment(outcomes: tuple, years: int | None = None, seed: int | None = None,
                   **inputs) -> dict[str, float]:
    """One experiment: ``sim.run`` with the inputs (preset groups by name, schema fields by
    dotted path); the outcomes from its summary (NaN where undefined)."""
    chosen = {group: inputs.pop(group) for group in PRESET_GROUPS if group in inputs}
    inputs = {path: (value.item() if isinstance(value, np.generic) else value)
              for path, value in inputs.items()}
    result = run(seed=seed, years=years, **chosen, **inputs)
    return {name: float(result.summary[name]) for name in outcomes}


def ema_model(world: str = "teaching", years: int = 8, seed: int = 0, policy: str = "baseline",
              levers: Mapping[str, typing.Any] | None = None,
              uncertainties: Mapping[str, typing.Any] | None = None,
              outcomes: Sequence[str] = OUTCOMES):
    """A ready ``ema_workbench.Model`` of the simulation.

    Args:
        world, policy: presets every experiment starts from; ``years`` and ``seed`` are the
            same in every experiment (common random numbers).
        levers, uncertainties: dotted schema paths (or ``shock`` / ``policy`` for a preset)
            to ``(lo, hi)``, a sequence of choices, or None for the schema's range or
            choices; default :data:`LEVERS` and :data:`UNCERTAINTIES`.
        outcomes: ``summary.json`` fields (default the headline indicators).

    Raises:
        RunInputError: an unknown field or outcome, or a range the schema does not allow.
    """
    import ema_workbench as ema  # an optional extra

    levers = dict(LEVERS if levers is None else levers)
    uncertainties = dict(UNCERTAINTIES if uncertainties is None else uncertainties)
    both = set(levers) & set(uncertainties)
    if both:
        raise RunInputError(f"{sorted(both)[0]} is both a lever and an uncertainty")
    unknown = [name for name in outcomes if name not in summary_fields()]
    if unknown:
        raise RunInputError(f"outcome {unknown[0]!r} is not a summary field (see "
                            "sim.results.SUMMARY_DOC)")
    names = _ema_names([*levers, *uncertainties])
    model = ema.Model(EMA_MODEL_NAME, function=run_experiment)
    model.levers = [ema_parameter(p, spec, names[p]) for p, spec in levers.items()]
    model.uncertainties = [ema_parameter(p, spec, names[p])
                           for p, spec in uncertainties.items()]
    model.outcomes = [ema.ScalarOutcome(name) for name in outcomes]
    fixed = {"world": world, "policy": policy, "years": int(years), "seed": int(seed),
             "outcomes": tuple(outcomes)}
    varied = set(names) | set(names.values())  # a varied preset or run.seed is a parameter
    model.constants = [ema.Constant(key, value) for key, value in fixed.items()
                       if key not in varied]
    return model


# --- the export ----------------------------------------------------------------------------

def ema_tables(runs: pd.DataFrame, design: list[str],
               outcomes: list[str]) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """The experiments table and outcomes dict of the complete runs of a sweep.

    Args:
        runs: the runs table (``experiments.aggregate.collect_runs``).
        design: the columns identifying a design point.
        outcomes: summary fields to export.
    """
    done = runs[runs.status == "complete"].reset_index(drop=True)
    params = [c for c in design if c not in EMA_COLUMNS and c != "design_point"
              and done[c].nunique(dropna=False) > 1]  # constants tell PRIM nothing
    if "policy" in done and done["policy"].nunique(dropna=False) > 1:
        # A sweep over policy presets: the preset is an input (EMA's own "policy" column is
        # dropped before PRIM).
        params.append(POLICY_PRESET)
        done = done.assign(**{POLICY_PRESET: done["policy"].astype(str)})
    experiments = done[params].copy()
    for col in experiments.columns:
        if experiments[col].dtype == object:
            experiments[col] = experiments[col].astype("category")
    experiments["seed"] = done.seed.astype(int).to_numpy()
    scenario_cols = [c for c in params if c != POLICY_PRESET] + ["seed"]
    keys = experiments[scenario_cols].astype(str).agg("|".join, axis=1)
    experiments["scenario"] = pd.Categorical(keys).codes.astype(int)
    experiments["policy"] = done["policy"].astype(str) if "policy" in done else "none"
    experiments["model"] = MODEL_NAME
    data = {name: done[name].to_numpy(dtype=float) for name in outcomes}
    return experiments, data


def warn_if_no_input_varies(experiments: pd.DataFrame, where) -> bool:
    """Warn (and return True) when the experiments table has no input but the seed."""
    if experiments.columns.difference([*EMA_COLUMNS, "seed"]).empty:
        warnings.warn(NO_INPUT_VARIES.format(where=where), UserWarning, stacklevel=2)
        return True
    return False


def export(sweep_dir: Path, out: Path | None = None) -> Path:
    """Write the EMA Workbench results file of ``sweep_dir``; return its path."""
    with warnings.catch_warnings():  # optional ipyparallel support, not used here
        warnings.simplefilter("ignore", UserWarning)
        from ema_workbench import ScalarOutcome, save_results  # an optional extra

    sweep_dir = Path(sweep_dir)
    runs = collect_runs(sweep_dir)
    if runs.empty or not (runs.status == "complete").any():
        raise FileNotFoundError(f"no complete runs in {sweep_dir}")
    outcomes = summary_fields()
    experiments, data = ema_tables(runs, design_columns(runs), outcomes)
    warn_if_no_input_varies(experiments, sweep_dir)
    for name in outcomes:
        ScalarOutcome(name)  # registers the outcome's kind, which save_results looks up
    out = Path(out) if out else sweep_dir / "ema_results.tar.gz"
    atomic_write(out, lambda tmp: save_results((experiments, data), tmp))
    return out


def main(argv: list[str] | None = None) -> int:
    """``python -m experiments.ema DIR [--out FILE]``."""
    parser = argparse.ArgumentParser(prog="python -m experiments.ema",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("sweep_dir", type=Path)
    parser.add_argument("--out", type=Path, default=None,
                        help="output file (default DIR/ema_results.tar.gz)")
    args = parser.parse_args(argv)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UserWarning)
            path = export(args.sweep_dir, args.out)
        for warning in caught:
            if str(warning.message).startswith("no input varies"):
                print(f"warning: {warning.message}", file=sys.stderr)
    except ImportError:
        print('error: EMA Workbench is not installed: pip install -e ".[ema]"', file=sys.stderr)
        return 2
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
