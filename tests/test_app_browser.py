"""The classroom app in a real browser: headless Chromium (Debian's) driven by Playwright.

The tests start the app with the README's command on a free local port, behind a recording
proxy: the server gets ``HTTP_PROXY``/``HTTPS_PROXY``/``ALL_PROXY`` and Chromium
``--proxy-server`` pointing at a tiny proxy on loopback that notes every connection attempt and
forwards none. They load the page, switch the KPI regime to ``reform`` and the industry
selection to the paper's rule of thumb, reset, step and play the model, and check that the map
and every chart changed and the new levers reached the model; that the tab has the app's title
and every slider shows its value without being touched; and that neither the server nor the
page tried to reach any host but loopback (Solara's version check, telemetry and CDN
downloads), with no asset missing. They need the ``chromium`` binary (``apt-get install
chromium``; ``.ci/run`` installs it); without it they are skipped unless
``TSIM_REQUIRE_BROWSER=1`` (set by CI) makes that a failure.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
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

from sim.app import TITLE, is_loopback  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RecordingProxy(socketserver.ThreadingTCPServer):
    """An HTTP(S) proxy on loopback that records the host of every request (``CONNECT
    host:443`` or ``GET http://host/...``) and answers 403 without connecting anywhere."""

    daemon_threads = True

    def __init__(self):
        self.attempts: list[str] = []
        super().__init__(("127.0.0.1", 0), _RecordingHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def outside(self) -> list[str]:
        """Hosts attempted that are not loopback."""
        return [host for host in self.attempts if not is_loopback(host)]


class _RecordingHandler(socketserver.StreamRequestHandler):
    def handle(self):
        request_line = self.rfile.readline(8192).decode("latin-1").split()
        if len(request_line) >= 2:  # "CONNECT host:443 ..." or "GET http://host/... ..."
            target = request_line[1]
            url = target if "://" in target else f"//{target}"
            self.server.attempts.append(urllib.parse.urlsplit(url).hostname or target)
        self.wfile.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n"
                         b"Connection: close\r\n\r\n")


def _serve(proxy: RecordingProxy):
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    yield proxy
    proxy.shutdown()
    proxy.server_close()


@pytest.fixture(scope="module")
def proxy():
    """The app server's proxy: it must record no host but loopback."""
    yield from _serve(RecordingProxy())


@pytest.fixture(scope="module")
def browser_proxy():
    """Chromium's proxy. Chromium itself calls Google's services (sign-in, autofill) even
    with the flags above; what the page asks for is checked on the page's own requests."""
    yield from _serve(RecordingProxy())


# Chromium's own services, not the page's (the page's requests are checked one by one).
CHROMIUM_SERVICES = (".google.com", ".googleapis.com", ".gvt1.com")


@pytest.fixture(scope="module")
def app_url(tmp_path_factory, proxy):
    port = _free_port()
    log_path = tmp_path_factory.mktemp("app") / "server.log"
    # Every outbound request of the server (requests, urllib) goes to the recording proxy.
    env = dict(os.environ, HTTP_PROXY=proxy.url, HTTPS_PROXY=proxy.url, ALL_PROXY=proxy.url,
               http_proxy=proxy.url, https_proxy=proxy.url, all_proxy=proxy.url,
               NO_PROXY="", no_proxy="")
    with open(log_path, "wb") as log:
        server = subprocess.Popen([sys.executable, "-m", "sim.app", "--port", str(port)],
                                  cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
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
    """Screenshots of the map and charts once two rounds in a row give the same pixels."""
    deadline = time.monotonic() + timeout_s
    last = None
    while True:
        try:
            shots = {name: page.locator(f".{name} .solara-echarts").screenshot(timeout=10_000)
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


@contextlib.contextmanager
def _app_page(app_url, proxy, problems: list[str]):
    """The app's page (:func:`_open`) in a Chromium whose every non-loopback request goes to
    the recording ``proxy``; the browser is closed afterwards."""
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM,
                                    args=[*CHROMIUM_FLAGS, f"--proxy-server={proxy.url}"])
        try:
            yield _open(browser, app_url, problems)
        finally:
            browser.close()


def _open(browser, app_url, problems: list[str]):
    """The app's page, loaded, with requests to other hosts than loopback, failed requests
    and error responses noted in ``problems`` (a missing local asset would be a 404 under
    ``/_solara/cdn``)."""
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    page.on("request", lambda r: problems.append(f"outside {r.url}")
            if not r.url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:"))
            else None)
    page.on("requestfailed", lambda r: problems.append(f"failed {r.url}"))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}")
            if r.status >= 400 else None)
    page.goto(app_url)
    for name in FIGURES:
        page.locator(f".{name} .solara-echarts canvas").first.wait_for(timeout=TIMEOUT_MS)
    _wait_for_step(page, 0)
    return page


def test_app_lever_step_play_reset_change_map_and_plots(app_url, browser_proxy):
    problems = []
    with _app_page(app_url, browser_proxy, problems) as page:
        caption = page.locator(".tsim-caption")
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
    changed = {name: before[name] != after[name] for name in FIGURES}
    assert all(changed.values()), changed
    assert problems == [], problems[:5]


# The sliders of the sidebar and the value each shows before anyone touches it.
SLIDER_VALUES = {"Package length (years)": "3", "Special fund (bn yuan/year)": "0",
                 "Training budget (yuan/person-year)": "0", "Credibility of promises": "0.85",
                 "Seed": "0", "Render Interval (steps)": "1"}


def test_page_has_a_title_and_every_slider_shows_its_value(app_url, browser_proxy):
    problems = []
    with _app_page(app_url, browser_proxy, problems) as page:
        page.wait_for_function(f"document.title === {TITLE!r}", timeout=TIMEOUT_MS)
        shown = {}
        for label in SLIDER_VALUES:
            bubble = page.locator(".v-input__slider").filter(has_text=label).locator(
                ".v-slider__thumb-label")
            shown[label] = bubble.inner_text().strip() if bubble.is_visible() else None
    assert shown == SLIDER_VALUES
    assert problems == [], problems[:5]


def test_nothing_is_fetched_from_outside_loopback(app_url, proxy, browser_proxy):
    """The server's start, page loads and steps (this and the tests above) reached no host
    but loopback, nor did the page; the proxy was in the way (the server's request for an
    asset missing from the local assets is recorded) and that asset fails instead of being
    fetched from a CDN."""
    problems = []
    with _app_page(app_url, browser_proxy, problems) as page:
        for step in (1, 2, 3):
            page.get_by_role("button", name="Step").click()
            _wait_for_step(page, step)
        page.wait_for_timeout(2000)  # let anything the page would load late start
    assert problems == [], problems[:5]
    assert proxy.outside() == [], f"the server tried {sorted(set(proxy.outside()))}"
    assert [host for host in browser_proxy.outside()
            if not host.endswith(CHROMIUM_SERVICES)] == []

    # The server's requests do go through the proxy: an asset that is not in the local
    # assets is asked of the (dead, loopback) upstream, recorded, and refused.
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(f"{app_url}_solara/cdn/katex@0.16.9/dist/katex.min.js",
                               timeout=60)
    assert missing.value.code == 404
    assert "127.0.0.1" in proxy.attempts and proxy.outside() == []
