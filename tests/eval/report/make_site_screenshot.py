"""Make the README's screenshot of the web page from a realistic synthetic leaderboard.

    python tests/eval/report/make_site_screenshot.py [leaderboard/site-screenshot.png]

Builds the CPU Set5 leaderboard of ``site_factory`` (the README's measured PSNRs, 240x320 photographs)
in a temporary folder, opens its page in headless Chromium (``tests/eval/report/browser.py``), hovers the
Bicubic++ point, and saves the top of the page as a palette PNG (well under 300 KB).
"""
from __future__ import annotations

import io
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO))  # this checkout's packages and its tests package (the helpers)

SIZE = (1280, 1700)  # browser window, CSS pixels
MAX_BYTES = 300_000


def main(out: Path) -> int:
    """Write the screenshot to ``out``; returns the exit status."""
    from tests.eval.report.browser import find_chromium, start_chromium

    found = find_chromium()
    if isinstance(found, str):
        print(f"error: {found}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        os.environ["RTSR_DATA_ROOT"] = str(root / "data")
        from PIL import Image
        from selenium.webdriver.common.action_chains import ActionChains
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import WebDriverWait

        from eval.report.leaderboard import main as leaderboard
        from tests.eval.report.site_factory import build_inputs

        build_inputs(root, size=(240, 320), gpu_set=False)
        if leaderboard(["--results", str(root / "results"), "--sr", str(root / "sr"),
                        "--out", str(root / "lb"), "--no-figures"]) != 0:
            return 1
        driver = start_chromium(root / "profile", SIZE)
        try:
            driver.get((root / "lb" / "site" / "index.html").as_uri())
            WebDriverWait(driver, 60).until(lambda d: d.find_elements(
                By.CSS_SELECTOR, ".chart .scatterlayer path.point"))
            chart = driver.find_element(By.CSS_SELECTOR, ".chart")
            labels = driver.execute_script(
                "return arguments[0]._fullData.find(t => t.customdata).customdata", chart)
            point = chart.find_elements(By.CSS_SELECTOR, ".scatterlayer path.point")[
                labels.index("bicubic_pp")]
            ActionChains(driver).move_to_element(point).perform()
            WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, "tr.hl"))
            png = driver.get_screenshot_as_png()
        finally:
            driver.quit()
    img = Image.open(io.BytesIO(png)).convert("RGB")
    buf = io.BytesIO()
    img.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(buf, format="PNG", optimize=True)
    if buf.tell() > MAX_BYTES:
        print(f"error: screenshot is {buf.tell()} bytes (> {MAX_BYTES})", file=sys.stderr)
        return 1
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(buf.getvalue())
    print(f"wrote {out} ({img.width}x{img.height}, {buf.tell() // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else REPO / "leaderboard" / "site-screenshot.png")))
