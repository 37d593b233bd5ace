"""Refresh the seeded regression baseline (tests/baseline/teaching_seed0.json).

Run only when a change of model behaviour is intended, and say so in the commit message:

    python scripts/refresh_baseline.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.test_results import BASELINE, BASELINE_ARGS  # noqa: E402

KEEP_OUT = {"run_id", "steps"}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "sim", *BASELINE_ARGS, "run.progress=false",
                        "run.figures=false", f"hydra.run.dir={tmp}/run"], check=True, cwd=ROOT)
        summary = json.loads((Path(tmp) / "run" / "summary.json").read_text())
    record = {k: v for k, v in summary.items() if k not in KEEP_OUT}
    BASELINE.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    print(f"wrote {BASELINE}")


if __name__ == "__main__":
    main()
