"""MIIT telecom operators' bad-conduct / dishonesty lists -- 电信业务经营不良名单 / 失信名单.

Contract: registries.md §3.2 (entries carry 经营者名称, 统一社会信用代码, 许可证编号, 处理日期, 列入事由, 列入单位; the
notices' format is not established) and §7.4 (the www.miit.gov.cn column pages are empty shells filled by the
jpaas unit API; a notice's body is `#con_con`). The column (工作动态, `/jgsj/xgj/gzdt/`) is read through the
unit API, 15 a page, newest first, until every row its pager announces was seen (pages overlap when a notice is
published mid-crawl, so the last row can sit past the last announced page; without a pager, until a short
page) → each notice whose title says it lists operators → its entries from an HTML table, or from an .xlsx
attachment (read with openpyxl), or, when the notice only points readers to tsm.miit.gov.cn (as the 2020
notices did), from tsm's notice system: its notice list is paged, newest first, until the notice of the same
quarter and list is found, and that notice's table is read. Whether the lists are published in the column or
only on tsm is unverified (§7.4): the spider follows whichever the notice gives.

A notice that publishes its list only as an image cannot be read by machine. Decision: that is a known,
reported gap, not an unread page: the notice becomes a quarantine row (natural key = notice id, field
`notice`, its URL and why) and the source can still be complete. Downstream must not read "complete" as "every
entry of every notice": the quarantine says which notices need a person (or an ingested transcription). A
notice page without any table, attachment, tsm pointer or image is layout drift and makes the source
incomplete; so does a tsm pointer whose notice cannot be found there.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from parsel import Selector
from scrapy import Request
from scrapy.http import Response

from pipelines.normalise import parse_date
from spiders.base import RegistrySpider, challenge_reason
from spiders.miit_telecom_lists.fields import FIELDS
from spiders.source import here

COLUMN = "/jgsj/xgj/gzdt/"  # 信息通信管理局 › 工作动态
COLUMN_PAGE_ID = "85674bba20f34e4e8db4559b89d0cf75"  # its jpaas page id (§7.4)
UNIT_PATH = "/api-gateway/jpaas-publish-server/front/page/build/unit"
# §7.4: the unit API's fixed parameters for www.miit.gov.cn, in the order the reference gives them.
UNIT_QUERY = {"webId": "8d828e408d90447786ddbe128d495e9e", "tplSetId": "209741b2109044b5b7695700b2bec37e",
              "pageType": "column", "tagId": "当前栏目_list", "editType": "null"}
PAGE_SIZE = 15
LIST_KEY = "notice list"
MAX_EXTRA_PAGES = 2  # pages past the announced last one, where rows pushed down by new notices land
TSM = "https://tsm.miit.gov.cn"
TSM_LIST = "/telecom-manage/web/notice/list/1/{page}"  # [idx 44378770038]: the notice list, category 1
TSM_NOTICE = "/telecom-manage/web/notice/{category}/{number}.html"
TSM_MAX_PAGES = 30
TSM_WINDOW = timedelta(days=120)  # how far past a pointing notice's date tsm's list is searched for it
# A notice that lists operators: 关于…纳入电信业务经营不良名单企业的公告, …不良名单和失信名单的公告. The 2018
# policy notice (关于做好…不良名单和失信名单管理工作的通知) names both lists but lists nobody. A followed
# notice without a list is layout drift, so this errs on the side of following.
LIST_NOTICE = re.compile(r"(纳入|列入|公布).{0,30}(不良名单|失信名单)|(不良名单|失信名单)的?(公告|通告)")
PERIOD = re.compile(r"(\d{4})年(?:第)?([一二三四1-4])季度")
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


def list_kinds(text: str) -> set[str]:
    """Every list `text` names."""
    return {kind for kind, name in (("bad", "不良名单"), ("dishonest", "失信名单")) if name in text}


def period(text: str) -> tuple[str, str] | None:
    """The quarter a title is about ("2025年第四季度" → ("2025", "四")), or None."""
    found = PERIOD.search(text)
    if not found:
        return None
    return found.group(1), "一二三四"["1234".index(q)] if (q := found.group(2)).isdigit() else q


def day_of(text: object) -> date | None:
    """A listed date, or None when there is none or it cannot be read (it only guides the tsm search)."""
    try:
        return parse_date(cell_text(text) or None)
    except ValueError:
        return None


def notice_id(url: str) -> str:
    """The CMS's id of a notice: `art_<id>.html`."""
    found = re.findall(r"art_([0-9A-Za-z]+)\.html?$", urlsplit(url).path)
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


