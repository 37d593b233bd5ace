"""The analyst's report: a small sweep writes a self-contained report.html whose every figure
and table renders (in Chromium, when it is installed), byte-identical when aggregated again;
the sweep's tables carry only design parameters and documented columns; a single run writes
its own report on request; multirun jobs print no per-run progress."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import sim.cli
from experiments import aggregate as A
from sim.config import OUTPUT_OPTIONS

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]
# 2 arms x 2 seeds x 2 shock scenarios on the teaching world, 7 years (the export shock
# starts in August 2022): every section of the report has something to show.
SWEEP = ["policy=baseline,training_push", "run.seed=0,1", "shock=none,export_2022",
         "world=teaching", "run.years=7", "run.progress=true", "run.figures=false",
         "run.threads=1"]
SECTIONS = ("The comparison", "Differences from baseline",
            "Survival of firms in poverty counties", "Local jobs over time", "Cost and effect",
            "By zone and county kind", "The governments&#39; spending choices",
            "Where: a schematic county map")


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    """The sweep, run in this process (basic launcher), with sim.cli.Progress counted."""
    sweep_dir = tmp_path_factory.mktemp("report") / "sweep"
    made = []

    class CountingProgress(sim.cli.Progress):
        def __init__(self, *args, **kwargs):
            made.append(args)
            super().__init__(*args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sys, "argv", ["sim"])
        mp.setattr(sim.cli, "Progress", CountingProgress)
        sim.cli.main(["-m", *SWEEP, f"hydra.sweep.dir={sweep_dir}"])
    return sweep_dir, made


def test_multirun_jobs_show_no_per_run_progress(sweep):
    _, made = sweep
    assert made == [], "run.progress=true inside a multirun must not start per-run lines"


def test_sweep_writes_a_self_contained_report(sweep):
    sweep_dir, _ = sweep
    html = (sweep_dir / "report.html").read_text(encoding="utf-8")
    for title in SECTIONS:
        assert f">{title}</h2>" in html, title
    assert "<script" not in html and "<link" not in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), "fetches from a host"
    sources = re.findall(r'<img src="([^"]+)"', html)
    assert len(sources) >= 9 and all(s.startswith("data:image/png;base64,") for s in sources)
    assert html.count('<div class="table-wrap"><table') >= 6
    # 2 seeds: the page warns that intervals cannot be read
    assert "fewer than 5" in html and "warning" in html


def test_report_is_byte_identical_when_aggregated_again(sweep):
    sweep_dir, _ = sweep
    names = ("report.html", "km_survival.png", "hazard_by_age.png", "poverty_local_jobs.png",
             "table.md", "comparison.csv")
    before = {n: (sweep_dir / n).read_bytes() for n in names}
    assert A.main([str(sweep_dir), "--quiet"]) == 0
    for n in names:
        assert (sweep_dir / n).read_bytes() == before[n], n


def test_tables_hold_only_design_parameters_and_documented_columns(sweep):
    sweep_dir, _ = sweep
    runs = pd.read_parquet(sweep_dir / "runs.parquet")
    comparison = pd.read_csv(sweep_dir / "comparison.csv")
    frontier = pd.read_csv(sweep_dir / "frontier.csv")
    for option in OUTPUT_OPTIONS:
        assert option not in runs.columns and option not in comparison.columns, option
    design = A.design_columns(runs)
    assert set(design) == {"world", "policy", "shock", "run.years"}
    assert A.undocumented(runs.columns, A.RUNS_COLUMNS, design) == []
    assert A.undocumented(comparison.columns, A.COMPARISON_COLUMNS, design) == []
    assert A.undocumented(frontier.columns, A.FRONTIER_COLUMNS) == []
    # and the check would catch a stray column
    assert A.undocumented([*runs.columns, "run.progress"], A.RUNS_COLUMNS, design) == [
        "run.progress"]


def test_table_md_carries_the_seed_warning(sweep):
    sweep_dir, _ = sweep
    assert "fewer than 5" in (sweep_dir / "table.md").read_text()


def test_single_run_writes_its_report_on_request(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.run([sys.executable, "-m", "sim", "world=teaching", "run.years=3",
                           "run.report=true", "run.threads=1", f"hydra.run.dir={out}"],
                          capture_output=True, text=True, timeout=600, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-3000:]
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<script" not in html and html.count("data:image/png;base64,") >= 5
    assert ">Indicators</h2>" in html and "survival_3y" in html
    plain = tmp_path / "plain"
    subprocess.run([sys.executable, "-m", "sim", "world=teaching", "run.years=1",
                    "run.threads=1", "run.figures=false", f"hydra.run.dir={plain}"],
                   capture_output=True, text=True, timeout=600, cwd=REPO, check=True)
    assert not (plain / "report.html").exists()  # off by default


def test_report_renders_in_chromium(sweep):
    """Every figure decoded (naturalWidth > 0) and every table has rows, offline."""
    if not CHROMIUM:
        if os.environ.get("TSIM_REQUIRE_BROWSER") == "1":
            pytest.fail("chromium is not installed (apt-get install chromium)")
        pytest.skip("chromium is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    sweep_dir, _ = sweep
    requests = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on("request", lambda r: requests.append(r.url))
            page.goto((sweep_dir / "report.html").as_uri())
            page.wait_for_load_state("load")
            images = page.eval_on_selector_all(
                "img", "els => els.map(e => [e.complete, e.naturalWidth, e.alt])")
            tables = page.eval_on_selector_all(
                "table", "els => els.map(e => e.querySelectorAll('tbody tr').length)")
            title = page.title()
        finally:
            browser.close()
    assert len(images) >= 9 and all(done and width > 0 for done, width, _ in images), images
    assert len(tables) >= 6 and all(rows > 0 for rows in tables), tables
    assert title.startswith("Sweep report")
    assert all(url.startswith(("file:", "data:")) for url in requests), requests
