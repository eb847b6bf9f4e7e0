"""Downloader middlewares shared by every spider."""

from __future__ import annotations

import asyncio
from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.extensions.httpcache import DummyPolicy
from scrapy.http import Response


class RetryAfterMiddleware:
    """On 429, wait as long as the site's Retry-After says (capped), then retry the request.

    Scrapy's RetryMiddleware retries 429 at once; a registry that asked us to wait must be obeyed.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.cap = crawler.settings.getfloat("CREDITWATCH_RETRY_AFTER_CAP", 300)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryAfterMiddleware:
        return cls(crawler)

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        if response.status != 429:
            return response
        header = response.headers.get(b"Retry-After", b"").decode() or "0"
        try:
            wait = min(float(header), self.cap)
        except ValueError:  # an HTTP date: wait the cap rather than parse the site's clock
            wait = self.cap
        self.crawler.stats.inc_value("creditwatch/rate_limited")
        await asyncio.sleep(wait)
        retry = get_retry_request(request, spider=self.crawler.spider, reason="429 Retry-After")
        return retry if retry is not None else response


class DetailPageCachePolicy(DummyPolicy):
    """Cache detail pages only (a request with meta `detail_page`): a licence's annual report or a case's
    detail changes rarely, so a rerun within HTTPCACHE_EXPIRATION_SECS need not ask the site again.
    Listing and search pages are never cached: they are how new records and removals are seen."""

    def should_cache_request(self, request: Request) -> bool:
        return bool(request.meta.get("detail_page")) and super().should_cache_request(request)


class BrowserSessionMiddleware:
    """Send every request through a real browser page (scrapy-playwright, the optional `browser` extra), for
    sites that only answer a browser session. Enabled by spiders.settings.browser_settings(); it marks
    requests, the scrapy-playwright download handler does the rest. It solves nothing: a captcha or a
    challenge the browser cannot pass still ends the source incomplete."""

    def process_request(self, request: Request) -> None:
        request.meta.setdefault("playwright", True)
        # One browser context per cookie jar: a captcha is bound to the session that asked for it.
        if "cookiejar" in request.meta:
            request.meta.setdefault("playwright_context", f"jar-{request.meta['cookiejar']}")
        # Chromium drops a Referer set on an intercepted request; page.goto(referer=…) sends it as a browser does.
        referer = request.headers.get(b"Referer")
        if referer:
            goto = request.meta.setdefault("playwright_page_goto_kwargs", {})
            goto.setdefault("referer", referer.decode("latin-1"))


async def browser_user_agent(*, browser_type_name: str, playwright_request: Any,
                             scrapy_request_data: dict) -> dict[str, str]:
    """Request headers in a browser session (scrapy-playwright's PLAYWRIGHT_PROCESS_REQUEST_HEADERS), §7.7.

    The spider's headers still go with the page's own navigation (a Referer or X-Requested-With a site
    checks), but every request carries the browser's own User-Agent: with scrapy-playwright's default,
    Chromium would send ours on every request, the firewall's scripts included, while navigator.userAgent
    says Chrome, a fingerprint a firewall reads as a bot."""
    from scrapy_playwright.headers import use_scrapy_headers  # the optional `browser` extra

    headers = await use_scrapy_headers(browser_type_name=browser_type_name, playwright_request=playwright_request,
                                       scrapy_request_data=scrapy_request_data)
    own = (await playwright_request.all_headers()).get("user-agent")
    headers = {k: v for k, v in headers.items() if k.lower() != "user-agent"}
    if own:
        headers["user-agent"] = own
    return headers

