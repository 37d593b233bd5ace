"""The validation report (``python -m experiments.validation``): does the calibrated model
reproduce what is known?

Writes ``results/validation/`` (``report.md``, ``moments.csv``, ``held_out.csv``,
``moments.png``) from simulated runs of the configuration as composed (the default includes
the calibrated preset, ``configs/calibration/``):

- every calibration target (``experiments.moments.TARGETS``): its source, tolerance, the
  model's mean and 95 % interval over ``--seeds`` runs (2017-2024, default world), pass or
  miss -- the held-out moment marked as never fitted;
- the held-out cases, never in the loss: Ankang plush toys 2017-2022 (firms founded in the
  case counties, jobs and poverty-alleviated jobs per million yuan of pairing aid) and the
  Zheng'an guitar cluster (guitar jobs in the case county as a share of its working-age
  population);
- the screening table and the plausible ranges of the calibration
  (``results/calibration/``), if it has been run.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.moments import CALIBRATION_YEARS, HELD_OUT, TARGETS, moments
from experiments.stats import mean_ci
from sim import style
from sim.atomic import atomic_write_bytes
from sim.codes import EV_ENTER, LOCAL

OUT = Path("results") / "validation"
CALIBRATION = Path("results") / "calibration"
# The cases (MODEL.md §9, the paper). Ankang: 2.011 bn yuan of Changzhou aid 2017-2022;
# 720+ firms, 16,813 jobs of which 3,797 poverty-alleviated.
ANKANG = {"aid_yuan": 2.011e9, "firms": 720, "jobs": 16_813, "poverty_jobs": 3_797}
# Zheng'an: ~15,000 park jobs; the county's working-age residents are about 0.24 M (a
# resident population of about 0.4 M, 60 % of working age: an approximation, stated).
ZHENGAN = {"park_jobs": 15_000, "working_age": 0.24e6}


def _interval(x: np.ndarray) -> tuple[float, float, float]:
    ci = mean_ci(x)
    return ci["mean"], ci["ci_low"], ci["ci_high"]


def _finished_run(overrides: list[str], seed: int, years: int):
    """A finished run of ``overrides`` (one kernel thread: the jobs run one per core)."""
    from sim.config import compose
    from sim.engine import Simulation

    sim = Simulation(compose([*overrides, f"run.seed={seed}", "run.threads=1",
                              f"run.years={years}"]))
    sim.run()
    return sim


def _case_industry_jobs(sim) -> np.ndarray:
    """Workers of the case counties in local jobs in the case industry."""
    w = sim.workers
    industry = sim.world.industry_names.index(sim.cfg.world.case_industry)
    return (sim.counties.case_county[w.home_county] & (w.status == LOCAL)
            & (sim.firms.industry[np.maximum(w.employer, 0)] == industry))


def _moments_job(job) -> dict:
    overrides, seed = job
    return moments(_finished_run(overrides, seed, CALIBRATION_YEARS))


def _ankang_job(job) -> dict:
    """Ankang 2017-2022: entries into the case counties, and their jobs at the end of 2022."""
    overrides, seed = job
    sim = _finished_run([*overrides, "world=ankang_case"], seed, 6)
    c = sim.counties
    ppa = sim.world.persons_per_agent
    ev = sim.events_array()
    case_event = c.case_county[ev["county"]]
    w = sim.workers
    in_industry = _case_industry_jobs(sim)
    aid = (sim.cfg.world.case_aid_per_person * c.population[c.case_county].sum()
           * (min(sim.cfg.world.case_aid_end, 2023) - sim.cfg.world.case_aid_start))
    return {"firms_founded": int(((ev["event"] == EV_ENTER) & case_event).sum()),
            "jobs_per_m_yuan": in_industry.sum() * ppa / aid * 1e6,
            "poverty_jobs_per_m_yuan": (in_industry & w.poverty_alleviated).sum() * ppa
            / aid * 1e6,
            "aid_yuan_replica": aid}


def _zhengan_job(job) -> dict:
    overrides, seed = job
    sim = _finished_run([*overrides, "world=zhengan_case"], seed, 8)
    case = sim.counties.case_county[sim.workers.home_county]
    return {"guitar_job_share": _case_industry_jobs(sim).sum() / case.sum()}


def _pool(fn, jobs, processes: int) -> list:
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        return pool.map(fn, jobs, chunksize=1)


def moments_table(runs: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for name, t in TARGETS.items():
        mean, lo, hi = _interval(runs[name].to_numpy())
        rows.append({"moment": name, "meaning": t.doc, "source": t.source,
                     "target": t.value, "tolerance": t.tolerance, "model_mean": mean,
                     "model_lo": lo, "model_hi": hi,
                     "result": "pass" if abs(mean - t.value) <= t.tolerance else "miss",
                     "fitted": name not in HELD_OUT})
    return pd.DataFrame(rows)


def held_out_table(ankang: pd.DataFrame, zhengan: pd.DataFrame) -> pd.DataFrame:
    real = {"firms_founded": ANKANG["firms"],
            "jobs_per_m_yuan": ANKANG["jobs"] / ANKANG["aid_yuan"] * 1e6,
            "poverty_jobs_per_m_yuan": ANKANG["poverty_jobs"] / ANKANG["aid_yuan"] * 1e6,
            "guitar_job_share": ZHENGAN["park_jobs"] / ZHENGAN["working_age"]}
    notes = {"firms_founded": "Ankang case counties 2017-2022 (replica world: 10 counties, "
                              "so compare orders of magnitude)",
             "jobs_per_m_yuan": "Ankang: plush-toy jobs in the case counties per million "
                                "yuan of pairing aid, end of 2022",
             "poverty_jobs_per_m_yuan": "Ankang: of them poverty-alleviated",
             "guitar_job_share": "Zheng'an: guitar jobs / working-age residents of the "
                                 "case county after 8 years (real: ~15,000 / ~0.24 M)"}
    rows = []
    for name, frame in (("firms_founded", ankang), ("jobs_per_m_yuan", ankang),
                        ("poverty_jobs_per_m_yuan", ankang), ("guitar_job_share", zhengan)):
        mean, lo, hi = _interval(frame[name].to_numpy())
        rows.append({"case": name, "meaning": notes[name], "published": real[name],
                     "model_mean": mean, "model_lo": lo, "model_hi": hi,
                     "ratio": mean / real[name]})
    return pd.DataFrame(rows)


def figure(table: pd.DataFrame, path: Path) -> None:
    fig, axes = style.figure(1, 1, width=7.0, height=6.0)
    ax = axes[0, 0]
    y = np.arange(len(table))
    scale = table.target.abs().clip(lower=1e-9)
    ax.errorbar((table.model_mean / scale).to_numpy(), y,
                xerr=[((table.model_mean - table.model_lo) / scale).to_numpy(),
                      ((table.model_hi - table.model_mean) / scale).to_numpy()],
                fmt="o", color=style.colour(0), label="model (mean, 95 % over seeds)")
    ax.barh(y, (2 * table.tolerance / scale).to_numpy(),
            left=((table.target - table.tolerance) / scale).to_numpy(), color=style.colour(2),
            alpha=0.25, label="target ± tolerance")
    ax.axvline(1.0, color=style.REFERENCE, lw=0.8)
    ax.set_yticks(y, [f"{m}{'' if f else ' (held out)'}"
                      for m, f in zip(table.moment, table.fitted, strict=True)])
    ax.set_xlabel("relative to the target")
    style.legend_outside(fig, ncol=2)
    style.save_png(fig, path)


def report(table: pd.DataFrame, held: pd.DataFrame, seeds: int, overrides: list[str],
           calibration: Path) -> str:
    lines = ["# Validation", "",
             f"Command: `python -m experiments.validation {' '.join(overrides)} --seeds "
             f"{seeds}`. Model: mean and 95 % interval over {seeds} seeds of runs "
             f"2017-2024 ({CALIBRATION_YEARS} years, the default world unless overridden). "
             "Every model number is simulated; targets are never written into it.", "",
             "## Targets", "",
             "| moment | meaning | source | target | tolerance | model [95 %] | result |",
             "|---|---|---|---|---|---|---|"]
    for r in table.itertuples():
        held_out = "" if r.fitted else " (held out: never fitted)"
        lines.append(f"| {r.moment}{held_out} | {r.meaning} | {r.source} | {r.target:.3f} | "
                     f"± {r.tolerance:g} | {r.model_mean:.3f} [{r.model_lo:.3f}, "
                     f"{r.model_hi:.3f}] | {r.result} |")
    passed = int((table.result == "pass").sum())
    lines += ["", f"{passed} of {len(table)} within tolerance.", "", "## Held-out cases", "",
              "| case | meaning | published | model [95 %] | model / published |",
              "|---|---|---|---|---|"]
    for r in held.itertuples():
        lines.append(f"| {r.case} | {r.meaning} | {r.published:.4g} | {r.model_mean:.4g} "
                     f"[{r.model_lo:.4g}, {r.model_hi:.4g}] | {r.ratio:.2f} |")
    estimate = calibration / "estimate.json"
    if estimate.exists():
        info = json.loads(estimate.read_text())
        lines += ["", "## Estimated parameters and plausible ranges", "",
                  f"{info['method']}; {info['runs']} runs in {info['wall_s']} s; code "
                  f"version {info['code_version']}; {info['plausible_share']:.1%} of the "
                  "candidates plausible.", "", "| parameter | estimate | plausible range |",
                  "|---|---|---|"]
        for name, value in info["parameters"].items():
            lo, hi = info["plausible_ranges"][name]
            lines.append(f"| `{name}` | {value:.4g} | [{lo:.4g}, {hi:.4g}] |")
    morris = calibration / "morris.csv"
    if morris.exists():
        frame = pd.read_csv(morris)
        top = (frame.sort_values("mu_star_scaled", ascending=False)
               .groupby("parameter").head(1).head(22))
        lines += ["", "## Screening (Morris, largest effect of each parameter)", "",
                  "| parameter | moment it moves most | mu* / tolerance |", "|---|---|---|"]
        for r in top.itertuples():
            lines.append(f"| `{r.parameter}` | {r.moment} | {r.mu_star_scaled:.2f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("overrides", nargs="*", help="Hydra overrides of every run")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--calibration", type=Path, default=CALIBRATION)
    args = ap.parse_args(argv)
    overrides = list(args.overrides)
    seeds = range(args.seeds)
    runs = pd.DataFrame(_pool(_moments_job, [(overrides, s) for s in seeds], args.jobs))
    case_overrides = [o for o in overrides if not o.startswith("world=")]
    ankang = pd.DataFrame(_pool(_ankang_job, [(case_overrides, s) for s in seeds], args.jobs))
    zhengan = pd.DataFrame(_pool(_zhengan_job, [(case_overrides, s) for s in seeds],
                                 args.jobs))
    table = moments_table(runs)
    held = held_out_table(ankang, zhengan)
    out = args.out
    atomic_write_bytes(out / "moments.csv", table.to_csv(index=False,
                                                         float_format="%.6g").encode())
    atomic_write_bytes(out / "held_out.csv", held.to_csv(index=False,
                                                         float_format="%.6g").encode())
    figure(table, out / "moments.png")
    text = report(table, held, args.seeds, overrides, args.calibration)
    atomic_write_bytes(out / "report.md", text.encode())
    print(text)


if __name__ == "__main__":
    sys.exit(main())
