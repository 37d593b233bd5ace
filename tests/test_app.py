"""The classroom app in-process: the charts at step 0, the session cap (with Solara kernels
made here, released when a kernel closes) and the server command (offline settings, the cap
and the idle timeout on a non-loopback address). The browser side is in
``test_app_browser.py``."""

from __future__ import annotations

import pytest

pytest.importorskip("solara")

import ipyvuetify  # noqa: E402
import solara  # noqa: E402
import solara.server.app  # noqa: E402,F401  (widgets and comms as in the server)
from solara.server import kernel, kernel_context  # noqa: E402

from sim import app  # noqa: E402


def _notes(option: dict) -> list[str]:
    return [g["style"]["text"] for g in option.get("graphic", [])]


def test_charts_at_step_zero_say_why_they_are_empty_and_keep_sensible_axes():
    model = app.ClassroomModel()
    firms = app.firms_option(model)
    assert _notes(firms) == [app.STEP_ZERO_NOTE] == _notes(app.workers_option(model))
    assert firms["yAxis"]["min"] == 0 and firms["yAxis"]["minInterval"] == 1
    start, end = app._month_stamps([2017.0, 2037.0])
    assert (firms["xAxis"]["min"], firms["xAxis"]["max"]) == (start, end)
    assert all(s["showSymbol"] for s in firms["series"])  # one point each: drawn as a dot
    assert _notes(app.survival_option(model)) == ["no firm has arrived in a poverty county yet"]
    assert "appears when the year ends" in _notes(app.governments_option(model))[0]
    for _ in range(13):
        model.step()
    assert _notes(app.firms_option(model)) == []
    money = app.governments_option(model)
    assert _notes(money) == [] and money["series"][0]["data"][0] > 0  # 2017's packages


def test_month_stamps_are_first_of_month_in_ms():
    assert list(app._month_stamps([1970.0, 1970 + 1 / 12, 2017.25])) == [
        0, 31 * 86_400_000, 1_491_004_800_000]  # 1 April 2017, 00:00 UTC


def test_gate_admits_up_to_capacity_and_frees_a_place_on_release():
    gate = app.SessionGate(2)
    assert gate.admit("a") and gate.admit("b")
    assert not gate.admit("c")
    assert gate.admit("a")  # a reconnecting session keeps its place
    gate.release("a")
    assert gate.admit("c") and gate.live == 2
    assert all(app.SessionGate(None).admit(str(i)) for i in range(100))


def _open_page(kernel_id: str) -> tuple[kernel_context.VirtualKernelContext, str]:
    """A Solara kernel (one browser session) rendering the app's page; the page's text."""
    context = kernel_context.VirtualKernelContext(id=kernel_id, kernel=kernel.Kernel(),
                                                  session_id=f"session-{kernel_id}")
    with context:
        _, rc = solara.render(app.Page(), handle_error=False)
        alerts = rc.find(ipyvuetify.Alert).widgets
        text = " ".join(str(a.children) for a in alerts)
        captions = rc.find(ipyvuetify.Html, class_="tsim-caption").widgets
        text += " ".join(str(c.children) for c in captions)
    return context, text


def test_page_refuses_a_session_over_the_cap_until_one_closes(monkeypatch):
    monkeypatch.setattr(app, "SESSIONS", app.SessionGate(1))
    first, text = _open_page("k1")
    assert "policy baseline" in text  # a model runs
    second, text = _open_page("k2")
    assert "The class is full: all 1 places" in text and "policy" not in text
    first.close(reason="test")  # the tab closed, or the idle kernel was culled
    third, text = _open_page("k3")
    assert "policy baseline" in text
    for context in (second, third):
        context.close(reason="test")
    assert app.SESSIONS.live == 0


def test_server_command_is_offline_and_bounds_a_class():
    cmd, env = app.server_command(["--host", "0.0.0.0"])
    assert "--no-check-version" in cmd and "--production" in cmd
    assert env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "False"
    assert env["SOLARA_ASSETS_CDN"].startswith("http://127.0.0.1:")
    assert env[app.MAX_SESSIONS_ENV] == str(app.CLASS_MAX_SESSIONS)
    assert env["SOLARA_KERNEL_CULL_TIMEOUT"] == f"{app.CLASS_IDLE_MINUTES}m"

    cmd, env = app.server_command(["--host", "0.0.0.0", "--max-sessions", "5",
                                   "--idle-minutes", "3", "--port", "9000"])
    assert env[app.MAX_SESSIONS_ENV] == "5" and env["SOLARA_KERNEL_CULL_TIMEOUT"] == "3m"
    assert "--max-sessions" not in cmd and cmd[-2:] == ["--port", "9000"]


def test_server_command_on_loopback_leaves_sessions_unbounded_unless_asked(monkeypatch):
    monkeypatch.delenv("SOLARA_KERNEL_CULL_TIMEOUT", raising=False)
    _, env = app.server_command([])
    assert app.MAX_SESSIONS_ENV not in env and "SOLARA_KERNEL_CULL_TIMEOUT" not in env
    _, env = app.server_command(["--max-sessions", "3"])
    assert env[app.MAX_SESSIONS_ENV] == "3"


@pytest.mark.parametrize("option", ["--max-sessions", "--idle-minutes"])
@pytest.mark.parametrize("value", ["0", "many"])
def test_bad_session_limits_are_refused_in_one_line(option, value, capsys):
    with pytest.raises(SystemExit) as exit_info:
        app.main(["--host", "0.0.0.0", option, value])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err == f"error: {option} = '{value}'; allowed: a whole number >= 1\n"
