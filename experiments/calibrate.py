"""Calibration by the method of simulated moments, with screening and history matching.

::

    python -m experiments.calibrate [world=default] [--budget full|tiny] [--write-preset]

1. **Screening**: Morris elementary effects (SALib) of the free parameters in
   :data:`PARAMETERS` on the moments of ``experiments.moments`` (2017-2024 runs), each
   moment's effect scaled by its target's tolerance; the parameter that moves each moment
   most, then the largest scaled mu*, up to ``keep``, are estimated; the others stay at
   their values.
2. **Wave 1**: a Latin hypercube over the kept parameters, every point run with the same
   seeds (common random numbers); a Gaussian-process emulator per moment (scikit-learn,
   Matern kernel + white noise) on the seed means.
3. **History matching**: implausibility of a candidate x for moment j,
   ``|E[m_j(x)] - t_j| / sqrt(var_emulator + var_seeds + (tol_j / 2)^2)``; x is plausible
   when the third-largest implausibility is below 3 (two moments may miss: the model has
   known structural gaps, reported as misses rather than forced). **Wave 2** reruns points
   drawn from the plausible set and refits.
4. **Estimate**: the plausible candidates with the least emulated MSM loss
   ``sum_j w_j (m_j - t_j)^2``, ``w_j = 1 / (var_seeds_j + (tol_j / 10)^2)`` (weights from
   the moments' simulated variance, floored) are simulated on the design's seeds; the least
   simulated loss is the estimate, checked by simulation on fresh seeds.

It writes ``results/calibration/`` (``morris.csv``, ``design.csv`` (every run's parameters
and moments), ``plausible.csv`` (a sample of plausible vectors), ``estimate.json``) and, with
``--write-preset``, ``configs/calibration/nbs2024.yaml`` with its provenance (date, code
version, moments, seeds, loss, method). Targets are never written into outputs: every model
number comes from simulated runs.
"""

from __future__ import annotations

import argparse
import datetime
import json
import multiprocessing
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.moments import CALIBRATION_YEARS, FITTED, TARGETS, moments
from experiments.stats import index_warning
from sim.atomic import atomic_write_bytes
from sim.config import CONFIG_DIR
from sim.jobs import code_version

OUT = Path("results") / "calibration"
PRESET = CONFIG_DIR / "calibration" / "nbs2024.yaml"


@dataclass(frozen=True)
class Parameter:
    """A free parameter: its config path, search range and whether it is whole."""

    path: str
    lo: float
    hi: float
    integer: bool = False


PARAMETERS = (
    Parameter("model.income_scale", 300, 1500),
    Parameter("model.switching_inertia", 0, 3),
    Parameter("model.migration_cost", 0, 1000),
    Parameter("model.living_cost_east", 500, 2500),
    Parameter("model.care_cost", 500, 5000),
    Parameter("model.age_cost", 0, 250),
    Parameter("model.age_cost_from", 25, 45, True),
    Parameter("model.retirement_age", 55, 70, True),
    Parameter("model.east_demand_ratio", 0.7, 1.3),
    Parameter("model.east_matching_efficiency", 0.2, 1.5),
    Parameter("model.east_wage_elasticity", 0, 1.5),
    Parameter("model.outbound_separation", 0.005, 0.05),
    Parameter("model.experience_premium", 0, 0.4),
    Parameter("model.skill_premium_slope", 0.2, 1.0),
    Parameter("model.exit_hazard", 0.0002, 0.012),
    Parameter("model.exit_patience", 1, 24, True),
    Parameter("model.ramp_up_months", 0, 36, True),
    Parameter("model.initial_cash_months", 1, 12),
    Parameter("model.order_noise", 0.02, 0.25),
    Parameter("model.local_birth_rate", 0.0, 0.3),
    Parameter("model.care_town_access", 0.1, 1.0),
    Parameter("model.infra_productivity_floor", 0.3, 0.9),
    Parameter("world.care_share_female", 0.2, 0.7),
    Parameter("world.productivity_pareto_alpha", 0.8, 2.0),
    Parameter("world.efficiency_sd", 0.05, 0.5),
    Parameter("world.max_firm_size", 2000, 50000),
)


@dataclass(frozen=True)
class Budget:
    """How many runs each stage makes."""

    morris_trajectories: int
    keep: int
    wave1: int
    wave2: int
    seeds: int
    check_seeds: int
    candidates: int
    finalists: int


