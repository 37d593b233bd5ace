"""Latin hypercube and Sobol designs over chosen levers (SALib), run through Hydra's launcher.

::

    python -m experiments.design sobol --n 8 --seeds 2 world=teaching run.years=6 \\
        hydra/launcher=joblib
    python -m experiments.design lhs --lever policy.policy_years=1:6 \\
        --lever policy.credibility=0.5:1 --n 40 --seeds 3 world=teaching run.years=6

Each design point is run with every seed (common random numbers across points); the
outputs are averaged over seeds per point before the analysis. A Sobol design (Saltelli's
scheme, ``SALib.sample.sobol``) has ``N * (k + 2)`` points for k levers (``N * (2k + 2)``
with ``--second-order``), N a power of two; it reports first-order and total Sobol indices
(``SALib.analyze.sobol``) of ``survival_5y`` and ``poverty_pop_local_jobs_end`` with their 95 %
bootstrap half-widths in ``sensitivity.csv``. A Latin hypercube (``SALib.sample.latin``) has N
points and reports first-order indices by RBD-FAST; it is the design for scenario discovery
(``python -m experiments.ema``). Integer levers are rounded after sampling.

The sweep directory is ``results/sweeps/<method>-<hash>`` (the hash covers the design, the
overrides and the model's code), so rerunning the same command resumes it; each job writes
to ``point<i>_seed<s>``. ``sweep.json`` holds the design (problem, samples, seeds) and the
job list, and ``python -m experiments.aggregate DIR`` recomputes the indices.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import typing
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.launch import launch_jobs
from experiments.manifest import write_manifest
from experiments.stats import index_warning
from sim.atomic import atomic_write_bytes
from sim.cli import InputError, preflight
from sim.config import Config
from sim.jobs import code_version, default_sweep_dir, sweep_dir_override

DEFAULT_LEVERS = {
    "policy.policy_years": (1.0, 6.0),
    "policy.credibility": (0.5, 1.0),
    "policy.wage_subsidy": (0.0, 800.0),
    "policy.training_budget": (0.0, 600.0),
    "policy.special_fund": (0.0, 1.0e11),
}
OUTPUTS = ("survival_5y", "poverty_pop_local_jobs_end")
METHODS = ("sobol", "lhs")


class DesignError(ValueError):
    """A bad design specification; the message is one line."""


def lever_type(path: str) -> type:
    """The Python type (int or float) of a numeric config field such as ``policy.credibility``.

    Raises:
        DesignError: if the path is not a numeric field of the configuration schema.
    """
    node: type = Config
    for part in path.split("."):
        hints = typing.get_type_hints(node) if dataclasses.is_dataclass(node) else {}
        if part not in hints:
            raise DesignError(f"{path} is not a configuration field")
        node = hints[part]
    if node not in (int, float):
        raise DesignError(f"{path} is not a numeric field (it is {node}); levers must be numbers")
    return node


def parse_lever(text: str) -> tuple[str, float, float]:
    """``key=lo:hi`` -> (key, lo, hi)."""
    key, sep, rng = text.partition("=")
    lo, sep2, hi = rng.partition(":")
    try:
        bounds = float(lo), float(hi)
    except ValueError:
        bounds = None
    if not sep or not sep2 or bounds is None or not bounds[0] < bounds[1]:
        raise DesignError(f"lever {text!r} must look like key=low:high with low < high")
    return key, *bounds


@dataclasses.dataclass
class Design:
    """A sampled design: the SALib problem, the sample matrix and the seeds."""

    method: str
    names: list[str]
    bounds: list[list[float]]
    integer: list[bool]
    n_base: int
    seeds: list[int]
    sample_seed: int
    second_order: bool
    samples: np.ndarray

    @property
    def problem(self) -> dict:
        """The SALib problem dict."""
        return {"num_vars": len(self.names), "names": self.names, "bounds": self.bounds}

    def point_overrides(self, i: int) -> list[str]:
        """Overrides that set the levers to design point ``i``."""
        return [f"{name}={int(round(v)) if is_int else repr(float(v))}"
                for name, v, is_int in zip(self.names, self.samples[i], self.integer,
                                           strict=True)]

    def to_json(self) -> dict:
        """The design as stored in ``sweep.json``."""
        d = dataclasses.asdict(self)
        d["samples"] = self.samples.tolist()
        d["problem"] = self.problem
        d["outputs"] = list(OUTPUTS)
        return d


def make_design(method: str, levers: dict[str, tuple[float, float]], n: int, seeds: int,
                sample_seed: int = 0, second_order: bool = False) -> Design:
    """Sample a design with SALib.

    Args:
        method: ``sobol`` (Saltelli) or ``lhs`` (Latin hypercube).
        levers: config path -> (low, high).
        n: base sample size (Sobol: a power of two; points = n (k + 2)) or LHS points.
        seeds: replications per point (seeds 0 .. seeds-1).
        sample_seed: seed of the sampler (the design is reproducible).
        second_order: Sobol only: also sample for second-order indices.
    """
    if method not in METHODS:
        raise DesignError(f"method {method!r} is not one of {', '.join(METHODS)}")
    if n < 2 or seeds < 1:
        raise DesignError("--n must be at least 2 and --seeds at least 1")
    names = list(levers)
    integer = [lever_type(name) is int for name in names]
    bounds = [[float(levers[k][0]), float(levers[k][1])] for k in names]
    problem = {"num_vars": len(names), "names": names, "bounds": bounds}
    if method == "sobol":
        if n & (n - 1):
            raise DesignError(f"--n {n} must be a power of two for a Sobol design")
        from SALib.sample import sobol as sobol_sample

        x = sobol_sample.sample(problem, n, calc_second_order=second_order, seed=sample_seed)
    else:
        from SALib.sample import latin

        x = latin.sample(problem, n, seed=sample_seed)
    return Design(method, names, bounds, integer, n, list(range(seeds)), sample_seed,
                  second_order, np.asarray(x, dtype=float))


def design_jobs(design: Design, common: list[str]) -> list[dict]:
    """One job per design point and seed: overrides, job directory, point index."""
    jobs = []
    for i in range(len(design.samples)):
        for seed in design.seeds:
            subdir = f"point{i:04d}_seed{seed}"
            jobs.append({"overrides": [*common, *design.point_overrides(i), f"run.seed={seed}"],
                         "subdir": subdir, "design_point": i, "seed": seed})
    return jobs


# --- analysis --------------------------------------------------------------------------------

def point_means(runs: pd.DataFrame, n_points: int, output: str) -> np.ndarray:
    """Mean of ``output`` over the complete runs of each design point (NaN if none)."""
    done = runs[runs.status == "complete"]
    means = done.groupby("design_point")[output].mean()
    return means.reindex(range(n_points)).to_numpy(dtype=float)


def _bootstrap_seed(design: dict) -> int:
    # SALib ignores a seed of 0 (``if seed:``), which would make the intervals vary.
    return 1 + int(design["sample_seed"])


def indices(design: dict, runs: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    """Sensitivity indices of each output (tidy: output, lever, method, S1, ..., ST_conf)."""
    problem = design["problem"]
    x = np.asarray(design["samples"], dtype=float)
    rows = []
    for output in design.get("outputs", OUTPUTS):
        y = point_means(runs, len(x), output)
        base = {"output": output, "method": design["method"]}
        if not np.isfinite(y).all():
            notes.append(f"{output}: {int((~np.isfinite(y)).sum())} of {len(y)} design points "
                         "have no value (missing runs, or a run too short for the indicator); "
                         "no indices")
            rows += [{**base, "lever": name, "S1": np.nan, "S1_conf": np.nan, "ST": np.nan,
                      "ST_conf": np.nan} for name in problem["names"]]
            continue
        if design["method"] == "sobol":
            from SALib.analyze import sobol

            si = sobol.analyze(problem, y, calc_second_order=design["second_order"],
                               seed=_bootstrap_seed(design))
            for j, name in enumerate(problem["names"]):
                rows.append({**base, "lever": name, "S1": si["S1"][j], "S1_conf": si["S1_conf"][j],
                             "ST": si["ST"][j], "ST_conf": si["ST_conf"][j]})
        else:
            from SALib.analyze import rbd_fast

            try:
                si = rbd_fast.analyze(problem, x, y, seed=_bootstrap_seed(design))
            except ValueError as exc:  # too few points for the harmonics RBD-FAST uses
                notes.append(f"{output}: RBD-FAST indices not computed: {exc}")
                continue
            for j, name in enumerate(problem["names"]):
                rows.append({**base, "method": "rbd_fast", "lever": name, "S1": si["S1"][j],
                             "S1_conf": si["S1_conf"][j], "ST": np.nan, "ST_conf": np.nan})
    return pd.DataFrame(rows)


def write_indices(sweep_dir: Path, runs: pd.DataFrame, design: dict, notes: list[str],
                  quiet: bool = False) -> list[Path]:
    """Write ``sensitivity.csv`` for a design sweep (and print it); return the files written."""
    table = indices(design, runs, notes)
    path = Path(sweep_dir) / "sensitivity.csv"
    atomic_write_bytes(path, table.to_csv(index=False).encode())
    warning = stability_warning(design, table)
    if warning:
        notes.append(warning)
    if not quiet:
        with pd.option_context("display.width", 200):
            print("\nSensitivity indices of the means over seeds per design point "
                  "(S1 first order, ST total; _conf: 95% half-width)\n"
                  + table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        if warning:
            print(warning)
    return [path]


def stability_warning(design: dict, table: pd.DataFrame) -> str:
    """``experiments.stats.index_warning`` for a Sobol design's indices ("" otherwise)."""
    if design.get("method") != "sobol" or table.empty:
        return ""
    conf = np.concatenate([table.S1_conf.to_numpy(dtype=float),
                           table.ST_conf.to_numpy(dtype=float)])
    return index_warning("sobol", int(design.get("n_base", 0)), table.S1.to_numpy(dtype=float),
                         conf)


