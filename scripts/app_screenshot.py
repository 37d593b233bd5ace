"""The README's screenshot of the classroom app: ``python scripts/app_screenshot.py``.

Starts ``python -m sim.app`` on a free port, opens it in headless Chromium (Debian's
``chromium``, driven by Playwright), presses Step 30 times with the default levers (seed 0)
and writes ``docs/img/app.png`` (or the path given).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_app import REPO, app_page  # noqa: E402

STEPS = 30


def main(out: Path = REPO / "docs" / "img" / "app.png") -> None:
    with app_page(REPO, {"width": 1400, "height": 1640}) as (page, _):
        for step in range(1, STEPS + 1):
            page.get_by_role("button", name="Step").click()
            page.get_by_text(f"Step: {step}", exact=True).wait_for(timeout=60_000)
        page.wait_for_timeout(2500)  # the charts draw after the counter
        page.screenshot(path=str(out))
    print(out)


if __name__ == "__main__":
    main(*(Path(a) for a in sys.argv[1:2]))
