"""Seconds per step of the classroom app (``sim.app``), measured, not asserted.

::

    python scripts/bench_app.py                  # in-process: model step vs chart data
    python scripts/bench_app.py --browser        # + the real app in headless Chromium:
                                                 #   play at render interval 1, s per step
    python scripts/bench_app.py --browser --repo DIR   # the app of another checkout
    python scripts/bench_app.py --walkthrough    # + time to play to 2027 and to 2025

In-process, it steps the teaching world and times ``model.step()`` alone and the server's
share of drawing a step (the charts' ECharts options built and serialised to JSON, the
governments' money once a year as in the app; the browser draws them). In the browser it
starts ``python -m sim.app`` on a free port, presses ▶ with the default play interval and
render interval 1, and reads the step counter: the seconds per step include the play
interval, the model, the charts, the websocket and the browser's drawing. The walkthrough
timing plays from a fresh Reset until the caption's year reaches 2025 (part 3) and 2027
(parts 1, 2 and 4). Nothing is written.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]


def in_process(steps: int) -> dict:
    """A new model (Reset), then model step alone and chart data per step (ms), median over
    ``steps`` steps."""
    sys.path.insert(0, str(REPO))
    from sim import app

    app.ClassroomModel()  # the first one composes the configuration (cached after)
    t0 = time.perf_counter()
    model = app.ClassroomModel()  # what Reset does
    reset_ms = (time.perf_counter() - t0) * 1e3
    charts = (app.map_option, app.workers_option, app.types_option, app.firms_option,
              app.survival_option)
    for chart in (*charts, app.governments_option):  # first calls are not timed
        json.dumps(chart(model))
    step_ms, chart_ms = [], []
    for _ in range(steps):
        t0 = time.perf_counter()
        model.step()
        t1 = time.perf_counter()
        for chart in charts:
            json.dumps(chart(model))
        if model.sim.step_index % 12 == 0:  # the app redraws this one once a year
            json.dumps(app.governments_option(model))
        t2 = time.perf_counter()
        step_ms.append((t1 - t0) * 1e3)
        chart_ms.append((t2 - t1) * 1e3)
    return {"steps": steps, "reset_ms": reset_ms, "model_step_ms": statistics.median(step_ms),
            "charts_ms": statistics.median(chart_ms)}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_app(repo: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = dict(os.environ, PYTHONPATH=str(repo))
    server = subprocess.Popen([sys.executable, "-m", "sim.app", "--port", str(port)], cwd=repo,
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return server, url
        except OSError:
            time.sleep(0.5)
    os.killpg(server.pid, signal.SIGTERM)
    raise SystemExit("error: the app did not start within 120 s")


def _processes() -> dict[int, tuple[int, int, float]]:
    """Every process: pid -> (parent pid, process group, CPU seconds used so far)."""
    table = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            table[int(entry.name)] = (int(fields[1]), int(fields[2]),
                                      (int(fields[11]) + int(fields[12])) / tick)
    return table


def _cpu(server_group: int) -> tuple[float, float]:
    """CPU seconds used so far by the app server (its process group) and by this process's
    other descendants (Playwright's driver and Chromium)."""
    table = _processes()
    server = sum(cpu for _, group, cpu in table.values() if group == server_group)
    children: dict[int, list[int]] = {}
    for pid, (parent, _, _) in table.items():
        children.setdefault(parent, []).append(pid)
    browser, todo = 0.0, list(children.get(os.getpid(), []))
    while todo:
        pid = todo.pop()
        if table[pid][1] != server_group:
            browser += table[pid][2]
            todo += children.get(pid, [])
    return server, browser


def _step(page) -> int:
    found = page.evaluate(r"() => (document.body.innerText.match(/Step: (\d+)/) || [])[1]")
    return int(found) if found else -1


def _year(page) -> float:
    found = page.evaluate(r"() => (document.body.innerText.match(/\b(20\d\d\.\d\d) ·/) || [])[1]")
    return float(found) if found else 0.0


# Records every caption text the page shows (one per step whose charts were drawn).
_COUNT_CAPTIONS = """() => {
    window.tsimCaptions = [];
    const caption = () => document.querySelector('.tsim-caption, .tsim-map');
    new MutationObserver(() => window.tsimCaptions.push(caption().textContent.slice(0, 8)))
        .observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


def _play_until(page, done, timeout_s: float = 600) -> float:
    """Press ▶, wait until ``done(page)``, pause; the seconds it took."""
    t0 = time.monotonic()
    page.get_by_role("button", name="▶").click()
    while not done(page):
        if time.monotonic() - t0 > timeout_s:
            break
        page.wait_for_timeout(200)
    elapsed = time.monotonic() - t0
    for _ in range(3):  # a click that lands while the button is redrawn can be lost
        page.get_by_role("button", name="❚❚").click(timeout=60_000)
        try:
            page.get_by_role("button", name="▶").wait_for(timeout=20_000)
            break
        except Exception:  # noqa: BLE001  (Playwright's timeout; try the click again)
            continue
    return elapsed


@contextlib.contextmanager
def app_page(repo: Path, viewport: dict):
    """The app of ``repo`` served on a free port and open at step 0 in headless Chromium;
    yields (page, server); closes the browser and stops the server."""
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    if not chromium:
        raise SystemExit("error: chromium is not installed (apt-get install chromium)")
    server, url = _start_app(repo)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
            try:
                page = browser.new_page(viewport=viewport)
                page.goto(url)
                page.get_by_text("Step: 0", exact=True).wait_for(timeout=120_000)
                yield page, server
            finally:
                browser.close()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def in_browser(repo: Path, measure_steps: int, walkthrough: bool) -> dict:
    result: dict = {"repo": str(repo)}
    with app_page(repo, {"width": 1400, "height": 1100}) as (page, server):
        page.wait_for_timeout(2000)
        # Warm up for 5 steps, then time the next `measure_steps` while playing, counting
        # the steps whose charts reached the page (the caption is redrawn with them).
        _play_until(page, lambda pg: _step(pg) >= 5)
        page.evaluate(_COUNT_CAPTIONS)
        first = _step(page)
        cpu_before = _cpu(server.pid)
        elapsed = _play_until(page, lambda pg: _step(pg) >= first + measure_steps)
        cpu_after = _cpu(server.pid)
        last = _step(page)
        played = max(last - first, 1)
        result["play_s_per_step"] = elapsed / played
        result["played_steps"] = last - first
        result["steps_drawn"] = page.evaluate("() => new Set(window.tsimCaptions).size")
        # CPU time does not depend on how busy the machine is: on an idle machine a
        # step takes about the play interval plus the server's CPU per step (the
        # browser draws on the other core).
        result["server_cpu_s_per_step"] = (cpu_after[0] - cpu_before[0]) / played
        result["browser_cpu_s_per_step"] = (cpu_after[1] - cpu_before[1]) / played
        if walkthrough:
            for year in (2025, 2027):
                page.get_by_role("button", name="Reset").click()
                page.get_by_text("Step: 0", exact=True).wait_for(timeout=60_000)
                seconds = _play_until(page, lambda pg, y=year: _year(pg) >= y)
                result[f"play_to_{year}_s"] = seconds
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60, help="steps timed (default 60)")
    parser.add_argument("--browser", action="store_true", help="also time the real app")
    parser.add_argument("--walkthrough", action="store_true",
                        help="also time playing to 2025 and 2027 (implies --browser)")
    parser.add_argument("--repo", type=Path, default=REPO,
                        help="checkout whose app the browser times (default: this one)")
    args = parser.parse_args(argv)
    results = {"cpus": os.cpu_count(), "load_1min": os.getloadavg()[0]}
    if args.repo.resolve() == REPO:
        results.update(in_process(args.steps))
    if args.browser or args.walkthrough:
        results.update(in_browser(args.repo.resolve(), args.steps, args.walkthrough))
    for key, value in results.items():
        print(f"{key:20s} {value:.3f}" if isinstance(value, float) else f"{key:20s} {value}")


if __name__ == "__main__":
    main()
