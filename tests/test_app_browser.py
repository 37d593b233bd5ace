"""The classroom app in a real browser: headless Chromium (Debian's) driven by Playwright.

The test starts the app with the README's command on a free local port, loads it, switches
the KPI regime to ``reform`` and the industry selection to the paper's rule of thumb, resets,
steps and plays the model, and checks that the map and every plot changed, that the new levers
reached the model, and that the page asked nothing of any host but the local server. It needs
the ``chromium`` binary (``apt-get install chromium``; ``.ci/run`` installs it); without it the
test is skipped unless ``TSIM_REQUIRE_BROWSER=1`` (set by CI) makes that a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]
FIGURES = ("tsim-map", "tsim-workers", "tsim-types", "tsim-firms", "tsim-survival",
           "tsim-governments")
TIMEOUT_MS = 60_000

if not CHROMIUM:
    if os.environ.get("TSIM_REQUIRE_BROWSER") == "1":
        raise RuntimeError("chromium is not installed (apt-get install chromium)")
    pytest.skip("chromium is not installed", allow_module_level=True)
pytest.importorskip("solara")
sync_api = pytest.importorskip("playwright.sync_api")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    port = _free_port()
    log_path = tmp_path_factory.mktemp("app") / "server.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen([sys.executable, "-m", "sim.app", "--port", str(port)],
                                  cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                pytest.fail(f"the app exited early:\n{log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the app did not start:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.5)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def _settled_figures(page, timeout_s: float = 45) -> dict[str, bytes]:
    """Screenshots of the map and plots once two rounds in a row give the same pixels
    (Solara replaces an image element when it re-renders it)."""
    deadline = time.monotonic() + timeout_s
    last = None
    while True:
        try:
            shots = {name: page.locator(f".{name} img").screenshot(timeout=10_000)
                     for name in FIGURES}
        except sync_api.Error:
            shots = None
        if shots is not None and shots == last:
            return shots
        if time.monotonic() > deadline:
            pytest.fail("the map and plots did not settle")
        last = shots
        page.wait_for_timeout(500)


# SolaraViz's information panel: "Step: 3" (Mesa 3.3) or "Time: 3.0" (Mesa 3.5).
STEP_TEXT = r"^(?:Step: {0}|Time: {0}\.0)$"


def _wait_for_step(page, step: int) -> None:
    page.get_by_text(re.compile(STEP_TEXT.format(step))).wait_for(timeout=TIMEOUT_MS)


def test_app_lever_step_play_reset_change_map_and_plots(app_url):
    outside = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            page.on("request", lambda r: outside.append(r.url)
                    if not r.url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:",
                                             "blob:")) else None)
            page.goto(app_url)
            for name in FIGURES:
                page.locator(f".{name} img").wait_for(timeout=TIMEOUT_MS)
            _wait_for_step(page, 0)
            caption = page.locator(".tsim-map")
            assert "baseline" in caption.inner_text()
            assert "targets none" in caption.inner_text()
            before = _settled_figures(page)

            # Two levers: the KPI regime and the industries packages target (they take effect
            # on Reset).
            for lever, value in (("KPI regime", "reform"),
                                 ("Target packages at", "the rule of thumb")):
                page.locator(".v-select").filter(has_text=lever).click()
                page.locator(".menuable__content__active .v-list-item").filter(
                    has_text=value).click()
                page.locator(".menuable__content__active").wait_for(state="hidden",
                                                                    timeout=TIMEOUT_MS)
            page.get_by_role("button", name="Reset").click()
            caption.filter(has_text="kpi_reform").wait_for(timeout=TIMEOUT_MS)
            assert "targets rule" in caption.inner_text()

            # Step twice, then play until firms have arrived in poverty counties.
            for step in (1, 2):
                page.get_by_role("button", name="Step").click()
                _wait_for_step(page, step)
            page.get_by_role("button", name="▶").click()
            page.get_by_text(re.compile(STEP_TEXT.format(r"(?:2[4-9]|[3-9]\d|\d{3})"))).wait_for(
                timeout=TIMEOUT_MS)
            page.get_by_role("button", name="❚❚").click()
            page.get_by_role("button", name="▶").wait_for(timeout=TIMEOUT_MS)
            year = float(re.search(r"(\d{4}\.\d\d)", caption.inner_text()).group(1))
            assert year >= 2019.0
            after = _settled_figures(page)
        finally:
            browser.close()
    changed = {name: before[name] != after[name] for name in FIGURES}
    assert all(changed.values()), changed
    assert outside == [], f"the page requested other hosts: {outside[:5]}"
