"""Scrapy settings for every creditwatch spider.

Live defaults are polite (AutoThrottle on, one request at a time per host, an identified user
agent, robots.txt obeyed); the replica profile switches politeness off so tests and benchmarks run
at loopback speed. Either profile is the same code path.
"""

from __future__ import annotations

import os
from typing import Any

from spiders.captcha import has_display

USER_AGENT = "creditwatch/0.1 (public credit monitoring for licensed operators; +https://example.invalid/creditwatch)"

LIVE: dict[str, Any] = {
    "BOT_NAME": "creditwatch",
    "USER_AGENT": USER_AGENT,
    "ROBOTSTXT_OBEY": True,
    "CONCURRENT_REQUESTS": 4,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
    "DOWNLOAD_DELAY": 5.0,
    "AUTOTHROTTLE_ENABLED": True,
    "AUTOTHROTTLE_START_DELAY": 5.0,
    "AUTOTHROTTLE_MAX_DELAY": 120.0,
    "AUTOTHROTTLE_TARGET_CONCURRENCY": 0.5,
    "DOWNLOAD_TIMEOUT": 60,
    "RETRY_ENABLED": True,
    "RETRY_TIMES": 5,
    "RETRY_HTTP_CODES": [500, 502, 503, 504, 522, 524, 408, 429],
    # Retry-After is honoured by our middleware; it runs before Scrapy's RetryMiddleware (550).
    "DOWNLOADER_MIDDLEWARES": {"spiders.middlewares.RetryAfterMiddleware": 560},
    "ITEM_PIPELINES": {
        "pipelines.item_pipelines.NormalisePipeline": 100,
        "pipelines.item_pipelines.DedupePipeline": 200,
        "pipelines.run_folder.RunWriterPipeline": 900,
    },
    "EXTENSIONS": {
        "pipelines.evidence.EvidenceArchive": 100,
        "pipelines.run_folder.ManifestExtension": 900,
    },
    "COOKIES_ENABLED": True,
    # Detail pages only (spiders/middlewares.DetailPageCachePolicy), for a day, in data/httpcache (spiders/run.py).
    "HTTPCACHE_ENABLED": True,
    "HTTPCACHE_POLICY": "spiders.middlewares.DetailPageCachePolicy",
    "HTTPCACHE_EXPIRATION_SECS": 86400,
    "TELNETCONSOLE_ENABLED": False,
    "REMOTE_CONTROL_ENABLED": False,
    "LOG_LEVEL": "WARNING",
    "REQUEST_FINGERPRINTER_IMPLEMENTATION": "2.7",
    "CREDITWATCH_CAPTCHA_SOLVER": "prompt",
    "CREDITWATCH_EVIDENCE": True,
    "CREDITWATCH_RETRY_AFTER_CAP": 300,
}

# Politeness off: the replica is on loopback and is ours.
REPLICA: dict[str, Any] = {
    "AUTOTHROTTLE_ENABLED": False,
    "DOWNLOAD_DELAY": 0,
    "CONCURRENT_REQUESTS": 16,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
    "DOWNLOAD_TIMEOUT": 2,
    "CREDITWATCH_CAPTCHA_SOLVER": "replica",
    "CREDITWATCH_RETRY_AFTER_CAP": 2,
    "HTTPCACHE_ENABLED": False,  # the replica's answers are the test: never replay old ones
}


def browser_settings() -> dict[str, Any]:
    """Every request through a real Chromium page (scrapy-playwright, the optional `browser` extra), with the
    system browser (CREDITWATCH_CHROMIUM, default /usr/bin/chromium): for sites that answer only a browser
    session. It bypasses nothing by itself: a captcha still goes to the solver, an unpassed challenge still
    ends the source incomplete."""
    handler = "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler"
    return {
        "DOWNLOAD_HANDLERS": {"http": handler, "https": handler},
        "PLAYWRIGHT_LAUNCH_OPTIONS": {
            "executable_path": os.environ.get("CREDITWATCH_CHROMIUM", "/usr/bin/chromium"),
            "headless": True,
            # Without the background-networking flags Chromium phones home at every start.
            "args": [
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        },
        "DOWNLOADER_MIDDLEWARES": {
            **LIVE["DOWNLOADER_MIDDLEWARES"],
            "spiders.middlewares.BrowserSessionMiddleware": 540,
        },
        # §7.7: the browser's own User-Agent on every request (spiders.middlewares.browser_user_agent)
        "PLAYWRIGHT_PROCESS_REQUEST_HEADERS": "spiders.middlewares.browser_user_agent",
        "HTTPCACHE_ENABLED": False,
        "CREDITWATCH_BROWSER": True,  # the captcha solver may hand a slider to a person at this browser
    }


def build(profile: str, overrides: dict[str, Any] | None = None, browser: bool = False) -> dict[str, Any]:
    """Settings for `profile` ("live" or "replica"), through a browser session if asked, `overrides` on top."""
    if profile not in ("live", "replica"):
        raise ValueError(f"unknown settings profile {profile!r}: use live or replica")
    settings = dict(LIVE)
    if profile == "replica":
        settings.update(REPLICA)
    if browser:
        settings.update(browser_settings())
    settings.update(overrides or {})
    if browser and settings.get("CREDITWATCH_CAPTCHA_SOLVER") == "prompt" and has_display():
        # A person may have to pass a slider captcha in the page (spiders/captcha.py): show them the window.
        settings["PLAYWRIGHT_LAUNCH_OPTIONS"] = {**settings["PLAYWRIGHT_LAUNCH_OPTIONS"], "headless": False}
    return settings
