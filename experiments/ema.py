"""Export a sweep in EMA Workbench's format for PRIM scenario discovery.

``python -m experiments.ema DIR [--out FILE]`` writes ``DIR/ema_results.tar.gz`` by
``ema_workbench.save_results``: the experiments table (one row per complete run: every
swept parameter and the seed, plus EMA's ``scenario`` / ``policy`` / ``model`` columns) and
one scalar outcome per summary field. Load it and run PRIM with EMA Workbench::

    from ema_workbench import load_results
    from ema_workbench.analysis import prim
    experiments, outcomes = load_results("DIR/ema_results.tar.gz")
    x = experiments.drop(columns=["scenario", "policy", "model", "seed"])
    y = outcomes["survival_5y"] >= 0.8
    box = prim.Prim(x, y, threshold=0.8).find_box()

EMA Workbench is an optional extra (``pip install -e ".[ema]"``; 2.5.x on Python 3.11).
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.aggregate import collect_runs, design_columns, summary_fields
from sim.atomic import atomic_write

MODEL_NAME = "transfer_sim"
EMA_COLUMNS = ("scenario", "policy", "model")


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
    experiments = done[params].copy()
    for col in experiments.columns:
        if experiments[col].dtype == object:
            experiments[col] = experiments[col].astype("category")
    experiments["seed"] = done.seed.astype(int).to_numpy()
    scenario_cols = [c for c in params if c not in ("policy",)] + ["seed"]
    keys = experiments[scenario_cols].astype(str).agg("|".join, axis=1)
    experiments["scenario"] = pd.Categorical(keys).codes.astype(int)
    experiments["policy"] = done["policy"].astype(str) if "policy" in done else "none"
    experiments["model"] = MODEL_NAME
    data = {name: done[name].to_numpy(dtype=float) for name in outcomes}
    return experiments, data


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
        path = export(args.sweep_dir, args.out)
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