BUDGETS = {
    "full": Budget(4, 16, 100, 60, 2, 10, 40_000, 8),
    "tiny": Budget(2, 3, 8, 4, 1, 2, 500, 2),
}
MOMENTS = FITTED  # the held-out moments never enter screening, emulators or loss


# --- running points --------------------------------------------------------------------------

def _value(p: Parameter, x: float):
    return int(round(x)) if p.integer else float(x)


def _overrides(params: tuple[Parameter, ...], x) -> list[str]:
    return [f"{p.path}={_value(p, v)}" for p, v in zip(params, x, strict=True)]


def _run_point(job) -> dict:
    """Moments of one (point, seed): a child process, one kernel thread."""
    from sim.config import compose
    from sim.engine import Simulation

    base, overrides, seed = job
    sim = Simulation(compose([*base, *overrides, f"run.seed={seed}", "run.threads=1",
                              f"run.years={CALIBRATION_YEARS}", "calibration=none"]))
    sim.run()
    return moments(sim)


def run_design(base: list[str], params, points: np.ndarray, seeds, jobs: int,
               stage: str) -> pd.DataFrame:
    """Every point with every seed (common random numbers); one row per run."""
    tasks = [(base, _overrides(params, x), seed) for x in points for seed in seeds]
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(jobs) as pool:
        results = pool.map(_run_point, tasks, chunksize=1)
    rows = []
    for k, (task, result) in enumerate(zip(tasks, results, strict=True)):
        point = k // len(seeds)
        rows.append({"stage": stage, "point": point, "seed": task[2],
                     **{p.path: _value(p, v) for p, v in zip(params, points[point],
                                                             strict=True)},
                     **result})
    return pd.DataFrame(rows)


# --- screening -----------------------------------------------------------------------------

