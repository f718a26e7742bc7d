"""The leaderboard web page in a real browser (headless Chromium, offline, loaded from file://).

One page for the whole module: the synthetic two-set leaderboard of ``site_factory`` (set5 on CPU,
set14 on an H200). Skipped, with the reason, where Chromium, chromedriver or selenium is missing.
A screenshot is saved in the module's tmp folder (its path is printed: ``pytest -s`` shows it).
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import urlparse

import pytest

from eval.report.leaderboard import main
from tests.eval.report.browser import console_entries, find_chromium, requested_urls, start_chromium
from tests.eval.report.site_factory import MODELS, build_inputs

pytestmark = pytest.mark.browser
FOUND = find_chromium()
if isinstance(FOUND, str):
    if os.environ.get("RTSR_REQUIRE_BROWSER"):  # CI sets it once Chromium is installed
        pytest.fail(f"browser tests required (RTSR_REQUIRE_BROWSER) but: {FOUND}", pytrace=False)
    pytest.skip(f"browser tests skipped: {FOUND}", allow_module_level=True)

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

SECTIONS = ("set14-x3-ntire23", "set5-x3-ntire23")
LOCAL_SCHEMES = ("file", "data", "blob", "about")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The built site folder (its own data root, so other tests' set5 images do not interfere)."""
    root = tmp_path_factory.mktemp("browser_site")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RTSR_DATA_ROOT", str(root / "data"))
        build_inputs(root)
        rc = main(["--results", str(root / "results"), "--sr", str(root / "sr"),
                   "--out", str(root / "lb"), "--no-figures"])
    assert rc == 0
    return root / "lb" / "site"


@pytest.fixture(scope="module")
def page(site, tmp_path_factory):
    """A headless Chromium showing index.html from file://, after the charts have rendered.

    Yields (driver, urls requested by the page load, console entries of the load).
    """
    driver = start_chromium(tmp_path_factory.mktemp("chromium-profile"))
    try:
        driver.get("about:blank")
        requested_urls(driver), console_entries(driver)  # drop the start page's entries
        driver.get((site / "index.html").as_uri())
        WebDriverWait(driver, 60).until(lambda d: d.execute_script(
            "return document.querySelectorAll('.chart .scatterlayer path.point').length") > 0)
        yield driver, requested_urls(driver), console_entries(driver)
    finally:
        driver.quit()


def _rows(driver, section: str) -> list[str]:
    """Model labels of a section's table, in displayed order."""
    return driver.execute_script(
        f"return Array.from(document.querySelectorAll('table[data-section=\"{section}\"] tbody tr'))"
        ".map(tr => tr.dataset.model)")


def _leaderboard(site: Path, dataset: str) -> list[dict]:
    """The rows of leaderboard.json for one test set, in rank order."""
    rows = json.loads((site.parent / "leaderboard.json").read_text())
    return [r for r in rows if r["dataset"] == dataset]


def test_loads_without_console_errors_or_network_requests(page, site):
    driver, urls, console = page
    assert [e for e in console if e["level"] in ("SEVERE", "WARNING")] == []
    schemes = {urlparse(u).scheme for u in urls}
    assert schemes <= set(LOCAL_SCHEMES), [u for u in urls if urlparse(u).scheme not in LOCAL_SCHEMES]
    files = {Path(urlparse(u).path) for u in urls if u.startswith("file:")}
    assert all(site in f.parents for f in files), files  # nothing outside the site folder
    assert {f.name for f in files} >= {"index.html", "site.css", "site.js", "plotly.min.js"}
    assert driver.title == "rtsr-bench leaderboard"


def test_every_models_row_is_present_with_its_banner(page):
    driver = page[0]
    for section in SECTIONS:
        assert sorted(_rows(driver, section)) == sorted(MODELS)
    banners = [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".banner")]
    assert banners == ["GPU FP16, NTIRE 2023 runtime protocol, on NVIDIA H200",
                       "CPU FP32, not challenge-comparable (runtime on AMD EPYC 7763 64-Core Processor)"]
    assert [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".images")] == ["5 images"] * 2


