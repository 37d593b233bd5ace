"""Refresh the seeded regression baseline (tests/baseline/teaching_12y.json).

Run only when a change of model behaviour is intended, and say so in the commit message:

    python scripts/refresh_baseline.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.baseline.cases import BASELINE, CASES, record_case  # noqa: E402


def main() -> None:
    record = {name: record_case(overrides) for name, overrides in CASES.items()}
    BASELINE.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    print(f"wrote {BASELINE}")


if __name__ == "__main__":
    main()
