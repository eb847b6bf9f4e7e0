"""MIIT telecom operators' bad-conduct / dishonesty lists -- 电信业务经营不良名单 / 失信名单.

Contract: registries.md §3.2 (entries carry 经营者名称, 统一社会信用代码, 许可证编号, 处理日期, 列入事由,
列入单位; the notices' format is uncertain there). Section list pages, newest first, paged until every
row the pager announces was seen (pages overlap when a notice is published mid-crawl, so the last row
can sit past the last announced page) → each notice whose title says it lists operators → its entries
from an HTML table, or from an .xlsx attachment (read with openpyxl).

A notice that publishes its list only as an image cannot be read by machine. Decision: that is a
known, reported gap, not an unread page: the notice becomes a quarantine row (natural key = notice id,
field `notice`, its URL and why) and the source can still be complete. Downstream must not read
"complete" as "every entry of every notice": the quarantine says which notices need a person (or an
ingested transcription). A notice page without any table, attachment or image is layout drift and
makes the source incomplete.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from scrapy import Request
from scrapy.http import Response

from spiders.base import RegistrySpider, challenge_reason
from spiders.miit_telecom_lists.fields import FIELDS
from spiders.source import here

LIST_PATH = "/jgsj/xgj/gzdt/index.html"
LIST_KEY = "notice list"
MAX_EXTRA_PAGES = 2  # pages past the announced last one, where rows pushed down by new notices land
# A notice that lists operators: 关于…纳入电信业务经营不良名单企业的公告, …不良名单和失信名单的公告. The 2018
# policy notice (关于做好…不良名单和失信名单管理工作的通知) names both lists but lists nobody. A followed
# notice without a list is layout drift, so this errs on the side of following.
LIST_NOTICE = re.compile(r"(纳入|列入|公布).{0,30}(不良名单|失信名单)|(不良名单|失信名单)的?(公告|通告)")
# Header label → schema field (registries.md §3.2); 序号 is kept in raw only.
COLUMNS = {"经营者名称": "subject_name", "统一社会信用代码": "subject_uscc", "许可证编号": "licence_no",
           "处理日期": "decided_on", "列入事由": "reason", "列入单位": "unit"}
IMAGE_REASON = ("entries published only as an image, not machine-readable: transcribe the notice "
                "or feed this list from a file (creditwatch ingest)")


def list_kind(text: str) -> str | None:
    """bad (不良名单) or dishonest (失信名单) when `text` names exactly one of the two lists, else None."""
    bad, dishonest = "不良名单" in text, "失信名单" in text
    if bad == dishonest:
        return None
    return "bad" if bad else "dishonest"


def notice_id(url: str) -> str:
    """The CMS's id of a notice: `?id=<id>` (replica) or `art_<id>.html` (the live CMS's form)."""
    parts = urlsplit(url)
    found = parse_qs(parts.query).get("id") or re.findall(r"art_([0-9A-Za-z]+)\.html?$", parts.path)
    if not found:
        raise ValueError(f"notice URL {url!r} carries no notice id")
    return found[0]


def cell_text(value: object) -> str:
    return "" if value is None else re.sub(r"\s+", " ", str(value)).strip()


def table_rows(cells: Iterable[list[Any]]) -> tuple[list[str], list[list[Any]]] | None:
    """(header, data rows) of a list: the header is the first of the first 10 rows naming 经营者名称;
    blank rows are dropped. None when no such header."""
    rows = list(cells)
    for index, row in enumerate(rows[:10]):
        header = [cell_text(c) for c in row]
        if "经营者名称" in header:
            data = [r for r in rows[index + 1 :] if any(cell_text(c) for c in r)]
            return header, data
    return None


def notice_fields(notice: dict[str, Any]) -> dict[str, Any]:
    """The notice's own fields of an entry (the schema's notice_* and list_kind)."""
    return {k: v for k, v in notice.items() if k != "notice_id"}


def missing_columns(header: list[str]) -> list[str]:
    return [label for label in COLUMNS if label not in header]


class MiitTelecomListsSpider(RegistrySpider):
    metadata = here(__file__)
    name = metadata.name
    fields = FIELDS

    def __init__(self, *args: Any, list_path: str = LIST_PATH, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.list_path = list_path
        self.notices_seen: set[str] = set()

    async def start(self) -> Any:
        yield self.list_request(1)

    def list_request(self, page: int) -> Request:
        return Request(self.url(f"{self.list_path}?page={page}"), callback=self.parse_list, errback=self.on_error,
                       meta={"page": page}, dont_filter=True)

    def html_ok(self, response: Response) -> bool:
        """A firewall page blocks the source; a page cut short (no </html>) is a fetch fault: retried."""
        challenge = challenge_reason(response)
        if challenge:
            self.blocked(response.url, challenge)
            return False
        if b"</html>" not in response.body[-256:].lower():
            self.retry_or_fail(response.request, f"truncated HTML page ({len(response.body)} bytes, no </html>)")
            return False
        return True

    def link(self, response: Response, href: str) -> str:
        """Where a link on the site points. Root-relative links are paths on the site's host, so they go
        through `self.url` (the replica serves the host under a path prefix); others join the page's URL."""
        live = self.metadata.live_base_url
        if href.startswith(live):
            href = href[len(live) :]
        if href.startswith("/") and not href.startswith("//"):
            return self.url(href)
        return response.urljoin(href)

    def layout_changed(self, url: str, *missing: str) -> None:
        self.require({}, missing, url)  # same stats and wording as a JSON source's drift

    # -- the section list --------------------------------------------------------------------------
    def parse_list(self, response: Response) -> Iterator[Any]:
        if not self.html_ok(response):
            return
        rows = response.css("ul#list > li")
        total = response.css("div.page::attr(data-total)").get()
        found = {"ul#list": response.css("ul#list").get(), "div.page[data-total]": total}
        if not self.require({k: v for k, v in found.items() if v is not None}, tuple(found), response.url):
            return
        page = response.meta["page"]
        if page == 1:
            self.expect(LIST_KEY, int(total))
        for row in rows:
            href, title = row.css("a::attr(href)").get(), cell_text(" ".join(row.css("a::text").getall()))
            if not href:
                continue
            url = self.link(response, href)
            key = notice_id(url)
            if key in self.notices_seen:  # repeated from the page before
                continue
            self.notices_seen.add(key)
            self.got(LIST_KEY, 1)
            if LIST_NOTICE.search(title):
                yield Request(url, callback=self.parse_notice, errback=self.on_error,
                              meta={"listed_title": title, "listed_on": row.css("span.date::text").get()})
        pages = int(response.css("div.page::attr(data-pages)").get() or page)
        if rows and len(self.notices_seen) < self.expected[LIST_KEY] and page < pages + MAX_EXTRA_PAGES:
            yield self.list_request(page + 1)

    # -- one notice ----------------------------------------------------------------------------------
    def parse_notice(self, response: Response) -> Iterator[Any]:
        if not self.html_ok(response):
            return
        body = response.css("div#con_con")
        if not body:
            self.layout_changed(response.url, "div#con_con")
            return
        title = cell_text(" ".join(response.css("h1#con_title ::text").getall())) or response.meta["listed_title"]
        published = cell_text(response.css("span#con_time::text").get()).removeprefix("发布时间：")
        notice = {"notice_id": notice_id(response.url), "notice_title": title, "notice_url": response.url,
                  "notice_published_on": published or response.meta.get("listed_on"),
                  "list_kind": list_kind(title)}
        tables = 0
        for table in body.css("table"):  # a notice naming both lists may carry one table per list
            parsed = table_rows([[" ".join(td.css("::text").getall()) for td in tr.css("td, th")]
                                 for tr in table.css("tr")])
            if parsed:
                tables += 1
                context = " ".join(table.xpath("preceding::p[1]//text()").getall())
                yield from self.entries(response, notice, parsed, context)
        if tables:
            return
        attachment = next((a for a in body.css("a") if ".xlsx" in (a.attrib.get("href", "") + a.css("::text").get(""))
                           or "ext=xlsx" in a.attrib.get("href", "")), None)
        if attachment is not None:
            yield Request(self.link(response, attachment.attrib["href"]), callback=self.parse_attachment,
                          errback=self.on_error, meta={"notice": notice})
            return
        images = body.css("img::attr(src)").getall()
        if images:
            yield self.unreadable(response, notice, images)
            return
        self.layout_changed(response.url, "an entries table, an .xlsx attachment or an image in div#con_con")

    def parse_attachment(self, response: Response) -> Iterator[Any]:
        challenge = challenge_reason(response)
        if challenge:
            self.blocked(response.url, challenge)
            return
        try:
            book = load_workbook(io.BytesIO(response.body), read_only=True, data_only=True)
        except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError, EOFError) as error:
            self.retry_or_fail(response.request, f"unreadable .xlsx attachment ({type(error).__name__}: {error})")
            return
        sheet = book.worksheets[0]
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
        parsed = table_rows(rows)
        if parsed is None:
            self.layout_changed(response.url, "a header row naming 经营者名称 in the attachment's first sheet")
            return
        context = " ".join(cell_text(c) for r in rows[:2] for c in r)
        yield from self.entries(response, response.meta["notice"], parsed, context)

    # -- records ----------------------------------------------------------------------------------------
    def entries(self, response: Response, notice: dict[str, Any], parsed: tuple[list[str], list[list[Any]]],
                context: str) -> Iterator[Any]:
        header, rows = parsed
        missing = missing_columns(header)
        if missing:
            self.layout_changed(response.url, *(f"column {label}" for label in missing))
            return
        kind = notice["list_kind"] or list_kind(context)  # a notice naming both lists: the table's lead line
        for row in rows:
            cells = dict(zip(header, (c if not isinstance(c, str) else cell_text(c) for c in row), strict=False))
            licence, name = cell_text(cells.get("许可证编号")), cell_text(cells.get("经营者名称"))
            fields = {field: cells.get(label) for label, field in COLUMNS.items()}
            yield self.record("telecom_list_entry", f"{notice['notice_id']}-{licence or name}", response,
                              raw={"notice_id": notice["notice_id"], "notice_title": notice["notice_title"],
                                   "row": cells},
                              fields={**fields, **notice_fields(notice), "list_kind": kind})

    def unreadable(self, response: Response, notice: dict[str, Any], images: list[str]) -> Any:
        self.logger.warning("%s: notice %s lists its entries only as an image; quarantined for a person",
                            self.name, response.url)
        self.crawler.stats.inc_value("creditwatch/unreadable_notices")
        item = self.record("telecom_list_entry", notice["notice_id"], response,
                           raw={**notice, "images": [self.link(response, src) for src in images]},
                           fields=notice_fields(notice))
        item.quarantine(IMAGE_REASON, "notice", response.url)
        return item

