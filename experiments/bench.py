"""The benchmark (``make bench``): speed and memory of the engine, measured, not asserted.

::

    python -m experiments.bench             # default world at 1/2, 1, 2 x; threads 1 vs 2;
                                            # numba vs reference at 100k; compile vs cached
                                            # start; sweep runs per minute
    python -m experiments.bench --national  # + the national world (10 M agents), 1 and 2 threads
    python -m experiments.bench --full-country  # + the whole country person by person
                                            # (300 M agents, 2 threads, ~9 GiB, ~20 min)
    python -m experiments.bench --smoke     # the smallest of each (CI: no timing assertions)

Every measurement runs in a fresh interpreter, so its peak memory (``ru_maxrss``) is its own
and the numba cache state is known; the ratios in the table come from one invocation, on one
machine load. It writes ``bench.json`` and ``bench.md`` into ``--out`` (default
``results/bench/``, git-ignored) and prints the table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sim.atomic import atomic_write_bytes

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "results" / "bench"


# --- measurements, each run in a child interpreter -----------------------------------------

def _run(spec: dict) -> dict:
    """A run of ``spec`` (overrides, engine, steps) in this process: init, run, peak RSS."""
    import resource

    t0 = time.perf_counter()
    from sim.config import compose
    from sim.engines import make_simulation
    from sim.memory import WORKER_TABLE_BYTES, estimate_peak_bytes

    cfg = compose(spec["overrides"])
    cfg.engine = spec.get("engine", "numba")
    t1 = time.perf_counter()
    sim = make_simulation(cfg)
    t2 = time.perf_counter()
    sim.step()
    t3 = time.perf_counter()
    steps = spec.get("steps") or sim.n_steps
    while sim.step_index < steps:
        sim.step()
    t4 = time.perf_counter()
    worker_steps = sim.workers.n * (steps - 1)
    return {"worker_agents": int(sim.workers.n), "threads": int(sim.threads),
            "steps": int(steps), "import_s": round(t1 - t0, 3), "init_s": round(t2 - t1, 3),
            "start_s": round(t3 - t0, 3), "run_s": round(t4 - t3, 3),
            "worker_steps_per_s": round(worker_steps / max(t4 - t3, 1e-9)),
            "ns_per_worker_step": round(1e9 * (t4 - t3) / max(worker_steps, 1), 2),
            "worker_table_bytes_per_agent": WORKER_TABLE_BYTES,
            "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "estimate_mb": round(estimate_peak_bytes(cfg) / 2**20)}


def _sweep(spec: dict) -> dict:
    """``runs`` default-world runs with every output (figures included), two at a time with
    one thread each, as the headline sweep runs them: runs per minute."""
    from concurrent.futures import ProcessPoolExecutor

    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=spec["processes"]) as pool:
        list(pool.map(_sweep_job, [(spec, seed) for seed in range(spec["runs"])]))
    elapsed = time.perf_counter() - t0
    return {"runs": spec["runs"], "processes": spec["processes"],
            "wall_s": round(elapsed, 2), "runs_per_minute": round(60 * spec["runs"] / elapsed, 1)}


def _sweep_job(args) -> None:
    spec, seed = args
    from omegaconf import OmegaConf

    from sim.config import compose
    from sim.engine import Simulation
    from sim.results import write_run

    cfg = compose([*spec["overrides"], f"run.seed={seed}", "run.threads=1"])
    sim = Simulation(cfg)
    sim.run()
    with tempfile.TemporaryDirectory() as tmp:
        write_run(sim, Path(tmp), OmegaConf.to_yaml(OmegaConf.structured(cfg)), figures=True)


def child(kind: str, spec: dict, env: dict | None = None) -> dict:
    """Run one measurement in a fresh interpreter and return its JSON."""
    cmd = [sys.executable, "-m", "experiments.bench", "--child", kind, json.dumps(spec)]
    out = subprocess.run(cmd, cwd=REPO, env={**os.environ, **(env or {})}, check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- the benchmark ---------------------------------------------------------------------------

def plan(smoke: bool, national: bool,
         full_country: bool = False) -> list[tuple[str, str, dict, dict]]:
    """(label, kind, spec, env) of every measurement."""
    years = 1 if smoke else 20
    world = "teaching" if smoke else "default"
    base = 4000 if smoke else 300_000
    rows = []
    for scale in ((1.0,) if smoke else (0.5, 1.0, 2.0)):
        agents = int(base * scale)
        rows.append((f"{world} x{scale:g}", "run",
                     {"overrides": [f"world={world}", f"world.worker_agents={agents}",
                                    f"run.years={years}", "run.threads=0"]}, {}))
    big = ["world=default", "world.worker_agents=600000", f"run.years={years}"]
    if smoke:
        big = ["world=teaching", "run.years=1"]
    for threads in (1, 2):
        rows.append((f"threads {threads}", "run",
                     {"overrides": [*big, f"run.threads={threads}"]}, {}))
    if national and not smoke:
        for threads in (1, 2):
            rows.append((f"national, {threads} thread(s)", "run",
                         {"overrides": ["world=national", "run.years=20",
                                        f"run.threads={threads}"]}, {}))
    if full_country and not smoke:
        rows.append(("full country, 2 threads", "run",
                     {"overrides": ["world=national_full", "run.years=20", "run.threads=2"]},
                     {}))
    agents = 4000 if smoke else 100_000
    steps = 3 if smoke else 4
    for engine in ("numba", "reference"):
        rows.append((f"{engine} engine, {agents:,} workers", "run",
                     {"overrides": ["world=teaching", f"world.worker_agents={agents}",
                                    "run.years=1", "run.threads=1"],
                      "engine": engine, "steps": steps}, {}))
    cache = tempfile.mkdtemp(prefix="tsim-numba-cache-")
    for label in ("compile start", "cached start"):
        rows.append((label, "run", {"overrides": ["world=teaching", "run.years=1"], "steps": 1},
                     {"NUMBA_CACHE_DIR": cache}))
    rows.append(("sweep", "sweep", {"overrides": [f"world={world}", f"run.years={years}"],
                                    "runs": 2 if smoke else 8, "processes": 2}, {}))
    return rows


def table(results: list[dict]) -> str:
    """The results as a markdown table."""
    lines = ["| measurement | worker agents | threads | run | ns per worker-step | "
             "start | peak RSS (estimate) |", "|---|---|---|---|---|---|---|"]
    for r in results:
        if r["kind"] == "sweep":
            lines.append(f"| {r['label']} ({r['runs']} runs, {r['processes']} processes, "
                         f"outputs and figures) | | 1 each | {r['wall_s']} s | "
                         f"{r['runs_per_minute']} runs/min | | |")
            continue
        if r["steps"] <= 1:  # a start: import, compose and the first step only
            run, ns = "", ""
        else:
            run, ns = f"{r['run_s']} s ({r['steps'] - 1} steps)", r["ns_per_worker_step"]
        lines.append(f"| {r['label']} | {r['worker_agents']:,} | {r['threads']} | {run} | {ns} | "
                     f"{r['start_s']} s | {r['peak_mb']} MB ({r['estimate_mb']} MB) |")
    return "\n".join(lines)


def ratios(results: list[dict]) -> dict:
    """The ratios the issue asks for, from this invocation's measurements."""
    by = {r["label"]: r for r in results}
    # Cost per worker-step by size, on all cores: the scaled default worlds, then the
    # national world and the whole country where they ran.
    runs = [r for r in results if r["label"].startswith(("default x", "teaching x"))
            or r["label"] in ("national, 2 thread(s)", "full country, 2 threads")]
    out = {}
    if runs:
        ref = runs[0]["ns_per_worker_step"]
        out["cost_per_worker_step_vs_smallest"] = {
            f"{r['worker_agents']:,} ({r['label']})": round(r["ns_per_worker_step"] / ref, 2)
            for r in runs}
    if "threads 1" in by and "threads 2" in by:
        out["speedup_2_threads"] = round(by["threads 1"]["run_s"] / by["threads 2"]["run_s"], 2)
    # Memory per worker agent: the peak's growth between the two largest worlds that ran.
    sized = sorted((r for r in results if r["kind"] == "run"), key=lambda r: r["worker_agents"])
    if len(sized) >= 2 and sized[-1]["worker_agents"] > sized[-2]["worker_agents"]:
        small, large = sized[-2], sized[-1]
        out["peak_bytes_per_worker_agent"] = round(
            (large["peak_mb"] - small["peak_mb"]) * 2**20
            / (large["worker_agents"] - small["worker_agents"]), 1)
        out["worker_table_bytes_per_agent"] = large["worker_table_bytes_per_agent"]
    numba = next((r for r in results if r["label"].startswith("numba engine")), None)
    reference = next((r for r in results if r["label"].startswith("reference engine")), None)
    if numba and reference:
        out["numba_over_reference"] = round(reference["run_s"] / max(numba["run_s"], 1e-9), 1)
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smoke", action="store_true", help="smallest sizes only (CI)")
    ap.add_argument("--national", action="store_true", help="add the national world")
    ap.add_argument("--full-country", action="store_true",
                    help="add the whole country person by person (world=national_full)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--child", nargs=2, metavar=("KIND", "SPEC"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        kind, spec = args.child
        print(json.dumps((_sweep if kind == "sweep" else _run)(json.loads(spec))))
        return
    results = []
    for label, kind, spec, env in plan(args.smoke, args.national, args.full_country):
        row = {"label": label, "kind": kind, **child(kind, spec, env)}
        print(json.dumps(row), flush=True)
        results.append(row)
    report = {"machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                          "python": platform.python_version()},
              "command": " ".join(["python -m experiments.bench", *(argv or sys.argv[1:])]),
              "results": results, "ratios": ratios(results)}
    text = table(results)
    atomic_write_bytes(args.out / "bench.json", (json.dumps(report, indent=2) + "\n").encode())
    atomic_write_bytes(args.out / "bench.md", (text + "\n").encode())
    print(text)
    print(json.dumps(report["ratios"]))


if __name__ == "__main__":
    main()