def _click_header(driver, section: str, key: str) -> None:
    """Click a column header of a section's table, like a user."""
    driver.find_element(
        By.CSS_SELECTOR, f'table[data-section="{section}"] th[data-key="{key}"] button').click()


def _aria_sort(driver, section: str, key: str) -> str:
    return driver.find_element(
        By.CSS_SELECTOR, f'table[data-section="{section}"] th[data-key="{key}"]').get_attribute("aria-sort")


def test_sorting_by_score_reorders_rows(page, site):
    driver = page[0]
    section = "set5-x3-ntire23"
    rows = _leaderboard(site, "set5")
    rank_order = [r["label"] for r in rows]
    assert _rows(driver, section) == rank_order
    _click_header(driver, section, "runtime_ms")
    by_runtime = [r["label"] for r in sorted(rows, key=lambda r: r["runtime_ms"])]
    assert _rows(driver, section) == by_runtime != rank_order
    _click_header(driver, section, "score")  # first click: best score first
    assert _rows(driver, section) == rank_order
    assert _aria_sort(driver, section, "score") == "descending"
    assert _aria_sort(driver, section, "runtime_ms") == "none"
    _click_header(driver, section, "score")  # second click: ascending, ties in rank order
    index = {m: i for i, m in enumerate(rank_order)}
    ascending = [r["label"] for r in sorted(rows, key=lambda r: (r["score"], index[r["label"]]))]
    assert _rows(driver, section) == ascending != rank_order
    assert _aria_sort(driver, section, "score") == "ascending"
    _click_header(driver, section, "rank")
    assert _rows(driver, section) == rank_order


def test_chart_renders_one_point_per_model_on_a_log_axis(page):
    driver = page[0]
    for section in SECTIONS:
        chart = driver.find_element(By.ID, f"chart-{section}")
        points = chart.find_elements(By.CSS_SELECTOR, ".scatterlayer path.point")
        assert len(points) == len(MODELS)
        assert chart.find_elements(By.CSS_SELECTOR, "svg.main-svg")
        assert driver.execute_script("return arguments[0]._fullLayout.xaxis.type", chart) == "log"
        traces = driver.execute_script("return arguments[0]._fullData.map(t => t.name)", chart)
        assert "Pareto front" in traces and "iso-score curves" in traces
        assert any(t.startswith("bicubic ") for t in traces)


def test_hovering_a_point_shows_its_row(page):
    driver = page[0]
    section = "set14-x3-ntire23"
    chart = driver.find_element(By.ID, f"chart-{section}")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", chart)
    labels = driver.execute_script(
        "return arguments[0]._fullData.find(t => t.customdata).customdata", chart)
    i = labels.index("abpn")
    point = chart.find_elements(By.CSS_SELECTOR, ".scatterlayer path.point")[i]
    ActionChains(driver).move_to_element(point).perform()
    WebDriverWait(driver, 10).until(
        lambda d: chart.find_elements(By.CSS_SELECTOR, ".hoverlayer .hovertext"))
    text = chart.find_element(By.CSS_SELECTOR, ".hoverlayer .hovertext").text
    assert "abpn" in text and "PSNR RGB 27.976 dB (+0.771 vs bicubic)" in text
    assert "4.900 ms mean" in text and "42,539 params" in text
    highlighted = driver.find_elements(By.CSS_SELECTOR, f'table[data-section="{section}"] tr.hl')
    assert [tr.get_attribute("data-model") for tr in highlighted] == ["abpn"]
    ActionChains(driver).move_by_offset(0, 300).perform()  # leave: the highlight goes
    WebDriverWait(driver, 10).until(lambda d: not d.find_elements(By.CSS_SELECTOR, "tr.hl"))


def _revealed(driver, figure) -> tuple[float, float]:
    """(width of the revealed left image, width of the view) in CSS pixels."""
    return driver.execute_script(
        "const f = arguments[0]; return [f.querySelector('.reveal').getBoundingClientRect().width,"
        " f.querySelector('.view').getBoundingClientRect().width]", figure)


