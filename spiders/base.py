"""What every registry spider shares: its source's declaration, base URLs, search terms, captcha hand-off,
bad-body retries, failure accounting and the completeness verdict the manifest reports.

A source's spider.py only says where to go, how to page and how to read one record.
"""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.http import Request, Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from pipelines.items import RecordItem
from pipelines.schemas import Field
from spiders.captcha import CaptchaChallenge, CaptchaRefused, CaptchaSolver, SliderPass, make_solver
from spiders.source import Source


def search_terms(terms: str | None, defaults: tuple[str, ...]) -> list[str]:
    """The `terms` spider argument (comma-separated names, USCCs or numbers: a team's watchlist), or the
    source's defaults; blanks dropped."""
    return [t.strip() for t in (terms.split(",") if terms else defaults) if t.strip()]


class RegistrySpider(scrapy.Spider):
    """A source's spider: `metadata` is its source.yml (spiders.source.here(__file__)), `fields` its fields.py
    FIELDS, `default_terms` the search terms used when the `terms` argument is not given."""

    metadata: Source
    fields: dict[str, dict[str, Field]]
    default_terms: tuple[str, ...] = ()

    def __init__(self, *args: Any, base_url: str | None = None, terms: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._base_url_arg = base_url
        self.terms = search_terms(terms, self.default_terms)
        self.incomplete_reasons: list[str] = []
        self.expected: Counter[str] = Counter()
        self.received: Counter[str] = Counter()
        self.solver: CaptchaSolver

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> RegistrySpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.solver = make_solver(
            settings.get("CREDITWATCH_CAPTCHA_SOLVER", "none"), settings.get("CREDITWATCH_REPLICA_URL"),
            browser=settings.getbool("CREDITWATCH_BROWSER"),
        )
        return spider

    # -- where to go -------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """The live host, or its stand-in (`CREDITWATCH_REPLICA_URL/<host>` when crawling the replica)."""
        if self._base_url_arg:
            return self._base_url_arg.rstrip("/")
        replica = self.settings.get("CREDITWATCH_REPLICA_URL") if hasattr(self, "crawler") else None
        if replica:
            return f"{replica.rstrip('/')}/{self.metadata.host}"
        return self.metadata.live_base_url

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def site_url(self, url: str) -> str:
        """An absolute URL on any registry host (a page linking to another host), or its stand-in under the
        replica (`CREDITWATCH_REPLICA_URL/<host><path>`) when crawling the replica."""
        replica = self.settings.get("CREDITWATCH_REPLICA_URL") if hasattr(self, "crawler") else None
        parts = urlsplit(url)
        if not replica or not parts.netloc:
            return url
        return f"{replica.rstrip('/')}/{parts.netloc}{parts.path}" + (f"?{parts.query}" if parts.query else "")

    # -- reading ------------------------------------------------------------------------------
    def record(
        self, record_type: str, natural_key: Any, response: Response, raw: dict[str, Any], fields: dict[str, Any],
        url: str | None = None,
    ) -> RecordItem:
        """`url`: where a person finds the record, when the response's URL does not say (a POSTed detail)."""
        return RecordItem(
            source=self.name,
            record_type=record_type,
            natural_key=str(natural_key),
            url=url or response.url,
            raw=raw,
            fields=fields,
        )

    def load_json(self, response: Response) -> Any | None:
        """The body as JSON, or None. A firewall or challenge page makes the source incomplete (we never
        bypass one); a truncated or garbled body is retried (a fault of the fetch, never "no records")."""
        challenge = challenge_reason(response)
        if challenge:
            self.blocked(response.url, challenge)
            return None
        try:
            return json.loads(browser_json_text(response))
        except (ValueError, AttributeError):
            self.retry_or_fail(response.request, f"malformed JSON body ({len(response.body)} bytes)")
            return None

    def load_html(self, response: Response) -> bool:
        """Whether an HTML page can be read: a firewall or challenge page makes the source incomplete; a page
        cut short (no </html>) is a fault of the fetch and is fetched again, never read as a short page."""
        challenge = challenge_reason(response)
        if challenge:
            self.blocked(response.url, challenge)
            return False
        if b"</html>" not in response.body[-256:].lower():
            self.retry_or_fail(response.request, f"truncated HTML page ({len(response.body)} bytes, no </html>)")
            return False
        return True

    def require(self, payload: Any, keys: tuple[str, ...], url: str) -> bool:
        """Layout check: a page without the keys the spider reads has drifted; the source is incomplete."""
        missing = [k for k in keys if not isinstance(payload, dict) or k not in payload]
        if missing:
            self.crawler.stats.inc_value("creditwatch/layout_drift")
            self.mark_incomplete(f"layout changed at {url}: missing {', '.join(missing)}")
            return False
        return True

    def blocked(self, url: str, why: str) -> None:
        self.crawler.stats.inc_value("creditwatch/blocked")
        self.mark_incomplete(f"blocked at {url}: {why}. creditwatch does not bypass challenges: run the source "
                             "in a browser session, lower the rate, or feed it from a file (creditwatch ingest)")

    def retry_or_fail(self, request: Request, reason: str) -> None:
        retry = get_retry_request(request, spider=self, reason=reason)
        if retry is not None:
            self.crawler.engine.crawl(retry)
        else:
            self.page_failed(request.url, reason)

    # -- faults and completeness ----------------------------------------------------------------
    def on_error(self, failure: Failure) -> None:
        """Errback for every request: a page that failed after its retries makes the source incomplete."""
        request = getattr(failure, "request", None)
        url = request.url if request is not None else "?"
        if failure.check(HttpError):
            response = failure.value.response
            challenge = challenge_reason(response)
            if challenge:
                self.crawler.stats.inc_value("creditwatch/pages_failed")
                self.blocked(url, challenge)
                return
            self.page_failed(url, f"HTTP {response.status}")
            return
        self.page_failed(url, failure.getErrorMessage() or failure.type.__name__)

    def page_failed(self, url: str, reason: str) -> None:
        self.crawler.stats.inc_value("creditwatch/pages_failed")
        self.mark_incomplete(f"page failed after retries: {url}: {reason}")

    def mark_incomplete(self, reason: str) -> None:
        self.logger.warning("%s incomplete: %s", self.name, reason)
        if len(self.incomplete_reasons) < 50:
            self.incomplete_reasons.append(reason)

    def expect(self, key: str, rows: int) -> None:
        """The site says `key` (a search, a list) has `rows` rows: the crawl must receive them all."""
        self.expected[key] = rows

    def got(self, key: str, rows: int) -> None:
        self.received[key] += rows

    def expected_rows(self) -> int:
        return sum(self.expected.values())

    def completeness(self, finish_reason: str) -> tuple[bool, list[str]]:
        reasons = list(self.incomplete_reasons)
        errors = {k.split("/", 1)[1]: v for k, v in self.crawler.stats.get_stats().items()
                  if k.startswith("spider_exceptions/")}
        if errors:
            listed = ", ".join(f"{name} ×{count}" for name, count in sorted(errors.items()))
            reasons.append(f"pages the spider could not read ({listed}): has the site's layout changed?")
        if finish_reason != "finished":
            reasons.append(f"crawl ended early: {finish_reason}")
        short = {k: (self.received[k], n) for k, n in self.expected.items() if self.received[k] < n}
        if short:
            sample = ", ".join(f"{k!r}: {got}/{n}" for k, (got, n) in list(short.items())[:5])
            reasons.append(f"{len(short)} listings returned fewer rows than the site reported ({sample})")
        items = self.crawler.stats.get_value("creditwatch/items", 0)
        if not reasons and items < self.metadata.min_items:
            reasons.append(f"{items} clean records, under the expected minimum of {self.metadata.min_items}")
        return (not reasons, reasons)

    # -- captchas -----------------------------------------------------------------------------
    def solve_captcha(self, response: Response, image: bytes, length: int) -> str | None:
        """Ask the configured solver; None means the source cannot go on (it is marked incomplete)."""
        challenge = CaptchaChallenge(self.name, image, length, session_id(response), response.url)
        answer = self.solver.solve(challenge)
        if not answer:
            self.mark_incomplete(
                f"captcha at {response.url} and no solver could answer it "
                "(set CREDITWATCH_CAPTCHA_SOLVER=prompt and run interactively, or feed the source from a file)"
            )
        return answer

    async def pass_slider(self, challenge: CaptchaChallenge) -> SliderPass | None:
        """Have a slider captcha passed (spiders/captcha.py); None, with the solver's reason on the manifest, when
        it cannot be (a slider needs a person in a browser session)."""
        try:
            return await self.solver.pass_slider(challenge)
        except CaptchaRefused as refused:
            self.mark_incomplete(str(refused))
            return None


# What the registries' firewalls answer instead of data (registries.md §1.5, §2.1, §4.2): 瑞数 ($_ts,
# HTTP 412), 加速乐/创宇盾 (__jsl_clearance, HTTP 521), and creditchina's 40001 "请刷新后重试" envelope.
CHALLENGE_STATUSES = {403: "HTTP 403 (access denied)", 412: "HTTP 412 firewall challenge (瑞数)",
                      521: "HTTP 521 firewall challenge (加速乐 __jsl_clearance)"}
CHALLENGE_MARKERS = (("$_ts", "瑞数 JS challenge page"), ("__jsl_clearance", "加速乐 JS challenge page"),
                     ("请刷新后重试", "session refused (请刷新后重试)"), ("geetest", "slide captcha (geetest)"))


def browser_json_text(response: Response) -> str:
    """The JSON text of a response. Fetched through a browser page (scrapy-playwright), a JSON answer arrives
    as the page Chromium renders around it, <html>…<pre>{json}</pre>…; take the JSON back out of it."""
    text = response.text
    if response.meta.get("playwright") and text.lstrip().startswith("<"):
        pre = re.search(r"<pre[^>]*>(.*?)</pre>", text, re.S)
        if pre is not None:
            return html.unescape(pre.group(1))
    return text


def challenge_reason(response: Response) -> str | None:
    """Why this response is a firewall/challenge page rather than data, or None."""
    if response.status in CHALLENGE_STATUSES:
        return CHALLENGE_STATUSES[response.status]
    head = response.body[:4096].decode("utf-8", "replace")
    for marker, why in CHALLENGE_MARKERS:
        if marker in head:
            return f"{why}, served with status {response.status}"
    return None


def session_id(response: Response) -> str | None:
    """The site's session cookie, from the response (new session) or the request (existing one)."""
    for header in response.headers.getlist(b"Set-Cookie"):
        name, _, rest = header.decode("latin-1").partition("=")
        if name.strip().upper() == "JSESSIONID":
            return rest.split(";", 1)[0]
    cookie = response.request.headers.get(b"Cookie", b"").decode("latin-1") if response.request else ""
    for part in cookie.split(";"):
        name, _, value = part.strip().partition("=")
        if name.upper() == "JSESSIONID":
            return value
    return None