def html_tables(scope: Selector) -> Iterator[tuple[Selector, tuple[list[str], list[list[Any]]]]]:
    """Every table under `scope` that is a list (a header row naming 经营者名称), with its rows."""
    for table in scope.css("table"):
        parsed = table_rows([[" ".join(td.css("::text").getall()) for td in tr.css("td, th")]
                             for tr in table.css("tr")])
        if parsed:
            yield table, parsed


def unit_items(html: str) -> tuple[list[dict[str, str]], int | None]:
    """The unit API's `data.html`: its rows (href, title — the `title` attribute, the link text being cut —,
    date) and the pager's announced count (None when the fragment has no pager)."""
    fragment = Selector(text=html)
    rows = []
    for li in fragment.css("li"):
        href = li.css("a::attr(href)").get()
        if not href:
            continue
        title = li.css("a::attr(title)").get() or " ".join(li.css("a ::text").getall())
        rows.append({"href": href.replace('"', "").strip(), "title": cell_text(title),
                     "date": cell_text(li.css("span::text").get())})
    count = fragment.css("[count]::attr(count)").get()
    return rows, int(count) if count and count.strip().isdigit() else None


def notice_fields(notice: dict[str, Any]) -> dict[str, Any]:
    """The notice's own fields of an entry (the schema's notice_* and list_kind)."""
    return {k: v for k, v in notice.items() if k in ("notice_title", "notice_url", "notice_published_on", "list_kind")}


def missing_columns(header: list[str]) -> list[str]:
    return [label for label in COLUMNS if label not in header]


