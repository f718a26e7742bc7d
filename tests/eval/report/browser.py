"""Headless Chromium for the web-page tests: Debian's ``chromium`` + ``chromium-driver``, offline.

``find_chromium()`` returns the two executables or the reason they are unusable (tests skip with it).
``start_chromium()`` starts a browser with a fresh profile and every background-network feature off,
with the browser console and the network (performance) log recorded for the tests to read.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--hide-scrollbars")
INSTALL = "apt-get install -y chromium chromium-driver && pip install selenium (CI's .ci/run does)"


def find_chromium() -> tuple[str, str] | str:
    """(browser, chromedriver) paths, or a one-line reason why the browser tests cannot run."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return f"selenium is not installed: {INSTALL}"
    browser = os.environ.get("RTSR_CHROMIUM") or next(filter(None, map(shutil.which, BROWSERS)), None)
    driver = os.environ.get("RTSR_CHROMEDRIVER") or shutil.which("chromedriver")
    if browser is None:
        return f"no Chromium on PATH ({', '.join(BROWSERS)}): {INSTALL}"
    if driver is None:
        return f"no chromedriver on PATH: {INSTALL}"
    return browser, driver


def start_chromium(profile_dir: Path, size: tuple[int, int] = (1280, 1600)):
    """A selenium Chrome driver on headless Chromium; explicit paths, so nothing is downloaded."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    found = find_chromium()
    if isinstance(found, str):
        raise FileNotFoundError(found)
    browser, driver = found
    opts = webdriver.ChromeOptions()
    opts.binary_location = browser
    for flag in FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={profile_dir}")
    opts.add_argument(f"--window-size={size[0]},{size[1]}")
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    return webdriver.Chrome(service=Service(executable_path=driver), options=opts)


def requested_urls(driver) -> list[str]:
    """Every URL the page requested since the last call (from the DevTools performance log)."""
    urls = []
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg.get("method") == "Network.requestWillBeSent":
            urls.append(msg["params"]["request"]["url"])
    return urls


def console_entries(driver) -> list[dict]:
    """Browser console entries since the last call: dicts with ``level`` and ``message``."""
    return driver.get_log("browser")
