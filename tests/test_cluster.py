"""Sweeps beyond one machine: Ray (a local head on 127.0.0.1) and SLURM through submitit."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parent.parent
RAY = Path(sys.executable).parent / "ray"
SWEEP = ["run.seed=0,1", "world=teaching", "run.years=2", "run.progress=false",
         "run.figures=false", "hydra.callbacks.aggregate.figures=false"]
# Keep every Ray service on the loopback address (Ray otherwise picks the host's address),
# and no token authentication (Ray enables it when ~/.ray/auth_token exists, e.g. after a
# ray_local sweep): a throwaway cluster on 127.0.0.1 only.
LOOPBACK = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_AUTH_MODE": "disabled"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _sweep(sweep_dir: Path, *args: str, env: dict | None = None) -> pd.DataFrame:
    proc = subprocess.run([sys.executable, "-m", "sim", "-m", *SWEEP, *args,
                           f"hydra.sweep.dir={sweep_dir}"], cwd=REPO, capture_output=True,
                          text=True, timeout=600, env={**os.environ, **(env or {})})
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return pd.read_parquet(sweep_dir / "runs.parquet")


@pytest.fixture
def ray_head():
    """A Ray head on 127.0.0.1 (``ray start --head --block``), stopped with its process group."""
    pytest.importorskip("ray")
    pytest.importorskip("hydra_plugins.hydra_ray_launcher")
    port = _free_port()
    env = {**os.environ, **LOOPBACK}
    head = subprocess.Popen([str(RAY), "start", "--head", "--node-ip-address=127.0.0.1",
                             f"--port={port}", "--num-cpus=2", "--include-dashboard=false",
                             "--disable-usage-stats", "--block"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    address = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while subprocess.run([str(RAY), "status", "--address", address], env=env,
                             capture_output=True).returncode != 0:
            if head.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the Ray head did not start")
            time.sleep(0.5)
        yield address
    finally:
        # The whole throwaway cluster (GCS, raylet, workers) is in the head's process group;
        # SIGTERM would make Ray drain for 30 s first.
        os.killpg(head.pid, signal.SIGKILL)
        head.wait()


def test_sweep_on_a_ray_cluster(ray_head, tmp_path):
    runs = _sweep(tmp_path / "ray", "hydra/launcher=ray_cluster",
                  env={**LOOPBACK, "RAY_ADDRESS": ray_head})
    assert len(runs) == 2 and set(runs.status) == {"complete"}
    assert sorted(runs.seed) == [0, 1]


def test_sweep_through_submitit(tmp_path):
    """The submitit launcher's local executor: the SLURM preset's code path without SLURM."""
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher")
    runs = _sweep(tmp_path / "submitit", "hydra/launcher=submitit_local")
    assert len(runs) == 2 and set(runs.status) == {"complete"}
    assert (tmp_path / "submitit" / ".submitit").is_dir()


def test_slurm_preset_resolves():
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher")
    proc = subprocess.run([sys.executable, "-m", "sim", "hydra/launcher=slurm", "--cfg", "hydra",
                           "--resolve", "-p", "hydra.launcher"], cwd=REPO, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "SLURM_PARTITION": "cpu"})
    assert proc.returncode == 0, proc.stderr
    assert "SlurmLauncher" in proc.stdout and "cpus_per_task: 1" in proc.stdout
    assert "partition: cpu" in proc.stdout