class MiitTelecomListsSpider(RegistrySpider):
    metadata = here(__file__)
    name = metadata.name
    fields = FIELDS

    def __init__(self, *args: Any, column: str = COLUMN, page_id: str = COLUMN_PAGE_ID, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.column = column
        self.page_id = page_id
        self.notices_seen: set[str] = set()

    async def start(self) -> Any:
        yield self.unit_request(1)

    def unit_request(self, page: int) -> Request:
        # §7.4: GET the jpaas unit API for the column, paramJson {"pageNo":N,"pageSize":"15"}; with the column
        # page as Referer (a bare request is refused with 403, [idx 71595435488])
        query = {**UNIT_QUERY, "pageId": self.page_id, "parseType": "buildstatic",
                 "paramJson": json.dumps({"pageNo": page, "pageSize": str(PAGE_SIZE)}, separators=(",", ":"))}
        return Request(self.url(f"{UNIT_PATH}?{urlencode(query)}"), callback=self.parse_unit, errback=self.on_error,
                       headers={"Referer": self.url(f"{self.column}index.html")}, meta={"page": page},
                       dont_filter=True)

    def link(self, response: Response, href: str) -> str:
        """Where a link on the site points: a root-relative link is a path on the site's host (through
        `self.url`, as the replica serves the host under a path prefix); an absolute one may be another
        registry host (`site_url`); others join the page's URL."""
        live = self.metadata.live_base_url
        if href.startswith(live):
            href = href[len(live) :]
        if href.startswith("/") and not href.startswith("//"):
            return self.url(href)
        if href.startswith(("http://", "https://")):
            return self.site_url(href)
        return response.urljoin(href)

    def layout_changed(self, url: str, *missing: str) -> None:
        self.require({}, missing, url)  # same stats and wording as a JSON source's drift

    # -- the column, through the unit API ------------------------------------------------------------
    def parse_unit(self, response: Response) -> Iterator[Any]:
        payload = self.load_json(response)
        if payload is None or not self.require(payload, ("success", "data"), response.url):
            return
        if payload.get("success") is not True:
            self.mark_incomplete(f"the unit API refused {response.url}: {payload.get('message')!r}")
            return
        if not self.require(payload["data"], ("html",), response.url):
            return
        rows, count = unit_items(str(payload["data"]["html"] or ""))
        page = response.meta["page"]
        if page == 1:
            if not rows and count is None:
                self.layout_changed(response.url, "data.html li > a rows or a pager")
                return
            if count is not None:
                self.expect(LIST_KEY, count)
        for row in rows:
            url = self.link(response, row["href"])
            try:
                key = notice_id(url)
            except ValueError:
                self.layout_changed(response.url, f"a notice link art_<id>.html (got {row['href']!r})")
                continue
            if key in self.notices_seen:  # repeated from the page before
                continue
            self.notices_seen.add(key)
            self.got(LIST_KEY, 1)
            if LIST_NOTICE.search(row["title"]):
                # §7.4: the notice page, art/<year>/art_<id>.html; its body in #con_con
                yield Request(url, callback=self.parse_notice, errback=self.on_error,
                              meta={"listed_title": row["title"], "listed_on": row["date"]})
        if not rows:
            return
        if count is None:  # no pager: a full page may have a page after it
            if len(rows) >= PAGE_SIZE:
                yield self.unit_request(page + 1)
            return
        pages = -(-count // PAGE_SIZE)
        if len(self.notices_seen) < count and page < pages + MAX_EXTRA_PAGES:
            yield self.unit_request(page + 1)

    # -- one notice ----------------------------------------------------------------------------------
    def parse_notice(self, response: Response) -> Iterator[Any]:
        if not self.load_html(response):
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
        for table, parsed in html_tables(body[0]):  # a notice naming both lists may carry one table per list
            tables += 1
            context = " ".join(table.xpath("preceding::p[1]//text()").getall())
            yield from self.entries(response, notice, parsed, context)
        if tables:
            return
        attachment = next((a for a in body.css("a") if ".xlsx" in (a.attrib.get("href", "") + a.css("::text").get(""))),
                          None)
        if attachment is not None:
            # §3.2 (format uncertain): the list as an .xlsx attachment linked from the notice
            yield Request(self.link(response, attachment.attrib["href"]), callback=self.parse_attachment,
                          errback=self.on_error, meta={"notice": notice})
            return
        if "tsm.miit.gov.cn" in " ".join(body.css("::text").getall() + body.css("a::attr(href)").getall()):
            yield self.tsm_list_request(notice, list_kinds(title) or {"bad", "dishonest"}, page=1)
            return
        images = body.css("img::attr(src)").getall()
        if images:
            yield self.unreadable(response, notice, images)
            return
        self.layout_changed(response.url, "an entries table, an .xlsx attachment, a tsm pointer or an image in "
                                          "div#con_con")

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

    # -- the second route: tsm.miit.gov.cn's notice system --------------------------------------------
    def tsm_list_request(self, notice: dict[str, Any], wanted: set[str], page: int) -> Request:
        # §3.2 ("详细信息可登陆 https://tsm.miit.gov.cn 查询"), paths from [idx 44378770038]: the notice list,
        # newest first (that the lists are notices there is the replica's guess)
        return Request(self.site_url(TSM + TSM_LIST.format(page=page)), callback=self.parse_tsm_list,
                       errback=self.on_error, dont_filter=True,
                       meta={"notice": notice, "wanted": sorted(wanted), "found": [], "page": page})

    def parse_tsm_list(self, response: Response) -> Iterator[Any]:
        if not self.load_html(response):
            return
        notice, page = response.meta["notice"], response.meta["page"]
        wanted, found = set(response.meta["wanted"]), set(response.meta["found"])
        listing = response.css("ul#noticelist1")
        if not listing:
            self.layout_changed(response.url, "ul#noticelist1")
            return
        published = day_of(notice["notice_published_on"])
        oldest: date | None = None
        for li in listing.css("li"):
            title = cell_text(" ".join(li.css("a span::text").getall()))
            args = re.findall(r"\d+", li.css("a span::attr(onclick)").get(""))
            day = day_of(li.xpath("./span/text()").get())
            oldest = day if day and (oldest is None or day < oldest) else oldest
            kind = list_kind(title)
            if kind not in wanted - found or not LIST_NOTICE.search(title) or len(args) < 2:
                continue
            if not self.same_period(notice, published, title, day):
                continue
            found.add(kind)
            # [idx 44378770038]: the tsm notice /telecom-manage/web/notice/<0>/<number>.html, its list a table
            yield Request(self.site_url(TSM + TSM_NOTICE.format(category=args[0], number=args[1])),
                          callback=self.parse_tsm_notice, errback=self.on_error,
                          meta={"notice": notice, "tsm_title": title, "tsm_number": args[1], "list_kind": kind})
        if wanted <= found:
            return
        exhausted = oldest is None or (published is not None and oldest < published - TSM_WINDOW)
        if exhausted or page >= TSM_MAX_PAGES:
            lists = "、".join(sorted(wanted - found))
            self.mark_incomplete(f"notice {notice['notice_url']} points to tsm.miit.gov.cn, but tsm's notice list "
                                 f"(read to page {page}) has no {lists} list for it")
            return
        request = self.tsm_list_request(notice, wanted, page + 1)
        request.meta["found"] = sorted(found)
        yield request

    @staticmethod
    def same_period(notice: dict[str, Any], published: date | None, title: str, day: date | None) -> bool:
        """Whether a tsm notice is the pointing notice's list: the same quarter when both titles name one,
        else published within a fortnight of it."""
        mine, theirs = period(notice["notice_title"]), period(title)
        if mine and theirs:
            return mine == theirs
        return bool(published and day and abs((day - published).days) <= 14)

    def parse_tsm_notice(self, response: Response) -> Iterator[Any]:
        if not self.load_html(response):
            return
        tables = list(html_tables(response.selector))
        if not tables:
            self.layout_changed(response.url, "a table with a header naming 经营者名称")
            return
        notice = {**response.meta["notice"], "list_kind": response.meta["list_kind"]}
        for _, parsed in tables:
            # Raw keeps what the site published (title, number), never the URL fetched (a replica's port).
            yield from self.entries(response, notice, parsed, response.meta["tsm_title"],
                                    raw={"tsm_notice": {"title": response.meta["tsm_title"],
                                                        "number": response.meta["tsm_number"]}})

    # -- records ----------------------------------------------------------------------------------------
    def entries(self, response: Response, notice: dict[str, Any], parsed: tuple[list[str], list[list[Any]]],
                context: str, raw: dict[str, Any] | None = None) -> Iterator[Any]:
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
                                   "row": cells, **(raw or {})},
                              fields={**fields, **notice_fields(notice), "list_kind": kind})

    def unreadable(self, response: Response, notice: dict[str, Any], images: list[str]) -> Any:
        self.logger.warning("%s: notice %s lists its entries only as an image; quarantined for a person",
                            self.name, response.url)
        self.crawler.stats.inc_value("creditwatch/unreadable_notices")
        item = self.record("telecom_list_entry", notice["notice_id"], response,
                           raw={**notice, "images": images},
                           fields=notice_fields(notice))
        item.quarantine(IMAGE_REASON, "notice", response.url)
        return item