def test_comparison_slider_moves_and_pickers_switch_images(page):
    driver = page[0]
    figure = driver.find_element(By.CSS_SELECTOR, "#set5-x3-ntire23 figure.compare")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", figure)
    slider = figure.find_element(By.CSS_SELECTOR, ".slider")
    revealed, view = _revealed(driver, figure)
    assert view == 384 and revealed == pytest.approx(view / 2, abs=1)
    slider.send_keys(Keys.HOME)
    assert _revealed(driver, figure)[0] == pytest.approx(0, abs=1)
    for _ in range(25):
        slider.send_keys(Keys.ARROW_RIGHT)
    assert slider.get_attribute("value") == "25"
    assert _revealed(driver, figure)[0] == pytest.approx(0.25 * view, abs=1)
    slider.send_keys(Keys.END)
    assert _revealed(driver, figure)[0] == pytest.approx(view, abs=1)
    ActionChains(driver).click_and_hold(slider).move_by_offset(-int(0.3 * view), 0).release().perform()
    value = int(slider.get_attribute("value"))
    assert 10 <= value <= 30 and _revealed(driver, figure)[0] == pytest.approx(value / 100 * view, abs=1)
    left = figure.find_element(By.CSS_SELECTOR, ".img-left")
    assert left.get_attribute("src").endswith("/0-1.png")  # bicubic on the left by default
    assert figure.find_element(By.CSS_SELECTOR, ".img-right").get_attribute("src").endswith("/0-2.png")
    figure.find_element(By.CSS_SELECTOR, ".pick-left option[value$='/0-0.png']").click()  # HR
    assert left.get_attribute("src").endswith("/0-0.png")
    assert driver.execute_script("return getComputedStyle(arguments[0]).imageRendering", left) == "pixelated"
    assert driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth", left) == 64


def test_provenance_opens_on_demand(page):
    driver = page[0]
    details = driver.find_element(By.ID, "prov-set5-x3-ntire23-0")
    assert details.get_attribute("open") is None
    link = driver.find_element(By.CSS_SELECTOR, '#set5-x3-ntire23 a[href="#prov-set5-x3-ntire23-0"]')
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", link)
    link.click()
    WebDriverWait(driver, 10).until(lambda d: details.get_attribute("open") is not None)
    assert "python -m eval.evaluate --model bicubic_pp" in details.text
    assert "ab" * 32 in details.text


def test_the_score_column_is_in_view_at_1400_px_without_scrolling(page):
    """Rank, label, score and PSNR lead the table: at 1400 px the score needs no horizontal scroll."""
    driver = page[0]
    driver.set_window_size(1400, 1600)
    driver.execute_script("window.scrollTo(0, 0); document.querySelectorAll('.table-wrap')"
                          ".forEach(w => { w.scrollLeft = 0; })")
    for section in SECTIONS:
        box = driver.execute_script(
            "const th = document.querySelector(arguments[0]);"
            "const wrap = th.closest('.table-wrap').getBoundingClientRect();"
            "const r = th.getBoundingClientRect();"
            "return [r.left, r.right, wrap.left, wrap.right, window.innerWidth,"
            " Array.from(th.parentNode.children).map(c => c.dataset.key)]",
            f'table[data-section="{section}"] th[data-key="score"]')
        left, right, wrap_left, wrap_right, width, keys = box
        assert 1300 < width <= 1400, width  # the viewport of a 1400 px window
        assert wrap_left <= left < right <= min(wrap_right, width), box  # inside the table's visible box
        assert keys[:4] == ["rank", "label", "score", "psnr_rgb"]
    driver.set_window_size(1280, 1600)


def test_screenshot(page, tmp_path_factory):
    driver = page[0]
    driver.execute_script("window.scrollTo(0, 0)")
    path = tmp_path_factory.mktemp("screenshot") / "site.png"
    assert driver.save_screenshot(str(path))
    assert path.stat().st_size > 50_000  # a rendered page, not a blank one
    print(f"screenshot: {path}")


def test_interactions_caused_no_errors_or_requests(page):
    """Runs last: sorting, hovering, sliding and opening details fetched nothing and logged no error."""
    driver = page[0]
    assert [e for e in console_entries(driver) if e["level"] in ("SEVERE", "WARNING")] == []
    urls = requested_urls(driver)
    assert {urlparse(u).scheme for u in urls} <= set(LOCAL_SCHEMES), urls
