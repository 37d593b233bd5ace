"""The main job (``make run``): policy arms x seeds x shocks on the default world.

Runs one Hydra multirun through the joblib launcher (all cores)::

    policy = baseline, kpi_reform, special_fund_core, training_push, longer_packages,
             policy_mix, connect_chains, paper_strategy
    shock  = none, export_2022
    run.seed = 0..9, world = default (20 years from 2017)

prints (through the sweep's aggregation, ``experiments.aggregate``) the comparison table:
mean and 95 % CI over seeds, and the difference from the baseline arm paired by seed, of
poverty-alleviated local job-years, survival 2 years after support ends, spell survival 3
years from arrival, poverty-alleviated local jobs at the end and public spending (total and
in poverty counties), with the marginal cost per additional poverty-alleviated local job-year
against the baseline arm; the equal-budget view (each arm's spending and job-years, and
whether it is on the cost-effect frontier); and the export shock's path against the same arm
and seed without it (job-years lost in the window, depth, months to recover, exits brought
forward vs added). It writes those tables (``comparison.csv``, ``frontier.csv``,
``table.md``) and the figures, among them ``frontier.png`` and ``shock_path.png``
(poverty-alleviated local jobs under ``export_2022`` minus ``none``, paired by seed, the
window shaded). Its sweep directory is
``results/sweeps/headline-<hash>`` (the hash covers the design and the model's code), so
rerunning after an interruption finishes the missing runs only.

It writes only into the (git-ignored) sweep directory. ``--publish DIR`` then copies the
small curated outputs into ``DIR`` with a ``meta.json`` that records what produced them (the
command, the overrides, the model's code version) and nothing that changes from one
regeneration to the next (no date, wall time or host), so regenerating with the same code and
seeds gives the same bytes. ``make publish`` is ``--publish results/headline``, which accepts
the default design only. Extra Hydra overrides pass through, e.g.
``python -m experiments.headline world=teaching run.years=5 --seeds 3``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

from sim.atomic import atomic_write_bytes
from sim.cli import main as sim_main
from sim.integrity import COMPLETE
from sim.jobs import code_version, default_sweep_dir, sweep_dir_override

# connect_chains is kpi_reform with packages targeted by the paper's rule of thumb: the pair
# compares targeted with untargeted attraction (MODEL.md §12.3); paper_strategy adds cores
# and nodes.
ARMS = ("baseline", "kpi_reform", "special_fund_core", "training_push", "longer_packages",
        "policy_mix", "connect_chains", "paper_strategy")
SHOCKS = ("none", "export_2022")
SEEDS = 10
WORLD = "default"
PUBLISH_DIR = Path("results") / "headline"
PUBLISHED = ("report.html", "table.md", "comparison.csv", "frontier.csv", "runs.parquet",
             "km_survival.png",
             "hazard_by_age.png", "poverty_local_jobs.png", "frontier.png", "shock_path.png")


def sweep_overrides(arms=ARMS, shocks=SHOCKS, seeds: int = SEEDS, world: str = WORLD,
                    extra: list[str] | None = None) -> list[str]:
    """The overrides of the headline multirun (without the sweep directory); an ``extra``
    override of a key the design sets (e.g. ``world=teaching``) replaces it."""
    base = [f"world={world}", f"policy={','.join(arms)}", f"shock={','.join(shocks)}",
            f"run.seed=range({seeds})", "run.progress=false", "run.figures=false",
            # One run per core: each run's kernels use one thread (same results).
            "run.threads=1",
            "hydra/launcher=joblib", "hydra/hydra_logging=disabled"]
    extra = list(extra or [])
    keys = {o.split("=", 1)[0] for o in extra}
    return [o for o in base if o.split("=", 1)[0] not in keys] + extra


def publish(sweep_dir: Path, dest: Path, meta: dict) -> list[Path]:
    """Copy the curated outputs of the headline sweep to ``dest`` (atomically per file)."""
    written = []
    for name in PUBLISHED:
        src = Path(sweep_dir) / name
        if src.exists():
            atomic_write_bytes(dest / name, src.read_bytes())
            written.append(dest / name)
    atomic_write_bytes(dest / "meta.json", (json.dumps(meta, indent=2) + "\n").encode())
    return written + [dest / "meta.json"]


def _relative(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def main(argv: list[str] | None = None) -> int:
    """``python -m experiments.headline [options] [hydra overrides]``."""
    parser = argparse.ArgumentParser(prog="python -m experiments.headline",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=SEEDS, help="seeds per arm (default 10)")
    parser.add_argument("--arms", default=",".join(ARMS), help="policy presets, comma-separated")
    parser.add_argument("--shocks", default=",".join(SHOCKS),
                        help="shock presets, comma-separated")
    parser.add_argument("--world", default=WORLD, help="world preset (default: default)")
    parser.add_argument("--publish", type=Path, default=None, metavar="DIR",
                        help="after the runs, copy the curated outputs to DIR (make publish: "
                             f"{PUBLISH_DIR}, for the default design only)")
    argv = list(sys.argv[1:] if argv is None else argv)  # sim's main rewrites sys.argv
    args, extra = parser.parse_known_args(argv)
    default_design = (args.seeds == SEEDS and args.arms == ",".join(ARMS)
                      and args.shocks == ",".join(SHOCKS) and args.world == WORLD and not extra)
    if (args.publish is not None and not default_design
            and args.publish.resolve() == PUBLISH_DIR.resolve()):
        print(f"error: {PUBLISH_DIR}/ holds the default design only; run it without options "
              "and overrides, or pass --publish OTHER_DIR", file=sys.stderr)
        return 2
    overrides = sweep_overrides(args.arms.split(","), args.shocks.split(","), args.seeds,
                                args.world, extra)
    sweep_dir = default_sweep_dir(overrides, prefix="headline")
    if not any(o.startswith("hydra.sweep.dir=") for o in extra):
        overrides.append(sweep_dir_override(sweep_dir))
    else:
        sweep_dir = Path(next(o for o in extra if o.startswith("hydra.sweep.dir="))
                         .split("=", 1)[1].strip("'\"")).resolve()
    n_runs = len(args.arms.split(",")) * len(args.shocks.split(",")) * args.seeds
    print(f"headline experiment: {n_runs} runs into {sweep_dir}", flush=True)
    already = len(list(sweep_dir.rglob(COMPLETE))) if sweep_dir.is_dir() else 0
    start = time.perf_counter()
    status = 0
    try:
        sim_main(["-m", *overrides])
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else 1
    wall = time.perf_counter() - start
    print(f"headline experiment: {wall / 60:.1f} min wall time on {os.cpu_count()} cores "
          f"({already} of {n_runs} runs were already complete)", flush=True)
    if status != 0 or args.publish is None:
        return status
    # Only what determines the outputs: no date, wall time, host or resume state, so that a
    # regeneration with the same code and seeds is byte-identical.
    meta = {"command": " ".join(["python -m experiments.headline", *argv]),
            "overrides": [o for o in overrides if not o.startswith("hydra.sweep.dir=")],
            "sweep_dir": _relative(sweep_dir), "runs": n_runs,
            "code_version": code_version(),
            "python": platform.python_version()}
    written = publish(sweep_dir, args.publish, meta)
    print(f"published {len(written)} files to {args.publish}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
