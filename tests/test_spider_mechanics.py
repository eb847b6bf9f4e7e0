"""Mechanics every spider shares: which pages are cached, how firewall answers are recognised."""

from __future__ import annotations

from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.settings import Settings

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
