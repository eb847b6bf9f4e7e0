"""Mechanics every spider shares: which pages are cached, how firewall answers are recognised."""

from __future__ import annotations

import asyncio

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.http.headers import Headers
from scrapy.settings import Settings
from scrapy.utils.misc import load_object

from spiders.base import challenge_reason
from spiders.middlewares import DetailPageCachePolicy
from spiders.settings import build


def test_only_detail_pages_are_cached() -> None:
    policy = DetailPageCachePolicy(Settings(build("live")))
    assert policy.should_cache_request(Request("https://x/detail", meta={"detail_page": True}))
    assert not policy.should_cache_request(Request("https://x/list?page=2"))
    assert build("live")["HTTPCACHE_ENABLED"] and not build("replica")["HTTPCACHE_ENABLED"]


def test_firewall_answers_are_recognised_and_data_is_not() -> None:
    def page(status: int, body: str) -> HtmlResponse:
        return HtmlResponse("https://x", status=status, body=body.encode(), encoding="utf-8")

    assert "412" in challenge_reason(page(412, "<html></html>"))
    assert "521" in challenge_reason(page(521, "<script>document.cookie='__jsl_clearance=1'</script>"))
    assert "瑞数" in challenge_reason(page(200, "<script>$_ts=window['$_ts']</script>"))
    assert challenge_reason(page(200, '{"status":1,"data":{"list":[]}}')) is None


class _PageRequest:
    """What scrapy-playwright hands the header hook: a Chromium request."""

    def __init__(self, navigation: bool) -> None:
        self.navigation = navigation

    async def all_headers(self) -> dict[str, str]:
        return {"user-agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0", "accept": "*/*"}

    def is_navigation_request(self) -> bool:
        return self.navigation


@pytest.mark.parametrize("navigation", [True, False])
def test_a_browser_session_sends_the_browsers_own_user_agent(navigation: bool) -> None:
    """§7.7: in a browser session every request carries Chromium's User-Agent (not ours beside a Chrome
    navigator.userAgent); the spider's other headers still go with the navigation; plain HTTP keeps ours."""
    settings = build("live", browser=True)
    hook = load_object(settings["PLAYWRIGHT_PROCESS_REQUEST_HEADERS"])
    scrapy_headers = Headers({"User-Agent": build("live")["USER_AGENT"], "Referer": "https://example.invalid/"})
    headers = asyncio.run(hook(browser_type_name="chromium", playwright_request=_PageRequest(navigation),
                               scrapy_request_data={"headers": scrapy_headers}))
    assert headers["user-agent"].startswith("Mozilla/5.0") and "creditwatch" not in str(headers)
    assert ("referer" in {k.lower() for k in headers}) is navigation
    assert "PLAYWRIGHT_PROCESS_REQUEST_HEADERS" not in build("live")