# --- command line ----------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    """``python -m experiments.design {sobol,lhs} [options] [hydra overrides]``."""
    parser = argparse.ArgumentParser(prog="python -m experiments.design",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("method", choices=METHODS)
    parser.add_argument("--lever", action="append", default=[], metavar="KEY=LOW:HIGH",
                        help="a numeric config field and its range (repeatable); default: "
                             + ", ".join(f"{k}={lo:g}:{hi:g}"
                                         for k, (lo, hi) in DEFAULT_LEVERS.items()))
    parser.add_argument("--n", type=int, default=8,
                        help="Sobol base sample (power of two) or LHS points (default 8)")
    parser.add_argument("--seeds", type=int, default=2, help="seeds per design point")
    parser.add_argument("--sample-seed", type=int, default=0, help="seed of the sampler")
    parser.add_argument("--second-order", action="store_true",
                        help="Sobol: sample for second-order indices too")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the design and the sweep directory, run nothing")
    args, overrides = parser.parse_known_args(argv)
    try:
        levers = dict(DEFAULT_LEVERS)
        if args.lever:
            levers = {k: (lo, hi) for k, lo, hi in map(parse_lever, args.lever)}
        design = make_design(args.method, levers, args.n, args.seeds, args.sample_seed,
                             args.second_order)
        task = [o for o in overrides if not o.lstrip("+~").startswith("hydra")]
        hydra_overrides = [o for o in overrides if o.lstrip("+~").startswith("hydra")]
        if any(o.startswith("run.seed=") for o in task):
            raise DesignError("the design sets run.seed; use --seeds")
        bounds = [f"{k}={int(b) if t else b}" for k, bb, t in
                  zip(design.names, design.bounds, design.integer, strict=True) for b in bb]
        preflight(task + bounds[0::2])
        preflight(task + bounds[1::2])
    except (DesignError, InputError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    spec = json.dumps({k: v for k, v in design.to_json().items() if k != "samples"},
                      sort_keys=True)
    sweep_dir = default_sweep_dir(task + [o for o in hydra_overrides if "sweeper" in o],
                                  extra=spec, prefix=args.method)
    explicit = [o for o in hydra_overrides if o.startswith("hydra.sweep.dir=")]
    if explicit:
        sweep_dir = Path(explicit[0].split("=", 1)[1].strip("'\"")).resolve()
    else:
        hydra_overrides.append(sweep_dir_override(sweep_dir))
    jobs = design_jobs(design, task)
    print(f"{args.method} design: {len(design.samples)} points x {len(design.seeds)} seeds = "
          f"{len(jobs)} runs over {', '.join(design.names)}\nsweep directory: {sweep_dir}",
          flush=True)
    if args.dry_run:
        print(pd.DataFrame(design.samples, columns=design.names).to_string())
        return 0
    sweep_dir.mkdir(parents=True, exist_ok=True)
    write_manifest(sweep_dir, {"kind": args.method, "overrides": overrides,
                               "code_version": code_version(), "design": design.to_json(),
                               "jobs": jobs})
    try:
        launch_jobs([[*job["overrides"], f"hydra.sweep.subdir={job['subdir']}"] for job in jobs],
                    task + hydra_overrides)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