def screen(base, budget: Budget, jobs: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Morris elementary effects of every parameter on every moment (scaled by tolerance)."""
    from SALib.analyze import morris as morris_analyze
    from SALib.sample import morris as morris_sample

    problem = {"num_vars": len(PARAMETERS), "names": [p.path for p in PARAMETERS],
               "bounds": [[p.lo, p.hi] for p in PARAMETERS]}
    x = morris_sample.sample(problem, budget.morris_trajectories, num_levels=4, seed=seed)
    runs = run_design(base, PARAMETERS, x, [0], jobs, "morris")
    rows = []
    for name in MOMENTS:
        y = runs[name].to_numpy(dtype=float)
        y = np.where(np.isfinite(y), y, np.nanmean(y) if np.isfinite(y).any() else 0.0)
        result = morris_analyze.analyze(problem, x, y, num_levels=4, seed=seed)
        for j, p in enumerate(PARAMETERS):
            rows.append({"parameter": p.path, "moment": name,
                         "mu_star": float(result["mu_star"][j]),
                         "sigma": float(result["sigma"][j]),
                         "mu_star_scaled": float(result["mu_star"][j])
                         / TARGETS[name].tolerance})
    return pd.DataFrame(rows), runs


def keep_parameters(morris: pd.DataFrame, keep: int) -> tuple[Parameter, ...]:
    """Up to ``keep`` parameters: first the one that moves each moment most (so no moment is
    left without a parameter that can move it), then by largest scaled effect on any moment."""
    score = morris.groupby("parameter").mu_star_scaled.max().sort_values(ascending=False)
    leaders = set(morris.loc[morris.groupby("moment").mu_star_scaled.idxmax(), "parameter"])
    ranked = [p for p in score.index if p in leaders] + [p for p in score.index
                                                          if p not in leaders]
    chosen = set(ranked[:keep])
    return tuple(p for p in PARAMETERS if p.path in chosen)


# --- emulation and history matching ------------------------------------------------------------

def _unit(params, x: np.ndarray) -> np.ndarray:
    lo = np.array([p.lo for p in params])
    hi = np.array([p.hi for p in params])
    return (x - lo) / (hi - lo)


def _scale(params, u: np.ndarray) -> np.ndarray:
    lo = np.array([p.lo for p in params])
    hi = np.array([p.hi for p in params])
    return lo + u * (hi - lo)


class Emulator:
    """A Gaussian process per moment on the seed means of the design's points."""

    def __init__(self, params, runs: pd.DataFrame):
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

        self.params = params
        cols = [p.path for p in params]
        means = runs.groupby(["stage", "point"])[[*cols, *MOMENTS]].mean()
        self.seed_var = runs.groupby(["stage", "point"])[list(MOMENTS)].var().mean()
        self.seed_var = self.seed_var.fillna(0.0)
        u = _unit(params, means[cols].to_numpy(dtype=float))
        self.models = {}
        for name in MOMENTS:
            y = means[name].to_numpy(dtype=float)
            ok = np.isfinite(y)
            kernel = (ConstantKernel(1.0) * Matern(length_scale=np.full(len(params), 0.5),
                                                   nu=2.5) + WhiteKernel(1e-2))
            gp = GaussianProcessRegressor(kernel, normalize_y=True, random_state=0,
                                          n_restarts_optimizer=1)
            gp.fit(u[ok], y[ok])
            self.models[name] = gp

    def predict(self, u: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
        mean, sd = {}, {}
        for name, gp in self.models.items():
            mean[name], sd[name] = gp.predict(u, return_std=True)
        return pd.DataFrame(mean), pd.DataFrame(sd)


def weights(seed_var: pd.Series) -> pd.Series:
    """MSM weights: inverse simulated variance, floored at a tenth of the tolerance."""
    floor = pd.Series({k: (TARGETS[k].tolerance / 10) ** 2 for k in MOMENTS})
    return 1.0 / (seed_var.reindex(MOMENTS).fillna(0.0) + floor)


def implausibility(mean: pd.DataFrame, sd: pd.DataFrame, seed_var: pd.Series) -> pd.DataFrame:
    target = pd.Series({k: TARGETS[k].value for k in MOMENTS})
    discrepancy = pd.Series({k: (TARGETS[k].tolerance / 2) ** 2 for k in MOMENTS})
    var = sd ** 2 + seed_var.reindex(MOMENTS).fillna(0.0) + discrepancy
    return (mean - target).abs() / np.sqrt(var)


def plausible(imp: pd.DataFrame, misses: int = 2, cutoff: float = 3.0) -> np.ndarray:
    """Candidates whose (misses + 1)-th largest implausibility is below ``cutoff``."""
    ordered = -np.sort(-imp.to_numpy(), axis=1)
    return ordered[:, min(misses, ordered.shape[1] - 1)] < cutoff


def msm_loss(values: pd.DataFrame, w: pd.Series) -> np.ndarray:
    target = pd.Series({k: TARGETS[k].value for k in MOMENTS})
    return (((values[list(MOMENTS)] - target) ** 2) * w).sum(axis=1).to_numpy()


# --- the pipeline ------------------------------------------------------------------------------

def calibrate(base: list[str], budget: Budget, jobs: int, out: Path, seed: int = 0) -> dict:
    """Screen, two waves of history matching, the estimate and its check; write ``out``."""
    from scipy.stats import qmc

    t0 = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    morris, morris_runs = screen(base, budget, jobs, seed)
    # Few trajectories rank the parameters by noise: say so (and in estimate.json).
    screening_warning = index_warning("morris", budget.morris_trajectories)
    if screening_warning:
        print(screening_warning, file=sys.stderr)
    params = keep_parameters(morris, budget.keep)
    seeds = list(range(budget.seeds))
    sampler = qmc.LatinHypercube(d=len(params), seed=seed)
    wave1 = run_design(base, params, _scale(params, sampler.random(budget.wave1)), seeds, jobs,
                       "wave1")
    emulator = Emulator(params, wave1)
    candidates = qmc.Sobol(d=len(params), seed=seed).random(budget.candidates)
    mean, sd = emulator.predict(candidates)
    keep = plausible(implausibility(mean, sd, emulator.seed_var))
    pool = candidates[keep] if keep.any() else candidates[np.argsort(
        msm_loss(mean, weights(emulator.seed_var)))[: budget.wave2]]
    rng = np.random.default_rng(seed)
    chosen = pool[rng.choice(len(pool), min(budget.wave2, len(pool)), replace=False)]
    wave2 = run_design(base, params, _scale(params, chosen), seeds, jobs, "wave2")
    design = pd.concat([wave1, wave2], ignore_index=True)
    emulator = Emulator(params, design)
    mean, sd = emulator.predict(candidates)
    imp = implausibility(mean, sd, emulator.seed_var)
    keep = plausible(imp)
    w = weights(emulator.seed_var)
    loss = msm_loss(mean, w)
    order = np.argsort(np.where(keep, loss, np.inf) if keep.any() else loss)
    # The emulator ranks; simulation decides: the emulated best few are run on the design's
    # seeds and the least simulated loss is the estimate.
    finalists = _scale(params, candidates[order[:budget.finalists]])
    refine = run_design(base, params, finalists, seeds, jobs, "refine")
    simulated = msm_loss(refine.groupby("point")[list(MOMENTS)].mean(), w)
    best = finalists[int(np.argmin(simulated))]
    check_seeds = list(range(1000, 1000 + budget.check_seeds))
    check = run_design(base, params, best[None, :], check_seeds, jobs, "check")
    plausible_set = _scale(params, candidates[keep] if keep.any() else candidates[order[:50]])
    sample = plausible_set[rng.choice(len(plausible_set), min(50, len(plausible_set)),
                                      replace=False)]
    elapsed = time.perf_counter() - t0
    n_runs = len(morris_runs) + len(design) + len(refine) + len(check)
    estimate = {
        "parameters": {p.path: _value(p, v) for p, v in zip(params, best, strict=True)},
        "plausible_ranges": {p.path: [_value(p, plausible_set[:, j].min()),
                                      _value(p, plausible_set[:, j].max())]
                             for j, p in enumerate(params)},
        "plausible_share": float(keep.mean()),
        "moments_check": {k: float(check[k].mean()) for k in MOMENTS},
        "loss_check": float(msm_loss(check[list(MOMENTS)].mean().to_frame().T, w)[0]),
        "weights": {k: float(v) for k, v in w.items()},
        "method": (f"Morris screening (SALib, {budget.morris_trajectories} trajectories); "
                   f"MSM with a Latin hypercube wave ({budget.wave1} points) and a "
                   f"history-matching wave ({budget.wave2} points) x {budget.seeds} seeds "
                   "(common random numbers), Gaussian-process emulators (scikit-learn), "
                   "implausibility cut 3 on the third-largest moment; the "
                   f"{budget.finalists} emulated best simulated, the least simulated loss "
                   "kept"),
        "base_overrides": base, "seeds": seeds, "check_seeds": check_seeds,
        "runs": n_runs, "wall_s": round(elapsed, 1), "code_version": code_version(),
        "date": datetime.date.today().isoformat(),
    }
    if screening_warning:
        estimate["warning"] = screening_warning
    _write_csv(out / "morris.csv", morris)
    _write_csv(out / "design.csv", pd.concat([morris_runs, design, refine, check],
                                              ignore_index=True))
    _write_csv(out / "plausible.csv", pd.DataFrame(
        {p.path: [_value(p, v) for v in sample[:, j]] for j, p in enumerate(params)}))
    atomic_write_bytes(out / "estimate.json", (json.dumps(estimate, indent=2) + "\n").encode())
    return estimate


def _write_csv(path: Path, frame: pd.DataFrame) -> None:
    atomic_write_bytes(path, frame.to_csv(index=False, float_format="%.6g").encode())


def write_preset(estimate: dict, path: Path = PRESET) -> None:
    """The fitted values as a config preset (global package: model.* and world.*), with
    their provenance in the header."""
    lines = ["# @package _global_",
             "# Calibrated by python -m experiments.calibrate (MODEL.md §9 targets, NBS 2024 and",
             "# SAIC 2013); provenance: results/calibration/estimate.json.",
             f"# date {estimate['date']}, code version {estimate['code_version']}, "
             f"{estimate['runs']} runs, {estimate['wall_s']} s",
             f"# method: {estimate['method']}",
             f"# check loss {estimate['loss_check']:.3g} on seeds {estimate['check_seeds']}"]
    sections: dict[str, list[str]] = {}
    for key, value in estimate["parameters"].items():
        section, name = key.split(".", 1)
        sections.setdefault(section, []).append(f"  {name}: {value}")
    for section, entries in sections.items():
        lines += [f"{section}:", *entries]
    atomic_write_bytes(path, ("\n".join(lines) + "\n").encode())


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("overrides", nargs="*", help="Hydra overrides of every run")
    ap.add_argument("--budget", choices=sorted(BUDGETS), default="full")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--write-preset", action="store_true")
    args = ap.parse_args(argv)
    estimate = calibrate(list(args.overrides) or ["world=default"], BUDGETS[args.budget],
                         args.jobs, args.out)
    if args.write_preset:
        write_preset(estimate)
    print(json.dumps({k: estimate[k] for k in ("parameters", "plausible_share", "loss_check",
                                               "runs", "wall_s")}, indent=2))
    print("fitted moments on fresh seeds:")
    for name, value in estimate["moments_check"].items():
        t = TARGETS[name]
        flag = "pass" if abs(value - t.value) <= t.tolerance else "miss"
        print(f"  {name:20s} {value:8.3f}  target {t.value:.3f} ± {t.tolerance}  {flag}")


if __name__ == "__main__":
    sys.exit(main())
